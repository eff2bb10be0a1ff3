//! The [`Asker`] seam: putting a task's confirmation question to a person
//! without holding up the build. The scheduler hands questions over as
//! tasks become ready and picks the answers up as they come; it waits for
//! one only when nothing else can run.

use crate::plan::TaskId;

/// Puts questions to a person, one at a time, in the background.
pub(crate) trait Asker {
    /// Queues `question` for `task`; its answer comes back later.
    fn ask(&mut self, task: TaskId, question: String);
    /// The answers that arrived since the last call, without waiting.
    fn answers(&mut self) -> Vec<(TaskId, bool)>;
    /// Waits for the next answer (nothing else runs); `None` when no
    /// answer can come (the person is gone).
    fn wait(&mut self) -> Option<(TaskId, bool)>;
}

/// Nobody to ask: every question is answered no at once (for runs whose
/// decisions never ask, this is never used).
impl Asker for () {
    fn ask(&mut self, _: TaskId, _: String) {}
    fn answers(&mut self) -> Vec<(TaskId, bool)> {
        Vec::new()
    }
    fn wait(&mut self) -> Option<(TaskId, bool)> {
        None
    }
}
