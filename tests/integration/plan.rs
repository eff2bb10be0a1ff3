//! `orchestra plan`: snapshots of the text and JSON plans of every valid
//! fixture, the JSON against its schema, the dot output, and the selection
//! flags' errors.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::json_schema;
use crate::support::{Test, fixtures};

const EXAMPLE: &str = "valid/language-example.kdl";

/// Plans a fixture copied to `project/orchestra.kdl`, so a file without a
/// `project` node is named after a fixed directory, not a random one.
fn plan(fixture: &str, args: &[&str]) -> String {
    let text = std::fs::read(fixtures().join(fixture)).expect("read fixture");
    Test::new()
        .write("project/orchestra.kdl", text)
        .current_dir("project")
        .args(["plan"])
        .args(args.iter().copied())
        .run()
        .stdout
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/plan.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read schema")).expect("schema")
}

/// The JSON plan as printed, checked against the schema.
fn json_text(fixture: &str, args: &[&str]) -> String {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let text = plan(fixture, &all);
    let value: Value = serde_json::from_str(&text).expect("plan is JSON");
    let errors = json_schema::validate(&schema(), &value);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    text
}

fn json_plan(fixture: &str, args: &[&str]) -> Value {
    serde_json::from_str(&json_text(fixture, args)).expect("plan is JSON")
}

/// The valid fixtures, sorted, as (stem, path relative to the fixtures).
fn valid_fixtures() -> Vec<(String, String)> {
    let dir = fixtures().join("valid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read valid fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "kdl"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem.clone(), format!("valid/{stem}.kdl"))
        })
        .collect()
}

/// Snapshots the text and JSON plan of every valid fixture (the folder is
/// listed at run time, so a new fixture gets snapshots), then fails once
/// naming every mismatch.
#[test]
fn every_valid_fixture_plans() {
    let mut failed = Vec::new();
    for (stem, fixture) in valid_fixtures() {
        let text = plan(&fixture, &[]);
        let json = json_text(&fixture, &[]);
        for (name, output) in [
            (format!("text-{stem}"), text),
            (format!("json-{stem}"), json),
        ] {
            let outcome = std::panic::catch_unwind(|| {
                insta::with_settings!({ omit_expression => true }, {
                    insta::assert_snapshot!(name.clone(), output);
                });
            });
            if outcome.is_err() {
                failed.push(name);
            }
        }
    }
    assert!(
        failed.is_empty(),
        "plan snapshots differ: {}",
        failed.join(", ")
    );
}

#[test]
fn language_example_everything_json_matches_the_schema() {
    // Every kind of task, skipped checks and stages, an overridden var.
    let value = json_plan(
        EXAMPLE,
        &[
            "ci",
            "verify",
            "--skip",
            "lint",
            "--skip",
            "review",
            "--set",
            "crate=store",
        ],
    );
    let kinds: Vec<&str> = value["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "task",
        "step",
        "stage",
        "phase",
        "gate",
        "wave-gate",
        "target",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    assert_eq!(value["skipped"].as_array().unwrap().len(), 11);
}

#[test]
fn entity_waves_and_barriers_in_the_example() {
    let value = json_plan(EXAMPLE, &["entities"]);
    let needs = |address: &str| -> Vec<String> {
        let task = value["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["address"] == address)
            .unwrap_or_else(|| panic!("no {address}"));
        let mut needs: Vec<String> = serde_json::from_value(task["needs"].clone()).unwrap();
        needs.sort();
        needs
    };
    assert_eq!(
        needs("entities/wave-1/verify"),
        ["entities/category/verify", "entities/tag/verify"]
    );
    assert_eq!(needs("entities/wave-2/verify"), ["entities/product/verify"]);
    assert_eq!(
        needs("entities/wave-3/verify"),
        ["entities/product-tag/verify"]
    );
}

#[test]
fn unknown_address_exits_2_with_a_suggestion() {
    Test::new()
        .fixture(EXAMPLE)
        .args(["plan", "scafold"])
        .status(2)
        .stderr("error: unknown address `scafold`: did you mean `scaffold`?\n")
        .stdout("")
        .run();
    Test::new()
        .fixture(EXAMPLE)
        .args(["plan", "M1-catalog/shema"])
        .status(2)
        .stderr_contains("did you mean `M1-catalog/schema`?")
        .run();
}

#[test]
fn set_overrides_a_var() {
    let text = plan(EXAMPLE, &["scaffold", "--set", "crate=store"]);
    assert!(text.contains("$ sh scripts/scaffold.sh store\n"), "{text}");
    Test::new()
        .fixture(EXAMPLE)
        .args(["plan", "--set", "crat=x"])
        .status(2)
        .stderr("error: `--set crat=…` names no var: did you mean `crate`?\n")
        .run();
    Test::new()
        .fixture(EXAMPLE)
        .args(["plan", "--set", "crate"])
        .status(2)
        .stderr("error: `--set crate` must have the form NAME=VALUE\n")
        .run();
}

#[test]
fn skip_leaves_out_and_reports() {
    let text = plan(
        EXAMPLE,
        &["M1-catalog", "--skip", "review", "--skip", "lint"],
    );
    assert!(!text.contains("M1-catalog/review  ("), "{text}");
    assert!(!text.contains("check lint"), "{text}");
    assert!(
        text.contains("skipped M1-catalog/review (--skip review)\n"),
        "{text}"
    );
    assert!(
        text.contains("skipped M1-catalog/verify/lint (--skip lint)\n"),
        "{text}"
    );
    // publish needed review: now it needs what review needed.
    assert!(text.contains("  M1-catalog/publish  (stage)\n    confirm: Publish M1-catalog?\n    $ sh scripts/publish.sh M1-catalog\n    after M1-catalog/verify\n"), "{text}");
    Test::new()
        .fixture(EXAMPLE)
        .args(["plan", "--skip", "reveiw"])
        .status(2)
        .stderr_contains("`--skip reveiw` matches no stage")
        .stderr_contains("did you mean `review`?")
        .run();
}

#[test]
fn complexity_overrides_the_pipeline() {
    let text = plan(EXAMPLE, &["M1-catalog", "--complexity", "quick"]);
    assert!(!text.contains("M1-catalog/design"), "{text}");
    assert!(text.contains("M1-catalog/schema"), "{text}");
    Test::new()
        .fixture(EXAMPLE)
        .args(["plan", "--complexity", "ful"])
        .status(2)
        .stderr("error: unknown complexity `ful`: did you mean `full`?\n")
        .run();
}

#[test]
fn dot_is_well_formed_and_renders() {
    let dot = plan(EXAMPLE, &["--format", "dot"]);
    assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{dot}");
    let mut declared = Vec::new();
    let mut edges = 0;
    for line in dot.lines().map(str::trim) {
        if let Some((from, to)) = line.split_once(" -> ") {
            edges += 1;
            for end in [from, to.trim_end_matches(';')] {
                assert!(declared.contains(&end), "edge to undeclared {end}:\n{dot}");
            }
        } else if line.starts_with('"') && line.contains(" [label=") {
            declared.push(line.split(" [").next().unwrap());
        }
    }
    assert_eq!(declared.len(), 27);
    assert!(edges > 0);
    assert!(dot.contains("subgraph \"cluster_milestone_M1-catalog\""));
    assert!(dot.contains("subgraph \"cluster_entity_entities/product\""));
    if which::which("dot").is_ok() {
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run dot");
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), dot.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    }
}

#[test]
fn timings_go_to_stderr_when_asked() {
    let ran = Test::new()
        .fixture(EXAMPLE)
        .args(["plan", "--format", "json"])
        .env("ORCHESTRA_TIMINGS", "1")
        .run();
    for stage in [
        "parse", "validate", "lower", "select", "skip", "waves", "render",
    ] {
        assert!(
            ran.stderr.contains(&format!("timing: {stage} ")),
            "{}",
            ran.stderr
        );
    }
    assert!(serde_json::from_str::<Value>(&ran.stdout).is_ok());
}

#[test]
fn invalid_address_collisions_are_reported_by_check() {
    for name in [
        "phase-named-like-stage",
        "step-named-like-each-gate",
        "entity-named-like-wave",
    ] {
        assert!(fixtures().join(format!("invalid/{name}.kdl")).is_file());
        Test::new()
            .fixture(&format!("invalid/{name}.kdl"))
            .args(["check"])
            .status(2)
            .stderr_contains("orchestra::address_collision")
            .run();
    }
}

#[test]
fn an_unchanged_file_and_selection_plan_from_the_cache_without_parsing() {
    let ran = Test::new()
        .kdl(r#"task "a" { run "true"; }"#)
        .args(["plan"])
        .run();
    let plan_with = |args: &[&str]| {
        let output = std::process::Command::new(crate::support::binary())
            .args(args)
            .current_dir(ran.dir.path())
            .env("ORCHESTRA_TIMINGS", "1")
            .output()
            .unwrap();
        assert!(output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        (String::from_utf8(output.stdout).unwrap(), stderr)
    };
    let (first, timings) = plan_with(&["plan"]);
    assert!(!timings.contains("timing: parse"), "{timings}");
    assert_eq!(first, ran.stdout);
    // Another selection is another key: parsed again.
    let (_, timings) = plan_with(&["plan", "a"]);
    assert!(timings.contains("timing: parse"), "{timings}");
    std::fs::write(
        ran.dir.path().join("orchestra.kdl"),
        r#"task "b" { run "true"; }"#,
    )
    .unwrap();
    let (changed, timings) = plan_with(&["plan"]);
    assert!(timings.contains("timing: parse"), "{timings}");
    assert!(changed.contains('b'), "{changed}");
    // `build` validates with PATH lookups and keeps its own cache, so
    // alternating with `plan` parses neither again.
    let (_, timings) = plan_with(&["build"]);
    assert!(timings.contains("timing: parse"), "{timings}");
    for command in ["plan", "build", "plan"] {
        let (_, timings) = plan_with(&[command]);
        assert!(!timings.contains("timing: parse"), "{command}: {timings}");
    }
}

#[test]
fn a_complexity_whose_pipeline_drops_phases_is_refused() {
    Test::new()
        .kdl(
            r#"
pipeline "quick" { stage "build" "echo build" }
pipeline "full" { stage "build" "echo build"; phases }
milestone "m" complexity="full" { phase "p" { run "true" } }
"#,
        )
        .args(["plan", "--complexity", "quick"])
        .status(2)
        .stderr_contains("`--complexity quick`: pipeline `quick` has no `phases`, so the phases of milestone `m` would never run")
        .run();
}
