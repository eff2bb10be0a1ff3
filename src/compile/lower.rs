//! Lowering the whole model into the draft graph: the order of top-level
//! items, how a `needs` address turns into edges, and the small items
//! (tasks, targets, gates built alone). Entity groups and milestones have
//! their own files.
//!
//! Items are lowered in an order where everything an item needs comes
//! first (validation rejected `needs` cycles), so an address always
//! resolves to tasks that already exist.

use std::collections::HashMap;

use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};

use super::SelectionError;
use super::graph::{Graph, Part};
use super::templates::{Origin, Scope, Vars};
use crate::model::{Address, Item, Model, Pipeline, Spanned, Task};
use crate::plan::TaskKind;

/// The whole model as drafts, and where each addressable part landed.
#[derive(Debug, Default)]
pub(super) struct Lowered {
    pub(super) graph: Graph,
    pub(super) items: HashMap<Item, Part>,
    /// `[milestone][phase]`, the phase and its own gate.
    pub(super) phases: Vec<Vec<Part>>,
    /// `[group][entity]`, the entity's steps then its `each` gate.
    pub(super) entities: Vec<Vec<Part>>,
}

/// The lowering in progress.
pub(super) struct Lowering<'m> {
    pub(super) model: &'m Model,
    pub(super) vars: &'m Vars<'m>,
    /// `--complexity`: replaces every milestone's pipeline.
    pub(super) pipeline: Option<&'m Pipeline>,
    pub(super) out: Lowered,
}

/// Lowers every item of `model`.
pub(super) fn lower<'m>(
    model: &'m Model,
    vars: &'m Vars<'m>,
    pipeline: Option<&'m Pipeline>,
) -> Result<Lowered, SelectionError> {
    let c = model.config();
    let mut l = Lowering {
        model,
        vars,
        pipeline,
        out: Lowered {
            phases: vec![Vec::new(); c.milestones.len()],
            entities: vec![Vec::new(); c.entity_groups.len()],
            ..Lowered::default()
        },
    };
    for item in item_order(model) {
        let start = l.out.graph.next();
        l.out.graph.item_offset = item_offset(model, item);
        let ends = match item {
            Item::Task(i) => l.task(&c.tasks[i]),
            Item::Gate(i) => {
                let gate = &c.gates[i];
                vec![l.gate(&gate.name.value, gate, TaskKind::Gate, None, Vec::new())]
            }
            Item::Milestone(i) => l.milestone(i),
            Item::Target(i) => l.target(i),
            Item::Entities(i) => l.entity_group(i),
        };
        let tasks = start..l.out.graph.next();
        l.out.items.insert(item, Part { tasks, ends });
    }
    if let Some(address) = l.out.graph.collision.take() {
        let level = pipeline.map(|p| p.name.value.clone()).unwrap_or_default();
        return Err(SelectionError::AddressCollision { address, level });
    }
    Ok(l.out)
}

impl Lowering<'_> {
    /// The tasks a list of `needs` addresses waits for.
    pub(super) fn needs(&self, needs: &[Spanned<String>]) -> Vec<usize> {
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
    fn ends(&self, address: Address, out: &mut Vec<usize>) {
        let o = &self.out;
        let part = match address {
            Address::Item(item) => o.items.get(&item),
            Address::Phase { milestone, phase } => o.phases[milestone].get(phase),
            Address::Entity { group, entity } => o.entities[group].get(entity),
            Address::Step {
                group,
                entity,
                step,
            } => {
                // An entity part holds its steps first, in order.
                if let Some(part) = o.entities[group].get(entity) {
                    out.push(part.tasks.start + step);
                }
                return;
            }
        };
        if let Some(part) = part {
            out.extend_from_slice(&part.ends);
        }
    }

    fn task(&mut self, task: &Task) -> Vec<usize> {
        let needs = self.needs(&task.body.needs);
        let address = task.name.value.clone();
        let origin = Origin {
            scope: Scope::task(&address),
            address: address.clone(),
            kind: TaskKind::Task,
            group: None,
            declared: task.span,
        };
        let planned = self.vars.body_task(origin, &task.body);
        let index = self.out.graph.push(planned, &address, needs);
        vec![self.owned_gate(index, task.body.gate.as_ref(), None)]
    }

    fn target(&mut self, i: usize) -> Vec<usize> {
        let target = &self.model.config().targets[i];
        let mut needs = self.needs(&target.needs);
        let address = target.name.value.clone();
        // The target's gate runs after everything the target needs; the
        // target itself is done when the gate passes.
        let gate = target.gate.as_ref().and_then(|g| {
            let gate = self.model.gate(g)?;
            let at = format!("{address}/{}", gate.name.value);
            Some(self.gate(&at, gate, TaskKind::Gate, None, std::mem::take(&mut needs)))
        });
        let scope = Scope::task(&address);
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
            .push(planned, &address, gate.into_iter().chain(needs).collect());
        if let Some(g) = gate {
            self.out.graph.drafts[g].owner = Some(index);
        }
        vec![index]
    }
}

/// Items in an order where each comes after everything it needs; ties and
/// the impossible cycle fall back to file order.
fn item_order(model: &Model) -> Vec<Item> {
    let c = model.config();
    let mut items: Vec<Item> = (0..c.tasks.len())
        .map(Item::Task)
        .chain((0..c.gates.len()).map(Item::Gate))
        .chain((0..c.entity_groups.len()).map(Item::Entities))
        .chain((0..c.milestones.len()).map(Item::Milestone))
        .chain((0..c.targets.len()).map(Item::Target))
        .collect();
    items.sort_by_key(|&item| item_offset(model, item));
    let mut graph: DiGraph<Item, ()> = DiGraph::with_capacity(items.len(), 0);
    let nodes: HashMap<Item, NodeIndex> = items.iter().map(|&i| (i, graph.add_node(i))).collect();
    for &item in &items {
        for need in item_needs(model, item) {
            if let Ok(address) = model.resolve(need) {
                graph.add_edge(nodes[&address.item()], nodes[&item], ());
            }
        }
    }
    match toposort(&graph, None) {
        Ok(order) => order.into_iter().map(|n| graph[n]).collect(),
        Err(_) => items,
    }
}

fn item_needs(model: &Model, item: Item) -> &[Spanned<String>] {
    let c = model.config();
    match item {
        Item::Task(i) => &c.tasks[i].body.needs,
        Item::Milestone(i) => &c.milestones[i].needs,
        Item::Target(i) => &c.targets[i].needs,
        Item::Entities(i) => &c.entity_groups[i].needs,
        Item::Gate(_) => &[],
    }
}

/// Where the item is declared: ties in the plan's order follow the file.
pub(super) fn item_offset(model: &Model, item: Item) -> usize {
    let c = model.config();
    let span = match item {
        Item::Task(i) => c.tasks[i].span,
        Item::Gate(i) => c.gates[i].span,
        Item::Milestone(i) => c.milestones[i].span,
        Item::Target(i) => c.targets[i].span,
        Item::Entities(i) => c.entity_groups[i].span,
    };
    span.offset()
}
