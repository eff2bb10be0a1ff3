//! `orchestra init` through the real binary: a starter that `check`
//! accepts and `build` runs, chosen from the directory or a blueprint, and
//! never replacing a file unasked or writing through a link.

use crate::support::{Test, orchestra, text, tool};

#[test]
fn init_in_a_cargo_project_writes_a_file_that_builds_it() {
    if !tool("cargo", "the init test") {
        return;
    }
    let test = Test::new()
        .write(
            "Cargo.toml",
            "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
        )
        .write("src/main.rs", "fn main() {\n    println!(\"hello\");\n}\n")
        .write("Cargo.lock", "version = 4\n\n[[package]]\nname = \"hello\"\nversion = \"0.1.0\"\n");
    let dir = test.path();
    let init = orchestra(dir, &["init"]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    assert!(
        text(&init.stdout).contains("`rust` blueprint"),
        "{}",
        text(&init.stdout)
    );
    let check = orchestra(dir, &["check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let build = orchestra(dir, &["build", "ci", "--progress", "never"]);
    let stderr = text(&build.stderr);
    assert!(build.status.success(), "{stderr}");
    assert!(
        stderr.contains("ok build") && stderr.contains("ok verify"),
        "{stderr}"
    );
    assert!(dir.join("target/debug/hello").exists(), "cargo built it");
}

#[test]
fn init_never_replaces_a_file_unasked_nor_writes_through_a_link() {
    let test = Test::new().kdl("task \"mine\" { run \"true\" }\n");
    let dir = test.path();
    let again = orchestra(dir, &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    assert!(
        std::fs::read_to_string(dir.join("orchestra.kdl"))
            .unwrap()
            .contains("mine")
    );
    let forced = orchestra(dir, &["init", "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert!(
        !std::fs::read_to_string(dir.join("orchestra.kdl"))
            .unwrap()
            .contains("mine")
    );

    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim.kdl");
    std::fs::write(&target, "keep").unwrap();
    std::fs::remove_file(dir.join("orchestra.kdl")).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("orchestra.kdl")).unwrap();
    let linked = orchestra(dir, &["init", "--force"]);
    assert_eq!(linked.status.code(), Some(2), "{}", text(&linked.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
}

#[test]
fn blueprints_are_listed_chosen_by_name_and_checked() {
    let listed = Test::new().args(["init", "--list"]).run();
    for name in ["rust", "node", "python", "make", "saas-starter", "starter"] {
        assert!(listed.stdout.contains(name), "{name}:\n{}", listed.stdout);
    }
    let test = Test::new();
    let dir = test.path();
    let init = orchestra(dir, &["init", "--blueprint", "saas-starter"]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    let list = orchestra(dir, &["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        list["milestones"].as_array().map(Vec::len),
        Some(5),
        "{list}"
    );
    // A phase is done only when its deliverable exists.
    let build = orchestra(dir, &["build", "M1-foundation", "--progress", "never"]);
    assert_eq!(build.status.code(), Some(1), "{}", text(&build.stderr));
    Test::new()
        .args(["init", "--blueprint", "saas-starer"])
        .status(2)
        .stderr_contains("did you mean `saas-starter`?")
        .run();
}

#[test]
fn an_npm_project_gets_a_task_per_script() {
    let test = Test::new().write(
        "package.json",
        r#"{"name": "web", "scripts": {"lint": "true", "test": "true", "build": "true"}}"#,
    );
    let dir = test.path();
    assert!(orchestra(dir, &["init"]).status.success());
    let planned = crate::support::planned(dir, &["ci"]);
    assert_eq!(planned, ["build", "lint", "test", "ci"]);
}

#[test]
fn init_writes_the_file_named_by_dash_f_readable_by_all() {
    use std::os::unix::fs::PermissionsExt;
    let test = Test::new();
    let dir = test.path();
    std::fs::create_dir(dir.join("ci")).unwrap();
    let out = orchestra(dir, &["-f", "ci/jobs.kdl", "init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("wrote ci/jobs.kdl from"),
        "{}",
        text(&out.stdout)
    );
    assert!(!dir.join("orchestra.kdl").exists());
    let mode = std::fs::metadata(dir.join("ci/jobs.kdl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    let check = orchestra(dir, &["-f", "ci/jobs.kdl", "check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let again = orchestra(dir, &["-f", "ci/jobs.kdl", "init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("`ci/jobs.kdl` exists"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn a_broken_package_json_is_said_not_silently_ignored() {
    Test::new()
        .write("package.json", "{\"scripts\": ")
        .args(["init"])
        .stderr_contains("warning: package.json is not valid JSON")
        .stdout_contains("from the `node` blueprint")
        .run();
}
