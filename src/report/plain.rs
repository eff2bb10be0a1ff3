//! Plain lines for logs and pipes: one when a task starts, one when it
//! ends, never a progress bar or an escape code.

use std::io::Write;

use super::human::Screen;
use super::lines;
use crate::plan::TaskId;

/// Writes every line straight to `out` (stderr in the binary).
pub(crate) struct Plain<W> {
    out: W,
}

impl<W: Write> Plain<W> {
    pub(crate) fn new(out: W) -> Self {
        Self { out }
    }

    fn write(&mut self, text: &str) {
        // A closed stderr must not stop the build; there is nowhere to say so.
        let _ = writeln!(self.out, "{text}");
    }
}

impl<W: Write> Screen for Plain<W> {
    fn line(&mut self, text: &str) {
        self.write(text);
    }

    fn run_started(&mut self, _total: usize) {}

    fn task_started(&mut self, _task: TaskId, address: &str, done: usize, total: usize) {
        self.write(&lines::started(done, total, address));
    }

    fn task_ended(&mut self, _task: TaskId) {}

    fn task_skipped(&mut self, _task: TaskId) {}

    fn run_finished(&mut self) {
        let _ = self.out.flush();
    }
}
