//! The fixture folders: every `valid/` file passes `check`; every `invalid/`
//! file holds exactly one mistake, reported once with exit code 2 and
//! snapshotted as rendered (no colour, width 100); every `warnings/` file
//! passes `check` but fails `check --deny-warnings`.
//!
//! The folders are listed at run time, so a new file is covered without
//! touching this module. A new snapshot is written with
//! `INSTA_UPDATE=always cargo test` and must be read before committing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{Test, fixtures};

/// The `.kdl` files of one fixture folder, sorted, as (stem, path).
fn kdl_files(folder: &str) -> Vec<(String, PathBuf)> {
    let dir = fixtures().join(folder);
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "kdl"))
        .map(|path| {
            let stem = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            (stem, path)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(fixtures())
        .expect("inside fixtures")
        .to_string_lossy()
        .into_owned()
}

/// What a snapshot holds: the exit code and everything on stderr.
fn transcript(status: i32, stderr: &str) -> String {
    format!("exit: {status}\n--- stderr ---\n{stderr}")
}

/// Asserts each snapshot, then fails once listing every mismatch, so one
/// run shows (and with `INSTA_UPDATE=always` writes) all of them.
fn assert_snapshots(snapshots: Vec<(String, String)>) {
    let mut failed = Vec::new();
    for (name, text) in snapshots {
        let outcome = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => "../fixtures/snapshots",
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.clone(), text);
            });
        });
        if outcome.is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "snapshots differ: {}", failed.join(", "));
}

#[test]
fn every_valid_fixture_passes_check() {
    for (_, path) in kdl_files("valid") {
        Test::new()
            .fixture(&relative(&path))
            .args(["check", "--deny-warnings"])
            .stdout_contains("orchestra.kdl: ok — ")
            .stderr("")
            .run();
    }
}

#[test]
fn every_invalid_fixture_reports_exactly_one_error() {
    let mut snapshots = Vec::new();
    for (stem, path) in kdl_files("invalid") {
        let ran = Test::new()
            .fixture(&relative(&path))
            .args(["check", "--color", "never"])
            .status(2)
            .stdout("")
            .run();
        let errors = ran.stderr.lines().filter(|l| l.starts_with("  × ")).count();
        assert_eq!(errors, 1, "{stem}: expected one error:\n{}", ran.stderr);
        assert!(
            ran.stderr
                .ends_with("\nerror: the configuration has 1 error\n"),
            "{stem}: summary line missing or wrong:\n{}",
            ran.stderr
        );
        snapshots.push((stem, transcript(ran.status, &ran.stderr)));
    }
    assert_snapshots(snapshots);
}

#[test]
fn every_warning_fixture_passes_check_but_fails_with_deny_warnings() {
    let mut snapshots = Vec::new();
    for (stem, path) in kdl_files("warnings") {
        let ran = Test::new()
            .fixture(&relative(&path))
            .args(["check", "--color", "never"])
            .stdout_contains("orchestra.kdl: ok — ")
            .stdout_contains("(1 warning)")
            .run();
        let warnings = ran.stderr.lines().filter(|l| l.starts_with("  ⚠ ")).count();
        assert_eq!(warnings, 1, "{stem}: expected one warning:\n{}", ran.stderr);
        assert!(!ran.stderr.contains("  × "), "{stem}: {}", ran.stderr);
        snapshots.push((stem.clone(), transcript(ran.status, &ran.stderr)));

        let denied = Test::new()
            .fixture(&relative(&path))
            .args(["check", "--deny-warnings", "--color", "never"])
            .status(2)
            .stdout("")
            .stderr_contains("error: the configuration has 1 warning (denied by --deny-warnings)\n")
            .run();
        snapshots.push((
            format!("{stem}-denied"),
            transcript(denied.status, &denied.stderr),
        ));
    }
    assert_snapshots(snapshots);
}

/// The diagnostic codes `src/diagnostic.rs` can produce, read from its
/// source so that a new variant without a fixture fails this test.
fn declared_codes() -> BTreeSet<String> {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnostic.rs"))
            .expect("read src/diagnostic.rs");
    source
        .split("=> \"orchestra::")
        .skip(1)
        .map(|rest| {
            let end = rest.find('"').expect("closing quote");
            format!("orchestra::{}", &rest[..end])
        })
        .collect()
}

/// The snapshot names the fixture folders call for.
fn expected_snapshots() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = kdl_files("invalid").into_iter().map(|(s, _)| s).collect();
    for (stem, _) in kdl_files("warnings") {
        names.insert(format!("{stem}-denied"));
        names.insert(stem);
    }
    names
}

#[test]
fn every_diagnostic_class_has_a_fixture() {
    let declared = declared_codes();
    assert!(declared.len() >= 15, "parsed too few codes: {declared:?}");
    let mut covered = BTreeSet::new();
    for name in expected_snapshots() {
        let path = fixtures().join("snapshots").join(format!("{name}.snap"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // the snapshot test reports it missing
        };
        for line in text.lines() {
            if let Some(code) = line.strip_prefix("orchestra::") {
                covered.insert(format!("orchestra::{}", code.trim()));
            }
        }
    }
    let missing: Vec<&String> = declared.difference(&covered).collect();
    assert!(missing.is_empty(), "no fixture produces {missing:?}");
}

#[test]
fn no_snapshot_outlives_its_fixture() {
    let expected = expected_snapshots();
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(fixtures().join("snapshots")).expect("snapshots folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let stem = name.strip_suffix(".snap").unwrap_or(&name);
        if !expected.contains(stem) {
            orphans.push(name);
        }
    }
    assert!(
        orphans.is_empty(),
        "delete snapshots without a fixture: {orphans:?}"
    );
}

#[test]
fn every_diagnostic_code_is_documented() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md"))
        .expect("read docs/cli.md");
    let missing: Vec<String> = declared_codes()
        .into_iter()
        .filter(|code| !docs.contains(&format!("`{code}`")))
        .collect();
    assert!(missing.is_empty(), "docs/cli.md lacks {missing:?}");
}
