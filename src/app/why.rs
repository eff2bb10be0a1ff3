//! `orchestra why ADDRESS`: what `build --explain` would say about one task,
//! without building anything or writing `.orchestra/`.
//!
//! The task's selection is compiled and every task up to it is checked in
//! plan (dependency) order, exactly as the scheduler would, so an upstream
//! change shows up downstream. Files are hashed as they are now: if an
//! upstream task would regenerate one of this task's inputs, the prediction
//! is made before that happens.

use std::fmt::Write;

use super::{require_model, write_stdout};
use crate::cli::WhyArgs;
use crate::compile;
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::load::Loaded;
use crate::plan::Plan;
use crate::run::{Incremental, Verdict};

pub(super) fn why(loaded: &Loaded, args: &WhyArgs, render: RenderOptions) -> Result<(), Error> {
    let model = require_model(loaded, render)?;
    let selection = super::shaped(vec![args.address.clone()], &args.shape)?;
    let plan = compile::compile(model, &selection)?;
    let mut incremental = Incremental::load(&loaded.located.root, false, plan.tasks.len());
    write_stdout(&explain(&plan, &mut incremental, &args.address))
}

/// The verdict on the task at `address` — or, when the address names a
/// group (an entity, a milestone), on each task in it — one block each.
fn explain(plan: &Plan, incremental: &mut Incremental, address: &str) -> String {
    let prefix = format!("{address}/");
    let exact = plan.tasks.iter().any(|t| t.address == address);
    let wanted = |a: &str| {
        if exact {
            a == address
        } else {
            a.starts_with(&prefix)
        }
    };
    let mut ran = vec![false; plan.tasks.len()];
    let mut text = String::new();
    for task in &plan.tasks {
        let needs_ran: Vec<String> = task
            .needs
            .iter()
            .filter(|n| ran[n.index()])
            .map(|n| plan.task(*n).address.clone())
            .collect();
        let verdict = incremental.check(plan, task, &needs_ran);
        ran[task.id.index()] = matches!(verdict, Verdict::Run(_));
        if !wanted(&task.address) {
            continue;
        }
        match verdict {
            Verdict::UpToDate => {
                let _ = writeln!(text, "{}: up to date", task.address);
            }
            Verdict::Run(reasons) => {
                let _ = writeln!(text, "{} would run:", task.address);
                for reason in reasons {
                    let reason = reason.to_string().replace('\n', "\n    ");
                    let _ = writeln!(text, "    {reason}");
                }
            }
        }
        // Checking does not run anything, so what it would run counts as
        // having run for what comes after.
        incremental.succeeded(task);
    }
    text
}
