//! `orchestra why ADDRESS`: what `build --explain` would say about one task,
//! without building anything or writing `.orchestra/`.
//!
//! The task's selection is compiled and run through the engine itself —
//! the same scheduler walk a build takes — with an executor that runs
//! nothing and pretends every command succeeded, and up-to-date checks that
//! record nothing. So an upstream change shows up downstream exactly as in
//! a build. Files are hashed as they are now: if an upstream task would
//! regenerate one of this task's inputs, the prediction is made before
//! that happens.

use std::fmt::Write;

use super::{require_model, write_stdout};
use crate::cache::Cache;
use crate::cli::WhyArgs;
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::freshness::{Incremental, Reason};
use crate::load::Loaded;
use crate::plan::Plan;
use crate::run::{self, DryRunExecutor, Event, Interrupts, Options, Reporter, Seams};
use crate::secrets::Masker;
use crate::workspace::Workspace;

pub(super) fn why(loaded: &Loaded, args: &WhyArgs, render: RenderOptions) -> Result<(), Error> {
    let model = require_model(loaded, render)?;
    let selection = super::shaped(vec![args.address.clone()], &args.shape)?;
    let plan = super::compile_masked(model, &selection)?;
    let root = &loaded.located.root;
    let masker = Masker::from_env(plan.secrets.iter().map(String::as_str));
    let workspace = Workspace::new(root, masker.clone());
    let mut freshness = Incremental::predicting(&workspace, root, plan.tasks.len());
    freshness.explain = true;
    // Where a task would be restored from, asked without restoring.
    let settings = super::cache_settings(&plan, &args.cache, false, true)?;
    let mut cache = Cache::new(root, &workspace, &plan, &settings);
    let mut verdicts = Verdicts::default();
    let interrupts = Interrupts::new();
    interrupts.catch_signals();
    let options = Options {
        jobs: 1,
        keep_going: true,
        root: root.clone(),
        logs: None,
        fixes: true,
        dotenv: std::collections::HashMap::new(),
    };
    run::run(
        &plan,
        &options,
        Seams {
            executor: &mut DryRunExecutor::new(),
            decide: &mut (),
            asker: &mut (),
            reporter: &mut verdicts,
            freshness: &mut freshness,
            cache: &mut cache,
            interrupts: &interrupts,
        },
    );
    for note in workspace.take_notes() {
        say!("warning: {note}");
    }
    let text = verdicts.render(&plan, &args.address);
    write_stdout(&masker.mask(&text))
}

/// What the walk found for each task: up to date, or why it would run.
#[derive(Debug, Default)]
struct Verdicts {
    /// By task index: `None` up to date, `Some(reasons)` would run.
    found: std::collections::HashMap<usize, Option<Vec<Reason>>>,
    /// By task index: where it would be restored from instead of run.
    restored: std::collections::HashMap<usize, String>,
}

impl Reporter for Verdicts {
    fn event(&mut self, _plan: &Plan, event: &Event<'_>) {
        match event {
            Event::TaskUpToDate { task } => {
                self.found.insert(task.index(), None);
            }
            Event::Explained { task, reasons } => {
                self.found.insert(task.index(), Some(reasons.to_vec()));
            }
            Event::TaskFinished { task, record, .. } => {
                if let Some(from) = &record.restored {
                    self.restored.insert(task.index(), from.clone());
                }
            }
            _ => {}
        }
    }
}

impl Verdicts {
    /// The verdict on the task at `address` — or, when the address names a
    /// group (an entity, a milestone), on each task in it — one block each.
    fn render(&self, plan: &Plan, address: &str) -> String {
        let prefix = format!("{address}/");
        let exact = plan.tasks.iter().any(|t| t.address == address);
        let mut text = String::new();
        for task in &plan.tasks {
            let wanted = if exact {
                task.address == address
            } else {
                task.address.starts_with(&prefix)
            };
            if !wanted {
                continue;
            }
            match self.found.get(&task.id.index()) {
                Some(Some(reasons)) => {
                    let _ = writeln!(text, "{} would run:", task.address);
                    for reason in reasons {
                        let reason = reason.to_string().replace('\n', "\n    ");
                        let _ = writeln!(text, "    {reason}");
                    }
                    if let Some(from) = self.restored.get(&task.id.index()) {
                        let _ = writeln!(text, "  but would be restored from {from} instead");
                    }
                }
                Some(None) => {
                    let _ = writeln!(text, "{}: up to date", task.address);
                }
                None => {
                    let _ = writeln!(text, "{}: not reached", task.address);
                }
            }
        }
        text
    }
}
