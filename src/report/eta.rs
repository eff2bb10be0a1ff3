//! The progress display's ETA, from each task's median duration in the
//! history of past builds (`orchestra report` reads the same lines). A
//! naive rate says "ETA 0s" at the start and swings with every quick task;
//! medians know that `test` takes a minute before it starts.
//!
//! The estimate: what is left of every unfinished task (its median; for a
//! running one, its median less what it has run, at least nothing) spread
//! over the slots that will work on it (`-j`, or fewer when fewer tasks are
//! left), and never less than the longest chain of needs still to run
//! (what waits for a task cannot start before it ends). A
//! task the history has never seen counts at the median of those it has;
//! without any history there is no estimate.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::plan::{Plan, TaskId};
use crate::workspace::history::HistoryEntry;

#[derive(Debug, Clone)]
pub(crate) struct Eta {
    /// Each task's expected duration, by id.
    expected: Vec<Duration>,
    /// Each task's expected duration plus the longest chain of what
    /// depends on it: the least time left once it starts.
    tails: Vec<Duration>,
    jobs: usize,
    /// Expected durations of the tasks not started yet: their sum, and how
    /// many of each (for the longest).
    waiting_sum: Duration,
    waiting: BTreeMap<Duration, usize>,
    /// The tails of the tasks not started yet (for the longest chain).
    waiting_tails: BTreeMap<Duration, usize>,
    /// Running tasks and when they started.
    running: HashMap<TaskId, Instant>,
}

impl Eta {
    /// Medians for the tasks of `plan` from `history`; `None` when the
    /// history has no task durations at all.
    pub(crate) fn from_history(plan: &Plan, history: &[HistoryEntry], jobs: usize) -> Option<Self> {
        let expected = expected(plan, history)?;
        let needs: Vec<Vec<usize>> = plan
            .tasks
            .iter()
            .map(|t| t.needs.iter().map(|n| n.index()).collect())
            .collect();
        Some(Self::new(expected, &needs, jobs))
    }

    /// Every task waiting, with these expected durations and needs (by
    /// task index; needs come before the tasks that need them).
    pub(crate) fn new(expected: Vec<Duration>, needs: &[Vec<usize>], jobs: usize) -> Self {
        let mut tails = expected.clone();
        for task in (0..expected.len()).rev() {
            for &need in &needs[task] {
                tails[need] = tails[need].max(expected[need] + tails[task]);
            }
        }
        let count = |values: &[Duration]| {
            let mut map = BTreeMap::new();
            for &d in values {
                *map.entry(d).or_insert(0) += 1;
            }
            map
        };
        Self {
            waiting_sum: expected.iter().sum(),
            waiting: count(&expected),
            waiting_tails: count(&tails),
            expected,
            tails,
            jobs,
            running: HashMap::new(),
        }
    }

    fn leave_waiting(&mut self, task: TaskId) {
        let take = |map: &mut BTreeMap<Duration, usize>, d: Duration| {
            let Some(n) = map.get_mut(&d) else {
                return false;
            };
            *n -= 1;
            if *n == 0 {
                map.remove(&d);
            }
            true
        };
        let d = self.expected[task.index()];
        if take(&mut self.waiting, d) {
            self.waiting_sum = self.waiting_sum.saturating_sub(d);
            take(&mut self.waiting_tails, self.tails[task.index()]);
        }
    }

    pub(crate) fn started(&mut self, task: TaskId, at: Instant) {
        self.leave_waiting(task);
        self.running.insert(task, at);
    }

    pub(crate) fn ended(&mut self, task: TaskId) {
        self.running.remove(&task);
    }

    /// A task that finished without running (up to date, skipped).
    pub(crate) fn skipped(&mut self, task: TaskId) {
        self.leave_waiting(task);
    }

    /// Time left at `now`.
    pub(crate) fn left(&self, now: Instant) -> Duration {
        let (mut total, mut longest) = (self.waiting_sum, Duration::ZERO);
        for (id, at) in &self.running {
            let i = id.index();
            let rest = self.expected[i].saturating_sub(now.saturating_duration_since(*at));
            total += rest;
            // What depends on it waits for its rest, then its own chain.
            longest = longest.max(rest + self.tails[i].saturating_sub(self.expected[i]));
        }
        if let Some((&most, _)) = self.waiting_tails.last_key_value() {
            longest = longest.max(most);
        }
        let left: usize = self.waiting.values().sum::<usize>() + self.running.len();
        let slots = self.jobs.clamp(1, left.max(1));
        (total / u32::try_from(slots).unwrap_or(u32::MAX)).max(longest)
    }
}

/// Each task's expected duration (by id): its median over the builds of
/// `history` where it succeeded, else the median of those medians; `None`
/// when the history holds no task durations at all.
pub(crate) fn expected(plan: &Plan, history: &[HistoryEntry]) -> Option<Vec<Duration>> {
    let mut times: HashMap<&str, Vec<u64>> = HashMap::new();
    for task in history.iter().flat_map(|h| &h.tasks) {
        if task.status == "succeeded" {
            times
                .entry(&task.address)
                .or_default()
                .push(task.duration_ms);
        }
    }
    let mut medians: HashMap<&str, u64> = times
        .into_iter()
        .map(|(address, mut t)| {
            t.sort_unstable();
            (address, t[(t.len() - 1) / 2])
        })
        .collect();
    if medians.is_empty() {
        return None;
    }
    let mut all: Vec<u64> = medians.values().copied().collect();
    all.sort_unstable();
    let typical = all[(all.len() - 1) / 2];
    let expected: Vec<Duration> = plan
        .tasks
        .iter()
        .map(|t| {
            let ms = medians.remove(t.address.as_str()).unwrap_or(typical);
            Duration::from_millis(ms)
        })
        .collect();
    Some(expected)
}

/// `ETA` text: `12s`, `3m05s`, `1h02m`.
pub(crate) fn text(left: Duration) -> String {
    let s = left.as_secs() + u64::from(left.subsec_millis() >= 500);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn medians_spread_over_the_slots_never_below_the_longest_task() {
        // build 10 s, test 60 s, lint 5 s, docs 5 s; -j2; a fake clock.
        let none = vec![Vec::new(); 4];
        let mut eta = Eta::new(vec![ms(10_000), ms(60_000), ms(5_000), ms(5_000)], &none, 2);
        let t0 = Instant::now();
        // 80 s of work on 2 slots is 40 s, but `test` alone takes 60 s.
        assert_eq!(text(eta.left(t0)), "1m00s");
        eta.started(TaskId(1), t0);
        eta.started(TaskId(0), t0);
        assert_eq!(text(eta.left(t0 + ms(45_000))), "15s");
        eta.ended(TaskId(0));
        eta.skipped(TaskId(2));
        eta.skipped(TaskId(3));
        assert_eq!(text(eta.left(t0 + ms(45_000))), "15s");
        // Overrun: a task past its median leaves nothing of it.
        assert_eq!(text(eta.left(t0 + ms(70_000))), "0s");
        // Four 5 s tasks on 2 slots: 10 s.
        assert_eq!(text(Eta::new(vec![ms(5_000); 4], &none, 2).left(t0)), "10s");
    }

    #[test]
    fn a_chain_of_needs_is_a_floor_however_many_slots() {
        // slow 3 s, then quick 1 s that needs it; -j8.
        let needs = vec![Vec::new(), vec![0]];
        let mut eta = Eta::new(vec![ms(3_000), ms(1_000)], &needs, 8);
        let t0 = Instant::now();
        assert_eq!(text(eta.left(t0)), "4s");
        eta.started(TaskId(0), t0);
        assert_eq!(text(eta.left(t0 + ms(1_000))), "3s");
    }

    #[test]
    fn eta_text() {
        assert_eq!(text(ms(400)), "0s");
        assert_eq!(text(ms(59_600)), "1m00s");
        assert_eq!(text(ms(185_000)), "3m05s");
        assert_eq!(text(ms(3_725_000)), "1h02m");
    }
}
