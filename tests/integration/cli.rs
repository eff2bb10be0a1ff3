//! The command line: `check`, `list`, the global options, colour and exit
//! codes, driven through the real binary.

use std::fmt::Write as _;

use crate::support::Test;

const EXAMPLE: &str = "valid/language-example.kdl";

#[test]
fn check_prints_one_summary_line_on_stdout() {
    Test::new()
        .fixture(EXAMPLE)
        .args(["check"])
        .stdout("orchestra.kdl: ok — 4 entities, 2 milestones, 1 gate, 1 task, 1 target\n")
        .stderr("")
        .run();
}

#[test]
fn check_counts_singular_and_plural() {
    Test::new()
        .kdl("task \"a\" { run \"true\" }\ntask \"b\" { run \"true\" }\n")
        .args(["check"])
        .stdout("orchestra.kdl: ok — 0 entities, 0 milestones, 0 gates, 2 tasks, 0 targets\n")
        .run();
}

const WARNING: &str = r#"gate "g" { check "c" "orchestra-no-such-program" optional=#true }"#;

#[test]
fn check_passes_with_a_warning_and_says_so() {
    Test::new()
        .kdl(WARNING)
        .args(["check"])
        .stdout("orchestra.kdl: ok — 0 entities, 0 milestones, 1 gate, 0 tasks, 0 targets (1 warning)\n")
        .stderr_contains("⚠ program `orchestra-no-such-program` not found on PATH")
        .run();
}

#[test]
fn deny_warnings_turns_a_warning_into_exit_2() {
    Test::new()
        .kdl(WARNING)
        .args(["check", "--deny-warnings"])
        .status(2)
        .stdout("")
        .stderr_contains("⚠ program `orchestra-no-such-program` not found on PATH")
        .stderr_contains("error: the configuration has 1 warning (denied by --deny-warnings)\n")
        .run();
}

#[test]
fn deny_warnings_without_warnings_passes() {
    Test::new()
        .fixture(EXAMPLE)
        .args(["check", "--deny-warnings"])
        .stdout_contains("orchestra.kdl: ok")
        .run();
}

#[test]
fn errors_and_warnings_are_counted_together() {
    Test::new()
        .kdl(&format!(
            "{WARNING}\ntask \"t\" {{ run \"echo {{nope}}\" }}\n"
        ))
        .args(["check"])
        .status(2)
        .stderr_contains("error: the configuration has 1 error and 1 warning\n")
        .run();
}

#[test]
fn every_mistake_in_a_file_is_reported_in_one_run() {
    // Three different mistakes: a decoding error, an unknown reference found
    // by validation, and a template error.
    let ran = Test::new()
        .kdl(concat!(
            "task \"a\" retries=\"2\" { run \"true\" }\n",
            "task \"b\" { needs \"c\"; run \"true\" }\n",
            "task \"d\" { run \"echo {nope}\" }\n",
        ))
        .args(["check"])
        .status(2)
        .stdout("")
        .stderr_contains("error: the configuration has 3 errors\n")
        .run();
    let headers: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| l.starts_with("  × "))
        .collect();
    assert_eq!(
        headers,
        [
            "  × `retries` must be a whole number, found a string",
            "  × unknown address `c`",
            "  × unknown template variable `{nope}`",
        ],
        "reported in file order:\n{}",
        ran.stderr
    );
}

#[test]
fn list_prints_aligned_sections() {
    let ran = Test::new().fixture(EXAMPLE).args(["list"]).stderr("").run();
    insta::assert_snapshot!("list-language-example", ran.stdout);
}

#[test]
fn list_of_an_empty_file_says_nothing_is_declared() {
    Test::new()
        .kdl("")
        .args(["list"])
        .stdout("nothing declared\n")
        .run();
}

#[test]
fn list_refuses_an_invalid_file() {
    Test::new()
        .kdl("task \"a\" { needs \"b\" }")
        .args(["list"])
        .status(2)
        .stdout("")
        .stderr_contains("unknown address `b`")
        .run();
}

#[test]
fn list_json_follows_the_documented_schema() {
    let ran = Test::new()
        .fixture(EXAMPLE)
        .args(["list", "--json"])
        .stderr("")
        .run();
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).expect("stdout is JSON");
    assert_eq!(json["version"], 1);
    assert_eq!(json["file"], "orchestra.kdl");
    assert_eq!(json["project"], "shop-api");
    assert_eq!(json["default"], "ci");
    let names = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap_or_else(|| panic!("`{key}` is an array"))
            .iter()
            .map(|v| v["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(names("targets"), ["ci"]);
    assert_eq!(names("milestones"), ["M1-catalog", "M2-orders"]);
    assert_eq!(names("gates"), ["verify"]);
    assert_eq!(names("tasks"), ["scaffold"]);
    assert_eq!(names("pools"), ["database"]);
    assert_eq!(
        json["targets"][0]["needs"],
        serde_json::json!(["M1-catalog", "M2-orders"])
    );
    assert_eq!(json["targets"][0]["gate"], "verify");
    let m1 = &json["milestones"][0];
    assert_eq!(m1["complexity"], "full");
    assert_eq!(m1["needs"], serde_json::json!(["entities"]));
    assert_eq!(
        m1["phases"],
        serde_json::json!(["schema", "endpoints", "docs"])
    );
    // The project default applies to a milestone that names no pipeline.
    assert_eq!(json["milestones"][1]["complexity"], "quick");
    let gate = &json["gates"][0];
    assert_eq!(gate["retries"], 2);
    assert_eq!(gate["checks"][2]["name"], "lint");
    assert_eq!(gate["checks"][2]["optional"], true);
    assert_eq!(gate["checks"][3]["has_fix"], true);
    assert_eq!(gate["checks"][0]["has_fix"], false);
    assert_eq!(json["pools"][0]["depth"], 1);
    let waves: Vec<(String, u64)> = json["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| {
            (
                e["address"].as_str().expect("address").to_owned(),
                e["wave"].as_u64().expect("wave"),
            )
        })
        .collect();
    assert_eq!(
        waves,
        [
            ("entities/category".to_owned(), 1),
            ("entities/tag".to_owned(), 1),
            ("entities/product".to_owned(), 2),
            ("entities/product-tag".to_owned(), 3),
        ]
    );
    let product = &json["entities"][2];
    assert_eq!(product["group"], "entities");
    assert_eq!(product["relations"], serde_json::json!(["category"]));
    assert_eq!(product["properties"]["fields"], "name:String,price:u32");
    insta::assert_snapshot!("list-json-language-example", ran.stdout);
}

/// Every key of `value`, at any depth, except those under `properties`
/// (which are the user's).
fn json_keys(value: &serde_json::Value, into: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                into.insert(key.clone());
                if key != "properties" {
                    json_keys(inner, into);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_keys(v, into)),
        _ => {}
    }
}

#[test]
fn every_list_json_field_is_documented() {
    let ran = Test::new().fixture(EXAMPLE).args(["list", "--json"]).run();
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).expect("stdout is JSON");
    let mut keys = std::collections::BTreeSet::new();
    json_keys(&json, &mut keys);
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md"),
    )
    .expect("read docs/cli.md");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|key| !docs.contains(&format!("| `{key}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/cli.md does not document {missing:?}"
    );
}

#[test]
fn list_json_uses_null_for_absent_values() {
    let ran = Test::new()
        .kdl("task \"t\" { run \"true\" }\n")
        .args(["list", "--json"])
        .run();
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).expect("stdout is JSON");
    assert_eq!(json["default"], serde_json::Value::Null);
    assert_eq!(json["tasks"][0]["description"], serde_json::Value::Null);
    assert_eq!(json["tasks"][0]["needs"], serde_json::json!([]));
    // No `project` node: the project is named after its directory.
    let dir = ran.dir.path().file_name().expect("name").to_string_lossy();
    assert_eq!(json["project"], dir.as_ref());
}

#[test]
fn file_option_names_another_file() {
    Test::new()
        .write("conf/other.kdl", "task \"t\" { run \"true\" }\n")
        .args(["-f", "conf/other.kdl", "check"])
        .stdout("conf/other.kdl: ok — 0 entities, 0 milestones, 0 gates, 1 task, 0 targets\n")
        .run();
}

#[test]
fn file_option_names_the_file_in_diagnostics() {
    Test::new()
        .write("conf/other.kdl", "taks \"t\"\n")
        .args(["check", "--file", "conf/other.kdl"])
        .status(2)
        .stderr_contains("╭─[conf/other.kdl:1:1]")
        .run();
}

#[test]
fn file_option_with_a_missing_file_is_a_usage_error() {
    Test::new()
        .args(["-f", "missing.kdl", "check"])
        .status(2)
        .stdout("")
        .stderr("error: cannot read `missing.kdl`: no such file\n")
        .run();
}

#[test]
fn directory_option_changes_directory_first() {
    Test::new()
        .write("project/orchestra.kdl", "task \"t\" { run \"true\" }\n")
        .args(["-C", "project", "check"])
        .stdout("orchestra.kdl: ok — 0 entities, 0 milestones, 0 gates, 1 task, 0 targets\n")
        .run();
}

#[test]
fn directory_and_file_options_combine() {
    Test::new()
        .write("project/ci.kdl", "task \"t\" { run \"true\" }\n")
        .args(["check", "--directory", "project", "-f", "ci.kdl"])
        .stdout_contains("ci.kdl: ok")
        .run();
}

#[test]
fn directory_option_with_a_missing_directory_is_a_usage_error() {
    Test::new()
        .args(["-C", "nowhere", "check"])
        .status(2)
        .stderr_contains("error: cannot change to directory `")
        .stderr_contains("nowhere`: not a directory\n")
        .run();
}

#[test]
fn the_file_is_found_by_searching_upward() {
    Test::new()
        .fixture(EXAMPLE)
        .current_dir("src/deep")
        .args(["check"])
        .stdout("../../orchestra.kdl: ok — 4 entities, 2 milestones, 1 gate, 1 task, 1 target\n")
        .run();
}

#[test]
fn diagnostics_name_the_file_found_upward() {
    Test::new()
        .kdl("task \"t\" { needs \"x\" }\n")
        .current_dir("sub")
        .args(["check"])
        .status(2)
        .stderr_contains("╭─[../orchestra.kdl:1:18]")
        .run();
}

#[test]
fn a_missing_file_is_a_clear_usage_error() {
    let test = Test::new().current_dir("empty");
    // Another orchestra.kdl above the temporary directory would be found.
    if test
        .path()
        .ancestors()
        .any(|dir| dir.join("orchestra.kdl").is_file())
    {
        eprintln!("skipped: an orchestra.kdl exists above the temporary directory");
        return;
    }
    test.args(["check"])
        .status(2)
        .stdout("")
        .stderr_contains("error: no `orchestra.kdl` found in `")
        .stderr_contains("` or any parent directory (use `-f PATH` to name one)\n")
        .run();
}

#[test]
fn no_subcommand_is_a_usage_error() {
    Test::new()
        .status(2)
        .stderr_contains("Usage: orchestra")
        .run();
}

const BROKEN: &str = "task \"t\" { needs \"x\" }\n";
const ESC: &str = "\u{1b}[";

#[test]
fn color_always_colours_diagnostics() {
    Test::new()
        .kdl(BROKEN)
        .args(["check", "--color", "always"])
        .status(2)
        .stderr_contains(ESC)
        .run();
}

#[test]
fn no_color_disables_colour_under_auto() {
    Test::new()
        .kdl(BROKEN)
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .args(["check", "--color", "auto"])
        .status(2)
        .stderr_contains("unknown address `x`")
        .stderr_lacks(ESC)
        .run();
}

#[test]
fn clicolor_force_colours_under_auto_without_a_terminal() {
    Test::new()
        .kdl(BROKEN)
        // An empty NO_COLOR counts as unset (no-color.org).
        .env("NO_COLOR", "")
        .env("CLICOLOR_FORCE", "1")
        .args(["check"])
        .status(2)
        .stderr_contains(ESC)
        .run();
}

#[test]
fn auto_without_a_terminal_has_no_colour() {
    Test::new()
        .kdl(BROKEN)
        .env("NO_COLOR", "")
        .env("CLICOLOR_FORCE", "0")
        .args(["check"])
        .status(2)
        .stderr_contains("unknown address `x`")
        .stderr_lacks(ESC)
        .run();
}

#[test]
fn color_never_wins_over_clicolor_force() {
    Test::new()
        .kdl(BROKEN)
        .env("NO_COLOR", "")
        .env("CLICOLOR_FORCE", "1")
        .args(["check", "--color", "never"])
        .status(2)
        .stderr_lacks(ESC)
        .run();
}

#[test]
fn columns_sets_the_diagnostic_width() {
    // The help lists every top-level node: longer than 40 columns.
    let long_help = "expected one of: project, vars, pool, gate, task, rule, entities, pipeline, milestone, target";
    Test::new()
        .kdl("xyzzy\n")
        .env("COLUMNS", "200")
        .args(["check"])
        .status(2)
        .stderr_contains(long_help)
        .run();
    let narrow = Test::new()
        .kdl("xyzzy\n")
        .env("COLUMNS", "40")
        .args(["check"])
        .status(2)
        .stderr_lacks(long_help)
        .run();
    assert!(
        narrow.stderr.lines().all(|l| l.chars().count() <= 40),
        "{}",
        narrow.stderr
    );
}

#[test]
fn list_and_plan_work_without_the_programs_that_check_requires() {
    let kdl = "task \"a\" { run \"orchestra-no-such-program --x\" }\n";
    Test::new()
        .kdl(kdl)
        .args(["check"])
        .status(2)
        .stderr_contains("program `orchestra-no-such-program` not found on PATH")
        .run();
    Test::new()
        .kdl(kdl)
        .args(["list"])
        .stdout_contains("a")
        .run();
    Test::new()
        .kdl(kdl)
        .args(["plan"])
        .stdout_contains("orchestra-no-such-program --x")
        .run();
}

#[test]
fn a_diagnostic_on_a_very_long_line_is_narrated_not_a_panic() {
    let kdl = format!(
        "task \"a\" {{ run \"true\"; }}\n{}bogus \"x\"\n",
        " ".repeat(70_000)
    );
    Test::new()
        .kdl(&kdl)
        .args(["check"])
        .status(2)
        .stderr_contains("unknown node `bogus` in the file")
        .stderr_contains("label at line 2, columns 70001 to 70005")
        .run();
}

#[test]
fn only_the_first_fifty_diagnostics_are_drawn() {
    let kdl = "x\n".repeat(100_000);
    Test::new()
        .kdl(&kdl)
        .args(["check"])
        .status(2)
        .stderr_contains("… and 99950 more errors not shown (the first 50 are; fix those first)")
        .stderr_contains("the configuration has 100000 errors")
        .run();
}

#[test]
fn thousands_of_nested_blocks_are_a_diagnostic_not_a_stack_overflow() {
    Test::new()
        .kdl(&"a{".repeat(5000))
        .args(["check"])
        .status(2)
        .stderr_contains("blocks nest deeper than 64 levels")
        .run();
}

#[test]
fn a_raw_string_cannot_hide_deep_nesting_from_the_depth_guard() {
    // `#"\"#` is a complete raw string (no escapes in raw strings); a
    // scanner that reads `\"` as an escape would think the rest of the file
    // is one string and let the parser recurse 5000 deep.
    for opening in [r##"n #"\"# "##, r#"n "\"#, r#"n """"#] {
        Test::new()
            .kdl(&format!("{opening}{}", "{ n ".repeat(5000)))
            .args(["check"])
            .status(2)
            .stderr_contains("blocks nest deeper than 64 levels")
            .run();
    }
}

#[test]
fn a_long_needs_chain_declared_backwards_checks_without_overflowing() {
    let mut kdl = String::new();
    for i in (1..20_000).rev() {
        let _ = writeln!(
            kdl,
            "task \"t{i}\" {{ needs \"t{}\"; run \"true\"; }}",
            i - 1
        );
    }
    kdl.push_str("task \"t0\" { run \"true\"; }\n");
    Test::new()
        .kdl(&kdl)
        .args(["check"])
        .status(0)
        .stdout_contains("20000 tasks")
        .run();
}

#[test]
fn a_full_stdout_is_exit_3_and_a_full_stderr_never_a_panic() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orchestra.kdl"),
        "task \"a\" { run \"true\" }\n",
    )
    .unwrap();
    let full = || Stdio::from(std::fs::File::create("/dev/full").unwrap());
    let run = |args: &[&str], stdout: Stdio, stderr: Stdio| {
        Command::new(crate::support::binary())
            .args(args)
            .current_dir(dir.path())
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .stdout(stdout)
            .stderr(stderr)
            .status()
            .unwrap()
            .code()
    };
    // The report is lost, not the work: neither 1 (a task failed) nor 101.
    assert_eq!(run(&["check"], full(), Stdio::null()), Some(3));
    assert_eq!(run(&["build", "--json"], full(), Stdio::null()), Some(3));
    assert_eq!(run(&["build"], Stdio::null(), full()), Some(0));
    // A failed build stays 1 when its summary cannot be written either: the
    // build's outcome is the exit code CI acts on.
    std::fs::write(
        dir.path().join("orchestra.kdl"),
        "task \"a\" { run \"false\" }\n",
    )
    .unwrap();
    assert_eq!(run(&["build", "--json"], full(), Stdio::null()), Some(1));
    std::fs::write(dir.path().join("orchestra.kdl"), "taks \"a\"\n").unwrap();
    assert_eq!(run(&["check"], Stdio::null(), full()), Some(2));
}

#[test]
fn a_property_written_as_a_line_in_a_block_says_how_to_write_it() {
    let ran = Test::new()
        .kdl("task \"t\" {\n    run \"make\"\n    jobserver=#true\n}\n")
        .env("COLUMNS", "200")
        .args(["check"])
        .status(2)
        .stderr_contains(
            "`jobserver=#true` alone on a line is not a setting: write the child `jobserver #true`, or put `jobserver=#true` on the node's own line",
        )
        .run();
    assert_eq!(
        ran.stderr
            .matches("alone on a line is not a setting")
            .count(),
        1,
        "said once for its line:\n{}",
        ran.stderr
    );
}

/// The language description editors read is published as a file; it must
/// be what `orchestra schema` prints (regenerate it with
/// `orchestra schema > docs/orchestra.schema.json`).
#[test]
fn the_published_schema_is_what_schema_prints() {
    let printed = Test::new().args(["schema"]).run().stdout;
    let published = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/orchestra.schema.json"),
    )
    .unwrap();
    assert_eq!(
        printed, published,
        "run `orchestra schema > docs/orchestra.schema.json`"
    );
    let value: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(value["version"], 1);
    assert!(
        value["nodes"]["task"]["children"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "dotenv")
    );
}
