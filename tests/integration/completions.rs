//! Completions, the man page and the `orchestra TARGET` habit, through the
//! real binary: every shell gets a script, and a real bash sourcing its
//! script completes the project's addresses by calling orchestra back.

use std::path::Path;
use std::process::Command;

use crate::support::{Test, binary, text, tool};

const PROJECT: &str = r#"milestone "M1" {
    phase "design" { run "true" }
    phase "build" { run "true" }
}
task "gen" { run "true" }
task "lint" { run "true" }
target "ci" { needs "M1" "lint" }
"#;

#[test]
fn every_shell_gets_a_script_that_calls_orchestra_back() {
    for (shell, marker) in [
        ("bash", "complete -o nospace"),
        ("zsh", "compdef"),
        ("fish", "complete --keep-order"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let ran = Test::new().args(["completions", shell]).run();
        assert!(ran.stdout.contains(marker), "{shell}:\n{}", ran.stdout);
        assert!(
            ran.stdout.contains("ORCHESTRA_COMPLETE"),
            "{shell}:\n{}",
            ran.stdout
        );
    }
    Test::new()
        .args(["completions", "tcsh"])
        .status(2)
        .stderr_contains("possible values: bash, zsh, fish, powershell, elvish")
        .run();
}

/// What a real bash offers after sourcing the script, for `words`.
fn bash_offers(dir: &Path, words: &[&str]) -> Vec<String> {
    let bin_dir = binary().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <(orchestra completions bash)\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_clap_complete_orchestra orchestra '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut offered: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    offered.sort();
    offered
}

#[test]
fn bash_completes_subcommands_options_and_the_projects_addresses() {
    if !tool("bash", "the completion test") {
        return;
    }
    let test = Test::new().kdl(PROJECT);
    let dir = test.path();
    assert_eq!(
        bash_offers(dir, &["orchestra", "build", "M"]),
        ["M1", "M1/build", "M1/design"]
    );
    assert_eq!(bash_offers(dir, &["orchestra", "why", "l"]), ["lint"]);
    assert_eq!(bash_offers(dir, &["orchestra", "plan", "c"]), ["ci"]);
    assert!(bash_offers(dir, &["orchestra", "bu"]).contains(&"build".to_owned()));
    assert!(bash_offers(dir, &["orchestra", "build", "--ca"]).contains(&"--cache-url".to_owned()));
    // A file that does not load completes no address, and says nothing.
    std::fs::write(dir.join("orchestra.kdl"), "task {").unwrap();
    assert!(bash_offers(dir, &["orchestra", "build", "g"]).is_empty());
}

#[test]
fn the_man_page_is_roff_from_the_same_definition() {
    let ran = Test::new().args(["man"]).run();
    assert!(ran.stdout.contains(".TH orchestra 1"), "{}", ran.stdout);
    assert!(ran.stdout.contains("completions"), "{}", ran.stdout);
}

#[test]
fn a_target_where_a_subcommand_goes_gets_the_command_that_builds_it() {
    Test::new()
        .kdl(PROJECT)
        .args(["ci"])
        .status(2)
        .stderr_contains("unrecognized subcommand 'ci'")
        .stderr_contains("tip: to build the target or task `ci`, run `orchestra build ci`")
        .run();
    // Among clap's tips, before the usage; quoted for the shell.
    Test::new()
        .kdl(PROJECT)
        .args(["it's"])
        .status(2)
        .stderr_contains(
            "  tip: to build the target or task `it's`, run `orchestra build 'it'\\''s'`\n\nUsage:",
        )
        .run();
    // A near miss of a subcommand is the better guess: clap's alone.
    Test::new()
        .kdl(PROJECT)
        .args(["biuld"])
        .status(2)
        .stderr_contains("a similar subcommand exists: 'build'")
        .stderr_lacks("to build the target or task")
        .run();
}
