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
pub struct Cli {
    /// The orchestra file [default: orchestra.kdl, searched upward from the current directory]
    #[arg(short = 'f', long = "file", global = true, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// Change to DIR before doing anything
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// When to use colour [honours `NO_COLOR` and `CLICOLOR_FORCE` under `auto`]
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Show the last run (per milestone and task) and the milestone locks
    Status(StatusArgs),
    /// Remove milestone locks by hand (all of them when none is named)
    Unlock(UnlockArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print a JSON object: the state file as `run`, and `locks`
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Milestones whose locks to remove [default: every lock]
    #[arg(value_name = "MILESTONE")]
    pub milestones: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The task to explain
    #[arg(value_name = "ADDRESS")]
    pub address: String,

    #[command(flatten)]
    pub shape: ShapeArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Fail (exit 2) when there are warnings too
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print a JSON object instead of columns (schema in docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

/// What to build: shared by every command that compiles a plan.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Addresses to build with everything they need: a target, task, gate,
    /// milestone, `M1/phase`, `entities`, `entities/product` or
    /// `entities/product/generate` [default: the project's `default`, else everything]
    #[arg(value_name = "ADDRESS")]
    pub addresses: Vec<String>,

    #[command(flatten)]
    pub shape: ShapeArgs,
}

/// How the selected part of the plan is compiled: shared by every command
/// that compiles one, so `build`, `plan` and `why` agree.
#[derive(Debug, Args)]
pub struct ShapeArgs {
    /// Use this pipeline for every selected milestone
    #[arg(long, value_name = "LEVEL")]
    pub complexity: Option<String>,

    /// Leave out stages, steps, phases, gates, checks or tasks with this name
    /// or address (repeatable); what needed them needs what they needed
    #[arg(long = "skip", value_name = "NAME")]
    pub skip: Vec<String>,

    /// Override a `vars` entry (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Output format (JSON schema in docs/plan-json.md)
    #[arg(long, value_enum, default_value_t = PlanFormat::Text, value_name = "FORMAT")]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Waves in order, one task per entry
    Text,
    /// A versioned JSON document
    Json,
    /// A graphviz digraph: `orchestra plan --format dot | dot -Tsvg > plan.svg`
    Dot,
}

// Each bool is an independent command-line flag, not hidden state.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Run at most N tasks at once; 0 means one per CPU [default: the project's `jobs`, else one per CPU]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<u32>,

    /// After a failure, still run everything that does not depend on it
    #[arg(short = 'k', long)]
    pub keep_going: bool,

    /// List what would run, in order, without running anything or writing `.orchestra/`
    #[arg(short = 'n', long, conflicts_with_all = ["json", "keep_going", "yes", "verbose", "resume", "wait"])]
    pub dry_run: bool,

    /// Skip what succeeded in the previous run, if it was interrupted and built the same selection
    #[arg(long)]
    pub resume: bool,

    /// Wait for milestone locks other builds hold, instead of skipping those milestones
    #[arg(long)]
    pub wait: bool,

    /// Approve every `confirm` question
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Run every task, up to date or not
    #[arg(short = 'B', long)]
    pub force: bool,

    /// Say why each task that runs runs
    #[arg(long)]
    pub explain: bool,

    /// Stream each task's output live, each line prefixed with its address
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Print a JSON summary on stdout; human output stays on stderr (schema in docs/build-json.md)
    #[arg(long)]
    pub json: bool,

    /// When to draw the progress display [auto: when stderr is a terminal]
    #[arg(long, value_enum, default_value_t = ProgressChoice::Auto, value_name = "WHEN")]
    pub progress: ProgressChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressChoice {
    Auto,
    Always,
    /// Plain lines: one when a task starts, one when it ends
    Never,
}
