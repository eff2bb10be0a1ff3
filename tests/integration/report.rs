//! `orchestra report` on a crafted history: it must name the flaky check,
//! the slowest task and the failing one, as text and as JSON.

use crate::support::{Test, orchestra, text};

/// Ten builds: `slow` takes 900..1800 ms; `verify › lint` fails once per
/// build and passes on the retry (flaky) in even builds, is fixed in odd
/// ones; `deploy` fails in every third build.
fn history() -> String {
    let mut lines = String::new();
    for run in 0..10u64 {
        let flaky = run % 2 == 0;
        let check = format!(r#"[{{"check":"lint","attempt":1,"fixed":{}}}]"#, !flaky);
        let deploy = if run % 3 == 0 { "failed" } else { "succeeded" };
        lines.push_str(&format!(
            concat!(
                r#"{{"version":4,"run_id":{run},"selection":"{{}}","started_at":{start},"duration_ms":{total},"#,
                r#""success":{ok},"interrupted":false,"succeeded":3,"failed":{failed},"skipped":0,"up_to_date":5,"#,
                r#""tasks":[{{"address":"slow","status":"succeeded","duration_ms":{slow},"attempts":1}},"#,
                r#"{{"address":"ci/verify","status":"succeeded","duration_ms":40,"attempts":2,"failed_checks":{check}{flaky}}},"#,
                r#"{{"address":"deploy","status":"{deploy}","duration_ms":10,"attempts":1}}]}}"#,
                "\n"
            ),
            run = run,
            start = 1_000 + run,
            total = 2_000 + run * 100,
            ok = deploy == "succeeded",
            failed = usize::from(deploy == "failed"),
            slow = 900 + run * 100,
            check = check,
            flaky = if flaky { r#","flaky":true"# } else { "" },
            deploy = deploy,
        ));
    }
    lines
}

/// The first row under the heading that starts with `heading`.
fn row_after<'a>(report: &'a str, heading: &str) -> &'a str {
    report
        .lines()
        .skip_while(|l| !l.starts_with(heading))
        .nth(1)
        .unwrap_or_else(|| panic!("no `{heading}` section:\n{report}"))
}

#[test]
fn report_names_the_slowest_task_the_flaky_check_and_the_failures() {
    let test = Test::new()
        .kdl("task \"t\" { run \"true\"; }\n")
        .write(".orchestra/history.jsonl", history());
    let out = orchestra(test.path(), &["report"]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        report.starts_with("10 builds: 6 succeeded, 4 failed, 0 interrupted"),
        "{report}"
    );
    let slowest = row_after(&report, "slowest");
    assert!(slowest.trim_start().starts_with("slow "), "{report}");
    // Median of 900..1800 by 100 (nearest rank): 1300; p90: 1700.
    assert!(
        slowest.contains("1.3s") && slowest.contains("1.7s"),
        "{slowest}"
    );
    assert!(
        report.contains("deploy                                   4 / 10"),
        "{report}"
    );
    let flaky = row_after(&report, "flaky checks");
    assert!(
        flaky.contains("ci/verify › lint") && flaky.ends_with(" 5"),
        "{report}"
    );
    let fixes = row_after(&report, "fixes applied");
    assert!(
        fixes.contains("ci/verify › lint") && fixes.ends_with(" 5"),
        "{report}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&orchestra(test.path(), &["report", "--json"]).stdout).unwrap();
    assert_eq!(json["slowest"][0]["task"], "slow");
    assert_eq!(json["slowest"][0]["median_ms"], 1300);
    assert_eq!(json["flaky_checks"][0]["check"], "ci/verify › lint");
    assert_eq!(json["flaky_checks"][0]["builds"], 5);
    assert_eq!(json["failing"][0]["task"], "deploy");
    assert_eq!(json["tasks_up_to_date"], 50);
    // A page with a bar per build, nothing fetched.
    orchestra(test.path(), &["report", "--html", "report.html"]);
    let page = std::fs::read_to_string(test.path().join("report.html")).unwrap();
    assert_eq!(page.matches("<rect ").count(), 10, "{page}");
    assert!(!page.contains("http"));
    assert!(page.contains("ci/verify › lint"));
    // Those builds started in 1970: none is within the last day.
    let recent = text(&orchestra(test.path(), &["report", "--since", "1d"]).stdout);
    assert!(
        recent.starts_with("no builds in the history yet"),
        "{recent}"
    );
    let bad = orchestra(test.path(), &["report", "--since", "a while"]);
    assert_eq!(bad.status.code(), Some(2));
    // The last 3 builds only.
    let last = text(&orchestra(test.path(), &["report", "--last", "3"]).stdout);
    assert!(last.starts_with("3 builds:"), "{last}");
}

#[test]
fn a_real_build_lands_in_the_report() {
    let test = Test::new().kdl("task \"t\" { run \"true\"; }\n");
    let empty = text(&orchestra(test.path(), &["report"]).stdout);
    assert!(empty.starts_with("no builds in the history yet"), "{empty}");
    orchestra(test.path(), &["build", "--progress", "never"]);
    let report = text(&orchestra(test.path(), &["report"]).stdout);
    assert!(report.starts_with("1 build: 1 succeeded"), "{report}");
    assert!(report.contains("\n  t "), "{report}");
}

#[test]
fn a_task_found_up_to_date_saves_what_its_last_run_took() {
    let test = Test::new().kdl(
        "task \"slow\" { run \"sleep 0.3; cat in.txt > out.txt\"; inputs \"in.txt\"; outputs \"out.txt\"; }\n",
    )
    .write("in.txt", "x");
    orchestra(test.path(), &["build", "--progress", "never"]);
    orchestra(test.path(), &["build", "--progress", "never"]);
    let json: serde_json::Value =
        serde_json::from_slice(&orchestra(test.path(), &["report", "--json"]).stdout).unwrap();
    assert_eq!(json["tasks_up_to_date"], 1);
    let saved = json["saved_ms"].as_u64().unwrap();
    assert!((300..5_000).contains(&saved), "{json}");
    let shown = text(&orchestra(test.path(), &["report"]).stdout);
    assert!(
        shown.contains("1 up to date (skipped without running), saving "),
        "{shown}"
    );
}

#[test]
fn a_task_that_fails_and_succeeds_with_the_same_inputs_is_flaky() {
    // The task's result hangs on a file it does not declare: same
    // fingerprint, different outcomes.
    let test = Test::new()
        .kdl("task \"shaky\" { run \"test ! -e fail-now\"; inputs \"in.txt\"; }\n")
        .write("in.txt", "x")
        .write("fail-now", "");
    let build = |dir: &std::path::Path| {
        orchestra(dir, &["build", "--progress", "never"])
            .status
            .code()
    };
    let report = |dir: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&orchestra(dir, &["report", "--json"]).stdout).unwrap()
    };
    let dir = test.path();
    assert_eq!(build(dir), Some(1));
    std::fs::remove_file(dir.join("fail-now")).unwrap();
    assert_eq!(build(dir), Some(0));
    let json = report(dir);
    assert_eq!(json["flaky_tasks"][0]["task"], "shaky", "{json}");
    assert_eq!(json["flaky_tasks"][0]["failures"], 1);
    let shown = text(&orchestra(dir, &["report"]).stdout);
    assert!(
        shown.contains("flaky tasks: failed with inputs that also succeeded"),
        "{shown}"
    );
    // A change to what it declares is not flakiness.
    let other = Test::new()
        .kdl("task \"honest\" { run \"! grep -q bad in.txt\"; inputs \"in.txt\"; }\n")
        .write("in.txt", "bad");
    let dir = other.path();
    assert_eq!(build(dir), Some(1));
    std::fs::write(dir.join("in.txt"), "good").unwrap();
    assert_eq!(build(dir), Some(0));
    let json = report(dir);
    assert_eq!(json["flaky_tasks"], serde_json::json!([]), "{json}");
}
