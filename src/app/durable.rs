//! The durable side of `orchestra build` and the commands that read it:
//! claiming milestone locks, choosing what `--resume` skips, catching
//! Ctrl-C, and `orchestra status` / `orchestra unlock`.
//!
//! Locks are claimed for every milestone in the plan before anything runs,
//! in sorted order, so two builds never wait on each other in a cycle. A
//! milestone another build holds is skipped whole (its tasks and what needs
//! them), or waited for under `--wait`. Claiming up front keeps the rule
//! simple and the scheduler unaware of locks: it only sees `Locked` skips.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::write_stdout;
use crate::cli::{BuildArgs, SelectArgs, StatusArgs, UnlockArgs};
use crate::error::Error;
use crate::plan::{Group, Plan};
use crate::report::durable;
use crate::run::lock::{self, Acquire, MilestoneLock};
use crate::run::record::{RecordPaths, StateRecorder, now_millis};
use crate::run::secrets::Masker;
use crate::run::state::{self, RunState};
use crate::run::{Interrupter, ProcessExecutor};

/// `.orchestra/` under the project root.
pub(super) fn dot_dir(root: &Path) -> PathBuf {
    root.join(".orchestra")
}

fn locks_dir(root: &Path) -> PathBuf {
    dot_dir(root).join("locks")
}

fn io_error(action: &'static str, path: PathBuf) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// Routes Ctrl-C, SIGTERM and SIGHUP to the run as messages, and raises a
/// flag for the places the scheduler is not listening: waiting for a lock,
/// or for the answer to a question.
fn catch_interrupts(executor: &ProcessExecutor) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let raised = Arc::clone(&flag);
    let interrupter: Interrupter = executor.interrupter();
    // Only fails if a handler is already set, which one build never does;
    // then Ctrl-C keeps its default effect, ending orchestra at once.
    let _ = ctrlc::set_handler(move || {
        raised.store(true, Ordering::SeqCst);
        interrupter.interrupt();
    });
    flag
}

/// Everything a real build sets up before it runs: interrupts caught,
/// locks claimed, what `--resume` skips, the state record started.
pub(super) struct Begun {
    pub(super) claimed: Claimed,
    pub(super) done: HashSet<String>,
    pub(super) recorder: StateRecorder,
    /// Raised by Ctrl-C; read where the scheduler cannot be told (a question).
    pub(super) interrupted: Arc<AtomicBool>,
}

pub(super) fn begin(
    plan: &Plan,
    root: &Path,
    args: &BuildArgs,
    masker: &Masker,
    executor: &ProcessExecutor,
) -> Result<Begun, Error> {
    let interrupted = catch_interrupts(executor);
    let claimed = claim_locks(plan, root, plan.lock_timeout, args.wait, &interrupted)?;
    let dot = dot_dir(root);
    let key = selection_key(&args.select, masker);
    let (done, previous) = if args.resume {
        let previous = state::load(&dot.join("state.json"));
        let (done, note) = resumable(previous.as_ref(), &key);
        eprintln!("{note}");
        (done, previous)
    } else {
        (HashSet::new(), None)
    };
    let paths = RecordPaths {
        state: dot.join("state.json"),
        history: dot.join("history.jsonl"),
    };
    let recorder = StateRecorder::start(plan, paths, key, previous);
    Ok(Begun {
        claimed,
        done,
        recorder,
        interrupted,
    })
}

/// The locks this build holds and the milestones it must skip.
pub(super) struct Claimed {
    pub(super) held: Vec<MilestoneLock>,
    pub(super) locked: HashSet<String>,
}

/// Claims the lock of every milestone in `plan`, in sorted order.
fn claim_locks(
    plan: &Plan,
    root: &Path,
    stale_after: Option<Duration>,
    wait: bool,
    interrupted: &AtomicBool,
) -> Result<Claimed, Error> {
    let milestones: BTreeSet<&str> = plan
        .tasks
        .iter()
        .filter_map(|t| match &t.group {
            Some(Group::Milestone(name)) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let dir = locks_dir(root);
    let mut claimed = Claimed {
        held: Vec::new(),
        locked: HashSet::new(),
    };
    for milestone in milestones {
        let mut announced = false;
        loop {
            let now = now_millis() / 1000;
            let attempt = lock::try_acquire(&dir, milestone, stale_after, now)
                .map_err(io_error("take the lock", dir.join(milestone)))?;
            match attempt {
                Acquire::Acquired(lock) => {
                    if let Some(previous) = &lock.took_over {
                        eprintln!("{}", durable::lock_taken_over(milestone, previous, now));
                    }
                    claimed.held.push(lock);
                    break;
                }
                Acquire::Held(info) if wait => {
                    if !announced {
                        eprintln!("{}", durable::lock_waiting(milestone, info.as_ref()));
                        announced = true;
                    }
                    // Dropping `claimed` on the way out releases what we hold.
                    if interrupted.load(Ordering::SeqCst) {
                        return Err(Error::Interrupted);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Acquire::Held(info) => {
                    eprintln!("{}", durable::lock_held(milestone, info.as_ref()));
                    claimed.locked.insert(milestone.to_owned());
                    break;
                }
            }
        }
    }
    Ok(claimed)
}

/// The selection key: what must match for `--resume` to continue a run.
/// Masked, since `--set` values may hold secrets.
fn selection_key(args: &SelectArgs, masker: &Masker) -> String {
    let key = serde_json::json!({
        "addresses": args.addresses,
        "complexity": args.shape.complexity,
        "skip": args.shape.skip,
        "set": args.shape.set,
    });
    masker.mask(&key.to_string()).into_owned()
}

/// What `--resume` skips: the done tasks of the previous run when it is
/// unfinished and of the same selection; otherwise nothing, with a note.
fn resumable(previous: Option<&RunState>, key: &str) -> (HashSet<String>, String) {
    match previous {
        Some(run) if !run.finished && run.selection == key => {
            let done: HashSet<String> = run
                .tasks
                .iter()
                .filter(|(_, t)| t.status.is_done())
                .map(|(address, _)| address.clone())
                .collect();
            let note = format!(
                "resuming run {}: {} done in it will be skipped",
                run.run_id,
                crate::error::plural(done.len(), "task")
            );
            (done, note)
        }
        Some(run) if run.finished => (
            HashSet::new(),
            "nothing to resume: the last run finished; running everything".into(),
        ),
        Some(_) => (
            HashSet::new(),
            "nothing to resume: the last run built a different selection; running everything"
                .into(),
        ),
        None => (
            HashSet::new(),
            "nothing to resume: no earlier run recorded; running everything".into(),
        ),
    }
}

/// `orchestra status`.
pub(super) fn status(root: &Path, args: &StatusArgs) -> Result<(), Error> {
    let run = state::load(&dot_dir(root).join("state.json"));
    let dir = locks_dir(root);
    let locks = lock::list(&dir).map_err(io_error("read the locks in", dir))?;
    let text = if args.json {
        format!("{:#}\n", durable::status_json(run.as_ref(), &locks))
    } else {
        durable::status_text(run.as_ref(), &locks)
    };
    write_stdout(&text)
}

/// `orchestra unlock`.
pub(super) fn unlock(root: &Path, args: &UnlockArgs) -> Result<(), Error> {
    let dir = locks_dir(root);
    let removed = lock::remove(&dir, &args.milestones)
        .map_err(io_error("remove the locks in", dir.clone()))?;
    write_stdout(&durable::unlocked(&args.milestones, &removed))
}
