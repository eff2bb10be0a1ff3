//! Milestone locks between real builds: one runs and one skips naming the
//! holder, `--wait` waits, stale locks (dead holder, older than
//! `lock-timeout`) are taken over, `orchestra unlock` clears them.

use std::process::Command;
use std::time::Duration;

use crate::support::{Test, eventually, orchestra, spawn, text};

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

#[test]
fn wait_with_a_limit_gives_up_and_skips_the_milestone() {
    let test = Test::new().kdl(HELD);
    let dir = test.path();
    let first = spawn(dir, &["build"]);
    eventually("the first build to start", || dir.join("started").exists());
    let second = orchestra(dir, &["build", "--wait", "300ms"]);
    let stderr = text(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(
        stderr.contains("gave up waiting for the lock of milestone `M1` after 0.3s"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped M1/build: milestone `M1` is locked by another build"));
    let status = text(&orchestra(dir, &["status"]).stdout);
    assert!(
        status.contains("run 1 started")
            && status.contains(&format!("running (pid {})", first.id())),
        "{status}"
    );
    std::fs::write(dir.join("release"), "").unwrap();
    assert!(first.wait_with_output().unwrap().status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("count")).unwrap(),
        "built\n"
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
