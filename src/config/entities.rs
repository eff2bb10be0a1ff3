//! `entities ["name"] { needs …; each { step …; gate … }; wave-gate …;
//! entity "name" key="value" { relation … } }`.

use kdl::KdlNode;

use super::body::{self, STEP};
use super::values::{Ctx, head_span, parts};
use crate::diagnostic::Diagnostic;
use crate::model::{Entity, EntityGroup, Span, Spanned, Step};

pub(super) const CHILDREN: &[&str] = &["needs", "each", "wave-gate", "entity"];
pub(super) const EACH_CHILDREN: &[&str] = &["step", "gate"];
pub(super) const ENTITY_CHILDREN: &[&str] = &["relation"];
/// Built-in template names an entity property may not shadow.
pub(super) const RESERVED: &[&str] = &["project", "task", "entity", "milestone", "phase", "args"];

pub(super) fn decode(ctx: &mut Ctx, node: &KdlNode) -> EntityGroup {
    let p = parts(node);
    let name = match p.args.first() {
        Some(entry) => ctx.name(entry, "entities"),
        None => None,
    }
    .unwrap_or_else(|| Spanned::new("entities".into(), node.name().span()));
    ctx.extra_args(node, &p.args, 1, "`entities` takes at most a group name");
    ctx.no_props(node, &p.props);
    let mut group = EntityGroup {
        name,
        needs: Vec::new(),
        steps: Vec::new(),
        each_gate: None,
        wave_gate: None,
        entities: Vec::new(),
        span: head_span(node),
    };
    let mut each_span: Option<Span> = None;
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        match child.name().value() {
            "needs" => group.needs.extend(ctx.strings(child, "an address")),
            "each" => {
                if let Some(first) = each_span {
                    ctx.push(Diagnostic::RepeatedSetting {
                        setting: "each".into(),
                        first,
                        second: child.name().span(),
                    });
                } else {
                    each_span = Some(child.name().span());
                    each(ctx, child, &mut group);
                }
            }
            "wave-gate" => {
                if let Some(e) = ctx.single(child) {
                    group.wave_gate = ctx.name(e, "wave-gate");
                }
            }
            "entity" => group.entities.extend(entity(ctx, child)),
            _ => ctx.unknown_node(child, "`entities`", CHILDREN),
        }
    }
    group
}

fn each(ctx: &mut Ctx, node: &KdlNode, group: &mut EntityGroup) {
    let p = parts(node);
    ctx.extra_args(node, &p.args, 0, "`each` takes only a children block");
    ctx.no_props(node, &p.props);
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        match child.name().value() {
            "step" => group.steps.extend(step(ctx, child)),
            "gate" => {
                if let Some(e) = ctx.single(child) {
                    group.each_gate = ctx.name(e, "gate");
                }
            }
            _ => ctx.unknown_node(child, "`each`", EACH_CHILDREN),
        }
    }
}

fn step(ctx: &mut Ctx, node: &KdlNode) -> Option<Step> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    let mut decoded = body::decode(ctx, node, &STEP);
    if p.args.len() > 1 {
        let inline = ctx.command("step", &p.args[1..], head_span(node));
        decoded.body.run.splice(0..0, inline);
    }
    let name = name?;
    if decoded.body.run.is_empty() && p.args.len() <= 1 {
        ctx.push(Diagnostic::MissingArgument {
            node: "step".into(),
            what: "a command",
            span: head_span(node),
            example: format!(
                "step \"{}\" \"sh scripts/{}.sh {{entity}}\"",
                name.value, name.value
            ),
        });
    }
    Some(Step {
        name,
        body: decoded.body,
        span: head_span(node),
    })
}

fn entity(ctx: &mut Ctx, node: &KdlNode) -> Option<Entity> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(
        node,
        &p.args,
        1,
        "write entity data as properties: entity \"tag\" fields=\"…\"",
    );
    let mut properties = Vec::new();
    for (key, entry) in &p.props {
        let key_span = entry.name().map_or(entry.span(), kdl::KdlIdentifier::span);
        if RESERVED.contains(key) {
            ctx.push(Diagnostic::InvalidName {
                name: (*key).into(),
                reason: "it is a built-in template variable",
                help: "choose another property name: orchestra sets this variable itself",
                span: key_span,
            });
        } else if let Some(value) = ctx.text(entry, key) {
            properties.push((Spanned::new((*key).to_owned(), key_span), value));
        }
    }
    let mut relations = Vec::new();
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        if child.name().value() == "relation" {
            relations.extend(ctx.strings(child, "an entity name"));
        } else {
            ctx.unknown_node(child, "`entity`", ENTITY_CHILDREN);
        }
    }
    Some(Entity {
        name: name?,
        properties,
        relations,
        span: head_span(node),
    })
}
