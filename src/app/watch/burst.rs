//! Debouncing: changes come in bursts (an editor's save is a temporary
//! file renamed over the old one, a `git checkout` touches hundreds). A
//! burst ends after a quiet moment; only then is its net effect judged —
//! a path created and gone again within it was a temporary file, not a
//! change — and, if anything changed, the running build stopped and the
//! loop told.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::filter::Change;
use super::{Message, lock};
use crate::run::Interrupts;

/// Quiet time that ends a burst.
pub(super) const SETTLE: Duration = Duration::from_millis(200);
/// A burst longer than this is judged anyway.
const LONGEST: Duration = Duration::from_secs(2);

/// Where a burst's verdict goes: the build to stop, the loop to tell.
pub(super) struct Verdicts {
    pub(super) root: std::path::PathBuf,
    pub(super) current: Arc<Mutex<Option<Interrupts>>>,
    pub(super) stopping: Arc<AtomicBool>,
    pub(super) loop_: Sender<Message>,
}

/// Runs until the watcher (the sender of `changes`) is gone.
pub(super) fn debounce(changes: &Receiver<Change>, verdicts: &Verdicts) {
    while let Ok(first) = changes.recv() {
        let mut burst = vec![first];
        let started = Instant::now();
        while started.elapsed() < LONGEST {
            match changes.recv_timeout(SETTLE) {
                Ok(change) => burst.push(change),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let Some(path) = net_change(&burst, |p| verdicts.root.join(p).exists()) else {
            continue;
        };
        if let Some(build) = lock(&verdicts.current).as_ref()
            && !verdicts.stopping.swap(true, Ordering::SeqCst)
        {
            build.raise();
        }
        if verdicts.loop_.send(Message::Changed(path)).is_err() {
            return;
        }
    }
}

/// The first path of `burst` that really changed: it exists now, or it
/// existed before the burst (its first event did not create it).
fn net_change(burst: &[Change], exists: impl Fn(&str) -> bool) -> Option<String> {
    let mut seen: Vec<(&str, bool)> = Vec::new();
    for change in burst {
        if !seen.iter().any(|(p, _)| *p == change.path) {
            seen.push((&change.path, change.created));
        }
    }
    seen.into_iter()
        .find(|(path, created_first)| !created_first || exists(path))
        .map(|(path, _)| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, created: bool) -> Change {
        Change {
            path: path.into(),
            created,
        }
    }

    #[test]
    fn a_temporary_file_is_no_change_but_an_edit_or_a_removal_is() {
        let exists = |p: &str| p == "src/a.c";
        // Created and renamed away within the burst.
        assert_eq!(
            net_change(
                &[change("src/a.tmp", true), change("src/a.tmp", false)],
                exists
            ),
            None
        );
        assert_eq!(
            net_change(
                &[change("src/a.tmp", true), change("src/a.c", false)],
                exists
            )
            .as_deref(),
            Some("src/a.c")
        );
        // A file that was there and is gone: removed, a change.
        assert_eq!(
            net_change(&[change("src/b.c", false)], exists).as_deref(),
            Some("src/b.c")
        );
    }
}
