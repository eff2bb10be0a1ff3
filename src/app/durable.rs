//! The durable side of `orchestra build` and the commands that read it:
//! claiming locks and keeping them alive, choosing what `--resume` skips,
//! starting the build's run record, and `orchestra status` / `unlock`.
//!
//! Milestone locks are claimed for every milestone in the plan before
//! anything runs, in sorted order, so two builds never wait on each other
//! in a cycle. A milestone another build holds is skipped whole (its tasks
//! and what needs them), or waited for under `--wait`. A heartbeat keeps
//! the claimed locks fresh; one lost meanwhile (taken over, or removed by
//! hand) fails its milestone's next task. A task outside any milestone is
//! locked just while it runs, so two builds never run it at once.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use super::write_stdout;
use crate::cli::{BuildArgs, StatusArgs, UnlockArgs};
use crate::error::Error;
use crate::plan::{Group, Plan, PlanTask, TaskKind};
use crate::report::durable;
use crate::report::record::{Carried, StateRecorder};
use crate::run::{Claim, Claims, Interrupts};
use crate::workspace::locks::{Acquire, Heartbeat, HeldLock, Lost, beat_all};
use crate::workspace::runs::Resumable;
use crate::workspace::{Workspace, now_millis};

fn io_error(
    action: &'static str,
    path: std::path::PathBuf,
) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// Everything a real build sets up before it runs: locks claimed and kept
/// alive, what `--resume` skips, the run record started.
pub(super) struct Begun {
    pub(super) claims: BuildClaims,
    pub(super) done: HashSet<String>,
    pub(super) recorder: StateRecorder,
    /// The build's run number (its record and its fingerprint journal).
    pub(super) run: u64,
}

pub(super) fn begin(
    plan: &Plan,
    workspace: &Workspace,
    args: &BuildArgs,
    selection: &str,
    interrupts: &Interrupts,
) -> Result<Begun, Error> {
    let wait = match args.wait {
        None => Wait::Skip,
        Some(None) => Wait::Forever,
        Some(Some(limit)) => Wait::UpTo(limit),
    };
    let claims = claim_locks(plan, workspace, wait, interrupts)?;
    let (done, resumed) = if args.resume {
        let (done, resumed, note) = resumable(plan, workspace.resumable(selection));
        say!("{note}");
        (done, resumed)
    } else {
        (HashSet::new(), None)
    };
    let record = workspace
        .begin_run()
        .map_err(io_error("start a run record in", workspace.path(&["runs"])))?;
    let run = record.id;
    let recorder = StateRecorder::start(plan, workspace, record, selection.to_owned(), resumed);
    Ok(Begun {
        claims,
        done,
        recorder,
        run,
    })
}

/// The locks of one build, as the scheduler's decisions see them.
pub(super) struct BuildClaims {
    workspace: Workspace,
    /// Milestones another build held when this one began.
    locked: HashSet<String>,
    /// Keeps the claimed milestone locks alive; dropping it releases them.
    heartbeat: Heartbeat,
    lost: Lost,
    /// Task locks held while their task runs, by address.
    tasks: HashMap<String, HeldLock>,
}

impl Claims for BuildClaims {
    fn milestone_locked(&self, milestone: &str) -> bool {
        self.locked.contains(milestone)
    }

    fn claim(&mut self, task: &PlanTask) -> Claim {
        if let Some(Group::Milestone(name)) = task.group.as_deref() {
            let lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
            return match lost.get(name) {
                Some(holder) => Claim::Lost(durable::lock_lost(name, holder.as_ref())),
                None => Claim::Granted,
            };
        }
        let now = now_millis();
        match self.workspace.try_task_lock(&task.address, now) {
            Ok(Acquire::Acquired(lock)) => {
                self.tasks.insert(task.address.to_string(), lock);
                Claim::Granted
            }
            Ok(Acquire::Held(_)) => Claim::Busy,
            // A lock that cannot be taken at all (a read-only disk): run
            // anyway, as a build without locks would; the workspace's
            // other writes will say what is wrong.
            Err(_) => Claim::Granted,
        }
    }

    fn release(&mut self, task: &PlanTask) {
        if let Some(lock) = self.tasks.remove(task.address.as_str()) {
            let _ = lock.release();
        }
    }
}

impl BuildClaims {
    /// Stops the heartbeat and releases every lock: the work is over.
    pub(super) fn release_all(self) {
        drop(self.heartbeat);
        for (_, lock) in self.tasks {
            let _ = lock.release();
        }
    }
}

/// What to do about a milestone another build holds.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// Skip it (the default).
    Skip,
    /// `--wait`: wait for it.
    Forever,
    /// `--wait LIMIT`: wait at most this long, then skip it.
    UpTo(Duration),
}

/// Claims the lock of every milestone in `plan`, in sorted order.
fn claim_locks(
    plan: &Plan,
    workspace: &Workspace,
    wait: Wait,
    interrupts: &Interrupts,
) -> Result<BuildClaims, Error> {
    let milestones: BTreeSet<&str> = plan
        .tasks
        .iter()
        .filter_map(|t| match t.group.as_deref() {
            Some(Group::Milestone(name)) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let stale_after = plan.lock_timeout;
    let every = Heartbeat::interval(stale_after);
    let lost = Lost::default();
    let mut last_beat = Instant::now();
    let mut held = Vec::new();
    let mut locked = HashSet::new();
    for milestone in milestones {
        let mut waiting_since: Option<Instant> = None;
        loop {
            let now = now_millis();
            let attempt = workspace
                .try_lock(milestone, stale_after, now)
                .map_err(io_error("take the lock in", workspace.path(&["locks"])))?;
            match attempt {
                Acquire::Acquired(lock) => {
                    if let Some(previous) = &lock.took_over {
                        say!(
                            "{}",
                            durable::lock_taken_over(milestone, previous, now / 1000)
                        );
                    }
                    held.push(lock);
                    break;
                }
                Acquire::Held(info) => {
                    let limit = match wait {
                        Wait::Skip => {
                            say!("{}", durable::lock_held(milestone, info.as_ref()));
                            locked.insert(milestone.to_owned());
                            break;
                        }
                        Wait::Forever => None,
                        Wait::UpTo(limit) => Some(limit),
                    };
                    let since = *waiting_since.get_or_insert_with(|| {
                        say!("{}", durable::lock_waiting(milestone, info.as_ref()));
                        Instant::now()
                    });
                    if let Some(limit) = limit
                        && since.elapsed() >= limit
                    {
                        let text = durable::lock_wait_expired(milestone, limit, info.as_ref());
                        say!("{text}");
                        locked.insert(milestone.to_owned());
                        break;
                    }
                    // Dropping `held` on the way out releases what we hold.
                    if interrupts.is_raised() {
                        return Err(Error::Interrupted);
                    }
                    // The locks already held stay alive while we wait.
                    if last_beat.elapsed() >= every {
                        beat_all(&mut held, &lost);
                        last_beat = Instant::now();
                    }
                    std::thread::sleep(Duration::from_millis(100).min(every));
                }
            }
        }
    }
    let heartbeat = Heartbeat::start(held, every, lost).map_err(|source| Error::Io {
        action: "start the heartbeat of the locks in",
        path: workspace.path(&["locks"]),
        source,
    })?;
    Ok(BuildClaims {
        workspace: workspace.clone(),
        locked,
        lost: heartbeat.lost(),
        heartbeat,
        tasks: HashMap::new(),
    })
}

/// What `--resume` continues, with the note that says so: the run it
/// resumes and the task records it carries over, or why there is none.
fn resumable(plan: &Plan, found: Resumable) -> (HashSet<String>, Option<Carried>, String) {
    match found {
        Resumable::Continue { tasks, runs } => {
            let mut done: HashSet<String> = plan
                .tasks
                .iter()
                .filter(|t| {
                    tasks
                        .get(t.address.as_str())
                        .is_some_and(|r| r.status.is_done())
                })
                .map(|t| t.address.to_string())
                .collect();
            // An owner is done only when its gate passed: a gate that is not
            // done takes what it guards with it.
            for gate in plan
                .tasks
                .iter()
                .filter(|t| matches!(t.kind, TaskKind::Gate | TaskKind::WaveGate))
            {
                if !done.contains(gate.address.as_str()) {
                    for need in &gate.needs {
                        done.remove(plan.task(*need).address.as_str());
                    }
                }
            }
            let which = match runs.as_slice() {
                [] => "the last run".to_owned(),
                [one] => format!("run {one}"),
                [newest, rest @ ..] => {
                    let rest: Vec<String> = rest.iter().map(u64::to_string).collect();
                    format!("run {newest} (with runs {})", rest.join(", "))
                }
            };
            let note = format!(
                "resuming {which}: {} done, {} to go",
                done.len(),
                plan.tasks.len() - done.len()
            );
            let id = runs.first().copied().unwrap_or(0);
            let carried = Carried {
                run: id,
                tasks: tasks.into_iter().collect(),
            };
            (done, Some(carried), note)
        }
        Resumable::Complete(id) => (
            HashSet::new(),
            None,
            format!(
                "nothing to resume: run {id} of this selection succeeded; running what is not up to date"
            ),
        ),
        Resumable::NoRun => (
            HashSet::new(),
            None,
            "nothing to resume: no earlier run of this selection; running what is not up to date"
                .into(),
        ),
    }
}

/// How many runs `orchestra status` lists.
const STATUS_RUNS: usize = 10;

/// `orchestra status`.
pub(super) fn status(workspace: &Workspace, args: &StatusArgs) -> Result<(), Error> {
    let runs = workspace.runs(STATUS_RUNS);
    let locks = workspace
        .locks()
        .map_err(io_error("read the locks in", workspace.path(&["locks"])))?;
    for note in workspace.take_notes() {
        say!("warning: {note}");
    }
    let text = if args.json {
        format!("{:#}\n", durable::status_json(&runs, &locks))
    } else {
        durable::status_text(&runs, &locks)
    };
    write_stdout(&text)
}

/// `orchestra unlock`.
pub(super) fn unlock(workspace: &Workspace, args: &UnlockArgs) -> Result<(), Error> {
    let removed = workspace
        .unlock(&args.milestones)
        .map_err(io_error("remove the locks in", workspace.path(&["locks"])))?;
    write_stdout(&durable::unlocked(&args.milestones, &removed))
}
