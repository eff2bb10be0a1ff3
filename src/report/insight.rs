//! `orchestra report`: what the history of past builds says. Pure: it
//! takes the history lines (`.orchestra/history.jsonl`) and returns text or
//! JSON.
//!
//! - the runs: how many, how many succeeded, the median build time, and the
//!   trend (the older half against the newer half of the window);
//! - the slowest tasks by median duration, with the 90th percentile;
//! - tasks by failure rate, and gate checks by how often they failed;
//! - flaky checks: failed on an attempt, then the gate passed without a fix;
//!   flaky tasks: failed in a build and succeeded in another with the same
//!   fingerprint (commands, env, inputs), so nothing it reads changed;
//! - fixes: checks whose fix ran, and how often;
//! - up-to-date skips: how many tasks the builds did not have to run, and
//!   the time that saved (what each took at its last success).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Value, json};

use super::lines::elapsed;
use crate::workspace::history::HistoryEntry;

/// How many rows each table shows.
const ROWS: usize = 10;

/// The numbers, computed once for text and JSON alike.
pub(crate) struct Insight {
    runs: usize,
    succeeded: usize,
    interrupted: usize,
    median_run_ms: u64,
    /// (older half, newer half): median build time and success rate.
    trend: Option<((u64, f64), (u64, f64))>,
    /// address → (median, p90, runs).
    slowest: Vec<(String, u64, u64, usize)>,
    /// address → (failed, ran).
    failing: Vec<(String, usize, usize)>,
    /// `task › check` → builds in which it failed an attempt, of the
    /// builds in which its gate ran.
    failing_checks: Vec<(String, usize, usize)>,
    /// `task › check` → runs in which it failed and then passed, unfixed.
    flaky: Vec<(String, usize)>,
    /// `task › check` → times its fix ran.
    fixes: Vec<(String, usize)>,
    /// task → its failures in builds where the same inputs (fingerprint)
    /// also succeeded: a result that changed with nothing changed.
    flaky_tasks: Vec<(String, usize)>,
    up_to_date: usize,
    /// What the up-to-date tasks took at their last success, summed.
    saved_ms: u64,
    ran: usize,
    /// Each build's (duration, success, interrupted), oldest first.
    builds: Vec<(u64, bool, bool)>,
}

/// The `q` quantile (0..=1) of sorted values, nearest rank.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    // An index into a short list: the product is small and non-negative.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median_and_rate(runs: &[&HistoryEntry]) -> (u64, f64) {
    let mut times: Vec<u64> = runs.iter().map(|r| r.duration_ms).collect();
    times.sort_unstable();
    let ok = runs.iter().filter(|r| r.success).count();
    // A share of a count: precision is not at stake.
    #[allow(clippy::cast_precision_loss)]
    let rate = if runs.is_empty() {
        0.0
    } else {
        ok as f64 / runs.len() as f64
    };
    (quantile(&times, 0.5), rate)
}

/// (name, failed, ran) by failure rate (compared without division), then
/// by count, then by name.
fn by_rate(rows: &mut [(String, usize, usize)]) {
    rows.sort_by(|a, b| {
        (b.1 * a.2)
            .cmp(&(a.1 * b.2))
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(&b.0))
    });
}

/// Tasks whose outcome differed under one fingerprint: their failures.
fn flaky_tasks(by_inputs: BTreeMap<(String, String), (usize, usize)>) -> Vec<(String, usize)> {
    let mut flaky = BTreeMap::new();
    for ((address, _), (ok, failed)) in by_inputs {
        if ok > 0 && failed > 0 {
            *flaky.entry(address).or_insert(0) += failed;
        }
    }
    ranked(flaky)
}

/// Counts sorted most first, then by name.
fn ranked(counts: BTreeMap<String, usize>) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

impl Insight {
    /// The numbers for `runs`, oldest first.
    pub(crate) fn of(runs: &[HistoryEntry]) -> Self {
        let all: Vec<&HistoryEntry> = runs.iter().collect();
        let (median_run_ms, _) = median_and_rate(&all);
        let trend = (runs.len() >= 4).then(|| {
            let (older, newer) = all.split_at(all.len() / 2);
            (median_and_rate(older), median_and_rate(newer))
        });
        let mut durations: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut outcomes: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut failing_checks = BTreeMap::new();
        let mut flaky = BTreeMap::new();
        let mut fixes = BTreeMap::new();
        let mut ran = 0;
        // (task, inputs) → (succeeded, failed).
        let mut by_inputs: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
        for run in runs {
            for task in &run.tasks {
                ran += 1;
                if !task.inputs.is_empty() {
                    let slot = by_inputs
                        .entry((task.address.clone(), task.inputs.clone()))
                        .or_default();
                    slot.0 += usize::from(task.status == "succeeded");
                    slot.1 += usize::from(task.status == "failed");
                }
                if task.status != "interrupted" {
                    durations
                        .entry(task.address.clone())
                        .or_default()
                        .push(task.duration_ms);
                }
                let slot = outcomes.entry(task.address.clone()).or_default();
                slot.0 += usize::from(task.status == "failed");
                slot.1 += 1;
                let mut seen = Vec::new();
                for failed in &task.failed_checks {
                    let name = format!("{} › {}", task.address, failed.check);
                    if failed.fixed {
                        *fixes.entry(name.clone()).or_insert(0) += 1;
                    }
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name.clone());
                    *failing_checks.entry(name.clone()).or_insert(0) += 1;
                    let unfixed = !task
                        .failed_checks
                        .iter()
                        .any(|f| f.check == failed.check && f.fixed);
                    if task.status == "succeeded" && unfixed {
                        *flaky.entry(name).or_insert(0) += 1;
                    }
                }
            }
        }
        let mut slowest: Vec<(String, u64, u64, usize)> = durations
            .into_iter()
            .map(|(address, mut times)| {
                times.sort_unstable();
                let median = quantile(&times, 0.5);
                let p90 = quantile(&times, 0.9);
                (address, median, p90, times.len())
            })
            .collect();
        slowest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // Each check's failing builds over the builds its gate ran in.
        let mut failing_checks: Vec<(String, usize, usize)> = failing_checks
            .into_iter()
            .map(|(name, n): (String, usize)| {
                let task = name.split(" › ").next().unwrap_or_default();
                let ran = outcomes.get(task).map_or(n, |o| o.1);
                (name, n, ran)
            })
            .collect();
        by_rate(&mut failing_checks);
        let mut failing: Vec<(String, usize, usize)> = outcomes
            .into_iter()
            .filter(|(_, (failed, _))| *failed > 0)
            .map(|(address, (failed, ran))| (address, failed, ran))
            .collect();
        by_rate(&mut failing);
        Self {
            flaky_tasks: flaky_tasks(by_inputs),
            runs: runs.len(),
            succeeded: runs.iter().filter(|r| r.success).count(),
            interrupted: runs.iter().filter(|r| r.interrupted).count(),
            median_run_ms,
            trend,
            slowest,
            failing,
            failing_checks,
            flaky: ranked(flaky),
            fixes: ranked(fixes),
            up_to_date: runs.iter().map(|r| r.up_to_date).sum(),
            saved_ms: runs.iter().map(|r| r.saved_ms).sum(),
            ran,
            builds: runs
                .iter()
                .map(|r| (r.duration_ms, r.success, r.interrupted))
                .collect(),
        }
    }

    pub(crate) fn text(&self) -> String {
        let ms = |m: u64| {
            if m < 1000 {
                format!("{m}ms")
            } else {
                elapsed(std::time::Duration::from_millis(m))
            }
        };
        let mut out = String::new();
        if self.runs == 0 {
            return "no builds in the history yet (`.orchestra/history.jsonl`)\n".into();
        }
        let _ = writeln!(
            out,
            "{}: {} succeeded, {} failed, {} interrupted; median {}",
            crate::words::plural(self.runs, "build"),
            self.succeeded,
            self.runs - self.succeeded - self.interrupted,
            self.interrupted,
            ms(self.median_run_ms)
        );
        if let Some(((old_ms, old_rate), (new_ms, new_rate))) = self.trend {
            let _ = writeln!(
                out,
                "trend: median {} → {}, success {:.0}% → {:.0}% (older half → newer half)",
                ms(old_ms),
                ms(new_ms),
                old_rate * 100.0,
                new_rate * 100.0
            );
        }
        let _ = writeln!(
            out,
            "tasks: {} ran, {} up to date (skipped without running), saving {} (what they took at their last run)",
            self.ran,
            self.up_to_date,
            ms(self.saved_ms)
        );
        if !self.slowest.is_empty() {
            out.push_str("\nslowest tasks (median, p90, runs):\n");
            for (address, median, p90, runs) in self.slowest.iter().take(ROWS) {
                let _ = writeln!(
                    out,
                    "  {address:<40} {:>8} {:>8} {runs:>5}",
                    ms(*median),
                    ms(*p90)
                );
            }
        }
        if !self.failing.is_empty() {
            out.push_str("\nfailing tasks (failed / ran):\n");
            for (address, failed, ran) in self.failing.iter().take(ROWS) {
                let _ = writeln!(out, "  {address:<40} {failed} / {ran}");
            }
        }
        if !self.failing_checks.is_empty() {
            out.push_str("\ngate checks that failed (builds failed / gate ran):\n");
            for (name, failed, ran) in self.failing_checks.iter().take(ROWS) {
                let _ = writeln!(out, "  {name:<40} {failed} / {ran}");
            }
        }
        for (title, rows) in [
            (
                "flaky checks: failed, then passed without a fix (builds)",
                &self.flaky,
            ),
            ("fixes applied (times)", &self.fixes),
            (
                "flaky tasks: failed with inputs that also succeeded (failures)",
                &self.flaky_tasks,
            ),
        ] {
            if !rows.is_empty() {
                let _ = writeln!(out, "\n{title}:");
                for (name, n) in rows.iter().take(ROWS) {
                    let _ = writeln!(out, "  {name:<40} {n}");
                }
            }
        }
        out
    }

    /// One self-contained page: the text's tables, and a bar per build
    /// (height its duration, colour its outcome) for the trend.
    pub(crate) fn html(&self, project: &str) -> String {
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let longest = self.builds.iter().map(|b| b.0).max().unwrap_or(1).max(1);
        let (width, height) = (12usize, 120u64);
        let mut bars = String::new();
        for (i, (ms, ok, interrupted)) in self.builds.iter().enumerate() {
            let h = (ms * height / longest).max(1);
            let class = if *interrupted {
                "interrupted"
            } else if *ok {
                "ok"
            } else {
                "failed"
            };
            let _ = writeln!(
                bars,
                "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\"><title>build {}: {ms} ms, {class}</title></rect>",
                i * (width + 2),
                height - h,
                width,
                i + 1
            );
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>orchestra report: {p}</title>\n<style>body{{font:14px system-ui,sans-serif;margin:24px}}pre{{background:#f6f6f6;padding:12px}}.ok{{fill:#3a9d5d}}.failed{{fill:#d0453a}}.interrupted{{fill:#e39b2d}}</style></head>\n<body><h1>orchestra report: {p}</h1>\n<h2>Builds, oldest first (height: duration)</h2>\n<svg width=\"{w}\" height=\"{height}\" role=\"img\" aria-label=\"build durations\">\n{bars}</svg>\n<h2>Summary</h2>\n<pre>{text}</pre>\n</body></html>\n",
            p = esc(project),
            w = (self.builds.len() * (width + 2)).max(1),
            text = esc(&self.text()),
        )
    }

    pub(crate) fn json(&self) -> Value {
        let pairs = |rows: &[(String, usize)], key: &str| -> Vec<Value> {
            rows.iter()
                .map(|(name, n)| json!({ "check": name, key: n }))
                .collect()
        };
        json!({
            "version": 1,
            "builds": {
                "total": self.runs,
                "succeeded": self.succeeded,
                "interrupted": self.interrupted,
                "median_ms": self.median_run_ms,
                "trend": self.trend.map(|((om, or), (nm, nr))| json!({
                    "older": { "median_ms": om, "success_rate": or },
                    "newer": { "median_ms": nm, "success_rate": nr },
                })),
            },
            "tasks_ran": self.ran,
            "tasks_up_to_date": self.up_to_date,
            "saved_ms": self.saved_ms,
            "slowest": self.slowest.iter().map(|(a, m, p, n)| json!({
                "task": a, "median_ms": m, "p90_ms": p, "runs": n,
            })).collect::<Vec<_>>(),
            "failing": self.failing.iter().map(|(a, f, r)| json!({
                "task": a, "failed": f, "ran": r,
            })).collect::<Vec<_>>(),
            "failing_checks": self.failing_checks.iter().map(|(c, f, r)| json!({
                "check": c, "builds": f, "ran": r,
            })).collect::<Vec<_>>(),
            "flaky_checks": pairs(&self.flaky, "builds"),
            "fixes": pairs(&self.fixes, "times"),
            "flaky_tasks": self.flaky_tasks.iter().map(|(task, n)| json!({
                "task": task, "failures": n,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(quantile(&v, 0.5), 5);
        assert_eq!(quantile(&v, 0.9), 9);
        assert_eq!(quantile(&[7], 0.9), 7);
        assert_eq!(quantile(&[], 0.5), 0);
    }
}
