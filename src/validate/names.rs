//! Duplicate names: the shared namespace (tasks, gates, milestones, targets,
//! entity groups, rules), and each smaller namespace (pools, pipelines, vars, and
//! the parts inside one gate, group, pipeline or milestone).

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::model::{Model, Span, Spanned};

const RESERVED_VARS: &[&str] = &["project", "task", "entity", "milestone", "phase", "args"];

pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let c = model.config();
    let mut shared: Vec<(&Spanned<String>, &'static str)> = c
        .tasks
        .iter()
        .map(|t| (&t.name, "task"))
        .chain(c.gates.iter().map(|g| (&g.name, "gate")))
        .chain(c.milestones.iter().map(|m| (&m.name, "milestone")))
        .chain(c.targets.iter().map(|t| (&t.name, "target")))
        .chain(c.entity_groups.iter().map(|g| (&g.name, "entity group")))
        .chain(c.rules.iter().map(|r| (&r.name, "rule")))
        .collect();
    // In file order, so "first declared" is the one written first whatever
    // its kind.
    shared.sort_by_key(|(name, _)| name.span.offset());
    unique(shared.into_iter(), out);
    unique(c.pools.iter().map(|p| (&p.name, "pool")), out);
    unique(c.pipelines.iter().map(|p| (&p.name, "pipeline")), out);
    unique(c.vars.iter().map(|v| (&v.name, "var")), out);
    for var in &c.vars {
        if RESERVED_VARS.contains(&var.name.as_str()) {
            out.push(Diagnostic::InvalidName {
                name: var.name.value.clone(),
                reason: "it is a built-in template variable",
                help: "choose another name: orchestra sets this variable itself",
                span: var.name.span,
            });
        }
    }
    for gate in &c.gates {
        unique(gate.checks.iter().map(|x| (&x.name, "check")), out);
    }
    for group in &c.entity_groups {
        unique(group.steps.iter().map(|s| (&s.name, "step")), out);
        unique(group.entities.iter().map(|e| (&e.name, "entity")), out);
        for entity in &group.entities {
            unique(entity.properties.iter().map(|(k, _)| (k, "property")), out);
        }
    }
    for pipeline in &c.pipelines {
        let stages = pipeline.items.iter().filter_map(|item| match item {
            crate::model::PipelineItem::Stage(s) => Some((&s.name, "stage")),
            _ => None,
        });
        unique(stages, out);
    }
    for milestone in &c.milestones {
        unique(milestone.phases.iter().map(|p| (&p.name, "phase")), out);
    }
}

/// Reports every name declared a second time, pointing at both places.
fn unique<'a>(
    names: impl Iterator<Item = (&'a Spanned<String>, &'static str)>,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<&str, (Span, &'static str)> = HashMap::new();
    for (name, kind) in names {
        if name.is_empty() {
            continue;
        }
        if let Some(&(first, first_kind)) = seen.get(name.as_str()) {
            out.push(Diagnostic::DuplicateName {
                name: name.value.clone(),
                kind,
                first_kind,
                first,
                second: name.span,
            });
        } else {
            seen.insert(name.as_str(), (name.span, kind));
        }
    }
}
