//! What `orchestra build` shows: plain lines off a terminal, the JSON
//! summary against its documented schema, and the progress display on a
//! real terminal (tmux).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::json_schema;
use crate::support::{Terminal, Test};

const MIXED: &str = r#"
gate "verify" retries=1 {
    check "lint" "no-such-linter" optional=#true
    check "flaky" "test -f once || (touch once; exit 1)"
}
task "prints" { run "echo from prints"; gate "verify"; }
task "fails" { run "echo about to fail; exit 4"; }
task "after-fails" { needs "fails"; run "true"; }
task "review" { run "true"; }
target "all" { needs "prints" "after-fails" "review"; }
"#;

#[test]
fn plain_output_has_one_line_per_start_and_end_and_no_escape_codes() {
    let ran = Test::new()
        .kdl(MIXED)
        // Colour would be allowed without NO_COLOR; it must still not appear off a terminal.
        .env("NO_COLOR", "")
        .args(["build", "all", "-k", "-j", "1", "--skip", "review"])
        .status(1)
        .stderr_contains("skipped review (--skip review)\n")
        // `prints` leads the longer chain (its gate follows), so it goes first.
        .stderr_contains("[0/5] start prints\n[1/5] ok prints ")
        // `fails` runs alone at -j 1: its end directly follows its start.
        .stderr_contains("] start fails\n[")
        .stderr_contains("/5] FAILED fails ")
        .stderr_contains("from prints\n")
        .stderr_contains("warning: prints/verify: optional check `lint` skipped: `no-such-linter` is not on PATH")
        .stderr_contains("ok prints/verify ")
        .stderr_contains("(flaky: passed on attempt 2)")
        .stderr_contains("skipped after-fails: needs `fails`, which failed")
        .stderr_contains("build failed: 1 task failed, 2 skipped, 2 succeeded in ")
        .run();
    assert!(
        !ran.stderr.contains('\u{1b}'),
        "escape code in:\n{}",
        ran.stderr
    );
    assert!(!ran.stdout.contains('\u{1b}'));
}

#[test]
fn json_summary_matches_its_documented_schema() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let read = |name: &str| std::fs::read_to_string(docs.join(name)).expect(name);
    let schema: Value = serde_json::from_str(&read("build.schema.json")).expect("schema");
    let doc = read("build-json.md");
    let ran = Test::new()
        .kdl(MIXED)
        .args([
            "build", "all", "-k", "-j", "1", "--skip", "review", "--json",
        ])
        .status(1)
        .stderr_contains("FAILED fails")
        .run();
    let value: Value = serde_json::from_str(&ran.stdout).expect("stdout is one JSON object");
    let problems = json_schema::validate(&schema, &value);
    assert!(problems.is_empty(), "{problems:#?}\n{value:#}");

    assert_eq!(value["success"], false);
    assert_eq!(value["left_out"][0]["by"], "review");
    let task = |address: &str| {
        value["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["address"] == address)
            .unwrap_or_else(|| panic!("no task {address}"))
            .clone()
    };
    let fails = task("fails");
    assert_eq!(fails["status"], "failed");
    assert_eq!(fails["failure"]["exit_code"], 4);
    assert_eq!(fails["log"], ".orchestra/logs/fails.log");
    assert_eq!(task("after-fails")["blocked_by"], "fails");
    let gate = task("prints/verify");
    assert_eq!(gate["gate"]["flaky"], true);
    assert_eq!(
        gate["gate"]["skipped_checks"][0]["program"],
        "no-such-linter"
    );
    assert_eq!(value["totals"]["failed"], 1);
    // The example in the doc obeys the schema too.
    let example = doc.split("## Example").nth(1).unwrap();
    let example = example
        .split("```json\n")
        .nth(1)
        .unwrap()
        .split("\n```")
        .next()
        .unwrap();
    let example: Value = serde_json::from_str(example).expect("the example is JSON");
    assert_eq!(
        json_schema::validate(&schema, &example),
        Vec::<String>::new()
    );
}

/// Runs a build inside a detached tmux session and returns what the
/// terminal showed while it ran and when it ended; `None` without tmux.
fn on_terminal(project: &Path) -> Option<(String, String)> {
    let terminal = Terminal::build(project, "", "-j 2")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut during = String::new();
    let mut after = String::new();
    while Instant::now() < deadline {
        let now = terminal.screen();
        if now.contains("EXIT=") {
            after = now;
            break;
        }
        if now.contains("tasks") && now.contains("slow-one") {
            during = now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((during, after))
}

#[test]
fn progress_display_on_a_terminal() {
    let test = Test::new().kdl(
        r#"
task "quick" { run "true"; }
task "slow-one" { run "sleep 1.5"; }
task "slow-two" { needs "quick"; run "sleep 1.5"; }
"#,
    );
    let Some((during, after)) = on_terminal(test.path()) else {
        return;
    };
    // While running: the overall bar with count, elapsed and ETA, and one
    // line per running task with its elapsed time.
    assert!(during.contains("/3 tasks"), "{during}");
    assert!(
        during.contains("elapsed") && during.contains("ETA"),
        "{during}"
    );
    assert!(
        during
            .lines()
            .any(|l| l.contains("slow-one") && l.trim_end().ends_with('s')),
        "{during}"
    );
    // Afterwards: finished tasks as single lines, the bar gone, success.
    assert!(after.contains("ok quick"), "{after}");
    assert!(
        after.contains("ok slow-one") && after.contains("ok slow-two"),
        "{after}"
    );
    assert!(
        after.contains("built 3 tasks") && after.contains("EXIT=0"),
        "{after}"
    );
    assert!(
        !after.contains("ETA"),
        "the bar is cleared at the end:\n{after}"
    );
}

#[test]
fn progress_always_draws_even_off_a_terminal() {
    let ran = Test::new()
        .kdl(r#"task "a" { run "sleep 0.3"; }"#)
        .args(["build", "--progress", "always"])
        .stderr_contains("/1 tasks")
        .stderr_contains("ok a")
        .run();
    assert!(ran.stderr.contains("\u{1b}["), "{}", ran.stderr);
}

#[test]
fn status_words_are_coloured_only_where_colour_is_on() {
    let kdl = r#"
task "fails" { run "exit 1" }
task "after" { needs "fails"; run "true" }
task "fine" { run "true" }
"#;
    let coloured = Test::new()
        .kdl(kdl)
        .args([
            "build",
            "-k",
            "-j",
            "1",
            "--progress",
            "never",
            "--color",
            "always",
        ])
        .status(1)
        .run();
    for word in [
        "\x1b[32mok\x1b[0m fine",
        "\x1b[31mFAILED\x1b[0m fails",
        "\x1b[33mskipped\x1b[0m after",
    ] {
        assert!(coloured.stderr.contains(word), "{:?}", coloured.stderr);
    }
    Test::new()
        .kdl(kdl)
        .args(["build", "-k", "-j", "1", "--progress", "never"])
        .status(1)
        .stderr_contains("] skipped after: needs `fails`, which failed")
        .stderr_lacks("\x1b[")
        .run();
}

#[test]
fn gate_output_is_labelled_check_by_check() {
    let kdl = r#"
gate "verify" {
    check "types" "echo types fine"
    check "lint" "echo lint says no; exit 1"
}
task "build" { run "echo built"; gate "verify" }
"#;
    Test::new()
        .kdl(kdl)
        .args(["build", "--progress", "never"])
        .status(1)
        .stderr_contains("│ ── verify › lint: echo lint says no; exit 1\n  │ lint says no")
        .run();
    Test::new()
        .kdl(kdl)
        .args(["build", "--progress", "never", "-v"])
        .status(1)
        .stderr_contains("build/verify | ── verify › types: echo types fine\nbuild/verify | types fine\nbuild/verify | ── verify › lint: echo lint says no; exit 1")
        .run();
}

#[test]
fn a_huge_output_is_logged_whole_and_printed_as_its_end() {
    let ran = Test::new()
        .kdl(r#"task "big" { run "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo last line" }"#)
        .args(["build", "--progress", "never"])
        .status(0)
        .stderr_contains(
            "[… earlier output is longer than memory keeps: the whole of it is in the log]",
        )
        .stderr_contains("last line")
        .run();
    assert!(ran.stderr.len() < 100_000, "only the end is printed");
    let log = std::fs::metadata(ran.dir.path().join(".orchestra/logs/big.log")).unwrap();
    assert!(log.len() > 3_000_000, "the log has all of it");
}

#[test]
fn json_on_a_configuration_error_is_an_error_object() {
    let ran = Test::new()
        .kdl("task \"a\" { run \"true\" }\ntaks \"b\"\n")
        .args(["build", "--json"])
        .status(2)
        .run();
    let value: Value = serde_json::from_str(&ran.stdout).expect("one JSON object on stdout");
    assert_eq!(value["success"], false);
    assert_eq!(value["error"]["exit_code"], 2);
    let found = &value["error"]["diagnostics"][0];
    assert_eq!(found["code"], "orchestra::unknown_node");
    assert_eq!(
        (found["line"].as_u64(), found["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(found["help"], "did you mean `task`?");
    let unknown = Test::new()
        .kdl("task \"a\" { run \"true\" }\n")
        .args(["build", "--json", "nope"])
        .status(2)
        .run();
    let value: Value = serde_json::from_str(&unknown.stdout).expect("one JSON object");
    assert!(value["error"]["message"].as_str().unwrap().contains("nope"));
}

#[test]
fn only_a_task_that_prints_gets_a_log_and_no_stale_log_survives() {
    let test = Test::new().kdl(
        r#"project "p"
task "silent" { run "true" }
task "quiet-fail" { run "exit 3" }
task "talks" { run "true"; run "echo said; [ -f hush ] || echo more" }
task "once" { run "[ -f hush ] || echo first time" }
"#,
    );
    let dir = test.path();
    let logs = dir.join(".orchestra/logs");
    let first = crate::support::orchestra(dir, &["build", "-k", "--force", "--json"]);
    assert_eq!(first.status.code(), Some(1));
    assert!(
        !logs.join("silent.log").exists(),
        "nothing printed, no file"
    );
    let summary: Value = serde_json::from_slice(&first.stdout).unwrap();
    let failed = summary["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["address"] == "quiet-fail")
        .unwrap();
    assert_eq!(failed["log"], Value::Null, "no log to point at");
    // Only the command that printed is in the log, under its own line.
    let talks = std::fs::read_to_string(logs.join("talks.log")).unwrap();
    assert_eq!(talks, "$ echo said; [ -f hush ] || echo more\nsaid\nmore\n");
    assert!(logs.join("once.log").exists());
    std::fs::write(dir.join("hush"), "").unwrap();
    let second = crate::support::orchestra(dir, &["build", "-k", "--force"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        !logs.join("once.log").exists(),
        "the first run's log of a task silent now is gone"
    );
    let talks = std::fs::read_to_string(logs.join("talks.log")).unwrap();
    assert_eq!(talks, "$ echo said; [ -f hush ] || echo more\nsaid\n");
}
