//! `orchestra build`: choose the executor, screen and confirmation policy
//! from the flags and the terminal, claim milestone locks and decide what
//! `--resume` skips ([`super::durable`]), run the plan with up-to-date
//! checks while recording its state, then turn its summary into JSON and an
//! exit code.
//!
//! Terminal detection happens here and nowhere else, so `run` and `report`
//! stay testable without one.

use std::io::{IsTerminal, LineWriter};

use indicatif::ProgressDrawTarget;

use super::durable::{self, Begun};
use super::{secrets, selection, write_stdout};
use crate::cli::{BuildArgs, ProgressChoice};
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::freshness::Incremental;
use crate::freshness::stat_cache::Seen;
use crate::load::Loaded;
use crate::plan::Plan;
use crate::report::record::Tee;
use crate::report::{self, DryRun, Human, Plain, Progress, prompt};
use crate::run::{
    self, Confirm, ConfirmPolicy, DryRunExecutor, Interrupts, Options, ProcessExecutor, Reporter,
    Resume, Seams, Status, Summary,
};
use crate::secrets::Masker;
use crate::workspace::Workspace;

/// The executor for a real build; it serves a jobserver when a task of
/// the plan asks for one.
fn executor(
    plan: &Plan,
    args: &BuildArgs,
    masker: &Masker,
    interrupts: &Interrupts,
    jobs: usize,
) -> ProcessExecutor {
    let mut executor = ProcessExecutor::new(&plan.shell, args.verbose)
        .masking(masker.clone())
        .woken_by(interrupts)
        .guarded();
    if plan.tasks.iter().any(|t| t.jobserver.is_some())
        && let Err(e) = executor.serve_jobserver(jobs)
    {
        say!(
            "warning: cannot serve a jobserver ({e}): tasks with `jobserver` run without one, so a nested make uses its own -j"
        );
    }
    executor
}

pub(super) fn build(
    loaded: &Loaded,
    plan: &Plan,
    args: &BuildArgs,
    render: RenderOptions,
    seen: Seen,
) -> Result<(), Error> {
    let root = loaded.located.root.clone();
    let masker = secrets(plan);
    // Ctrl-C, SIGTERM and SIGHUP from here on are read, never fatal.
    let interrupts = Interrupts::new();
    interrupts.catch_signals();
    if args.dry_run {
        return dry_run(plan, args, root, masker, &interrupts, seen);
    }
    let workspace = Workspace::new(&root, masker.clone());
    workspace
        .check()
        .map_err(|message| Error::Unsafe { message })?;
    let options = Options {
        jobs: run::default_jobs(args.jobs.or(plan.jobs)),
        keep_going: args.keep_going,
        root,
        logs: Some(workspace.clone()),
        fixes: fixes(args),
    };
    if !options.fixes && !args.no_fix {
        say!(
            "note: gate fixes are off because `CI` is set: CI verifies, it does not repair; `--fix` runs them"
        );
    }
    let mut executor = executor(plan, args, &masker, &interrupts, options.jobs);
    // Masked as records keep it, so a `--set` secret matches as written.
    let key = masker
        .mask_json(&selection(&args.select)?.key())
        .into_owned();
    let asked = std::time::Instant::now();
    let mut begun = durable::begin(plan, &workspace, args, &key, &interrupts)?;
    let seen = unless_waited(seen, asked);
    let mut freshness = crate::timings::measure("load fingerprints", || {
        let root = super::stat_root(&options.root);
        Incremental::for_build(&workspace, root, begun.run, args.force, plan.tasks.len())
    });
    // The stats the check for unmatched inputs took serve the first checks.
    freshness.store.stat.seed(seen);
    freshness.explain = args.explain;
    warn_notes(&workspace);
    let run = Run {
        plan,
        options: &options,
        loaded,
        args,
        render,
        masker: &masker,
        interrupts: &interrupts,
    };
    let summary = crate::timings::measure("run", || {
        execute(&run, &mut executor, &mut begun, &mut freshness)
    });
    let Begun {
        claims, recorder, ..
    } = begun;
    // Released before the outcome is reported: the work is over.
    claims.release_all();
    if let Some(e) = &recorder.error {
        say!("warning: cannot save the run's record or history under `.orchestra/`: {e}");
    }
    let saved = crate::timings::measure("save fingerprints", || freshness.finish());
    if let Err(source) = saved {
        say!("warning: could not save the fingerprints under `.orchestra/`: {source}");
    }
    warn_notes(&workspace);
    let written = if args.json {
        let mut value = report::json::summary(plan, &summary);
        report::json::mask(&mut value, &masker);
        write_stdout(&format!("{value:#}\n"))
    } else {
        Ok(())
    };
    let outcome = if summary.interrupted {
        Err(Error::Interrupted)
    } else if summary.success() {
        Ok(())
    } else {
        let failed = plan
            .tasks
            .iter()
            .zip(&summary.tasks)
            .filter(|(_, record)| matches!(record.status, Status::Failed(_)))
            .map(|(task, _)| task.address.to_string())
            .collect();
        Err(Error::BuildFailed { failed })
    };
    // The build's own outcome wins: `orchestra build --json | jq` stopped
    // with Ctrl-C is 130 (jq died too), a failed build is 1, whatever
    // became of the summary.
    match (outcome, written) {
        (Ok(()), written) => written,
        (Err(outcome), Err(unwritten)) => {
            say!("warning: {unwritten}");
            Err(outcome)
        }
        (Err(outcome), Ok(())) => Err(outcome),
    }
}

/// Whether gate checks' fixes may run: not under `--no-fix`; in CI (the
/// environment variable `CI` set to anything but `false` or `0`) only with
/// `--fix`.
fn fixes(args: &BuildArgs) -> bool {
    if args.no_fix {
        return false;
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    args.fix || !ci
}

/// Prints what the workspace noted about files it could not use.
fn warn_notes(workspace: &Workspace) {
    for note in workspace.take_notes() {
        say!("warning: {note}");
    }
}

/// What one real run needs to know.
struct Run<'a> {
    plan: &'a Plan,
    options: &'a Options,
    loaded: &'a Loaded,
    args: &'a BuildArgs,
    render: RenderOptions,
    masker: &'a Masker,
    interrupts: &'a Interrupts,
}

/// Runs the plan with real processes, on the screen the terminal allows,
/// skipping what is up to date, locked or done, and recording every task's
/// state.
fn execute(
    run: &Run<'_>,
    executor: &mut ProcessExecutor,
    begun: &mut Begun,
    freshness: &mut Incremental,
) -> Summary {
    let Run {
        plan,
        options,
        loaded,
        args,
        render,
        masker,
        interrupts,
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
        ProgressChoice::Always => Some(
            (|| ProgressDrawTarget::term_like_with_hz(Box::new(console::Term::stderr()), 20))
                as fn() -> ProgressDrawTarget,
        ),
        ProgressChoice::Auto if stderr_is_terminal && !dumb => {
            Some(ProgressDrawTarget::stderr as fn() -> ProgressDrawTarget)
        }
        ProgressChoice::Auto | ProgressChoice::Never => None,
    };
    let wake = executor.waker();
    let run_with = |reporter: &mut dyn Reporter, display: Option<report::Pause>| {
        let mut decide = Resume {
            done: std::mem::take(&mut begun.done),
            claims: &mut begun.claims,
            inner: Confirm { policy },
        };
        let mut asker = prompt::TerminalAsker::new(display, interrupts.clone(), wake);
        let mut both = Tee(reporter, &mut begun.recorder);
        run::run(
            plan,
            options,
            Seams {
                executor,
                decide: &mut decide,
                asker: &mut asker,
                reporter: &mut both,
                freshness,
                interrupts,
            },
        )
    };
    if let Some(target) = target {
        let screen = Progress::new(target);
        let display = screen.pause();
        let mut reporter =
            Human::new(screen, &loaded.source, render, args.verbose).masking(masker.clone());
        run_with(&mut reporter, Some(display))
    } else {
        let screen = Plain::new(LineWriter::new(std::io::stderr()));
        let mut reporter =
            Human::new(screen, &loaded.source, render, args.verbose).masking(masker.clone());
        run_with(&mut reporter, None)
    }
}

/// The stats taken before `asked`, unless the build then waited for
/// another build's lock (`--wait`): that build may have rewritten files.
fn unless_waited(seen: Seen, asked: std::time::Instant) -> Seen {
    if asked.elapsed() < std::time::Duration::from_millis(100) {
        seen
    } else {
        Seen::default()
    }
}

/// `--dry-run`: the plan walked with an executor that runs nothing, listing
/// what would run; one job at a time, so the listing reads in the order of
/// a serial run.
fn dry_run(
    plan: &Plan,
    args: &BuildArgs,
    root: std::path::PathBuf,
    masker: Masker,
    interrupts: &Interrupts,
    seen: Seen,
) -> Result<(), Error> {
    // One job at a time, so the listing reads in the order of a serial run.
    let options = Options {
        jobs: 1,
        keep_going: false,
        root,
        logs: None,
        fixes: fixes(args),
    };
    // What is up to date is counted, not listed: the same checks a
    // build makes, recording nothing.
    let workspace = Workspace::new(&options.root, masker.clone());
    let mut freshness = Incremental::predicting(&workspace, &options.root, plan.tasks.len());
    freshness.store.stat.seed(seen);
    freshness.force(args.force);
    freshness.explain = args.explain;
    let mut listing = DryRun::new(LineWriter::new(std::io::stdout().lock()))
        .masking(masker)
        .explaining(args.explain);
    let summary = run::run(
        plan,
        &options,
        Seams {
            executor: &mut DryRunExecutor::new(),
            decide: &mut (),
            asker: &mut (),
            reporter: &mut listing,
            freshness: &mut freshness,
            interrupts,
        },
    );
    for note in workspace.take_notes() {
        say!("warning: {note}");
    }
    if summary.interrupted {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}
