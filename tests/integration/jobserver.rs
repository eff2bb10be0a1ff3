//! The GNU make jobserver orchestra serves: a nested `make` (the real one)
//! in a task with `jobserver=#true` shares orchestra's `-j` instead of
//! adding its own jobs.

use std::path::Path;

use crate::support::{Test, orchestra, text, tool};

/// Six jobs that log when they start (`+`) and end (`-`), in nanoseconds.
const MAKEFILE: &str = "JOBS := a b c d e f
all: $(JOBS)
$(JOBS):
\t@echo \"+ $$(date +%s%N)\" >> $(LOG); sleep 0.4; echo \"- $$(date +%s%N)\" >> $(LOG)
.PHONY: all $(JOBS)
";

const KDL: &str = r#"task "one" jobserver=#true { run "make LOG=one.log"; }
task "two" jobserver=#true { run "make LOG=two.log"; }
"#;

/// The most jobs the logs show running at once.
fn most_at_once(dir: &Path, logs: &[&str]) -> usize {
    let mut events: Vec<(u128, i32)> = Vec::new();
    for log in logs {
        let text = std::fs::read_to_string(dir.join(log)).unwrap();
        for line in text.lines() {
            let (sign, at) = line.split_once(' ').unwrap();
            events.push((at.parse().unwrap(), if sign == "+" { 1 } else { -1 }));
        }
        std::fs::remove_file(dir.join(log)).unwrap();
    }
    // An end before a start at the same instant.
    events.sort_unstable();
    let (mut now, mut most) = (0, 0);
    for (_, step) in events {
        now += step;
        most = most.max(now);
    }
    usize::try_from(most).unwrap()
}

fn build(dir: &Path, args: &[&str]) {
    let mut all = vec!["build", "--progress", "never"];
    all.extend_from_slice(args);
    let out = orchestra(dir, &all);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_nested_make_shares_orchestras_jobs() {
    if !tool("make", "the nested make test") {
        return;
    }
    let test = Test::new().kdl(KDL).write("Makefile", MAKEFILE);
    let dir = test.path();
    // Alone, `make` runs in parallel with the slots orchestra offers.
    build(dir, &["-j3", "one"]);
    assert_eq!(most_at_once(dir, &["one.log"]), 3);
    // Two makes under -j2: two jobs at once in all, not two each.
    build(dir, &["-j2", "one", "two"]);
    assert_eq!(most_at_once(dir, &["one.log", "two.log"]), 2);
    // -j1: one job at a time, though make has six to run.
    build(dir, &["-j1", "one"]);
    assert_eq!(most_at_once(dir, &["one.log"]), 1);
}

#[test]
fn a_fifo_client_opens_the_path_and_finds_the_tokens() {
    // What make ≥ 4.4 does with `fifo:PATH`, done by hand: take every
    // token there is (two for -j3), find no third, give them back.
    let client = r#"path=${MAKEFLAGS##*fifo:}
exec 3<>"$path"
dd bs=1 count=2 <&3 2>/dev/null > taken
if timeout 0.3 dd bs=1 count=1 <&3 2>/dev/null | grep -q .; then echo third >> taken; fi
cat taken >&3
echo "flags: $MAKEFLAGS""#;
    let test = Test::new()
        .kdl("task \"client\" jobserver=\"fifo\" { run \"sh client.sh\"; }\n")
        .write("client.sh", client);
    let out = orchestra(test.path(), &["build", "-j3", "-v", "--progress", "never"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(test.path().join("taken")).unwrap(),
        "++"
    );
    assert!(
        stderr.contains("flags: -j3 --jobserver-auth=fifo:/proc/"),
        "{stderr}"
    );
}

#[test]
fn a_task_without_jobserver_gets_no_flags_and_a_wrong_style_is_an_error() {
    Test::new()
        .kdl("task \"t\" { run \"echo [$MAKEFLAGS]\"; }\n")
        .env("MAKEFLAGS", "")
        .args(["build", "-v", "--progress", "never"])
        .stderr_contains("t | []")
        .run();
    Test::new()
        .kdl("task \"t\" jobserver=\"yes\" { run \"make\"; }\n")
        .args(["check"])
        .status(2)
        .stderr_contains("invalid `jobserver`: `yes` is not a jobserver style")
        .stderr_contains("orchestra.kdl:1:10")
        .run();
}
