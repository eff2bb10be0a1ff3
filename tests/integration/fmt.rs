//! `orchestra fmt [--check]`: canonical layout that keeps every comment and
//! blank-line group, idempotent on every fixture, a diff and exit 1 under
//! `--check`, files written atomically and never through a link.

use std::path::Path;

use crate::support::{Test, fixtures, orchestra, text};

/// Every comment of a file, in order, as written.
fn comments(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.find("//").map(|at| line[at..].trim_end().to_owned()))
        .chain(source.match_indices("/*").map(|(at, _)| {
            source[at..]
                .lines()
                .next()
                .unwrap_or_default()
                .trim_end()
                .to_owned()
        }))
        .collect()
}

/// The fixtures that are valid KDL (the invalid ones mostly are too).
fn parsable_fixtures() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["valid", "invalid", "warnings"] {
        for entry in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "kdl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn formatting_every_fixture_twice_is_formatting_it_once_and_keeps_its_comments() {
    let dir = tempfile::tempdir().unwrap();
    let mut formatted = 0;
    for fixture in parsable_fixtures() {
        let original = std::fs::read(&fixture).unwrap();
        let file = dir.path().join("orchestra.kdl");
        std::fs::write(&file, &original).unwrap();
        let first = orchestra(dir.path(), &["fmt"]);
        if first.status.code() == Some(2) {
            // Not KDL (a syntax fixture): reported, and left alone.
            assert_eq!(
                std::fs::read(&file).unwrap(),
                original,
                "{}",
                fixture.display()
            );
            assert!(
                text(&first.stderr).contains("syntax"),
                "{}",
                text(&first.stderr)
            );
            continue;
        }
        assert!(
            first.status.success(),
            "{}: {}",
            fixture.display(),
            text(&first.stderr)
        );
        let once = std::fs::read_to_string(&file).unwrap();
        let check = orchestra(dir.path(), &["fmt", "--check"]);
        assert!(
            check.status.success(),
            "{} is not idempotent:\n{}",
            fixture.display(),
            text(&check.stdout)
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), once);
        let original = String::from_utf8_lossy(&original);
        assert_eq!(
            comments(&original),
            comments(&once),
            "{}",
            fixture.display()
        );
        assert!(!once.contains("\n\n\n"), "{}", fixture.display());
        formatted += 1;
    }
    assert!(formatted > 100, "only {formatted} fixtures formatted");
}

#[test]
fn a_valid_fixture_plans_the_same_after_formatting() {
    for fixture in std::fs::read_dir(fixtures().join("valid")).unwrap() {
        let fixture = fixture.unwrap().path();
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&fixture, dir.path().join("orchestra.kdl")).unwrap();
        let before = orchestra(dir.path(), &["plan"]);
        assert!(orchestra(dir.path(), &["fmt"]).status.success());
        let after = orchestra(dir.path(), &["plan"]);
        assert_eq!(
            text(&before.stdout),
            text(&after.stdout),
            "{}",
            fixture.display()
        );
    }
}

const MESSY: &str = "\n\n// the project\nproject \"x\"{\njobs 2\n        }\n\n\n\ntask \"a\"   {\n  run \"echo a\"   ;   timeout   \"1m\"\n  /* why */ description \"\"\"\n    two  spaces\n    \"\"\"\n}\n";

const TIDY: &str = "// the project\nproject \"x\" {\n    jobs 2\n}\n\ntask \"a\" {\n    run \"echo a\"; timeout \"1m\"\n    /* why */ description \"\"\"\n    two  spaces\n    \"\"\"\n}\n";

#[test]
fn check_prints_a_diff_and_exits_one_without_writing() {
    let ran = Test::new()
        .kdl(MESSY)
        .args(["fmt", "--check"])
        .status(1)
        .stdout_contains("--- orchestra.kdl\n+++ orchestra.kdl (formatted)\n@@ ")
        .stdout_contains("\n-task \"a\"   {\n")
        .stdout_contains("\n+task \"a\" {\n")
        .stdout_contains("\n // the project\n")
        .stderr_contains("1 file is not formatted: orchestra.kdl (run `orchestra fmt`)")
        .run();
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("orchestra.kdl")).unwrap(),
        MESSY
    );
    Test::new()
        .kdl(TIDY)
        .args(["fmt", "--check"])
        .stdout("")
        .run();
}

#[test]
fn fmt_writes_the_project_and_its_included_files_keeping_their_modes() {
    use std::os::unix::fs::PermissionsExt;
    let test = Test::new()
        .kdl(&format!("include \"ci/*.kdl\"\n{MESSY}"))
        .write("ci/lint.kdl", "task   \"lint\" {\nrun \"true\"\n}\n");
    let dir = test.path();
    std::fs::set_permissions(
        dir.join("ci/lint.kdl"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let out = orchestra(dir, &["fmt"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("formatted orchestra.kdl"));
    assert!(text(&out.stderr).contains("formatted ci/lint.kdl"));
    assert_eq!(
        std::fs::read_to_string(dir.join("orchestra.kdl")).unwrap(),
        format!("include \"ci/*.kdl\"\n\n{TIDY}")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("ci/lint.kdl")).unwrap(),
        "task \"lint\" {\n    run \"true\"\n}\n"
    );
    let mode = std::fs::metadata(dir.join("ci/lint.kdl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    // Named files instead of the project's.
    std::fs::write(dir.join("other.kdl"), "task  \"o\"\n").unwrap();
    assert!(orchestra(dir, &["fmt", "other.kdl"]).status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("other.kdl")).unwrap(),
        "task \"o\"\n"
    );
}

#[test]
fn a_link_is_not_written_through() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("real.kdl");
    std::fs::write(&target, MESSY).unwrap();
    let test = Test::new();
    std::os::unix::fs::symlink(&target, test.path().join("orchestra.kdl")).unwrap();
    let out = orchestra(test.path(), &["fmt"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("does not write through it"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), MESSY);
    assert!(Path::new(&test.path().join("orchestra.kdl")).is_symlink());
}

#[test]
fn a_syntax_error_is_shown_at_its_line_and_nothing_is_written() {
    let ran = Test::new()
        .kdl("task \"a\" {\n    run \"unclosed\n}\n")
        .args(["fmt"])
        .status(2)
        .stderr_contains("╭─[orchestra.kdl:2:")
        .run();
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("orchestra.kdl")).unwrap(),
        "task \"a\" {\n    run \"unclosed\n}\n"
    );
}

#[test]
fn a_refused_file_does_not_stop_the_others() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("real.kdl"), MESSY).unwrap();
    let test = Test::new().write("other.kdl", "task  \"o\"\n");
    std::os::unix::fs::symlink(
        outside.path().join("real.kdl"),
        test.path().join("link.kdl"),
    )
    .unwrap();
    for args in [
        &["fmt", "--check", "link.kdl"][..],
        &["fmt", "link.kdl", "other.kdl"],
    ] {
        let out = orchestra(test.path(), args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("does not write through it"));
    }
    assert_eq!(
        std::fs::read_to_string(test.path().join("other.kdl")).unwrap(),
        "task \"o\"\n"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("real.kdl")).unwrap(),
        MESSY
    );
}

#[test]
fn line_endings_become_line_feeds_and_the_diff_shows_it() {
    let ran = Test::new()
        .kdl("task \"a\" {\r\n    run \"x\"\r\n}")
        .args(["fmt", "--check"])
        .status(1)
        .stdout_contains("-task \"a\" {\r\n")
        .stdout_contains("+task \"a\" {\n")
        .stdout_contains("\\ No newline at end of file\n")
        .run();
    assert!(orchestra(ran.dir.path(), &["fmt"]).status.success());
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("orchestra.kdl")).unwrap(),
        "task \"a\" {\n    run \"x\"\n}\n"
    );
}
