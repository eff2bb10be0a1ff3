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

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::depfile;
use super::fingerprint::{Parts, Reason, Record, encode_files, explain};
use super::inputs;
use super::stat_cache::Hash;
use super::store::Store;
use super::{Freshness, Verdict};
use crate::codec::Writer;
use crate::model::CommandKind;
use crate::plan::{Plan, PlanTask, Str, TaskId, TaskKind};
use crate::workspace::journal::{Entry, Journal};
use crate::workspace::{Workspace, now_millis};

/// The up-to-date state of one run: the store loaded at its start, this
/// run's fingerprints, and the records waiting for their task to succeed.
pub(crate) struct Incremental {
    /// Where relative input paths are resolved (`.` when the project is the
    /// current directory: the kernel walks fewer components per stat).
    root: PathBuf,
    workspace: Workspace,
    pub(crate) store: Store,
    force: bool,
    /// `--explain`: the scheduler reports why each task runs.
    pub(crate) explain: bool,
    /// Record successes: a build does, a prediction (`why`) does not.
    record: Option<Recording>,
    /// Which store file was loaded, to tell at the end whether another
    /// build compacted meanwhile.
    loaded_id: Option<(u64, u64, u64, i64)>,
    /// This run's fingerprint of each task, by `TaskId` index.
    fingerprints: Vec<Option<Hash>>,
    /// The record to keep when the task succeeds.
    pending: Vec<Option<Box<Record>>>,
    /// Whether any record changed since load.
    changed: bool,
    /// What the up-to-date tasks took at their last success, summed.
    saved_ms: u64,
    /// The fingerprints of the tasks that ran, as checked.
    ran_with: Vec<(TaskId, Hash)>,
    /// Reused for each task's fingerprint bytes.
    scratch: Writer,
    /// Per task: it ran in this build, or something it needs (at any
    /// depth) did; then stats taken before the build do not serve it.
    after_run: Vec<bool>,
    /// When each task with a depfile was checked (ns since the epoch): a
    /// file its depfile names that changed later may have been read
    /// before the change.
    checked_at: std::collections::HashMap<usize, i64>,
    /// Per task: the last check said it runs.
    will_run: Vec<bool>,
}

/// A gate or target with needs: up to date when every need was up to date
/// and its fingerprint matches its last pass.
fn barrier(task: &PlanTask) -> bool {
    matches!(
        task.kind,
        TaskKind::Gate | TaskKind::WaveGate | TaskKind::Target
    ) && !task.needs.is_empty()
}

/// Whether `task` has inputs to decide it by: declared, or named by its
/// depfile.
fn has_inputs(task: &PlanTask) -> bool {
    !task.inputs.is_empty() || task.depfile.is_some()
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Journals are merged into the store once they hold a quarter of its
/// size, and never below this many bytes.
const COMPACT_AT: u64 = 64 * 1024;

/// Where a build's records go as tasks finish: its own journal, opened at
/// the first record, so a no-op build creates no file.
struct Recording {
    run: u64,
    journal: Option<Journal>,
    /// The first error writing it, for one warning at the end.
    error: Option<std::io::Error>,
}

impl Incremental {
    /// The store as the workspace holds it (compacted store and journals);
    /// a garbled store is noted and loads empty ("rebuild").
    fn loaded(workspace: &Workspace) -> (Store, Option<(u64, u64, u64, i64)>) {
        let stored = workspace.load_fingerprints();
        let store_id = stored.store_id;
        let (store, corrupt) = Store::from_stored(stored);
        if corrupt {
            workspace.note_unreadable_store();
        }
        (store, store_id)
    }

    /// For a build, run `run`: successes are journalled as they happen.
    pub(crate) fn for_build(
        workspace: &Workspace,
        root: &Path,
        run: u64,
        force: bool,
        tasks: usize,
    ) -> Self {
        let mut this = Self::predicting(workspace, root, tasks);
        this.force = force;
        this.record = Some(Recording {
            run,
            journal: None,
            error: None,
        });
        this
    }

    /// For a prediction (`why`): nothing is written.
    pub(crate) fn predicting(workspace: &Workspace, root: &Path, tasks: usize) -> Self {
        let (store, loaded_id) = Self::loaded(workspace);
        Self {
            root: root.to_path_buf(),
            workspace: workspace.clone(),
            store,
            loaded_id,
            force: false,
            explain: false,
            record: None,
            fingerprints: vec![None; tasks],
            pending: vec![None; tasks],
            changed: false,
            saved_ms: 0,
            ran_with: Vec::new(),
            scratch: Writer::default(),
            after_run: vec![false; tasks],
            checked_at: std::collections::HashMap::new(),
            will_run: vec![false; tasks],
        }
    }

    /// `-B`: every task runs, up to date or not.
    pub(crate) fn force(&mut self, force: bool) {
        self.force = force;
    }

    /// At the end of a build: journals the file stats that changed, then
    /// compacts — merges the journals of this build and of builds that are
    /// gone into the store — only when they have grown to a quarter of the
    /// store (at least [`COMPACT_AT`]). Otherwise the journal simply stays
    /// for later loads: one changed input costs an appended entry, not a
    /// rewritten store.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        let Some(mut recording) = self.record.take() else {
            return Ok(());
        };
        let mut failed = recording.error.take();
        let stats = self.store.stat.changed_entries();
        if failed.is_none() && !stats.is_empty() {
            let journal = match recording.journal.take() {
                Some(journal) => Ok(journal),
                None => self.workspace.open_journal(recording.run),
            };
            let appended = journal.and_then(|mut journal| {
                journal
                    .append_stats(stats.iter().map(|(path, bytes)| (*path, bytes.as_slice())))?;
                Ok(journal)
            });
            match appended {
                Ok(journal) => recording.journal = Some(journal),
                Err(e) => failed = Some(e),
            }
        }
        drop(stats);
        // A journal that cannot be written (a file where its directory
        // should be): the store is written whole instead, with everything
        // this build learned when nobody compacted since it loaded.
        let store_size = self.loaded_id.map_or(0, |id| id.2);
        if failed.is_none() && self.workspace.journals_size() < COMPACT_AT.max(store_size / 4) {
            // The build is over: freeing tens of thousands of records one
            // by one (7–10 ms at 20k tasks) only delays the exit that gives
            // their memory back at once.
            std::mem::forget(self.store);
            return Ok(());
        }
        let mut store = self.store;
        let loaded_id = self.loaded_id;
        self.workspace.compact(recording.journal, |stored| {
            if stored.store_id == loaded_id {
                // Nobody compacted since we loaded: what we hold is the
                // store plus every journal then; add what finished since.
                for entry in &stored.entries {
                    store.apply(entry);
                }
                store.encode()
            } else {
                let (mut merged, _) = Store::from_stored(stored);
                merged.stat = std::mem::take(&mut store.stat);
                merged.encode()
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// Keeps the record of `task`'s success (its pending record, with
    /// what it produced and what its depfile names), or forgets its last
    /// one when its depfile cannot be read.
    fn record_success(&mut self, task: &PlanTask, produced: Option<Hash>, took: Duration) {
        let Some(mut record) = self.pending[task.id.index()].take() else {
            return;
        };
        record.produced = produced;
        record.took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        // A prediction (`why`, `--dry-run`) ran nothing: no depfile was
        // written, and what it predicts is not kept.
        if task.depfile.is_some() && self.record.is_some() {
            match self.discovered_after(task) {
                Ok(discovered) => {
                    *record = record.with_discovered(discovered);
                    // What depends on it fingerprints it as the next
                    // build's check will.
                    self.fingerprints[task.id.index()] = Some(record.fingerprint);
                }
                Err(message) => {
                    // Not trusted without the files it read: it runs
                    // again next time.
                    self.workspace
                        .note(format!("{message}; it runs again next time"));
                    let stamp = now_millis();
                    self.store.remove(&task.address, stamp, None);
                    self.journal(&task.address, None, stamp, None);
                    self.changed = true;
                    return;
                }
            }
        }
        // The fingerprint covers the commands as they run; what is kept
        // has every secret masked.
        record.mask(self.workspace.masker());
        let keep = has_inputs(task) || barrier(task);
        if keep {
            let stamp = now_millis();
            self.journal(&task.address, Some(&record), stamp, None);
            self.store.insert(&task.address, stamp, *record);
            self.changed = true;
        }
    }

    /// Appends to this build's journal (opened on first use).
    fn journal(&mut self, address: &str, record: Option<&Record>, stamp: u64, cause: Option<&str>) {
        let Some(recording) = &mut self.record else {
            return;
        };
        if recording.error.is_some() {
            return;
        }
        if recording.journal.is_none() {
            match self.workspace.open_journal(recording.run) {
                Ok(journal) => recording.journal = Some(journal),
                Err(e) => {
                    recording.error = Some(e);
                    return;
                }
            }
        }
        let record = record.map(|r| {
            let mut w = Writer::default();
            r.encode(&mut w);
            w.bytes
        });
        let entry = Entry {
            stamp,
            address: address.to_owned(),
            record,
            cause: cause.map(str::to_owned),
        };
        if let Some(Err(e)) = recording.journal.as_mut().map(|j| j.append(&entry)) {
            recording.error = Some(e);
        }
    }
}

impl Freshness for Incremental {
    fn check(&mut self, plan: &Plan, task: &PlanTask, ran: &[String]) -> Verdict {
        let downstream_of_a_run = task.needs.iter().any(|n| self.after_run[n.index()]);
        self.store.stat.use_seeded(!downstream_of_a_run);
        let mut parts = self.parts(plan, task);
        let fingerprint = parts.fingerprint(&mut self.scratch);
        let barrier = barrier(task);
        let outputs_checked = !self.force && !barrier && has_inputs(task);
        let missing = if outputs_checked {
            self.missing_outputs(task)
        } else {
            Vec::new()
        };
        let previous_fingerprint = self.store.fingerprint(&task.address);
        let unchanged = previous_fingerprint == Some(fingerprint);
        // Owned records only for a difference, to store and explain it, or
        // for a task whose record is remade after it runs: with a depfile,
        // or with outputs that it produces again (their hash is kept).
        let remade = task.depfile.is_some()
            || (!task.outputs.is_empty() && (self.force || !missing.is_empty()));
        let (record, previous_record) = if unchanged && !remade {
            (None, None)
        } else {
            // Unmasked until it is stored: a depfile's files are added to it
            // then, and its fingerprint is of the commands as they run.
            let record = parts.into_record();
            let previous = (!unchanged)
                .then(|| self.store.record(&task.address))
                .flatten();
            (Some(record), previous)
        };
        if task.depfile.is_some() {
            self.checked_at.insert(task.id.index(), now_nanos());
        }
        // Why it differs from its last success (nothing when unchanged).
        let masker = self.workspace.masker();
        let differences = || match &record {
            Some(record) if !unchanged => {
                // What is explained has every secret masked, as what is kept.
                let mut shown = record.clone();
                shown.mask(masker);
                explain(previous_record.as_ref(), &shown)
            }
            _ => Vec::new(),
        };
        let verdict = if self.force {
            Verdict::Run(vec![Reason::Forced])
        } else if barrier {
            let mut reasons = differences();
            if reasons.is_empty() && !ran.is_empty() {
                reasons.push(Reason::UpstreamChanged(ran.to_vec()));
            }
            Verdict::from(reasons)
        } else if !has_inputs(task) {
            Verdict::Run(vec![Reason::NoInputs])
        } else if let (false, None, Some(gate)) = (
            unchanged,
            &previous_record,
            self.store.failed_gate(&task.address),
        ) {
            Verdict::Run(vec![Reason::GateFailed(gate.to_owned())])
        } else {
            let mut reasons = differences();
            if !missing.is_empty() {
                reasons.push(Reason::OutputsMissing(missing));
            }
            match Verdict::from(reasons) {
                // Needs ran, yet its fingerprint (which covers what they
                // produced) is unchanged: an early cutoff.
                Verdict::UpToDate if !ran.is_empty() => {
                    Verdict::CutOff(Reason::UpstreamOutputsUnchanged(ran.to_vec()))
                }
                verdict => verdict,
            }
        };
        // It may write any file: for what depends on it, stats taken
        // before the build are stale.
        self.after_run[task.id.index()] = downstream_of_a_run || matches!(verdict, Verdict::Run(_));
        if matches!(verdict, Verdict::Run(_)) {
            // It will rewrite its outputs: stats taken of them now are stale.
            for output in &task.outputs {
                self.store
                    .stat
                    .forget_fresh(output.trim_start_matches("./"));
            }
        }
        let runs = matches!(verdict, Verdict::Run(_));
        // What depends on an up-to-date task with outputs fingerprints what
        // it produced at its last success (not the files now: a later task
        // may have appended to them); one that runs is fingerprinted again
        // once it has produced them.
        self.fingerprints[task.id.index()] = if runs || task.outputs.is_empty() {
            Some(fingerprint)
        } else {
            Some(self.store.produced(&task.address).unwrap_or(fingerprint))
        };
        // An up-to-date task's record is already the stored one; it saves
        // what its last run took.
        if runs {
            self.ran_with.push((task.id, fingerprint));
        } else {
            self.saved_ms += self.store.took(&task.address).unwrap_or(0);
        }
        self.will_run[task.id.index()] = runs;
        self.pending[task.id.index()] = record.filter(|_| runs || !unchanged).map(Box::new);
        verdict
    }

    fn saved(&self) -> Duration {
        Duration::from_millis(self.saved_ms)
    }

    fn ran_with(&self) -> Vec<(TaskId, Hash)> {
        self.ran_with.clone()
    }

    fn succeeded(&mut self, task: &PlanTask, took: Duration) {
        // What depends on a task with outputs fingerprints what it produced,
        // not whether it ran (early cutoff) — except in a prediction, where
        // a task that would run produced nothing yet.
        let produced =
            (self.will_run[task.id.index()] && self.record.is_some() && !task.outputs.is_empty())
                .then(|| self.output_fingerprint(task));
        self.record_success(task, produced, took);
        if let Some(produced) = produced {
            self.fingerprints[task.id.index()] = Some(produced);
        }
    }
    fn failed(&mut self, plan: &Plan, task: &PlanTask) {
        self.pending[task.id.index()] = None;
        // Forgotten in the journal even when this build never saw a record:
        // another build may have recorded a success since this one loaded.
        let stamp = now_millis();
        self.store.remove(&task.address, stamp, None);
        self.journal(&task.address, None, stamp, None);
        self.changed = true;
        // An owner is done only when its gate passes: what a failed gate
        // guards forgets its success too, and says why.
        if matches!(task.kind, TaskKind::Gate | TaskKind::WaveGate) {
            for need in &task.needs {
                let owner = &plan.task(*need).address;
                self.store.remove(owner, stamp, Some(&task.address));
                self.journal(owner, None, stamp, Some(&task.address));
                self.changed = true;
            }
        }
    }

    fn resumed(&mut self, task: &PlanTask) {
        let fingerprint = self.store.fingerprint(&task.address);
        self.fingerprints[task.id.index()] = if task.outputs.is_empty() {
            fingerprint
        } else {
            self.store.produced(&task.address).or(fingerprint)
        };
    }

    fn explains(&self) -> bool {
        self.explain
    }

    fn key(&self, task: &PlanTask) -> Option<Hash> {
        let i = task.id.index();
        if self.will_run[i] {
            self.fingerprints[i]
        } else {
            None
        }
    }

    fn outputs_missing(&mut self, task: &PlanTask) -> Vec<String> {
        if self.record.is_none() {
            return Vec::new();
        }
        missing_outputs(&self.root, &task.outputs)
    }
}

impl Incremental {
    /// Declared outputs that do not exist (a glob counts when it matches).
    fn missing_outputs(&mut self, task: &PlanTask) -> Vec<String> {
        let (literal, globs): (Vec<&Str>, Vec<&Str>) = task
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
            .map(ToString::to_string)
            .collect();
        missing.extend(missing_outputs(&self.root, &globs));
        missing
    }

    /// What `task`'s fingerprint is computed from, borrowed from `plan`
    /// where it can be; every input file hashed (through the stat cache).
    fn parts<'p>(&mut self, plan: &'p Plan, task: &'p PlanTask) -> Parts<'p> {
        let mut commands: Vec<&CommandKind> = task.commands.iter().collect();
        if let Some(gate) = &task.gate {
            for check in &gate.checks {
                commands.push(&check.command);
                commands.extend(check.fix.as_ref());
            }
        }
        let mut hashed: Vec<(Cow<'p, str>, Option<Hash>)> = Vec::with_capacity(task.inputs.len());
        let mut globs = Vec::new();
        for pattern in &task.inputs {
            // A literal file costs one stat (inside the stat cache), not
            // the two that expanding it first would: a no-op build of
            // thousands of tasks is mostly stats.
            let path = pattern.trim_start_matches("./");
            if path.contains(['*', '?', '[', '{']) {
                globs.push(pattern.as_str());
                continue;
            }
            match self.store.stat.hash(&self.root, path) {
                Ok(hash) => hashed.push((Cow::Borrowed(path), Some(hash))),
                Err(_) if self.root.join(path).is_dir() => globs.push(pattern.as_str()),
                Err(_) => hashed.push((Cow::Borrowed(path), None)),
            }
        }
        // Its dotenv files decide its commands' environment: for a task
        // decided by inputs, a changed one runs it again.
        if has_inputs(task) {
            for file in plan.dotenv_of(task) {
                let path = file.trim_start_matches("./");
                let hash = self.store.stat.hash(&self.root, path).ok();
                hashed.push((Cow::Borrowed(path), hash));
            }
        }
        if !globs.is_empty() {
            // A glob expanded before the build serves a task downstream of
            // nothing that ran (as the stats taken then do).
            let (seeded, globs): (Vec<&str>, Vec<&str>) = globs.into_iter().partition(|g| {
                self.store
                    .stat
                    .seeded_glob(g.trim_start_matches("./"))
                    .is_some()
            });
            let mut files: Vec<String> = seeded
                .iter()
                .filter_map(|g| self.store.stat.seeded_glob(g.trim_start_matches("./")))
                .flatten()
                .cloned()
                .collect();
            // A bad pattern was reported when the plan was checked; here it
            // simply names no file.
            let expanded = inputs::expand(&self.root, &globs).unwrap_or_default();
            files.extend(expanded.files);
            for file in files {
                let hash = self.store.stat.hash(&self.root, &file).ok();
                hashed.push((Cow::Owned(file), hash));
            }
            hashed.extend(expanded.missing.into_iter().map(|m| (Cow::Owned(m), None)));
            hashed.sort();
            hashed.dedup_by(|a, b| a.0 == b.0);
        }
        let upstream = task
            .needs
            .iter()
            .filter_map(|n| {
                let address = plan.task(*n).address.as_str();
                self.fingerprints[n.index()].map(|f| (address, f))
            })
            .collect();
        Parts {
            commands,
            shell: &plan.shell,
            dir: task.dir.as_deref().unwrap_or("."),
            env: &task.env,
            inputs: hashed,
            upstream,
            discovered: self.discovered_now(task),
        }
    }

    /// What `task` produced, as its dependents fingerprint it: every file
    /// of its declared outputs (globs and directories expanded) with its
    /// content hash, `None` for one missing. Two runs that write the same
    /// bytes fingerprint the same, so what depends on them stays up to date.
    fn output_fingerprint(&mut self, task: &PlanTask) -> Hash {
        let mut files: Vec<(String, Option<Hash>)> = Vec::new();
        for output in &task.outputs {
            let path = output.trim_start_matches("./");
            let literal = !path.contains(['*', '?', '[', '{']);
            if literal && let Ok(hash) = self.store.stat.hash(&self.root, path) {
                files.push((path.to_owned(), Some(hash)));
                continue;
            }
            if literal && !self.root.join(path).is_dir() {
                files.push((path.to_owned(), None));
                continue;
            }
            let expanded = inputs::expand(&self.root, &[path]).unwrap_or_default();
            for file in expanded.files {
                let hash = self.store.stat.hash(&self.root, &file).ok();
                files.push((file, hash));
            }
        }
        files.sort();
        files.dedup_by(|a, b| a.0 == b.0);
        let mut w = Writer::default();
        w.str("outputs");
        encode_files(&mut w, files.iter().map(|(p, h)| (p.as_str(), h.as_ref())));
        *blake3::hash(&w.bytes).as_bytes()
    }

    /// The files `task`'s depfile named after its last success, hashed now
    /// (none without a depfile or a recorded success).
    fn discovered_now(&mut self, task: &PlanTask) -> Vec<(String, Option<Hash>)> {
        if task.depfile.is_none() {
            return Vec::new();
        }
        let Some(previous) = self.store.record(&task.address) else {
            return Vec::new();
        };
        previous
            .discovered
            .into_iter()
            .map(|(path, _)| {
                let hash = self.store.stat.hash(&self.root, &path).ok();
                (path, hash)
            })
            .collect()
    }

    /// The files `task`'s depfile names now, after its command succeeded,
    /// each hashed — `None` for one missing or modified since the task was
    /// checked (the command may have read it before the change: it runs
    /// again next time). An error when the depfile is missing or garbled.
    fn discovered_after(&mut self, task: &PlanTask) -> Result<Vec<(String, Option<Hash>)>, String> {
        let Some(depfile) = &task.depfile else {
            return Ok(Vec::new());
        };
        let rel = depfile.trim_start_matches("./");
        let bytes = std::fs::read(self.root.join(rel)).map_err(|e| {
            format!(
                "the depfile `{rel}` of `{}` cannot be read: {e}",
                task.address
            )
        })?;
        let files = depfile::parse(&bytes)
            .map_err(|e| format!("the depfile `{rel}` of `{}` {e}", task.address))?;
        let dir = task.dir.as_deref().unwrap_or(".");
        let checked = self
            .checked_at
            .get(&task.id.index())
            .copied()
            .unwrap_or(i64::MAX);
        Ok(files
            .iter()
            .map(|file| {
                let path = depfile::project_path(&self.root, dir, file);
                let hash = match self.store.stat.hash_and_mtime(&self.root, &path) {
                    Ok((hash, mtime)) if mtime < checked => Some(hash),
                    _ => None,
                };
                (path, hash)
            })
            .collect())
    }
}

/// Declared outputs under `root` that do not exist.
pub(crate) fn missing_outputs<S: AsRef<str>>(root: &Path, outputs: &[S]) -> Vec<String> {
    outputs
        .iter()
        .map(AsRef::as_ref)
        .filter(|output| {
            if output.contains(['*', '?', '[', '{']) {
                inputs::expand(root, &[output]).map_or(true, |e| e.files.is_empty())
            } else {
                !root.join(output.trim_start_matches("./")).exists()
            }
        })
        .map(str::to_owned)
        .collect()
}
