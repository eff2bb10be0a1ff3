//! `orchestra build --watch`: build, then watch what the selection reads
//! (`filter`) and build again when it changes. Changes are judged in bursts
//! (`burst`); a change during a build stops its running commands (their
//! process groups, as a first Ctrl-C does) and starts over, and the usual
//! freshness checks make "again" mean "what the change affects". Ctrl-C
//! stops it all: running commands are stopped the same way, exit 130.
//!
//! Only this module uses `notify`. Its events arrive on notify's thread,
//! which only filters them; a thread of ours judges each burst; the loop
//! here owns everything else.

mod burst;
mod filter;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use notify::{RecursiveMode, Watcher};

use crate::cli::BuildArgs;
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::load::Located;
use crate::run::Interrupts;
use filter::{Change, Filter};

pub(super) enum Message {
    /// A watched path changed (relative to the project).
    Changed(String),
    /// Ctrl-C, SIGTERM or SIGHUP.
    Signal,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builds, then builds again at each change, until a signal.
pub(in crate::app) fn watch(
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
    let (changes, judged) = channel();
    let verdicts = burst::Verdicts {
        root: located.root.clone(),
        current: Arc::clone(&current),
        stopping: Arc::clone(&stopping),
        loop_: sender,
    };
    std::thread::Builder::new()
        .name("orchestra-watch".into())
        .spawn(move || burst::debounce(&judged, &verdicts))
        .map_err(|e| Error::Usage {
            message: format!("cannot watch files: {e}"),
        })?;
    let mut watcher = watcher(&filter, changes)?;
    let mut armed = Armed::default();
    loop {
        let build = Interrupts::new();
        stopping.store(false, Ordering::SeqCst);
        // Set before compiling: a change or Ctrl-C from now on stops it.
        *lock(&current) = Some(build.clone());
        let compiled = super::compile_for_build(located.clone(), args, render);
        // Armed before the build, so a change made while it runs is seen.
        let before = lock(&filter).clone();
        let next = Filter::of(located, compiled.as_ref().ok(), &before);
        armed.rewatch(&mut watcher, &next);
        *lock(&filter) = next;
        let outcome = match (&compiled, signals.is_raised()) {
            (_, true) => Err(Error::Interrupted),
            (Ok((loaded, plan)), false) => super::run_build(loaded, plan, args, render, &build),
            (Err(_), false) => Ok(()),
        };
        *lock(&current) = None;
        if signals.is_raised() {
            return Err(Error::Interrupted);
        }
        // The build may have discovered inputs (depfiles): watch them too.
        let before = lock(&filter).clone();
        let after = Filter::of(located, compiled.as_ref().ok(), &before);
        armed.rewatch(&mut watcher, &after);
        *lock(&filter) = after;
        // Stopped by a change: it is waiting in the channel.
        let stopped = stopping.load(Ordering::SeqCst);
        match compiled.and(outcome) {
            Err(Error::Interrupted) if stopped => {}
            Err(error) => say!("error: {error}"),
            Ok(()) => {}
        }
        if !stopped {
            say!(
                "watch: waiting for changes to what the build reads ({} watched); Ctrl-C to stop",
                crate::words::plural(armed.dirs.len(), "directory")
            );
        }
        match receiver.recv() {
            Ok(Message::Changed(path)) => say!("watch: `{path}` changed; building again"),
            // A closed channel (the watcher is gone) ends it like a signal.
            Ok(Message::Signal) | Err(_) => return Err(Error::Interrupted),
        }
    }
}

/// The notify watcher: passes each change the build reads on to be judged.
fn watcher(
    filter: &Arc<Mutex<Filter>>,
    changes: Sender<Change>,
) -> Result<notify::RecommendedWatcher, Error> {
    let filter = Arc::clone(filter);
    notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        for change in lock(&filter).changes(&event) {
            let _ = changes.send(change);
        }
    })
    .map_err(|e| Error::Usage {
        message: format!("cannot watch files: {e}"),
    })
}

/// The directories being watched.
#[derive(Default)]
struct Armed {
    dirs: BTreeSet<String>,
    /// A directory that could not be watched was reported (once).
    warned: bool,
}

impl Armed {
    /// Watches what `filter` names, again (a directory replaced since is a
    /// new one to the system), and stops watching what it no longer names.
    fn rewatch(&mut self, watcher: &mut notify::RecommendedWatcher, filter: &Filter) {
        let dirs = filter.directories();
        for gone in self.dirs.difference(&dirs) {
            let _ = watcher.unwatch(&filter.root.join(gone));
        }
        let mut now = BTreeSet::new();
        for dir in dirs {
            match watcher.watch(&filter.root.join(&dir), RecursiveMode::NonRecursive) {
                Ok(()) => {
                    now.insert(dir);
                }
                Err(e) if !self.warned => {
                    self.warned = true;
                    say!(
                        "warning: cannot watch `{}`: {e}; changes there are missed (on Linux, raise `fs.inotify.max_user_watches`)",
                        if dir.is_empty() { "." } else { &dir }
                    );
                }
                Err(_) => {}
            }
        }
        self.dirs = now;
    }
}
