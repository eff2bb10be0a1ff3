//! The one coordinator: CLI → locate → load → validate → command → output.
//!
//! Everything a command prints goes through here or `report`; the stages
//! before it return data.

mod affected;
mod build;
mod cached;
mod completions;
mod durable;
mod fmt;
mod init;
mod watch;
mod why;

use crate::freshness::stat_cache::Seen;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{
    CheckArgs, CiFormat, Cli, ColorChoice, Command, ListArgs, PlanArgs, PlanFormat, ReportArgs,
    SelectArgs, ShapeArgs,
};
use crate::compile::{self, Selection};
use crate::diagnostic::{self, Diagnostic, RenderOptions};
use crate::error::Error;
use crate::load::{self, Loaded};
use crate::model::Model;
use crate::report;
use crate::secrets::Masker;
use crate::validate::Options;
use crate::workspace::Workspace;
use crate::workspace::clean::CleanError;
use crate::{plan, timings};

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    // A shell asking for completions is answered, and nothing else runs.
    completions::answer();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    if matches!(cli.command, Command::Guardian) {
        return crate::run::serve_guardian();
    }
    let render = render_options(cli.color, cli.ci_format);
    let outcome = run(&cli, render);
    if timings::enabled() {
        say_part!("{}", timings::format(&timings::take()));
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            say!("error: {error}");
            // `--json` promises one object on stdout, errors included.
            if let Command::Build(args) = &cli.command
                && args.json
                && error.exit_code() == 2
            {
                let _ = write_stdout(&format!("{:#}\n", error_json(&error)));
            }
            ExitCode::from(error.exit_code())
        }
    }
}

fn run(cli: &Cli, render: RenderOptions) -> Result<(), Error> {
    // Neither needs a project.
    match &cli.command {
        Command::Completions(args) => return completions::script(args.shell),
        Command::Man => return completions::man(),
        Command::Schema => {
            return write_stdout(&format!("{:#}\n", crate::config::schema::describe()));
        }
        _ => {}
    }
    let start = working_directory(cli)?;
    if let Command::Init(args) = &cli.command {
        return init::init(&start, cli.file.as_deref(), args);
    }
    if let Command::Fmt(args) = &cli.command {
        let located = if args.files.is_empty() {
            Some(load::locate(&start, cli.file.as_deref())?)
        } else {
            None
        };
        return fmt::fmt(&start, located, args, render);
    }
    let located = load::locate(&start, cli.file.as_deref())?;
    // `plan` and `build` may skip loading altogether (the plan cache).
    // Programs must be on PATH to check or build; listing or planning a
    // file should work on a machine that lacks them.
    match &cli.command {
        Command::Plan(args) => {
            let (loaded, compiled) = cached::compiled(located, &args.select, render, true, false)?;
            let compiled = affected_only(compiled, &loaded, &args.select)?;
            let compiled = shard_only(compiled, &args.select)?;
            return plan(&loaded, &compiled, args);
        }
        Command::Build(args) if args.watch => return watch::watch(&located, args, render),
        Command::Build(args) => {
            let (loaded, compiled) = compile_for_build(located, args, render)?;
            // Ctrl-C, SIGTERM and SIGHUP from here on are read, never fatal.
            let interrupts = crate::run::Interrupts::new();
            interrupts.catch_signals();
            return run_build(&loaded, &compiled, args, render, &interrupts);
        }
        _ => {}
    }
    let check_programs = matches!(cli.command, Command::Check(_));
    let loaded = load::load(located, Options { check_programs })?;
    match &cli.command {
        Command::Check(args) => check(&loaded, args, render),
        Command::List(args) => list(&loaded, args, render),
        Command::Plan(_) | Command::Build(_) => unreachable!("handled above"),
        Command::Why(args) => why::why(&loaded, args, render),
        Command::Clean => clean(&workspace(&loaded)),
        Command::Status(args) => durable::status(&workspace(&loaded), args),
        Command::Report(args) => report_history(&workspace(&loaded), args),
        Command::Unlock(args) => durable::unlock(&workspace(&loaded), args),
        Command::Cache(args) => cache_command(&workspace(&loaded), &loaded, args),
        Command::Completions(_)
        | Command::Man
        | Command::Init(_)
        | Command::Fmt(_)
        | Command::Schema => {
            unreachable!("handled before loading")
        }
        Command::Guardian => unreachable!("handled in main"),
    }
}

/// The plan as `--affected` narrows it (unchanged without the flag).
fn affected_only(
    compiled: plan::Plan,
    loaded: &Loaded,
    select: &crate::cli::SelectArgs,
) -> Result<plan::Plan, Error> {
    match &select.affected {
        None => Ok(compiled),
        Some(base) => affected::restrict(compiled, loaded, base.as_deref(), &selection(select)?),
    }
}

/// The plan's tasks split for `--shard I/N`'s jobs: shard `I` only. The
/// split depends on the plan alone (equal task counts), never on a
/// machine's own history: every job must compute the same split, or a
/// task could land in no shard or in two.
fn shard_only(compiled: plan::Plan, select: &crate::cli::SelectArgs) -> Result<plan::Plan, Error> {
    let Some((i, n)) = select.shard else {
        return Ok(compiled);
    };
    let split = match &select.split {
        Some(token) => {
            plan::shard::Split::from_token(&compiled, n, token).map_err(|e| Error::Usage {
                message: format!("--split: {e}"),
            })?
        }
        None => plan::shard::Split::balanced(&compiled, n, &[]),
    };
    let keep: Vec<bool> = split.by_task().iter().map(|&s| s + 1 == i).collect();
    Ok(compiled.restrict(&keep, &format!("--shard {i}/{n}")))
}

/// `orchestra report`: the history, the window asked for, as text or JSON.
fn report_history(workspace: &Workspace, args: &ReportArgs) -> Result<(), Error> {
    let mut runs = workspace.history();
    if let Some(window) = args.since {
        let now = crate::workspace::now_millis();
        let limit = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        runs.retain(|r| now.saturating_sub(r.started_at) <= limit);
    }
    let keep = runs.len().saturating_sub(args.last);
    runs.drain(..keep);
    let insight = report::Insight::of(&runs);
    if let Some(path) = &args.html {
        let page = insight.html(&load::directory_name(workspace.root()));
        return build::write_report(path, workspace.masker().mask(&page).as_bytes());
    }
    if args.json {
        write_stdout(&format!("{:#}\n", insight.json()))
    } else {
        write_stdout(&insight.text())
    }
}

/// The project's `.orchestra/`; what it prints is masked with the
/// environment's secrets (the plan that names them is not compiled here).
fn workspace(loaded: &Loaded) -> Workspace {
    let names = loaded
        .model
        .as_ref()
        .map(|m| {
            m.config()
                .project
                .secrets
                .iter()
                .map(|s| s.value.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Workspace::new(
        &loaded.located.root,
        Masker::from_env(names.iter().map(String::as_str)),
    )
}

/// `orchestra clean`: what the workspace removed and kept, as lines.
fn clean(workspace: &Workspace) -> Result<(), Error> {
    workspace
        .check()
        .map_err(|message| Error::Unsafe { message })?;
    let cleaned = workspace.clean().map_err(|e| match e {
        CleanError::NotADirectory { shown, kind } => Error::Unsafe {
            message: format!("`{shown}` is {kind}, not a directory"),
        },
        CleanError::Io(source) => Error::Io {
            action: "clean",
            path: workspace.path(&[]),
            source,
        },
    })?;
    if cleaned.absent {
        return write_stdout("nothing to clean: there is no .orchestra/\n");
    }
    let mut text = String::new();
    for name in &cleaned.removed {
        let _ = writeln!(text, "removed {name}");
    }
    for (name, why) in &cleaned.kept {
        let _ = writeln!(text, "kept {name}: {why}");
    }
    if cleaned.removed.is_empty() && cleaned.kept.is_empty() {
        text.push_str("nothing to clean: .orchestra/ is empty\n");
    }
    write_stdout(&text)
}

/// clap's own report of a command line it could not parse (exit 2, or 0
/// for `--help` and `--version`). A word where a subcommand goes is most
/// often a target, as `just ci` or `make ci` would take it: say so.
fn usage_error(mut error: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // `orchestra ci`, as `just ci` would take it: say how to build it,
    // among clap's own tips — unless clap found a subcommand it resembles
    // (`biuld`), which is the better guess.
    let guessed = error.get(ContextKind::SuggestedSubcommand).is_some();
    if error.kind() == ErrorKind::InvalidSubcommand
        && !guessed
        && let Some(ContextValue::String(word)) = error.get(ContextKind::InvalidSubcommand)
    {
        let quoted = crate::compile::shell_quote(word);
        let tip = format!("to build the target or task `{word}`, run `orchestra build {quoted}`");
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.into()]),
        );
    }
    let _ = error.print();
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}

/// How this command uses the output cache: `--cache` and `--cache-url`
/// (or their variables) over the project's `cache-url` and `cache-size`.
/// `--force` reads no cache (it runs everything) but still stores.
fn cache_settings(
    plan: &plan::Plan,
    args: &crate::cli::CacheArgs,
    force: bool,
    probe: bool,
) -> Result<crate::cache::Settings, Error> {
    use crate::model::cache::{Access, DEFAULT_SIZE, Endpoint, Modes};
    // An empty `ORCHESTRA_CACHE_URL` (a CI secret a fork does not get) is
    // as if not given.
    let given = args.url.as_ref().filter(|u| !u.trim().is_empty());
    let (url, option) = match (given, &plan.cache_url) {
        (Some(url), _) => (Some(url.as_str()), "--cache-url"),
        (None, Some(url)) => (Some(url.as_str()), "cache-url"),
        (None, None) => (None, "--cache-url"),
    };
    let endpoint = url
        .map(|u| Endpoint::parse(u, option))
        .transpose()
        .map_err(|message| Error::Usage { message })?;
    let mut modes = args.modes.and_then(|m| m.0).unwrap_or(Modes {
        local: Access::BOTH,
        remote: if endpoint.is_some() {
            Access::BOTH
        } else {
            Access::OFF
        },
    });
    if modes.remote.any() && endpoint.is_none() {
        return Err(Error::Usage {
            message: "`--cache remote` needs a server: pass `--cache-url URL`, set ORCHESTRA_CACHE_URL, or write `cache-url \"…\"` in `project`".into(),
        });
    }
    if force {
        modes.local.read = false;
        modes.remote.read = false;
    }
    Ok(crate::cache::Settings {
        local: modes.local,
        remote: endpoint.map(|e| (e, modes.remote)),
        size: plan.cache_size.unwrap_or(DEFAULT_SIZE),
        probe,
        timeout: args.timeout,
    })
}

/// `orchestra cache stats|clean`: the local output cache.
fn cache_command(
    workspace: &Workspace,
    loaded: &Loaded,
    args: &crate::cli::CacheCommandArgs,
) -> Result<(), Error> {
    use crate::cli::CacheAction;
    workspace
        .check()
        .map_err(|message| Error::Unsafe { message })?;
    let store = workspace.local_store();
    let limit = loaded
        .model
        .as_ref()
        .and_then(|m| m.config().project.cache_size.as_ref().map(|s| s.value))
        .unwrap_or(crate::model::cache::DEFAULT_SIZE);
    match &args.action {
        CacheAction::Stats { json } => {
            let usage = store.usage();
            if *json {
                let value = serde_json::json!({
                    "path": store.location(),
                    "entries": usage.actions,
                    "blobs": usage.blobs,
                    "bytes": usage.bytes,
                    "limit": limit,
                });
                write_stdout(&format!("{value:#}\n"))
            } else {
                write_stdout(&format!(
                    "{}: {} entries, {} blobs, {} of {} ({:.0}%)\n",
                    store.location().display(),
                    usage.actions,
                    usage.blobs,
                    crate::cache::bytes(usage.bytes),
                    crate::cache::bytes(limit),
                    percent(usage.bytes, limit),
                ))
            }
        }
        CacheAction::Clean => {
            let usage = store.clean().map_err(|source| Error::Io {
                action: "clean",
                path: store.location(),
                source,
            })?;
            write_stdout(&format!(
                "removed {} entries and {} blobs ({}) from {}\n",
                usage.actions,
                usage.blobs,
                crate::cache::bytes(usage.bytes),
                store.location().display()
            ))
        }
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The object `build --json` prints when nothing ran: a configuration or
/// usage error, with the diagnostics as data.
fn error_json(error: &Error) -> serde_json::Value {
    let found = match error {
        Error::Config { found, .. } => found.clone(),
        _ => Vec::new(),
    };
    serde_json::json!({
        "version": report::json::VERSION,
        "success": false,
        "error": {
            "message": error.to_string(),
            "exit_code": error.exit_code(),
            "diagnostics": found,
        },
    })
}

/// `-C DIR` applies before anything else, like make and git.
fn working_directory(cli: &Cli) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        action: "read the current directory",
        path: PathBuf::from("."),
        source,
    })?;
    match &cli.directory {
        None => Ok(cwd),
        Some(dir) => {
            let dir = cwd.join(dir);
            if dir.is_dir() {
                Ok(dir)
            } else {
                Err(Error::Io {
                    action: "change to directory",
                    path: dir,
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
                })
            }
        }
    }
}

/// What `orchestra build` runs: the plan (cached or compiled) of the
/// selection, affected and shard applied.
fn compile_for_build(
    located: load::Located,
    args: &crate::cli::BuildArgs,
    render: RenderOptions,
) -> Result<(Loaded, plan::Plan), Error> {
    let save = !args.dry_run;
    let (loaded, compiled) = cached::compiled(located, &args.select, render, save, true)?;
    let compiled = affected_only(compiled, &loaded, &args.select)?;
    Ok((loaded, shard_only(compiled, &args.select)?))
}

/// Checks the plan's inputs and runs it; Ctrl-C and the like are caught
/// from then on and raise `interrupts`.
fn run_build(
    loaded: &Loaded,
    compiled: &plan::Plan,
    args: &crate::cli::BuildArgs,
    render: RenderOptions,
    interrupts: &crate::run::Interrupts,
) -> Result<(), Error> {
    let seen = crate::timings::measure("check inputs", || check_inputs(compiled, loaded, render))?;
    build::build(loaded, compiled, args, render, seen, interrupts)
}

/// Prints every diagnostic and returns the model when there are no errors.
fn require_model(loaded: &Loaded, render: RenderOptions) -> Result<&Model, Error> {
    print_diagnostics(loaded, render);
    let (errors, warnings) = counts(&loaded.diagnostics);
    match &loaded.model {
        Some(model) if errors == 0 => Ok(model),
        _ => Err(Error::Config {
            errors: errors.max(1),
            warnings,
            found: diagnostic::to_json(&loaded.diagnostics, &loaded.sources),
        }),
    }
}

fn counts(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    (errors, diagnostics.len() - errors)
}

fn print_diagnostics(loaded: &Loaded, render: RenderOptions) {
    show(&loaded.diagnostics, &loaded.sources, render);
}

/// Draws diagnostics on stderr; under GitHub Actions, each also as an
/// annotation at its line.
fn show(found: &[Diagnostic], source: &crate::sources::Sources, render: RenderOptions) {
    if found.is_empty() {
        return;
    }
    say_part!("{}", diagnostic::render(found, source, render));
    if render.github {
        say_part!("{}", report::github::diagnostics(found, source));
    }
}

fn check(loaded: &Loaded, args: &CheckArgs, render: RenderOptions) -> Result<(), Error> {
    let model = require_model(loaded, render)?;
    let (_, mut warnings) = counts(&loaded.diagnostics);
    // Every part of the file, compiled, for what its inputs name on disk.
    let everything = Selection {
        everything: true,
        ..Selection::default()
    };
    if let Ok(plan) = compile::compile(model, &everything) {
        let found = input_diagnostics(&plan, loaded, &mut Seen::default());
        show(&found, &loaded.sources, render);
        let (errors, more) = counts(&found);
        if errors > 0 {
            return Err(Error::Config {
                errors,
                warnings: warnings + more,
                found: diagnostic::to_json(&found, &loaded.sources),
            });
        }
        warnings += more;
    }
    if args.deny_warnings && warnings > 0 {
        return Err(Error::DeniedWarnings { warnings });
    }
    let line = report::check_summary(&loaded.located.display, model, warnings);
    write_stdout(&format!("{line}\n"))
}

fn list(loaded: &Loaded, args: &ListArgs, render: RenderOptions) -> Result<(), Error> {
    let model = require_model(loaded, render)?;
    let text = if args.json {
        let value = report::list_json(&loaded.located.display, model);
        format!("{value:#}\n")
    } else {
        report::list_text(model)
    };
    write_stdout(&text)
}

/// The inputs of `plan` that match nothing, as diagnostics pointing at
/// where each is written in the file (or its task, when templated).
fn input_diagnostics<'p>(
    plan: &'p plan::Plan,
    loaded: &Loaded,
    seen: &mut Seen<'p>,
) -> Vec<Diagnostic> {
    use crate::freshness::inputs::{Unmatched, unmatched};
    let source: &str = loaded.sources.text();
    // The quoted input after the task's declaration, or the declaration.
    let span_of = |task: &plan::PlanTask, text: &str| -> crate::model::Span {
        let start = task.declared.offset();
        let quoted = format!("\"{text}\"");
        // Within the task's own file or expansion, not the next one's.
        let end = loaded.sources.region_end(start);
        source
            .get(start..end)
            .and_then(|rest| rest.find(&quoted))
            .map_or(task.declared, |at| (start + at, quoted.len()).into())
    };
    let mut found = output_collisions(plan, &span_of);
    let unmatched = unmatched(plan, stat_root(&loaded.located.root), seen)
        .into_iter()
        .map(|found| match found {
            Unmatched::Missing {
                task,
                input,
                suggestion,
            } => {
                let task = plan.task(task);
                Diagnostic::MissingInput {
                    span: span_of(task, &input),
                    task: task.address.to_string(),
                    input,
                    suggestion,
                }
            }
            Unmatched::EmptyGlob { task, pattern } => {
                let task = plan.task(task);
                Diagnostic::UnmatchedInput {
                    span: span_of(task, &pattern),
                    task: task.address.to_string(),
                    pattern,
                }
            }
        });
    found.extend(unmatched);
    found
}

/// Two tasks declaring the same output where neither needs the other
/// (at any depth): they may run at once and overwrite each other.
fn output_collisions(
    plan: &plan::Plan,
    span_of: &dyn Fn(&plan::PlanTask, &str) -> crate::model::Span,
) -> Vec<Diagnostic> {
    let mut writer: std::collections::HashMap<&str, plan::TaskId> =
        std::collections::HashMap::new();
    let mut found = Vec::new();
    for task in &plan.tasks {
        for output in &task.outputs {
            let path = output.as_str().trim_start_matches("./");
            match writer.get(path) {
                Some(&first) if !plan.reaches(task.id, first) => {
                    let first = plan.task(first);
                    found.push(Diagnostic::OutputCollision {
                        output: path.to_owned(),
                        first_task: first.address.to_string(),
                        second_task: task.address.to_string(),
                        first: span_of(first, output),
                        second: span_of(task, output),
                    });
                }
                _ => {
                    writer.insert(path, task.id);
                }
            }
        }
    }
    found
}

/// The project root as stats should name it: `.` when it is the current
/// directory, so the kernel walks fewer components for each of thousands
/// of stats.
fn stat_root(root: &std::path::Path) -> &std::path::Path {
    let here = std::env::current_dir().is_ok_and(|cwd| cwd == root);
    if here {
        std::path::Path::new(".")
    } else {
        root
    }
}

/// Prints the input diagnostics of `plan`; an error stops the command
/// (exit 2) before anything runs. Returns the stats it took, for the build.
fn check_inputs<'p>(
    plan: &'p plan::Plan,
    loaded: &Loaded,
    render: RenderOptions,
) -> Result<Seen<'p>, Error> {
    let mut seen = Seen::default();
    let found = input_diagnostics(plan, loaded, &mut seen);
    if found.is_empty() {
        return Ok(seen);
    }
    show(&found, &loaded.sources, render);
    let (errors, warnings) = counts(&found);
    if errors > 0 {
        return Err(Error::Config {
            errors,
            warnings,
            found: diagnostic::to_json(&found, &loaded.sources),
        });
    }
    Ok(seen)
}

/// The command line's selection flags as the compiler takes them.
fn selection(args: &SelectArgs) -> Result<Selection, Error> {
    if !args.args.is_empty() && args.addresses.len() != 1 {
        return Err(Error::Usage {
            message: format!(
                "arguments after `--` go to one task, and {} named: name exactly one, as in `orchestra build test -- {}`",
                match args.addresses.len() {
                    0 => "none is".to_owned(),
                    n => format!("{n} are"),
                },
                args.args.join(" ")
            ),
        });
    }
    let mut selection = shaped(args.addresses.clone(), &args.shape)?;
    selection.args.clone_from(&args.args);
    Ok(selection)
}

/// `addresses` compiled with `--complexity`, `--skip` and `--set`.
fn shaped(addresses: Vec<String>, shape: &ShapeArgs) -> Result<Selection, Error> {
    Ok(Selection {
        addresses,
        complexity: shape.complexity.clone(),
        skip: shape.skip.clone(),
        set: shape
            .set
            .iter()
            .map(|s| compile::parse_set(s))
            .collect::<Result<_, _>>()?,
        everything: false,
        args: Vec::new(),
    })
}

fn plan(loaded: &Loaded, plan: &plan::Plan, args: &PlanArgs) -> Result<(), Error> {
    let text = timings::measure("render", || match args.format {
        PlanFormat::Text => plan::text::render(plan),
        PlanFormat::Json => plan::json::render(plan, &loaded.located.display, &|at| {
            loaded.sources.locate(at)
        }),
        PlanFormat::Dot => plan::dot::render(plan),
        PlanFormat::GithubMatrix => github_matrix(plan, loaded, args.shards),
    });
    // A var set from a secret (`--set token=…`) puts it in command text.
    // In JSON, a secret with a quote or backslash is written escaped.
    write_stdout(&secrets(plan).mask_json(&text))
}

/// `plan --format github-matrix`: with `--shards N`, balanced by this
/// machine's history (`plan::shard::github_matrix` renders it).
fn github_matrix(plan: &plan::Plan, loaded: &Loaded, shards: Option<u16>) -> String {
    let expected = shards.and_then(|_| {
        let history = workspace(loaded).history();
        report::eta::expected(plan, &history)
    });
    plan::shard::github_matrix(plan, shards.map(usize::from), expected.as_deref())
}

/// Compiles `selection`; an error echoing what the user typed is masked
/// with the project's secrets (a token pasted as an address).
fn compile_masked(model: &Model, selection: &compile::Selection) -> Result<plan::Plan, Error> {
    compile::compile(model, selection).map_err(|e| {
        let secrets = model.config().project.secrets.iter();
        Error::from(e.masked(&Masker::from_env(secrets.map(|s| s.value.as_str()))))
    })
}

/// The masker for the project's `secret` variables, from the environment.
fn secrets(plan: &plan::Plan) -> Masker {
    Masker::from_env(plan.secrets.iter().map(String::as_str))
}

fn write_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// `--color`, then `NO_COLOR` and `CLICOLOR_FORCE` under `auto`, then
/// whether stderr (where diagnostics go) is a terminal; `--ci-format`, then
/// `GITHUB_ACTIONS=true` under `auto`.
fn render_options(choice: ColorChoice, ci: CiFormat) -> RenderOptions {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                false
            } else {
                set("CLICOLOR_FORCE") || std::io::stderr().is_terminal()
            }
        }
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100);
    let github = match ci {
        CiFormat::Github => true,
        CiFormat::Plain => false,
        CiFormat::Auto => std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
    };
    RenderOptions {
        color,
        width,
        github,
    }
}
