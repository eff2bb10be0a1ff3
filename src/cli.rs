//! Command-line types (clap derive). No I/O and no logic here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "orchestra",
    version,
    about = "A declarative build tool: entities, milestones, pipelines and gates compiled into a task DAG",
    propagate_version = true
)]
pub(crate) struct Cli {
    /// The orchestra file [default: orchestra.kdl, searched upward from the current directory]
    #[arg(short = 'f', long = "file", global = true, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,

    /// Change to DIR before doing anything
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub(crate) directory: Option<PathBuf>,

    /// When to use colour [honours `NO_COLOR` and `CLICOLOR_FORCE` under `auto`]
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,

    /// CI-native output [auto: `github` when `GITHUB_ACTIONS=true`, else `plain`]
    #[arg(long, global = true, value_enum, default_value_t = CiFormat::Auto, value_name = "FORMAT")]
    pub(crate) ci_format: CiFormat,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CiFormat {
    Auto,
    /// Log groups, `::error`/`::warning` annotations, a step summary, masks
    Github,
    /// Plain lines, as anywhere else
    Plain,
}

/// Which tasks' output a build prints (their logs stay in `.orchestra/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputLogs {
    /// Every task's output
    Full,
    /// Only failed tasks' output
    Failed,
    /// No task's output: status lines and failure reports only
    None,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate orchestra.kdl and report every problem in it
    Check(CheckArgs),
    /// List targets, milestones, entities, gates, tasks and pools
    List(ListArgs),
    /// Show the compiled plan (the task DAG in waves) without running it
    Plan(PlanArgs),
    /// Run the plan: tasks in dependency order, in parallel, gates included
    Build(BuildArgs),
    /// Say why a task would run (or that it is up to date) without building
    Why(WhyArgs),
    /// Remove orchestra's state, logs and caches under `.orchestra/`
    Clean,
    /// Show recent runs, the last one per milestone and task, and the locks
    Status(StatusArgs),
    /// What past builds say: slowest tasks, failure rates, flaky checks, fixes, trends
    Report(ReportArgs),
    /// Remove milestone locks by hand (all of them when none is named)
    Unlock(UnlockArgs),
    /// Show or empty the local output cache (`.orchestra/cache/`)
    Cache(CacheCommandArgs),
    /// Print a completion script for a shell: subcommands, options, and the project's addresses
    Completions(CompletionsArgs),
    /// Print the man page (roff): `orchestra man | man -l -`
    Man,
    /// Write a commented starter orchestra.kdl, from what the directory holds or a blueprint
    Init(InitArgs),
    /// Print the language as JSON for editors: every node kind, its properties and children
    Schema,
    /// Format orchestra.kdl and the files it includes (comments and blank lines kept)
    Fmt(FmtArgs),
    /// Internal: the guardian a build starts to kill its commands if it is killed
    #[command(name = "__guardian", hide = true)]
    Guardian,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Print a JSON object: the state file as `run`, and `locks`
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The last N builds of the history
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub(crate) last: usize,

    /// Only builds started within this long, e.g. `7d`, `12h`
    #[arg(long, value_name = "DURATION", value_parser = wait_limit)]
    pub(crate) since: Option<std::time::Duration>,

    /// Print a JSON object (schema in docs/report.md)
    #[arg(long)]
    pub(crate) json: bool,

    /// Write a self-contained HTML page of the report, with a plot of the builds, to PATH
    #[arg(long, value_name = "PATH", conflicts_with = "json")]
    pub(crate) html: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct FmtArgs {
    /// Change nothing: print a diff of what would change and exit 1 if anything would
    #[arg(long)]
    pub(crate) check: bool,

    /// Format these files instead of the project's (orchestra.kdl and what it includes)
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Start from this blueprint instead of what the directory holds (`--list` shows them)
    #[arg(long, value_name = "NAME")]
    pub(crate) blueprint: Option<String>,

    /// List the blueprints and what each is for
    #[arg(long, conflicts_with_all = ["blueprint", "force"])]
    pub(crate) list: bool,

    /// Replace an existing orchestra.kdl
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: `source <(orchestra completions bash)` in ~/.bashrc (see docs/cli.md for each)
    #[arg(value_enum, value_name = "SHELL")]
    pub(crate) shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub(crate) struct CacheCommandArgs {
    #[command(subcommand)]
    pub(crate) action: CacheAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CacheAction {
    /// What the local output cache holds: entries, blobs, bytes, and its limit
    Stats {
        /// Print a JSON object
        #[arg(long)]
        json: bool,
    },
    /// Remove the local output cache
    Clean,
}

/// Where a task's outputs may be restored from and stored to.
#[derive(Debug, Args)]
pub(crate) struct CacheArgs {
    /// Output caches to read and write: `local`, `remote`, `both` or `off`, each optionally `:r`, `:w` or `:rw`, joined by commas [default: local, and remote when a cache URL is set]
    #[arg(long = "cache", value_name = "MODES", env = "ORCHESTRA_CACHE", value_parser = cache_modes)]
    pub(crate) modes: Option<Unset<crate::model::cache::Modes>>,

    /// The shared output cache: `http(s)://host/prefix` (the Bazel HTTP cache protocol) or `grpc://host:port[/instance]` (REAPI v2) [default: the project's `cache-url`]
    #[arg(
        long = "cache-url",
        visible_alias = "remote",
        value_name = "URL",
        env = "ORCHESTRA_CACHE_URL",
        hide_env_values = true
    )]
    pub(crate) url: Option<String>,

    /// The longest one request to the shared cache may take before the build goes on without it
    #[arg(long = "cache-timeout", value_name = "DURATION", env = "ORCHESTRA_CACHE_TIMEOUT", default_value = CACHE_TIMEOUT, value_parser = cache_timeout)]
    pub(crate) timeout: std::time::Duration,
}

/// A value that may be empty, meaning "not given": CI systems hand an
/// unset secret to a job as an empty variable (GitHub does for pull
/// requests from forks), which must not break the build.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unset<T>(pub(crate) Option<T>);

const CACHE_TIMEOUT: &str = "30s";

/// `--cache-timeout 10s`: a duration, and not zero (every request would
/// fail at once); empty is the default.
fn cache_timeout(text: &str) -> Result<std::time::Duration, String> {
    let text = if text.trim().is_empty() {
        CACHE_TIMEOUT
    } else {
        text
    };
    match crate::model::parse_duration(text)? {
        zero if zero.is_zero() => Err(
            "a request needs some time: write one such as `10s`, or `--cache local` for no remote"
                .into(),
        ),
        limit => Ok(limit),
    }
}

/// `--cache local,remote:r`; empty is as if not given.
fn cache_modes(text: &str) -> Result<Unset<crate::model::cache::Modes>, String> {
    if text.trim().is_empty() {
        return Ok(Unset(None));
    }
    crate::model::cache::parse_modes(text).map(|m| Unset(Some(m)))
}

#[derive(Debug, Args)]
pub(crate) struct UnlockArgs {
    /// Milestones whose locks to remove [default: every lock]
    #[arg(value_name = "MILESTONE")]
    pub(crate) milestones: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct WhyArgs {
    /// The task to explain
    #[arg(value_name = "ADDRESS")]
    pub(crate) address: String,

    #[command(flatten)]
    pub(crate) shape: ShapeArgs,

    #[command(flatten)]
    pub(crate) cache: CacheArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Fail (exit 2) when there are warnings too
    #[arg(long)]
    pub(crate) deny_warnings: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print a JSON object instead of columns (schema in docs/cli.md)
    #[arg(long)]
    pub(crate) json: bool,
}

/// What to build: shared by every command that compiles a plan.
#[derive(Debug, Args)]
pub(crate) struct SelectArgs {
    /// Addresses to build with everything they need: a target, task, gate,
    /// milestone, `M1/phase`, `entities`, `entities/product` or
    /// `entities/product/generate` [default: the project's `default`, else everything]
    #[arg(value_name = "ADDRESS")]
    pub(crate) addresses: Vec<String>,

    #[command(flatten)]
    pub(crate) shape: ShapeArgs,

    /// Only the tasks a change since BASE reaches (by git), and what depends on them [default BASE: the merge base with the default branch]
    #[arg(long, value_name = "BASE", num_args = 0..=1)]
    // Absent, present without a base, present with one.
    #[allow(clippy::option_option)]
    pub(crate) affected: Option<Option<String>>,

    /// Only shard I of N (`2/4`): a split for N CI jobs that depends on the plan alone
    #[arg(long, value_name = "I/N", value_parser = shard)]
    pub(crate) shard: Option<(usize, usize)>,

    /// With `--shard`: the split `plan --format github-matrix` balanced by durations, for every job to use
    #[arg(long, value_name = "TOKEN", requires = "shard")]
    pub(crate) split: Option<String>,

    /// Arguments for the one task named, after `--`: what `{args}` expands to in its commands
    #[arg(last = true, value_name = "ARGS")]
    pub(crate) args: Vec<String>,
}

/// How the selected part of the plan is compiled: shared by every command
/// that compiles one, so `build`, `plan` and `why` agree.
#[derive(Debug, Args)]
pub(crate) struct ShapeArgs {
    /// Use this pipeline for every selected milestone
    #[arg(long, value_name = "LEVEL")]
    pub(crate) complexity: Option<String>,

    /// Leave out stages, steps, phases, gates, checks or tasks with this name
    /// or address (repeatable); what needed them needs what they needed
    #[arg(long = "skip", value_name = "NAME")]
    pub(crate) skip: Vec<String>,

    /// Override a `vars` entry (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub(crate) set: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) select: SelectArgs,

    /// Output format (JSON schema in docs/plan-json.md)
    #[arg(long, value_enum, default_value_t = PlanFormat::Text, value_name = "FORMAT")]
    pub(crate) format: PlanFormat,

    /// With `--format github-matrix`: a matrix of N shards (else one entry per target)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) shards: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// Waves in order, one task per entry
    Text,
    /// A versioned JSON document
    Json,
    /// A graphviz digraph: `orchestra plan --format dot | dot -Tsvg > plan.svg`
    Dot,
    /// The JSON a GitHub Actions `strategy.matrix` takes: shards (`--shards N`) or targets
    GithubMatrix,
}

// Each bool is an independent command-line flag, not hidden state.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    pub(crate) select: SelectArgs,

    /// Run at most N tasks at once; 0 means one per CPU [default: the project's `jobs`, else one per CPU]
    #[arg(short = 'j', long, value_name = "N")]
    pub(crate) jobs: Option<u32>,

    /// After a failure, still run everything that does not depend on it
    #[arg(short = 'k', long)]
    pub(crate) keep_going: bool,

    /// List what would run, in order, without running anything or writing `.orchestra/`
    #[arg(short = 'n', long, conflicts_with_all = ["json", "keep_going", "yes", "verbose", "resume", "wait"])]
    pub(crate) dry_run: bool,

    /// After the build, watch what it reads and build again on each change (Ctrl-C stops)
    #[arg(long, conflicts_with_all = ["dry_run", "json", "resume", "junit", "events", "timings", "trace"])]
    pub(crate) watch: bool,

    /// Continue the last run of this selection that did not succeed: rerun only what did not finish
    #[arg(long)]
    pub(crate) resume: bool,

    /// Wait for milestone locks other builds hold (at most LIMIT, e.g. `10m`), instead of skipping those milestones
    #[arg(long, value_name = "LIMIT", num_args = 0..=1, require_equals = false, value_parser = wait_limit)]
    // Absent, present without a limit, present with one: clap's shape for
    // an option whose value is optional.
    #[allow(clippy::option_option)]
    pub(crate) wait: Option<Option<std::time::Duration>>,

    /// Approve every `confirm` question
    #[arg(short = 'y', long)]
    pub(crate) yes: bool,

    /// Run every task, up to date or not
    #[arg(short = 'B', long)]
    pub(crate) force: bool,

    /// Say why each task that runs runs
    #[arg(long)]
    pub(crate) explain: bool,

    /// Run no gate fix: a failing fixable check fails, naming its fix
    #[arg(long, conflicts_with = "fix")]
    pub(crate) no_fix: bool,

    /// Run gate fixes even in CI (where `CI` is set, fixes are off by default)
    #[arg(long)]
    pub(crate) fix: bool,

    /// Stream each task's output live, each line prefixed with its address
    #[arg(short = 'v', long)]
    pub(crate) verbose: bool,

    /// Print a JSON summary on stdout; human output stays on stderr (schema in docs/build-json.md)
    #[arg(long)]
    pub(crate) json: bool,

    /// When to draw the progress display [auto: when stderr is a terminal]
    #[arg(long, value_enum, default_value_t = ProgressChoice::Auto, value_name = "WHEN")]
    pub(crate) progress: ProgressChoice,

    /// Which tasks' output to print; `-v` streams only under `full`
    #[arg(long, value_enum, default_value_t = OutputLogs::Full, value_name = "WHICH")]
    pub(crate) output_logs: OutputLogs,

    /// Write a `JUnit` XML report of the build to PATH
    #[arg(long, value_name = "PATH", conflicts_with = "dry_run")]
    pub(crate) junit: Option<PathBuf>,

    /// Write a self-contained HTML page of the run's timings (a Gantt chart, the critical path) to PATH
    #[arg(long, value_name = "PATH", conflicts_with = "dry_run")]
    pub(crate) timings: Option<PathBuf>,

    /// Write the run in Chrome trace-event format (Perfetto, `chrome://tracing`) to PATH
    #[arg(long, value_name = "PATH", conflicts_with = "dry_run")]
    pub(crate) trace: Option<PathBuf>,

    /// Write newline-delimited JSON events to PATH (`-` for stdout) as the build runs (docs/events.md)
    #[arg(long, value_name = "PATH", conflicts_with = "dry_run")]
    pub(crate) events: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) cache: CacheArgs,
}

/// `--shard 2/4`: shard 2 of 4, counted from 1.
fn shard(text: &str) -> Result<(usize, usize), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
    match parsed {
        Some((i, n)) if (1..=n).contains(&i) => Ok((i, n)),
        _ => Err("write I/N with 1 ≤ I ≤ N, such as `2/4`".into()),
    }
}

/// `--wait 10m`: a duration as `orchestra.kdl` writes one.
fn wait_limit(text: &str) -> Result<std::time::Duration, String> {
    crate::model::parse_duration(text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProgressChoice {
    Auto,
    Always,
    /// Plain lines: one when a task starts, one when it ends
    Never,
}
