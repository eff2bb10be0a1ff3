//! Snapshot tests of `orchestra build`'s text: progress lines, failure
//! reports and the JSON summary, from hand-built plans and records.

use std::path::PathBuf;
use std::time::Duration;

use crate::sources::Sources;

use super::{failure, json, lines};
use crate::diagnostic::RenderOptions;
use crate::plan::{CheckSpec, Cmd, GateSpec, Plan, PlanTask, Skipped, TaskId, TaskKind, testing};
use crate::run::{
    CheckFailure, Exit, Failure, GateRecord, SkipReason, Status, Step, Summary, TaskRecord,
};

const SOURCE: &str = r#"gate "verify" retries=2 {
    check "test" "cargo test -q"
}
task "generate" {
    run "sh gen.sh"
}
"#;

fn task(id: u32, address: &str, kind: TaskKind, needs: &[u32]) -> PlanTask {
    let mut task = testing::task(id, address, needs);
    task.kind = kind;
    task.commands = vec![Cmd::Shell("sh gen.sh".into())];
    task.wave = 1 + u32::from(!needs.is_empty());
    // `task "generate" { … }` in SOURCE.
    task.declared = (SOURCE.find("task").unwrap(), 15).into();
    task
}

/// A plan of `tasks` for project `shop` with one skipped address.
fn shop(tasks: Vec<PlanTask>, skipped: &str) -> Plan {
    let mut plan = testing::plan(tasks);
    plan.project = "shop".into();
    plan.skipped = vec![Skipped {
        address: skipped.into(),
        by: "review".into(),
    }];
    plan
}

fn verify() -> PlanTask {
    let mut gate = task(1, "generate/verify", TaskKind::Gate, &[0]);
    gate.commands.clear();
    gate.gate = Some(Box::new(GateSpec {
        name: "verify".into(),
        retries: 2,
        checks: vec![CheckSpec {
            name: "test".into(),
            command: Cmd::Shell("cargo test -q".into()),
            fix: None,
            optional: false,
            timeout: None,
            retries: 0,
            dir: None,
            env: Vec::new(),
            declared: (0, 0).into(),
        }],
    }));
    gate.declared = (0, 23).into();
    gate
}

fn record(status: Status, millis: u64) -> TaskRecord {
    TaskRecord {
        status,
        attempts: 1,
        duration: Duration::from_millis(millis),
        gate: None,
        log: Some(PathBuf::from(".orchestra/logs/generate.log")),
        restored: None,
    }
}

fn check_failure() -> Failure {
    Failure::Command {
        step: Step::Check(0),
        command: "cargo test -q".into(),
        exit: Exit::Code(101),
        tail: vec!["running 2 tests".into(), "test parses ... FAILED".into()],
    }
}

fn gate_record(attempts: u32, flaky: bool, fixed: bool) -> GateRecord {
    GateRecord {
        attempts,
        failures: (1..attempts)
            .map(|attempt| CheckFailure {
                attempt,
                check: "test".into(),
                fixed,
            })
            .collect(),
        skipped: vec![("lint".into(), "cargo-clippy".into())],
        flaky,
        fix_available: None,
    }
}

#[test]
fn progress_lines() {
    let generate = task(0, "entities/product/generate", TaskKind::Step, &[]);
    let plan = shop(vec![generate.clone(), verify()], "M1/review");
    let ok = record(Status::Succeeded, 1234);
    let mut retried = ok.clone();
    retried.attempts = 3;
    let mut flaky = ok.clone();
    flaky.gate = Some(gate_record(2, true, false));
    let mut fixed = ok.clone();
    fixed.gate = Some(gate_record(2, false, true));
    let failed = record(Status::Failed(check_failure()), 300);
    let summary = |records: Vec<TaskRecord>| Summary {
        tasks: records,
        duration: Duration::from_secs(75),
        interrupted: false,
        saved: Duration::ZERO,
        fingerprints: Vec::new(),
    };
    let text = [
        lines::elapsed(Duration::from_millis(40)),
        lines::elapsed(Duration::from_millis(9_960)),
        lines::elapsed(Duration::from_secs(42)),
        lines::elapsed(Duration::from_secs(185)),
        lines::elapsed(Duration::from_mins(62)),
        lines::started(3, 40, &generate.address),
        lines::finished(12, 40, &generate, &ok),
        lines::finished(12, 40, &generate, &retried),
        lines::finished(12, 40, &generate, &flaky),
        lines::finished(12, 40, &generate, &fixed),
        lines::finished(13, 40, &generate, &failed),
        lines::skipped(
            14,
            40,
            &plan,
            &plan.tasks[1],
            SkipReason::DependencyFailed(TaskId(0)),
        ),
        lines::check_skipped("generate/verify", "lint", "cargo-clippy"),
        lines::check_failed("generate/verify", "test", 1, &Exit::Code(101), false, true),
        lines::check_failed("generate/verify", "fmt", 3, &Exit::Code(1), true, true),
        lines::check_failed(
            "generate/verify",
            "slow",
            3,
            &Exit::TimedOut(Duration::from_mins(15)),
            false,
            false,
        ),
        lines::retrying("deploy", 2, 3),
        lines::exit(&Exit::Signal(9)),
        lines::exit(&Exit::SpawnFailed("No such file or directory".into())),
        lines::output("scaffold", "created src/lib.rs"),
        lines::left_out("M1/review", "review"),
        lines::summary(&plan, &summary(vec![ok.clone(), flaky])),
        lines::summary(
            &plan,
            &summary(vec![failed, record(Status::NotRun(SkipReason::Stopped), 0)]),
        ),
    ]
    .join("\n");
    insta::assert_snapshot!(text);
}

#[test]
fn failure_report_labels_the_declaration() {
    let source = Sources::single("orchestra.kdl", SOURCE.to_owned());
    let options = RenderOptions {
        color: false,
        width: 80,
        github: false,
    };
    let gate = verify();
    let mut failed = record(Status::Failed(check_failure()), 300);
    failed.attempts = 3;
    failed.log = Some(PathBuf::from(".orchestra/logs/generate/verify.log"));
    let Status::Failed(why) = &failed.status else {
        unreachable!()
    };
    let check = failure::render(&gate, &failed, why, &source, options);
    let generate = task(0, "generate", TaskKind::Task, &[]);
    let timeout = Failure::Command {
        step: Step::Command(0),
        command: "sh gen.sh".into(),
        exit: Exit::TimedOut(Duration::from_secs(2)),
        tail: Vec::new(),
    };
    let timed_out = failure::render(
        &generate,
        &record(Status::Failed(timeout.clone()), 2000),
        &timeout,
        &source,
        options,
    );
    let refused = Failure::Refused("needs confirmation; pass `--yes` to approve".into());
    let not_confirmed = failure::render(
        &generate,
        &record(Status::Failed(refused.clone()), 0),
        &refused,
        &source,
        options,
    );
    insta::assert_snapshot!(format!("{check}\n{timed_out}\n{not_confirmed}"));
}

#[test]
fn json_summary() {
    let mut gate = verify();
    gate.wave = 2;
    let plan = shop(
        vec![
            task(0, "generate", TaskKind::Task, &[]),
            gate,
            task(2, "ship", TaskKind::Task, &[1]),
        ],
        "review",
    );
    let mut failed = record(Status::Failed(check_failure()), 300);
    failed.gate = Some(gate_record(3, false, false));
    failed.attempts = 3;
    let summary = Summary {
        tasks: vec![
            record(Status::Succeeded, 1200),
            failed,
            TaskRecord {
                log: None,
                ..record(Status::NotRun(SkipReason::DependencyFailed(TaskId(1))), 0)
            },
        ],
        duration: Duration::from_millis(1500),
        interrupted: false,
        saved: Duration::ZERO,
        fingerprints: Vec::new(),
    };
    let value = json::summary(&plan, &summary);
    insta::assert_snapshot!(serde_json::to_string_pretty(&value).unwrap());
}
