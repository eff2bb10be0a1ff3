//! `examples/shop` builds from a clean copy, and again on top of its own
//! output (where everything is up to date), with nothing but the Rust
//! toolchain; `examples/c` with nothing but `cc`.

use std::path::Path;
use std::process::Command;

use crate::support::binary;

/// Copies the checked-in files of `from` (no build output) into `to`.
fn copy_sources(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the example") {
        let entry = entry.expect("directory entry");
        let name = entry.file_name();
        let ignored = [
            ".orchestra",
            "target",
            "reports",
            "Cargo.lock",
            "entities",
            "build",
        ];
        if ignored.iter().any(|i| name == *i) {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        if source.is_dir() {
            std::fs::create_dir_all(&target).expect("create directory");
            copy_sources(&source, &target);
        } else {
            std::fs::copy(&source, &target).expect("copy file");
        }
    }
}

#[test]
fn the_shop_example_builds_twice() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_sources(&example, dir.path());
    for run in 1..=2 {
        let output = Command::new(binary())
            // CI turns gate fixes off; tests set it when they mean it.
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .args(["build", "--progress", "never"])
            .current_dir(dir.path())
            // The example's cargo must use the example's own target dir.
            .env_remove("CARGO_TARGET_DIR")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run orchestra");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "run {run} failed:\n{stderr}");
        assert!(stderr.contains("built 20 tasks"), "run {run}:\n{stderr}");
        if run == 2 {
            // Everything declares what it reads and writes: nothing reruns.
            assert!(stderr.contains("(20 up to date)"), "run 2:\n{stderr}");
            assert!(!stderr.contains("] start "), "run 2:\n{stderr}");
        }
    }
    // One script changes: what reads it reruns, and `why` says so first.
    let script = dir.path().join("scripts/schema.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, format!("{text}# changed\n")).unwrap();
    let why = Command::new(binary())
        .args(["why", "M1-catalog/schema"])
        .current_dir(dir.path())
        .output()
        .expect("run orchestra why");
    assert_eq!(
        String::from_utf8_lossy(&why.stdout),
        "M1-catalog/schema would run:\n    input changed: scripts/schema.sh\n"
    );
    let schema = std::fs::read_to_string(dir.path().join("reports/schema.txt")).expect("schema");
    assert_eq!(schema.matches("pub struct").count(), 4, "{schema}");
    assert!(schema.contains("pub category_id: u32"), "{schema}");
}

/// Runs the binary in `dir` and returns its stderr, asserting success.
fn build_in(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(binary())
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run orchestra");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?} failed:\n{stderr}");
    stderr
}

#[test]
fn the_c_example_rebuilds_what_includes_an_edited_header() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/c");
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_sources(&example, dir.path());
    let build = ["build", "--progress", "never", "link"];
    let first = build_in(dir.path(), &build);
    assert!(first.contains("built 4 tasks"), "{first}");
    let second = build_in(dir.path(), &build);
    assert!(second.contains("(4 up to date)"), "{second}");
    // A real change to a header both greet.c and main.c include.
    let config = dir.path().join("src/config.h");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("#define TIMES 2", "#define TIMES 3")).unwrap();
    let third = build_in(
        dir.path(),
        &["build", "--progress", "never", "--explain", "link"],
    );
    let started: Vec<&str> = third
        .lines()
        .filter_map(|l| l.split_once("] start ").map(|(_, t)| t))
        .collect();
    assert_eq!(started, ["cc/greet", "cc/main", "link"], "{third}");
    assert!(
        third.contains("discovered input changed: src/config.h"),
        "{third}"
    );
    let run = Command::new(dir.path().join("build/greeter"))
        .arg("you")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "Hello, you!\n".repeat(3)
    );
}
