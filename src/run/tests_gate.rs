//! Scheduler tests for gates and retries: attempts, fixes, flaky passes,
//! optional checks whose program is missing, check and task retries.

use super::fake::Fake;
use super::tests::{execute, plan, task};
use super::*;
use crate::plan::{CheckSpec, Cmd, GateSpec, Plan, PlanTask, TaskId, TaskKind};

fn check(name: &str, command: &str, fix: Option<&str>) -> CheckSpec {
    CheckSpec {
        name: name.into(),
        command: Cmd::Shell(command.into()),
        fix: fix.map(|f| Cmd::Shell(f.into())),
        optional: false,
        timeout: None,
        retries: 0,
        dir: None,
        env: Vec::new(),
        declared: (0, 0).into(),
    }
}

/// A gate task `verify` after a task `build`.
fn gated(retries: u32, checks: Vec<CheckSpec>) -> Plan {
    let mut gate: PlanTask = task(1, "verify", &[0]);
    gate.kind = TaskKind::Gate;
    gate.commands.clear();
    gate.gate = Some(Box::new(GateSpec {
        name: "verify".into(),
        retries,
        checks,
    }));
    plan(vec![task(0, "build", &[]), gate, task(2, "ship", &[1])])
}

fn gate_record(summary: &Summary) -> &GateRecord {
    summary.tasks[1].gate.as_ref().expect("a gate record")
}

#[test]
fn a_fix_runs_and_the_next_attempt_starts_from_the_first_check() {
    let plan = gated(
        2,
        vec![
            check("typecheck", "cargo check", None),
            check("format", "cargo fmt --check", Some("cargo fmt")),
        ],
    );
    let mut fake = Fake::new().fails("cargo fmt --check", 1);
    let (summary, events) = execute(&plan, 1, false, &mut fake);
    assert!(summary.success(), "{events:#?}");
    assert_eq!(
        fake.commands(),
        [
            "build",
            "cargo check",
            "cargo fmt --check",
            "cargo fmt",
            "cargo check",
            "cargo fmt --check",
            "ship"
        ]
    );
    assert!(
        events
            .lines
            .contains(&"check 1 failed on attempt 1, fixing: true".to_owned())
    );
    let record = gate_record(&summary);
    assert_eq!(record.attempts, 2);
    assert_eq!(summary.tasks[1].attempts, 2);
    assert!(!record.flaky, "a fix explains the second attempt");
    assert_eq!(
        record.failures,
        [CheckFailure {
            attempt: 1,
            check: "format".into(),
            fixed: true
        }]
    );
}

#[test]
fn passing_after_a_retry_without_a_fix_is_flaky() {
    let plan = gated(1, vec![check("test", "cargo test", None)]);
    let mut fake = Fake::new().fails("cargo test", 1);
    let (summary, _) = execute(&plan, 1, false, &mut fake);
    assert!(summary.success());
    let record = gate_record(&summary);
    assert!(record.flaky);
    assert_eq!(record.attempts, 2);
}

#[test]
fn a_gate_out_of_attempts_fails_and_stops_its_dependents() {
    let plan = gated(1, vec![check("test", "cargo test", None)]);
    let mut fake = Fake::new().fails("cargo test", 5);
    let (summary, _) = execute(&plan, 1, false, &mut fake);
    assert_eq!(fake.commands(), ["build", "cargo test", "cargo test"]);
    let Status::Failed(Failure::Command { step, command, .. }) = &summary.tasks[1].status else {
        panic!("the gate failed: {:?}", summary.tasks[1])
    };
    assert_eq!((*step, command.as_str()), (Step::Check(0), "cargo test"));
    assert_eq!(gate_record(&summary).failures.len(), 2);
    assert_eq!(
        summary.tasks[2].status,
        Status::NotRun(SkipReason::DependencyFailed(TaskId(1)))
    );
}

#[test]
fn a_failing_fix_ends_the_gate() {
    let plan = gated(3, vec![check("format", "fmt-check", Some("fmt"))]);
    let mut fake = Fake::new().fails("fmt-check", 1).fails("fmt", 1);
    let (summary, _) = execute(&plan, 1, false, &mut fake);
    assert_eq!(fake.commands(), ["build", "fmt-check", "fmt"]);
    assert!(matches!(
        &summary.tasks[1].status,
        Status::Failed(Failure::Command {
            step: Step::Fix(0),
            ..
        })
    ));
}

#[test]
fn optional_checks_with_a_missing_program_are_skipped() {
    let mut lint = check("lint", "clippy-driver -D warnings", None);
    lint.optional = true;
    let mut absent_required = check("required", "also-missing", None);
    absent_required.optional = false;
    let plan = gated(1, vec![lint, check("test", "cargo test", None)]);
    let mut fake = Fake::new().missing("clippy-driver").fails("cargo test", 1);
    let (summary, events) = execute(&plan, 1, false, &mut fake);
    assert!(summary.success());
    assert_eq!(
        fake.commands(),
        ["build", "cargo test", "cargo test", "ship"]
    );
    let warnings = events
        .lines
        .iter()
        .filter(|l| *l == "no clippy-driver for verify");
    assert_eq!(warnings.count(), 1, "one warning per gate, not per attempt");
    assert_eq!(
        gate_record(&summary).skipped,
        [("lint".to_owned(), "clippy-driver".to_owned())]
    );
    // A required check is run even when its program looks missing: the
    // failure to start it is the honest report.
    let plan = gated(0, vec![absent_required]);
    let mut fake = Fake::new().missing("also-missing");
    execute(&plan, 1, false, &mut fake);
    assert_eq!(fake.commands(), ["build", "also-missing", "ship"]);
}

#[test]
fn a_check_retries_itself_before_failing_the_attempt() {
    let mut test = check("test", "cargo test", None);
    test.retries = 1;
    let plan = gated(0, vec![check("build", "cargo check", None), test]);
    let mut fake = Fake::new().fails("cargo test", 1);
    let (summary, _) = execute(&plan, 1, false, &mut fake);
    assert!(summary.success());
    assert_eq!(
        fake.commands(),
        ["build", "cargo check", "cargo test", "cargo test", "ship"]
    );
    let record = gate_record(&summary);
    assert_eq!(record.attempts, 1);
    assert!(record.flaky);
}

#[test]
fn a_task_retries_from_its_first_command() {
    let mut flaky = task(0, "deploy", &[]);
    flaky.commands = vec![Cmd::Shell("upload".into()), Cmd::Shell("restart".into())];
    flaky.retries = 2;
    let plan = plan(vec![flaky]);
    let mut fake = Fake::new().fails("restart", 1);
    let (summary, events) = execute(&plan, 1, false, &mut fake);
    assert!(summary.success());
    assert_eq!(fake.commands(), ["upload", "restart", "upload", "restart"]);
    assert_eq!(summary.tasks[0].attempts, 2);
    assert!(events.lines.contains(&"retry deploy #2".to_owned()));
}

#[test]
fn each_checks_first_fix_is_verified_by_a_free_attempt() {
    // retries=0: `format` and `lint` both need their fix; two fixes and
    // three attempts, and the gate passes.
    let plan = gated(
        0,
        vec![
            check("format", "fmt-check", Some("fmt")),
            check("lint", "lint-check", Some("lint-fix")),
        ],
    );
    let mut fake = Fake::new().fails("fmt-check", 1).fails("lint-check", 1);
    let (summary, events) = execute(&plan, 1, false, &mut fake);
    assert!(summary.success(), "{events:#?}");
    assert_eq!(
        fake.commands(),
        [
            "build",
            "fmt-check",
            "fmt",
            "fmt-check",
            "lint-check",
            "lint-fix",
            "fmt-check",
            "lint-check",
            "ship"
        ]
    );
    let record = gate_record(&summary);
    assert_eq!(record.attempts, 3);
    assert!(record.failures.iter().all(|f| f.fixed), "{record:?}");
    assert!(!record.flaky);
}

#[test]
fn a_check_that_still_fails_after_its_fix_fails_the_gate_without_fixing_in_vain() {
    let plan = gated(0, vec![check("format", "fmt-check", Some("fmt"))]);
    let mut fake = Fake::new().fails("fmt-check", 5);
    let (summary, _) = execute(&plan, 1, false, &mut fake);
    assert!(!summary.success());
    // The fix ran once, was verified (and did not help); no second fix.
    assert_eq!(fake.commands(), ["build", "fmt-check", "fmt", "fmt-check"]);
    let record = gate_record(&summary);
    assert!(record.failures.iter().all(|f| !f.fixed), "never 'fixed'");
    assert_eq!(record.fix_available, Some(0));
}

#[test]
fn with_fixes_off_a_fixable_check_fails_and_names_its_fix() {
    let plan = gated(0, vec![check("format", "fmt-check", Some("fmt"))]);
    let mut fake = Fake::new().fails("fmt-check", 1);
    let mut recorder = super::tests::Recorder::default();
    let mut opts = super::tests::options(1, false);
    opts.fixes = false;
    let summary = super::tests::run(&plan, &opts, &mut fake, &mut (), &mut recorder);
    assert!(!summary.success());
    assert_eq!(fake.commands(), ["build", "fmt-check"]);
    assert_eq!(gate_record(&summary).fix_available, Some(0));
}
