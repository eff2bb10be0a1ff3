//! `orchestra build` with real processes: parallelism, timeouts, gates and
//! failure policy, environment, confirmations, dry run, exit codes.
//! Output formats (plain, JSON, terminal) are in `build_output.rs`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::Test;

/// Waits for `other.ready` for at most ~4s, so a missing overlap fails
/// instead of hanging.
fn wait_for(me: &str, other: &str) -> String {
    format!(
        "touch {me}.ready; i=0; while [ ! -f {other}.ready ]; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.02; done"
    )
}

#[test]
fn independent_tasks_overlap() {
    let kdl = format!(
        "task \"left\" timeout=\"10s\" {{ run #\"{}\"#; }}\ntask \"right\" timeout=\"10s\" {{ run #\"{}\"#; }}\n",
        wait_for("left", "right"),
        wait_for("right", "left"),
    );
    Test::new()
        .kdl(&kdl)
        .args(["build", "-j", "2"])
        .stderr_contains("ok left")
        .stderr_contains("ok right")
        .stderr_contains("built 2 tasks")
        .run();
}

#[test]
fn a_timeout_kills_the_command_and_its_children() {
    let started = Instant::now();
    let ran = Test::new()
        .kdl(r#"task "hang" timeout="300ms" { run "sleep 30 & echo $! > bg.pid; wait"; }"#)
        .args(["build"])
        .status(1)
        .stderr_contains("task `hang` failed: its command timed out after 300ms")
        .stderr_contains("error: `hang` failed")
        .run();
    assert!(started.elapsed() < Duration::from_secs(10));
    let pid = std::fs::read_to_string(ran.dir.path().join("bg.pid")).expect("bg.pid");
    let stat = format!("/proc/{}/stat", pid.trim());
    // The grandchild may linger as a zombie for a moment before init reaps it.
    let gone = (0..50).any(|_| {
        let alive = std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z "));
        if alive {
            std::thread::sleep(Duration::from_millis(20));
        }
        !alive
    });
    assert!(gone, "the background `sleep` (pid {}) survived", pid.trim());
}

const WAVES: &str = r#"
gate "verify" {
    check "lint" "echo boom; exit 3"
}
entities {
    each { step "gen" "touch {entity}.gen"; }
    wave-gate "verify"
    entity "a"
    entity "b" { relation "a"; }
}
task "after" {
    needs "entities"
    run "touch after.ran"
}
task "independent" { run "touch independent.ran"; }
"#;

#[test]
fn a_failed_gate_stops_its_dependents_and_later_waves() {
    let ran = Test::new()
        .kdl(WAVES)
        .args(["build", "after", "independent", "-j", "1"])
        .status(1)
        .stderr_contains("gate `entities/wave-1/verify` failed: check `lint` exited with status 3")
        .stderr_contains("│ boom")
        .stderr_contains("log: .orchestra/logs/entities/wave-1/verify.log")
        .stderr_contains("declared here")
        .stderr_contains("orchestra.kdl:")
        .stderr_contains("error: `entities/wave-1/verify` failed")
        .run();
    let exists = |name: &str| ran.dir.path().join(name).exists();
    assert!(exists("a.gen"));
    assert!(!exists("b.gen") && !exists("after.ran"), "{}", ran.stderr);
    let log = ran
        .dir
        .path()
        .join(".orchestra/logs/entities/wave-1/verify.log");
    let log = std::fs::read_to_string(log).expect("the gate's log");
    assert!(
        log.contains("$ check `lint`: echo boom; exit 3\nboom\n"),
        "{log}"
    );
}

#[test]
fn keep_going_runs_what_does_not_depend_on_the_failure() {
    let ran = Test::new()
        .kdl(WAVES)
        .args(["build", "after", "independent", "-j", "1", "-k"])
        .status(1)
        .stderr_contains("skipped entities/b/gen: needs `entities/wave-1/verify`, which failed")
        .run();
    assert!(ran.dir.path().join("independent.ran").exists());
    assert!(!ran.dir.path().join("b.gen").exists());
}

#[test]
fn gates_retry_and_fix() {
    let kdl = r#"
gate "verify" retries=2 {
    check "flaky" "test -f once || (touch once; exit 1)"
    check "format" "test -f formatted" fix="touch formatted"
}
task "work" { run "true"; gate "verify"; }
"#;
    Test::new()
        .kdl(kdl)
        .args(["build", "work"])
        .stderr_contains("check `flaky` exited with status 1 (attempt 1); retrying")
        .stderr_contains(
            "check `format` exited with status 1 (attempt 2); running its fix, then checking again",
        )
        .stderr_contains("fixed `format`")
        .stderr_contains("(1 flaky gate)")
        .run();
}

#[test]
fn commands_run_in_their_dir_with_orchestra_variables() {
    let kdl = r#"
project "demo"
task "where" {
    dir "sub"
    env GREETING="hi"
    run "echo $GREETING $ORCHESTRA_TASK $ORCHESTRA_PROJECT > out"
    run "echo" "$ORCHESTRA_ROOT" "{{literal}}"
}
"#;
    let ran = Test::new()
        .kdl(kdl)
        .write("sub/.keep", "")
        .args(["build", "where"])
        .stderr_contains("$ORCHESTRA_ROOT {literal}")
        .run();
    let out = std::fs::read_to_string(ran.dir.path().join("sub/out")).expect("sub/out");
    assert_eq!(out, "hi where demo\n");
}

#[test]
fn verbose_streams_output_with_the_address() {
    Test::new()
        .kdl(r#"task "talk" { run "echo hello; echo world >&2"; }"#)
        .args(["build", "-v"])
        .stderr_contains("talk | $ echo hello; echo world >&2\ntalk | hello\ntalk | world\n")
        .run();
}

#[test]
fn confirmations_need_a_terminal_or_yes() {
    let kdl = r#"task "publish" { confirm "Publish now?"; run "touch published"; }"#;
    let ran = Test::new()
        .kdl(kdl)
        .args(["build"])
        .status(1)
        .stderr_contains("task `publish` did not run: needs confirmation (\"Publish now?\") but there is no terminal to ask on; pass `--yes` to approve")
        .run();
    assert!(!ran.dir.path().join("published").exists());
    let ran = Test::new().kdl(kdl).args(["build", "--yes"]).run();
    assert!(ran.dir.path().join("published").exists());
}

#[test]
fn dry_run_lists_in_order_and_runs_nothing() {
    let kdl = r#"
gate "verify" { check "lint" "no-such-linter --strict" optional=#true; check "fmt" "cargo fmt --check" fix="cargo fmt"; }
task "a" { run "touch a.ran"; }
task "b" { needs "a"; run "touch" "b ran"; gate "verify"; }
"#;
    let ran = Test::new()
        .kdl(kdl)
        .args(["build", "--dry-run", "b"])
        .stdout(
            "a\n    $ touch a.ran\nb\n    $ touch 'b ran'\nb/verify\n    skip check `lint`: `no-such-linter` is not on PATH\n    check `fmt`: cargo fmt --check (fix: cargo fmt)\n3 tasks would run; nothing was run (dry run)\n",
        )
        .run();
    let left: Vec<_> = std::fs::read_dir(ran.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [Path::new("orchestra.kdl").as_os_str()]);
}

#[test]
fn usage_errors_exit_2() {
    Test::new()
        .kdl(r#"task "a" { run "true"; }"#)
        .args(["build", "nope"])
        .status(2)
        .run();
    Test::new()
        .kdl(r#"task "a" { run "true"; }"#)
        .args(["build", "--dry-run", "--json"])
        .status(2)
        .run();
}

#[test]
fn the_parent_directories_of_declared_outputs_exist_before_the_command_runs() {
    let ran = Test::new()
        .kdl(
            r#"
task "gen" { run "echo hi > out/deep/x.txt"; outputs "out/deep/x.txt" }
task "many" { run "echo a > gen/sub/a.c"; outputs "gen/sub/*.c" }
task "escape" { run "true"; outputs "../outside/x" }
"#,
        )
        .args(["build", "--progress", "never"])
        .status(1)
        .run();
    let dir = ran.dir.path();
    assert_eq!(
        std::fs::read_to_string(dir.join("out/deep/x.txt")).unwrap(),
        "hi\n"
    );
    assert!(dir.join("gen/sub/a.c").exists());
    assert!(
        !dir.parent().unwrap().join("outside").exists(),
        "nothing is created outside the project"
    );
}

#[test]
fn shell_syntax_in_commands_passes_through_untouched() {
    let ran = Test::new()
        .kdl(
            r#"
vars { greeting "hello" }
task "shell" {
    run "echo a,b | awk -F, '{print $2}' > awk.txt"
    run "echo ${HOME:+home} > env.txt"
    run "echo f.{c,h} > brace.txt; touch f.c"
    run "find . -name f.c -exec cp {} copied.c \\;"
    run "echo {greeting} {{literal}} > vars.txt"
}
"#,
        )
        .args(["build", "--progress", "never"])
        .status(0)
        .run();
    let dir = ran.dir.path();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(read("awk.txt"), "b\n");
    assert_eq!(read("env.txt"), "home\n");
    // `sh` has no brace expansion: the braces reached it as written.
    assert_eq!(read("brace.txt"), "f.{c,h}\n");
    assert!(dir.join("copied.c").exists());
    assert_eq!(read("vars.txt"), "hello {literal}\n");
}

/// A gate whose `format` and `lint` checks each pass only after their fix.
const FIXABLE: &str = r#"
gate "verify" {
    check "format" "[ -f formatted ]" fix="touch formatted; echo fmt >> fixes"
    check "lint" "[ -f linted ]" fix="touch linted; echo lint >> fixes"
}
task "build" { run "true"; gate "verify" }
"#;

#[test]
fn each_fix_is_verified_and_none_runs_in_vain() {
    let ran = Test::new()
        .kdl(FIXABLE)
        .args(["build", "--progress", "never"])
        .status(0)
        .stderr_contains("(fixed `format`, `lint`; 3 attempts)")
        .run();
    let fixes = std::fs::read_to_string(ran.dir.path().join("fixes")).unwrap();
    assert_eq!(fixes, "fmt\nlint\n", "two fixes, three attempts");
    // A check its fix does not repair fails the gate; the fix runs once.
    Test::new()
        .kdl(
            r#"
gate "verify" { check "format" "false" fix="echo fmt >> fixes"; }
task "build" { run "true"; gate "verify" }
"#,
        )
        .args(["build", "--progress", "never"])
        .status(1)
        .stderr_lacks("fixed")
        .run();
}

#[test]
fn no_fix_and_ci_verify_without_repairing() {
    Test::new()
        .kdl(FIXABLE)
        .args(["build", "--progress", "never", "--no-fix"])
        .status(1)
        .stderr_contains(
            "fix available for `format`: `touch formatted; echo fmt >> fixes` (not run)",
        )
        .stderr_lacks("gate fixes are off")
        .run();
    let ci = Test::new()
        .kdl(FIXABLE)
        .env("CI", "true")
        .args(["build", "--progress", "never"])
        .status(1)
        .stderr_contains("note: gate fixes are off because `CI` is set")
        .run();
    assert!(!ci.dir.path().join("fixes").exists(), "no fix ran in CI");
    Test::new()
        .kdl(FIXABLE)
        .env("CI", "true")
        .args(["build", "--progress", "never", "--fix"])
        .status(0)
        .run();
    Test::new()
        .kdl(FIXABLE)
        .env("CI", "false")
        .args(["build", "--progress", "never"])
        .status(0)
        .run();
}

#[test]
fn skip_takes_a_milestone_or_an_entity_and_its_dependents_still_run() {
    let kdl = r#"
entities {
    each { step "gen" "echo {entity} >> ran" }
    entity "a"
    entity "b"
}
milestone "M1" {
    phase "one" { run "echo M1/one >> ran" }
    phase "two" { run "echo M1/two >> ran" }
}
task "after" { needs "M1" "entities"; run "echo after >> ran" }
"#;
    let ran = Test::new()
        .kdl(kdl)
        .args([
            "build",
            "after",
            "--progress",
            "never",
            "--skip",
            "M1",
            "--skip",
            "entities/b",
        ])
        .status(0)
        .stderr_contains("skipped M1/one (--skip M1)")
        .stderr_contains("skipped M1/two (--skip M1)")
        .stderr_contains("skipped entities/b/gen (--skip entities/b)")
        .run();
    let mut lines: Vec<String> = std::fs::read_to_string(ran.dir.path().join("ran"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    assert_eq!(lines, ["a", "after"]);
}

#[test]
fn a_pool_takes_its_members_in_declaration_order_however_their_needs_finish() {
    // The needs finish in reverse order; the pool still goes a, b, c, d.
    let kdl = r#"
pool "modules" depth=1
task "gen-a" { run "sleep 0.6" }
task "gen-b" { run "sleep 0.4" }
task "gen-c" { run "sleep 0.2" }
task "gen-d" { run "true" }
task "wire-a" { needs "gen-a"; pool "modules"; run "echo a >> order" }
task "wire-b" { needs "gen-b"; pool "modules"; run "echo b >> order" }
task "wire-c" { needs "gen-c"; pool "modules"; run "echo c >> order" }
task "wire-d" { needs "gen-d"; pool "modules"; run "echo d >> order" }
"#;
    let ran = Test::new()
        .kdl(kdl)
        .args(["build", "-j", "8", "--progress", "never"])
        .status(0)
        .run();
    let order = std::fs::read_to_string(ran.dir.path().join("order")).unwrap();
    assert_eq!(order, "a\nb\nc\nd\n");
}

#[test]
fn a_task_stopped_by_the_terminal_is_reported_not_waited_for_forever() {
    // `sudo` or `ssh` asking for a password from a background process
    // group is stopped by the terminal (SIGTTIN): on a real one (tmux).
    let test = Test::new().kdl(
        r#"
task "asks" { run "echo before; read answer < /dev/tty; echo after"; }
task "other" { run "echo other >> ran"; }
"#,
    );
    let dir = test.path();
    let started = Instant::now();
    let Some(terminal) = crate::support::Terminal::build(dir, "", "-k --progress never 2> err.log")
    else {
        return;
    };
    crate::support::eventually_within("the build to end", Duration::from_secs(15), || {
        terminal.screen().contains("EXIT=")
    });
    let screen = terminal.screen();
    assert!(screen.contains("EXIT=1"), "{screen}");
    let err = std::fs::read_to_string(dir.join("err.log")).unwrap();
    assert!(
        err.contains(
            "task `asks` failed: its command was stopped, most likely to read the terminal"
        ),
        "{err}"
    );
    assert!(
        err.contains("or mark the task `interactive=#true`"),
        "{err}"
    );
    assert!(!err.contains("│ after"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15), "no hang");
}

#[test]
fn a_process_stopped_on_purpose_is_left_to_whoever_continues_it() {
    // A test harness or a debugger stops a process (no terminal involved)
    // and continues it later: not a password prompt, not to be killed.
    Test::new()
        .kdl(
            r#"task "pauses" { run "sh -c 'kill -STOP $$; echo continued' & pid=$!; sleep 1.5; kill -CONT $pid; wait $pid; echo done"; }"#,
        )
        .args(["build", "--progress", "never"])
        .status(0)
        .stderr_contains("continued")
        .stderr_contains("done")
        .run();
}

#[test]
fn a_child_finishing_its_last_writes_after_the_command_exits_is_not_cut_off() {
    // Like `cmd > >(tee log)`: the shell is gone, its child still writes
    // for a moment. It gets a grace period before being stopped.
    Test::new()
        .kdl(r#"task "t" { run "(sleep 0.2; echo late) & echo started" }"#)
        .args(["build", "--progress", "never"])
        .status(0)
        .stderr_contains("started")
        .stderr_contains("late")
        .run();
}

#[test]
fn a_task_ends_when_its_command_exits_even_if_a_background_child_holds_its_output() {
    let started = Instant::now();
    let ran = Test::new()
        .kdl(r#"task "serve" { run "sleep 30 & echo $! > bg.pid; echo started" }"#)
        .args(["build", "--progress", "never"])
        .status(0)
        .stderr_contains("started")
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the task waited for its background child"
    );
    let pid = std::fs::read_to_string(ran.dir.path().join("bg.pid")).unwrap();
    crate::support::eventually("the background child to be cleaned up", || {
        crate::support::gone(&pid)
    });
}

/// Every command starts through `posix_spawn` (a `vfork`-style clone),
/// never a real fork of orchestra's whole address space — also for an
/// exec-form task that sets its own `PATH`, where std would fall back to
/// fork for a bare program name. Seen with strace.
#[test]
fn no_task_falls_back_to_a_real_fork() {
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("strace is not installed: skipping the spawn test");
        return;
    }
    let test = Test::new().kdl(
        r#"project "p"
task "own-path" { run "echo" "hi"; env PATH="/usr/local/bin:/usr/bin:/bin" }
task "exec" { run "true" }
task "shell" { run "printf x > out.txt" }
"#,
    );
    let dir = test.path();
    let trace = dir.join("trace.txt");
    let status = std::process::Command::new("strace")
        .args(["-f", "-e", "trace=clone,clone3,fork,vfork", "-o"])
        .arg(&trace)
        .arg(crate::support::binary())
        .args(["build", "--progress", "never"])
        .current_dir(dir)
        .output()
        .unwrap();
    if String::from_utf8_lossy(&status.stderr).contains("ptrace") {
        eprintln!("strace may not trace here: skipping the spawn test");
        return;
    }
    assert!(status.status.success(), "{status:?}");
    let trace = std::fs::read_to_string(trace).unwrap();
    let processes: Vec<&str> = trace
        .lines()
        .filter(|l| (l.contains("clone") || l.contains("fork(")) && !l.contains("resumed"))
        .filter(|l| !l.contains("CLONE_THREAD"))
        .collect();
    assert!(processes.len() >= 3, "{trace}");
    for line in processes {
        assert!(line.contains("CLONE_VFORK"), "a real fork: {line}");
    }
}

/// Running commands are followed from one poll loop on the scheduler's
/// thread, not a thread each: with eight commands running, orchestra has
/// fewer threads than commands.
#[test]
fn running_commands_take_no_thread_each() {
    let mut kdl = String::from("project \"p\"\n");
    for i in 0..8 {
        let _ = writeln!(
            kdl,
            "task \"t{i}\" {{ run \"touch started-{i}; sleep 2\" }}"
        );
    }
    let test = Test::new().kdl(&kdl);
    let dir = test.path();
    let mut child = crate::support::spawn(dir, &["build", "-j", "8", "--progress", "never"]);
    crate::support::eventually("every command to start", || {
        (0..8).all(|i| dir.join(format!("started-{i}")).exists())
    });
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let threads: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(threads < 8, "{threads} threads for 8 commands");
}
