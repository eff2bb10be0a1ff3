//! `orchestra build --watch`: build, then watch what the selection reads —
//! declared inputs, inputs discovered from depfiles, dotenv files,
//! `foreach` patterns and the orchestra files themselves — and build again
//! when one changes. A change during a build stops its running commands
//! (their process groups, as a first Ctrl-C does) and starts over; the
//! usual freshness checks make "again" mean "what the change affects".
//! Ctrl-C stops it all: running commands are stopped the same way, and the
//! exit code is 130.
//!
//! Only this file uses `notify`. Its events arrive on notify's thread,
//! which only filters them and passes them on; the loop here owns
//! everything else.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};

use crate::cli::BuildArgs;
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::freshness::inputs::{is_glob, names};
use crate::load::{Loaded, Located};
use crate::plan::Plan;
use crate::run::Interrupts;

/// Quiet time after a change before building: an editor's save, a `git
/// checkout` or a formatter touch many files in a burst.
const SETTLE: Duration = Duration::from_millis(200);
/// A burst longer than this is built anyway.
const LONGEST_WAIT: Duration = Duration::from_secs(2);

enum Message {
    /// A watched file changed (the path, relative to the project).
    Changed(String),
    /// Ctrl-C, SIGTERM or SIGHUP.
    Signal,
}

/// What counts as a change: paths relative to the project directory.
#[derive(Default)]
struct Filter {
    root: PathBuf,
    /// Input patterns (`src/**/*.c`, `a.txt`, a directory).
    patterns: Vec<String>,
    /// Exact files: the orchestra files, dotenv files, discovered inputs.
    files: BTreeSet<String>,
    /// Declared outputs: written by the build itself, never a change.
    outputs: Vec<String>,
}

impl Filter {
    /// The changed path `event` is about, if it is one to build for.
    fn relevant(&self, event: &notify::Event) -> Option<String> {
        match event.kind {
            // Reading, opening, closing and attributes change no content.
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => return None,
            _ => {}
        }
        if event.need_rescan() {
            return Some(".".into());
        }
        event.paths.iter().find_map(|path| {
            let relative = path.strip_prefix(&self.root).ok()?.to_str()?.to_owned();
            let ours = relative == ".orchestra"
                || relative.starts_with(".orchestra/")
                || relative.starts_with(".git/");
            let built = self.outputs.iter().any(|o| names(o, &relative));
            let read =
                self.files.contains(&relative) || self.patterns.iter().any(|p| names(p, &relative));
            (!ours && !built && read).then_some(relative)
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builds, then builds again at each change, until a signal.
pub(super) fn watch(
    located: &Located,
    args: &BuildArgs,
    render: RenderOptions,
) -> Result<(), Error> {
    let signals = Interrupts::new();
    signals.catch_signals();
    // The build running now, to stop at a change or a signal.
    let current: Arc<Mutex<Option<Interrupts>>> = Arc::default();
    let stopping = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = channel();
    {
        let (current, sender) = (Arc::clone(&current), sender.clone());
        signals.on_raise(move || {
            if let Some(build) = lock(&current).as_ref() {
                build.raise();
            }
            let _ = sender.send(Message::Signal);
        });
    }
    let filter = Arc::new(Mutex::new(Filter::default()));
    let mut watcher = watcher(&filter, &current, &stopping, sender)?;
    let mut armed = BTreeSet::new();
    loop {
        // Armed before the build, so a change made while it runs is seen.
        let compiled = super::compile_for_build(located.clone(), args, render);
        let next = Filter::of(located, compiled.as_ref().ok());
        rewatch(&mut watcher, &mut armed, directories(&next), &located.root);
        *lock(&filter) = next;
        let build = Interrupts::new();
        stopping.store(false, Ordering::SeqCst);
        *lock(&current) = Some(build.clone());
        let outcome = match &compiled {
            Ok((loaded, plan)) => super::run_build(loaded, plan, args, render, &build),
            Err(_) => Ok(()),
        };
        *lock(&current) = None;
        // The build may have discovered inputs (depfiles): watch them too.
        let after = Filter::of(located, compiled.as_ref().ok());
        rewatch(&mut watcher, &mut armed, directories(&after), &located.root);
        *lock(&filter) = after;
        let outcome = compiled.and(outcome);
        if signals.is_raised() {
            return Err(Error::Interrupted);
        }
        // Stopped by a change: it is waiting in the channel.
        let stopped = stopping.load(Ordering::SeqCst);
        match outcome {
            Err(Error::Interrupted) if stopped => {}
            Err(error) => say!("error: {error}"),
            Ok(()) => {}
        }
        if !stopped {
            say!(
                "watch: waiting for changes to what the build reads ({} watched); Ctrl-C to stop",
                crate::words::plural(armed.len(), "directory")
            );
        }
        match settle(&receiver) {
            Message::Signal => return Err(Error::Interrupted),
            Message::Changed(path) => say!("watch: `{path}` changed; building again"),
        }
    }
}

/// The notify watcher: passes on relevant changes, and stops the running
/// build at the first.
fn watcher(
    filter: &Arc<Mutex<Filter>>,
    current: &Arc<Mutex<Option<Interrupts>>>,
    stopping: &Arc<AtomicBool>,
    sender: Sender<Message>,
) -> Result<notify::RecommendedWatcher, Error> {
    let (filter, current, stopping) = (
        Arc::clone(filter),
        Arc::clone(current),
        Arc::clone(stopping),
    );
    notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        let Some(path) = lock(&filter).relevant(&event) else {
            return;
        };
        if let Some(build) = lock(&current).as_ref()
            && !stopping.swap(true, Ordering::SeqCst)
        {
            build.raise();
        }
        let _ = sender.send(Message::Changed(path));
    })
    .map_err(|e| Error::Usage {
        message: format!("cannot watch files: {e}"),
    })
}

/// Waits for the first message, then for the burst it starts to settle:
/// the first change, or a signal as soon as it comes.
fn settle(receiver: &Receiver<Message>) -> Message {
    // A closed channel (the watcher is gone) ends the watch like a signal.
    let Ok(Message::Changed(path)) = receiver.recv() else {
        return Message::Signal;
    };
    let started = Instant::now();
    while started.elapsed() < LONGEST_WAIT {
        match receiver.recv_timeout(SETTLE) {
            Ok(Message::Signal) => return Message::Signal,
            Ok(Message::Changed(_)) => {}
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    Message::Changed(path)
}

impl Filter {
    /// What the build just made of `located` reads; with no plan (the file
    /// has an error), the orchestra files alone.
    fn of(located: &Located, compiled: Option<&(Loaded, Plan)>) -> Self {
        // As watched: notify names paths the way they were watched.
        let mut filter = Self {
            root: located.root.clone(),
            ..Self::default()
        };
        let main = located
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        filter.files.insert(main);
        let Some((loaded, plan)) = compiled else {
            return filter;
        };
        filter.files.extend(
            loaded
                .sources
                .included()
                .map(|(path, _)| path.to_string_lossy().into_owned()),
        );
        let workspace =
            crate::workspace::Workspace::new(&located.root, crate::secrets::Masker::default());
        let store = crate::freshness::Incremental::predicting(&workspace, &located.root, 0).store;
        for task in &plan.tasks {
            filter.patterns.extend(
                task.inputs
                    .iter()
                    .map(|i| i.trim_start_matches("./").to_owned()),
            );
            filter.outputs.extend(
                task.outputs
                    .iter()
                    .map(|o| o.trim_start_matches("./").to_owned()),
            );
            filter.files.extend(plan.dotenv_of(task).iter().cloned());
            if task.depfile.is_some()
                && let Some(record) = store.record(&task.address)
            {
                let inside = record
                    .discovered
                    .into_iter()
                    .map(|(f, _)| f)
                    .filter(|f| !f.starts_with('/'));
                filter.files.extend(inside);
            }
        }
        filter
            .patterns
            .extend(plan.foreach.iter().map(|(p, _)| p.clone()));
        filter.patterns.sort();
        filter.patterns.dedup();
        filter
    }
}

/// The directories to watch, relative to the project, each on its own (not
/// recursively: a project's `target/` or `node_modules/` is not watched
/// unless an input lies in it): the directory of each file, and every
/// directory under a pattern's fixed part. A directory that does not exist
/// yet is watched through its nearest existing parent.
fn directories(filter: &Filter) -> BTreeSet<String> {
    let root = &filter.root;
    let mut dirs = BTreeSet::new();
    let parent = |path: &str| {
        path.rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_owned())
    };
    for file in &filter.files {
        dirs.insert(existing(root, &parent(file)));
    }
    for pattern in &filter.patterns {
        let fixed: Vec<&str> = pattern.split('/').take_while(|c| !is_glob(c)).collect();
        let fixed = fixed.join("/");
        if !is_glob(pattern) && !root.join(pattern).is_dir() {
            dirs.insert(existing(root, &parent(pattern)));
            continue;
        }
        let start = existing(root, &fixed);
        dirs.insert(start.clone());
        if start == fixed {
            walk(root, &start, &filter.outputs, &mut dirs);
        }
    }
    dirs
}

/// `dir`, or its nearest parent that exists.
fn existing(root: &Path, dir: &str) -> String {
    let mut dir = dir.to_owned();
    while !dir.is_empty() && !root.join(&dir).is_dir() {
        dir = dir
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_owned());
    }
    dir
}

/// Every directory below `dir`, but hidden ones and declared outputs.
fn walk(root: &Path, dir: &str, outputs: &[String], out: &mut BTreeSet<String>) {
    let mut stack = vec![dir.to_owned()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if is_dir && !name.starts_with('.') && !outputs.iter().any(|o| names(o, &child)) {
                out.insert(child.clone());
                stack.push(child);
            }
        }
    }
}

/// Watches `dirs` and stops watching what is no longer among them.
fn rewatch(
    watcher: &mut notify::RecommendedWatcher,
    armed: &mut BTreeSet<String>,
    dirs: BTreeSet<String>,
    root: &Path,
) {
    for gone in armed.difference(&dirs) {
        let _ = watcher.unwatch(&root.join(gone));
    }
    let mut now = BTreeSet::new();
    for dir in dirs {
        let ok = armed.contains(&dir)
            || watcher
                .watch(&root.join(&dir), RecursiveMode::NonRecursive)
                .is_ok();
        if ok {
            now.insert(dir);
        }
    }
    *armed = now;
}
