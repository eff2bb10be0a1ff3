//! The output cache through the real binary: the local cache across a
//! branch switch (real git), and two clones sharing one real server —
//! nginx with `WebDAV` over the Bazel HTTP cache protocol, and `BuildGrid`
//! over REAPI v2 — with corrupted blobs, a server stopped mid-build and
//! secrets that must never reach it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::servers::Server;
use super::support::{git, orchestra, text, tool};

/// One test per real server: `$http` runs `$check` against nginx (the
/// Bazel HTTP cache protocol), `$reapi` against `BuildGrid` (REAPI v2).
macro_rules! on_both_servers {
    ($check:ident: $http:ident, $reapi:ident) => {
        #[test]
        fn $http() {
            if let Some(server) = Server::nginx() {
                $check(&server);
            }
        }

        #[test]
        fn $reapi() {
            if let Some(server) = Server::buildgrid() {
                $check(&server);
            }
        }
    };
}

/// Three tasks, each appending its name to `count` (outside every clone)
/// when it runs: `gen` (an executable and a text file), `lib`, and `link`,
/// which needs both.
fn project(count: &Path, extra: &str) -> String {
    let count = count.display();
    format!(
        r#"project "cached" {{
    {extra}
}}
task "gen" {{
    inputs "src/a.txt"
    outputs "out/a.txt" "out/a-again.txt" "out/run.sh" "out/big.bin"
    run "echo gen >> {count}; mkdir -p out; tr a-z A-Z < src/a.txt > out/a.txt; cp out/a.txt out/a-again.txt; printf '#!/bin/sh\necho hi\n' > out/run.sh; chmod 755 out/run.sh; yes \"$(cat src/a.txt)\" | head -c 3000000 > out/big.bin; echo made gen"
}}
task "lib" {{
    inputs "src/b.txt"
    outputs "out/b.txt"
    run "echo lib >> {count}; mkdir -p out; rev src/b.txt > out/b.txt"
}}
task "link" {{
    needs "gen" "lib"
    inputs "out/a.txt" "out/b.txt"
    outputs "out/all.txt"
    run "echo link >> {count}; cat out/a.txt out/b.txt > out/all.txt"
}}
"#
    )
}

/// A repository at `dir/a` with the project committed, and the count file.
fn repo(top: &Path, extra: &str) -> (PathBuf, PathBuf) {
    let a = top.join("a");
    let count = top.join("count");
    std::fs::create_dir_all(a.join("src")).unwrap();
    std::fs::write(a.join("orchestra.kdl"), project(&count, extra)).unwrap();
    std::fs::write(a.join("src/a.txt"), "alpha\n").unwrap();
    std::fs::write(a.join("src/b.txt"), "beta\n").unwrap();
    std::fs::write(a.join(".gitignore"), ".orchestra/\nout/\n").unwrap();
    git(&a, &["init", "-q"]);
    git(&a, &["add", "."]);
    git(&a, &["commit", "-qm", "start"]);
    (a, count)
}

/// The tasks that ran since the count was last taken, sorted (`gen` and
/// `lib` run side by side).
fn ran(count: &Path) -> Vec<String> {
    let lines = std::fs::read_to_string(count).unwrap_or_default();
    let _ = std::fs::remove_file(count);
    let mut ran: Vec<String> = lines.lines().map(str::to_owned).collect();
    ran.sort();
    ran
}

fn build(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["build", "--progress", "never"];
    args.extend_from_slice(extra);
    let out = orchestra(dir, &args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "build failed:\n{stderr}");
    stderr
}

fn outputs(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    // `big.bin` (3 MB) goes through ByteStream over REAPI, not a batch;
    // `a-again.txt` is `a.txt` again: one blob named twice in one entry.
    [
        "out/a.txt",
        "out/a-again.txt",
        "out/run.sh",
        "out/big.bin",
        "out/b.txt",
        "out/all.txt",
    ]
    .iter()
    .map(|p| {
        let path = dir.join(p);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        ((*p).to_owned(), std::fs::read(&path).unwrap(), mode)
    })
    .collect()
}

#[test]
fn the_local_cache_restores_outputs_after_a_branch_switch() {
    if !tool("git", "the local cache test") {
        return;
    }
    let top = tempfile::tempdir().unwrap();
    let (a, count) = repo(top.path(), "");
    build(&a, &[]);
    assert_eq!(ran(&count), ["gen", "lib", "link"]);
    let before = outputs(&a);

    git(&a, &["checkout", "-qb", "feature"]);
    std::fs::write(a.join("src/a.txt"), "changed\n").unwrap();
    git(&a, &["commit", "-qam", "change"]);
    build(&a, &[]);
    assert_eq!(ran(&count), ["gen", "link"]);

    git(&a, &["checkout", "-q", "main"]);
    // `why` tells, without restoring anything.
    let why = orchestra(&a, &["why", "gen"]);
    assert!(
        text(&why.stdout).contains("would be restored from the local cache"),
        "{}",
        text(&why.stdout)
    );
    let stderr = build(&a, &["--explain"]);
    assert_eq!(ran(&count), Vec::<String>::new(), "{stderr}");
    assert!(
        stderr.contains("restored gen from the local cache"),
        "{stderr}"
    );
    assert!(
        stderr.contains("restored link from the local cache"),
        "{stderr}"
    );
    // The log is replayed.
    assert!(stderr.contains("made gen"), "{stderr}");
    assert_eq!(outputs(&a), before, "byte-identical, with modes");
    // And the build after it is a no-op.
    let stderr = build(&a, &[]);
    assert!(stderr.contains("3 up to date"), "{stderr}");
}

#[test]
fn what_may_not_be_cached_always_runs() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("p");
    let count = top.path().join("count");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/x"), "1").unwrap();
    let c = count.display();
    std::fs::write(
        dir.join("orchestra.kdl"),
        format!(
            r#"task "never" cache=#false {{
    inputs "src/x"
    outputs "never.txt"
    run "echo never >> {c}; cp src/x never.txt"
}}
task "nothing-declared" {{
    run "echo nothing >> {c}"
}}
"#
        ),
    )
    .unwrap();
    build(&dir, &[]);
    std::fs::write(dir.join("src/x"), "2").unwrap();
    build(&dir, &[]);
    std::fs::write(dir.join("src/x"), "1").unwrap();
    build(&dir, &[]);
    assert_eq!(
        ran(&count),
        ["never", "never", "never", "nothing", "nothing", "nothing"]
    );
    let stats = orchestra(&dir, &["cache", "stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["entries"], 0, "{stats}");
}

#[test]
fn the_local_cache_keeps_to_its_size_and_can_be_emptied() {
    let top = tempfile::tempdir().unwrap();
    // `gen`'s 3 MB blob cannot fit; the small entries stored after it can.
    let (a, _count) = repo(top.path(), "cache-size \"20KB\"");
    build(&a, &[]);
    let stats = orchestra(&a, &["cache", "stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["limit"], 20_000);
    assert!(stats["bytes"].as_u64().unwrap() <= 20_000, "{stats}");
    assert!(stats["entries"].as_u64().unwrap() >= 1, "{stats}");
    let cleaned = text(&orchestra(&a, &["cache", "clean"]).stdout);
    assert!(cleaned.starts_with("removed "), "{cleaned}");
    assert!(!cleaned.starts_with("removed 0 entries"), "{cleaned}");
    let stats = orchestra(&a, &["cache", "stats"]);
    assert!(
        text(&stats.stdout).contains("0 entries, 0 blobs"),
        "{}",
        text(&stats.stdout)
    );
}

#[test]
fn cache_settings_that_make_no_sense_are_usage_errors() {
    let top = tempfile::tempdir().unwrap();
    let (a, _) = repo(top.path(), "");
    let out = orchestra(&a, &["build", "--cache", "remote"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--cache-url"),
        "{}",
        text(&out.stderr)
    );
    let out = orchestra(&a, &["build", "--cache-url", "ftp://x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("grpc://"),
        "{}",
        text(&out.stderr)
    );
    let out = orchestra(&a, &["build", "--cache", "cloud"]);
    assert_eq!(out.status.code(), Some(2));
    let out = orchestra(&a, &["build", "--cache-timeout", "0s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`10s`"), "{}", text(&out.stderr));
    // URLs that could only fail at run time, refused before anything runs,
    // a dry run included.
    for (url, why) in [
        ("http://", "no host"),
        ("grpc://host:abc", "not a port"),
        ("http://exa mple/c", "space"),
    ] {
        let out = orchestra(&a, &["build", "--dry-run", "--cache-url", url]);
        assert_eq!(out.status.code(), Some(2), "{url}");
        assert!(text(&out.stderr).contains(why), "{}", text(&out.stderr));
    }
    // An empty variable (a CI secret a fork's pull request does not get)
    // is as if unset.
    for variable in [
        "ORCHESTRA_CACHE",
        "ORCHESTRA_CACHE_URL",
        "ORCHESTRA_CACHE_TIMEOUT",
    ] {
        let out = std::process::Command::new(super::support::binary())
            .args(["build", "--progress", "never"])
            .env(variable, "")
            .current_dir(&a)
            .output()
            .unwrap();
        assert!(out.status.success(), "{variable}: {}", text(&out.stderr));
    }
    std::fs::write(
        a.join("orchestra.kdl"),
        "project \"p\" {\n    cache-size \"lots\"\n}\n",
    )
    .unwrap();
    let out = orchestra(&a, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("orchestra.kdl:2"), "{stderr}");
    assert!(stderr.contains("5GB"), "{stderr}");
}

/// Two clones of one repository share `server`: the second clone's first
/// build runs nothing and ends byte-identical; after one input changes,
/// only that task and what depends on it run.
fn two_clones_share(server: &Server) {
    if !tool("git", "the two-clone cache test") {
        return;
    }
    let top = tempfile::tempdir().unwrap();
    let (a, count) = repo(top.path(), "");
    let b = top.path().join("b");
    git(
        top.path(),
        &["clone", "-q", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let url = ["--cache-url", server.url.as_str()];

    let stderr = build(&a, &url);
    assert_eq!(ran(&count), ["gen", "lib", "link"]);
    assert!(stderr.contains("3 uploaded"), "{stderr}");

    let stderr = build(&b, &url);
    assert_eq!(ran(&count), Vec::<String>::new(), "{stderr}");
    assert!(
        stderr.contains(&format!("restored link from {}", server.url)),
        "{stderr}"
    );
    assert_eq!(outputs(&b), outputs(&a));

    std::fs::write(b.join("src/b.txt"), "changed\n").unwrap();
    build(&b, &url);
    assert_eq!(ran(&count), ["lib", "link"]);
    // What came from the server serves the next build locally, too.
    std::fs::write(b.join("src/b.txt"), "beta\n").unwrap();
    let stderr = build(&b, &["--cache", "local"]);
    assert_eq!(ran(&count), Vec::<String>::new(), "{stderr}");
}

on_both_servers!(two_clones_share: two_clones_share_an_http_cache, two_clones_share_a_reapi_cache);

/// A blob that changed on the server is noticed and the task rebuilt.
fn corrupted_blobs_are_rebuilt(server: &Server) {
    let top = tempfile::tempdir().unwrap();
    let (a, count) = repo(top.path(), "");
    let url = ["--cache-url", server.url.as_str()];
    build(&a, &url);
    ran(&count);
    let good = outputs(&a);
    // Every stored blob holding the `gen` output is garbled.
    let wanted = std::fs::read(a.join("out/a.txt")).unwrap();
    let mut garbled = 0;
    for (path, bytes) in server.stored() {
        if bytes == wanted {
            std::fs::write(&path, b"EVIL!!\n").unwrap();
            garbled += 1;
        }
    }
    assert!(garbled > 0, "the blob is on the server");
    std::fs::remove_dir_all(a.join(".orchestra")).unwrap();
    std::fs::remove_dir_all(a.join("out")).unwrap();
    let stderr = build(&a, &url);
    assert!(stderr.contains("corrupted"), "{stderr}");
    assert!(ran(&count).contains(&"gen".to_owned()), "{stderr}");
    assert_eq!(outputs(&a), good, "never a wrong output");
}

on_both_servers!(corrupted_blobs_are_rebuilt: a_corrupted_blob_on_an_http_cache_is_rebuilt, a_corrupted_blob_on_a_reapi_cache_is_rebuilt);

/// The server goes away during the build: a warning, a local build, exit 0.
fn a_server_stopped_mid_build_costs_a_warning(server: &Server) {
    let top = tempfile::tempdir().unwrap();
    let (a, count) = repo(top.path(), "");
    let kdl = std::fs::read_to_string(a.join("orchestra.kdl")).unwrap();
    let kdl = kdl.replace(
        "task \"gen\" {\n",
        &format!(
            "task \"stop-server\" {{\n    run \"{}\"\n}}\ntask \"gen\" {{\n    needs \"stop-server\"\n",
            server.stop_command()
        ),
    );
    std::fs::write(a.join("orchestra.kdl"), kdl).unwrap();
    let out = orchestra(
        &a,
        &[
            "build",
            "--progress",
            "never",
            "-j1",
            "--cache-url",
            &server.url,
        ],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: remote cache"), "{stderr}");
    assert_eq!(
        stderr.matches("warning: remote cache").count(),
        1,
        "one warning, not one per task:\n{stderr}"
    );
    assert_eq!(ran(&count), ["gen", "lib", "link"]);
}

on_both_servers!(a_server_stopped_mid_build_costs_a_warning: an_http_cache_stopped_mid_build_costs_a_warning, a_reapi_cache_stopped_mid_build_costs_a_warning);

/// Neither a task that names a secret nor one whose output holds a
/// secret's value reaches the server; the rest does.
fn secrets_never_reach(server: &Server) {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("p");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/in"), "plain\n").unwrap();
    std::fs::write(
        dir.join("orchestra.kdl"),
        r#"project "p" {
    secret "DEPLOY_TOKEN"
}
task "names-it" {
    inputs "src/in"
    outputs "out/token"
    run "mkdir -p out; echo \"$DEPLOY_TOKEN\" > out/token"
}
task "leaks-it" {
    inputs "src/in"
    outputs "out/env"
    run "mkdir -p out; env > out/env"
}
task "clean" {
    inputs "src/in"
    outputs "out/clean"
    run "mkdir -p out; cp src/in out/clean"
}
"#,
    )
    .unwrap();
    let secret = "hunter2-very-secret-value";
    let out = Command::new(super::support::binary())
        .args(["build", "--progress", "never", "--cache-url", &server.url])
        .current_dir(&dir)
        .env("DEPLOY_TOKEN", secret)
        .env_remove("CI")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1 uploaded"), "{stderr}");
    assert!(
        stderr.contains("not cached: its outputs hold a secret"),
        "{stderr}"
    );
    let stored = server.stored();
    assert!(
        stored.iter().any(|(_, b)| b == b"plain\n"),
        "the clean task is there"
    );
    for (path, bytes) in stored {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the secret",
            path.display()
        );
    }
}

on_both_servers!(secrets_never_reach: secrets_never_reach_an_http_cache, secrets_never_reach_a_reapi_cache);

#[test]
fn a_read_only_remote_restores_but_never_uploads() {
    let Some(server) = Server::nginx() else {
        return;
    };
    let top = tempfile::tempdir().unwrap();
    let (a, count) = repo(top.path(), "");
    let stderr = build(
        &a,
        &["--cache", "local,remote:r", "--cache-url", &server.url],
    );
    assert!(stderr.contains("0 uploaded"), "{stderr}");
    assert!(server.stored().is_empty(), "nothing was written");
    assert_eq!(ran(&count).len(), 3);
    // Filled by a build that may write, the server serves a reader: a
    // second clone restores everything and still uploads nothing.
    let filler = top.path().join("filler");
    git(
        top.path(),
        &["clone", "-q", &a.display().to_string(), "filler"],
    );
    build(&filler, &["--cache", "remote", "--cache-url", &server.url]);
    let stored = server.stored().len();
    assert!(stored > 0, "the filler stored nothing");
    let _ = ran(&count);
    let reader = top.path().join("reader");
    git(
        top.path(),
        &["clone", "-q", &a.display().to_string(), "reader"],
    );
    let stderr = build(
        &reader,
        &["--cache", "local,remote:r", "--cache-url", &server.url],
    );
    assert!(ran(&count).is_empty(), "a task ran: {stderr}");
    assert!(stderr.contains("0 uploaded"), "{stderr}");
    assert_eq!(server.stored().len(), stored, "the reader wrote");
}

#[test]
fn a_server_that_never_answers_costs_its_timeout_once() {
    for scheme in ["http", "grpc"] {
        // Accepts connections and never answers a byte.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let held = std::thread::spawn(move || {
            let mut open = Vec::new();
            for stream in listener.incoming().take(4) {
                open.push(stream);
            }
            std::thread::sleep(std::time::Duration::from_secs(5));
        });
        let top = tempfile::tempdir().unwrap();
        let (a, count) = repo(top.path(), "");
        let started = std::time::Instant::now();
        let stderr = build(&a, &["--cache-url", &url, "--cache-timeout", "1s"]);
        assert!(stderr.contains("warning: remote cache"), "{stderr}");
        assert_eq!(
            stderr.matches("warning: remote cache").count(),
            1,
            "{stderr}"
        );
        assert_eq!(ran(&count).len(), 3);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{scheme}: the build waited {:?}",
            started.elapsed()
        );
        drop(held);
    }
}

#[test]
fn a_restored_directory_holds_what_the_entry_holds() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("name"), "one\n").unwrap();
    // Like a bundler: the file it writes is named after its input.
    std::fs::write(
        dir.join("orchestra.kdl"),
        "task \"bundle\" {\n    inputs \"name\"\n    outputs \"dist\"\n    run \"mkdir -p dist; cp name dist/$(cat name).js\"\n}\n",
    )
    .unwrap();
    build(&dir, &[]);
    std::fs::write(dir.join("name"), "two\n").unwrap();
    build(&dir, &[]);
    assert!(dir.join("dist/one.js").exists() && dir.join("dist/two.js").exists());
    std::fs::write(dir.join("name"), "one\n").unwrap();
    let stderr = build(&dir, &[]);
    assert!(
        stderr.contains("restored bundle from the local cache"),
        "{stderr}"
    );
    assert!(dir.join("dist/one.js").exists());
    assert!(
        !dir.join("dist/two.js").exists(),
        "the other run's file is not left beside the restored one"
    );
}

#[test]
fn a_deleted_output_is_restored_not_rebuilt() {
    let top = tempfile::tempdir().unwrap();
    let (a, count) = repo(top.path(), "");
    build(&a, &[]);
    ran(&count);
    let before = outputs(&a);
    std::fs::remove_file(a.join("out/run.sh")).unwrap();
    let stderr = build(&a, &["--explain"]);
    assert!(stderr.contains("output missing: out/run.sh"), "{stderr}");
    assert!(
        stderr.contains("restored gen from the local cache"),
        "{stderr}"
    );
    assert_eq!(ran(&count), Vec::<String>::new());
    assert_eq!(outputs(&a), before);
}

#[test]
fn the_server_may_be_named_in_the_project_or_the_environment() {
    let Some(server) = Server::nginx() else {
        return;
    };
    if !tool("git", "the cache-url test") {
        return;
    }
    // `project { cache-url … }`, with no flag.
    let top = tempfile::tempdir().unwrap();
    let (a, count) = repo(top.path(), &format!("cache-url \"{}\"", server.url));
    let stderr = build(&a, &[]);
    assert!(stderr.contains("3 uploaded"), "{stderr}");
    assert_eq!(ran(&count).len(), 3);
    // ORCHESTRA_CACHE_URL, as CI sets a secret, over the project's: a
    // clone whose file names a server that is not there restores from it.
    let b = top.path().join("b");
    git(
        top.path(),
        &["clone", "-q", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let kdl = std::fs::read_to_string(b.join("orchestra.kdl")).unwrap();
    let kdl = kdl.replace(&server.url, "http://127.0.0.1:9/nothing");
    std::fs::write(b.join("orchestra.kdl"), kdl).unwrap();
    let out = Command::new(super::support::binary())
        .args(["build", "--progress", "never"])
        .current_dir(&b)
        .env("ORCHESTRA_CACHE_URL", &server.url)
        .env_remove("CI")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("restored link from {}", server.url)),
        "{stderr}"
    );
    assert_eq!(ran(&count), Vec::<String>::new());
}

#[test]
fn a_store_that_is_not_a_directory_is_said_once_and_cleaned() {
    let test = super::support::Test::new()
        .kdl(
            "task \"a\" { inputs \"in\"; outputs \"a.out\"; run \"cp in a.out\" }\n\
             task \"b\" { inputs \"in\"; outputs \"b.out\"; run \"cp in b.out\" }\n\
             task \"c\" { inputs \"in\"; outputs \"c.out\"; run \"cp in c.out\" }\n",
        )
        .write("in", "1\n")
        .write(".orchestra/cache", "not a directory");
    let dir = test.path();
    let out = orchestra(dir, &["build", "--progress", "never"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("warning").count(), 1, "{stderr}");
    assert!(stderr.contains("local cache off"), "{stderr}");
    assert!(orchestra(dir, &["cache", "clean"]).status.success());
    assert!(dir.join(".orchestra/cache").symlink_metadata().is_err());
    let out = orchestra(dir, &["build", "-B", "--progress", "never"]);
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
    let stats = text(&orchestra(dir, &["cache", "stats"]).stdout);
    assert!(stats.contains("3 entries"), "{stats}");
}
