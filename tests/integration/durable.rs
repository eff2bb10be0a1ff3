//! Durable runs with real processes and real signals: Ctrl-C, `kill -9` and
//! `--resume`, state and history, `status`, milestone locks (`--wait`,
//! stale takeover, `unlock`) and secrets masking.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Test, binary};

/// Runs orchestra in `dir` to the end.
fn orchestra(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run orchestra")
}

/// Starts orchestra in `dir` in the background.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orchestra")
}

/// Waits (at most 5s) until `predicate` holds.
fn eventually(what: &str, predicate: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !predicate() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {name} {pid}");
}

/// Whether the process is gone; a zombie waiting for its reaper counts.
fn gone(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .map_or(true, |stat| stat.contains(") Z "))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn state(dir: &Path) -> Value {
    let bytes = std::fs::read(dir.join(".orchestra/state.json")).expect("state.json");
    serde_json::from_slice(&bytes).expect("state.json is valid JSON")
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
    let child = spawn(dir, &["build", "-j", "2"]);
    eventually("the task to start", || dir.join("bg.pid").exists());
    signal(child.id(), "-INT");
    let output = child.wait_with_output().expect("wait");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: stopping 1 running task"),
        "{stderr}"
    );
    for file in ["bg.pid", "leader.pid"] {
        let pid = std::fs::read_to_string(dir.join(file)).unwrap();
        eventually(&format!("{file} to end"), || gone(&pid));
    }
    let state = state(dir);
    assert_eq!(state["finished"], true);
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
        std::fs::read_to_string(dir.join(".orchestra/state.json"))
            .is_ok_and(|s| s.contains("\"succeeded\""))
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
    std::fs::write(dir.join("go"), "").unwrap();
    let output = orchestra(dir, &["build", "--resume"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped a: done in the interrupted run"),
        "{stderr}"
    );
    let count = std::fs::read_to_string(dir.join("count")).unwrap();
    assert_eq!(count, "a\nb\nb\nc\n", "a ran once, b twice, c once");
    // A finished run leaves nothing to resume.
    let again = orchestra(dir, &["build", "--resume"]);
    assert!(text(&again.stderr).contains("nothing to resume: the last run finished"));
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
    assert!(status.contains(": succeeded"), "{status}");
    assert!(status.contains("milestone M1: 1/1 done"), "{status}");
    assert!(!status.contains("failed"), "{status}");
    let json: Value =
        serde_json::from_slice(&orchestra(dir, &["status", "--json"]).stdout).unwrap();
    assert_eq!(json["run"]["tasks"]["M1/build"]["status"], "succeeded");
    assert_eq!(json["locks"], serde_json::json!([]));
    let history = std::fs::read_to_string(dir.join(".orchestra/history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 2, "one line per run");
}

const HELD: &str = r#"
milestone "M1" {
    phase "build" { run "echo built >> count; touch started; while [ ! -f release ]; do sleep 0.01; done" }
}
"#;

#[test]
fn of_two_builds_of_one_milestone_one_runs_and_one_skips_naming_the_holder() {
    let test = Test::new().kdl(HELD);
    let dir = test.path();
    let first = spawn(dir, &["build"]);
    eventually("the first build to start", || dir.join("started").exists());
    let second = orchestra(dir, &["build"]);
    let stderr = text(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    let holder = format!(
        "warning: skipping milestone `M1`: another build holds its lock (pid {} on ",
        first.id()
    );
    assert!(stderr.contains(&holder), "{stderr}");
    assert!(stderr.contains("skipped M1/build: milestone `M1` is locked by another build"));
    let status = text(&orchestra(dir, &["status"]).stdout);
    assert!(status.contains("lock held: milestone `M1`"), "{status}");
    std::fs::write(dir.join("release"), "").unwrap();
    let output = first.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.join("count")).unwrap(),
        "built\n"
    );
    assert!(
        !dir.join(".orchestra/locks/M1").exists(),
        "no lock is left behind"
    );
}

#[test]
fn wait_waits_for_the_lock() {
    let test = Test::new().kdl(HELD);
    let dir = test.path();
    let first = spawn(dir, &["build"]);
    eventually("the first build to start", || dir.join("started").exists());
    let second = spawn(dir, &["build", "--wait"]);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(dir.join("release"), "").unwrap();
    assert!(first.wait_with_output().unwrap().status.success());
    let output = second.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("waiting for the lock of milestone `M1`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("count")).unwrap(),
        "built\nbuilt\n"
    );
}

/// A lock file as a holder writes it: pid, host, start (seconds).
fn lock_file(pid: u32, started_at: u64) -> String {
    format!(r#"{{"milestone":"M1","pid":{pid},"host":"elsewhere","started_at":{started_at}}}"#)
}

#[test]
fn stale_locks_are_taken_over() {
    let kdl = r#"project "p" { lock-timeout "1h"; }
milestone "M1" { phase "build" { run "echo built >> count" } }"#;
    // The holder died: nobody holds the file's OS lock.
    let ran = Test::new()
        .kdl(kdl)
        .write(".orchestra/locks/M1", lock_file(999_999, 1_000))
        .args(["build"])
        .stderr_contains("note: took over the stale lock of milestone `M1` (pid 999999 on elsewhere, since 1970-01-01 00:16:40 UTC")
        .run();
    let dir = ran.dir.path();
    assert!(!dir.join(".orchestra/locks/M1").exists());
    // Alive, but older than `lock-timeout`: `flock` holds the file's OS lock.
    std::fs::write(dir.join(".orchestra/locks/M1"), lock_file(4242, 1_000)).unwrap();
    // One process both holds the lock and is killed below: no orphan.
    let hold = "exec 9<.orchestra/locks/M1 && flock -n 9 && exec sleep 30";
    let mut holder = Command::new("sh")
        .args(["-c", hold])
        .current_dir(dir)
        .spawn()
        .expect("flock");
    eventually("flock to hold the lock", || {
        let list = text(&orchestra(dir, &["status"]).stdout);
        list.contains("lock held: milestone `M1`")
    });
    let output = orchestra(dir, &["build"]);
    let stderr = text(&output.stderr);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("took over the stale lock of milestone `M1` (pid 4242"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("count")).unwrap(),
        "built\nbuilt\n"
    );
}

#[test]
fn unlock_removes_locks_and_says_which() {
    let ran = Test::new()
        .kdl(r#"milestone "M1" { phase "build" { run "true" } }"#)
        .write(".orchestra/locks/M1", lock_file(999_999, 0))
        .args(["unlock", "M1"])
        .stdout("removed the lock of milestone `M1` (pid 999999 on elsewhere, since 1970-01-01 00:00:00 UTC) (its holder was gone)\n")
        .run();
    assert!(!ran.dir.path().join(".orchestra/locks/M1").exists());
    let again = orchestra(ran.dir.path(), &["unlock"]);
    assert_eq!(text(&again.stdout), "no locks to remove\n");
    let named = orchestra(ran.dir.path(), &["unlock", "M2"]);
    assert_eq!(text(&named.stdout), "no lock for milestone `M2`\n");
}

#[test]
fn a_dry_run_writes_nothing_under_dot_orchestra() {
    let ran = Test::new()
        .kdl(r#"milestone "M1" { phase "build" { run "true" } }"#)
        .args(["build", "--dry-run"])
        .run();
    assert!(!ran.dir.path().join(".orchestra").exists());
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_secret_appears_nowhere_orchestra_prints_or_writes() {
    const SECRET: &str = "s3cr3t-Value";
    let kdl = r#"
project "p" { secret "DEPLOY_TOKEN"; }
vars { token "none" }
task "ok" { run "echo token=$DEPLOY_TOKEN; printf 'split:%s' \"$DEPLOY_TOKEN\"" }
task "leak" { needs "ok"; run "echo using {token}; echo $DEPLOY_TOKEN >&2; exit 4" }
"#;
    for verbose in [false, true] {
        let mut args = vec!["build", "--json", "--set", "token=s3cr3t-Value"];
        if verbose {
            args.push("-v");
        }
        let ran = Test::new()
            .kdl(kdl)
            .env("DEPLOY_TOKEN", SECRET)
            .args(args)
            .status(1)
            .stderr_contains("task `leak` failed")
            .stderr_contains("│ ****")
            .stderr_contains("using ****")
            .stdout_contains("echo using ****")
            .stderr_lacks(SECRET)
            .stdout_lacks(SECRET)
            .run();
        let dot = ran.dir.path().join(".orchestra");
        let written = files(&dot);
        assert!(
            written.len() >= 4,
            "state, history and two logs: {written:?}"
        );
        for file in written {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !text(&bytes).contains(SECRET),
                "{} holds the secret",
                file.display()
            );
        }
        let log = std::fs::read_to_string(dot.join("logs/ok.log")).unwrap();
        assert_eq!(
            log,
            "$ echo token=$DEPLOY_TOKEN; printf 'split:%s' \"$DEPLOY_TOKEN\"\ntoken=****\nsplit:****"
        );
    }
}
