//! `gate "name" retries=N { check "name" "command" fix="…" optional=#true }`.

use kdl::KdlNode;

use super::values::{Ctx, head_span, parts};
use crate::diagnostic::Diagnostic;
use crate::model::{Check, Command, Gate};

pub(super) const GATE_PROPS: &[&str] = &["retries", "description"];
pub(super) const GATE_CHILDREN: &[&str] = &["check", "retries", "description"];
pub(super) const CHECK_PROPS: &[&str] = &["fix", "optional", "timeout", "retries", "dir"];
pub(super) const CHECK_CHILDREN: &[&str] =
    &["run", "fix", "env", "timeout", "retries", "dir", "optional"];

pub(super) fn decode(ctx: &mut Ctx, node: &KdlNode) -> Option<Gate> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(node, &p.args, 1, "list the checks in a children block");
    let (mut retries, mut description, mut checks) = (None, None, Vec::new());
    for (key, entry) in &p.props {
        match *key {
            "retries" => retries = ctx.count(entry, key, 0),
            "description" => description = ctx.string(entry, key, "description=\"…\""),
            _ => ctx.unknown_prop(node, key, entry, GATE_PROPS),
        }
    }
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        match child.name().value() {
            "check" => checks.extend(check(ctx, child)),
            "retries" => retries = ctx.single(child).and_then(|e| ctx.count(e, "retries", 0)),
            "description" => {
                description = ctx
                    .single(child)
                    .and_then(|e| ctx.string(e, "description", "description \"…\""));
            }
            _ => ctx.unknown_node(child, "`gate`", GATE_CHILDREN),
        }
    }
    let name = name?;
    if checks.is_empty() && node.children().is_none_or(|c| c.nodes().is_empty()) {
        ctx.push(Diagnostic::MissingArgument {
            node: "gate".into(),
            what: "at least one `check`",
            span: head_span(node),
            example: format!(
                "gate \"{}\" {{ check \"test\" \"cargo test\" }}",
                name.value
            ),
        });
    }
    Some(Gate {
        name,
        retries,
        description,
        checks,
        span: head_span(node),
    })
}

fn check(ctx: &mut Ctx, node: &KdlNode) -> Option<Check> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    let mut command = if p.args.len() > 1 {
        ctx.command("check", &p.args[1..], head_span(node))
    } else {
        None
    };
    let mut fix: Option<Command> = None;
    let (mut optional, mut timeout, mut retries, mut dir, mut env) =
        (false, None, None, None, Vec::new());
    for (key, entry) in &p.props {
        match *key {
            "fix" => fix = ctx.command("fix", &[entry], entry.span()),
            "optional" => optional = ctx.boolean(entry, key).unwrap_or(false),
            "timeout" => timeout = ctx.duration(entry, key),
            "retries" => retries = ctx.count(entry, key, 0),
            "dir" => dir = ctx.string(entry, key, "dir=\"crates/api\""),
            _ => ctx.unknown_prop(node, key, entry, CHECK_PROPS),
        }
    }
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        let key = child.name().value();
        match key {
            "run" | "fix" => {
                let cp = parts(child);
                ctx.no_props(child, &cp.props);
                ctx.no_children(child);
                let slot = if key == "run" { &mut command } else { &mut fix };
                if let Some(existing) = slot {
                    ctx.push(Diagnostic::RepeatedSetting {
                        setting: key.into(),
                        first: existing.span,
                        second: child.name().span(),
                    });
                } else if cp.args.is_empty() {
                    ctx.push(Diagnostic::MissingArgument {
                        node: key.into(),
                        what: "a command",
                        span: child.name().span(),
                        example: format!("{key} \"cargo fmt\""),
                    });
                } else {
                    *slot = ctx.command(key, &cp.args, head_span(child));
                }
            }
            "env" => ctx.env(child, &mut env),
            "timeout" => timeout = ctx.single(child).and_then(|e| ctx.duration(e, key)),
            "retries" => retries = ctx.single(child).and_then(|e| ctx.count(e, key, 0)),
            "optional" => {
                optional = ctx
                    .single(child)
                    .and_then(|e| ctx.boolean(e, key))
                    .unwrap_or(false);
            }
            "dir" => {
                dir = ctx
                    .single(child)
                    .and_then(|e| ctx.string(e, key, "dir \"crates/api\""));
            }
            _ => ctx.unknown_node(child, "`check`", CHECK_CHILDREN),
        }
    }
    let name = name?;
    if command.is_none() && p.args.len() <= 1 {
        ctx.push(Diagnostic::MissingArgument {
            node: "check".into(),
            what: "a command",
            span: head_span(node),
            example: format!("check \"{}\" \"cargo test\"", name.value),
        });
    }
    Some(Check {
        name,
        command: command?,
        fix,
        optional,
        timeout,
        retries,
        dir,
        env,
        span: head_span(node),
    })
}
