//! `dotenv` files through the real binary: precedence (dotenv < process
//! env < project env < task env), a changed file reruns what reads it,
//! a secret set in one is masked, and a bad line is an error at its number.

use std::process::Command;

use crate::support::{Test, binary, text};

const PROJECT: &str = r#"project {
    dotenv ".env"
    env FROM_PROJECT="project"
}
task "show" {
    dotenv ".env.task"
    env FROM_TASK="task"
    inputs "in.txt"
    outputs "out.txt"
    run "echo $ONLY_PROCESS $ONLY_DOTENV $FROM_PROJECT $FROM_TASK $LATER > out.txt"
}
"#;

fn project() -> Test {
    Test::new()
        .kdl(PROJECT)
        .write("in.txt", "x\n")
        .write(
            ".env",
            "# every layer sets something\nONLY_DOTENV=dotenv\nONLY_PROCESS=dotenv\nFROM_PROJECT=dotenv\nFROM_TASK=dotenv\nLATER=first\n",
        )
        .write(".env.task", "LATER=second\n")
}

fn build(dir: &std::path::Path) -> std::process::Output {
    Command::new(binary())
        .args(["build", "--progress", "never", "--cache", "off"])
        .current_dir(dir)
        .env_remove("CI")
        .env("ONLY_PROCESS", "process")
        .env("FROM_PROJECT", "process")
        .output()
        .unwrap()
}

#[test]
fn each_layer_overrides_the_one_below_it() {
    let test = project();
    let dir = test.path();
    let out = build(dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The process keeps what it set (a committed `.env` gives defaults);
    // the project's env is over both; the task's over everything; a later
    // dotenv file over an earlier one.
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "process dotenv project task second\n"
    );
}

#[test]
fn a_changed_dotenv_file_reruns_the_tasks_that_read_it() {
    let test = project();
    let dir = test.path();
    build(dir);
    assert!(text(&build(dir).stderr).contains("1 up to date"));
    std::fs::write(dir.join(".env.task"), "LATER=third\n").unwrap();
    let again = build(dir);
    assert!(
        text(&again.stderr).contains("ok show"),
        "{}",
        text(&again.stderr)
    );
    assert!(
        std::fs::read_to_string(dir.join("out.txt"))
            .unwrap()
            .ends_with("third\n")
    );
}

#[test]
fn a_secret_set_in_a_dotenv_file_is_masked() {
    Test::new()
        .kdl("project {\n    dotenv \".env\"\n    secret \"TOKEN\"\n}\ntask \"leak\" {\n    run \"echo token=$TOKEN\"\n}\n")
        .write(".env", "TOKEN=s3cr3t-from-dotenv\n")
        .args(["build", "--progress", "never"])
        .stderr_contains("token=****")
        .stderr_lacks("s3cr3t-from-dotenv")
        .run();
}

#[test]
fn under_github_actions_a_secret_from_a_dotenv_file_is_registered_as_a_mask() {
    Test::new()
        .kdl("project {\n    dotenv \".env\"\n    secret \"TOKEN\"\n}\ntask \"t\" {\n    run \"true\"\n}\n")
        .write(".env", "TOKEN=s3cr3t-from-dotenv\n")
        .args(["--ci-format", "github", "build", "--progress", "never"])
        .stderr_contains("::add-mask::s3cr3t-from-dotenv")
        .run();
}

#[test]
fn a_missing_file_warns_and_a_bad_line_is_an_error_at_its_number() {
    Test::new()
        .kdl("project {\n    dotenv \".env\"\n}\ntask \"t\" {\n    run \"true\"\n}\n")
        .args(["build", "--progress", "never"])
        .stderr_contains("warning: dotenv file `.env` does not exist")
        .run();
    Test::new()
        .kdl("project {\n    dotenv \".env\"\n}\ntask \"t\" {\n    run \"true\"\n}\n")
        .write(".env", "A=1\nnot a variable\n")
        .args(["build", "--progress", "never"])
        .status(2)
        .stderr_contains("`.env` line 2: expected `NAME=value`")
        .run();
}
