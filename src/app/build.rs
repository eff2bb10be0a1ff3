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
use crate::cache::Cache;
use crate::cli::{BuildArgs, OutputLogs, ProgressChoice};
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::freshness::Incremental;
use crate::freshness::stat_cache::Seen;
use crate::load::Loaded;
use crate::plan::Plan;
use crate::report::record::{Fan, Tee};
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
    render: RenderOptions,
    masker: &Masker,
    interrupts: &Interrupts,
    jobs: usize,
) -> ProcessExecutor {
    // Lines stream only where they are shown as they come.
    let stream = args.verbose && args.output_logs == OutputLogs::Full && !render.github;
    let mut executor = ProcessExecutor::new(&plan.shell, stream)
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
    interrupts: &Interrupts,
) -> Result<(), Error> {
    let root = loaded.located.root.clone();
    let (dotenv, masker) = dotenv_and_secrets(plan, args, &root, render)?;
    // A bad cache setting is a usage error before anything else, a dry
    // run included, and before any lock is taken.
    let settings = super::cache_settings(plan, &args.cache, args.force, false)?;
    if args.dry_run {
        return dry_run(plan, args, root, masker, interrupts, seen);
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
        dotenv,
    };
    if !options.fixes && !args.no_fix {
        say!(
            "note: gate fixes are off because `CI` is set: CI verifies, it does not repair; `--fix` runs them"
        );
    }
    let mut executor = executor(plan, args, render, &masker, interrupts, options.jobs);
    // Masked as records keep it, so a `--set` secret matches as written.
    let key = masker
        .mask_json(&selection(&args.select)?.key())
        .into_owned();
    let asked = std::time::Instant::now();
    let mut begun = durable::begin(plan, &workspace, args, &key, interrupts)?;
    let seen = unless_waited(seen, asked);
    let mut freshness = crate::timings::measure("load fingerprints", || {
        let root = super::stat_root(&options.root);
        Incremental::for_build(&workspace, root, begun.run, args.force, plan.tasks.len())
    });
    // The stats the check for unmatched inputs took serve the first checks.
    freshness.store.stat.seed(seen);
    freshness.explain = args.explain;
    let mut cache = Cache::new(&options.root, &workspace, plan, &settings);
    warn_notes(&workspace);
    let run = Run {
        plan,
        options: &options,
        loaded,
        args,
        render,
        masker: &masker,
        interrupts,
    };
    let mut watchers = Watchers::new(plan, args, &masker)?;
    let summary = crate::timings::measure("run", || {
        execute(
            &run,
            &mut executor,
            &mut begun,
            &mut freshness,
            &mut cache,
            watchers.fan(),
        )
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
    // What is stored and uploaded is finished before the outcome is
    // reported (locks and fingerprints are saved already).
    let tally = crate::timings::measure("finish cache", || cache.finish());
    warn_notes(&workspace);
    if let Some(line) = tally.line() {
        say!("{line}");
    }
    let written = reports(plan, args, render, &summary, &masker)
        .and(watchers.finish(plan, args, &summary, &masker));
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

/// What the build leaves for machines once it ends: the GitHub step
/// summary, the `JUnit` file, the JSON summary on stdout. An unwritable
/// one is an output error (exit 3 when the build itself succeeded).
fn reports(
    plan: &Plan,
    args: &BuildArgs,
    render: RenderOptions,
    summary: &Summary,
    masker: &Masker,
) -> Result<(), Error> {
    if render.github {
        step_summary(plan, summary);
    }
    let junit = args.junit.as_ref().map_or(Ok(()), |path| {
        let xml = report::junit::report(plan, summary);
        let masker = masker.also_escaped(report::junit::escape);
        write_report(path, masker.mask(&xml).as_bytes())
    });
    let written = if args.json {
        let mut value = report::json::summary(plan, summary);
        report::json::mask(&mut value, masker);
        write_stdout(&format!("{value:#}\n"))
    } else {
        Ok(())
    };
    written.and(junit)
}

/// The reporters a build's flags add beside the screen and the run
/// record: the event stream (`--events`) and the timeline (`--timings`,
/// `--trace`).
struct Watchers {
    events: Option<report::events::Events<Box<dyn std::io::Write>>>,
    timeline: Option<report::Timeline>,
}

impl Watchers {
    fn new(plan: &Plan, args: &BuildArgs, masker: &Masker) -> Result<Self, Error> {
        let wants_times = args.timings.is_some() || args.trace.is_some();
        Ok(Self {
            events: events_for(args, masker)?,
            timeline: wants_times.then(|| report::Timeline::new(plan.tasks.len())),
        })
    }

    fn fan(&mut self) -> Fan<'_> {
        let mut all: Vec<&mut dyn Reporter> = Vec::new();
        if let Some(events) = self.events.as_mut() {
            all.push(events);
        }
        if let Some(timeline) = self.timeline.as_mut() {
            all.push(timeline);
        }
        Fan(all)
    }

    /// Says whether the event stream stopped; writes `--timings` and
    /// `--trace`.
    fn finish(
        self,
        plan: &Plan,
        args: &BuildArgs,
        summary: &Summary,
        masker: &Masker,
    ) -> Result<(), Error> {
        if let Some(e) = self.events.and_then(|e| e.error) {
            say!("warning: the event stream stopped: {e}");
        }
        let Some(timeline) = self.timeline else {
            return Ok(());
        };
        let page = args.timings.as_ref().map_or(Ok(()), |path| {
            let html = timeline.html(plan, summary);
            let masker = masker.also_escaped(report::timeline::escape);
            write_report(path, masker.mask(&html).as_bytes())
        });
        let trace = args.trace.as_ref().map_or(Ok(()), |path| {
            let mut value = timeline.trace(plan);
            report::json::mask(&mut value, masker);
            write_report(path, format!("{value}\n").as_bytes())
        });
        page.and(trace)
    }
}

/// The event stream `--events` asks for: stdout for `-`, else the file,
/// created or truncated (never through a symlink), one flushed line per
/// event.
fn events_for(
    args: &BuildArgs,
    masker: &Masker,
) -> Result<Option<report::events::Events<Box<dyn std::io::Write>>>, Error> {
    let Some(path) = &args.events else {
        return Ok(None);
    };
    if args.json && path.as_os_str() == "-" {
        return Err(Error::Usage {
            message: "`--events -` and `--json` both write to stdout: send the events to a file"
                .into(),
        });
    }
    let out: Box<dyn std::io::Write> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(report_file(path).map_err(Error::Output)?)
    };
    Ok(Some(report::events::Events::new(out, masker.clone())))
}

/// A report file a flag names (`--junit`, `--events`): created or
/// truncated, never written through a symlink.
fn report_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Writes a report file a flag names, created or truncated, never
/// through a symlink; a failure is an output error.
pub(super) fn write_report(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    report_file(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(Error::Output)
}

/// Appends the build's Markdown summary to the file GitHub Actions names
/// in `GITHUB_STEP_SUMMARY`, when it names one.
fn step_summary(plan: &Plan, summary: &Summary) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let text = report::github::step_summary(plan, summary);
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    if let Err(e) = written {
        say!(
            "warning: cannot append the step summary to `{}`: {e}",
            std::path::Path::new(&path).display()
        );
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

/// Each dotenv file's variables, by its path.
type DotenvFiles = std::collections::HashMap<String, Vec<(String, String)>>;

/// The plan's dotenv files (none read for a dry run) and the masker of its
/// secrets: under GitHub Actions their values were registered as masks
/// when the plan was loaded, before anything was printed (`cached.rs`); a
/// secret set in a dotenv file is masked too.
fn dotenv_and_secrets(
    plan: &Plan,
    args: &BuildArgs,
    root: &std::path::Path,
    render: RenderOptions,
) -> Result<(DotenvFiles, Masker), Error> {
    let dotenv = if args.dry_run {
        std::collections::HashMap::new()
    } else {
        dotenv_files(plan, root)?
    };
    let from_files: Vec<String> = dotenv
        .values()
        .flatten()
        .filter(|(name, _)| plan.secrets.contains(name))
        .map(|(_, value)| value.clone())
        .collect();
    // The runner learns these from us, as it learned the environment's.
    if render.github && !from_files.is_empty() {
        say_part!(
            "{}",
            report::github::masks(from_files.iter().map(String::as_str))
        );
    }
    Ok((dotenv, secrets(plan).with(from_files)))
}

/// The variables of every `dotenv` file the plan names. A missing file is
/// a warning (its tasks get nothing from it); a line that is not
/// `NAME=value` is an error at its number (exit 2), before anything runs.
fn dotenv_files(plan: &Plan, root: &std::path::Path) -> Result<DotenvFiles, Error> {
    let mut files = std::collections::HashMap::new();
    // Only the files of the selected tasks (the plan's table holds every
    // task's lists).
    for file in plan.tasks.iter().flat_map(|t| plan.dotenv_of(t)) {
        if files.contains_key(file) {
            continue;
        }
        let path = root.join(file);
        let vars = match std::fs::read_to_string(&path) {
            // The environment orchestra was started with wins: a committed
            // `.env` gives defaults, never overrides a shell's or CI's value.
            Ok(text) => crate::dotenv::parse(&text)
                .map_err(|bad| Error::Usage {
                    message: format!("`{file}` line {}: {}", bad.line, bad.message),
                })?
                .into_iter()
                .filter(|(name, _)| std::env::var_os(name).is_none())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                say!(
                    "warning: dotenv file `{file}` does not exist: its tasks get no variables from it"
                );
                Vec::new()
            }
            Err(source) => {
                return Err(Error::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        files.insert(file.clone(), vars);
    }
    Ok(files)
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
    cache: &mut Cache,
    mut extra: Fan<'_>,
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
    // Workflow commands escape `%`, `:` and `,`: a secret holding one must
    // be masked as written there too.
    let screen_masker = if render.github {
        masker
            .also_escaped(report::github::escape_data)
            .also_escaped(report::github::escape_property)
    } else {
        masker.clone()
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
        let mut all = Tee(&mut both, &mut extra);
        let reporter: &mut dyn Reporter = &mut all;
        run::run(
            plan,
            options,
            Seams {
                executor,
                decide: &mut decide,
                asker: &mut asker,
                reporter,
                freshness,
                cache,
                interrupts,
            },
        )
    };
    if let Some(target) = target {
        let mut screen = Progress::new(target);
        // The ETA from past builds: read only when a display shows it.
        let history = options
            .logs
            .as_ref()
            .map(Workspace::history)
            .unwrap_or_default();
        if let Some(eta) = report::eta::Eta::from_history(plan, &history, options.jobs) {
            screen = screen.with_eta(eta);
        }
        let display = screen.pause();
        let mut reporter = Human::new(screen, &loaded.sources, render, args.verbose)
            .masking(screen_masker.clone())
            .output_logs(args.output_logs);
        run_with(&mut reporter, Some(display))
    } else {
        let screen = Plain::new(LineWriter::new(std::io::stderr()));
        let mut reporter = Human::new(screen, &loaded.sources, render, args.verbose)
            .masking(screen_masker.clone())
            .output_logs(args.output_logs);
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
        dotenv: std::collections::HashMap::new(),
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
            cache: &mut (),
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
