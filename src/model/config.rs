//! The decoded configuration: one struct per node kind of `orchestra.kdl`.
//!
//! Produced by `crate::config::decode`, checked by `crate::validate`. Every
//! value keeps its [`Span`]; optional settings are `None` when not written, so
//! defaults are applied in one place (the compiler), not scattered here.

use std::time::Duration;

use super::{Command, Span, Spanned};

/// The whole file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub project: Project,
    pub vars: Vec<Var>,
    pub pools: Vec<Pool>,
    pub gates: Vec<Gate>,
    pub tasks: Vec<Task>,
    pub entity_groups: Vec<EntityGroup>,
    pub pipelines: Vec<Pipeline>,
    pub milestones: Vec<Milestone>,
    pub targets: Vec<Target>,
}

/// `project "name" { … }`. Absent from the file: every field is empty and the
/// name is the project directory's name.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub name: Option<Spanned<String>>,
    pub default: Option<Spanned<String>>,
    pub jobs: Option<Spanned<u32>>,
    pub complexity: Option<Spanned<String>>,
    pub env: Vec<EnvVar>,
    pub lock_timeout: Option<Spanned<Duration>>,
    pub secrets: Vec<Spanned<String>>,
    /// Program and leading arguments; the command line is appended.
    pub shell: Option<Spanned<Vec<String>>>,
    pub span: Option<Span>,
}

/// `NAME="value"` in an `env` node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: Spanned<String>,
    pub value: Spanned<String>,
}

/// One child of `vars { … }`: `name "value"`.
#[derive(Debug, Clone)]
pub struct Var {
    pub name: Spanned<String>,
    pub value: Spanned<String>,
}

/// `pool "name" depth=N`.
#[derive(Debug, Clone)]
pub struct Pool {
    pub name: Spanned<String>,
    pub depth: Spanned<u32>,
    pub span: Span,
}

/// `gate "name" retries=N { check … }`.
#[derive(Debug, Clone)]
pub struct Gate {
    pub name: Spanned<String>,
    pub retries: Option<Spanned<u32>>,
    pub description: Option<Spanned<String>>,
    pub checks: Vec<Check>,
    pub span: Span,
}

/// `check "name" "command" fix="…" optional=#true`.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: Spanned<String>,
    pub command: Command,
    pub fix: Option<Command>,
    pub optional: bool,
    pub timeout: Option<Spanned<Duration>>,
    pub retries: Option<Spanned<u32>>,
    pub dir: Option<Spanned<String>>,
    pub env: Vec<EnvVar>,
    pub span: Span,
}

/// The settings shared by every task-like node: `task`, `phase`, `stage`,
/// `step`. Which of them a node kind accepts is the decoder's business.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pub run: Vec<Command>,
    pub needs: Vec<Spanned<String>>,
    pub inputs: Vec<Spanned<String>>,
    pub outputs: Vec<Spanned<String>>,
    pub env: Vec<EnvVar>,
    pub dir: Option<Spanned<String>>,
    pub timeout: Option<Spanned<Duration>>,
    pub retries: Option<Spanned<u32>>,
    pub gate: Option<Spanned<String>>,
    pub pool: Option<Spanned<String>>,
    pub confirm: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
}

/// `task "name" { … }`: the make-like primitive.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: Spanned<String>,
    pub body: Body,
    pub span: Span,
}

/// `entities ["name"] { needs …; each { … }; wave-gate …; entity … }`.
#[derive(Debug, Clone)]
pub struct EntityGroup {
    /// Written name, or `entities` (span of the node name) when omitted.
    pub name: Spanned<String>,
    pub needs: Vec<Spanned<String>>,
    pub steps: Vec<Step>,
    /// `gate` inside `each`: runs per entity after its steps.
    pub each_gate: Option<Spanned<String>>,
    pub wave_gate: Option<Spanned<String>>,
    pub entities: Vec<Entity>,
    pub span: Span,
}

/// `step "name" "command"` inside `each`.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: Spanned<String>,
    pub body: Body,
    pub span: Span,
}

/// `entity "name" key="value" … { relation "other" }`.
#[derive(Debug, Clone)]
pub struct Entity {
    pub name: Spanned<String>,
    /// Template variables for this entity's steps, in written order.
    pub properties: Vec<(Spanned<String>, Spanned<String>)>,
    pub relations: Vec<Spanned<String>>,
    pub span: Span,
}

/// `pipeline "level" { stage …; phases; gate … }`.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: Spanned<String>,
    pub items: Vec<PipelineItem>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum PipelineItem {
    Stage(Box<Stage>),
    /// Where the milestone's own phases go.
    Phases(Span),
    Gate(Spanned<String>),
}

/// `stage "name" "command" confirm="…"` inside a pipeline.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: Spanned<String>,
    pub body: Body,
    pub span: Span,
}

/// `milestone "name" complexity="level" { needs …; phase … }`.
#[derive(Debug, Clone)]
pub struct Milestone {
    pub name: Spanned<String>,
    pub complexity: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub needs: Vec<Spanned<String>>,
    pub phases: Vec<Phase>,
    pub span: Span,
}

/// `phase "name" depends-on="other" { … }`.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: Spanned<String>,
    pub body: Body,
    /// `None`: follows the previous phase. `Some(empty)`: a bare `depends-on`,
    /// starts with the milestone. `Some(names)`: waits for exactly those.
    pub depends_on: Option<Vec<Spanned<String>>>,
    pub span: Span,
}

/// `target "name" { needs …; gate … }`.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub needs: Vec<Spanned<String>>,
    pub gate: Option<Spanned<String>>,
    pub span: Span,
}
