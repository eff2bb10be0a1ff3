//! `orchestra build --watch`: a change to what the build reads builds
//! again (stopping commands still running), and SIGINT ends it with exit
//! 130 and no process left behind.

use std::path::Path;
use std::time::Duration;

use crate::support::{Test, eventually_within, gone, signal, spawn, text};

const PROJECT: &str = r#"task "copy" {
    inputs "src/*.txt"
    outputs "out/all.txt"
    run "mkdir -p out && cat src/*.txt > out/all.txt && echo copy >> runs"
}
task "long" {
    needs "copy"
    inputs "out/all.txt"
    run "echo $$ > long.pid; sleep 30 & echo $! > sleep.pid; wait"
}
"#;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

fn wait(what: &str, predicate: impl Fn() -> bool) {
    eventually_within(what, Duration::from_secs(20), predicate);
}

/// `orchestra build --watch` in the background, killed if the test fails
/// before it ends it.
struct Watching(Option<std::process::Child>);

impl Watching {
    fn start(dir: &Path) -> Self {
        Self(Some(spawn(
            dir,
            &["build", "--watch", "--progress", "never"],
        )))
    }

    /// SIGINT, and what it said and how it ended.
    fn interrupt(mut self) -> std::process::Output {
        let child = self.0.take().expect("running");
        signal(child.id(), "-INT");
        child.wait_with_output().expect("wait")
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_change_builds_again_and_sigint_leaves_no_process() {
    let test = Test::new().kdl(PROJECT).write("src/a.txt", "one\n");
    let dir = test.path();
    let child = Watching::start(dir);
    wait("the first build to reach `long`", || {
        !read(dir, "sleep.pid").is_empty()
    });
    assert_eq!(read(dir, "out/all.txt"), "one\n");
    let first_shell = read(dir, "long.pid");
    let first_sleep = read(dir, "sleep.pid");
    // A new file matching the inputs, while `long` still runs: it is
    // stopped, and `copy` runs again with the new file.
    std::fs::write(dir.join("src/b.txt"), "two\n").unwrap();
    wait("the second build", || {
        read(dir, "out/all.txt") == "one\ntwo\n"
    });
    wait("the stopped commands to be gone", || {
        gone(&first_shell) && gone(&first_sleep)
    });
    wait("`long` to start again", || {
        read(dir, "long.pid") != first_shell
    });
    wait("its sleep", || read(dir, "sleep.pid") != first_sleep);
    // Outputs and orchestra's own files are not changes: no third build.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(read(dir, "runs"), "copy\ncopy\n");
    let (shell, sleep) = (read(dir, "long.pid"), read(dir, "sleep.pid"));
    let out = child.interrupt();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(gone(&shell) && gone(&sleep), "a command outlived orchestra");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("watch: `src/b.txt` changed; building again"),
        "{stderr}"
    );
}

#[test]
fn a_change_while_idle_rebuilds_only_what_it_affects() {
    let kdl = r#"task "a" { inputs "a.txt"; outputs "a.out"; run "cp a.txt a.out; echo a >> runs" }
task "b" { inputs "b.txt"; outputs "b.out"; run "cp b.txt b.out; echo b >> runs" }
"#;
    let test = Test::new()
        .kdl(kdl)
        .write("a.txt", "1\n")
        .write("b.txt", "1\n");
    let dir = test.path();
    let child = Watching::start(dir);
    wait("the first build", || read(dir, "runs").lines().count() == 2);
    // Give the watcher its quiet moment, then edit one input the way an
    // editor does: a new file renamed over the old one.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(dir.join("b.txt.tmp"), "2\n").unwrap();
    std::fs::rename(dir.join("b.txt.tmp"), dir.join("b.txt")).unwrap();
    wait("b to be rebuilt", || read(dir, "b.out") == "2\n");
    std::thread::sleep(Duration::from_millis(400));
    let runs = read(dir, "runs");
    assert_eq!(runs.lines().filter(|l| *l == "a").count(), 1, "{runs}");
    assert_eq!(runs.lines().filter(|l| *l == "b").count(), 2, "{runs}");
    let out = child.interrupt();
    assert_eq!(out.status.code(), Some(130));
}

#[test]
fn a_broken_file_is_reported_and_watched_until_it_is_fixed() {
    let test = Test::new().kdl("task \"a\" {\n    run \"echo ok > done\"\n");
    let dir = test.path();
    let child = Watching::start(dir);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!dir.join("done").exists());
    std::fs::write(
        dir.join("orchestra.kdl"),
        "task \"a\" {\n    run \"echo ok > done\"\n}\n",
    )
    .unwrap();
    wait("the fixed file to build", || dir.join("done").exists());
    let out = child.interrupt();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        text(&out.stderr).contains("orchestra::syntax"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn watch_refuses_what_cannot_repeat() {
    Test::new()
        .kdl("task \"a\" { run \"true\" }\n")
        .args(["build", "--watch", "--json"])
        .status(2)
        .stderr_contains("cannot be used with")
        .run();
}

#[test]
fn a_task_writing_a_temporary_file_among_its_inputs_does_not_loop() {
    let kdl = r#"task "gen" {
    inputs "src"
    outputs "src/gen.txt"
    run "ls src > src/gen.tmp && mv src/gen.tmp src/gen.txt && echo gen >> runs"
}
"#;
    let test = Test::new().kdl(kdl).write("src/a.txt", "a\n");
    let dir = test.path();
    let child = Watching::start(dir);
    wait("the first build", || read(dir, "runs") == "gen\n");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        read(dir, "runs"),
        "gen\n",
        "the build's own temporary file rebuilt it"
    );
    std::fs::write(dir.join("src/b.txt"), "b\n").unwrap();
    wait("a real change to build", || {
        read(dir, "runs") == "gen\ngen\n"
    });
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(read(dir, "runs"), "gen\ngen\n");
    assert_eq!(child.interrupt().status.code(), Some(130));
}

#[test]
fn new_and_replaced_directories_under_a_glob_are_watched() {
    let kdl = r#"task "cat" {
    inputs "src/**/*.c"
    outputs "all.txt"
    run "cat $(find src -name '*.c' | sort) > all.txt"
}
task "later" {
    inputs "gen/deep/*.txt"
    outputs "later.out"
    run "cat gen/deep/*.txt > later.out 2>/dev/null || echo none > later.out"
}
"#;
    let test = Test::new()
        .kdl(kdl)
        .write("src/a.c", "a\n")
        .write("src/sub/b.c", "b\n");
    let dir = test.path();
    let child = Watching::start(dir);
    wait("the first build", || {
        read(dir, "all.txt") == "a\nb\n" && read(dir, "later.out") == "none\n"
    });
    std::thread::sleep(Duration::from_millis(300));
    // A new directory with a file in it.
    std::fs::create_dir_all(dir.join("src/new")).unwrap();
    std::fs::write(dir.join("src/new/c.c"), "c\n").unwrap();
    wait("the new directory's file", || {
        read(dir, "all.txt") == "a\nc\nb\n"
    });
    std::thread::sleep(Duration::from_millis(300));
    // A directory replaced by another (as a checkout does), then edited.
    std::fs::create_dir_all(dir.join("src/sub.new")).unwrap();
    std::fs::write(dir.join("src/sub.new/b.c"), "B\n").unwrap();
    std::fs::remove_dir_all(dir.join("src/sub")).unwrap();
    std::fs::rename(dir.join("src/sub.new"), dir.join("src/sub")).unwrap();
    wait("the replaced directory", || {
        read(dir, "all.txt") == "a\nc\nB\n"
    });
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(dir.join("src/sub/b.c"), "B2\n").unwrap();
    wait("an edit in the replaced directory", || {
        read(dir, "all.txt") == "a\nc\nB2\n"
    });
    // An input whose directories do not exist yet.
    std::fs::create_dir_all(dir.join("gen/deep")).unwrap();
    std::fs::write(dir.join("gen/deep/later.txt"), "here\n").unwrap();
    wait("the input that appeared", || {
        read(dir, "later.out") == "here\n"
    });
    assert_eq!(child.interrupt().status.code(), Some(130));
}

#[test]
fn a_broken_included_file_is_watched_until_it_is_fixed() {
    let test = Test::new()
        .kdl("include \"ci/t.kdl\"\n")
        .write(
            "ci/t.kdl",
            "task \"t\" { inputs \"in.txt\"; run \"cat in.txt > out\" }\n",
        )
        .write("in.txt", "1\n");
    let dir = test.path();
    let child = Watching::start(dir);
    wait("the first build", || read(dir, "out") == "1\n");
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(
        dir.join("ci/t.kdl"),
        "task \"t\" { inputs \"in.txt\"; run \"cat in.txt > out\" \n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    std::fs::write(dir.join("in.txt"), "2\n").unwrap();
    std::fs::write(
        dir.join("ci/t.kdl"),
        "task \"t\" { inputs \"in.txt\"; run \"cat in.txt > out\" }\n",
    )
    .unwrap();
    wait("the fixed include to build", || read(dir, "out") == "2\n");
    let out = child.interrupt();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        text(&out.stderr).contains("ci/t.kdl"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn on_a_terminal_the_progress_display_and_ctrl_c_behave() {
    let kdl = r#"task "a" { inputs "in.txt"; outputs "a.out"; run "cp in.txt a.out; sleep 1" }
"#;
    let test = Test::new().kdl(kdl).write("in.txt", "1\n");
    let dir = test.path();
    // The shell traps Ctrl-C to live on and print orchestra's code.
    let Some(terminal) = crate::support::Terminal::build(dir, "trap 'echo INT' INT; ", "--watch")
    else {
        return;
    };
    wait("the first build", || {
        terminal.screen().contains("watch: waiting")
    });
    std::fs::write(dir.join("in.txt"), "2\n").unwrap();
    wait("the second build", || read(dir, "a.out") == "2\n");
    wait("it to wait again", || {
        terminal.screen().matches("watch: waiting").count() >= 1
            && terminal.screen().contains("changed; building again")
    });
    terminal.send_keys("C-c");
    wait("the watch to end", || terminal.screen().contains("EXIT="));
    let screen = terminal.screen();
    assert!(screen.contains("EXIT=130"), "{screen}");
}
