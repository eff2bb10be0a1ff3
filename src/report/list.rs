//! `orchestra check`'s summary line and `orchestra list` (columns or JSON).

use std::fmt::Write;

use serde_json::{Value, json};

use crate::model::{Model, Spanned, entity_waves};
use crate::words::plural as pluralize;

/// `orchestra.kdl: ok — 4 entities, 2 milestones, 1 gate, 1 task, 1 target`.
pub(crate) fn check_summary(file: &str, model: &Model, warnings: usize) -> String {
    let c = model.config();
    let entities: usize = c.entity_groups.iter().map(|g| g.entities.len()).sum();
    let mut line = format!(
        "{file}: ok — {}, {}, {}, {}, {}",
        pluralize(entities, "entity"),
        pluralize(c.milestones.len(), "milestone"),
        pluralize(c.gates.len(), "gate"),
        pluralize(c.tasks.len(), "task"),
        pluralize(c.targets.len(), "target"),
    );
    if !c.rules.is_empty() {
        let files: usize = (0..c.rules.len()).map(|r| model.rule_files(r).len()).sum();
        let _ = write!(
            line,
            ", {} over {}",
            pluralize(c.rules.len(), "rule"),
            pluralize(files, "file")
        );
    }
    if warnings > 0 {
        let _ = write!(line, " ({})", pluralize(warnings, "warning"));
    }
    line
}

/// One section of the listing: a title and rows of (name, detail, description).
struct Section {
    title: &'static str,
    rows: Vec<[String; 3]>,
}

fn sections(model: &Model) -> Vec<Section> {
    let c = model.config();
    let describe =
        |d: &Option<Spanned<String>>| d.as_ref().map(|d| d.value.clone()).unwrap_or_default();
    let mut out = Vec::new();
    out.push(Section {
        title: "targets",
        rows: c
            .targets
            .iter()
            .map(|t| {
                let needs: Vec<&str> = t.needs.iter().map(Spanned::as_str).collect();
                let mut detail = if needs.is_empty() {
                    String::new()
                } else {
                    format!("needs {}", needs.join(", "))
                };
                if let Some(g) = &t.gate {
                    let _ = write!(
                        detail,
                        "{}gate {}",
                        if detail.is_empty() { "" } else { "; " },
                        g.value
                    );
                }
                [t.name.value.clone(), detail, describe(&t.description)]
            })
            .collect(),
    });
    out.push(Section {
        title: "milestones",
        rows: c
            .milestones
            .iter()
            .map(|m| {
                let level = complexity_label(model, m);
                let detail = format!("{level}, {}", pluralize(m.phases.len(), "phase"));
                [m.name.value.clone(), detail, describe(&m.description)]
            })
            .collect(),
    });
    out.push(Section {
        title: "entities",
        rows: entity_rows(model),
    });
    out.push(Section {
        title: "gates",
        rows: c
            .gates
            .iter()
            .map(|g| {
                let checks: Vec<&str> = g.checks.iter().map(|k| k.name.as_str()).collect();
                [
                    g.name.value.clone(),
                    checks.join(", "),
                    describe(&g.description),
                ]
            })
            .collect(),
    });
    out.push(Section {
        title: "tasks",
        rows: c
            .tasks
            .iter()
            .map(|t| {
                let needs: Vec<&str> = t.body.needs.iter().map(Spanned::as_str).collect();
                let detail = if needs.is_empty() {
                    String::new()
                } else {
                    format!("needs {}", needs.join(", "))
                };
                [t.name.value.clone(), detail, describe(&t.body.description)]
            })
            .collect(),
    });
    out.push(Section {
        title: "rules",
        rows: rule_rows(model),
    });
    out.push(Section {
        title: "pools",
        rows: c
            .pools
            .iter()
            .map(|p| {
                [
                    p.name.value.clone(),
                    format!("depth {}", p.depth.value),
                    String::new(),
                ]
            })
            .collect(),
    });
    out
}

/// One row per rule: its patterns and how many files they matched.
fn rule_rows(model: &Model) -> Vec<[String; 3]> {
    let rules = &model.config().rules;
    rules
        .iter()
        .enumerate()
        .map(|(r, rule)| {
            let patterns: Vec<&str> = rule.foreach.iter().map(|f| f.pattern.as_str()).collect();
            let files = pluralize(model.rule_files(r).len(), "file");
            let description = rule.body.description.as_ref();
            [
                rule.name.value.clone(),
                format!("{} ({files})", patterns.join(" ")),
                description.map(|d| d.value.clone()).unwrap_or_default(),
            ]
        })
        .collect()
}

/// One row per entity, addressed `group/entity`, with its wave.
fn entity_rows(model: &Model) -> Vec<[String; 3]> {
    let mut entity_rows = Vec::new();
    for group in &model.config().entity_groups {
        let waves = entity_waves(group);
        for (entity, wave) in group.entities.iter().zip(waves) {
            let relations: Vec<&str> = entity.relations.iter().map(Spanned::as_str).collect();
            let description = if relations.is_empty() {
                String::new()
            } else {
                format!("relates to {}", relations.join(", "))
            };
            entity_rows.push([
                format!("{}/{}", group.name.value, entity.name.value),
                format!("wave {wave}"),
                description,
            ]);
        }
    }
    entity_rows
}

/// The milestone's pipeline as listed: `full`, `standard (default)`, or
/// `phases only` when no pipeline applies.
fn complexity_label(model: &Model, milestone: &crate::model::Milestone) -> String {
    match (&milestone.complexity, &model.config().project.complexity) {
        (Some(own), _) => own.value.clone(),
        (None, Some(default)) => format!("{} (default)", default.value),
        (None, None) => "phases only".into(),
    }
}

/// Aligned columns, one section per kind; empty sections are left out.
pub(crate) fn list_text(model: &Model) -> String {
    let sections = sections(model);
    let width = |col: usize| {
        sections
            .iter()
            .flat_map(|s| &s.rows)
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    let mut out = String::new();
    for section in sections.iter().filter(|s| !s.rows.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{}:", section.title);
        for [name, detail, description] in &section.rows {
            let line = format!("  {name:<w0$}  {detail:<w1$}  {description}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    if out.is_empty() {
        out.push_str("nothing declared\n");
    }
    out
}

/// The same as [`list_text`] as one JSON object (schema: docs/cli.md).
pub(crate) fn list_json(file: &str, model: &Model) -> Value {
    let c = model.config();
    let text = |d: &Option<Spanned<String>>| d.as_ref().map(|d| d.value.clone());
    let names = |v: &[Spanned<String>]| v.iter().map(|n| n.value.clone()).collect::<Vec<_>>();
    let mut entities = Vec::new();
    for group in &c.entity_groups {
        for (entity, wave) in group.entities.iter().zip(entity_waves(group)) {
            let properties: serde_json::Map<String, Value> = entity
                .properties
                .iter()
                .map(|(k, v)| (k.value.clone(), Value::String(v.value.clone())))
                .collect();
            entities.push(json!({
                "address": format!("{}/{}", group.name.value, entity.name.value),
                "group": group.name.value,
                "name": entity.name.value,
                "wave": wave,
                "relations": names(&entity.relations),
                "properties": properties,
            }));
        }
    }
    json!({
        "version": 1,
        "file": file,
        "project": model.project_name(),
        "default": text(&c.project.default),
        "targets": c.targets.iter().map(|t| json!({
            "name": t.name.value,
            "description": text(&t.description),
            "needs": names(&t.needs),
            "gate": text(&t.gate),
        })).collect::<Vec<_>>(),
        "milestones": c.milestones.iter().map(|m| json!({
            "name": m.name.value,
            "description": text(&m.description),
            "complexity": m.complexity.as_ref().or(c.project.complexity.as_ref()).map(|l| l.value.clone()),
            "needs": names(&m.needs),
            "phases": m.phases.iter().map(|p| p.name.value.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "entities": entities,
        "gates": c.gates.iter().map(|g| json!({
            "name": g.name.value,
            "description": text(&g.description),
            "retries": g.retries.as_ref().map_or(0, |r| r.value),
            "checks": g.checks.iter().map(|k| json!({
                "name": k.name.value,
                "optional": k.optional,
                "has_fix": k.fix.is_some(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "tasks": c.tasks.iter().map(|t| json!({
            "name": t.name.value,
            "description": text(&t.body.description),
            "needs": names(&t.body.needs),
        })).collect::<Vec<_>>(),
        "rules": c.rules.iter().enumerate().map(|(r, rule)| json!({
            "name": rule.name.value,
            "description": text(&rule.body.description),
            "needs": names(&rule.body.needs),
            "foreach": rule.foreach.iter().map(|f| f.pattern.value.clone()).collect::<Vec<_>>(),
            "tasks": model.rule_files(r).iter().map(|f| json!({
                "address": format!("{}/{}", rule.name.value, f.member),
                "file": f.path,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "pools": c.pools.iter().map(|p| json!({
            "name": p.name.value,
            "depth": p.depth.value,
        })).collect::<Vec<_>>(),
    })
}
