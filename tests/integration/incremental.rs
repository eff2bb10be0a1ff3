//! Make-like incrementality with real processes: what reruns after touching,
//! editing, adding and deleting files, changing commands or env, and what
//! `--force`, `--explain`, `why` and `clean` say and do.
//!
//! Which tasks ran is read from the plain output: a task that runs prints
//! `start ADDRESS`; an up-to-date one prints nothing (it is counted in the
//! summary).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::support::{Test, binary, orchestra, text};

/// `copy` concatenates `src/*.txt`; `upper` transforms `copy`'s output;
/// `side` is independent; `always` declares no inputs.
const KDL: &str = r#"
task "copy" {
    run "mkdir -p out && cat src/*.txt > out/all.txt"
    inputs "src/*.txt"
    outputs "out/all.txt"
    env MODE="{mode}"
}
task "upper" {
    run "tr a-z A-Z < out/all.txt > out/upper.txt"
    needs "copy"
    inputs "out/all.txt"
    outputs "out/upper.txt"
}
task "side" {
    run "mkdir -p out && cp side.txt out/side.txt"
    inputs "side.txt"
    outputs "out/side.txt"
}
"#;

struct Project {
    dir: tempfile::TempDir,
}

struct Build {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Build {
    fn started(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .stderr
            .lines()
            .filter_map(|l| l.split_once("] start ").map(|(_, name)| name))
            .collect();
        names.sort_unstable();
        names
    }

    /// The `--explain` blocks: each `why` line and its indented reasons.
    fn explanations(&self) -> String {
        let mut out = String::new();
        let mut inside = false;
        for line in self.stderr.lines() {
            inside = line.starts_with("why ") || (inside && line.starts_with("    "));
            if inside {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Project {
    fn new() -> Self {
        let project = Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        project.config("dev");
        project.write("src/a.txt", "alpha\n");
        project.write("src/b.txt", "beta\n");
        project.write("side.txt", "side\n");
        project
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    fn config(&self, mode: &str) {
        self.write("orchestra.kdl", &KDL.replace("{mode}", mode));
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn run(&self, args: &[&str]) -> Build {
        let output = Command::new(binary())
            // CI turns gate fixes off; tests set it when they mean it.
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run orchestra");
        Build {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn build(&self, extra: &[&str]) -> Build {
        let mut args = vec!["build", "--progress", "never", "-j", "2"];
        args.extend_from_slice(extra);
        let build = self.run(&args);
        assert_eq!(build.status, 0, "{}", build.stderr);
        build
    }

    /// A project whose one task, `copy`, has the gate `verify` made of
    /// `checks`.
    fn gated(checks: &str) -> Self {
        let project = Self::new();
        let kdl = format!(
            r#"
gate "verify" {{ {checks} }}
task "copy" {{
    run "mkdir -p out && cp side.txt out/side.txt"
    inputs "side.txt"
    outputs "out/side.txt"
    gate "verify"
}}
"#
        );
        project.write("orchestra.kdl", &kdl);
        project
    }

    /// A first, full build.
    fn built() -> Self {
        let project = Self::new();
        assert_eq!(project.build(&[]).started(), ["copy", "side", "upper"]);
        project
    }
}

#[test]
fn an_unchanged_project_runs_nothing_and_says_so() {
    let project = Project::built();
    let again = project.build(&[]);
    assert!(again.started().is_empty(), "{}", again.stderr);
    assert!(again.stderr.contains("(3 up to date)"), "{}", again.stderr);
    let listed = project.build(&["-v"]);
    assert!(
        listed.stderr.contains("up to date upper"),
        "{}",
        listed.stderr
    );
}

#[test]
fn touching_an_input_without_changing_it_reruns_nothing() {
    let project = Project::built();
    let file = std::fs::File::options()
        .write(true)
        .open(project.path("src/a.txt"))
        .unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    assert!(project.build(&[]).started().is_empty());
}

#[test]
fn one_changed_byte_reruns_the_task_and_its_dependents_only() {
    let project = Project::built();
    // Same size, same second: only the content tells.
    project.write("src/a.txt", "alphA\n");
    let build = project.build(&["--explain"]);
    assert_eq!(build.started(), ["copy", "upper"]);
    insta::assert_snapshot!("explain-one-byte", build.explanations());
}

#[test]
fn command_env_and_input_set_changes_are_explained() {
    let project = Project::built();
    project.config("release");
    project.write("src/c.txt", "gamma\n");
    std::fs::remove_file(project.path("src/b.txt")).unwrap();
    let why = project.run(&["why", "copy"]);
    assert_eq!(why.status, 0, "{}", why.stderr);
    insta::assert_snapshot!("why-env-and-inputs", why.stdout);
    let build = project.build(&["--explain"]);
    assert_eq!(build.started(), ["copy", "upper"]);
    assert!(
        project
            .run(&["why", "copy"])
            .stdout
            .contains("copy: up to date")
    );

    let changed = KDL
        .replace("{mode}", "release")
        .replace("cat src/*.txt", "cat src/*.txt src/*.txt");
    project.write("orchestra.kdl", &changed);
    let build = project.build(&["--explain"]);
    assert_eq!(build.started(), ["copy", "upper"]);
    insta::assert_snapshot!("explain-command-changed", build.explanations());
}

#[test]
fn a_deleted_output_reruns_only_its_task() {
    let project = Project::built();
    std::fs::remove_file(project.path("out/upper.txt")).unwrap();
    // Without the output cache, which would restore it (tests/integration/cache.rs).
    let build = project.build(&["--explain", "--cache", "off"]);
    assert_eq!(build.started(), ["upper"]);
    assert!(
        build.stderr.contains("output missing: out/upper.txt"),
        "{}",
        build.stderr
    );
}

#[test]
fn force_runs_everything() {
    let project = Project::built();
    let build = project.build(&["-B", "--explain"]);
    assert_eq!(build.started(), ["copy", "side", "upper"]);
    assert!(
        build.stderr.contains("forced (--force)"),
        "{}",
        build.stderr
    );
}

#[test]
fn why_an_unknown_address_is_a_usage_error_with_a_suggestion() {
    let project = Project::new();
    let why = project.run(&["why", "uper"]);
    assert_eq!(why.status, 2);
    assert!(
        why.stderr.contains("did you mean `upper`"),
        "{}",
        why.stderr
    );
    let first = project.run(&["why", "upper"]);
    assert!(
        first.stdout.contains("no previous successful run"),
        "{}",
        first.stdout
    );
}

#[test]
fn corrupt_caches_mean_a_rebuild_not_a_crash() {
    let project = Project::built();
    project.write(".orchestra/fingerprints", "ORCHFP\0\u{1}garbage");
    // The records since the last compaction, in the journals, too.
    let journals = project.dir.path().join(".orchestra/fingerprints.d");
    for journal in std::fs::read_dir(&journals).into_iter().flatten().flatten() {
        std::fs::write(journal.path(), "ORCHJR\0\u{3}garbage").unwrap();
    }
    project.write(".orchestra/plan-cache", "not a plan");
    // The output cache is not what this is about: without it, all rerun.
    assert_eq!(
        project.build(&["--cache", "off"]).started(),
        ["copy", "side", "upper"]
    );
    assert!(project.build(&[]).started().is_empty());
}

#[test]
fn an_output_that_was_not_produced_fails_the_task() {
    let project = Project::new();
    project.write(
        "orchestra.kdl",
        r#"task "liar" { run "true"; inputs "side.txt"; outputs "out/never.txt"; }"#,
    );
    let build = project.run(&["build", "--progress", "never"]);
    assert_eq!(build.status, 1);
    assert!(
        build
            .stderr
            .contains("did not produce its declared outputs: out/never.txt"),
        "{}",
        build.stderr
    );
    // A failure records nothing: it runs again.
    assert_eq!(project.run(&["build", "--progress", "never"]).status, 1);
}

#[test]
fn clean_removes_only_orchestras_files_and_keeps_held_locks() {
    let project = Project::built();
    project.write(".orchestra/locks/M1", "{}");
    let held = std::fs::File::open(project.path(".orchestra/locks/M1")).unwrap();
    held.lock().unwrap();
    let clean = project.run(&["clean"]);
    assert_eq!(clean.status, 0, "{}", clean.stderr);
    assert!(
        clean.stdout.contains("removed .orchestra/fingerprints"),
        "{}",
        clean.stdout
    );
    assert!(
        clean.stdout.contains("kept .orchestra/locks/M1"),
        "{}",
        clean.stdout
    );
    for user_file in ["out/all.txt", "out/upper.txt", "src/a.txt", "orchestra.kdl"] {
        assert!(project.path(user_file).exists(), "{user_file} removed");
    }
    assert!(!Path::new(&project.path(".orchestra/logs")).exists());
    drop(held);
    let clean = project.run(&["clean"]);
    assert!(
        clean.stdout.contains("removed .orchestra/locks/M1"),
        "{}",
        clean.stdout
    );
    assert!(!project.path(".orchestra").exists());
    // With nothing recorded, everything runs again.
    assert_eq!(project.build(&[]).started(), ["copy", "side", "upper"]);
}

#[test]
fn a_task_waiting_for_its_pool_is_explained_once() {
    let project = Project::new();
    project.write(
        "orchestra.kdl",
        r#"
pool "one" depth=1
task "a" { run "sleep 0.2"; inputs "side.txt"; pool "one"; }
task "b" { run "sleep 0.2"; inputs "side.txt"; pool "one"; }
"#,
    );
    let build = project.build(&["--explain"]);
    assert_eq!(build.stderr.matches("why ").count(), 2, "{}", build.stderr);
}

#[test]
fn a_dry_run_lists_tasks_whose_outputs_do_not_exist_yet() {
    let project = Project::new();
    let dry = project.run(&["build", "-n"]);
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("3 tasks would run"), "{}", dry.stdout);
    assert!(
        !project.path(".orchestra").exists(),
        "a dry run writes nothing"
    );
}

#[test]
fn a_gate_rechecks_only_when_what_it_guards_ran() {
    let project = Project::gated(r#"check "seen" "echo checked >> checks.log";"#);
    let checks = || {
        std::fs::read_to_string(project.path("checks.log"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    project.build(&[]);
    assert_eq!(checks(), 1);
    let again = project.build(&[]);
    assert_eq!(checks(), 1, "{}", again.stderr);
    assert!(again.stderr.contains("(2 up to date)"), "{}", again.stderr);
    project.write("side.txt", "changed\n");
    let changed = project.build(&["--explain"]);
    assert_eq!(checks(), 2, "{}", changed.stderr);
}

#[test]
fn an_owner_whose_gate_failed_is_not_up_to_date() {
    // With the output cache on (the default): what the gate rejected is
    // never restored in place of running the owner again.
    let project = Project::gated(r#"check "passes" "[ -f pass ]";"#);
    let failed = project.run(&["build", "--progress", "never"]);
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let why = project.run(&["why", "copy"]);
    assert!(
        why.stdout
            .contains("copy would run:\n    its gate `verify` failed in the last build"),
        "{}",
        why.stdout
    );
    project.write("pass", "");
    let again = project.build(&[]);
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert_eq!(
        again.started(),
        ["copy", "copy/verify"],
        "the owner reruns, then its gate"
    );
    assert!(project.build(&[]).started().is_empty());
}

#[test]
fn inputs_that_match_nothing_are_reported_before_anything_runs() {
    let project = Project::new();
    project.write(
        "orchestra.kdl",
        r#"
task "copy" { run "cp side.txt out.txt"; inputs "sied.txt"; outputs "out.txt" }
task "docs" { run "echo docs"; inputs "docs/*.md" }
"#,
    );
    let missing = project.run(&["build", "--progress", "never"]);
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("input `sied.txt` of `copy` does not exist, and no task produces it"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("did you mean `side.txt`?"));
    assert!(missing.started().is_empty(), "nothing ran");
    project.write(
        "orchestra.kdl",
        r#"
task "copy" { run "cp side.txt out.txt"; inputs "side.txt"; outputs "out.txt" }
task "docs" { run "echo docs"; inputs "docs/*.md" }
task "gen" { run "mkdir -p gen && echo x > gen/made.txt"; outputs "gen/made.txt" }
task "use" { needs "gen"; run "cat gen/made.txt"; inputs "gen/made.txt" }
"#,
    );
    let warned = project.build(&[]);
    assert!(
        warned
            .stderr
            .contains("⚠ input `docs/*.md` of `docs` matches no file"),
        "{}",
        warned.stderr
    );
    assert_eq!(warned.started(), ["copy", "docs", "gen", "use"]);
}

#[test]
fn a_dry_run_lists_what_would_run_and_counts_what_is_up_to_date() {
    let project = Project::built();
    project.write("side.txt", "changed\n");
    let dry = project.run(&["build", "-n"]);
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert_eq!(
        dry.stdout,
        "side\n    $ mkdir -p out && cp side.txt out/side.txt\n1 task would run, 2 up to date; nothing was run (dry run)\n",
    );
    let explained = project.run(&["build", "-n", "--explain"]);
    assert!(
        explained.stdout.contains("copy: up to date\n"),
        "{}",
        explained.stdout
    );
    assert!(
        explained
            .stdout
            .contains("why side:\n    input changed: side.txt\n"),
        "{}",
        explained.stdout
    );
}

#[test]
fn a_changed_input_is_journaled_not_a_rewritten_store() {
    use std::os::unix::fs::MetadataExt;
    let project = Project::built();
    let store = project.path(".orchestra/fingerprints");
    let identity = || {
        std::fs::metadata(&store)
            .ok()
            .map(|m| (m.ino(), m.mtime_nsec()))
    };
    let before = identity();
    project.write("src/a.txt", "changed\n");
    assert_eq!(project.build(&[]).started(), ["copy", "upper"]);
    assert_eq!(identity(), before, "the store is not rewritten");
    let journals = std::fs::read_dir(project.path(".orchestra/fingerprints.d"))
        .unwrap()
        .count();
    assert!(journals > 0, "the records are in a journal");
    // What the build learned is read back from the journal.
    assert!(project.build(&[]).started().is_empty());
    project.write("src/a.txt", "alpha\n");
    // Built before: the output cache would restore it.
    assert_eq!(
        project.build(&["--cache", "off"]).started(),
        ["copy", "upper"]
    );
}

/// Stats taken before the build serve only tasks downstream of nothing that
/// ran: here `gen` rewrites `gen.txt` in the second build without declaring
/// it (same size, an old mtime, so nothing looks racy), and `use` must see
/// the new content rather than the stat taken before `gen` ran.
#[test]
fn a_file_rewritten_by_a_task_that_ran_is_seen_by_what_needs_it() {
    let test = Test::new()
        .kdl(
            r#"project "p"
task "gen" { run "if [ -f flip ]; then date +%N > gen.txt; touch -d '-1 hour' gen.txt; fi" }
task "use" { needs "gen"; inputs "gen.txt"; run "cat gen.txt >> used.txt" }
"#,
        )
        .write("gen.txt", "000000000\n");
    let dir = test.path();
    let old = std::time::SystemTime::now() - std::time::Duration::from_hours(2);
    std::fs::File::options()
        .write(true)
        .open(dir.join("gen.txt"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let build = |lines: usize| build_counting_used(dir, lines);
    build(1);
    std::fs::write(dir.join("flip"), "").unwrap();
    build(2);
}

/// A glob is expanded before the build (by the check for inputs that match
/// nothing); a task downstream of one that ran must see the files as they
/// are when it starts, not that early list.
#[test]
fn a_glob_sees_the_files_written_by_a_task_that_ran() {
    let test = Test::new().kdl(
        r#"project "p"
task "gen" { run "mkdir -p out && echo a > out/a.txt && if [ -f flip ]; then echo b > out/b.txt; fi" }
task "use" { needs "gen"; inputs "out/*.txt"; run "cat out/*.txt >> used.txt" }
"#,
    );
    let dir = test.path();
    let build = |lines: usize| build_counting_used(dir, lines);
    build(1);
    build(1);
    std::fs::write(dir.join("flip"), "").unwrap();
    build(3);
}

/// Builds `dir` and checks that `used.txt` then has `lines` lines (`use`
/// appends to it each time it runs).
fn build_counting_used(dir: &Path, lines: usize) {
    let build = orchestra(dir, &["build", "--progress", "never"]);
    assert!(build.status.success(), "{}", text(&build.stderr));
    let used = std::fs::read_to_string(dir.join("used.txt")).unwrap();
    assert_eq!(used.lines().count(), lines, "`use` ran: {lines} lines");
}

/// Journals are merged into the store once they grow past a quarter of it
/// (and 64 KiB): a first build of 600 tasks compacts at once, a later
/// build that changes one input leaves its journal for later loads.
#[test]
fn journals_are_compacted_once_they_have_grown() {
    let mut kdl = String::from("project \"p\"\n");
    let test = {
        let mut test = Test::new();
        for i in 0..600 {
            let _ = writeln!(
                kdl,
                "task \"t{i}\" {{ run \"cp in/{i}.txt out/{i}.txt\"; inputs \"in/{i}.txt\"; outputs \"out/{i}.txt\" }}"
            );
            test = test.write(&format!("in/{i}.txt"), format!("{i}\n"));
        }
        test.kdl(&kdl)
    };
    let dir = test.path();
    let journals =
        || std::fs::read_dir(dir.join(".orchestra/fingerprints.d")).map_or(0, Iterator::count);
    let build = || {
        let build = orchestra(dir, &["build", "--progress", "never"]);
        assert!(build.status.success(), "{}", text(&build.stderr));
        text(&build.stderr)
    };
    build();
    assert!(dir.join(".orchestra/fingerprints").exists(), "compacted");
    assert_eq!(journals(), 0, "merged into the store");
    std::fs::write(dir.join("in/7.txt"), "changed\n").unwrap();
    build();
    assert_eq!(journals(), 1, "one small journal stays");
    assert!(build().contains("(600 up to date)"));
}
