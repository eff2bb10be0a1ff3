//! Discovered dependencies with a real compiler: `depfile` names the file
//! `cc -MMD -MF` writes, and the headers it lists decide, with the declared
//! inputs, whether a compile is up to date.

use std::path::Path;

use crate::support::build_started as build;
use crate::support::{Test, text};

/// Three objects and a link; `main.c` and `util.c` include `util.h`,
/// `other.c` includes nothing (yet).
const KDL: &str = r#"project "c"
task "main" {
    run "mkdir -p build && cc -MMD -MF build/main.d -c src/main.c -o build/main.o"
    inputs "src/main.c"
    outputs "build/main.o"
    depfile "build/main.d"
}
task "util" {
    run "mkdir -p build && cc -MMD -MF build/util.d -c src/util.c -o build/util.o"
    inputs "src/util.c"
    outputs "build/util.o"
    depfile "build/util.d"
}
task "other" {
    run "mkdir -p build && cc -MMD -MF build/other.d -c src/other.c -o build/other.o"
    inputs "src/other.c"
    outputs "build/other.o"
    depfile "build/other.d"
}
task "link" {
    needs "main" "util" "other"
    inputs "build/main.o" "build/util.o" "build/other.o"
    run "cc -o app build/main.o build/util.o build/other.o"
    outputs "app"
}
"#;

fn project() -> Test {
    Test::new()
        .kdl(KDL)
        .write("src/util.h", "#define GREETING \"hi\"\nint twice(int);\n")
        .write(
            "src/main.c",
            "#include <stdio.h>\n#include \"util.h\"\nint other(void);\nint main(void) { printf(\"%s %d\\n\", GREETING, twice(other())); return 0; }\n",
        )
        .write("src/util.c", "#include \"util.h\"\nint twice(int x) { return 2 * x; }\n")
        .write("src/other.c", "int other(void) { return 21; }\n")
}

fn edit(dir: &Path, rel: &str, text: &str) {
    std::fs::write(dir.join(rel), text).unwrap();
}

#[test]
fn editing_a_header_rebuilds_exactly_what_includes_it_and_the_link() {
    let test = project();
    let dir = test.path();
    assert_eq!(build(dir, &[]).0, ["link", "main", "other", "util"]);
    // What the depfiles named is kept in `.orchestra/`: they may go.
    for name in ["main", "util", "other"] {
        std::fs::remove_file(dir.join(format!("build/{name}.d"))).unwrap();
    }
    assert!(build(dir, &[]).0.is_empty(), "a second build is a no-op");
    edit(
        dir,
        "src/util.h",
        "#define GREETING \"hello\"\nint twice(int);\n",
    );
    let (started, stderr) = build(dir, &["--explain"]);
    assert_eq!(started, ["link", "main", "util"], "{stderr}");
    assert!(
        stderr.contains("discovered input changed: src/util.h"),
        "{stderr}"
    );
    let run = std::process::Command::new(dir.join("app"))
        .output()
        .unwrap();
    assert_eq!(text(&run.stdout), "hello 42\n");
    assert!(build(dir, &[]).0.is_empty());
}

#[test]
fn a_new_include_is_picked_up() {
    let test = project();
    let dir = test.path();
    build(dir, &[]);
    edit(dir, "src/other.h", "#define ANSWER 21\n");
    assert!(build(dir, &[]).0.is_empty(), "nothing includes it yet");
    edit(
        dir,
        "src/other.c",
        "#include \"other.h\"\nint other(void) { return ANSWER; }\n",
    );
    // Same value, same object: the link is cut off.
    assert_eq!(build(dir, &[]).0, ["other"]);
    edit(dir, "src/other.h", "#define ANSWER 5\n");
    assert_eq!(build(dir, &[]).0, ["link", "other"]);
    let run = std::process::Command::new(dir.join("app"))
        .output()
        .unwrap();
    assert_eq!(text(&run.stdout), "hi 10\n");
}

#[test]
fn a_garbled_or_missing_depfile_is_a_warning_and_a_rerun() {
    let test = Test::new()
        .kdl(
            r#"project "p"
task "garbled" {
    run "echo not a rule > garbled.d && cp in.txt garbled.out"
    inputs "in.txt"
    outputs "garbled.out"
    depfile "garbled.d"
}
task "missing" {
    run "cp in.txt missing.out"
    inputs "in.txt"
    outputs "missing.out"
    depfile "missing.d"
}
"#,
        )
        .write("in.txt", "x\n");
    let dir = test.path();
    for _ in 0..2 {
        let (started, stderr) = build(dir, &[]);
        assert_eq!(started, ["garbled", "missing"], "{stderr}");
        assert!(
            stderr.contains(
                "warning: the depfile `garbled.d` of `garbled` line 1 is not a `target: files` rule; it runs again next time"
            ),
            "{stderr}"
        );
        assert!(
            stderr.contains("warning: the depfile `missing.d` of `missing` cannot be read"),
            "{stderr}"
        );
    }
}

/// A file the depfile names that changed after the task was checked may
/// have been read before the change: the task is not trusted with it.
#[test]
fn a_discovered_file_changed_while_the_task_ran_makes_it_run_again() {
    let test = Test::new()
        .kdl(
            r#"project "p"
task "read" {
    run "printf 'out: dep.txt\n' > out.d && cat dep.txt > out && echo more >> dep.txt"
    inputs "in.txt"
    outputs "out"
    depfile "out.d"
}
"#,
        )
        .write("in.txt", "x\n")
        .write("dep.txt", "first\n");
    let dir = test.path();
    assert_eq!(build(dir, &[]).0, ["read"]);
    let (started, stderr) = build(dir, &["--explain"]);
    assert_eq!(started, ["read"], "{stderr}");
    assert!(
        stderr.contains("discovered input changed: dep.txt"),
        "{stderr}"
    );
}

/// Early cutoff: a task whose needs ran but produced the same bytes as
/// before is up to date.
#[test]
fn a_comment_that_leaves_the_object_identical_does_not_relink() {
    let test = project();
    let dir = test.path();
    build(dir, &[]);
    edit(
        dir,
        "src/util.c",
        "/* a comment */\n#include \"util.h\"\nint twice(int x) { return 2 * x; }\n",
    );
    let (started, stderr) = build(dir, &["--explain"]);
    assert_eq!(started, ["util"], "{stderr}");
    assert!(
        stderr.contains("up to date: upstream `util` reran but its outputs are unchanged"),
        "{stderr}"
    );
}

#[test]
fn a_generator_that_rewrites_the_same_content_does_not_rerun_its_dependants() {
    let test = Test::new()
        .kdl(
            r#"project "p"
task "gen" { inputs "spec.txt"; run "head -n 1 spec.txt > gen.txt"; outputs "gen.txt" }
task "use" { needs "gen"; inputs "gen.txt"; run "cat gen.txt >> used.txt"; outputs "used.txt" }
task "note" { inputs "spec.txt"; run "head -n 1 spec.txt > note.txt" }
task "after-note" { needs "note"; inputs "note.txt"; run "cat note.txt >> noted.txt" }
"#,
        )
        .write("spec.txt", "first line\nsecond line\n")
        .write("note.txt", "");
    let dir = test.path();
    assert_eq!(build(dir, &[]).0, ["after-note", "gen", "note", "use"]);
    // Only the second line changes: `gen` writes the same `gen.txt`.
    edit(dir, "spec.txt", "first line\nanother second line\n");
    let (started, stderr) = build(dir, &[]);
    // `note` declares no outputs: what needs it runs whenever it does.
    assert_eq!(started, ["after-note", "gen", "note"], "{stderr}");
    assert!(build(dir, &[]).0.is_empty());
    // A real change still reaches `use`.
    edit(dir, "spec.txt", "new first line\n");
    assert_eq!(build(dir, &[]).0, ["after-note", "gen", "note", "use"]);
}
