//! Stage timings, printed to stderr when `ORCHESTRA_TIMINGS=1`.
//!
//! Stages record how long they took with [`measure`]; the coordinator
//! (`app`) drains them with [`take`] and prints them. Recording is always on
//! because it costs two clock reads per stage; printing is the opt-in part.
//! This keeps timing out of every signature while the stages stay free of
//! output.

use std::cell::RefCell;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// The environment variable that turns printing on.
pub(crate) const ENV: &str = "ORCHESTRA_TIMINGS";

thread_local! {
    static RECORDED: RefCell<Vec<(&'static str, Duration)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f`, recording its wall-clock time under `label`.
pub(crate) fn measure<T>(label: &'static str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    let elapsed = start.elapsed();
    RECORDED.with(|r| r.borrow_mut().push((label, elapsed)));
    value
}

/// Everything recorded on this thread so far, oldest first; clears the list.
pub(crate) fn take() -> Vec<(&'static str, Duration)> {
    RECORDED.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

/// Whether `ORCHESTRA_TIMINGS` asks for the timings (set, not empty, not `0`).
pub(crate) fn enabled() -> bool {
    std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// One line per stage: `timing: lower 12.345 ms`.
pub(crate) fn format(recorded: &[(&'static str, Duration)]) -> String {
    let mut out = String::new();
    for (label, d) in recorded {
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "timing: {label:<10} {:>10.3} ms",
            d.as_secs_f64() * 1000.0
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_order_and_clears() {
        take();
        assert_eq!(measure("a", || 1) + measure("b", || 2), 3);
        let recorded = take();
        let labels: Vec<&str> = recorded.iter().map(|(l, _)| *l).collect();
        assert_eq!(labels, ["a", "b"]);
        assert!(take().is_empty());
        assert!(format(&recorded).starts_with("timing: a "));
    }
}
