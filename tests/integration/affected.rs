//! `--affected [BASE]` in a real git repository: exactly the changed
//! task and what depends on it, by input, by depfile-free definition, and
//! by the file `orchestra.kdl` itself.

use std::path::Path;
use std::process::Command;

use crate::support::{Test, orchestra, text, tool};

const KDL: &str = r#"task "a" { run "cat a.txt > a.out"; inputs "a.txt"; outputs "a.out"; }
task "b" { run "cat b.txt > b.out"; inputs "b.txt"; outputs "b.out"; }
task "c" { needs "a"; run "cat a.out > c.out"; outputs "c.out"; }
task "d" { needs "b"; run "true"; }
task "e" { needs "c" "d"; run "true"; }
"#;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

fn repository() -> Option<Test> {
    if !tool("git", "the --affected tests") {
        return None;
    }
    let test = Test::new()
        .kdl(KDL)
        .write("a.txt", "a\n")
        .write("b.txt", "b\n")
        .write(".gitignore", ".orchestra\n*.out\n");
    let dir = test.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(
        dir,
        &["-c", "user.email=t@t", "-c", "user.name=t", "add", "-A"],
    );
    git(
        dir,
        &[
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "one",
        ],
    );
    Some(test)
}

fn planned(dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let out = orchestra(dir, &all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["address"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_changed_input_selects_its_task_and_what_depends_on_it() {
    let Some(test) = repository() else { return };
    let dir = test.path();
    assert!(
        planned(dir, &["--affected", "HEAD"]).is_empty(),
        "nothing changed"
    );
    std::fs::write(dir.join("a.txt"), "A\n").unwrap();
    assert_eq!(planned(dir, &["--affected", "HEAD"]), ["a", "c", "e"]);
    // The default base: the merge base with `main`, here HEAD itself.
    assert_eq!(planned(dir, &["--affected"]), ["a", "c", "e"]);
    let out = orchestra(dir, &["build", "--affected", "--progress", "never"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("skipped b (--affected "), "{stderr}");
    assert!(dir.join("c.out").is_file() && !dir.join("b.out").exists());
    // A new file an input glob would name counts, untracked as it is.
    git(dir, &["checkout", "-q", "a.txt"]);
    std::fs::write(dir.join("b.txt"), "B\n").unwrap();
    assert_eq!(planned(dir, &["--affected", "HEAD"]), ["b", "d", "e"]);
}

#[test]
fn a_task_redefined_in_orchestra_kdl_is_affected() {
    let Some(test) = repository() else { return };
    let dir = test.path();
    let kdl = KDL.replace(
        "task \"d\" { needs \"b\"; run \"true\"; }",
        "task \"d\" { needs \"b\"; run \"echo d\"; }",
    );
    std::fs::write(dir.join("orchestra.kdl"), kdl).unwrap();
    assert_eq!(planned(dir, &["--affected", "HEAD"]), ["d", "e"]);
    let out = orchestra(dir, &["plan", "--affected", "no-such-ref"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--affected no-such-ref"),
        "{}",
        text(&out.stderr)
    );
}
