//! Asking a person to confirm a task (`confirm="…"`) on the terminal: the
//! question goes to stderr with the progress display paused, the answer is
//! read from stdin. The policy around it is `crate::run::Confirm`.
//!
//! [`TerminalAsker`] asks on a thread of its own, one question at a time,
//! so the build goes on while a question waits; each answer wakes the
//! scheduler. The answer itself is read on yet another thread, so a Ctrl-C
//! while the question is open (see `crate::run::Interrupts`) ends the wait
//! as a "no" and the run stops, instead of waiting for Enter.

use std::io::{BufRead, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use super::progress::Pause;
use crate::plan::TaskId;
use crate::run::{Asker, Interrupts};

/// Wakes the scheduler when an answer arrives.
pub(crate) type Waker = Box<dyn Fn() + Send>;

/// Questions put on the terminal in the background, one at a time.
pub(crate) struct TerminalAsker {
    questions: Option<mpsc::Sender<(TaskId, String)>>,
    answers: mpsc::Receiver<(TaskId, bool)>,
}

impl TerminalAsker {
    /// Asks on stderr (pausing `display`), reads stdin; an interrupt ends a
    /// question as a no; `wake` is called after each answer.
    pub(crate) fn new(display: Option<Pause>, interrupts: Interrupts, wake: Waker) -> Self {
        let (questions, asked) = mpsc::channel::<(TaskId, String)>();
        let (answer, answers) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("orchestra-ask".into())
            .spawn(move || {
                for (task, question) in asked {
                    let yes =
                        !interrupts.is_raised() && ask(&question, display.as_ref(), &interrupts);
                    if answer.send((task, yes)).is_err() {
                        break;
                    }
                    wake();
                }
            });
        Self {
            questions: spawned.is_ok().then_some(questions),
            answers,
        }
    }
}

impl Asker for TerminalAsker {
    fn ask(&mut self, task: TaskId, question: String) {
        let sent = self
            .questions
            .as_ref()
            .is_some_and(|q| q.send((task, question)).is_ok());
        if !sent {
            // No thread to ask on: a no, at once.
            let (answer, answers) = mpsc::channel();
            let _ = answer.send((task, false));
            self.answers = answers;
        }
    }

    fn answers(&mut self) -> Vec<(TaskId, bool)> {
        self.answers.try_iter().collect()
    }

    fn wait(&mut self) -> Option<(TaskId, bool)> {
        self.answers.recv().ok()
    }
}

/// Asks `question [y/N]`; only `y` or `yes` (any case) approves. With a
/// progress display, it is off the terminal while the question is open,
/// without stopping the build drawing underneath.
pub(crate) fn ask(question: &str, display: Option<&Pause>, interrupts: &Interrupts) -> bool {
    let ask = || {
        say_part!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let (sender, answer) = mpsc::channel();
        // Left blocked on stdin if interrupted; the process ends soon after.
        let reader = std::thread::Builder::new().spawn(move || {
            let mut line = String::new();
            // End of input or an unreadable stdin means no.
            let read = std::io::stdin().lock().read_line(&mut line).is_ok();
            let _ = sender.send(read && approves(&line));
        });
        if reader.is_err() {
            return false;
        }
        loop {
            match answer.recv_timeout(Duration::from_millis(50)) {
                Ok(yes) => return yes,
                Err(RecvTimeoutError::Disconnected) => return false,
                Err(RecvTimeoutError::Timeout) if interrupts.is_raised() => {
                    say!();
                    return false;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    };
    match display {
        Some(pause) => pause.during(ask),
        None => ask(),
    }
}

fn approves(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::approves;

    #[test]
    fn only_yes_approves() {
        assert!(approves("y\n") && approves(" YES ") && approves("Yes"));
        assert!(!approves("") && !approves("n") && !approves("yep") && !approves("\n"));
    }
}
