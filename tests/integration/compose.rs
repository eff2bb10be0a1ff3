//! A project put together from several files (`include`) and from
//! templates (`template` / `use`), and `phase-gate`: what comes out is the
//! plan one would have written by hand, and every mistake is shown in the
//! file and on the line where it is written.

use crate::support::{Test, orchestra, planned, text};

const CRUD: &str = r#"project "shop"

template "crud" {
    param "resource"
    param "fields" default="id"
    task "{resource}-schema" {
        run "echo schema {resource} {fields} > {resource}.schema"
    }
    task "{resource}-api" {
        needs "{resource}-schema"
        run "echo api {resource} in {project}"
    }
}

use "crud" resource="product" fields="id price"
use "crud" resource="order"
"#;

#[test]
fn a_template_used_twice_gives_each_use_its_own_tasks() {
    let test = Test::new().kdl(CRUD);
    assert_eq!(
        planned(test.path(), &[]),
        ["product-schema", "product-api", "order-schema", "order-api"]
    );
    let ran = Test::new()
        .kdl(CRUD)
        .args(["build", "order-api", "-v", "--progress", "never"])
        .stderr_contains("api order in shop")
        .stderr_lacks("product")
        .run();
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("order.schema")).unwrap(),
        "schema order id\n"
    );
    let ran = Test::new()
        .kdl(CRUD)
        .args(["build", "product-schema"])
        .run();
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("product.schema")).unwrap(),
        "schema product id price\n"
    );
}

#[test]
fn a_mistake_inside_a_template_is_shown_at_the_template_and_at_each_use() {
    let kdl = CRUD.replace(
        "run \"echo api {resource} in {project}\"",
        "run \"echo {oops}\"",
    );
    Test::new()
        .kdl(&kdl)
        .args(["check"])
        .status(2)
        .stderr_contains("unknown template variable `{oops}`")
        // The template's line…
        .stderr_contains("╭─[orchestra.kdl:11:")
        .stderr_contains("run \"echo {oops}\"")
        // …and each use, labelled.
        .stderr_contains("╭─[orchestra.kdl:15:1]")
        .stderr_contains("╭─[orchestra.kdl:16:1]")
        .stderr_contains("in this use of template `crud`")
        .stderr_contains("the configuration has 2 errors")
        .run();
}

#[test]
fn two_uses_that_make_the_same_name_collide_at_both_uses() {
    let kdl = format!("{CRUD}use \"crud\" resource=\"order\"\n");
    Test::new()
        .kdl(&kdl)
        .args(["check"])
        .status(2)
        .stderr_contains("duplicate task `order-schema`")
        .stderr_contains("╭─[orchestra.kdl:16:1]")
        .stderr_contains(" 17 │ use \"crud\" resource=\"order\"")
        .stderr_contains("in this use of template `crud`")
        .stderr_contains("declared again here")
        .run();
}

#[test]
fn uses_that_do_not_fit_their_template_are_explained() {
    let kdl = CRUD
        .replace(
            "use \"crud\" resource=\"order\"",
            "use \"crud\" resorce=\"order\"",
        )
        .replace(
            "use \"crud\" resource=\"product\"",
            "use \"crdu\" resource=\"product\"",
        );
    Test::new()
        .kdl(&kdl)
        .args(["check"])
        .status(2)
        .stderr_contains("unknown template `crdu`")
        .stderr_contains("did you mean `crud`?")
        .stderr_contains("template `crud` has no parameter `resorce`")
        .stderr_contains("did you mean `resource`?")
        .stderr_contains("`use \"crud\"` does not give parameter `resource`")
        .stderr_contains("declared here, with no default")
        .run();
}

#[test]
fn a_template_that_uses_itself_is_a_cycle_not_a_hang() {
    Test::new()
        .kdl(
            r#"template "a" { use "b" }
template "b" { task "x" { run "true" }; use "a" }
use "a"
"#,
        )
        .args(["check"])
        .status(2)
        .stderr_contains("template `a` uses itself: a → b → a")
        .run();
}

const PHASES: &str = r#"gate "verify" { check "t" "true" }
gate "reviewed" { check "r" "true" }

template "feature" {
    param "name"
    phase "{name}-design" { run "echo design {name} for {milestone}" }
    phase "{name}-build" { run "echo build {name}" }
}

pipeline "standard" {
    phases
    phase-gate "verify"
}

milestone "M1" complexity="standard" {
    use "feature" name="login"
    phase "docs" gate="reviewed" { run "true" }
}
milestone "M2" phase-gate="reviewed" {
    use "feature" name="billing"
}
"#;

#[test]
fn a_milestone_uses_a_template_of_phases_and_phases_get_a_default_gate() {
    let test = Test::new().kdl(PHASES);
    assert_eq!(
        planned(test.path(), &["M1", "M2"]),
        [
            "M1/login-design",
            "M1/login-design/verify",
            "M1/login-build",
            "M1/login-build/verify",
            "M1/docs",
            "M1/docs/reviewed",
            "M2/billing-design",
            "M2/billing-design/reviewed",
            "M2/billing-build",
            "M2/billing-build/reviewed",
        ]
    );
    Test::new()
        .kdl(PHASES)
        .args(["build", "M1", "-v", "--progress", "never"])
        .stderr_contains("design login for M1")
        .run();
}

#[test]
fn a_default_gate_that_does_not_exist_is_an_unknown_gate() {
    Test::new()
        .kdl(&PHASES.replace("phase-gate=\"reviewed\"", "phase-gate=\"reviewd\""))
        .args(["check"])
        .status(2)
        .stderr_contains("unknown gate `reviewd`")
        .stderr_contains("did you mean `reviewed`?")
        .run();
}

#[test]
fn included_files_join_the_namespace_relative_to_the_file_that_includes_them() {
    let test = Test::new()
        .kdl("include \"ci/*.kdl\"\ntarget \"ci\" { needs \"lint\" \"test\" }\n")
        .write(
            "ci/lint.kdl",
            "include \"more/test.kdl\"\ntask \"lint\" { run \"echo linting\" }\n",
        )
        .write(
            "ci/more/test.kdl",
            "task \"test\" { run \"echo testing\" }\n",
        )
        .write("ci/more/other.kdl", "task \"never\" { run \"false\" }\n");
    let mut plan = planned(test.path(), &["ci"]);
    plan.sort();
    assert_eq!(plan, ["ci", "lint", "test"]);
    let out = orchestra(test.path(), &["list"]);
    assert!(
        !text(&out.stdout).contains("never"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_mistake_in_an_included_file_names_that_file_and_line() {
    let test = Test::new()
        .kdl("task \"a\" { run \"true\" }\ninclude \"ci/lint.kdl\"\n")
        .write(
            "ci/lint.kdl",
            "task \"lint\" {\n    run \"true\"\n    needs \"nope\"\n}\n",
        )
        .args(["check"])
        .status(2)
        .stderr_contains("╭─[ci/lint.kdl:3:11]")
        .stderr_contains("unknown address `nope`")
        .run();
    // The same through --json, for editors and CI.
    let out = orchestra(test.dir.path(), &["build", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = &json["error"]["diagnostics"][0];
    assert_eq!(found["file"], "ci/lint.kdl");
    assert_eq!(found["line"], 3);
    // And a syntax error there, too.
    Test::new()
        .kdl("include \"ci/lint.kdl\"\n")
        .write("ci/lint.kdl", "task \"lint\" {\n    run \"true\"\n")
        .args(["check"])
        .status(2)
        .stderr_contains("╭─[ci/lint.kdl:")
        .run();
}

#[test]
fn an_include_cycle_is_an_error_showing_the_chain() {
    Test::new()
        .kdl("include \"ci/a.kdl\"\n")
        .write(
            "ci/a.kdl",
            "include \"b.kdl\"\ntask \"a\" { run \"true\" }\n",
        )
        .write("ci/b.kdl", "include \"../orchestra.kdl\"\n")
        .args(["check"])
        .status(2)
        .stderr_contains("`include` cycle: orchestra.kdl → ci/a.kdl → ci/b.kdl → orchestra.kdl")
        .stderr_contains("`orchestra.kdl` includes `ci/a.kdl`")
        .stderr_contains("`ci/a.kdl` includes `ci/b.kdl`")
        .stderr_contains("`ci/b.kdl` includes `orchestra.kdl` again")
        .stderr_contains("╭─[ci/b.kdl:1:9]")
        .run();
}

#[test]
fn missing_empty_and_outside_includes_are_errors() {
    Test::new()
        .kdl("include \"ci/lnit.kdl\"\ninclude \"jobs/*.kdl\"\ninclude \"../x.kdl\"\n")
        .write("ci/lint.kdl", "task \"lint\" { run \"true\" }\n")
        .args(["check"])
        .status(2)
        .stderr_contains("`include \"ci/lnit.kdl\"` names no file")
        .stderr_contains("`include \"jobs/*.kdl\"` matches no file")
        .stderr_contains("leaves the project")
        .stderr_contains("the configuration has 3 errors")
        .run();
}

#[test]
fn a_change_to_an_included_file_is_built_not_served_from_a_stale_plan() {
    let test = Test::new()
        .kdl("include \"ci/jobs.kdl\"\n")
        .write("ci/jobs.kdl", "task \"say\" { run \"echo first\" }\n");
    let dir = test.path();
    let first = orchestra(dir, &["build", "say", "-v", "--progress", "never"]);
    assert!(
        text(&first.stderr).contains("first"),
        "{}",
        text(&first.stderr)
    );
    std::fs::write(
        dir.join("ci/jobs.kdl"),
        "task \"say\" { run \"echo second\" }\n",
    )
    .unwrap();
    let second = orchestra(dir, &["build", "say", "-v", "--progress", "never"]);
    assert!(
        text(&second.stderr).contains("second"),
        "{}",
        text(&second.stderr)
    );
}

#[test]
fn a_failing_task_from_an_included_file_points_at_its_declaration() {
    Test::new()
        .kdl("include \"ci/jobs.kdl\"\n")
        .write("ci/jobs.kdl", "\ntask \"boom\" { run \"exit 3\" }\n")
        .args(["build", "--progress", "never"])
        .status(1)
        .stderr_contains("╭─[ci/jobs.kdl:2:1]")
        .run();
}

#[test]
fn the_blueprints_example_instantiates_a_saas_starter_twice() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/blueprints");
    let out = orchestra(&dir, &["list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    for product in ["acme", "globex"] {
        for milestone in [
            "foundation",
            "billing",
            "dashboard",
            "notifications",
            "launch",
        ] {
            assert!(
                listed.contains(&format!("\"{product}-{milestone}\"")),
                "{product}-{milestone}: {listed}"
            );
        }
    }
    let plan = planned(&dir, &["acme-launch", "--complexity", "quick"]);
    assert!(
        plan.iter().any(|a| a.starts_with("acme-foundation/")),
        "{plan:?}"
    );
    assert!(!plan.iter().any(|a| a.starts_with("globex-")), "{plan:?}");
}

#[test]
fn a_phase_gate_runs_after_each_phase_and_not_on_its_own() {
    let test = Test::new().kdl(PHASES);
    let plan = planned(test.path(), &[]);
    assert!(
        !plan.iter().any(|a| a == "verify" || a == "reviewed"),
        "{plan:?}"
    );
    assert!(
        plan.iter().any(|a| a == "M1/login-design/verify"),
        "{plan:?}"
    );
}

#[test]
fn an_include_through_a_link_stays_inside_the_project() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("x.kdl"),
        "task \"x\" { run \"true\" }\n",
    )
    .unwrap();
    let test = Test::new().kdl("include \"link.kdl\"\n");
    std::os::unix::fs::symlink(outside.path().join("x.kdl"), test.path().join("link.kdl")).unwrap();
    let out = orchestra(test.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a link to"),
        "{}",
        text(&out.stderr)
    );
    // A directory linked to itself is one file reached twice: a loop, said
    // once, not forty files.
    let test = Test::new().kdl("include \"ci/*.kdl\"\ntask \"a\" { run \"true\" }\n");
    std::os::unix::fs::symlink(".", test.path().join("ci")).unwrap();
    let out = orchestra(test.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`include` cycle"), "{stderr}");
    assert!(stderr.contains("the configuration has 1 error"), "{stderr}");
}

#[test]
fn a_glob_skips_hidden_files_like_an_editors_lock_file() {
    let test = Test::new()
        .kdl("include \"ci/*.kdl\"\n")
        .write("ci/a.kdl", "task \"a\" { run \"true\" }\n");
    std::os::unix::fs::symlink("nobody@host.1234", test.path().join("ci/.#a.kdl")).unwrap();
    std::fs::write(
        test.path().join("ci/.hidden.kdl"),
        "task \"h\" { run \"true\" }\n",
    )
    .unwrap();
    assert_eq!(planned(test.path(), &[]), ["a"]);
}

#[test]
fn a_variable_named_use_is_still_a_variable() {
    Test::new()
        .kdl("vars {\n    use \"fast\"\n}\ntask \"a\" { run \"echo mode={use}\" }\n")
        .args(["build", "-v", "--progress", "never"])
        .stderr_contains("mode=fast")
        .run();
}

#[test]
fn affected_counts_every_task_when_an_included_file_went_away() {
    if !crate::support::tool("git", "the --affected test") {
        return;
    }
    let test = Test::new()
        .kdl("include \"ci/*.kdl\"\ntask \"a\" { run \"true\"; inputs \"a.txt\" }\n")
        .write("a.txt", "a\n")
        .write("ci/env.kdl", "project \"p\" { env MODE=\"debug\" }\n")
        .write(
            "ci/keep.kdl",
            "task \"b\" { run \"true\"; inputs \"a.txt\" }\n",
        );
    let dir = test.path();
    let git = |args: &[&str]| crate::support::git(dir, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "one"]);
    git(&["rm", "-q", "ci/env.kdl"]);
    git(&["commit", "-qm", "two"]);
    let mut plan = planned(dir, &["--affected", "HEAD~1"]);
    plan.sort();
    assert_eq!(plan, ["a", "b"]);
}

#[test]
fn machines_are_told_the_template_line_and_each_use() {
    let kdl = CRUD.replace(
        "run \"echo api {resource} in {project}\"",
        "run \"echo {oops}\"",
    );
    let test = Test::new().kdl(&kdl);
    let out = orchestra(test.path(), &["build", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = &json["error"]["diagnostics"];
    assert_eq!(found[0]["line"], 11);
    assert_eq!(found[0]["used_at"][0]["line"], 15);
    assert_eq!(found[0]["used_at"][0]["template"], "crud");
    assert_eq!(found[1]["used_at"][0]["line"], 16);
    let out = orchestra(test.path(), &["--ci-format", "github", "check"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("::error file=orchestra.kdl,line=11,col=")
            && stderr.contains("(in the use of template `crud` at orchestra.kdl:16)"),
        "{stderr}"
    );
}
