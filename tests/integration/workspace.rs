//! `.orchestra/` under pressure, through the real binary: concurrent builds
//! and `kill -9`, a lock taken over after its heartbeat expired, `clean`
//! racing builds, every persisted file garbled or replaced by a directory,
//! a FIFO or a link, and the guardian that outlives a killed orchestra.

use std::fmt::Write as _;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use crate::durable::{record, state};
use crate::support::{Rng, Test, binary, eventually, gone, orchestra, signal, spawn, text};

fn count(dir: &Path, file: &str) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// Waits for `child` at most `limit`; a hang is a failure, not a stuck test.
fn finish_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} hung for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

/// A build that must finish within 30 s, with its output.
fn build(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["build", "--progress", "never"];
    all.extend_from_slice(args);
    finish_within(spawn(dir, &all), Duration::from_secs(30), "orchestra build")
}

#[test]
fn a_skipped_build_keeps_its_record_and_the_killed_builder_resumes_without_rerunning() {
    let test = Test::new().kdl(
        r#"
milestone "M1" {
    phase "a" { run "echo a >> count" }
    phase "b" { depends-on "a"; run "echo $$ > b.pid; echo b >> count; while [ ! -f go ]; do sleep 0.01; done" }
}
milestone "M2" { phase "c" { run "echo c >> count" } }
"#,
    );
    let dir = test.path();
    let mut builder = spawn(dir, &["build", "-j", "2"]);
    eventually("b to start", || dir.join("b.pid").exists());
    eventually("a and c to be recorded", || {
        let run = state(dir);
        run["tasks"]["M1/a"]["status"] == "succeeded"
            && run["tasks"]["M2/c"]["status"] == "succeeded"
    });
    let skipped = orchestra(dir, &["build"]);
    let stderr = text(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    assert!(stderr.contains("skipping milestone `M1`"), "{stderr}");
    assert!(stderr.contains("skipping milestone `M2`"), "{stderr}");
    let yielded = state(dir);
    assert_eq!(yielded["id"], 2);
    assert_eq!(yielded["tasks"]["M1/a"]["status"], "locked");
    signal(builder.id(), "-KILL");
    builder.wait().unwrap();
    // The builder's record is its own: the skipped build did not touch it.
    let first = record(&dir.join(".orchestra/runs/1"));
    assert_eq!(first["tasks"]["M1/a"]["status"], "succeeded");
    assert_eq!(first["finished"], false);
    std::fs::write(dir.join("go"), "").unwrap();
    let resumed = build(dir, &["--resume"]);
    let stderr = text(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(
        stderr.contains("resuming run 1: 2 done, 1 to go"),
        "{stderr}"
    );
    assert_eq!(
        count(dir, "count"),
        ["a", "b", "b", "c"],
        "only b ran again"
    );
    // The skipped build's record is intact.
    let again = record(&dir.join(".orchestra/runs/2"));
    assert_eq!(again, yielded);
}

#[test]
fn a_resumed_run_after_a_failed_run_reruns_only_the_failed_and_unstarted_tasks() {
    let test = Test::new().kdl(
        r#"
task "gen" { run "echo gen >> count" }
task "lint" { run "echo lint >> count" }
task "test" { needs "gen"; run "echo test >> count; [ -f fixed ]" }
task "ship" { needs "test"; run "echo ship >> count" }
"#,
    );
    let dir = test.path();
    assert_eq!(build(dir, &["-j", "2"]).status.code(), Some(1));
    std::fs::write(dir.join("fixed"), "").unwrap();
    let resumed = build(dir, &["--resume"]);
    let stderr = text(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(
        stderr.contains("resuming run 1: 2 done, 2 to go"),
        "{stderr}"
    );
    assert_eq!(
        count(dir, "count"),
        ["gen", "lint", "ship", "test", "test"],
        "tasks without inputs that succeeded did not run again"
    );
}

#[test]
fn a_lock_taken_over_after_its_heartbeat_expired_stops_the_old_holder() {
    let test = Test::new().kdl(
        r#"
project "p" { lock-timeout "1s"; }
milestone "M1" {
    phase "one" { run "echo one >> count; while [ ! -f go ]; do sleep 0.01; done" }
    phase "two" { depends-on "one"; run "echo two >> count" }
}
"#,
    );
    let dir = test.path();
    let old = spawn(dir, &["build", "--progress", "never"]);
    eventually("the old holder to start", || count(dir, "count").len() == 1);
    // A hung holder: its heartbeat stops while its command goes on.
    signal(old.id(), "-STOP");
    std::thread::sleep(Duration::from_millis(2500));
    let new = spawn(dir, &["build", "--progress", "never"]);
    eventually("the new holder to start", || count(dir, "count").len() == 2);
    signal(old.id(), "-CONT");
    // The old holder's next heartbeat (every 250 ms) finds the lock gone.
    std::thread::sleep(Duration::from_millis(800));
    std::fs::write(dir.join("go"), "").unwrap();
    let old = finish_within(old, Duration::from_secs(20), "the old holder");
    let new = finish_within(new, Duration::from_secs(20), "the new holder");
    let (old_err, new_err) = (text(&old.stderr), text(&new.stderr));
    assert!(new.status.success(), "{new_err}");
    assert!(
        new_err.contains("took over the stale lock of milestone `M1`"),
        "{new_err}"
    );
    assert_eq!(old.status.code(), Some(1), "{old_err}");
    assert!(
        old_err.contains("lost the lock of milestone `M1`: another build took it over"),
        "{old_err}"
    );
    assert_eq!(count(dir, "count"), ["one", "one", "two"], "two ran once");
}

#[test]
fn clean_during_a_build_never_removes_the_lock_it_holds() {
    let test = Test::new().kdl(
        r#"milestone "M1" { phase "build" { run "echo built >> count; while [ ! -f go ]; do sleep 0.01; done" } }"#,
    );
    let dir = test.path();
    let holder = spawn(dir, &["build"]);
    eventually("the build to start", || !count(dir, "count").is_empty());
    for round in 0..25 {
        let cleaned = orchestra(dir, &["clean"]);
        let stdout = text(&cleaned.stdout);
        assert!(cleaned.status.success(), "round {round}: {stdout}");
        assert!(
            stdout.contains("kept .orchestra/locks/M1"),
            "round {round}: {stdout}"
        );
        let other = orchestra(dir, &["build"]);
        let stderr = text(&other.stderr);
        assert!(
            stderr.contains("skipping milestone `M1`"),
            "round {round}: {stderr}"
        );
    }
    std::fs::write(dir.join("go"), "").unwrap();
    let output = finish_within(holder, Duration::from_secs(20), "the holder");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(count(dir, "count"), ["built"], "no second build took M1");
}

#[test]
fn kill_9_of_orchestra_leaves_no_process_of_its_commands() {
    let test = Test::new()
        .kdl(r#"task "long" { run "sleep 30 & echo $! > bg.pid; echo $$ > leader.pid; wait" }"#);
    let dir = test.path();
    let mut child = spawn(dir, &["build"]);
    eventually("the command to start", || {
        dir.join("leader.pid").exists() && dir.join("bg.pid").exists()
    });
    signal(child.id(), "-KILL");
    child.wait().unwrap();
    let killed = Instant::now();
    for file in ["leader.pid", "bg.pid"] {
        let pid = std::fs::read_to_string(dir.join(file)).unwrap();
        while !gone(&pid) {
            assert!(
                killed.elapsed() < Duration::from_secs(2),
                "{file} ({}) outlived orchestra by 2 s",
                pid.trim()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn the_same_task_outside_milestones_never_runs_twice_at_once() {
    let test = Test::new().kdl(
        r#"task "gen" { run "mkdir running || exit 9; echo gen >> count; sleep 0.3; rmdir running" }"#,
    );
    let dir = test.path();
    let builds: Vec<Child> = (0..6).map(|_| spawn(dir, &["build"])).collect();
    for child in builds {
        let output = finish_within(child, Duration::from_secs(20), "a build");
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(
            stderr.contains("ok gen")
                || stderr.contains("skipped gen: another build is running it"),
            "{stderr}"
        );
    }
    assert!(!count(dir, "count").is_empty());
}

/// A project whose second build has nothing to do: `copy` is up to date.
const PROJECT: &str = r#"
task "copy" { inputs "in.txt"; outputs "out.txt"; run "cp in.txt out.txt; echo copy >> count" }
milestone "M1" { phase "p" { run "true" } }
"#;

/// How a persisted file is spoiled.
#[derive(Debug, Clone, Copy)]
enum Spoil {
    Truncate,
    Garble,
    Directory,
    Fifo,
    LinkOutside,
    Dangling,
}

fn spoil(path: &Path, how: Spoil, outside: &Path) {
    if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(path).unwrap();
    } else if path.exists() || path.is_symlink() {
        std::fs::remove_file(path).unwrap();
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    match how {
        Spoil::Truncate => std::fs::write(path, "").unwrap(),
        Spoil::Garble => std::fs::write(path, "ORCH\u{0}{\"garbage\u{ff}\n\n").unwrap(),
        Spoil::Directory => std::fs::create_dir_all(path.join("x")).unwrap(),
        Spoil::Fifo => assert!(Command::new("mkfifo").arg(path).status().unwrap().success()),
        Spoil::LinkOutside => symlink(outside.join("victim"), path).unwrap(),
        Spoil::Dangling => symlink(outside.join("never"), path).unwrap(),
    }
}

#[test]
fn every_persisted_file_spoiled_means_a_warning_and_a_correct_rebuild() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("victim"), "keep").unwrap();
    let files = [
        "fingerprints",
        "plan-cache",
        "history.jsonl",
        "runs/1/state.json",
        "runs/1/owner",
        "locks/M1",
        "locks/.guard",
        "fingerprints.lock",
        "fingerprints.d",
        "logs/copy.log",
    ];
    let ways = [
        Spoil::Truncate,
        Spoil::Garble,
        Spoil::Directory,
        Spoil::Fifo,
        Spoil::LinkOutside,
        Spoil::Dangling,
    ];
    for file in files {
        for how in ways {
            let case = format!("{file} spoiled by {how:?}");
            let test = Test::new().kdl(PROJECT).write("in.txt", "hello");
            let dir = test.path();
            assert!(build(dir, &[]).status.success(), "{case}: first build");
            spoil(&dir.join(".orchestra").join(file), how, outside.path());
            let output = build(dir, &[]);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{case}: {stderr}");
            assert_eq!(
                std::fs::read_to_string(dir.join("out.txt")).unwrap(),
                "hello",
                "{case}"
            );
            let status = finish_within(
                Command::new(binary())
                    // CI turns gate fixes off; tests set it when they mean it.
                    .env_remove("CI")
                    .env_remove("GITHUB_ACTIONS")
                    .env_remove("GITHUB_STEP_SUMMARY")
                    .arg("status")
                    .current_dir(dir)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap(),
                Duration::from_secs(20),
                "orchestra status",
            );
            assert_eq!(status.status.code(), Some(0), "{case}: status");
            // What cannot be read is said, in one line, not recovered silently.
            let said = format!("{stderr}{}", text(&status.stderr));
            let unusable = !matches!(how, Spoil::Truncate)
                && matches!(file, "fingerprints" | "runs/1/state.json");
            if unusable {
                assert!(said.contains("warning: ignoring"), "{case}: {said}");
            }
            // A correct rebuild: after it, nothing is left to do.
            let again = build(dir, &[]);
            assert!(again.status.success(), "{case}");
            assert!(
                text(&again.stderr).contains("up to date"),
                "{case}: {}",
                text(&again.stderr)
            );
            assert_eq!(
                std::fs::read_to_string(outside.path().join("victim")).unwrap(),
                "keep",
                "{case}: written through a link"
            );
            assert!(
                !outside.path().join("never").exists(),
                "{case}: created through a dangling link"
            );
            assert!(orchestra(dir, &["clean"]).status.success(), "{case}: clean");
            assert_eq!(
                std::fs::read_to_string(outside.path().join("victim")).unwrap(),
                "keep",
                "{case}: clean followed a link"
            );
        }
    }
}

#[test]
fn a_dot_orchestra_linked_outside_is_refused_by_clean_and_build() {
    let parent = tempfile::tempdir().unwrap();
    let project = parent.path().join("project");
    std::fs::create_dir(&project).unwrap();
    for sibling in ["sibling-a", "sibling-b"] {
        std::fs::create_dir(parent.path().join(sibling)).unwrap();
        std::fs::write(parent.path().join(sibling).join("file"), "keep").unwrap();
    }
    std::fs::write(project.join("orchestra.kdl"), PROJECT).unwrap();
    std::fs::write(project.join("in.txt"), "hello").unwrap();
    symlink("..", project.join(".orchestra")).unwrap();
    let listing = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = listing(parent.path());
    let cleaned = orchestra(&project, &["clean"]);
    assert_eq!(cleaned.status.code(), Some(2));
    assert!(
        text(&cleaned.stderr).contains("`.orchestra` is a symlink, not a directory"),
        "{}",
        text(&cleaned.stderr)
    );
    let built = orchestra(&project, &["build"]);
    assert_eq!(built.status.code(), Some(2), "{}", text(&built.stderr));
    assert_eq!(orchestra(&project, &["status"]).status.code(), Some(0));
    assert_eq!(
        listing(parent.path()),
        before,
        "nothing outside was touched"
    );
    assert!(project.join("orchestra.kdl").exists());
    for sibling in ["sibling-a", "sibling-b"] {
        assert_eq!(listing(&parent.path().join(sibling)), ["file"]);
    }
}

/// A 200-task project: 20 chains of 10 copies, each with inputs and outputs.
fn two_hundred_tasks(dir: &Path) {
    let mut kdl = String::new();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    for chain in 0..20 {
        for link in 0..10 {
            let i = chain * 10 + link;
            std::fs::write(dir.join(format!("src/{i}.txt")), format!("{i}")).unwrap();
            let needs = if link == 0 {
                String::new()
            } else {
                format!("needs \"t{}\"; ", i - 1)
            };
            let _ = writeln!(
                kdl,
                "task \"t{i}\" {{ {needs}inputs \"src/{i}.txt\"; outputs \"out/{i}.txt\"; run \"mkdir -p out; cp src/{i}.txt out/{i}.txt; echo t{i} >> count\" }}"
            );
        }
    }
    std::fs::write(dir.join("orchestra.kdl"), kdl).unwrap();
}

#[test]
fn after_kill_9_at_any_moment_resume_and_a_plain_build_rerun_nothing_that_succeeded() {
    for (round, delay_ms) in [40u64, 110, 190, 270, 350].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        two_hundred_tasks(dir);
        let mut child = spawn(dir, &["build", "-j", "2"]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(child.id(), "-KILL");
        child.wait().unwrap();
        let resumed = build(dir, &["--resume", "-j", "2"]);
        assert!(
            resumed.status.success(),
            "round {round}: {}",
            text(&resumed.stderr)
        );
        let after_resume = count(dir, "count").len();
        let plain = build(dir, &[]);
        assert!(plain.status.success(), "round {round}");
        assert_eq!(
            count(dir, "count").len(),
            after_resume,
            "round {round} (killed after {delay_ms} ms): the plain build reran tasks: {}",
            text(&plain.stderr)
        );
        // Every task ran at least once; none that succeeded was lost.
        let mut ran = count(dir, "count");
        ran.dedup();
        assert_eq!(ran.len(), 200, "round {round}");
    }
}

#[test]
fn two_concurrent_builds_lose_no_fingerprint_record() {
    let test = Test::new();
    let dir = test.path();
    two_hundred_tasks(dir);
    let mut kdl = std::fs::read_to_string(dir.join("orchestra.kdl")).unwrap();
    let half = |from: usize| {
        (from..from + 10)
            .map(|c| format!("\"t{}\"", c * 10 + 9))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(kdl, "target \"left\" {{ needs {} }}", half(0));
    let _ = writeln!(kdl, "target \"right\" {{ needs {} }}", half(10));
    std::fs::write(dir.join("orchestra.kdl"), kdl).unwrap();
    let left = spawn(dir, &["build", "left", "-j", "1"]);
    let right = spawn(dir, &["build", "right", "-j", "1"]);
    for child in [left, right] {
        let output = finish_within(child, Duration::from_mins(1), "a build");
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    assert_eq!(count(dir, "count").len(), 200);
    let all = build(dir, &["left", "right"]);
    assert!(all.status.success());
    assert_eq!(
        count(dir, "count").len(),
        200,
        "a record was lost: {}",
        text(&all.stderr)
    );
}

#[test]
fn an_input_glob_never_follows_a_link_to_a_directory() {
    let test = Test::new()
        .kdl(r#"task "all" { run "echo ran >> count"; inputs "**/*.txt" }"#)
        .write("d/a.txt", "a");
    let dir = test.path();
    symlink(".", dir.join("d/loop")).unwrap();
    symlink("/", dir.join("root")).unwrap();
    // The old walk followed `d/loop` forever (and `root` through /proc).
    let first = build(dir, &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = build(dir, &[]);
    assert!(text(&second.stderr).contains("(1 up to date)"));
}

/// A soak of the engine: random graphs of 60 tasks with random failures and
/// timeouts, interrupted at a random moment; then `--resume` until done.
/// After each round: the run record is readable, no task the record says
/// succeeded ran again, and no process of any command is left.
#[test]
fn soak_random_graphs_with_failures_timeouts_and_interrupts() {
    for seed in 1..=4u64 {
        let mut rng = Rng::new(seed);
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        std::fs::create_dir_all(dir.join("fail")).unwrap();
        std::fs::create_dir_all(dir.join("pids")).unwrap();
        let mut kdl = String::new();
        for i in 0..60usize {
            let mut needs = Vec::new();
            for _ in 0..rng.below(3) {
                if i > 0 {
                    needs.push(format!("\"t{}\"", rng.below(i)));
                }
            }
            needs.sort();
            needs.dedup();
            let needs = if needs.is_empty() {
                String::new()
            } else {
                format!("needs {}; ", needs.join(" "))
            };
            let sleep = rng.below(40);
            let timeout = if rng.below(10) == 0 {
                // Sleeps past its timeout until the fail file goes.
                "timeout \"300ms\"; ".to_owned()
            } else {
                String::new()
            };
            if rng.below(6) == 0 {
                std::fs::write(dir.join(format!("fail/t{i}")), "").unwrap();
            }
            let _ = writeln!(
                kdl,
                "task \"t{i}\" {{ {needs}{timeout}run \"echo $$ > pids/t{i}; sleep 0.0{sleep:02}; \
                 if [ -f fail/t{i} ]; then sleep 1; exit 3; fi; echo t{i} >> done\" }}"
            );
        }
        std::fs::write(dir.join("orchestra.kdl"), kdl).unwrap();
        let child = spawn(dir, &["build", "-k", "-j", "2", "--progress", "never"]);
        std::thread::sleep(Duration::from_millis(100 + rng.next() % 400));
        signal(child.id(), "-INT");
        let first = finish_within(child, Duration::from_mins(1), "the interrupted build");
        assert!(
            matches!(first.status.code(), Some(0 | 1 | 130)),
            "seed {seed}: {}",
            text(&first.stderr)
        );
        let record = state(dir);
        let succeeded: Vec<String> = record["tasks"]
            .as_object()
            .expect("a readable run record")
            .iter()
            .filter(|(_, t)| t["status"] == "succeeded")
            .map(|(address, _)| address.clone())
            .collect();
        std::fs::remove_dir_all(dir.join("fail")).unwrap();
        let resumed = build(dir, &["--resume", "-j", "2"]);
        assert!(
            resumed.status.success(),
            "seed {seed}: {}",
            text(&resumed.stderr)
        );
        let done = count(dir, "done");
        for task in &succeeded {
            let runs = done.iter().filter(|d| *d == task).count();
            assert_eq!(runs, 1, "seed {seed}: {task} succeeded, then ran again");
        }
        let mut all = done.clone();
        all.dedup();
        assert_eq!(all.len(), 60, "seed {seed}: every task done");
        for entry in std::fs::read_dir(dir.join("pids")).unwrap().flatten() {
            let pid = std::fs::read_to_string(entry.path()).unwrap();
            eventually("every command to be gone", || gone(&pid));
        }
    }
}
