//! Asking a person to confirm a task (`confirm="…"`) on the terminal: the
//! question goes to stderr with the progress display paused, the answer is
//! read from stdin. The policy around it is `crate::run::Confirm`.
//!
//! The answer is read on a thread of its own, so a Ctrl-C while the
//! question is open (see `crate::run::Interrupts`) ends the wait as a "no" and the
//! run stops, instead of waiting for Enter.

use std::io::{BufRead, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use indicatif::MultiProgress;

use crate::run::Interrupts;

/// Asks `question [y/N]`; only `y` or `yes` (any case) approves. With a
/// progress display, it is paused while the question is open.
pub(crate) fn ask(
    question: &str,
    display: Option<&MultiProgress>,
    interrupts: &Interrupts,
) -> bool {
    let ask = || {
        eprint!("{question} [y/N] ");
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
                    eprintln!();
                    return false;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    };
    match display {
        Some(multi) => multi.suspend(ask),
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
