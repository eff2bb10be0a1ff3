//! Run insight through the real binary: `--timings` (one self-contained
//! HTML page) and `--trace` (Chrome trace events).

use crate::support::{Test, orchestra, text};

const KDL: &str = r#"project "insight"
gate "verify" retries=1 {
    check "flaky" "if [ -e flaked ]; then exit 0; else touch flaked; exit 1; fi"
}
task "slow" { run "sleep 0.3"; }
task "fast" { run "true"; }
task "after" { needs "slow"; run "sleep 0.1"; gate "verify"; }
task "broken" { needs "fast"; run "exit 3"; }
"#;

#[test]
fn the_timings_page_is_self_contained_and_the_trace_has_an_event_per_run() {
    let test = Test::new().kdl(KDL);
    let dir = test.path();
    let out = orchestra(
        dir,
        &[
            "build",
            "-k",
            "-j2",
            "--progress",
            "never",
            "--timings",
            "t.html",
            "--trace",
            "t.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(dir.join("t.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for address in ["slow", "fast", "after", "after/verify", "broken"] {
        assert!(
            page.contains(&format!("<td>{address}</td>")),
            "{address} listed"
        );
    }
    assert!(!page.contains("http"), "nothing fetched");
    assert!(!page.contains("<script src"), "nothing fetched");
    // Two slots, the critical path through the slow chain, a retried gate.
    assert!(page.contains(">slot 2</text>"), "{page}");
    assert!(
        page.contains("critical path</span>: slow → after → after/verify"),
        "{page}"
    );
    assert!(page.contains("<title>attempt 2</title>"), "{page}");
    assert!(page.contains("class=\"bar task failed"), "{page}");
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("t.json")).unwrap()).unwrap();
    let complete: Vec<&serde_json::Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    let mut names: Vec<&str> = complete
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["after", "after/verify", "broken", "fast", "slow"]);
    let slow = complete.iter().find(|e| e["name"] == "slow").unwrap();
    assert!(slow["dur"].as_u64().unwrap() >= 300_000, "{slow}");
    assert!(complete.iter().all(|e| e["tid"].as_u64().unwrap() <= 2));
}
