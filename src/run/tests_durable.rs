//! Scheduler tests for durable runs with the fake executor: interrupts stop
//! the running tasks and start nothing new; resumed tasks unlock their
//! dependents; locked tasks take their dependents with them.

use super::fake::Fake;
use super::tests::{Recorder, options, plan, task};
use super::*;
use crate::plan::{Group, TaskId};

#[test]
fn an_interrupt_stops_running_tasks_and_starts_nothing_more() {
    let plan = plan(vec![
        task(0, "quick", &[]),
        task(1, "slow", &[]),
        task(2, "after", &[0]),
        task(3, "last", &[1]),
    ]);
    let mut fake = Fake::new()
        .takes("quick", 5)
        .takes("slow", 5)
        .interrupts_at(2);
    let mut recorder = Recorder::default();
    let summary = run(&plan, &options(2, false), &mut fake, &mut (), &mut recorder);
    assert!(summary.interrupted && !summary.success());
    assert_eq!(fake.commands(), ["quick", "slow"], "nothing started after");
    assert!(recorder.lines.contains(&"interrupted false 2".to_owned()));
    let status = |i: usize| summary.tasks[i].status.clone();
    assert_eq!(status(0), Status::Failed(Failure::Interrupted));
    assert_eq!(status(1), Status::Failed(Failure::Interrupted));
    assert_eq!(status(2), Status::NotRun(SkipReason::Stopped));
    assert_eq!(status(3), Status::NotRun(SkipReason::Stopped));
}

#[test]
fn resumed_tasks_unlock_dependents_and_locked_ones_skip_them() {
    let mut tasks = vec![
        task(0, "scaffold", &[]),
        task(1, "M1/build", &[0]),
        task(2, "M1/test", &[1]),
        task(3, "ci", &[2]),
        task(4, "docs", &[0]),
    ];
    tasks[1].group = Some(Group::Milestone("M1".into()));
    tasks[2].group = Some(Group::Milestone("M1".into()));
    let plan = plan(tasks);
    let mut decide = Resume {
        done: ["scaffold".to_owned()].into(),
        locked: ["M1".to_owned()].into(),
        inner: (),
    };
    let mut fake = Fake::new();
    let mut recorder = Recorder::default();
    let summary = run(
        &plan,
        &options(2, false),
        &mut fake,
        &mut decide,
        &mut recorder,
    );
    assert_eq!(fake.commands(), ["docs"]);
    assert!(summary.success(), "resumed and locked tasks fail nothing");
    assert_eq!((summary.resumed(), summary.locked()), (1, 3));
    let status = |i: usize| summary.tasks[i].status.clone();
    assert_eq!(status(0), Status::NotRun(SkipReason::Resumed));
    assert_eq!(status(1), Status::NotRun(SkipReason::Locked(TaskId(1))));
    assert_eq!(status(3), Status::NotRun(SkipReason::Locked(TaskId(1))));
}

#[test]
fn the_record_follows_the_run_and_carries_resumed_tasks_over() {
    use super::record::{RecordPaths, StateRecorder};
    use super::state::TaskStatus;
    let dir = tempfile::tempdir().unwrap();
    let paths = || RecordPaths {
        state: dir.path().join("state.json"),
        history: dir.path().join("history.jsonl"),
    };
    let plan = plan(vec![task(0, "a", &[]), task(1, "b", &[0])]);
    let mut fake = Fake::new().fails("b", 1);
    let mut recorder = StateRecorder::start(&plan, paths(), "sel".into(), None);
    run(&plan, &options(1, false), &mut fake, &mut (), &mut recorder);
    assert!(recorder.error.is_none());
    let first = state::load(&paths().state).expect("a readable state");
    assert!(first.finished && !first.success);
    assert_eq!(first.tasks["a"].status, TaskStatus::Succeeded);
    assert_eq!(first.tasks["b"].status, TaskStatus::Failed);
    assert_eq!(first.tasks["b"].exit_code, Some(1));

    let mut decide = Resume {
        done: ["a".to_owned()].into(),
        locked: std::collections::HashSet::new(),
        inner: (),
    };
    let mut recorder = StateRecorder::start(&plan, paths(), "sel".into(), Some(first.clone()));
    let summary = run(
        &plan,
        &options(1, false),
        &mut fake,
        &mut decide,
        &mut recorder,
    );
    assert!(summary.success());
    let second = state::load(&paths().state).expect("a readable state");
    assert_eq!(
        second.tasks["a"], first.tasks["a"],
        "carried over for the next resume"
    );
    assert_eq!(second.tasks["b"].status, TaskStatus::Succeeded);
    let runs = history::read(&paths().history);
    assert_eq!(runs.len(), 2);
    assert!(!runs[0].success && runs[1].success);
}
