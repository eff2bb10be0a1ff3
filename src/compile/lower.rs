//! Lowering the whole model into the draft graph: the order of top-level
//! items, how a `needs` address turns into edges, and the small items
//! (tasks, targets, gates built alone). Entity groups and milestones have
//! their own files.
//!
//! Items are lowered in an order where everything an item needs comes
//! first (validation rejected `needs` cycles), ties in file order, so an
//! address always resolves to tasks that already exist and the drafts come
//! out in the plan's order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::SelectionError;
use super::graph::{Graph, Part, id};
use super::templates::{Origin, Scope, Vars};
use crate::model::{Address, Item, Model, Pipeline, Spanned, Task};
use crate::plan::{TaskId, TaskKind};

/// The whole model as drafts, and where each addressable part landed.
#[derive(Debug, Default)]
pub(super) struct Lowered<'m> {
    pub(super) graph: Graph<'m>,
    /// Each top-level item's part, by kind and index (see [`Lowered::item`]).
    pub(super) tasks: Vec<Part>,
    pub(super) gates: Vec<Part>,
    pub(super) milestones: Vec<Part>,
    pub(super) targets: Vec<Part>,
    pub(super) groups: Vec<Part>,
    /// One part per rule: its file tasks, in [`Model::rule_files`] order.
    pub(super) rules: Vec<Part>,
    /// `[milestone][phase]`, the phase and its own gate.
    pub(super) phases: Vec<Vec<Part>>,
    /// `[group][entity]`, the entity's steps then its `each` gate.
    pub(super) entities: Vec<Vec<Part>>,
}

impl Lowered<'_> {
    pub(super) fn item(&self, item: Item) -> &Part {
        match item {
            Item::Task(i) => &self.tasks[i],
            Item::Gate(i) => &self.gates[i],
            Item::Milestone(i) => &self.milestones[i],
            Item::Target(i) => &self.targets[i],
            Item::Entities(i) => &self.groups[i],
            Item::Rule(i) => &self.rules[i],
        }
    }

    fn item_mut(&mut self, item: Item) -> &mut Part {
        match item {
            Item::Task(i) => &mut self.tasks[i],
            Item::Gate(i) => &mut self.gates[i],
            Item::Milestone(i) => &mut self.milestones[i],
            Item::Target(i) => &mut self.targets[i],
            Item::Entities(i) => &mut self.groups[i],
            Item::Rule(i) => &mut self.rules[i],
        }
    }
}

/// The lowering in progress.
pub(super) struct Lowering<'m> {
    pub(super) model: &'m Model,
    pub(super) vars: &'m Vars<'m>,
    /// `--complexity`: replaces every milestone's pipeline.
    pub(super) pipeline: Option<&'m Pipeline>,
    pub(super) out: Lowered<'m>,
}

/// Lowers every item of `model`.
pub(super) fn lower<'m>(
    model: &'m Model,
    vars: &'m Vars<'m>,
    pipeline: Option<&'m Pipeline>,
) -> Result<Lowered<'m>, SelectionError> {
    let c = model.config();
    let order = item_order(model);
    let mut l = Lowering {
        model,
        vars,
        pipeline,
        out: Lowered {
            phases: vec![Vec::new(); c.milestones.len()],
            entities: vec![Vec::new(); c.entity_groups.len()],
            tasks: vec![Part::default(); c.tasks.len()],
            gates: vec![Part::default(); c.gates.len()],
            milestones: vec![Part::default(); c.milestones.len()],
            targets: vec![Part::default(); c.targets.len()],
            groups: vec![Part::default(); c.entity_groups.len()],
            rules: vec![Part::default(); c.rules.len()],
            ..Lowered::default()
        },
    };
    // Growing a vector of 100k drafts by doubling copies it again and again
    // and churns the allocator; an upper bound up front avoids both.
    l.out.graph.reserve(capacity(model, pipeline));
    for item in order {
        let start = l.out.graph.len();
        let ends = match item {
            Item::Task(i) => l.task(&c.tasks[i]),
            Item::Gate(i) => {
                let gate = &c.gates[i];
                vec![l.gate(
                    gate.name.value.clone(),
                    gate,
                    TaskKind::Gate,
                    None,
                    Vec::new(),
                )]
            }
            Item::Milestone(i) => l.milestone(i),
            Item::Target(i) => l.target(i),
            Item::Entities(i) => l.entity_group(i),
            Item::Rule(i) => l.rule(i),
        };
        let tasks = start..l.out.graph.len();
        *l.out.item_mut(item) = Part { tasks, ends };
    }
    if let Some(address) = l.out.graph.collision.take() {
        let level = pipeline.map(|p| p.name.value.clone()).unwrap_or_default();
        return Err(SelectionError::AddressCollision { address, level });
    }
    Ok(l.out)
}

impl<'m> Lowering<'m> {
    /// The tasks a list of `needs` addresses waits for.
    pub(super) fn needs(&self, needs: &[Spanned<String>]) -> Vec<TaskId> {
        let mut out = Vec::new();
        for need in needs {
            // Validation resolved every address; a miss cannot happen.
            if let Ok(address) = self.model.resolve(need) {
                self.ends(address, &mut out);
            }
        }
        out
    }

    /// Appends the sinks of an already lowered address to `out`.
    fn ends(&self, address: Address, out: &mut Vec<TaskId>) {
        let o = &self.out;
        let part = match address {
            Address::Item(item) => Some(o.item(item)),
            Address::Phase { milestone, phase } => o.phases[milestone].get(phase),
            Address::Entity { group, entity } => o.entities[group].get(entity),
            Address::Step {
                group,
                entity,
                step,
            } => {
                // An entity part holds its steps first, in order.
                if let Some(part) = o.entities[group].get(entity) {
                    out.push(id(part.tasks.start + step));
                }
                return;
            }
            Address::RuleTask { rule, file } => {
                out.push(id(o.rules[rule].tasks.start + file));
                return;
            }
        };
        if let Some(part) = part {
            out.extend_from_slice(&part.ends);
        }
    }

    fn task(&mut self, task: &'m Task) -> Vec<TaskId> {
        let needs = self.needs(&task.body.needs);
        let origin = Origin {
            scope: Scope::default(),
            address: task.name.value.clone(),
            kind: TaskKind::Task,
            group: None,
            declared: task.span,
        };
        let planned = self.vars.body_task(origin, &task.body);
        let index = self.out.graph.push(planned, &task.name.value, needs);
        vec![self.owned_gate(index, task.body.gate.as_ref(), None)]
    }

    fn target(&mut self, i: usize) -> Vec<TaskId> {
        let model = self.model;
        let target = &model.config().targets[i];
        let mut needs = self.needs(&target.needs);
        let address = &target.name.value;
        // The target's gate runs after everything the target needs; the
        // target itself is done when the gate passes.
        let gate = target.gate.as_ref().and_then(|g| {
            let gate = self.model.gate(g)?;
            let at = format!("{address}/{}", gate.name.value);
            Some(self.gate(at, gate, TaskKind::Gate, None, std::mem::take(&mut needs)))
        });
        let scope = Scope::task(address);
        let mut planned = self.vars.bare_task(Origin {
            scope,
            address: address.clone(),
            kind: TaskKind::Target,
            group: None,
            declared: target.span,
        });
        planned.description = target
            .description
            .as_ref()
            .map(|d| self.vars.text(&scope, d));
        let index = self
            .out
            .graph
            .push(planned, address, gate.into_iter().chain(needs).collect());
        if let Some(g) = gate {
            self.out.graph.set_owner(g, index);
        }
        vec![index]
    }
}

/// An upper bound on the number of drafts: every part with its own gate,
/// one wave gate per entity.
fn capacity(model: &Model, pipeline: Option<&Pipeline>) -> usize {
    let c = model.config();
    let longest = c.pipelines.iter().map(|p| p.items.len()).max().unwrap_or(0);
    let items = pipeline.map_or(longest, |p| p.items.len());
    let groups: usize = c
        .entity_groups
        .iter()
        .map(|g| g.entities.len() * (g.steps.len() + 2))
        .sum();
    let milestones: usize = c
        .milestones
        .iter()
        .map(|m| 2 * (m.phases.len() + items))
        .sum();
    let rules: usize = (0..c.rules.len()).map(|r| model.rule_files(r).len()).sum();
    2 * (c.tasks.len() + c.targets.len()) + c.gates.len() + groups + milestones + rules
}

/// Items in an order where each comes after everything it needs, ties in
/// file order: Kahn's algorithm with a min-heap on the file offset. Items
/// on the impossible cycle (validation rejects them) are appended last.
fn item_order(model: &Model) -> Vec<Item> {
    let c = model.config();
    let mut items: Vec<Item> = (0..c.tasks.len())
        .map(Item::Task)
        .chain((0..c.gates.len()).map(Item::Gate))
        .chain((0..c.entity_groups.len()).map(Item::Entities))
        .chain((0..c.rules.len()).map(Item::Rule))
        .chain((0..c.milestones.len()).map(Item::Milestone))
        .chain((0..c.targets.len()).map(Item::Target))
        .collect();
    items.sort_by_key(|&item| item_offset(model, item));
    let position: HashMap<Item, usize> = items.iter().enumerate().map(|(i, &it)| (it, i)).collect();
    let mut pending = vec![0usize; items.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for (i, &item) in items.iter().enumerate() {
        for need in item_needs(model, item) {
            if let Ok(address) = model.resolve(need) {
                pending[i] += 1;
                dependents[position[&address.item()]].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..items.len())
        .filter(|&i| pending[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(items.len());
    let mut done = vec![false; items.len()];
    while let Some(Reverse(i)) = ready.pop() {
        order.push(items[i]);
        done[i] = true;
        for &d in &dependents[i] {
            pending[d] -= 1;
            if pending[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
    order.extend((0..items.len()).filter(|&i| !done[i]).map(|i| items[i]));
    order
}

fn item_needs(model: &Model, item: Item) -> &[Spanned<String>] {
    let c = model.config();
    match item {
        Item::Task(i) => &c.tasks[i].body.needs,
        Item::Milestone(i) => &c.milestones[i].needs,
        Item::Target(i) => &c.targets[i].needs,
        Item::Entities(i) => &c.entity_groups[i].needs,
        Item::Rule(i) => &c.rules[i].body.needs,
        Item::Gate(_) => &[],
    }
}

/// Where the item is declared: ties in the plan's order follow the file.
fn item_offset(model: &Model, item: Item) -> usize {
    let c = model.config();
    let span = match item {
        Item::Task(i) => c.tasks[i].span,
        Item::Gate(i) => c.gates[i].span,
        Item::Milestone(i) => c.milestones[i].span,
        Item::Target(i) => c.targets[i].span,
        Item::Entities(i) => c.entity_groups[i].span,
        Item::Rule(i) => c.rules[i].span,
    };
    span.offset()
}
