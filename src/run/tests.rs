//! Scheduler tests against hand-built plans and the fake executor: ordering,
//! limits, priority and failure policy. Gate and retry behaviour is in
//! `tests_gate.rs`.

use std::path::PathBuf;

use super::fake::Fake;
use super::*;
use crate::plan::{Plan, TaskId, TaskKind};

pub(crate) use crate::plan::testing::{plan, task};

/// Remembers events as short strings, and the most tasks seen running.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub(crate) lines: Vec<String>,
    running: usize,
    pub(crate) most_running: usize,
}

impl Reporter for Recorder {
    fn event(&mut self, plan: &Plan, event: &Event<'_>) {
        let name = |id: TaskId| plan.task(id).address.clone();
        let line = match event {
            Event::TaskStarted { task } => {
                self.running += 1;
                self.most_running = self.most_running.max(self.running);
                format!("start {}", name(*task))
            }
            Event::TaskFinished { task, record, .. } => {
                // A restored task finishes without having started.
                if record.restored.is_some() {
                    return self.lines.push(format!("restored {}", name(*task)));
                }
                self.running -= 1;
                let status = match &record.status {
                    Status::Succeeded => "ok",
                    _ => "failed",
                };
                format!("{status} {}", name(*task))
            }
            Event::TaskSkipped { task, .. } => format!("skip {}", name(*task)),
            Event::TaskUpToDate { task } => format!("up to date {}", name(*task)),
            Event::Explained { task, reasons } => format!("why {}: {reasons:?}", name(*task)),
            Event::CheckSkipped { task, program, .. } => {
                format!("no {program} for {}", name(*task))
            }
            Event::CheckFailed {
                check,
                attempt,
                fixing,
                ..
            } => format!("check {check} failed on attempt {attempt}, fixing: {fixing}"),
            Event::Retrying { task, attempt } => format!("retry {} #{attempt}", name(*task)),
            Event::Interrupted { hard, running } => format!("interrupted {hard} {running}"),
            Event::RunStarted { .. }
            | Event::StepStarted { .. }
            | Event::Output { .. }
            | Event::RunFinished { .. } => return,
        };
        self.lines.push(line);
    }
}

pub(crate) fn options(jobs: usize, keep_going: bool) -> Options {
    Options {
        jobs,
        keep_going,
        root: PathBuf::from("/project"),
        // Never written: the fake runs nothing, and `/project` does not exist.
        logs: Some(crate::workspace::Workspace::new(
            std::path::Path::new("/project"),
            crate::secrets::Masker::default(),
        )),
        fixes: true,
        dotenv: std::collections::HashMap::new(),
    }
}

/// Runs `plan` with the fake executor, nothing up to date, and the fake's
/// interrupts.
pub(crate) fn run(
    plan: &Plan,
    options: &Options,
    fake: &mut Fake,
    decide: &mut dyn Decide,
    reporter: &mut dyn Reporter,
) -> Summary {
    let interrupts = fake.interrupts.clone();
    super::run(
        plan,
        options,
        Seams {
            executor: fake,
            decide,
            asker: &mut (),
            reporter,
            freshness: &mut crate::freshness::AlwaysRun,
            cache: &mut (),
            interrupts: &interrupts,
        },
    )
}

pub(crate) fn execute(
    plan: &Plan,
    jobs: usize,
    keep_going: bool,
    fake: &mut Fake,
) -> (Summary, Recorder) {
    let mut recorder = Recorder::default();
    let summary = run(
        plan,
        &options(jobs, keep_going),
        fake,
        &mut (),
        &mut recorder,
    );
    (summary, recorder)
}

fn position(lines: &[String], line: &str) -> usize {
    lines
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no `{line}` in {lines:#?}"))
}

#[test]
fn tasks_start_only_after_everything_they_need() {
    let plan = plan(vec![
        task(0, "a", &[]),
        task(1, "b", &[0]),
        task(2, "c", &[0]),
        task(3, "d", &[1, 2]),
    ]);
    let mut fake = Fake::new().takes("b", 3);
    let (summary, events) = execute(&plan, 4, false, &mut fake);
    assert!(summary.success());
    let at = |l: &str| position(&events.lines, l);
    assert!(at("ok a") < at("start b") && at("ok a") < at("start c"));
    assert!(at("ok b") < at("start d") && at("ok c") < at("start d"));
    assert_eq!(events.most_running, 2);
    assert_eq!(fake.now(), 5, "a, then b (3 ticks) beside c, then d");
}

#[test]
fn never_more_than_jobs_tasks_at_once() {
    let tasks = (0..6).map(|i| task(i, &format!("t{i}"), &[])).collect();
    let plan = plan(tasks);
    let (summary, events) = execute(&plan, 2, false, &mut Fake::new());
    assert!(summary.success());
    assert_eq!(events.most_running, 2);
    let (_, events) = execute(&plan, 6, false, &mut Fake::new());
    assert_eq!(events.most_running, 6);
}

#[test]
fn with_a_jobserver_every_task_beyond_the_first_holds_a_token() {
    let mut tasks: Vec<_> = (0..5).map(|i| task(i, &format!("t{i}"), &[])).collect();
    tasks[0].jobserver = Some(crate::model::Jobserver::Pipe);
    let plan = plan(tasks);
    // -j3 serves two tokens; a child holds one of them all along.
    let mut fake = Fake::new().tokens(1);
    let (summary, events) = execute(&plan, 3, false, &mut fake);
    assert!(summary.success());
    assert_eq!(events.most_running, 2, "one implicit slot and one token");
    assert_eq!(fake.tokens, Some(1), "every token taken came back");
    // A child that holds every token leaves orchestra one task at a time.
    let mut fake = Fake::new().tokens(0);
    let (summary, events) = execute(&plan, 3, false, &mut fake);
    assert!(summary.success());
    assert_eq!(events.most_running, 1);
    // Without a jobserver task, tokens are never asked for.
    let unserved = super::tests::plan((0..5).map(|i| task(i, &format!("t{i}"), &[])).collect());
    let (_, events) = execute(&unserved, 3, false, &mut Fake::new().tokens(0));
    assert_eq!(events.most_running, 3);
}

#[test]
fn pools_limit_their_members_only() {
    let mut tasks: Vec<_> = (0..4).map(|i| task(i, &format!("db{i}"), &[])).collect();
    for t in &mut tasks {
        t.pool = Some("database".into());
    }
    tasks.push(task(4, "free", &[]));
    let mut plan = plan(tasks);
    plan.pools = vec![("database".into(), 1)];
    let mut fake = Fake::new().takes("free", 4);
    let (summary, _) = execute(&plan, 8, false, &mut fake);
    assert!(summary.success());
    // The four pool members run one after another, beside `free`.
    let starts: Vec<u64> = fake
        .ran
        .iter()
        .filter(|(_, c)| c.starts_with("db"))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(starts, [0, 1, 2, 3]);
    assert_eq!(fake.now(), 4);
}

#[test]
fn an_interactive_task_waits_for_quiet_and_runs_alone() {
    // `login` becomes ready while `slow` runs, and first by priority: it
    // waits for `slow`, runs alone, and only then do `other`s start.
    let mut login = task(1, "login", &[0]);
    login.interactive = true;
    let plan = plan(vec![
        task(0, "quick", &[]),
        login,
        task(2, "deploy", &[1]),
        task(3, "slow", &[]),
        task(4, "other1", &[]),
        task(5, "other2", &[]),
    ]);
    let mut fake = Fake::new().takes("slow", 3).takes("login", 2);
    let (summary, events) = execute(&plan, 2, false, &mut fake);
    assert!(summary.success());
    let at = |l: &str| position(&events.lines, l);
    assert!(at("ok slow") < at("start login"), "{:#?}", events.lines);
    assert!(at("ok login") < at("start other1"), "{:#?}", events.lines);
    let login_at = fake.ran.iter().find(|(_, c)| c == "login").unwrap().0;
    for (tick, command) in &fake.ran {
        if command != "login" {
            assert!(
                *tick + fake_ticks(command) <= login_at || *tick >= login_at + 2,
                "`{command}` ran beside `login`: {:?}",
                fake.ran
            );
        }
    }
}

fn fake_ticks(command: &str) -> u64 {
    match command {
        "slow" => 3,
        "login" => 2,
        _ => 1,
    }
}

#[test]
fn the_longest_remaining_path_starts_first() {
    // `short` is declared first, but the chain x1 → x2 → x3 is longer.
    let plan = plan(vec![
        task(0, "short", &[]),
        task(1, "x1", &[]),
        task(2, "x2", &[1]),
        task(3, "x3", &[2]),
    ]);
    let dependents = crate::plan::Dependents::of(&plan);
    assert_eq!(
        super::priority::longest_path_to_end(&plan, &dependents),
        [1, 3, 2, 1]
    );
    let mut fake = Fake::new();
    execute(&plan, 1, false, &mut fake);
    // After x2, x3 and `short` have equal paths left: declaration order wins.
    assert_eq!(fake.commands(), ["x1", "x2", "short", "x3"]);
    // With two slots the chain sets the pace: three ticks, not four.
    let mut fake = Fake::new();
    execute(&plan, 2, false, &mut fake);
    assert_eq!(fake.now(), 3);
}

#[test]
fn a_failure_stops_new_work_but_lets_running_work_finish() {
    let plan = plan(vec![
        task(0, "fails", &[]),
        task(1, "slow", &[]),
        task(2, "later", &[]),
        task(3, "after-fails", &[0]),
    ]);
    let mut fake = Fake::new().fails("fails", 1).takes("slow", 5);
    let (summary, events) = execute(&plan, 2, false, &mut fake);
    assert!(!summary.success());
    assert!(
        events.lines.contains(&"ok slow".to_owned()),
        "{:#?}",
        events.lines
    );
    // `fails` goes first (something needs it); `later` never starts.
    assert_eq!(fake.commands(), ["fails", "slow"]);
    let status = |i: usize| summary.tasks[i].status.clone();
    assert!(matches!(
        status(0),
        Status::Failed(Failure::Command {
            exit: Exit::Code(1),
            ..
        })
    ));
    assert_eq!(status(2), Status::NotRun(SkipReason::Stopped));
    assert_eq!(
        status(3),
        Status::NotRun(SkipReason::DependencyFailed(TaskId(0)))
    );
    assert_eq!(
        summary.tasks[0].log.as_deref(),
        Some(std::path::Path::new(".orchestra/logs/fails.log"))
    );
}

#[test]
fn keep_going_runs_everything_that_does_not_depend_on_a_failure() {
    let plan = plan(vec![
        task(0, "fails", &[]),
        task(1, "child", &[0]),
        task(2, "grandchild", &[1]),
        task(3, "independent", &[]),
        task(4, "after-independent", &[3]),
    ]);
    let mut fake = Fake::new().fails("fails", 1);
    let (summary, events) = execute(&plan, 1, true, &mut fake);
    assert_eq!(summary.failed(), 1);
    assert_eq!(summary.succeeded(), 2);
    assert!(events.lines.contains(&"skip child".to_owned()));
    assert!(events.lines.contains(&"skip grandchild".to_owned()));
    assert_eq!(
        summary.tasks[2].status,
        Status::NotRun(SkipReason::DependencyFailed(TaskId(0)))
    );
    assert_eq!(
        fake.commands(),
        ["fails", "independent", "after-independent"]
    );
}

#[test]
fn targets_finish_without_running_anything() {
    let mut target = task(1, "ci", &[0]);
    target.commands.clear();
    target.kind = TaskKind::Target;
    let plan = plan(vec![task(0, "a", &[]), target]);
    let mut fake = Fake::new();
    let (summary, events) = execute(&plan, 2, false, &mut fake);
    assert!(summary.success());
    assert_eq!(fake.commands(), ["a"]);
    assert_eq!(events.lines, ["start a", "ok a", "start ci", "ok ci"]);
    assert_eq!(summary.tasks[1].log, None);
}

#[test]
fn a_refused_confirmation_fails_the_task_without_running_it() {
    let mut publish = task(1, "publish", &[0]);
    publish.confirm = Some("Publish?".into());
    let plan = plan(vec![
        task(0, "build", &[]),
        publish,
        task(2, "announce", &[1]),
    ]);
    let mut fake = Fake::new();
    let mut confirm = Confirm {
        policy: ConfirmPolicy::Refuse,
    };
    let summary = run(
        &plan,
        &options(2, false),
        &mut fake,
        &mut confirm,
        &mut Recorder::default(),
    );
    assert_eq!(fake.commands(), ["build"]);
    assert!(
        matches!(&summary.tasks[1].status, Status::Failed(Failure::Refused(why)) if why.contains("--yes"))
    );
    assert_eq!(
        summary.tasks[2].status,
        Status::NotRun(SkipReason::DependencyFailed(TaskId(1)))
    );
}

/// Answers each question after `after` looks at the answers, as a person
/// who takes a while.
#[derive(Debug, Default)]
struct SlowPerson {
    after: usize,
    yes: bool,
    asked: Vec<String>,
    waiting: Vec<(TaskId, usize)>,
}

impl Asker for SlowPerson {
    fn ask(&mut self, task: TaskId, question: String) {
        self.asked.push(question);
        self.waiting.push((task, self.after));
    }
    fn answers(&mut self) -> Vec<(TaskId, bool)> {
        let yes = self.yes;
        let mut ready = Vec::new();
        self.waiting.retain_mut(|(task, left)| {
            if *left == 0 {
                ready.push((*task, yes));
                false
            } else {
                *left -= 1;
                true
            }
        });
        ready
    }
    fn wait(&mut self) -> Option<(TaskId, bool)> {
        let (task, _) = self.waiting.pop()?;
        Some((task, self.yes))
    }
}

/// Runs `plan` one job at a time, asking `asker` each `confirm` question.
fn run_asking(plan: &Plan, fake: &mut Fake, asker: &mut dyn Asker) -> Summary {
    let interrupts = fake.interrupts.clone();
    super::run(
        plan,
        &options(1, false),
        Seams {
            executor: fake,
            decide: &mut Confirm {
                policy: ConfirmPolicy::Ask,
            },
            asker,
            reporter: &mut Recorder::default(),
            freshness: &mut crate::freshness::AlwaysRun,
            cache: &mut (),
            interrupts: &interrupts,
        },
    )
}

fn ask_and_run(person: &mut SlowPerson) -> (Summary, Vec<String>) {
    let mut publish = task(0, "publish", &[]);
    publish.confirm = Some("Publish?".into());
    let plan = plan(vec![
        publish,
        task(1, "a", &[]),
        task(2, "b", &[1]),
        task(3, "c", &[2]),
    ]);
    let mut fake = Fake::new();
    let summary = run_asking(&plan, &mut fake, person);
    let commands = fake.commands().iter().map(|c| (*c).to_owned()).collect();
    (summary, commands)
}

#[test]
fn a_question_never_stalls_the_work_that_does_not_need_its_answer() {
    let mut person = SlowPerson {
        after: 2,
        yes: true,
        ..SlowPerson::default()
    };
    let (summary, commands) = ask_and_run(&mut person);
    assert!(summary.success());
    assert_eq!(
        person.asked,
        ["publish: Publish?"],
        "the question names the task"
    );
    let at = |c: &str| commands.iter().position(|x| x == c).unwrap();
    assert!(
        at("a") < at("publish") && at("b") < at("publish"),
        "a and b ran while the question waited: {commands:?}"
    );
    // A slower person: everything else is done, and the build waits.
    let mut person = SlowPerson {
        after: 99,
        yes: false,
        ..SlowPerson::default()
    };
    let (summary, commands) = ask_and_run(&mut person);
    assert_eq!(commands, ["a", "b", "c"]);
    assert!(matches!(
        &summary.tasks[0].status,
        Status::Failed(Failure::Refused(why)) if why == "not confirmed: Publish?"
    ));
}

/// A person who presses Ctrl-C at the question: the interrupt is raised,
/// then the open question ends as a no (as the terminal asker does).
struct CtrlCAtTheQuestion {
    interrupts: crate::run::Interrupts,
    waiting: Option<TaskId>,
}

impl Asker for CtrlCAtTheQuestion {
    fn ask(&mut self, task: TaskId, _question: String) {
        self.waiting = Some(task);
    }
    fn answers(&mut self) -> Vec<(TaskId, bool)> {
        Vec::new()
    }
    fn wait(&mut self) -> Option<(TaskId, bool)> {
        self.interrupts.raise();
        Some((self.waiting.take()?, false))
    }
}

#[test]
fn ctrl_c_at_a_question_leaves_the_task_not_run_rather_than_refused() {
    let mut publish = task(0, "publish", &[]);
    publish.confirm = Some("Publish?".into());
    let plan = plan(vec![publish]);
    let mut fake = Fake::new();
    let mut person = CtrlCAtTheQuestion {
        interrupts: fake.interrupts.clone(),
        waiting: None,
    };
    let summary = run_asking(&plan, &mut fake, &mut person);
    assert!(summary.interrupted);
    assert_eq!(summary.tasks[0].status, Status::NotRun(SkipReason::Stopped));
}

#[test]
fn a_pools_queue_follows_declaration_order_whatever_finishes_first() {
    // Four members of a depth-1 pool (one wave) become ready at different
    // moments (their needs take different times); the slot goes to them in
    // declaration order, on every run.
    let mut tasks = vec![
        task(0, "gen-a", &[]),
        task(1, "gen-b", &[]),
        task(2, "gen-c", &[]),
        task(3, "gen-d", &[]),
    ];
    for (i, name) in (0u32..).zip(["wire-a", "wire-b", "wire-c", "wire-d"]) {
        let mut wire = task(4 + i, name, &[i]);
        wire.pool = Some("modules".into());
        wire.wave = 2;
        tasks.push(wire);
    }
    let mut plan = plan(tasks);
    plan.pools = vec![("modules".into(), 1)];
    for slow in ["gen-a", "gen-b", "gen-c", "gen-d"] {
        let mut fake = Fake::new().takes(slow, 5);
        execute(&plan, 8, false, &mut fake);
        let wires: Vec<&str> = fake
            .commands()
            .into_iter()
            .filter(|c| c.starts_with("wire"))
            .collect();
        assert_eq!(
            wires,
            ["wire-a", "wire-b", "wire-c", "wire-d"],
            "slow {slow}"
        );
    }
}
