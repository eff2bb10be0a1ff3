//! The process groups of the commands running now, shared by the scheduler's
//! thread, which stops them all on an interrupt and forgets a group just
//! before reaping its leader, and the `/proc` watcher thread.
//!
//! A command given the terminal's foreground (`interactive=#true`) runs in
//! orchestra's own group instead; it is kept apart, as a single process.
//!
//! Why forget before reaping: until its leader is reaped, a group's id
//! cannot be reused by the system, so a signal sent to a group still in the
//! set always reaches our own commands and never a stranger's.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use super::guardian::Guardian;
use super::signal::{GRACE, signal_group, signal_process};

#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    ids: Arc<Mutex<HashSet<u32>>>,
    /// Commands in the terminal's foreground, in orchestra's own group:
    /// signalled one process at a time, never as a group.
    foreground: Arc<Mutex<HashSet<u32>>>,
    /// Groups killed because a process of theirs stopped to read the
    /// terminal (see [`Groups::watch_terminal_stops`]).
    stopped: Arc<Mutex<HashSet<u32>>>,
    /// Told of every group too, to kill them if orchestra is killed.
    guardian: Option<Arc<Guardian>>,
}

impl Groups {
    /// Groups that a guardian process also knows of.
    pub(crate) fn guarded(guardian: Guardian) -> Self {
        Self {
            guardian: Some(Arc::new(guardian)),
            ..Self::default()
        }
    }

    /// Whether `leader`'s group was killed for reading the terminal.
    pub(crate) fn needed_terminal(&self, leader: u32) -> bool {
        self.stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&leader)
    }

    /// Starts a thread that, every half second while commands run, looks
    /// for a process of theirs stopped by the terminal (`SIGTTIN`,
    /// `SIGTTOU`: a command in a background process group read or
    /// configured the terminal, as `sudo` and `ssh` do for a password). A
    /// stopped process would wait forever; its group is killed and its
    /// command reported as needing the terminal. It reads `/proc`, so it
    /// costs nothing while nothing runs and never touches a process.
    pub(crate) fn watch_terminal_stops(&self) {
        let groups = self.clone();
        let _ = thread::Builder::new()
            .name("orchestra-stops".into())
            .spawn(move || {
                // Ends with the executor: only this thread holds a count then.
                let mut lingering = HashMap::new();
                while Arc::strong_count(&groups.ids) > 1 {
                    thread::sleep(Duration::from_millis(500));
                    groups.kill_stopped();
                    groups.end_lingering(&mut lingering);
                }
            });
    }

    /// A command whose process has exited but whose output pipe is still
    /// held open — by a background child (`server &`) — would keep its
    /// task running until that child exits. Its leader is then a zombie
    /// (not reaped until the pipe closes, so its group id is still ours).
    /// A child finishing its last writes (`>(tee log)`) gets a pass of
    /// grace; then the rest of the group gets TERM, and KILL a pass later.
    /// Counted per leader and start time, so a reused pid starts afresh.
    fn end_lingering(&self, lingering: &mut HashMap<(u32, u64), u8>) {
        let ids = self.lock();
        let mut seen = HashMap::new();
        for &leader in ids.iter() {
            let Some(started) = zombie_since(leader) else {
                continue;
            };
            let passes = lingering.get(&(leader, started)).copied().unwrap_or(0) + 1;
            match passes {
                1 => {}
                2 => signal_group(leader, libc::SIGTERM),
                _ => signal_group(leader, libc::SIGKILL),
            }
            seen.insert((leader, started), passes);
        }
        *lingering = seen;
    }

    fn kill_stopped(&self) {
        // Holding the lock: no leader is reaped while we look and signal.
        let ids = self.lock();
        if ids.is_empty() {
            return;
        }
        for group in stopped_groups(&ids) {
            self.stopped
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(group);
            signal_group(group, libc::SIGKILL);
        }
    }

    /// A command just started in the group led by `leader`.
    pub(crate) fn insert(&self, leader: u32) {
        if let Some(guardian) = &self.guardian {
            guardian.watch(leader);
        }
        self.lock().insert(leader);
    }

    /// The command's leader is about to be reaped: never signal it again.
    pub(crate) fn forget(&self, leader: u32) {
        self.lock().remove(&leader);
        if let Some(guardian) = &self.guardian {
            guardian.forget(leader);
        }
    }

    /// A command just started in the terminal's foreground, as process
    /// `pid` of orchestra's own group.
    pub(crate) fn insert_foreground(&self, pid: u32) {
        lock(&self.foreground).insert(pid);
    }

    /// The foreground command `pid` is about to be reaped.
    pub(crate) fn forget_foreground(&self, pid: u32) {
        lock(&self.foreground).remove(&pid);
    }

    /// Sends `signal` to every group still running, and to every command
    /// in the foreground.
    pub(crate) fn signal_all(&self, signal: libc::c_int) {
        // Holding the lock while signalling keeps the executor from reaping a
        // leader between our look-up and the signal.
        let ids = self.lock();
        for &leader in ids.iter() {
            signal_group(leader, signal);
        }
        for &pid in lock(&self.foreground).iter() {
            signal_process(pid, signal);
        }
    }

    /// Stops every running command: KILL at once when `hard`; otherwise
    /// TERM now and KILL, [`GRACE`] later, whatever has not ended by then.
    pub(crate) fn stop(&self, hard: bool) {
        self.stop_within(hard, GRACE);
    }

    fn stop_within(&self, hard: bool, grace: Duration) {
        if hard {
            self.signal_all(libc::SIGKILL);
            return;
        }
        self.signal_all(libc::SIGTERM);
        let groups = self.clone();
        // Detached: if everything ends in time there is nothing left to
        // kill, and orchestra may exit before the grace period is over.
        let _ = thread::Builder::new()
            .name("orchestra-grace".into())
            .spawn(move || {
                thread::sleep(grace);
                groups.signal_all(libc::SIGKILL);
            });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        lock(&self.ids)
    }
}

fn lock(set: &Mutex<HashSet<u32>>) -> std::sync::MutexGuard<'_, HashSet<u32>> {
    // A panicking thread leaves the set itself intact.
    set.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When `pid` started (in clock ticks since boot), if it is a zombie: the
/// fields after the name in `/proc/<pid>/stat` are the state, then the
/// start time as the 20th.
fn zombie_since(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    if fields.next()? != "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// The groups among `ids` with a process stopped by job control, read
/// from `/proc/<pid>/stat` (state `T`, process group the fifth field).
/// The process group of a process that `/proc/PID/stat` shows stopped by
/// its terminal: stopped (`T`), with a controlling terminal (`tty_nr`),
/// outside that terminal's foreground group (`tpgid`), which is the only
/// way the terminal stops a process (`SIGTTIN`, `SIGTTOU`). A process
/// stopped without a terminal was stopped on purpose (`kill -STOP`, a
/// debugger, a test harness) and is left to whoever will continue it.
fn stopped_by_terminal(stat: &str) -> Option<u32> {
    // `pid (comm) state ppid pgrp session tty_nr tpgid …`; comm may hold
    // spaces and parens.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().take(6).collect();
    let [state, _ppid, pgrp, _session, tty, tpgid] = fields[..] else {
        return None;
    };
    let group = pgrp.parse::<u32>().ok()?;
    let on_terminal = tty != "0";
    let in_background = tpgid.parse::<i64>().ok() != Some(i64::from(group));
    (state == "T" && on_terminal && in_background).then_some(group)
}

fn stopped_groups(ids: &HashSet<u32>) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some(group) = stopped_by_terminal(&stat)
            && ids.contains(&group)
            && !found.contains(&group)
        {
            found.push(group);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;
    use std::time::Instant;

    #[test]
    fn only_a_stop_from_the_terminal_counts() {
        // pid (comm) state ppid pgrp session tty_nr tpgid …
        let stat = |state: &str, tty: &str, tpgid: &str| {
            format!("42 (sudo (x)) {state} 1 42 40 {tty} {tpgid} 4194304 0")
        };
        assert_eq!(stopped_by_terminal(&stat("T", "34816", "40")), Some(42));
        // In the terminal's foreground: the terminal did not stop it.
        assert_eq!(stopped_by_terminal(&stat("T", "34816", "42")), None);
        // No terminal: `kill -STOP`, a debugger; someone will continue it.
        assert_eq!(stopped_by_terminal(&stat("T", "0", "-1")), None);
        assert_eq!(stopped_by_terminal(&stat("S", "34816", "40")), None);
        assert_eq!(stopped_by_terminal("garbage"), None);
    }

    #[test]
    fn a_zombie_is_known_by_its_start_time_and_a_live_process_is_not_one() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        let started = loop {
            if let Some(started) = zombie_since(pid) {
                break started;
            }
            assert!(Instant::now() < deadline, "`true` never exited");
            thread::sleep(Duration::from_millis(10));
        };
        assert!(started > 0);
        assert_eq!(zombie_since(pid), Some(started), "stable across looks");
        child.wait().unwrap();
        assert_eq!(zombie_since(std::process::id()), None);
    }

    #[test]
    fn stop_terms_then_kills_what_ignores_term() {
        let groups = Groups::default();
        let mut polite = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let mut stubborn = Command::new("sh")
            .args(["-c", "trap '' TERM; sleep 30"])
            .process_group(0)
            .spawn()
            .unwrap();
        groups.insert(polite.id());
        groups.insert(stubborn.id());
        // Let the shell install its trap before the TERM arrives.
        thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        let grace = Duration::from_millis(300);
        groups.stop_within(false, grace);
        polite.wait().unwrap();
        assert!(started.elapsed() < grace, "TERM ended it");
        stubborn.wait().unwrap();
        assert!(started.elapsed() >= grace, "only KILL ended it");
    }
}
