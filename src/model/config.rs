//! The decoded configuration: one struct per node kind of `orchestra.kdl`.
//!
//! Produced by `crate::config::decode`, checked by `crate::validate`. Every
//! value keeps its [`Span`]; optional settings are `None` when not written, so
//! defaults are applied in one place (the compiler), not scattered here.

use std::time::Duration;

use super::{Command, Span, Spanned};

/// The whole file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    pub(crate) project: Project,
    pub(crate) vars: Vec<Var>,
    pub(crate) pools: Vec<Pool>,
    pub(crate) gates: Vec<Gate>,
    pub(crate) tasks: Vec<Task>,
    pub(crate) entity_groups: Vec<EntityGroup>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) pipelines: Vec<Pipeline>,
    pub(crate) milestones: Vec<Milestone>,
    pub(crate) targets: Vec<Target>,
    /// The names given to top-level nodes that are not known (`taks
    /// "build"`): already reported, so a reference to one is not reported
    /// again as unknown.
    pub(crate) misspelled: Vec<String>,
}

/// `project "name" { … }`. Absent from the file: every field is empty and the
/// name is the project directory's name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Project {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) default: Option<Spanned<String>>,
    pub(crate) jobs: Option<Spanned<u32>>,
    pub(crate) complexity: Option<Spanned<String>>,
    pub(crate) env: Vec<EnvVar>,
    pub(crate) lock_timeout: Option<Spanned<Duration>>,
    pub(crate) secrets: Vec<Spanned<String>>,
    /// Program and leading arguments; the command line is appended.
    pub(crate) shell: Option<Spanned<Vec<String>>>,
    /// `cache-size "5GB"`: the local output cache's limit, in bytes.
    pub(crate) cache_size: Option<Spanned<u64>>,
    /// `cache-url "http://…"` or `"grpc://…"`: the shared output cache.
    pub(crate) cache_url: Option<Spanned<String>>,
    /// `dotenv ".env"`: files every command gets variables from.
    pub(crate) dotenv: Vec<Spanned<String>>,
    #[allow(dead_code)] // decoded with the node; no diagnostic points at it yet
    pub(crate) span: Option<Span>,
}

/// `NAME="value"` in an `env` node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvVar {
    pub(crate) name: Spanned<String>,
    pub(crate) value: Spanned<String>,
}

/// One child of `vars { … }`: `name "value"`.
#[derive(Debug, Clone)]
pub(crate) struct Var {
    pub(crate) name: Spanned<String>,
    pub(crate) value: Spanned<String>,
}

/// `pool "name" depth=N`.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub(crate) name: Spanned<String>,
    pub(crate) depth: Spanned<u32>,
    #[allow(dead_code)] // decoded with the node; no diagnostic points at it yet
    pub(crate) span: Span,
}

/// `gate "name" retries=N { check … }`.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub(crate) name: Spanned<String>,
    pub(crate) retries: Option<Spanned<u32>>,
    pub(crate) description: Option<Spanned<String>>,
    pub(crate) checks: Vec<Check>,
    pub(crate) span: Span,
}

/// `check "name" "command" fix="…" optional=#true`.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub(crate) name: Spanned<String>,
    pub(crate) command: Command,
    pub(crate) fix: Option<Command>,
    pub(crate) optional: bool,
    pub(crate) timeout: Option<Spanned<Duration>>,
    pub(crate) retries: Option<Spanned<u32>>,
    pub(crate) dir: Option<Spanned<String>>,
    pub(crate) env: Vec<EnvVar>,
    #[allow(dead_code)] // decoded with the node; no diagnostic points at it yet
    pub(crate) span: Span,
}

/// The settings shared by every task-like node: `task`, `phase`, `stage`,
/// `step`. Which of them a node kind accepts is the decoder's business.
#[derive(Debug, Clone, Default)]
pub(crate) struct Body {
    pub(crate) run: Vec<Command>,
    pub(crate) needs: Vec<Spanned<String>>,
    pub(crate) inputs: Vec<Spanned<String>>,
    pub(crate) outputs: Vec<Spanned<String>>,
    pub(crate) env: Vec<EnvVar>,
    pub(crate) dir: Option<Spanned<String>>,
    pub(crate) timeout: Option<Spanned<Duration>>,
    pub(crate) retries: Option<Spanned<u32>>,
    pub(crate) gate: Option<Spanned<String>>,
    pub(crate) pool: Option<Spanned<String>>,
    pub(crate) confirm: Option<Spanned<String>>,
    /// `interactive=#true`: runs alone, with orchestra's stdin, in the
    /// terminal's foreground when there is one.
    pub(crate) interactive: bool,
    pub(crate) description: Option<Spanned<String>>,
    /// `depfile "build/main.d"`: a Makefile-syntax file the command writes
    /// (`cc -MMD -MF`), naming the files it read.
    pub(crate) depfile: Option<Spanned<String>>,
    /// `jobserver=#true` / `jobserver="fifo"`: its commands share
    /// orchestra's `-j` slots through the GNU make jobserver protocol.
    pub(crate) jobserver: Option<Jobserver>,
    /// `cache=#false`: never restored from or stored in the output cache.
    pub(crate) cache: Option<bool>,
    /// `dotenv ".env"`: files of `NAME=value` lines its commands get, under
    /// the project's and its own `env`.
    pub(crate) dotenv: Vec<Spanned<String>>,
}

/// How a task's commands reach the jobserver: `MAKEFLAGS` names inherited
/// descriptors (`--jobserver-auth=R,W`, every GNU make, cargo, ninja ≥
/// 1.13) or a path to open (`--jobserver-auth=fifo:PATH`, make ≥ 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jobserver {
    Pipe,
    Fifo,
}

impl Jobserver {
    /// As written in `jobserver="…"` and in the plan's JSON.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pipe => "pipe",
            Self::Fifo => "fifo",
        }
    }
}

/// `task "name" { … }`: the make-like primitive.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) name: Spanned<String>,
    pub(crate) body: Body,
    pub(crate) span: Span,
}

/// `rule "name" { foreach "src/*.c"; run …; outputs … }`: one task per
/// file the patterns match.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) name: Spanned<String>,
    pub(crate) foreach: Vec<Foreach>,
    pub(crate) body: Body,
    pub(crate) span: Span,
}

/// One `foreach` pattern and the files it matched. The decoder leaves
/// `matched` empty; the loader fills it from disk before validation, so
/// everything after the loader is pure.
#[derive(Debug, Clone)]
pub(crate) struct Foreach {
    pub(crate) pattern: Spanned<String>,
    /// Files relative to the project root, sorted; or why the pattern is
    /// not a glob.
    pub(crate) matched: Result<Vec<String>, String>,
}

/// `entities ["name"] { needs …; each { … }; wave-gate …; entity … }`.
#[derive(Debug, Clone)]
pub(crate) struct EntityGroup {
    /// Written name, or `entities` (span of the node name) when omitted.
    pub(crate) name: Spanned<String>,
    pub(crate) needs: Vec<Spanned<String>>,
    pub(crate) steps: Vec<Step>,
    /// `gate` inside `each`: runs per entity after its steps.
    pub(crate) each_gate: Option<Spanned<String>>,
    pub(crate) wave_gate: Option<Spanned<String>>,
    pub(crate) entities: Vec<Entity>,
    pub(crate) span: Span,
}

/// `step "name" "command"` inside `each`.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) name: Spanned<String>,
    pub(crate) body: Body,
    pub(crate) span: Span,
}

/// `entity "name" key="value" … { relation "other" }`.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub(crate) name: Spanned<String>,
    /// Template variables for this entity's steps, in written order.
    pub(crate) properties: Vec<(Spanned<String>, Spanned<String>)>,
    pub(crate) relations: Vec<Spanned<String>>,
    #[allow(dead_code)] // decoded with the node; no diagnostic points at it yet
    pub(crate) span: Span,
}

/// `pipeline "level" { stage …; phases; gate … }`.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    pub(crate) name: Spanned<String>,
    pub(crate) items: Vec<PipelineItem>,
    /// `phase-gate "verify"`: the gate of every phase that names none
    /// (and whose milestone sets no `phase-gate` of its own).
    pub(crate) phase_gate: Option<Spanned<String>>,
    #[allow(dead_code)] // decoded with the node; no diagnostic points at it yet
    pub(crate) span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum PipelineItem {
    Stage(Box<Stage>),
    /// Where the milestone's own phases go.
    #[allow(dead_code)] // the span of `phases`, for diagnostics to come
    Phases(Span),
    Gate(Spanned<String>),
}

/// `stage "name" "command" confirm="…"` inside a pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub(crate) name: Spanned<String>,
    pub(crate) body: Body,
    pub(crate) span: Span,
}

/// `milestone "name" complexity="level" { needs …; phase … }`.
#[derive(Debug, Clone)]
pub(crate) struct Milestone {
    pub(crate) name: Spanned<String>,
    pub(crate) complexity: Option<Spanned<String>>,
    pub(crate) description: Option<Spanned<String>>,
    pub(crate) needs: Vec<Spanned<String>>,
    pub(crate) phases: Vec<Phase>,
    /// `phase-gate "verify"`: the gate of every phase that names none.
    pub(crate) phase_gate: Option<Spanned<String>>,
    pub(crate) span: Span,
}

/// `phase "name" depends-on="other" { … }`.
#[derive(Debug, Clone)]
pub(crate) struct Phase {
    pub(crate) name: Spanned<String>,
    pub(crate) body: Body,
    /// `None`: follows the previous phase. `Some(empty)`: a bare `depends-on`,
    /// starts with the milestone. `Some(names)`: waits for exactly those.
    pub(crate) depends_on: Option<Vec<Spanned<String>>>,
    pub(crate) span: Span,
}

/// `target "name" { needs …; gate … }`.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) name: Spanned<String>,
    pub(crate) description: Option<Spanned<String>>,
    pub(crate) needs: Vec<Spanned<String>>,
    pub(crate) gate: Option<Spanned<String>>,
    pub(crate) span: Span,
}
