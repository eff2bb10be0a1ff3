//! `orchestra build`: compile the selection, choose the executor, screen and
//! confirmation policy from the flags and the terminal, run the plan, then
//! turn its summary into JSON and an exit code.
//!
//! Terminal detection happens here and nowhere else, so `run` and `report`
//! stay testable without one.

use std::io::{IsTerminal, LineWriter};

use indicatif::ProgressDrawTarget;

use super::write_stdout;
use crate::cli::{BuildArgs, ProgressChoice};
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::load::Loaded;
use crate::plan::Plan;
use crate::report::{self, DryRun, Human, Plain, Progress, prompt};
use crate::run::{
    self, Confirm, ConfirmPolicy, DryRunExecutor, Options, ProcessExecutor, Reporter, Status,
    Summary,
};

pub(super) fn build(
    loaded: &Loaded,
    plan: &Plan,
    args: &BuildArgs,
    render: RenderOptions,
) -> Result<(), Error> {
    let root = loaded.located.root.clone();
    if args.dry_run {
        // One job at a time, so the listing reads in the order of a serial run.
        let options = Options {
            jobs: 1,
            keep_going: false,
            root,
            logs: None,
        };
        let mut listing = DryRun::new(LineWriter::new(std::io::stdout().lock()));
        run::run(
            plan,
            &options,
            &mut DryRunExecutor::new(),
            &mut (),
            &mut listing,
        );
        return Ok(());
    }
    let project_jobs = plan.jobs;
    let options = Options {
        jobs: run::default_jobs(args.jobs.or(project_jobs)),
        keep_going: args.keep_going,
        root,
        logs: Some(Options::default_logs()),
    };
    let mut incremental = crate::timings::measure("load fingerprints", || {
        // Relative paths when the project is the current directory: the
        // kernel walks fewer components for each of thousands of stats.
        let here = std::env::current_dir().is_ok_and(|cwd| cwd == options.root);
        let root = if here {
            std::path::Path::new(".")
        } else {
            options.root.as_path()
        };
        run::Incremental::load(root, args.force, plan.tasks.len())
    });
    incremental.explain = args.explain;
    let summary = crate::timings::measure("run", || {
        execute(plan, &options, loaded, args, render, &mut incremental)
    });
    // Once per run, at the end: per-task writes would cost a no-op build
    // more than the checks themselves.
    let saved = crate::timings::measure("save fingerprints", || incremental.save());
    if let Err(source) = saved {
        eprintln!("warning: could not save .orchestra/fingerprints: {source}");
    }
    if args.json {
        let value = report::json::summary(plan, &summary);
        write_stdout(&format!("{value:#}\n"))?;
    }
    if summary.success() {
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

/// Runs the plan with real processes, on the screen the terminal allows.
fn execute(
    plan: &Plan,
    options: &Options,
    loaded: &Loaded,
    args: &BuildArgs,
    render: RenderOptions,
    incremental: &mut run::Incremental,
) -> Summary {
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let policy = if args.yes {
        ConfirmPolicy::Approve
    } else if stderr_is_terminal && std::io::stdin().is_terminal() {
        ConfirmPolicy::Ask
    } else {
        ConfirmPolicy::Refuse
    };
    let mut executor = ProcessExecutor::new(&plan.shell, args.verbose);
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
    let mut run_with = |reporter: &mut dyn Reporter, ask: &mut dyn FnMut(&str) -> bool| {
        let mut confirm = Confirm { policy, ask };
        run::run_incremental(
            plan,
            options,
            &mut executor,
            &mut confirm,
            reporter,
            Some(&mut *incremental),
        )
    };
    if let Some(target) = target {
        let screen = Progress::new(target);
        let display = screen.handle();
        let mut reporter = Human::new(screen, &loaded.source, render, args.verbose);
        run_with(&mut reporter, &mut |q| prompt::ask(q, Some(&display)))
    } else {
        let screen = Plain::new(LineWriter::new(std::io::stderr()));
        let mut reporter = Human::new(screen, &loaded.source, render, args.verbose);
        run_with(&mut reporter, &mut |q| prompt::ask(q, None))
    }
}
