//! `--affected [BASE]` in a real git repository: exactly the changed
//! task and what depends on it, by input, by depfile-free definition, and
//! by the file `orchestra.kdl` itself.

use crate::support::{Test, git, orchestra, planned, text, tool};

const KDL: &str = r#"task "a" { run "cat a.txt > a.out"; inputs "a.txt"; outputs "a.out"; }
task "b" { run "cat b.txt > b.out"; inputs "b.txt"; outputs "b.out"; }
task "c" { needs "a"; run "cat a.out > c.out"; inputs "a.out"; outputs "c.out"; }
task "d" { needs "b"; run "cat b.out > d.out"; inputs "b.out"; outputs "d.out"; }
task "f" { run "cat f.txt > f.out"; inputs "f.txt"; outputs "f.out"; }
task "g" { needs "f"; run "cat f.out > g.out"; inputs "f.out"; outputs "g.out"; }
task "probe" { needs "d"; run "true"; }
"#;

fn repository() -> Option<Test> {
    if !tool("git", "the --affected tests") {
        return None;
    }
    let test = Test::new()
        .kdl(KDL)
        .write("a.txt", "a\n")
        .write("b.txt", "b\n")
        .write("f.txt", "f\n")
        .write(".gitignore", ".orchestra\n*.out\n");
    let dir = test.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "one"]);
    Some(test)
}

#[test]
fn a_changed_input_selects_its_task_what_depends_on_it_and_what_that_needs() {
    let Some(test) = repository() else { return };
    let dir = test.path();
    // `probe` reads nothing it declares: it cannot be judged, so it runs,
    // with what it needs.
    assert_eq!(planned(dir, &["--affected", "HEAD"]), ["b", "d", "probe"]);
    std::fs::write(dir.join("a.txt"), "A\n").unwrap();
    assert_eq!(
        planned(dir, &["--affected", "HEAD"]),
        ["a", "b", "c", "d", "probe"]
    );
    // The default base: the merge base with `main`, here HEAD itself.
    assert_eq!(planned(dir, &["--affected"]), ["a", "b", "c", "d", "probe"]);
    // On a fresh checkout what an affected task needs is built too.
    let out = orchestra(dir, &["build", "--affected", "--progress", "never"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("skipped f (--affected "), "{stderr}");
    assert!(dir.join("c.out").is_file() && !dir.join("g.out").exists());
    // A new untracked file an input names counts; a rename is a deletion
    // and an addition.
    git(dir, &["checkout", "-q", "a.txt"]);
    std::fs::remove_file(dir.join("f.txt")).unwrap();
    std::fs::write(dir.join("f.txt.new"), "f\n").unwrap();
    assert_eq!(
        planned(dir, &["--affected", "HEAD"]),
        ["b", "d", "f", "g", "probe"]
    );
}

#[test]
fn a_task_redefined_in_orchestra_kdl_is_affected() {
    let Some(test) = repository() else { return };
    let dir = test.path();
    let kdl = KDL.replace("cat f.out > g.out", "cat f.out f.out > g.out");
    std::fs::write(dir.join("orchestra.kdl"), kdl).unwrap();
    assert_eq!(
        planned(dir, &["--affected", "HEAD"]),
        ["b", "d", "f", "g", "probe"]
    );
    let out = orchestra(dir, &["plan", "--affected", "no-such-ref"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--affected no-such-ref"),
        "{}",
        text(&out.stderr)
    );
}

/// Six independent chains of two tasks, and one lone task.
fn chains() -> String {
    use std::fmt::Write;
    let mut kdl = String::new();
    for c in 0..6 {
        let _ = writeln!(
            kdl,
            "task \"gen{c}\" {{ run \"true\"; }}\ntask \"test{c}\" {{ needs \"gen{c}\"; run \"true\"; }}"
        );
    }
    kdl.push_str("task \"lone\" { run \"true\"; }\n");
    kdl
}

#[test]
fn shards_partition_the_selection_and_keep_chains_whole() {
    let test = Test::new().kdl(&chains());
    let dir = test.path();
    let all = planned(dir, &[]);
    assert_eq!(all.len(), 13);
    for n in 1..=5 {
        let mut union: Vec<String> = Vec::new();
        for i in 1..=n {
            let shard = planned(dir, &["--shard", &format!("{i}/{n}")]);
            for c in 0..6 {
                let (g, t) = (format!("gen{c}"), format!("test{c}"));
                assert_eq!(
                    shard.contains(&g),
                    shard.contains(&t),
                    "a chain split in {i}/{n}"
                );
            }
            // Equal counts without history: no shard is more than one chain
            // heavier than another.
            assert!(shard.len() <= 13 / n + 2, "{i}/{n}: {shard:?}");
            union.extend(shard);
        }
        let mut sorted = union.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), union.len(), "a task in two shards of {n}");
        let mut whole = all.clone();
        whole.sort();
        assert_eq!(sorted, whole, "every task in one shard of {n}");
    }
    // Balanced by durations on one machine and handed over as a token,
    // the split partitions the selection the same way in every job.
    for _ in 0..2 {
        orchestra(dir, &["build", "--progress", "never"]);
    }
    for n in 1..=5 {
        let out = orchestra(
            dir,
            &[
                "plan",
                "--format",
                "github-matrix",
                "--shards",
                &n.to_string(),
            ],
        );
        let matrix: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let token = matrix["include"][0]["split"].as_str().unwrap().to_owned();
        let mut union: Vec<String> = Vec::new();
        for i in 1..=n {
            let shard = planned(dir, &["--shard", &format!("{i}/{n}"), "--split", &token]);
            assert_eq!(
                matrix["include"][i - 1]["tasks"].as_u64().unwrap(),
                u64::try_from(shard.len()).unwrap()
            );
            union.extend(shard);
        }
        union.sort();
        let mut whole = all.clone();
        whole.sort();
        assert_eq!(
            union, whole,
            "the token's {n} shards partition the selection"
        );
    }
    let out = orchestra(dir, &["plan", "--shard", "1/2", "--split", "3:0000000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the split is for 3 shards, not 2"));
    let out = orchestra(dir, &["plan", "--format", "github-matrix", "--shards", "3"]);
    let matrix: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shards: Vec<&str> = matrix["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["shard"].as_str().unwrap())
        .collect();
    assert_eq!(shards, ["1/3", "2/3", "3/3"]);
    let out = orchestra(dir, &["plan", "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_build_names_a_few_left_out_tasks_and_counts_the_rest() {
    use std::fmt::Write;
    let mut kdl = String::new();
    for i in 0..30 {
        let _ = writeln!(kdl, "task \"t{i}\" {{ run \"true\"; }}");
    }
    let test = Test::new().kdl(&kdl);
    let out = orchestra(
        test.path(),
        &["build", "--shard", "1/2", "--progress", "never"],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches(" (--shard 1/2)").count(), 10, "{stderr}");
    assert!(stderr.contains("… and 5 more left out"), "{stderr}");
    assert!(stderr.contains("built 15 tasks"), "{stderr}");
}
