//! The real executor: `start` spawns the command at once (`super::spawn`),
//! then a pool of worker threads reads each started command's output to
//! the end, reaps it and reports back over a channel.
//!
//! Why spawn in `start`: the command runs without waiting for a worker to
//! wake up, which is one thread hand-off less per command. Why a pool: a
//! thread per command costs a stack mapping and its teardown each time;
//! with thousands of short commands that was most of our overhead. Workers
//! are started on demand, so there are never more than the most commands
//! ever running at once, and they end with the executor.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

use super::event::Exit;
use super::executor::{Completion, Executor, Job, Update};
use super::groups::Groups;
use super::guardian::Guardian;
use super::interrupt::Interrupts;
use super::spawn::{self, Shell, Started};
use crate::secrets::Masker;

pub(crate) struct ProcessExecutor {
    shell: Shell,
    /// Send complete output lines as they arrive (`-v`).
    stream: bool,
    /// Started jobs for the workers; dropping it ends them.
    queue: Sender<(Job, Started)>,
    taken: Arc<Mutex<Receiver<(Job, Started)>>>,
    sender: Sender<Update>,
    receiver: Receiver<Update>,
    workers: usize,
    /// Started and not yet reported finished.
    unfinished: usize,
    /// The process groups of running commands, for interrupts.
    groups: Groups,
    /// Secrets to mask in logs, output and log headers.
    masker: Arc<Masker>,
}

impl ProcessExecutor {
    /// `shell` is the program and leading arguments for shell-form commands
    /// (the plan's; `sh -c` when empty).
    pub(crate) fn new(shell: &[String], stream: bool) -> Self {
        let (sender, receiver) = mpsc::channel();
        let (queue, taken) = mpsc::channel();
        Self {
            shell: Shell::new(shell),
            stream,
            queue,
            taken: Arc::new(Mutex::new(taken)),
            sender,
            receiver,
            workers: 0,
            unfinished: 0,
            groups: Groups::default(),
            masker: Arc::default(),
        }
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
        let sender = Mutex::new(self.sender.clone());
        Box::new(move || {
            let _ = sender.lock().map(|s| s.send(Update::Wake));
        })
    }

    /// Wakes the scheduler (blocked in `wait`) at every interrupt.
    #[must_use]
    pub(crate) fn woken_by(self, interrupts: &Interrupts) -> Self {
        let sender = Mutex::new(self.sender.clone());
        interrupts.on_raise(move || {
            // The build is over if nobody receives it; nothing to stop then.
            let _ = sender.lock().map(|s| s.send(Update::Wake));
        });
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

    /// Starts one more worker; false if the system refused a thread.
    fn add_worker(&mut self) -> bool {
        let stream = self.stream;
        let (taken, sender) = (Arc::clone(&self.taken), self.sender.clone());
        let groups = self.groups.clone();
        let masker = Arc::clone(&self.masker);
        let spawned = thread::Builder::new()
            .name("orchestra-worker".into())
            .spawn(move || {
                loop {
                    // Hold the lock only while taking a job, not running it.
                    let job = taken.lock().map(|queue| queue.recv());
                    let Ok(Ok((job, started))) = job else { break };
                    let completion =
                        spawn::finish(&job, started, stream, &sender, &groups, &masker);
                    // The receiver lives as long as the executor; if it is
                    // gone nobody is waiting for this result.
                    if sender.send(Update::Finished(completion)).is_err() {
                        break;
                    }
                }
            });
        spawned.is_ok()
    }
}

impl Executor for ProcessExecutor {
    fn start(&mut self, mut job: Job) {
        // The header is the command, which templating may have given a secret.
        if let std::borrow::Cow::Owned(masked) = self.masker.mask(&job.header) {
            job.header = masked;
        }
        let started = match spawn::start(&job, &mut self.shell) {
            Ok(started) => started,
            Err(completion) => {
                let _ = self.sender.send(Update::Finished(completion));
                self.unfinished += 1;
                return;
            }
        };
        self.unfinished += 1;
        if started.in_foreground() {
            self.groups.insert_foreground(started.leader());
        } else {
            self.groups.insert(started.leader());
        }
        if self.unfinished > self.workers {
            if self.add_worker() {
                self.workers += 1;
            } else if self.workers == 0 {
                // Nobody could ever read its output: end it rather than hang.
                self.groups.forget(started.leader());
                self.groups.forget_foreground(started.leader());
                started.abandon();
                let _ = self.sender.send(Update::Finished(Completion {
                    task: job.task,
                    exit: Exit::SpawnFailed("cannot start a worker thread".into()),
                    output: String::new(),
                    logged: false,
                }));
                return;
            }
            // Otherwise a busy worker takes it when it is free.
        }
        // The workers hold the receiver for as long as we hold this sender.
        let _ = self.queue.send((job, started));
    }

    fn wait(&mut self) -> Update {
        let update = self
            .receiver
            .recv()
            .expect("the executor holds a sender, so the channel stays open");
        if matches!(update, Update::Finished(_)) {
            self.unfinished -= 1;
        }
        update
    }

    fn available(&self, program: &str) -> bool {
        which::which(program).is_ok()
    }

    fn interrupt(&mut self, hard: bool) {
        self.groups.stop(hard);
    }
}
