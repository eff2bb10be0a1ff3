//! The validated [`Model`] and its shared namespace of addressable items.

use std::collections::HashMap;

use super::{Config, Gate, Milestone, Pipeline, Pool, RuleFile, rule_files};

/// A top-level name in the shared namespace: tasks, gates, milestones,
/// targets, entity groups and rules may not share a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Item {
    Task(usize),
    Gate(usize),
    Milestone(usize),
    Target(usize),
    Entities(usize),
    Rule(usize),
}

impl Item {
    /// The kind as users read it in messages.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Task(_) => "task",
            Self::Gate(_) => "gate",
            Self::Milestone(_) => "milestone",
            Self::Target(_) => "target",
            Self::Entities(_) => "entity group",
            Self::Rule(_) => "rule",
        }
    }
}

/// A configuration that passed validation. Built only by `crate::validate`.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    config: Config,
    project_name: String,
    items: HashMap<String, Item>,
    /// `[rule]`: the files each rule matched, each a task.
    rule_files: Vec<Vec<RuleFile>>,
}

impl Model {
    /// Only validation calls this, after checking every rule.
    pub(crate) fn new(config: Config, project_name: String) -> Self {
        let items = item_index(&config);
        let rule_files = config.rules.iter().map(rule_files).collect();
        Self {
            config,
            project_name,
            items,
            rule_files,
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// `project "name"`, or the project directory's name when not written.
    pub(crate) fn project_name(&self) -> &str {
        &self.project_name
    }

    /// The files rule `r` matched, one task each, in plan order.
    pub(crate) fn rule_files(&self, r: usize) -> &[RuleFile] {
        &self.rule_files[r]
    }

    pub(crate) fn item(&self, name: &str) -> Option<Item> {
        self.items.get(name).copied()
    }

    /// Every name in the shared namespace (for suggestions).
    pub(crate) fn item_names(&self) -> impl Iterator<Item = &str> {
        self.items.keys().map(String::as_str)
    }

    pub(crate) fn gate(&self, name: &str) -> Option<&Gate> {
        match self.item(name)? {
            Item::Gate(i) => Some(&self.config.gates[i]),
            _ => None,
        }
    }

    pub(crate) fn pipeline(&self, name: &str) -> Option<&Pipeline> {
        self.config
            .pipelines
            .iter()
            .find(|p| p.name.as_str() == name)
    }

    pub(crate) fn pool(&self, name: &str) -> Option<&Pool> {
        self.config.pools.iter().find(|p| p.name.as_str() == name)
    }

    /// The pipeline a milestone goes through: its own `complexity`, else the
    /// project's, else none (the milestone just runs its phases).
    pub(crate) fn pipeline_of(&self, milestone: &Milestone) -> Option<&Pipeline> {
        let level = milestone
            .complexity
            .as_ref()
            .or(self.config.project.complexity.as_ref())?;
        self.pipeline(level.as_str())
    }
}

/// Name → item for the shared namespace; on duplicates (which validation
/// rejects) the first declaration wins.
fn item_index(config: &Config) -> HashMap<String, Item> {
    let mut items = HashMap::new();
    let named = config
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (&t.name.value, Item::Task(i)))
        .chain(
            config
                .gates
                .iter()
                .enumerate()
                .map(|(i, g)| (&g.name.value, Item::Gate(i))),
        )
        .chain(
            config
                .milestones
                .iter()
                .enumerate()
                .map(|(i, m)| (&m.name.value, Item::Milestone(i))),
        )
        .chain(
            config
                .targets
                .iter()
                .enumerate()
                .map(|(i, t)| (&t.name.value, Item::Target(i))),
        )
        .chain(
            config
                .entity_groups
                .iter()
                .enumerate()
                .map(|(i, g)| (&g.name.value, Item::Entities(i))),
        )
        .chain(
            config
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| (&r.name.value, Item::Rule(i))),
        );
    for (name, item) in named {
        items.entry(name.clone()).or_insert(item);
    }
    items
}
