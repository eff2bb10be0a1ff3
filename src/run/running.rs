//! One started command as the executor's poll loop sees it: its output
//! pipe, a handle that becomes readable when it exits (a pidfd), its
//! timeout, and what it printed ([`Capture`]). Nothing here blocks: the
//! loop in `process.rs` polls every running command at once and tells each
//! what happened; a command is done when its output has ended and its
//! process has exited, and only then is it reaped.
//!
//! Why wait for both: a command that closes its output early still runs,
//! and one that exits may leave a background child holding the pipe (the
//! `/proc` watcher in `groups.rs` ends such a child). Why a pidfd: the exit
//! is seen without reaping, so the group id stays ours until we forget it.

use std::collections::VecDeque;
use std::io::{PipeReader, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use super::event::Exit;
use super::executor::{Completion, Job, Update};
use super::groups::Groups;
use super::native_spawn::{self, Ended};
use super::signal::{GRACE, signal_group, signal_process};
use super::spawn::{Log, Started};
use crate::secrets::Masker;

/// How often a command is looked at when its exit cannot be polled (no
/// pidfd: a kernel before 5.3) once its output has ended.
const EXIT_POLL: Duration = Duration::from_millis(10);

pub(crate) struct Running {
    job: Job,
    /// The process, not reaped until [`Running::complete`].
    pid: u32,
    /// Readable once the process has exited; `None` without pidfds.
    pidfd: Option<OwnedFd>,
    /// The output, until it ends (`None` from the start for a command in
    /// the terminal's foreground).
    reader: Option<PipeReader>,
    capture: Capture,
    foreground: bool,
    exited: bool,
    /// When the timeout runs out; then when KILL follows the TERM.
    deadline: Option<Instant>,
    kill_at: Option<Instant>,
    timed_out: bool,
}

impl Running {
    pub(crate) fn new(job: Job, started: Started) -> Self {
        let (pid, reader, log) = started.into_parts();
        let pidfd = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .and_then(|pid| {
                rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
            });
        Self {
            deadline: job.timeout.map(|t| Instant::now() + t),
            foreground: reader.is_none(),
            job,
            pid,
            pidfd,
            reader,
            capture: Capture::new(log),
            exited: false,
            kill_at: None,
            timed_out: false,
        }
    }

    /// The command's pid: the leader of its process group, unless it runs
    /// in the foreground.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    pub(crate) fn in_foreground(&self) -> bool {
        self.foreground
    }

    /// The output pipe, while it is open.
    pub(crate) fn output_fd(&self) -> Option<BorrowedFd<'_>> {
        self.reader.as_ref().map(AsFd::as_fd)
    }

    /// The handle that becomes readable at the exit, until it is seen.
    pub(crate) fn exit_fd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd
            .as_ref()
            .filter(|_| !self.exited)
            .map(AsFd::as_fd)
    }

    /// Reads what the pipe holds now (once: poll said it would not block),
    /// passing complete lines on to `out` when `stream`.
    pub(crate) fn read(&mut self, masker: &Masker, stream: bool, out: &mut VecDeque<Update>) {
        let Some(reader) = &mut self.reader else {
            return;
        };
        let mut buffer = [0u8; 16 * 1024];
        let lines = stream.then_some((&mut *out, self.job.task));
        match reader.read(&mut buffer) {
            Ok(0) => {
                self.capture.end(masker, lines);
                self.reader = None;
            }
            Ok(n) => self.capture.feed(&buffer[..n], masker, lines),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                self.capture.end(masker, lines);
                self.reader = None;
            }
        }
    }

    /// The pidfd said the process exited.
    pub(crate) fn exited(&mut self) {
        self.exited = true;
    }

    /// The next moment [`Running::tick`] has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let looking = (self.pidfd.is_none() && self.reader.is_none() && !self.exited)
            .then(|| Instant::now() + EXIT_POLL);
        [self.deadline, self.kill_at, looking]
            .into_iter()
            .flatten()
            .min()
    }

    /// Enforces the timeout (TERM, then KILL after [`GRACE`]) and, without
    /// a pidfd, looks whether the process exited.
    pub(crate) fn tick(&mut self, now: Instant) {
        // Ended in time, though seen late (the loop was busy): no timeout.
        if self.is_done() {
            return;
        }
        if self.deadline.is_some_and(|d| d <= now) {
            self.deadline = None;
            self.timed_out = true;
            self.kill_at = Some(now + GRACE);
            self.signal(libc::SIGTERM);
        }
        if self.kill_at.is_some_and(|k| k <= now) {
            self.kill_at = None;
            self.signal(libc::SIGKILL);
        }
        if self.pidfd.is_none() && !self.exited {
            use rustix::process::{WaitId, WaitIdOptions, waitid};
            let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
            let pid = i32::try_from(self.pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw);
            if let Some(pid) = pid {
                self.exited = matches!(waitid(WaitId::Pid(pid), options), Ok(Some(_)));
            }
        }
    }

    fn signal(&self, signal: libc::c_int) {
        // Not reaped yet (that waits for `is_done`): the id is still ours.
        if self.foreground {
            signal_process(self.pid, signal);
        } else {
            signal_group(self.pid, signal);
        }
    }

    /// Its output has ended and its process has exited.
    pub(crate) fn is_done(&self) -> bool {
        self.reader.is_none() && self.exited
    }

    /// Reaps the process (it has exited: this does not block), taking it
    /// out of `groups` first, and says how it ended.
    pub(crate) fn complete(self, groups: &Groups) -> Completion {
        let pid = self.pid;
        if self.foreground {
            groups.forget_foreground(pid);
        } else {
            groups.forget(pid);
        }
        let needed_terminal = groups.needed_terminal(pid);
        let exit = match (native_spawn::wait(pid), self.job.timeout) {
            (_, Some(limit)) if self.timed_out => Exit::TimedOut(limit),
            _ if needed_terminal => Exit::NeedsTerminal,
            (Ok(Ended::Code(0)), _) => Exit::Success,
            (Ok(Ended::Code(code)), _) => Exit::Code(code),
            (Ok(Ended::Signal(signal)), _) => Exit::Signal(signal),
            (Err(e), _) => Exit::SpawnFailed(format!("cannot wait for the process: {e}")),
        };
        let logged = self.capture.log.written();
        Completion {
            task: self.job.task,
            exit,
            output: self.capture.kept.into_text(),
            logged,
        }
    }
}

/// How much of a command's output stays in memory (its end): for failure
/// reports and for printing when the task ends. All of it goes to the log.
pub(crate) const KEPT_OUTPUT: usize = 64 * 1024;

/// A line longer than this is written out in pieces rather than held whole.
const LONGEST_HELD: usize = 64 * 1024;

/// A command's output as it arrives: copied to the log and, when
/// streaming, passed on line by line; secrets masked in all three. Memory
/// stays bounded whatever the command prints: only the last
/// [`KEPT_OUTPUT`] bytes are kept, and each byte is looked at a fixed
/// number of times, so a line of any length costs linear time.
///
/// Output is passed on in whole lines (up to the last `\n` or `\r`), so a
/// secret split between two reads is still seen whole and masked; a line
/// longer than [`LONGEST_HELD`] is passed on in pieces, holding back as
/// many bytes as the longest secret has.
pub(crate) struct Capture {
    log: Log,
    pending: Vec<u8>,
    /// Of `pending`, the bytes already searched for a line end.
    searched: usize,
    kept: Kept,
}

/// Where streamed lines go, and for which task.
type Lines<'a> = Option<(&'a mut VecDeque<Update>, crate::plan::TaskId)>;

impl Capture {
    pub(crate) fn new(log: Log) -> Self {
        Self {
            log,
            pending: Vec::new(),
            searched: 0,
            kept: Kept::default(),
        }
    }

    /// Takes `bytes` that just arrived.
    pub(crate) fn feed(&mut self, bytes: &[u8], masker: &Masker, lines: Lines<'_>) {
        self.pending.extend_from_slice(bytes);
        let end = self.pending[self.searched..]
            .iter()
            .rposition(|b| matches!(b, b'\n' | b'\r'))
            .map(|i| self.searched + i + 1);
        self.searched = self.pending.len();
        let cut = match end {
            Some(end) => end,
            // No line end yet: pass a long line on in pieces.
            None if self.pending.len() > LONGEST_HELD => {
                self.pending.len().saturating_sub(masker.longest())
            }
            None => return,
        };
        // Never between a secret's bytes: a secret spanning lines, or split
        // by the cut in a long line, waits to be masked whole.
        let cut = masker.safe_cut(&self.pending, cut);
        if cut == 0 {
            return;
        }
        pass_on(
            &mut self.log,
            &mut self.kept,
            &self.pending[..cut],
            masker,
            lines,
        );
        self.pending.drain(..cut);
        self.searched = self.pending.len();
    }

    /// The output ended: passes on what is still held.
    pub(crate) fn end(&mut self, masker: &Masker, lines: Lines<'_>) {
        if !self.pending.is_empty() {
            pass_on(&mut self.log, &mut self.kept, &self.pending, masker, lines);
            self.pending.clear();
        }
    }
}

/// Masks `bytes` and hands them to the log, the stream and memory.
fn pass_on(log: &mut Log, kept: &mut Kept, bytes: &[u8], masker: &Masker, lines: Lines<'_>) {
    let shown = masker.mask_bytes(bytes);
    log.write(&shown);
    if let Some((out, task)) = lines {
        for line in shown.split_inclusive(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = String::from_utf8_lossy(line).into_owned();
            out.push_back(Update::Output { task, line });
        }
    }
    kept.push(&shown);
}

/// The end of a command's output, at most [`KEPT_OUTPUT`] bytes, and how
/// much came before it.
#[derive(Debug, Default)]
struct Kept {
    bytes: VecDeque<u8>,
    dropped: u64,
}

impl Kept {
    fn push(&mut self, more: &[u8]) {
        self.bytes.extend(more);
        let over = self.bytes.len().saturating_sub(KEPT_OUTPUT);
        if over > 0 {
            self.bytes.drain(..over);
            self.dropped += over as u64;
        }
    }

    fn into_text(self) -> String {
        let bytes: Vec<u8> = self.bytes.into_iter().collect();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if self.dropped > 0 {
            // Start at a line (the first kept one is likely cut), unless
            // that would leave nothing: one endless line is shown cut.
            if let Some(at) = text.find('\n').filter(|at| at + 1 < text.len()) {
                text.drain(..=at);
            }
            text.insert_str(
                0,
                "[… earlier output is longer than memory keeps: the whole of it is in the log]\n",
            );
        }
        text
    }
}
