//! A fake executor for scheduler tests: no processes, a simulated clock.
//!
//! Each job takes a scripted number of ticks (1 by default) and ends with a
//! scripted exit (success by default); `wait` returns the job that finishes
//! first on the simulated clock, so tests are exact and instant.

use std::collections::{HashMap, VecDeque};

use super::attempt::command_text;
use super::event::Exit;
use super::executor::{Completion, Executor, Job, Update};
use super::interrupt::Interrupts;

#[derive(Debug, Default)]
pub(crate) struct Fake {
    /// Ticks per command text.
    durations: HashMap<String, u64>,
    /// Exits per command text, used up in order; success after that.
    exits: HashMap<String, VecDeque<Exit>>,
    /// Programs that `available` denies.
    missing: Vec<String>,
    now: u64,
    /// (finish tick, start order, job).
    running: Vec<(u64, usize, Job)>,
    started: usize,
    /// Deliver an interrupt when the clock would pass this tick.
    interrupt_at: Option<u64>,
    /// Start orders of jobs stopped by `interrupt`.
    killed: Vec<usize>,
    /// Every command started, with its start tick, in order.
    pub(crate) ran: Vec<(u64, String)>,
    /// Raised at `interrupt_at`, as a signal would.
    pub(crate) interrupts: Interrupts,
    /// Jobserver tokens in the pipe, when serving one.
    pub(crate) tokens: Option<usize>,
}

impl Fake {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn takes(mut self, command: &str, ticks: u64) -> Self {
        self.durations.insert(command.into(), ticks);
        self
    }

    /// The next runs of `command` end with these exits, in order.
    pub(crate) fn exits(mut self, command: &str, exits: impl IntoIterator<Item = Exit>) -> Self {
        self.exits.entry(command.into()).or_default().extend(exits);
        self
    }

    pub(crate) fn fails(self, command: &str, times: usize) -> Self {
        self.exits(command, std::iter::repeat_n(Exit::Code(1), times))
    }

    /// An interrupt (Ctrl-C) arrives at this tick.
    pub(crate) fn interrupts_at(mut self, tick: u64) -> Self {
        self.interrupt_at = Some(tick);
        self
    }

    /// Serves a jobserver whose pipe holds `tokens`.
    pub(crate) fn tokens(mut self, tokens: usize) -> Self {
        self.tokens = Some(tokens);
        self
    }

    pub(crate) fn missing(mut self, program: &str) -> Self {
        self.missing.push(program.into());
        self
    }

    /// The commands run, without their start ticks.
    pub(crate) fn commands(&self) -> Vec<&str> {
        self.ran.iter().map(|(_, c)| c.as_str()).collect()
    }

    /// The simulated time when the last job finished.
    pub(crate) fn now(&self) -> u64 {
        self.now
    }
}

impl Executor for Fake {
    fn start(&mut self, job: Job) {
        let text = command_text(&job.command);
        let ticks = self.durations.get(&text).copied().unwrap_or(1);
        self.ran.push((self.now, text));
        self.running.push((self.now + ticks, self.started, job));
        self.started += 1;
    }

    fn wait(&mut self) -> Update {
        let next = (0..self.running.len())
            .min_by_key(|&i| (self.running[i].0, self.running[i].1))
            .expect("wait is only called while a job is unfinished");
        if let Some(at) = self.interrupt_at
            && self.running[next].0 > at
        {
            self.interrupt_at = None;
            self.now = at;
            self.interrupts.raise();
            return Update::Wake;
        }
        let (finish, order, job) = self.running.remove(next);
        self.now = finish;
        let text = command_text(&job.command);
        let exit = if self.killed.contains(&order) {
            Exit::Signal(15)
        } else {
            self.exits
                .get_mut(&text)
                .and_then(VecDeque::pop_front)
                .unwrap_or(Exit::Success)
        };
        Update::Finished(Completion {
            task: job.task,
            exit,
            output: format!("output of {text}\n"),
            // As if every command printed something.
            logged: true,
        })
    }

    fn available(&self, program: &str) -> bool {
        !self.missing.iter().any(|m| m == program)
    }

    fn try_take_token(&mut self) -> bool {
        match &mut self.tokens {
            None => true,
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        }
    }

    fn give_token(&mut self) {
        if let Some(n) = &mut self.tokens {
            *n += 1;
        }
    }

    /// Every running job ends now, killed by SIGTERM.
    fn interrupt(&mut self, _hard: bool) {
        for (finish, order, _) in &mut self.running {
            *finish = self.now;
            self.killed.push(*order);
        }
    }
}
