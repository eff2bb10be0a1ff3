//! `rule "name" { foreach "src/*.c"; … }`: one task per matched file, with
//! a real compiler. The set of files is part of the plan: a new file is a
//! new task on the next build (the plan cache notices), a deleted one goes.

use std::path::Path;

use crate::support::{Test, orchestra, text};

const KDL: &str = r#"project "c"
rule "cc" {
    foreach "src/*.c"
    run "mkdir -p build && cc -MMD -MF build/{stem}.d -c {in} -o {out}"
    outputs "build/{stem}.o"
    depfile "build/{stem}.d"
}
task "link" {
    needs "cc"
    inputs "build/*.o"
    run "cc -o app build/*.o"
    outputs "app"
}
"#;

fn project() -> Test {
    Test::new()
        .kdl(KDL)
        .write("src/util.h", "int twice(int);\n")
        .write(
            "src/main.c",
            "#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n",
        )
        .write("src/util.c", "#include \"util.h\"\nint twice(int x) { return 2 * x; }\n")
        .write("src/other.c", "int other(void) { return 1; }\n")
}

/// Builds and returns the tasks that started, sorted.
fn build(dir: &Path, extra: &[&str]) -> Vec<String> {
    crate::support::build_started(dir, extra).0
}

fn plan_addresses(dir: &Path) -> Vec<String> {
    crate::support::planned(dir, &[])
}

#[test]
fn one_task_per_file_with_its_variables_expanded() {
    let test = project();
    let dir = test.path();
    assert_eq!(
        plan_addresses(dir),
        ["cc/main", "cc/other", "cc/util", "link"]
    );
    let out = orchestra(dir, &["plan", "cc/util"]);
    let plan = text(&out.stdout);
    assert!(
        plan.contains("$ mkdir -p build && cc -MMD -MF build/util.d -c src/util.c -o build/util.o"),
        "{plan}"
    );
    assert_eq!(build(dir, &[]), ["cc/main", "cc/other", "cc/util", "link"]);
    let app = std::process::Command::new(dir.join("app"))
        .output()
        .unwrap();
    assert_eq!(text(&app.stdout), "42\n");
    // The file is an input of its task without being declared.
    std::fs::write(dir.join("src/other.c"), "int other(void) { return 2; }\n").unwrap();
    assert_eq!(build(dir, &[]), ["cc/other", "link"]);
    // A header reaches exactly the files that include it.
    std::fs::write(dir.join("src/util.h"), "int twice(int y);\n").unwrap();
    assert_eq!(build(dir, &[]), ["cc/main", "cc/util"]);
}

#[test]
fn a_file_task_is_addressed_on_its_own_and_a_near_miss_is_suggested() {
    let test = project();
    let dir = test.path();
    assert_eq!(build(dir, &["cc/util"]), ["cc/util"]);
    let out = orchestra(dir, &["build", "cc/utl"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("did you mean `cc/util`?"), "{stderr}");
}

#[test]
fn a_new_file_becomes_a_task_and_a_deleted_one_disappears() {
    let test = project();
    let dir = test.path();
    assert_eq!(build(dir, &[]).len(), 4);
    // The plan is cached now; the cache must see the new file.
    std::fs::write(dir.join("src/extra.c"), "int extra(void) { return 3; }\n").unwrap();
    assert_eq!(build(dir, &[]), ["cc/extra", "link"]);
    assert!(dir.join("build/extra.o").is_file());
    assert!(plan_addresses(dir).contains(&"cc/extra".to_owned()));
    std::fs::remove_file(dir.join("src/extra.c")).unwrap();
    std::fs::remove_file(dir.join("build/extra.o")).unwrap();
    assert!(!plan_addresses(dir).contains(&"cc/extra".to_owned()));
    // The first link had these very objects: the output cache would
    // restore it rather than link again.
    assert_eq!(
        build(dir, &["--cache", "off"]),
        ["link"],
        "the link lost an object"
    );
    assert!(build(dir, &[]).is_empty());
}

#[test]
fn a_rule_that_needs_a_generator_waits_for_it() {
    let test = Test::new()
        .kdl(
            r#"task "gen" {
                run "mkdir -p gen && echo '#define N 5' > gen/n.h"
                outputs "gen/n.h"
            }
            rule "cc" {
                foreach "src/*.c"
                needs "gen"
                run "mkdir -p build && cc -Igen -c {in} -o {out}"
                outputs "build/{stem}.o"
            }"#,
        )
        .write("src/a.c", "#include \"n.h\"\nint a(void) { return N; }\n");
    let out = orchestra(test.path(), &["plan", "cc/a"]);
    let plan = text(&out.stdout);
    assert!(plan.contains("after gen"), "{plan}");
    assert_eq!(build(test.path(), &[]), ["cc/a", "gen"]);
}

#[test]
fn mistakes_in_a_rule_point_at_their_span() {
    // `{out}` in `outputs` would be circular; `{stm}` is a typo.
    Test::new()
        .kdl(
            r#"rule "cc" {
    foreach "src/*.c"
    run "cc -c {in} -o {stm}.o"
    outputs "{out}.o"
}
"#,
        )
        .write("src/a.c", "")
        .args(["check"])
        .status(2)
        .stderr_contains("unknown template variable `{stm}`")
        .stderr_contains("did you mean `stem`?")
        .stderr_contains("unknown template variable `{out}`")
        .stderr_contains("orchestra.kdl:3:")
        .stderr_contains("orchestra.kdl:4:")
        .run();
    // A rule without files to go over.
    Test::new()
        .kdl("rule \"cc\" { run \"cc -c {in}\" }\n")
        .args(["check"])
        .status(2)
        .stderr_contains("`rule` needs a `foreach` child naming its files")
        .run();
    // Out of the project.
    Test::new()
        .kdl("rule \"cc\" {\n    foreach \"../*.c\"\n}\n")
        .args(["check"])
        .status(2)
        .stderr_contains("invalid `foreach`")
        .stderr_contains("orchestra.kdl:2:13")
        .run();
    // Two files that would be one task.
    Test::new()
        .kdl("rule \"cc\" {\n    foreach \"src/*\"\n}\n")
        .write("src/main.c", "")
        .write("src/main.h", "")
        .args(["check"])
        .status(2)
        .stderr_contains("two files would be the task `cc/main`: `src/main.c` and `src/main.h`")
        .run();
    // A pattern that matches nothing is a warning, and the rule has no tasks.
    Test::new()
        .kdl("rule \"cc\" {\n    foreach \"src/*.c\"\n    run \"cc -c {in}\"\n}\ntask \"t\" { needs \"cc\"; run \"true\" }\n")
        .args(["build", "--progress", "never"])
        .stderr_contains("`foreach \"src/*.c\"` of rule `cc` matches no file")
        .stderr_contains("start t")
        .run();
    // An unknown file task named in the file.
    Test::new()
        .kdl("rule \"cc\" {\n    foreach \"src/*.c\"\n}\ntask \"t\" { needs \"cc/mian\" }\n")
        .write("src/main.c", "")
        .args(["check"])
        .status(2)
        .stderr_contains("unknown file task `mian`")
        .stderr_contains("did you mean `main`?")
        .run();
}

#[test]
fn tasks_that_write_one_file_are_an_error_unless_one_waits_for_the_other() {
    let both = r#"task "a" { run "echo a > out.txt"; outputs "out.txt"; }
task "b" { run "echo b > out.txt"; outputs "out.txt"; }
"#;
    Test::new()
        .kdl(both)
        .args(["build", "--progress", "never"])
        .status(2)
        .stderr_contains("`a` and `b` both write `out.txt`, and neither waits for the other")
        .run();
    // A chain writing the same file in turn is fine.
    let chain = both.replace("task \"b\" {", "task \"b\" { needs \"a\";");
    Test::new()
        .kdl(&chain)
        .args(["build", "--progress", "never"])
        .status(0)
        .run();
}
