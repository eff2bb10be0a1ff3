//! `orchestra build`: compile the selection, choose the executor, screen and
//! confirmation policy from the flags and the terminal, claim milestone
//! locks and decide what `--resume` skips ([`super::durable`]), run the plan
//! while recording its state, then turn its summary into JSON and an exit
//! code.
//!
//! Terminal detection happens here and nowhere else, so `run` and `report`
//! stay testable without one.

use std::collections::HashSet;
use std::io::{IsTerminal, LineWriter};
use std::sync::atomic::AtomicBool;

use indicatif::ProgressDrawTarget;

use super::durable::{self, Claimed};
use super::{require_model, secrets, selection, write_stdout};
use crate::cli::{BuildArgs, ProgressChoice};
use crate::compile;
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::load::Loaded;
use crate::plan::Plan;
use crate::report::{self, DryRun, Human, Plain, Progress, prompt};
use crate::run::record::{StateRecorder, Tee};
use crate::run::secrets::Masker;
use crate::run::{
    self, Confirm, ConfirmPolicy, DryRunExecutor, Options, ProcessExecutor, Reporter, Resume,
    Status, Summary,
};

pub(super) fn build(loaded: &Loaded, args: &BuildArgs, render: RenderOptions) -> Result<(), Error> {
    let model = require_model(loaded, render)?;
    let plan = compile::compile(model, &selection(&args.select)?)?;
    let root = loaded.located.root.clone();
    let project = &model.config().project;
    let masker = secrets(model);
    if args.dry_run {
        // One job at a time, so the listing reads in the order of a serial run.
        let options = Options {
            jobs: 1,
            keep_going: false,
            root,
            logs: None,
        };
        let mut listing = DryRun::new(LineWriter::new(std::io::stdout().lock())).masking(masker);
        run::run(
            &plan,
            &options,
            &mut DryRunExecutor::new(),
            &mut (),
            &mut listing,
        );
        return Ok(());
    }
    let project_jobs = model.config().project.jobs.as_ref().map(|j| j.value);
    let options = Options {
        jobs: run::default_jobs(args.jobs.or(project_jobs)),
        keep_going: args.keep_going,
        root,
        logs: Some(Options::default_logs()),
    };
    let mut executor = ProcessExecutor::new(&plan.shell, args.verbose).masking(masker.clone());
    let stale_after = project.lock_timeout.as_ref().map(|t| t.value);
    let begun = durable::begin(&plan, &options.root, args, stale_after, &masker, &executor)?;
    let (claimed, done, mut recorder) = (begun.claimed, begun.done, begun.recorder);
    let interrupted = &begun.interrupted;
    let run = Run {
        plan: &plan,
        options: &options,
        loaded,
        args,
        render,
    };
    let summary = execute(
        &run,
        &mut executor,
        &claimed,
        done,
        &mut recorder,
        &masker,
        interrupted,
    );
    // Released before the outcome is reported: the work is over.
    drop(claimed);
    if let Some(e) = &recorder.error {
        eprintln!("warning: cannot save the run's state or history under `.orchestra/`: {e}");
    }
    if args.json {
        let mut value = report::json::summary(&plan, &summary);
        report::json::mask(&mut value, &masker);
        write_stdout(&format!("{value:#}\n"))?;
    }
    if summary.interrupted {
        Err(Error::Interrupted)
    } else if summary.success() {
        Ok(())
    } else {
        let failed = plan
            .tasks
            .iter()
            .zip(&summary.tasks)
            .filter(|(_, record)| matches!(record.status, Status::Failed(_)))
            .map(|(task, _)| task.address.clone())
            .collect();
        Err(Error::BuildFailed { failed })
    }
}

/// What one real run needs to know.
struct Run<'a> {
    plan: &'a Plan,
    options: &'a Options,
    loaded: &'a Loaded,
    args: &'a BuildArgs,
    render: RenderOptions,
}

/// Runs the plan with real processes, on the screen the terminal allows,
/// skipping what is locked or done and recording every task's state.
fn execute(
    run: &Run<'_>,
    executor: &mut ProcessExecutor,
    claimed: &Claimed,
    done: HashSet<String>,
    recorder: &mut StateRecorder,
    masker: &Masker,
    interrupted: &AtomicBool,
) -> Summary {
    let Run {
        plan,
        options,
        loaded,
        args,
        render,
    } = *run;
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let policy = if args.yes {
        ConfirmPolicy::Approve
    } else if stderr_is_terminal && std::io::stdin().is_terminal() {
        ConfirmPolicy::Ask
    } else {
        ConfirmPolicy::Refuse
    };
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    let target = match args.progress {
        // Draw even on a pipe or a dumb terminal: the user asked for it.
        ProgressChoice::Always => Some(ProgressDrawTarget::term_like_with_hz(
            Box::new(console::Term::stderr()),
            20,
        )),
        ProgressChoice::Auto if stderr_is_terminal && !dumb => Some(ProgressDrawTarget::stderr()),
        ProgressChoice::Auto | ProgressChoice::Never => None,
    };
    let mut done = Some(done);
    let mut run_with = |reporter: &mut dyn Reporter, ask: &mut dyn FnMut(&str) -> bool| {
        let mut decide = Resume {
            done: done.take().unwrap_or_default(),
            locked: claimed.locked.clone(),
            inner: Confirm { policy, ask },
        };
        let mut both = Tee(reporter, recorder);
        run::run(plan, options, executor, &mut decide, &mut both)
    };
    if let Some(target) = target {
        let screen = Progress::new(target);
        let display = screen.handle();
        let mut reporter =
            Human::new(screen, &loaded.source, render, args.verbose).masking(masker.clone());
        run_with(&mut reporter, &mut |q| {
            prompt::ask(q, Some(&display), interrupted)
        })
    } else {
        let screen = Plain::new(LineWriter::new(std::io::stderr()));
        let mut reporter =
            Human::new(screen, &loaded.source, render, args.verbose).masking(masker.clone());
        run_with(&mut reporter, &mut |q| prompt::ask(q, None, interrupted))
    }
}
