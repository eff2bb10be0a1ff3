//! Dependency cycles of `needs` (between top-level items), `relation`
//! (between the entities of a group) and `depends-on` (between the phases of
//! a milestone). Each cycle is reported once with the whole loop, every edge
//! labelled at the span that declares it.

use std::collections::{HashMap, HashSet, VecDeque};

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::diagnostic::{CycleEdge, Diagnostic};
use crate::model::{Item, Model, Span};

pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    needs(model, out);
    let c = model.config();
    for group in &c.entity_groups {
        let names: Vec<&str> = group.entities.iter().map(|e| e.name.as_str()).collect();
        let edges = group.entities.iter().enumerate().flat_map(|(i, e)| {
            let names = &names;
            e.relations.iter().filter_map(move |r| {
                names
                    .iter()
                    .position(|n| *n == r.as_str())
                    .map(|j| (i, j, r.span))
            })
        });
        report("relation", &names, edges, out);
    }
    for milestone in &c.milestones {
        let names: Vec<&str> = milestone.phases.iter().map(|p| p.name.as_str()).collect();
        let edges = milestone.phases.iter().enumerate().flat_map(|(i, p)| {
            let names = &names;
            // A phase without `depends-on` follows the previous one: that
            // edge can close a loop with a `depends-on` naming a later phase.
            let follows = (i > 0 && p.depends_on.is_none()).then(|| (i, i - 1, p.name.span));
            p.depends_on
                .iter()
                .flatten()
                .filter_map(move |d| {
                    names
                        .iter()
                        .position(|n| *n == d.as_str())
                        .map(|j| (i, j, d.span))
                })
                .chain(follows)
        });
        report("depends-on", &names, edges, out);
    }
}

/// `needs` edges between top-level items; an address with parts counts as
/// its item (`M1/schema` is inside `M1`).
fn needs(model: &Model, out: &mut Vec<Diagnostic>) {
    let c = model.config();
    let mut names: Vec<&str> = Vec::new();
    let mut index: HashMap<Item, usize> = HashMap::new();
    let mut owners: Vec<(Item, &str, &[crate::model::Spanned<String>])> = Vec::new();
    for (i, t) in c.tasks.iter().enumerate() {
        owners.push((Item::Task(i), &t.name, &t.body.needs));
    }
    for (i, t) in c.targets.iter().enumerate() {
        owners.push((Item::Target(i), &t.name, &t.needs));
    }
    for (i, m) in c.milestones.iter().enumerate() {
        owners.push((Item::Milestone(i), &m.name, &m.needs));
    }
    for (i, g) in c.entity_groups.iter().enumerate() {
        owners.push((Item::Entities(i), &g.name, &g.needs));
    }
    for (i, r) in c.rules.iter().enumerate() {
        owners.push((Item::Rule(i), &r.name, &r.body.needs));
    }
    for (item, name, _) in &owners {
        index.insert(*item, names.len());
        names.push(name);
    }
    let mut edges = Vec::new();
    for (item, _, needs) in &owners {
        for need in *needs {
            if let Ok(address) = model.resolve(need)
                && let Some(&j) = index.get(&address.item())
            {
                edges.push((index[item], j, need.span));
            }
        }
    }
    report("needs", &names, edges.into_iter(), out);
}

/// Builds the graph and reports one loop per strongly connected component.
fn report(
    via: &'static str,
    names: &[&str],
    edges: impl Iterator<Item = (usize, usize, Span)>,
    out: &mut Vec<Diagnostic>,
) {
    let mut graph: DiGraph<(), Span> = DiGraph::with_capacity(names.len(), 0);
    for _ in names {
        graph.add_node(());
    }
    for (from, to, span) in edges {
        graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), span);
    }
    let mut sccs = kosaraju_scc(&graph);
    // Report in file order, whatever order the search found them in.
    for scc in &mut sccs {
        scc.sort();
    }
    sccs.sort();
    for scc in sccs {
        let start = scc[0];
        let cyclic = scc.len() > 1 || graph.edges(start).any(|e| e.target() == start);
        if !cyclic {
            continue;
        }
        let path = shortest_loop(&graph, start, &scc);
        out.push(Diagnostic::Cycle {
            via,
            edges: path
                .into_iter()
                .map(|(from, to, span)| CycleEdge {
                    from: names[from.index()].into(),
                    to: names[to.index()].into(),
                    span,
                })
                .collect(),
        });
    }
}

/// The shortest loop from `start` back to itself within one component,
/// found breadth-first, as `(from, to, span)` edges in order.
fn shortest_loop(
    graph: &DiGraph<(), Span>,
    start: NodeIndex,
    scc: &[NodeIndex],
) -> Vec<(NodeIndex, NodeIndex, Span)> {
    if let Some(e) = graph.edges(start).find(|e| e.target() == start) {
        return vec![(start, start, *e.weight())];
    }
    let members: HashSet<NodeIndex> = scc.iter().copied().collect();
    let mut parent: HashMap<NodeIndex, (NodeIndex, Span)> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        // Edges in declaration order, so the loop follows the file.
        let mut out: Vec<_> = graph.edges(node).collect();
        out.sort_by_key(EdgeRef::id);
        for edge in out {
            let next = edge.target();
            if !members.contains(&next) || parent.contains_key(&next) {
                continue;
            }
            parent.insert(next, (node, *edge.weight()));
            if next == start {
                let mut path = Vec::new();
                let mut at = start;
                loop {
                    let (prev, span) = parent[&at];
                    path.push((prev, at, span));
                    at = prev;
                    if at == start {
                        break;
                    }
                }
                path.reverse();
                return path;
            }
            queue.push_back(next);
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Diagnostic;
    use crate::validate::{Options, validate};

    #[test]
    fn following_the_previous_phase_can_close_a_loop() {
        let kdl = r#"milestone "m" {
            phase "a" depends-on="b" { run "x"; }
            phase "b" { run "y"; }
        }"#;
        let (config, _) = crate::config::load_str(kdl);
        let options = Options {
            check_programs: false,
        };
        let (model, found) = validate(config.unwrap(), kdl, "p", options);
        assert!(model.is_none());
        let Some(Diagnostic::Cycle { via, edges }) = found.first() else {
            panic!("{found:?}");
        };
        assert_eq!(*via, "depends-on");
        let path: Vec<(&str, &str)> = edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(path, [("a", "b"), ("b", "a")]);
    }
}
