//! The words about durable runs, as pure functions: lock holders and
//! takeovers, what `--resume` will do, what `orchestra unlock` removed, and
//! `orchestra status` (the last run per milestone and task, and the locks).

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

use super::lines::elapsed;
use crate::workspace::locks::{LockInfo, LockStatus, Scope};
use crate::workspace::runs::{Listed, RunState, TaskStatus};

/// `2026-11-22 03:52:10 UTC` from seconds since the Unix epoch.
pub(crate) fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Days to a civil date (proleptic Gregorian), counting eras of 400 years
    // from 0000-03-01 so leap days fall at the end of each year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `pid 4242 on build-7, since 2026-11-22 03:52:10 UTC`.
pub(crate) fn holder(info: Option<&LockInfo>) -> String {
    match info {
        Some(i) => format!("pid {} on {}, since {}", i.pid, i.host, utc(i.started_at)),
        None => "a process whose lock file cannot be read".into(),
    }
}

pub(crate) fn lock_held(milestone: &str, info: Option<&LockInfo>) -> String {
    format!(
        "warning: skipping milestone `{milestone}`: another build holds its lock ({}); `--wait` waits for it, `orchestra unlock {milestone}` removes it",
        holder(info)
    )
}

pub(crate) fn lock_waiting(milestone: &str, info: Option<&LockInfo>) -> String {
    format!(
        "waiting for the lock of milestone `{milestone}` ({})",
        holder(info)
    )
}

/// A stale lock taken over: its holder died, or is older than `lock-timeout`.
pub(crate) fn lock_taken_over(milestone: &str, info: &LockInfo, now: u64) -> String {
    let age = elapsed(Duration::from_secs(now.saturating_sub(info.started_at)));
    format!(
        "note: took over the stale lock of milestone `{milestone}` ({}; {age} old)",
        holder(Some(info))
    )
}

/// What `orchestra unlock` did, and which of the `asked` milestones had no lock.
pub(crate) fn unlocked(asked: &[String], removed: &[LockStatus]) -> String {
    let mut out = String::new();
    for name in asked {
        if !removed.iter().any(|l| &l.name == name) {
            let _ = writeln!(out, "no lock for milestone `{name}`");
        }
    }
    if asked.is_empty() && removed.is_empty() {
        return "no locks to remove\n".into();
    }
    for lock in removed {
        let live = if lock.held {
            ""
        } else {
            " (its holder was gone)"
        };
        let _ = writeln!(
            out,
            "removed the lock of {} ({}){live}",
            locked_thing(lock),
            holder(lock.info.as_ref())
        );
    }
    out
}

/// `milestone `M1`` or `task `lint``.
fn locked_thing(lock: &LockStatus) -> String {
    match lock.scope {
        Scope::Milestone => format!("milestone `{}`", lock.name),
        Scope::Task => format!("task `{}`", lock.name),
    }
}

/// A milestone lock lost while the build ran: what the next task of it says.
pub(crate) fn lock_lost(milestone: &str, info: Option<&LockInfo>) -> String {
    let by = info.map_or_else(
        || "it was removed (`orchestra unlock` or `clean`)".to_owned(),
        |i| format!("another build took it over ({})", holder(Some(i))),
    );
    format!(
        "lost the lock of milestone `{milestone}`: {by}; no further task of it starts in this build"
    )
}

/// `waited 10m for the lock of milestone `M1`; skipping it`.
pub(crate) fn lock_wait_expired(
    milestone: &str,
    waited: Duration,
    info: Option<&LockInfo>,
) -> String {
    format!(
        "warning: gave up waiting for the lock of milestone `{milestone}` after {} ({}); skipping it",
        elapsed(waited),
        holder(info)
    )
}

fn status_word(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Pending => "pending",
        TaskStatus::Running => "running",
        TaskStatus::Succeeded => "succeeded",
        TaskStatus::UpToDate => "up to date",
        TaskStatus::Failed => "failed",
        TaskStatus::TimedOut => "timed out",
        TaskStatus::Skipped => "skipped",
        TaskStatus::Locked => "skipped (another build held its lock)",
        TaskStatus::Interrupted => "interrupted",
    }
}

fn outcome(state: &RunState) -> &'static str {
    match (state.finished, state.success) {
        (true, true) => "succeeded",
        (true, false) => "failed",
        (false, _) => "unfinished (interrupted, killed, or still running): `--resume` continues it",
    }
}

fn run_outcome(run: &Listed) -> &'static str {
    if run.live {
        return "running";
    }
    match (run.state.finished, run.state.success) {
        (true, true) => "succeeded",
        (true, false) => "failed",
        (false, _) => "interrupted or killed",
    }
}

/// `orchestra status`: recent runs, the last one milestone by milestone,
/// then the locks.
pub(crate) fn status_text(runs: &[Listed], locks: &[LockStatus]) -> String {
    let mut out = String::new();
    if runs.is_empty() {
        out.push_str("no run recorded yet\n");
    }
    for run in runs {
        let pid = if run.live {
            format!(" (pid {})", run.state.pid)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "run {} started {}: {}{pid}; selection {}",
            run.state.id,
            utc(run.state.started_at / 1000),
            run_outcome(run),
            run.state.selection
        );
    }
    if let Some(last) = runs.first() {
        let state = &last.state;
        let _ = writeln!(out, "\nlast run {}: {}", state.id, outcome(state));
        last_run(&mut out, state);
    }
    for lock in locks {
        let state = if lock.held { "held" } else { "left behind" };
        let _ = writeln!(
            out,
            "lock {state}: {} ({})",
            locked_thing(lock),
            holder(lock.info.as_ref())
        );
    }
    out
}

fn last_run(out: &mut String, state: &RunState) {
    // Up-to-date tasks are counted, not listed, per milestone.
    let in_milestones: u64 = state.up_to_date_in.values().sum();
    let up_to_date = |group: Option<&str>| -> usize {
        let count = match group {
            Some(m) => state.up_to_date_in.get(m).copied().unwrap_or(0),
            None => state.up_to_date.saturating_sub(in_milestones),
        };
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    let mut groups: Vec<Option<&str>> = state
        .tasks
        .values()
        .map(|t| t.milestone.as_deref())
        .chain(state.up_to_date_in.keys().map(|m| Some(m.as_str())))
        .collect();
    if up_to_date(None) > 0 {
        groups.push(None);
    }
    // Milestones by name, then the tasks of none.
    groups.sort_unstable_by_key(|g| (g.is_none(), *g));
    groups.dedup();
    for group in groups {
        let members: Vec<_> = state
            .tasks
            .iter()
            .filter(|(_, t)| t.milestone.as_deref() == group)
            .collect();
        let fresh = up_to_date(group);
        let done = members.iter().filter(|(_, t)| t.status.is_done()).count() + fresh;
        let name = group.map_or_else(|| "other tasks".into(), |m| format!("milestone {m}"));
        let total = members.len() + fresh;
        if fresh > 0 {
            let _ = writeln!(out, "{name}: {done}/{total} done ({fresh} up to date)");
        } else {
            let _ = writeln!(out, "{name}: {done}/{total} done");
        }
        for (address, task) in members {
            let took = task
                .duration_ms
                .map(|ms| format!(" {}", elapsed(Duration::from_millis(ms))))
                .unwrap_or_default();
            let code = match (task.status, task.exit_code) {
                (TaskStatus::Failed, Some(code)) => format!(" (exit {code})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "  {address} {}{took}{code}", status_word(task.status));
        }
    }
    // Neither listed nor counted: never reached (the build was killed).
    let seen = state.tasks.len() as u64 + state.up_to_date;
    if state.selected > seen {
        let _ = writeln!(out, "{} not reached", state.selected - seen);
    }
}

/// `orchestra status --json`: recent runs, the last run's record as is,
/// and the locks.
pub(crate) fn status_json(runs: &[Listed], locks: &[LockStatus]) -> Value {
    let locks: Vec<Value> = locks
        .iter()
        .map(|l| json!({ "scope": l.scope, "name": l.name, "held": l.held, "holder": l.info }))
        .collect();
    let listed: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({
                "id": r.state.id,
                "selection": r.state.selection,
                "started_at": r.state.started_at,
                "outcome": run_outcome(r),
                "pid": r.live.then_some(r.state.pid),
            })
        })
        .collect();
    json!({ "runs": listed, "run": runs.first().map(|r| &r.state), "locks": locks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_319_530), "2026-11-22 03:52:10 UTC");
    }
}
