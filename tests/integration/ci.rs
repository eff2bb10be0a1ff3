//! CI-native output through the real binary: GitHub Actions log groups,
//! annotations, step summary and masks; `--output-logs`; the `JUnit` report
//! (validated against Jenkins' `junit-10.xsd`); the event stream
//! (validated against `docs/events.schema.json`).

use std::path::Path;
use std::process::Command;

use crate::support::{Test, eventually, orchestra, signal, text, tool};

const KDL: &str = r#"project "ci" { secret "DEPLOY_TOKEN"; }
gate "verify" {
    check "lint" "echo linting; exit 3"
}
task "build" { run "echo building with $DEPLOY_TOKEN"; }
task "test" {
    needs "build"
    run "echo testing"
    gate "verify"
}
"#;

/// orchestra under GitHub Actions in `dir`, with a secret and a summary file.
fn github(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(crate::support::binary())
        .env_remove("CI")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("DEPLOY_TOKEN", "hunter2-s3cret")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run orchestra")
}

#[test]
fn under_github_actions_a_failed_check_is_annotated_at_its_line_and_output_is_grouped() {
    let test = Test::new().kdl(KDL);
    let dir = test.path();
    let out = github(dir, &["build", "test", "--progress", "never"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    // The check is declared on line 3, column 5.
    assert!(
        stderr.contains(
            "::error file=orchestra.kdl,line=3,col=5,title=check `lint` of `test/verify` failed::exited with status 3"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("::group::build (ok)\n"), "{stderr}");
    assert_eq!(
        stderr.matches("::group::").count(),
        stderr.matches("::endgroup::").count()
    );
    // The secret is registered before any output, and shown nowhere else.
    let mask = stderr.find("::add-mask::hunter2-s3cret").expect("a mask");
    assert!(mask < stderr.find("start build").unwrap());
    assert_eq!(stderr.matches("hunter2-s3cret").count(), 1, "{stderr}");
    assert!(stderr.contains("building with ****"), "{stderr}");
    // The step summary: outcome, a table of what failed, the gate.
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("### orchestra: `ci` ❌ failed"),
        "{summary}"
    );
    assert!(
        summary.contains("| `test/verify` | check `lint` of `test/verify` failed | 1 |"),
        "{summary}"
    );
    assert!(summary.contains("| `test/verify` | 1 | `lint` (attempt 1) | 0 | no |"));
    assert!(!summary.contains("hunter2"));
    // `--ci-format plain` turns it all off.
    let out = github(
        dir,
        &[
            "--ci-format",
            "plain",
            "build",
            "test",
            "--progress",
            "never",
        ],
    );
    let plain = text(&out.stderr);
    assert!(
        !plain.contains("::group::") && !plain.contains("::error"),
        "{plain}"
    );
    assert!(!plain.contains("::add-mask::"), "{plain}");
    // And `--ci-format github` turns it on anywhere.
    let args = [
        "--ci-format",
        "github",
        "build",
        "test",
        "--progress",
        "never",
    ];
    let anywhere = text(&orchestra(dir, &args).stderr);
    assert!(anywhere.contains("::group::build (ok)"), "{anywhere}");
}

#[test]
fn a_configuration_mistake_is_an_annotation_at_its_span() {
    let test = Test::new().kdl("task \"a\" {\n    run \"true\"\n    needs \"bulid\"\n}\ntask \"build\" { run \"true\"; }\n");
    let out = github(test.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("::error file=orchestra.kdl,line=3,col=11,title=orchestra%3A%3Aunknown_reference::unknown address `bulid`%0Adid you mean `build`?"),
        "{stderr}"
    );
    // In a checkout whose top is above the project, the file is named from
    // the top, as GitHub resolves it.
    let dir = test.path();
    let top = dir.parent().unwrap();
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let out = Command::new(crate::support::binary())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", top)
        .env("NO_COLOR", "1")
        .args(["check"])
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("::error file={name}/orchestra.kdl,line=3,col=11,")),
        "{stderr}"
    );
}

#[test]
fn every_group_is_closed_when_the_build_is_interrupted() {
    let test = Test::new().kdl(
        r#"task "slow" { run "echo one; touch started-slow; sleep 30"; }
task "slower" { run "echo two; touch started-slower; sleep 30"; }
"#,
    );
    let dir = test.path();
    let child = Command::new(crate::support::binary())
        .env("GITHUB_ACTIONS", "true")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["build", "--progress", "never", "-j2"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    eventually("both tasks to start", || {
        dir.join("started-slow").exists() && dir.join("started-slower").exists()
    });
    signal(child.id(), "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("::group::").count(), 2, "{stderr}");
    assert_eq!(stderr.matches("::endgroup::").count(), 2, "{stderr}");
    assert!(
        stderr.contains("::group::slow (interrupted)\none\n::endgroup::"),
        "{stderr}"
    );
}

#[test]
fn output_logs_failed_prints_only_what_failed() {
    let test = Test::new().kdl(
        r#"task "quiet" { run "echo chatter-from-$((1+1))"; }
task "loud" { run "echo the-failure-says-$((6*7)); exit 1"; }
"#,
    );
    let logs = |which: &str| {
        let args = ["build", "-k", "--progress", "never", "--output-logs", which];
        text(&orchestra(test.path(), &args).stderr)
    };
    let stderr = logs("failed");
    assert!(!stderr.contains("chatter-from-2"), "{stderr}");
    assert!(stderr.contains("the-failure-says-42"), "{stderr}");
    let stderr = logs("none");
    assert!(!stderr.contains("chatter-from-2"), "{stderr}");
    assert!(!stderr.contains("the-failure-says-42"), "{stderr}");
    assert!(stderr.contains("FAILED loud"), "{stderr}");
    assert!(stderr.contains("log: .orchestra/logs/loud.log"), "{stderr}");
}

/// A build with a pass, a failure, a flaky check, a skipped optional check,
/// an up-to-date task and one not run.
const MIXED: &str = r#"project "mixed"
gate "verify" {
    check "flaky" "if [ -e flaked ]; then exit 0; else touch flaked; exit 1; fi"
    check "optional" "not-a-real-program-xyz" optional=#true
}
gate "strict" {
    check "first" "echo first-fails; exit 2"
    check "second" "true"
}
task "fresh" { run "true"; inputs "in.txt"; }
task "ok" { run "echo fine"; gate "verify"; }
task "bad" { run "true"; gate "strict"; }
task "after" { needs "bad"; run "true"; }
"#;

fn mixed() -> Test {
    Test::new()
        .kdl(&MIXED.replace("gate \"verify\" {", "gate \"verify\" retries=1 {"))
        .write("in.txt", "x")
}

#[test]
fn the_junit_report_validates_and_counts_right() {
    let test = mixed();
    let dir = test.path();
    orchestra(dir, &["build", "fresh", "--progress", "never"]);
    let out = orchestra(
        dir,
        &[
            "build",
            "-k",
            "--progress",
            "never",
            "--junit",
            "report.xml",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let xml = std::fs::read_to_string(dir.join("report.xml")).unwrap();
    // Tasks: fresh (up to date), ok, ok/verify, bad, bad/strict (failed),
    // after (not run); checks: flaky (flaky pass), optional (skipped),
    // first (failed), second (not reached).
    assert!(
        xml.contains("<testsuites name=\"mixed\" tests=\"10\" failures=\"2\" errors=\"0\""),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testsuite name=\"tasks\" tests=\"6\" failures=\"1\" errors=\"0\" skipped=\"2\""
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testsuite name=\"ok/verify\" tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"1\""
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testsuite name=\"bad/strict\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"1\""
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<flakyFailure message=\"failed on attempt 1, passed on a later one\" type=\"flaky\"/>"
        ),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"up to date\"/>"), "{xml}");
    assert!(
        xml.contains("<skipped message=\"not run: needs `bad/strict`, which failed\"/>"),
        "{xml}"
    );
    assert!(xml.contains("first-fails"), "{xml}");
    // Against the published schema, where the tools are.
    let Some(xsd) = std::env::var_os("ORCHESTRA_JUNIT_XSD") else {
        assert!(
            std::env::var_os("ORCHESTRA_REQUIRE_TOOLS").is_none(),
            "ORCHESTRA_JUNIT_XSD must name junit-10.xsd (.ci/run fetches it)"
        );
        eprintln!("ORCHESTRA_JUNIT_XSD is not set: skipping the schema validation");
        return;
    };
    if !tool("xmllint", "the JUnit schema validation") {
        return;
    }
    let valid = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(dir.join("report.xml"))
        .output()
        .unwrap();
    assert!(valid.status.success(), "{}", text(&valid.stderr));
}

#[test]
fn the_event_stream_follows_its_schema_and_agrees_with_the_summary() {
    let test = mixed();
    let dir = test.path();
    let out = orchestra(
        dir,
        &[
            "build",
            "-k",
            "--progress",
            "never",
            "--events",
            "events.ndjson",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/events.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let stream = std::fs::read_to_string(dir.join("events.ndjson")).unwrap();
    let events: Vec<serde_json::Value> = stream
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect();
    for event in &events {
        let errors = crate::json_schema::validate(&schema, event);
        assert!(errors.is_empty(), "{event}: {errors:?}");
    }
    assert_eq!(events[0]["event"], "run_started");
    assert_eq!(events[0]["version"], 1);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["totals"], summary["totals"]);
    let finished = events
        .iter()
        .filter(|e| e["event"] == "task_finished")
        .count();
    let totals = &summary["totals"];
    assert_eq!(
        finished as u64,
        totals["succeeded"].as_u64().unwrap() + totals["failed"].as_u64().unwrap()
    );
    let check_failures = events
        .iter()
        .filter(|e| e["event"] == "check_failed")
        .count();
    assert_eq!(check_failures, 2, "the flaky check once, `first` once");
    // `-` streams to stdout.
    let out = orchestra(
        dir,
        &["build", "ok", "--progress", "never", "--events", "-"],
    );
    let first = text(&out.stdout)
        .lines()
        .next()
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(first.contains("\"event\":\"run_started\""), "{first}");
}
