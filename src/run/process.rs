//! The real executor: `start` spawns the command at once (`super::spawn`);
//! `wait` polls, on the scheduler's own thread, every running command's
//! output pipe and exit handle, plus a wake-up pipe, and returns the first
//! news: a streamed line, a finished command, or a wake-up.
//!
//! Why one thread: a worker per command blocked in `read`, reaped it and
//! sent the result over a channel, which cost a thread hand-off and a
//! futex wake-up per command; ninja reaps on its one thread too. Why a
//! wake-up pipe: interrupts and answered questions arrive on other threads,
//! and the poll must see them.

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Instant;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::executor::{Executor, Job, Update};
use super::groups::Groups;
use super::guardian::Guardian;
use super::interrupt::Interrupts;
use super::jobserver::Jobserver;
use super::running::Running;
use super::spawn::{self, Shell};
use crate::secrets::Masker;

pub(crate) struct ProcessExecutor {
    shell: Shell,
    /// Send complete output lines as they arrive (`-v`).
    stream: bool,
    running: Vec<Running>,
    /// News gathered and not yet handed out, in order.
    ready: VecDeque<Update>,
    /// The wake-up pipe: other threads write a byte, the poll sees it.
    woken: OwnedFd,
    wake: Arc<OwnedFd>,
    /// The process groups of running commands, for interrupts.
    groups: Groups,
    /// Secrets to mask in logs, output and log headers.
    masker: Arc<Masker>,
    /// The jobserver, when a task of the plan asks for one.
    jobserver: Option<Jobserver>,
    /// The scheduler found no token: poll for one coming back.
    want_token: bool,
}

/// Writes one byte to the wake-up pipe; a full pipe already wakes.
fn wake(pipe: &OwnedFd) {
    let _ = rustix::io::write(pipe, &[1]);
}

impl ProcessExecutor {
    /// `shell` is the program and leading arguments for shell-form commands
    /// (the plan's; `sh -c` when empty).
    pub(crate) fn new(shell: &[String], stream: bool) -> Self {
        use rustix::pipe::{PipeFlags, pipe_with};
        let (woken, wake) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)
            .expect("a process can make a pipe at start-up");
        Self {
            shell: Shell::new(shell),
            stream,
            running: Vec::new(),
            ready: VecDeque::new(),
            woken,
            wake: Arc::new(wake),
            groups: Groups::default(),
            masker: Arc::default(),
            jobserver: None,
            want_token: false,
        }
    }

    /// Serves a jobserver with `jobs` slots to the tasks that ask for one
    /// (`jobserver=#true`); every task then holds a token beyond the first.
    /// On failure the executor serves none.
    pub(crate) fn serve_jobserver(&mut self, jobs: usize) -> std::io::Result<()> {
        self.jobserver = Some(Jobserver::new(jobs)?);
        Ok(())
    }

    /// Masks these secrets in every log, output and streamed line.
    #[must_use]
    pub(crate) fn masking(mut self, masker: Masker) -> Self {
        self.masker = Arc::new(masker);
        self
    }

    /// A handle that wakes the scheduler (blocked in `wait`) from another
    /// thread, to look for what changed (an answered question).
    pub(crate) fn waker(&self) -> Box<dyn Fn() + Send> {
        let pipe = Arc::clone(&self.wake);
        Box::new(move || wake(&pipe))
    }

    /// Wakes the scheduler (blocked in `wait`) at every interrupt.
    #[must_use]
    pub(crate) fn woken_by(self, interrupts: &Interrupts) -> Self {
        let pipe = Arc::clone(&self.wake);
        interrupts.on_raise(move || wake(&pipe));
        self
    }

    /// Starts a guardian process that kills the running commands' groups
    /// if orchestra dies without stopping them (`kill -9`); without one
    /// (it could not start) the build runs as before, unguarded. Also
    /// watches for a command stopped to read the terminal, which would
    /// otherwise wait forever.
    #[must_use]
    pub(crate) fn guarded(mut self) -> Self {
        if let Ok(guardian) = Guardian::start() {
            self.groups = Groups::guarded(guardian);
        }
        self.groups.watch_terminal_stops();
        self
    }

    /// Waits for news from any running command (or a wake-up), at most
    /// until the next timeout is due, and gathers it into `ready`.
    fn poll_once(&mut self) {
        let deadline = self.running.iter().filter_map(Running::next_deadline).min();
        let timeout = deadline.map(|at| {
            let left = at.saturating_duration_since(Instant::now());
            Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(left.subsec_nanos()),
            }
        });
        // Which command (and which of its two handles) each entry is.
        let mut owners = Vec::with_capacity(self.running.len() * 2);
        let mut fds = Vec::with_capacity(self.running.len() * 2 + 2);
        fds.push(PollFd::from_borrowed_fd(self.woken.as_fd(), PollFlags::IN));
        let token = self.jobserver.as_ref().filter(|_| self.want_token);
        if let Some(jobserver) = token {
            fds.push(PollFd::from_borrowed_fd(
                jobserver.readable(),
                PollFlags::IN,
            ));
        }
        let first = fds.len();
        for (i, running) in self.running.iter().enumerate() {
            if let Some(fd) = running.output_fd() {
                fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
                owners.push((i, true));
            }
            if let Some(fd) = running.exit_fd() {
                fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
                owners.push((i, false));
            }
        }
        // An interrupted poll (a signal) simply looks again; one that
        // cannot poll at all (out of memory) must not spin.
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
        let woken = !fds[0].revents().is_empty();
        let token_back = first > 1 && !fds[1].revents().is_empty();
        let news: Vec<(usize, bool)> = fds[first..]
            .iter()
            .zip(&owners)
            .filter(|(fd, _)| !fd.revents().is_empty())
            .map(|(_, owner)| *owner)
            .collect();
        drop(fds);
        if woken {
            let mut drain = [0u8; 64];
            while matches!(rustix::io::read(&self.woken, &mut drain), Ok(n) if n > 0) {}
            self.ready.push_back(Update::Wake);
        }
        if token_back {
            // Someone may take it first; the scheduler just tries again.
            self.want_token = false;
            self.ready.push_back(Update::Wake);
        }
        for (i, output) in news {
            let running = &mut self.running[i];
            if output {
                running.read(&self.masker, self.stream, &mut self.ready);
            } else {
                running.exited();
            }
        }
        let now = Instant::now();
        let mut i = 0;
        while i < self.running.len() {
            self.running[i].tick(now);
            if self.running[i].is_done() {
                let done = self.running.swap_remove(i);
                self.ready
                    .push_back(Update::Finished(done.complete(&self.groups)));
            } else {
                i += 1;
            }
        }
    }
}

impl Executor for ProcessExecutor {
    fn start(&mut self, mut job: Job) {
        // The header is the command, which templating may have given a secret.
        if let std::borrow::Cow::Owned(masked) = self.masker.mask(&job.header) {
            job.header = masked;
        }
        let mut inherit = Vec::new();
        if let (Some(style), Some(jobserver)) = (job.jobserver, &self.jobserver) {
            let theirs = job.env.iter().rev().find(|(k, _)| k == "MAKEFLAGS");
            let flags = jobserver.makeflags(style, theirs.map(|(_, v)| v.as_str()));
            job.env.push(("MAKEFLAGS".into(), flags));
            inherit = jobserver.inherited(style);
        }
        match spawn::start(&job, &mut self.shell, &inherit) {
            Ok(started) => {
                let running = Running::new(job, started);
                if running.in_foreground() {
                    self.groups.insert_foreground(running.pid());
                } else {
                    self.groups.insert(running.pid());
                }
                self.running.push(running);
            }
            Err(completion) => self.ready.push_back(Update::Finished(completion)),
        }
    }

    fn wait(&mut self) -> Update {
        loop {
            if let Some(update) = self.ready.pop_front() {
                return update;
            }
            self.poll_once();
        }
    }

    fn available(&self, program: &str) -> bool {
        which::which(program).is_ok()
    }

    fn interrupt(&mut self, hard: bool) {
        self.groups.stop(hard);
    }

    fn try_take_token(&mut self) -> bool {
        let Some(jobserver) = &self.jobserver else {
            return true;
        };
        let taken = jobserver.try_take();
        self.want_token = !taken;
        taken
    }

    fn give_token(&mut self) {
        if let Some(jobserver) = &self.jobserver {
            jobserver.give();
        }
    }
}
