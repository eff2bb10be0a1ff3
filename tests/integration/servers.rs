//! Real cache servers for the cache tests, each private to one test: nginx
//! with `WebDAV` (the Bazel HTTP cache protocol) and `BuildGrid` (REAPI v2),
//! started on 127.0.0.1 by the scripts in `tests/servers/` and stopped when
//! the value is dropped. `.ci/install-cache-servers` installs both; a
//! missing server skips its test here and fails it where
//! `ORCHESTRA_REQUIRE_TOOLS` is set (CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::tool;

pub(crate) struct Server {
    dir: tempfile::TempDir,
    script: &'static str,
    pub(crate) url: String,
    /// Where it keeps what it was sent.
    pub(crate) storage: PathBuf,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(name)
}

/// `bgd` from `ORCHESTRA_BGD`, else where `.ci/install-cache-servers` puts it.
fn bgd() -> Option<PathBuf> {
    let path = std::env::var_os("ORCHESTRA_BGD").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-tools/buildgrid/bin/bgd"),
        PathBuf::from,
    );
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("ORCHESTRA_REQUIRE_TOOLS").is_none(),
        "BuildGrid is required here: run .ci/install-cache-servers ({} is missing)",
        path.display()
    );
    eprintln!("BuildGrid is not installed: skipping (run .ci/install-cache-servers)");
    None
}

impl Server {
    fn start(script_name: &'static str, extra: &[&Path], storage: &str) -> Self {
        let dir = tempfile::tempdir().expect("server directory");
        let output = Command::new("bash")
            .arg(script(script_name))
            .arg("start")
            .arg(dir.path())
            .args(extra)
            .output()
            .expect("run the server script");
        assert!(
            output.status.success(),
            "{script_name} could not start its server:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let storage = dir.path().join(storage);
        Self {
            dir,
            script: script_name,
            url,
            storage,
        }
    }

    /// nginx with `WebDAV`, or `None` (skipped) where nginx is missing.
    pub(crate) fn nginx() -> Option<Self> {
        tool("nginx", "the HTTP cache tests").then(|| Self::start("nginx-cache.sh", &[], "store"))
    }

    /// `BuildGrid`, or `None` (skipped) where it is not installed.
    pub(crate) fn buildgrid() -> Option<Self> {
        let bgd = bgd()?;
        Some(Self::start("buildgrid.sh", &[&bgd], "cas"))
    }

    pub(crate) fn stop(&self) {
        let _ = Command::new("bash")
            .arg(script(self.script))
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }

    /// The command that stops it, for a task to run mid-build.
    pub(crate) fn stop_command(&self) -> String {
        format!(
            "bash {} stop {}",
            script(self.script).display(),
            self.dir.path().display()
        )
    }

    /// Every file it stored, with its bytes.
    pub(crate) fn stored(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.storage.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    out.push((path, bytes));
                }
            }
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
