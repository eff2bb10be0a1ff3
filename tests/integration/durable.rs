//! Durable runs with real processes and real signals: Ctrl-C (once and
//! twice), `kill -9` and `--resume`, state and history, `status`, and the
//! dry run that writes nothing. Locks are in `locks.rs`, secrets in
//! `secrets.rs`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::json_schema;
use crate::support::{Terminal, Test, eventually, gone, orchestra, signal, spawn, text};

/// The newest run record, as `docs/build.md` says to read it.
pub(crate) fn state(dir: &Path) -> Value {
    record(&last_run(dir).expect("a run record"))
}

/// The run record in `run` (`.orchestra/runs/<id>`): `state.json` with
/// the lines of `tasks.jsonl` over it (a torn one passed over).
pub(crate) fn record(run: &Path) -> Value {
    let bytes = std::fs::read(run.join("state.json")).expect("state.json");
    let mut state: Value = serde_json::from_slice(&bytes).expect("state.json is valid JSON");
    let journal = std::fs::read_to_string(run.join("tasks.jsonl")).unwrap_or_default();
    for line in journal.lines() {
        if let Ok(Value::Object(mut entry)) = serde_json::from_str::<Value>(line) {
            let task = entry.remove("task").expect("an entry names its task");
            state["tasks"][task.as_str().expect("an address")] = Value::Object(entry);
        }
    }
    state
}

/// The directory of the newest run record.
pub(crate) fn last_run(dir: &Path) -> Option<std::path::PathBuf> {
    let runs = dir.join(".orchestra/runs");
    std::fs::read_dir(&runs)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .map(|id| runs.join(id.to_string()))
}

#[test]
fn ctrl_c_stops_every_process_saves_state_and_exits_130() {
    let test = Test::new().kdl(
        r#"
task "quick" { run "echo quick >> count" }
milestone "M1" {
    phase "hang" { run "sleep 30 & echo $! > bg.pid; echo $$ > leader.pid; wait" }
    phase "after" { depends-on "hang"; run "echo after >> count" }
}
"#,
    );
    let dir = test.path();
    let child = spawn(dir, &["build", "-j", "2", "--json"]);
    // leader.pid is written last, so both files exist once it does.
    eventually("the task to start", || dir.join("leader.pid").exists());
    // `quick` has written its line; give the build a moment to reap it, so
    // exactly one task is running when the interrupt comes.
    eventually("quick to finish", || dir.join("count").exists());
    std::thread::sleep(Duration::from_millis(200));
    signal(child.id(), "-INT");
    let output = child.wait_with_output().expect("wait");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let summary: Value = serde_json::from_slice(&output.stdout).expect("a JSON summary");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["tasks"][1]["failure"]["step"], "interrupted");
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/build.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(docs).unwrap()).unwrap();
    assert_eq!(
        json_schema::validate(&schema, &summary),
        Vec::<String>::new()
    );
    assert!(
        stderr.contains("interrupted: stopping 1 running task"),
        "{stderr}"
    );
    for file in ["bg.pid", "leader.pid"] {
        let pid = std::fs::read_to_string(dir.join(file)).unwrap();
        eventually(&format!("{file} to end"), || gone(&pid));
    }
    let state = state(dir);
    assert_eq!(
        state["finished"], false,
        "an interrupted run can be resumed"
    );
    assert_eq!(state["tasks"]["M1/hang"]["status"], "interrupted");
    assert_eq!(state["tasks"]["M1/after"]["status"], "skipped");
    let history = std::fs::read_to_string(dir.join(".orchestra/history.jsonl")).unwrap();
    assert!(history.contains("\"interrupted\":true"), "{history}");
    assert!(
        !dir.join(".orchestra/locks/M1").exists(),
        "the lock is released"
    );
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let test = Test::new().kdl(
        r#"task "stubborn" { run "trap '' TERM; echo $$ > leader.pid; while true; do sleep 0.01; done" }"#,
    );
    let dir = test.path();
    let child = spawn(dir, &["build"]);
    eventually("the task to start", || dir.join("leader.pid").exists());
    let started = Instant::now();
    signal(child.id(), "-INT");
    std::thread::sleep(Duration::from_millis(100));
    signal(child.id(), "-INT");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "no grace period"
    );
    assert!(text(&output.stderr).contains("interrupted again: killing 1 running task now"));
    let pid = std::fs::read_to_string(dir.join("leader.pid")).unwrap();
    eventually("the task to end", || gone(&pid));
}

#[test]
fn after_kill_9_resume_finishes_without_rerunning_what_succeeded() {
    let test = Test::new().kdl(
        r#"
task "a" { run "echo a >> count" }
task "b" { needs "a"; run "echo $$ > b.pid; echo b >> count; [ -f go ] || sleep 30" }
task "c" { needs "b"; run "echo c >> count" }
"#,
    );
    let dir = test.path();
    let mut child = spawn(dir, &["build"]);
    eventually("b to start", || dir.join("b.pid").exists());
    // `b` is running, so `a`'s success is being saved; give it a moment.
    eventually("a's success to be saved", || {
        last_run(dir).is_some_and(|run| record(&run)["tasks"]["a"]["status"] == "succeeded")
    });
    signal(child.id(), "-KILL");
    child.wait().unwrap();
    // orchestra died without a chance to stop its command; end its group.
    let leader = std::fs::read_to_string(dir.join("b.pid")).unwrap();
    let group = format!("-{}", leader.trim());
    Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .expect("kill the group");
    let state = state(dir);
    assert_eq!(state["finished"], false);
    assert_eq!(state["tasks"]["a"]["status"], "succeeded");
    let status = text(&orchestra(dir, &["status"]).stdout);
    assert!(status.contains("  b running"), "{status}");
    assert!(
        status.contains("1 not reached"),
        "c never started: {status}"
    );
    std::fs::write(dir.join("go"), "").unwrap();
    let output = orchestra(dir, &["build", "--resume"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("resuming run 1: 1 done, 2 to go"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped a: done in the interrupted run"),
        "{stderr}"
    );
    let count = std::fs::read_to_string(dir.join("count")).unwrap();
    assert_eq!(count, "a\nb\nb\nc\n", "a ran once, b twice, c once");
    // A run that succeeded leaves nothing to resume.
    let again = orchestra(dir, &["build", "--resume"]);
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains("nothing to resume: run 2 of this selection succeeded"),
        "{stderr}"
    );
}

#[test]
fn a_run_that_failed_then_succeeded_clears_its_failure() {
    let ran = Test::new()
        .kdl(r#"milestone "M1" { phase "build" { run "[ -f fixed ] || exit 3" } }"#)
        .args(["build"])
        .status(1)
        .run();
    let dir = ran.dir.path();
    let status = text(&orchestra(dir, &["status"]).stdout);
    assert!(
        status.contains("M1/build failed") && status.contains("(exit 3)"),
        "{status}"
    );
    std::fs::write(dir.join("fixed"), "").unwrap();
    assert!(orchestra(dir, &["build"]).status.success());
    let status = text(&orchestra(dir, &["status"]).stdout);
    assert!(status.contains("run 2 started"), "{status}");
    assert!(status.contains("last run 2: succeeded"), "{status}");
    assert!(status.contains("milestone M1: 1/1 done"), "{status}");
    assert!(
        status.contains("run 1 started") && status.contains(": failed;"),
        "the failed run is listed too: {status}"
    );
    assert!(!status.contains("M1/build failed"), "{status}");
    let json: Value =
        serde_json::from_slice(&orchestra(dir, &["status", "--json"]).stdout).unwrap();
    assert_eq!(json["run"]["tasks"]["M1/build"]["status"], "succeeded");
    assert_eq!(json["locks"], serde_json::json!([]));
    let history = std::fs::read_to_string(dir.join(".orchestra/history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 2, "one line per run");
}

#[test]
fn a_dry_run_writes_nothing_under_dot_orchestra() {
    let ran = Test::new()
        .kdl(r#"milestone "M1" { phase "build" { run "true" } }"#)
        .args(["build", "--dry-run"])
        .run();
    assert!(!ran.dir.path().join(".orchestra").exists());
}

/// A build on a real terminal (tmux) that asks a question: Ctrl-C while it
/// waits for the answer ends the run as interrupted, not after Enter.
#[test]
fn ctrl_c_at_a_question_interrupts_the_run() {
    let test = Test::new().kdl(
        r#"task "first" { run "echo first >> count" }
task "publish" { needs "first"; confirm "Publish now?"; run "echo published >> count" }"#,
    );
    let dir = test.path();
    // `exec`: orchestra alone in the terminal's foreground group gets Ctrl-C.
    let script = format!(
        "cd '{}' && exec '{}' build --progress never",
        dir.display(),
        crate::support::binary().display()
    );
    let Some(terminal) = Terminal::start(dir, &script) else {
        return;
    };
    eventually("the question", || {
        terminal.screen().contains("Publish now? [y/N]")
    });
    terminal.send_keys("C-c");
    eventually("the interrupted run's history", || {
        std::fs::read_to_string(dir.join(".orchestra/history.jsonl")).is_ok_and(|h| !h.is_empty())
    });
    drop(terminal);
    let history = std::fs::read_to_string(dir.join(".orchestra/history.jsonl")).unwrap();
    assert!(history.contains("\"interrupted\":true"), "{history}");
    assert_eq!(
        std::fs::read_to_string(dir.join("count")).unwrap(),
        "first\n"
    );
    // The interrupted run can be resumed: `first` is not run again.
    let resumed = orchestra(dir, &["build", "--resume", "--yes"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let count = std::fs::read_to_string(dir.join("count")).unwrap();
    assert_eq!(count, "first\npublished\n");
}

#[test]
fn resume_reruns_the_owner_of_a_gate_that_failed() {
    let test = Test::new().kdl(
        r#"
gate "verify" { check "passes" "[ -f pass ]"; }
task "gen" { run "echo gen >> count"; gate "verify" }
task "other" { run "echo other >> count" }
"#,
    );
    let dir = test.path();
    assert_eq!(orchestra(dir, &["build"]).status.code(), Some(1));
    std::fs::write(dir.join("pass"), "").unwrap();
    let resumed = orchestra(dir, &["build", "--resume"]);
    let stderr = text(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(
        stderr.contains("resuming run 1: 1 done, 2 to go"),
        "{stderr}"
    );
    let mut count: Vec<String> = std::fs::read_to_string(dir.join("count"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    count.sort();
    assert_eq!(count, ["gen", "gen", "other"], "gen reran, other did not");
}

/// Builds `test` (`-j 1` and `flags`) on a real terminal (tmux); once the
/// question `publish: Publish now?` is open and `count` holds `while_open`,
/// answers yes and waits for the build to succeed. `None` without tmux.
fn build_answering_yes(test: &Test, flags: &str, while_open: &str) -> Option<(Terminal, String)> {
    let dir = test.path();
    let terminal = Terminal::build(dir, "", &format!("-j 1 {flags}"))?;
    eventually("the question", || {
        terminal.screen().contains("publish: Publish now? [y/N]")
    });
    eventually(
        &format!("`{while_open}` to run while the question waits"),
        || std::fs::read_to_string(dir.join("count")).is_ok_and(|c| c.contains(while_open)),
    );
    terminal.send_keys("y");
    terminal.send_keys("Enter");
    eventually("the build to end", || terminal.screen().contains("EXIT=0"));
    let count = std::fs::read_to_string(dir.join("count")).unwrap();
    Some((terminal, count))
}

/// On a real terminal: while a question waits for its answer, what does not
/// need it goes on; the question names its task.
#[test]
fn a_question_on_the_terminal_does_not_stall_other_work() {
    let test = Test::new().kdl(
        r#"task "publish" { confirm "Publish now?"; run "echo published >> count" }
task "announce" { needs "publish"; run "echo announced >> count" }
task "tell" { needs "announce"; run "echo told >> count" }
task "side" { run "echo side >> count" }"#,
    );
    let Some((_, count)) = build_answering_yes(&test, "--progress never", "side") else {
        return;
    };
    assert_eq!(count, "side\npublished\nannounced\ntold\n");
}

/// With the progress display drawn (the default on a terminal), an open
/// question takes the display off the screen without freezing it: a chain
/// of tasks that needs no answer runs to its end while the question waits.
#[test]
fn a_question_under_the_progress_display_does_not_freeze_the_build() {
    let test = Test::new().kdl(
        // publish heads the longest chain, so it is asked first.
        r#"task "publish" { confirm "Publish now?"; run "echo published >> count" }
task "announce" { needs "publish"; run "echo announced >> count" }
task "tell" { needs "announce"; run "echo told >> count" }
task "thank" { needs "tell"; run "echo thanked >> count" }
task "one" { run "echo one >> count" }
task "two" { needs "one"; run "echo two >> count" }
task "three" { needs "two"; run "echo three >> count" }"#,
    );
    let Some((terminal, count)) = build_answering_yes(&test, "", "three") else {
        return;
    };
    assert_eq!(
        count,
        "one\ntwo\nthree\npublished\nannounced\ntold\nthanked\n"
    );
    let screen = terminal.screen();
    assert!(
        screen.contains("three") && screen.contains("publish"),
        "the lines held back during the question are shown after it:\n{screen}"
    );
}

/// On a real terminal with the progress display: after Ctrl-C no stale
/// spinner line stays on the screen (the terminal's `^C` echo used to
/// shift the display under itself).
#[test]
fn ctrl_c_leaves_no_stale_progress_line() {
    let test = Test::new().kdl(
        r#"task "long" { run "sleep 30" }
task "other" { run "sleep 30" }"#,
    );
    let dir = test.path();
    // The shell outlives the Ctrl-C (a no-op trap), to show the screen.
    let Some(terminal) = Terminal::build(dir, "trap : INT; ", "") else {
        return;
    };
    eventually("the progress display", || {
        terminal.screen().contains("elapsed")
    });
    terminal.send_keys("C-c");
    eventually("the build to end", || {
        terminal.screen().contains("EXIT=130")
    });
    let screen = terminal.screen();
    assert!(
        !screen
            .chars()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
        "a spinner stayed behind:\n{screen}"
    );
}
