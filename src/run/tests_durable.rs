//! Scheduler tests for durable runs with the fake executor: interrupts stop
//! the running tasks and start nothing new; resumed tasks unlock their
//! dependents; locked tasks take their dependents with them.

use super::fake::Fake;
use super::resume::tests::FakeClaims;
use super::tests::{Recorder, options, plan, run, task};
use super::*;
use crate::plan::{Group, Plan, TaskId};

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
    tasks[1].group = Some(Box::new(Group::Milestone("M1".into())));
    tasks[2].group = Some(Box::new(Group::Milestone("M1".into())));
    let plan = plan(tasks);
    let mut decide = Resume {
        done: ["scaffold".to_owned()].into(),
        claims: FakeClaims {
            locked: ["M1".to_owned()].into(),
            ..FakeClaims::default()
        },
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
fn a_lost_milestone_fails_its_next_task_and_a_busy_task_is_skipped() {
    let mut tasks = vec![
        task(0, "M1/build", &[]),
        task(1, "M1/test", &[0]),
        task(2, "gen", &[]),
        task(3, "after-gen", &[2]),
    ];
    tasks[0].group = Some(Box::new(Group::Milestone("M1".into())));
    tasks[1].group = Some(Box::new(Group::Milestone("M1".into())));
    let plan = plan(tasks);
    let mut decide = Resume {
        done: std::collections::HashSet::new(),
        claims: FakeClaims {
            lost: ["M1".to_owned()].into(),
            busy: ["gen".to_owned()].into(),
            ..FakeClaims::default()
        },
        inner: (),
    };
    let mut fake = Fake::new();
    let summary = run(
        &plan,
        &options(2, true),
        &mut fake,
        &mut decide,
        &mut Recorder::default(),
    );
    assert!(fake.commands().is_empty(), "nothing of M1 or gen started");
    assert!(
        matches!(&summary.tasks[0].status, Status::Failed(Failure::Refused(m)) if m.contains("M1"))
    );
    assert_eq!(
        summary.tasks[2].status,
        Status::NotRun(SkipReason::Locked(TaskId(2)))
    );
    assert_eq!(
        summary.tasks[3].status,
        Status::NotRun(SkipReason::Locked(TaskId(2)))
    );
}

/// Out of date with a fingerprint, for the output cache.
struct Keyed;

impl crate::freshness::Freshness for Keyed {
    fn check(
        &mut self,
        _: &Plan,
        _: &crate::plan::PlanTask,
        _: &[String],
    ) -> crate::freshness::Verdict {
        crate::freshness::Verdict::Run(Vec::new())
    }
    fn succeeded(&mut self, _: &crate::plan::PlanTask, _: std::time::Duration) {}
    fn failed(&mut self, _: &Plan, _: &crate::plan::PlanTask) {}
    fn resumed(&mut self, _: &crate::plan::PlanTask) {}
    fn key(&self, _: &crate::plan::PlanTask) -> Option<[u8; 32]> {
        Some([7; 32])
    }
}

/// Restores everything it is asked for, and says what it was asked.
#[derive(Default)]
struct Everything {
    asked: Vec<String>,
}

impl OutputCache for Everything {
    fn restore(&mut self, task: &crate::plan::PlanTask, _: &[u8; 32]) -> Option<Restored> {
        self.asked.push(task.address.to_string());
        Some(Restored {
            from: "the local cache".into(),
            log: "replayed\n".into(),
        })
    }
    fn store(&mut self, _: &crate::plan::PlanTask, _: &[u8; 32], _: &str) {}
}

#[test]
fn a_task_another_build_holds_is_never_restored_under_it() {
    let plan = plan(vec![task(0, "busy", &[]), task(1, "free", &[])]);
    let mut decide = Resume {
        done: std::collections::HashSet::new(),
        claims: FakeClaims {
            busy: ["busy".to_owned()].into(),
            ..FakeClaims::default()
        },
        inner: (),
    };
    let mut fake = Fake::new();
    let mut cache = Everything::default();
    let interrupts = fake.interrupts.clone();
    let summary = super::run(
        &plan,
        &options(2, false),
        Seams {
            executor: &mut fake,
            decide: &mut decide,
            asker: &mut (),
            reporter: &mut Recorder::default(),
            freshness: &mut Keyed,
            cache: &mut cache,
            interrupts: &interrupts,
        },
    );
    assert_eq!(
        cache.asked,
        ["free"],
        "the busy task's files are the other build's"
    );
    assert_eq!(
        summary.tasks[0].status,
        Status::NotRun(SkipReason::Locked(TaskId(0)))
    );
    assert_eq!(
        summary.tasks[1].restored.as_deref(),
        Some("the local cache")
    );
    assert!(fake.commands().is_empty(), "nothing ran");
    assert_eq!(decide.claims.released, ["free"], "its claim is given back");
}
