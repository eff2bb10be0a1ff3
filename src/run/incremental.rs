//! Make-like up-to-date checks, asked by the scheduler in dependency order.
//!
//! Each task gets a fingerprint ([`Record`]) when it is about to start —
//! after everything it needs has finished, so inputs produced upstream are
//! hashed as they are now. The fingerprint covers the task's own inputs and
//! the fingerprints of its needs, so a change anywhere upstream reaches
//! every dependent, while a dependent whose upstream merely ran again with
//! the same inputs stays up to date.
//!
//! Which tasks may be skipped:
//! - a task with `inputs` and commands: when its fingerprint equals the one
//!   recorded at its last success and every declared output exists;
//! - a gate or target with needs: when every need was up to date in this
//!   run and the fingerprint matches its last pass (a gate re-checks when
//!   anything it guards ran);
//! - anything else (no inputs) always runs.

use std::path::{Path, PathBuf};

use super::fingerprint::{Reason, Record, explain};
use super::inputs;
use super::stat_cache::Hash;
use super::store::Store;
use crate::plan::{Cmd, Plan, PlanTask, TaskKind};

/// The fingerprint store's place in a project.
pub fn store_path(root: &Path) -> PathBuf {
    root.join(".orchestra").join("fingerprints")
}

/// Whether a task runs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    UpToDate,
    Run(Vec<Reason>),
}

/// The up-to-date state of one run: the store loaded at its start, this
/// run's fingerprints, and the records waiting for their task to succeed.
pub struct Incremental {
    root: PathBuf,
    pub store: Store,
    force: bool,
    /// `--explain`: the scheduler reports why each task runs.
    pub explain: bool,
    /// This run's fingerprint of each task, by `TaskId` index.
    fingerprints: Vec<Option<Hash>>,
    /// The record to keep when the task succeeds.
    pending: Vec<Option<Record>>,
    /// Whether any record changed since load.
    changed: bool,
}

impl Incremental {
    pub fn new(root: &Path, store: Store, force: bool, tasks: usize) -> Self {
        Self {
            root: root.to_path_buf(),
            store,
            force,
            explain: false,
            fingerprints: vec![None; tasks],
            pending: vec![None; tasks],
            changed: false,
        }
    }

    /// Loads the project's store; a missing or unreadable one is empty.
    pub fn load(root: &Path, force: bool, tasks: usize) -> Self {
        Self::new(root, Store::load(&store_path(root)), force, tasks)
    }

    /// Writes the store back, atomically, when anything changed.
    pub fn save(&self) -> std::io::Result<()> {
        if self.changed || self.store.stat.is_changed() {
            self.store.save(&store_path(&self.root))?;
        }
        Ok(())
    }

    /// Fingerprints `task` (its needs are done) and says whether it runs.
    /// `ran`: the needs that ran this run rather than being up to date.
    pub fn check(&mut self, plan: &Plan, task: &PlanTask, ran: &[String]) -> Verdict {
        let record = self.record(plan, task);
        let barrier = matches!(
            task.kind,
            TaskKind::Gate | TaskKind::WaveGate | TaskKind::Target
        ) && !task.needs.is_empty();
        let outputs_checked = !self.force && !barrier && !task.inputs.is_empty();
        let missing = if outputs_checked {
            self.missing_outputs(task)
        } else {
            Vec::new()
        };
        let previous_fingerprint = self.store.fingerprint(&task.address);
        let unchanged = previous_fingerprint == Some(record.fingerprint);
        // The whole previous record only to explain a difference.
        let previous_record = if unchanged {
            None
        } else {
            self.store.record(&task.address)
        };
        let previous = if unchanged {
            Some(&record)
        } else {
            previous_record.as_ref()
        };
        let verdict = if self.force {
            Verdict::Run(vec![Reason::Forced])
        } else if barrier {
            Self::check_barrier(previous, &record, ran)
        } else if task.inputs.is_empty() {
            Verdict::Run(vec![Reason::NoInputs])
        } else {
            let mut reasons = explain(previous, &record);
            if !missing.is_empty() {
                reasons.push(Reason::OutputsMissing(missing));
            }
            if reasons.is_empty() {
                Verdict::UpToDate
            } else {
                Verdict::Run(reasons)
            }
        };
        self.fingerprints[task.id.index()] = Some(record.fingerprint);
        // An up-to-date task's record is already the stored one: keeping
        // it would only cost a copy per task on a no-op.
        self.pending[task.id.index()] = (!unchanged).then_some(record);
        verdict
    }

    fn check_barrier(previous: Option<&Record>, record: &Record, ran: &[String]) -> Verdict {
        let mut reasons = explain(previous, record);
        if reasons.is_empty() && !ran.is_empty() {
            reasons.push(Reason::UpstreamChanged(ran.to_vec()));
        }
        if reasons.is_empty() {
            Verdict::UpToDate
        } else {
            Verdict::Run(reasons)
        }
    }

    /// Keeps the fingerprint of a task that succeeded (or was up to date).
    pub fn succeeded(&mut self, task: &PlanTask) {
        if let Some(record) = self.pending[task.id.index()].take() {
            let keep = !task.inputs.is_empty()
                || (!task.needs.is_empty()
                    && matches!(
                        task.kind,
                        TaskKind::Gate | TaskKind::WaveGate | TaskKind::Target
                    ));
            if keep {
                self.store.insert(task.address.clone(), record);
                self.changed = true;
            }
        }
    }

    /// Forgets a failed task's last success, so it runs next time.
    pub fn failed(&mut self, task: &PlanTask) {
        self.pending[task.id.index()] = None;
        self.changed |= self.store.remove(&task.address);
    }

    /// Declared outputs that do not exist (a glob counts when it matches).
    fn missing_outputs(&mut self, task: &PlanTask) -> Vec<String> {
        let (literal, globs): (Vec<&String>, Vec<&String>) = task
            .outputs
            .iter()
            .partition(|o| !o.contains(['*', '?', '[', '{']));
        let mut missing: Vec<String> = literal
            .into_iter()
            .filter(|o| {
                !self
                    .store
                    .stat
                    .exists(&self.root, o.trim_start_matches("./"))
            })
            .cloned()
            .collect();
        let globs: Vec<String> = globs.into_iter().cloned().collect();
        missing.extend(missing_outputs(&self.root, &globs));
        missing
    }

    fn record(&mut self, plan: &Plan, task: &PlanTask) -> Record {
        let mut commands: Vec<Cmd> = task.commands.clone();
        if let Some(gate) = &task.gate {
            for check in &gate.checks {
                commands.push(check.command.clone());
                commands.extend(check.fix.clone());
            }
        }
        let mut hashed = Vec::with_capacity(task.inputs.len());
        let mut globs = Vec::new();
        for pattern in &task.inputs {
            // A literal file costs one stat (inside the stat cache), not
            // the two that expanding it first would: a no-op build of
            // thousands of tasks is mostly stats.
            let path = pattern.trim_start_matches("./");
            if path.contains(['*', '?', '[', '{']) {
                globs.push(pattern.clone());
                continue;
            }
            match self.store.stat.hash(&self.root, path) {
                Ok(hash) => hashed.push((path.to_owned(), Some(hash))),
                Err(_) if self.root.join(path).is_dir() => globs.push(pattern.clone()),
                Err(_) => hashed.push((path.to_owned(), None)),
            }
        }
        if !globs.is_empty() {
            // A bad pattern was reported when the plan was checked; here it
            // simply names no file.
            let expanded = inputs::expand(&self.root, &globs).unwrap_or_default();
            for file in expanded.files {
                let hash = self.store.stat.hash(&self.root, &file).ok();
                hashed.push((file, hash));
            }
            hashed.extend(expanded.missing.into_iter().map(|m| (m, None)));
            hashed.sort();
            hashed.dedup_by(|a, b| a.0 == b.0);
        }
        let upstream = task
            .needs
            .iter()
            .filter_map(|n| {
                let address = plan.task(*n).address.clone();
                self.fingerprints[n.index()].map(|f| (address, f))
            })
            .collect();
        Record::new(
            commands,
            plan.shell.clone(),
            task.dir.clone().unwrap_or_else(|| ".".into()),
            &task.env,
            hashed,
            upstream,
        )
    }
}

/// Declared outputs under `root` that do not exist.
pub fn missing_outputs(root: &Path, outputs: &[String]) -> Vec<String> {
    outputs
        .iter()
        .filter(|output| {
            if output.contains(['*', '?', '[', '{']) {
                inputs::expand(root, std::slice::from_ref(output))
                    .map_or(true, |e| e.files.is_empty())
            } else {
                !root.join(output.trim_start_matches("./")).exists()
            }
        })
        .cloned()
        .collect()
}
