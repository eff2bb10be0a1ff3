//! `orchestra build TASK -- ARGS…`: the arguments reach the one task named
//! as `{args}`, shell-quoted in a shell line and one word each in exec
//! form, and they are part of its fingerprint.

use crate::support::Test;

const PROJECT: &str = r#"task "shell" {
    inputs "in.txt"
    outputs "out.txt"
    run "printf '[%s]' {args} > out.txt"
}
task "exec" {
    run "printf" "<%s>" "{args}"
}
task "other" {
    run "printf 'other:{args}:'"
}
milestone "M" {
    phase "a" { run "true" }
}
"#;

fn project() -> Test {
    Test::new().kdl(PROJECT).write("in.txt", "x\n")
}

#[test]
fn arguments_reach_the_task_named_quoted_for_its_form() {
    let test = project();
    let dir = test.path().to_path_buf();
    let build = |args: &[&str]| {
        let mut all = vec!["build", "--progress", "never", "-v"];
        all.extend_from_slice(args);
        let out = crate::support::orchestra(&dir, &all);
        assert!(
            out.status.success(),
            "{}",
            crate::support::text(&out.stderr)
        );
        crate::support::text(&out.stderr)
    };
    build(&["shell", "--", "-k", "two words", "it's", "$HOME"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "[-k][two words][it's][$HOME]",
        "each argument one shell word, nothing expanded"
    );
    let exec = build(&["exec", "--", "a", "b c"]);
    assert!(exec.contains("<a><b c>"), "{exec}");
    // Only the task named gets them.
    let other = build(&["other"]);
    assert!(other.contains("other::"), "{other}");
}

#[test]
fn arguments_are_part_of_the_fingerprint() {
    let test = project();
    let dir = test.path().to_path_buf();
    let run = |args: &[&str]| {
        let mut all = vec![
            "build",
            "--progress",
            "never",
            "--cache",
            "off",
            "shell",
            "--",
        ];
        all.extend_from_slice(args);
        crate::support::text(&crate::support::orchestra(&dir, &all).stderr)
    };
    run(&["a"]);
    assert!(run(&["a"]).contains("1 up to date"));
    let changed = run(&["b"]);
    assert!(changed.contains("ok shell"), "{changed}");
    assert_eq!(std::fs::read_to_string(dir.join("out.txt")).unwrap(), "[b]");
}

#[test]
fn arguments_need_one_task_to_go_to() {
    project()
        .args(["build", "--", "x"])
        .status(2)
        .stderr_contains("arguments after `--` go to one task, and none is named")
        .run();
    project()
        .args(["build", "shell", "exec", "--", "x"])
        .status(2)
        .stderr_contains("2 are named")
        .run();
    project()
        .kdl(&format!(
            "{PROJECT}target \"ci\" {{\n    needs \"shell\"\n}}\n"
        ))
        .args(["build", "ci", "--", "x"])
        .status(2)
        .stderr_contains("`ci` runs no commands")
        .run();
    project()
        .args(["build", "M", "--", "x"])
        .status(2)
        .stderr_contains("`M` is not one task")
        .stderr_contains("such as `M/a`")
        .run();
}

#[test]
fn arguments_to_a_task_that_does_not_use_them_are_refused_not_dropped() {
    project()
        .kdl(&format!("{PROJECT}task \"plain\" {{ run \"true\" }}\n"))
        .args(["build", "plain", "--", "--flag"])
        .status(2)
        .stderr_contains("`plain` does not use `{args}`")
        .run();
    // A gate whose check takes them is reached.
    project()
        .kdl(&format!(
            "{PROJECT}gate \"g\" {{\n    check \"c\" \"test {{args}} = yes\"\n}}\n"
        ))
        .args(["build", "g", "--", "yes"])
        .run();
}
