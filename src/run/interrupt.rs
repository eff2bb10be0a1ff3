//! Interrupts (Ctrl-C, SIGTERM, SIGHUP) as one input that every waiting
//! place reads: the scheduler's loop, lock waits and confirmation prompts.
//!
//! A signal only raises a counter and wakes whoever registered to be woken
//! (the process executor, blocked on its channel); what an interrupt means
//! is decided by the reader — the scheduler stops gently at the first and
//! kills at the second. No signal handler of ours does anything else.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

type Waker = Box<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct Inner {
    count: AtomicU32,
    wakers: Mutex<Vec<Waker>>,
}

/// A shared interrupt counter; clones see the same interrupts.
#[derive(Clone, Default)]
pub(crate) struct Interrupts(Arc<Inner>);

impl std::fmt::Debug for Interrupts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Interrupts({})", self.count())
    }
}

impl Interrupts {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Routes Ctrl-C, SIGTERM and SIGHUP here. Only fails if a handler is
    /// already set, which one process never does; then the signals keep
    /// their default effect, ending orchestra at once.
    pub(crate) fn catch_signals(&self) -> bool {
        let me = self.clone();
        ctrlc::set_handler(move || me.raise()).is_ok()
    }

    /// One more interrupt: counted, then every waker called.
    pub(crate) fn raise(&self) {
        self.0.count.fetch_add(1, Ordering::SeqCst);
        for wake in self.wakers().iter() {
            wake();
        }
    }

    /// How many interrupts arrived so far.
    pub(crate) fn count(&self) -> u32 {
        self.0.count.load(Ordering::SeqCst)
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.count() > 0
    }

    /// Calls `wake` at every interrupt from now on (from the signal's
    /// thread), so a reader blocked elsewhere can look at the count.
    pub(crate) fn on_raise(&self, wake: impl Fn() + Send + Sync + 'static) {
        self.wakers().push(Box::new(wake));
    }

    fn wakers(&self) -> std::sync::MutexGuard<'_, Vec<Waker>> {
        self.0.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_count_and_wakers_are_called() {
        let interrupts = Interrupts::new();
        let woken = Arc::new(AtomicU32::new(0));
        let seen = Arc::clone(&woken);
        interrupts.on_raise(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        let other = interrupts.clone();
        assert!(!other.is_raised());
        interrupts.raise();
        interrupts.raise();
        assert_eq!(other.count(), 2);
        assert_eq!(woken.load(Ordering::SeqCst), 2);
    }
}
