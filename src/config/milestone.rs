//! `pipeline "level" { stage …; phases; gate … }` and
//! `milestone "name" complexity="level" { needs …; phase … }`.

use kdl::KdlNode;

use super::body::{self, PHASE, STAGE};
use super::values::{Ctx, head_span, parts};
use crate::diagnostic::Diagnostic;
use crate::model::{Milestone, Phase, Pipeline, PipelineItem, Span, Spanned, Stage};

pub(super) const PIPELINE_CHILDREN: &[&str] = &["stage", "phases", "gate", "phase-gate"];
pub(super) const MILESTONE_PROPS: &[&str] = &["complexity", "description", "phase-gate"];
pub(super) const MILESTONE_CHILDREN: &[&str] =
    &["needs", "phase", "complexity", "description", "phase-gate"];

pub(super) fn pipeline(ctx: &mut Ctx, node: &KdlNode) -> Option<Pipeline> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(node, &p.args, 1, "list the stages in a children block");
    ctx.no_props(node, &p.props);
    let mut items = Vec::new();
    let mut phase_gate = None;
    let mut phases_at: Option<Span> = None;
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        match child.name().value() {
            "stage" => items.extend(stage(ctx, child).map(|s| PipelineItem::Stage(Box::new(s)))),
            "phases" => {
                let cp = parts(child);
                ctx.extra_args(
                    child,
                    &cp.args,
                    0,
                    "`phases` stands alone: it marks where the milestone's phases go",
                );
                ctx.no_props(child, &cp.props);
                ctx.no_children(child);
                let span = child.name().span();
                if let Some(first) = phases_at {
                    ctx.push(Diagnostic::RepeatedSetting {
                        setting: "phases".into(),
                        first,
                        second: span,
                    });
                } else {
                    phases_at = Some(span);
                    items.push(PipelineItem::Phases(span));
                }
            }
            "gate" => {
                if let Some(e) = ctx.single(child) {
                    items.extend(ctx.name(e, "gate").map(PipelineItem::Gate));
                }
            }
            "phase-gate" => {
                let gate = ctx.single(child).and_then(|e| ctx.name(e, "phase-gate"));
                set_once(ctx, &mut phase_gate, gate);
            }
            _ => ctx.unknown_node(child, "`pipeline`", PIPELINE_CHILDREN),
        }
    }
    Some(Pipeline {
        name: name?,
        items,
        phase_gate,
        span: head_span(node),
    })
}

/// `phase-gate` given once: a second (as property and child, or twice)
/// is a repeated setting, not a silent override.
fn set_once(ctx: &mut Ctx, slot: &mut Option<Spanned<String>>, value: Option<Spanned<String>>) {
    let Some(value) = value else {
        return;
    };
    if let Some(first) = slot {
        ctx.push(Diagnostic::RepeatedSetting {
            setting: "phase-gate".into(),
            first: first.span,
            second: value.span,
        });
    } else {
        *slot = Some(value);
    }
}

fn stage(ctx: &mut Ctx, node: &KdlNode) -> Option<Stage> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    let mut decoded = body::decode(ctx, node, &STAGE);
    if p.args.len() > 1 {
        let inline = ctx.command("stage", &p.args[1..], head_span(node));
        decoded.body.run.splice(0..0, inline);
    }
    let name = name?;
    if decoded.body.run.is_empty() && p.args.len() <= 1 {
        ctx.push(Diagnostic::MissingArgument {
            node: "stage".into(),
            what: "a command",
            span: head_span(node),
            example: format!(
                "stage \"{}\" \"sh scripts/{}.sh {{milestone}}\"",
                name.value, name.value
            ),
        });
    }
    Some(Stage {
        name,
        body: decoded.body,
        span: head_span(node),
    })
}

pub(super) fn milestone(ctx: &mut Ctx, node: &KdlNode) -> Option<Milestone> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(
        node,
        &p.args,
        1,
        "declare phases in a children block: milestone \"M1\" { phase … }",
    );
    let (mut complexity, mut description, mut needs, mut phases) =
        (None, None, Vec::new(), Vec::new());
    let mut phase_gate = None;
    for (key, entry) in &p.props {
        match *key {
            "complexity" => complexity = ctx.name(entry, key),
            "phase-gate" => {
                let gate = ctx.name(entry, key);
                set_once(ctx, &mut phase_gate, gate);
            }
            "description" => description = ctx.string(entry, key, "description=\"…\""),
            _ => ctx.unknown_prop(node, key, entry, MILESTONE_PROPS),
        }
    }
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        match child.name().value() {
            "needs" => needs.extend(ctx.strings(child, "an address")),
            "phase" => phases.extend(phase(ctx, child)),
            "complexity" => complexity = ctx.single(child).and_then(|e| ctx.name(e, "complexity")),
            "phase-gate" => {
                let gate = ctx.single(child).and_then(|e| ctx.name(e, "phase-gate"));
                set_once(ctx, &mut phase_gate, gate);
            }
            "description" => {
                description = ctx
                    .single(child)
                    .and_then(|e| ctx.string(e, "description", "description \"…\""));
            }
            _ => ctx.unknown_node(child, "`milestone`", MILESTONE_CHILDREN),
        }
    }
    Some(Milestone {
        name: name?,
        complexity,
        description,
        needs,
        phases,
        phase_gate,
        span: head_span(node),
    })
}

fn phase(ctx: &mut Ctx, node: &KdlNode) -> Option<Phase> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(
        node,
        &p.args,
        1,
        "put the command in a child: phase \"name\" { run \"…\" }",
    );
    let decoded = body::decode(ctx, node, &PHASE);
    Some(Phase {
        name: name?,
        body: decoded.body,
        depends_on: decoded.depends_on,
        span: head_span(node),
    })
}
