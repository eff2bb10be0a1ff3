//! The guardian: a small process started once per build (orchestra's own
//! binary, `orchestra __guardian`) that kills the build's command groups
//! if orchestra dies without doing so — `kill -9`, an OOM kill, a crash.
//!
//! Why a process and not `PR_SET_PDEATHSIG`: that needs a `pre_exec` hook
//! in every spawn, which makes std fork instead of `posix_spawn` (measured
//! 4× slower per task from a large parent). The guardian costs one spawn
//! per build and a short line on a pipe per command: orchestra writes
//! `+<group>` when a command starts and `-<group>` just before reaping it.
//! When the pipe closes — orchestra exited, however it exited — the
//! guardian sends TERM to every group still listed, then KILL a moment
//! later, and exits. After a normal exit the list is empty.
//!
//! The guardian runs in its own process group and ignores Ctrl-C, SIGTERM
//! and SIGHUP (which orchestra handles for the build), so only the pipe
//! ends it.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::signal::signal_group;

/// How long groups get between the guardian's TERM and KILL.
const GUARDIAN_GRACE: Duration = Duration::from_millis(500);

/// The build's side: the pipe to a running guardian.
#[derive(Debug)]
pub(crate) struct Guardian {
    pipe: Mutex<Option<ChildStdin>>,
    child: Child,
}

impl Guardian {
    /// Starts the guardian from orchestra's own executable.
    pub(crate) fn start() -> std::io::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg("__guardian")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let pipe = child.stdin.take();
        Ok(Self {
            pipe: Mutex::new(pipe),
            child,
        })
    }

    fn send(&self, line: &str) {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stdin) = pipe.as_mut()
            && stdin.write_all(line.as_bytes()).is_err()
        {
            // The guardian is gone; nothing more to tell it.
            *pipe = None;
        }
    }

    /// A command's group started.
    pub(crate) fn watch(&self, group: u32) {
        self.send(&format!("+{group}\n"));
    }

    /// A command's group is about to be reaped.
    pub(crate) fn forget(&self, group: u32) {
        self.send(&format!("-{group}\n"));
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        drop(
            self.pipe
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let _ = self.child.wait();
    }
}

/// The guardian's side: `orchestra __guardian`.
pub(crate) fn serve() -> ExitCode {
    // Ignore the terminal's and the system's stop signals: orchestra
    // decides what they mean for the build; only the pipe ends us.
    let _ = ctrlc::set_handler(|| {});
    let mut groups = HashSet::new();
    let stdin = std::io::stdin().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        let (sign, number) = line.split_at(line.len().min(1));
        let Ok(group) = number.parse::<u32>() else {
            continue;
        };
        match sign {
            "+" => {
                groups.insert(group);
            }
            "-" => {
                groups.remove(&group);
            }
            _ => {}
        }
    }
    if !groups.is_empty() {
        for &group in &groups {
            signal_group(group, libc::SIGTERM);
        }
        std::thread::sleep(GUARDIAN_GRACE);
        for &group in &groups {
            signal_group(group, libc::SIGKILL);
        }
    }
    ExitCode::SUCCESS
}
