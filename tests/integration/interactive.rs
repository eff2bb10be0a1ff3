//! `interactive=#true` tasks through the real binary: on a real terminal
//! (tmux) they run in its foreground, reading what a person types, with
//! the progress display out of the way; without one they get orchestra's
//! stdin; and Ctrl-C while one runs interrupts the build.

use std::io::Write;
use std::process::Stdio;

use crate::support::{Terminal, Test, eventually, orchestra, text};

/// A project whose interactive `login` asks for a name and writes it down,
/// beside a plain `build` task that `deploy` also needs.
fn project() -> Test {
    Test::new().kdl(
        r#"project "p"
task "build" { run "echo built >> log" }
task "login" {
    interactive #true
    run "printf 'name? '; read name; echo \"hello $name\" > greeting; echo login >> log"
}
task "deploy" { needs "build" "login"; run "echo deploy >> log" }
"#,
    )
}

/// Builds the project in `dir` on a real terminal (tmux), after the shell
/// runs `before`, with `flags`, printing `EXIT=<code>` at the end; returns
/// once `login` asks for a name. `None` without tmux.
fn login_on_terminal(dir: &std::path::Path, before: &str, flags: &str) -> Option<Terminal> {
    let terminal = Terminal::build(dir, before, flags)?;
    // (tmux drops the prompt's trailing space)
    eventually("the prompt", || terminal.screen().contains("name?"));
    Some(terminal)
}

#[test]
fn on_a_terminal_an_interactive_task_reads_what_a_person_types() {
    let test = project();
    let dir = test.path();
    // The progress display is on (a terminal): it must step aside.
    let Some(terminal) = login_on_terminal(dir, "", "") else {
        return;
    };
    terminal.send_keys("bob");
    terminal.send_keys("Enter");
    eventually("the build to end", || terminal.screen().contains("EXIT="));
    let screen = terminal.screen();
    assert!(screen.contains("EXIT=0"), "{screen}");
    let greeting = std::fs::read_to_string(dir.join("greeting")).unwrap();
    assert_eq!(greeting, "hello bob\n");
    // The log names the task and says where its output went.
    let log = std::fs::read_to_string(dir.join(".orchestra/logs/login.log")).unwrap();
    assert!(log.contains("went there, not here"), "{log}");
    let order = std::fs::read_to_string(dir.join("log")).unwrap();
    assert!(order.ends_with("deploy\n"), "{order}");
}

#[test]
fn ctrl_c_in_an_interactive_task_interrupts_the_build() {
    let test = project();
    let dir = test.path();
    // The shell traps Ctrl-C to live on and print orchestra's code.
    let Some(terminal) = login_on_terminal(dir, "trap 'echo INT' INT; ", "--progress never") else {
        return;
    };
    // The terminal's Ctrl-C reaches the task and orchestra together.
    terminal.send_keys("C-c");
    eventually("the build to end", || terminal.screen().contains("EXIT="));
    let screen = terminal.screen();
    assert!(screen.contains("EXIT=130"), "{screen}");
    assert!(!dir.join("greeting").exists());
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    assert!(!log.contains("deploy"), "{log}");
    drop(terminal);
    // Resumed, login asks again (here from a pipe) and deploy runs.
    let mut resumed = test
        .command_with(&["build", "--resume", "--progress", "never"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    resumed.stdin.take().unwrap().write_all(b"alice\n").unwrap();
    let resumed = resumed.wait_with_output().unwrap();
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let greeting = std::fs::read_to_string(dir.join("greeting")).unwrap();
    assert_eq!(greeting, "hello alice\n");
}

#[test]
fn without_a_terminal_an_interactive_task_reads_orchestras_stdin_and_others_do_not() {
    let ran = Test::new()
        .kdl(
            r#"project "p"
task "ask" { interactive #true; run "read answer; echo \"got $answer\" > answer" }
task "plain" { run "if read line; then echo \"read $line\"; else echo eof; fi > plain" }
"#,
        )
        .args(["build", "--progress", "never"])
        .stdin("yes\n")
        .status(0)
        .run();
    let read = |f: &str| std::fs::read_to_string(ran.dir.path().join(f)).unwrap();
    assert_eq!(read("answer"), "got yes\n");
    assert_eq!(read("plain"), "eof\n", "a plain task's stdin is /dev/null");
}

#[test]
fn interactive_is_a_boolean_shown_by_plan() {
    let test = Test::new().kdl(r#"project "p"; task "t" { interactive #true; run "true" }"#);
    let shown = orchestra(test.path(), &["plan", "--format", "json"]);
    let json = text(&shown.stdout);
    assert!(json.contains("\"interactive\": true"), "{json}");
    Test::new()
        .kdl(r#"project "p"; task "t" { interactive "yes"; run "true" }"#)
        .args(["check"])
        .status(2)
        .stderr_contains("interactive=#true")
        .run();
}
