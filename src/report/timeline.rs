//! `--timings PATH.html` and `--trace PATH.json`: when each task ran, on
//! which of the `-j` slots, and for how long.
//!
//! [`Timeline`] is a reporter that notes the time of every start, step and
//! end; [`Timeline::html`] draws one self-contained page (inline CSS and
//! SVG, nothing fetched): a lane per slot, a bar per task coloured by kind
//! and outcome, a mark per gate attempt, the critical path (the chain of
//! needs that took longest, by measured durations) outlined, and a hover
//! title with the command and the duration; then a table of every task.
//! [`Timeline::trace`] writes the Chrome trace-event format (Perfetto,
//! `chrome://tracing`): one complete (`X`) event per task run, a thread per
//! lane.

use std::fmt::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::lines;
use crate::plan::describe::kind_name;
use crate::plan::{Plan, TaskId};
use crate::run::{Event, Reporter, Status, Step, Summary, command_text, step_command};

/// One task that ran.
#[derive(Debug, Clone)]
struct Bar {
    task: TaskId,
    lane: usize,
    start: Duration,
    end: Option<Duration>,
    /// Each step's start: (offset, which step, attempt).
    steps: Vec<(Duration, Step, u32)>,
    outcome: &'static str,
}

/// Collects the run's times as it happens.
pub(crate) struct Timeline {
    started: Instant,
    bars: Vec<Bar>,
    /// Which lane each running task holds.
    lanes: Vec<Option<TaskId>>,
    /// Where each task's bar is, by task id.
    index: Vec<Option<usize>>,
}

impl Timeline {
    pub(crate) fn new(tasks: usize) -> Self {
        Self {
            started: Instant::now(),
            bars: Vec::new(),
            lanes: Vec::new(),
            index: vec![None; tasks],
        }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// The longest chain of needs by measured durations, as task ids.
    fn critical_path(&self, plan: &Plan) -> Vec<TaskId> {
        let took = |id: TaskId| {
            self.index[id.index()]
                .and_then(|b| {
                    self.bars[b]
                        .end
                        .map(|e| e.saturating_sub(self.bars[b].start))
                })
                .unwrap_or_default()
        };
        // Tasks come after their needs: one pass in plan order.
        let mut best: Vec<(Duration, Option<TaskId>)> = Vec::with_capacity(plan.tasks.len());
        for task in &plan.tasks {
            let before = task
                .needs
                .iter()
                .map(|&n| (best[n.index()].0, Some(n)))
                .max_by_key(|(d, _)| *d)
                .unwrap_or((Duration::ZERO, None));
            best.push((before.0 + took(task.id), before.1));
        }
        let Some(mut at) = (0..best.len()).max_by_key(|&i| best[i].0) else {
            return Vec::new();
        };
        let mut path = vec![TaskId(u32::try_from(at).unwrap_or(u32::MAX))];
        while let Some(previous) = best[at].1 {
            path.push(previous);
            at = previous.index();
        }
        path.reverse();
        path.retain(|&id| took(id) > Duration::ZERO);
        path
    }

    /// The page: a Gantt chart of the run and a table of every task.
    pub(crate) fn html(&self, plan: &Plan, summary: &Summary) -> String {
        const ROW: usize = 28;
        const LEFT: usize = 70;
        const WIDTH: usize = 1100;
        let total = summary.duration.max(Duration::from_millis(1));
        let span = WIDTH - LEFT - 10;
        let x = |d: Duration| {
            // A pixel column: the ratio of two durations, scaled to the chart.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let px = (d.as_secs_f64() / total.as_secs_f64() * span as f64) as usize;
            LEFT + px.min(span)
        };
        let critical = self.critical_path(plan);
        let lanes = self.lanes.len().max(1);
        let height = lanes * ROW + 40;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"tasks over time, one lane per slot\">"
        );
        for lane in 0..lanes {
            let y = 20 + lane * ROW;
            let _ = writeln!(
                svg,
                "<text x=\"4\" y=\"{}\" class=\"lane\">slot {}</text>",
                y + 18,
                lane + 1
            );
        }
        for bar in &self.bars {
            let task = plan.task(bar.task);
            let end = bar.end.unwrap_or(summary.duration);
            let (x0, x1) = (x(bar.start), x(end));
            let y = 20 + bar.lane * ROW;
            let on_path = critical.contains(&bar.task);
            let command = task
                .commands
                .iter()
                .map(command_text)
                .collect::<Vec<_>>()
                .join("; ");
            let title = format!(
                "{} ({}, {}): {}{}",
                task.address,
                kind_name(task.kind),
                bar.outcome,
                took(end.saturating_sub(bar.start)),
                if command.is_empty() {
                    String::new()
                } else {
                    format!("\n$ {command}")
                }
            );
            let _ = writeln!(
                svg,
                "<g class=\"bar {} {}{}\"><title>{}</title><rect x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\"/>",
                kind_name(task.kind),
                bar.outcome,
                if on_path { " critical" } else { "" },
                escape(&title),
                y + 2,
                (x1 - x0).max(2),
                ROW - 6
            );
            // A mark at each gate attempt after the first.
            for (at, step, attempt) in &bar.steps {
                if *attempt > 1 && matches!(step, Step::Check(0)) {
                    let _ = writeln!(
                        svg,
                        "<line class=\"attempt\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"><title>attempt {attempt}</title></line>",
                        x(*at),
                        y + 2,
                        y + ROW - 4
                    );
                }
            }
            if x1 - x0 > 60 {
                let _ = writeln!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" class=\"label\">{}</text>",
                    x0 + 4,
                    y + 18,
                    escape(&task.address)
                );
            }
            svg.push_str("</g>\n");
        }
        svg.push_str("</svg>\n");
        let rows = self.rows(plan, summary, &critical);
        let path: Vec<&str> = critical
            .iter()
            .map(|&id| plan.task(id).address.as_str())
            .collect();
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>orchestra timings: {project}</title>\n<style>{STYLE}</style></head>\n<body>\n<h1>orchestra timings: {project}</h1>\n<p>{summary_line}</p>\n<p class=\"legend\"><span class=\"key task\">task</span> <span class=\"key gate\">gate</span> <span class=\"key phase\">phase / stage / step</span> <span class=\"key failed\">failed</span> <span class=\"key critical\">critical path</span>: {path}</p>\n{svg}<table><thead><tr><th>task</th><th>kind</th><th>result</th><th>started</th><th>took</th><th>attempts</th><th>slot</th></tr></thead><tbody>\n{rows}</tbody></table>\n</body></html>\n",
            project = escape(&plan.project),
            summary_line = escape(&lines::summary(plan, summary)),
            path = escape(&path.join(" → ")),
        )
    }

    /// A table row per task of the plan, run or not.
    fn rows(&self, plan: &Plan, summary: &Summary, critical: &[TaskId]) -> String {
        let mut rows = String::new();
        for (task, record) in plan.tasks.iter().zip(&summary.tasks) {
            let status = match &record.status {
                Status::Succeeded => "ok".to_owned(),
                Status::UpToDate => "up to date".to_owned(),
                Status::Failed(_) => "failed".to_owned(),
                Status::NotRun(why) => format!("not run: {}", lines::skip_reason(plan, task, *why)),
            };
            let bar = self.index[task.id.index()].map(|b| &self.bars[b]);
            let (start, lane) = bar.map_or((String::new(), String::new()), |b| {
                (took(b.start), (b.lane + 1).to_string())
            });
            let _ = writeln!(
                rows,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{start}</td><td>{}</td><td>{}</td><td>{lane}</td></tr>",
                if critical.contains(&task.id) {
                    "critical"
                } else {
                    ""
                },
                escape(&task.address),
                kind_name(task.kind),
                escape(&status),
                if bar.is_some() {
                    took(record.duration)
                } else {
                    String::new()
                },
                record.attempts
            );
        }
        rows
    }

    /// The Chrome trace-event document.
    pub(crate) fn trace(&self, plan: &Plan) -> Value {
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let mut events: Vec<Value> = (0..self.lanes.len())
            .map(|lane| {
                json!({
                    "name": "thread_name", "ph": "M", "pid": 1, "tid": lane + 1,
                    "args": { "name": format!("slot {}", lane + 1) },
                })
            })
            .collect();
        events.push(json!({
            "name": "process_name", "ph": "M", "pid": 1, "tid": 0,
            "args": { "name": format!("orchestra: {}", plan.project) },
        }));
        for bar in &self.bars {
            let task = plan.task(bar.task);
            let end = bar.end.unwrap_or(bar.start);
            let command: Vec<String> = bar
                .steps
                .iter()
                .map(|(_, step, attempt)| {
                    format!(
                        "{} (attempt {attempt})",
                        command_text(step_command(task, *step))
                    )
                })
                .collect();
            events.push(json!({
                "name": task.address.as_str(),
                "cat": kind_name(task.kind),
                "ph": "X",
                "ts": micros(bar.start),
                "dur": micros(end.saturating_sub(bar.start)),
                "pid": 1,
                "tid": bar.lane + 1,
                "args": { "outcome": bar.outcome, "commands": command },
            }));
        }
        json!({ "traceEvents": events, "displayTimeUnit": "ms" })
    }
}

impl Reporter for Timeline {
    fn event(&mut self, _plan: &Plan, event: &Event<'_>) {
        match *event {
            Event::RunStarted { .. } => self.started = Instant::now(),
            Event::TaskStarted { task } => {
                let lane = self
                    .lanes
                    .iter()
                    .position(Option::is_none)
                    .unwrap_or_else(|| {
                        self.lanes.push(None);
                        self.lanes.len() - 1
                    });
                self.lanes[lane] = Some(task);
                self.index[task.index()] = Some(self.bars.len());
                self.bars.push(Bar {
                    task,
                    lane,
                    start: self.now(),
                    end: None,
                    steps: Vec::new(),
                    outcome: "running",
                });
            }
            Event::StepStarted {
                task,
                step,
                attempt,
            } => {
                let now = self.now();
                if let Some(b) = self.index[task.index()] {
                    self.bars[b].steps.push((now, step, attempt));
                }
            }
            Event::TaskFinished { task, record, .. } => {
                let now = self.now();
                if let Some(b) = self.index[task.index()] {
                    let bar = &mut self.bars[b];
                    bar.end = Some(now);
                    bar.outcome = match record.status {
                        Status::Succeeded => "ok",
                        Status::Failed(crate::run::Failure::Interrupted) => "interrupted",
                        _ => "failed",
                    };
                    if let Some(lane) = self.lanes.get_mut(bar.lane) {
                        *lane = None;
                    }
                }
            }
            _ => {}
        }
    }
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:20px}svg{border:1px solid #ddd;background:#fafafa}\
.lane{font-size:11px;fill:#666}.label{font-size:11px;fill:#fff;pointer-events:none}\
.bar rect{fill:#4a78c2}.bar.gate rect,.bar.wave-gate rect{fill:#8e5cc4}\
.bar.phase rect,.bar.stage rect,.bar.step rect{fill:#2e9c8f}.bar.target rect{fill:#999}\
.bar.failed rect{fill:#d0453a}.bar.interrupted rect{fill:#e39b2d}\
.bar.critical rect{stroke:#111;stroke-width:2}\
.attempt{stroke:#fff;stroke-width:2;stroke-dasharray:3 2}\
table{border-collapse:collapse;margin-top:16px}td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}\
tr.critical td:first-child{font-weight:bold}\
.key{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff}.key.task{background:#4a78c2}\
.key.gate{background:#8e5cc4}.key.phase{background:#2e9c8f}.key.failed{background:#d0453a}\
.key.critical{background:#fff;color:#111;border:2px solid #111}";

/// A duration as the page shows it: milliseconds under a second.
fn took(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        lines::elapsed(d)
    }
}

/// Text for HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
