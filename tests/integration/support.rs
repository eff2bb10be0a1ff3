//! A small builder that runs the real `orchestra` binary in a temporary
//! project and checks status, stdout and stderr together.
//!
//! ```ignore
//! Test::new()
//!     .kdl(r#"task "a" { run "true" }"#)
//!     .args(["check"])
//!     .status(0)
//!     .stdout_contains("ok")
//!     .run();
//! ```

#![allow(dead_code, unreachable_pub)] // Each test module uses a different part; `pub` is for sibling modules.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path to the built binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orchestra"))
}

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    status: Option<i32>,
    stdout: Vec<Check>,
    stderr: Vec<Check>,
}

enum Check {
    Equals(String),
    Contains(String),
    Lacks(String),
}

/// What a finished run produced, for assertions the builder does not cover.
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: tempfile::TempDir,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: None,
            status: Some(0),
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// The project directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `orchestra.kdl` in the project directory.
    pub fn kdl(self, text: &str) -> Self {
        self.write("orchestra.kdl", text)
    }

    /// Writes a file (parents created) relative to the project directory.
    pub fn write(self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let full = self.dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(full, contents).expect("write file");
        self
    }

    /// Copies a fixture to `orchestra.kdl`.
    /// The fixture as `orchestra.kdl`, with the files it names in
    /// `// fixture file: PATH` lines (its inputs) created empty.
    pub fn fixture(self, relative: &str) -> Self {
        let text = std::fs::read(fixtures().join(relative)).expect("read fixture");
        let files: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|l| l.trim().strip_prefix("// fixture file: "))
            .map(str::to_owned)
            .collect();
        let mut this = self.write("orchestra.kdl", text);
        for file in files {
            this = this.write(&file, "");
        }
        this
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs from this directory (relative to the project) instead of its root.
    pub fn current_dir(mut self, relative: &str) -> Self {
        let dir = self.dir.path().join(relative);
        std::fs::create_dir_all(&dir).expect("create cwd");
        self.cwd = Some(dir);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The expected exit code (default 0).
    pub fn status(mut self, code: i32) -> Self {
        self.status = Some(code);
        self
    }

    /// Accept any exit code (check it on the returned [`Ran`]).
    pub fn any_status(mut self) -> Self {
        self.status = None;
        self
    }

    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout.push(Check::Equals(text.into()));
        self
    }

    pub fn stdout_contains(mut self, text: &str) -> Self {
        self.stdout.push(Check::Contains(text.into()));
        self
    }

    pub fn stdout_lacks(mut self, text: &str) -> Self {
        self.stdout.push(Check::Lacks(text.into()));
        self
    }

    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr.push(Check::Equals(text.into()));
        self
    }

    pub fn stderr_contains(mut self, text: &str) -> Self {
        self.stderr.push(Check::Contains(text.into()));
        self
    }

    pub fn stderr_lacks(mut self, text: &str) -> Self {
        self.stderr.push(Check::Lacks(text.into()));
        self
    }

    /// A command for the binary with a clean, deterministic environment:
    /// no colour, no terminal width, no inherited orchestra variables.
    pub fn command(&self) -> Command {
        let mut command = Command::new(binary());
        command
            .args(&self.args)
            .current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()))
            .env_remove("COLUMNS")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("NO_COLOR")
            // CI turns gate fixes off; tests set it when they mean it.
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("NO_COLOR", "1");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// A command for the binary, as [`Test::command`], with other arguments.
    pub fn command_with(&self, args: &[&str]) -> Command {
        let mut command = self.command();
        let mut fresh = Command::new(command.get_program());
        fresh
            .args(args)
            .current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()));
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => fresh.env(key, value),
                None => fresh.env_remove(key),
            };
        }
        let _ = &mut command;
        fresh
    }

    /// Runs and checks every expectation, panicking with the whole output
    /// when one fails.
    pub fn run(self) -> Ran {
        let mut command = self.command();
        let output = if let Some(input) = &self.stdin {
            use std::io::Write;
            let mut child = command
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn orchestra");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input)
                .expect("write stdin");
            child.wait_with_output().expect("wait for orchestra")
        } else {
            command
                .stdin(std::process::Stdio::null())
                .output()
                .expect("run orchestra")
        };
        self.verify(&output)
    }

    fn verify(self, output: &Output) -> Ran {
        let status = output.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let mut failures = Vec::new();
        if let Some(expected) = self.status
            && expected != status
        {
            failures.push(format!("exit status {status}, expected {expected}"));
        }
        for (name, checks, text) in [
            ("stdout", &self.stdout, &stdout),
            ("stderr", &self.stderr, &stderr),
        ] {
            for check in checks {
                match check {
                    Check::Equals(want) if want != text => {
                        failures.push(format!("{name} differs; expected:\n{want}"));
                    }
                    Check::Contains(want) if !text.contains(want.as_str()) => {
                        failures.push(format!("{name} lacks {want:?}"));
                    }
                    Check::Lacks(unwanted) if text.contains(unwanted.as_str()) => {
                        failures.push(format!("{name} contains {unwanted:?}"));
                    }
                    _ => {}
                }
            }
        }
        assert!(
            failures.is_empty(),
            "orchestra {:?}\n{}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            self.args,
            failures.join("\n"),
        );
        Ran {
            status,
            stdout,
            stderr,
            dir: self.dir,
        }
    }
}

// Helpers for tests that run orchestra more than once in one directory, in
// the background, or signal it (durable runs, locks).

/// Runs orchestra in `dir` to the end.
pub fn orchestra(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        // CI turns gate fixes off; tests set it when they mean it.
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run orchestra")
}

/// Starts orchestra in `dir` in the background.
pub fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(binary())
        // CI turns gate fixes off; tests set it when they mean it.
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn orchestra")
}

/// Waits (at most 5s) until `predicate` holds.
pub fn eventually(what: &str, predicate: impl Fn() -> bool) {
    eventually_within(what, Duration::from_secs(5), predicate);
}

/// Waits (at most `limit`) until `predicate` holds.
pub fn eventually_within(what: &str, limit: Duration, predicate: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !predicate() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {name} {pid}");
}

/// Runs git in `dir` as a fixed author on branch `main`, which must succeed.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

/// Whether the process is gone; a zombie waiting for its reaper counts.
pub fn gone(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .map_or(true, |stat| stat.contains(") Z "))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A detached tmux session running one shell script on a 100×15 terminal,
/// for tests that need a real terminal. Its server socket lives in `dir`, so
/// no other tmux sees it and nothing is left in /tmp; the server is killed
/// on drop.
pub struct Terminal {
    socket: PathBuf,
}

impl Terminal {
    /// Starts `script` under `sh -c`; `None` (with a note) without tmux.
    pub fn start(dir: &Path, script: &str) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("tmux is not installed: skipping the terminal test");
            return None;
        }
        let terminal = Self {
            socket: dir.join("tmux.sock"),
        };
        let started = terminal.tmux(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "15",
            "sh",
            "-c",
            script,
        ]);
        assert!(started.status.success(), "{started:?}");
        Some(terminal)
    }

    /// Runs `orchestra build FLAGS` in `dir` on the terminal, after the
    /// shell runs `before` (a trap, say), then prints `EXIT=<code>` and
    /// keeps the screen for a look; `None` without tmux.
    pub fn build(dir: &Path, before: &str, flags: &str) -> Option<Self> {
        let script = format!(
            "{before}cd '{}' && '{}' build {flags}; echo EXIT=$?; sleep 30",
            dir.display(),
            binary().display()
        );
        Self::start(dir, &script)
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    /// What the terminal shows now.
    pub fn screen(&self) -> String {
        text(&self.tmux(&["capture-pane", "-p"]).stdout)
    }

    /// Types keys, in tmux's notation (`C-c`, `Enter`, `y`).
    pub fn send_keys(&self, keys: &str) {
        self.tmux(&["send-keys", keys]);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// `SplitMix64`: tiny and deterministic, for reproducible random inputs
/// (mutations, graphs) from a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `orchestra build --progress never EXTRA…` in `dir`, which must succeed:
/// the addresses of the tasks that started, sorted, and stderr.
pub fn build_started(dir: &Path, extra: &[&str]) -> (Vec<String>, String) {
    let mut args = vec!["build", "--progress", "never"];
    args.extend_from_slice(extra);
    let out = orchestra(dir, &args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let mut started: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split_once("] start ").map(|(_, t)| t.to_owned()))
        .collect();
    started.sort();
    (started, stderr)
}

/// Whether `program` runs here. A test that needs it skips without it,
/// saying so, except where `ORCHESTRA_REQUIRE_TOOLS` is set (`.ci/run`
/// installs every tool and sets it), where a missing tool fails the test.
pub fn tool(program: &str, what_for: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("ORCHESTRA_REQUIRE_TOOLS").is_none(),
            "`{program}` is required here ({what_for})"
        );
        eprintln!("`{program}` is not installed: skipping {what_for}");
    }
    found
}

/// `orchestra plan --format json EXTRA…` in `dir`, which must succeed: the
/// planned addresses, in plan order.
pub fn planned(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["plan", "--format", "json"];
    args.extend_from_slice(extra);
    let out = orchestra(dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    json["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["address"].as_str().expect("an address").to_owned())
        .collect()
}
