//! Asking a person to confirm a task (`confirm="…"`) on the terminal: the
//! question goes to stderr with the progress display paused, the answer is
//! read from stdin. The policy around it is `crate::run::Confirm`.

use std::io::{BufRead, Write};

use indicatif::MultiProgress;

/// Asks `question [y/N]`; only `y` or `yes` (any case) approves. With a
/// progress display, it is paused while the question is open.
pub fn ask(question: &str, display: Option<&MultiProgress>) -> bool {
    let ask = || {
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        // End of input or an unreadable stdin means no.
        std::io::stdin().lock().read_line(&mut answer).is_ok() && approves(&answer)
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
