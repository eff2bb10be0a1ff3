//! The small node kinds: `vars`, `pool`, `task`, `rule`, `target`.

use kdl::KdlNode;

use super::body::{self, RULE, TASK};
use super::values::{Ctx, head_span, parts};
use crate::diagnostic::Diagnostic;
use crate::model::{Foreach, Pool, Rule, Spanned, Target, Task, Var};

/// `vars { name "value" … }`.
pub(super) fn vars(ctx: &mut Ctx, node: &KdlNode, into: &mut Vec<Var>) {
    let p = parts(node);
    ctx.no_props(node, &p.props);
    ctx.extra_args(
        node,
        &p.args,
        0,
        "write each variable as a child: vars { crate \"shop\" }",
    );
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        let name = child.name().value();
        let value = ctx.single(child).and_then(|entry| ctx.text(entry, name));
        // Kept even when its value is wrong (already reported), so uses of
        // `{name}` are not reported as unknown too.
        into.push(Var {
            name: Spanned::new(name.to_owned(), child.name().span()),
            value: value.unwrap_or_else(|| Spanned::new(String::new(), child.name().span())),
        });
    }
}

/// What a `pool` takes: only its depth.
pub(super) const POOL_PROPS: &[&str] = &["depth"];

/// `pool "name" depth=N`.
pub(super) fn pool(ctx: &mut Ctx, node: &KdlNode) -> Option<Pool> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(
        node,
        &p.args,
        1,
        "write the depth as a property: pool \"db\" depth=1",
    );
    ctx.no_children(node);
    let mut depth = None;
    let mut depth_seen = false;
    for (key, entry) in &p.props {
        if *key == "depth" {
            depth_seen = true;
            depth = ctx.count(entry, "depth", 1);
        } else {
            ctx.unknown_prop(node, key, entry, POOL_PROPS);
        }
    }
    if !depth_seen {
        ctx.push(Diagnostic::MissingArgument {
            node: "pool".into(),
            what: "a `depth=N` property",
            span: head_span(node),
            example: "pool \"database\" depth=1".into(),
        });
    }
    // A wrong or missing depth was reported; the pool is kept so that uses
    // of its name are not reported as unknown too.
    Some(Pool {
        name: name?,
        depth: depth.unwrap_or_else(|| Spanned::new(1, head_span(node))),
        span: head_span(node),
    })
}

/// `task "name" { … }`.
pub(super) fn task(ctx: &mut Ctx, node: &KdlNode) -> Option<Task> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(
        node,
        &p.args,
        1,
        "put the command in a child: task \"name\" { run \"…\" }",
    );
    let decoded = body::decode(ctx, node, &TASK);
    Some(Task {
        name: name?,
        body: decoded.body,
        span: head_span(node),
    })
}

/// `rule "name" { foreach "src/*.c"; run …; outputs … }`.
pub(super) fn rule(ctx: &mut Ctx, node: &KdlNode) -> Option<Rule> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(
        node,
        &p.args,
        1,
        "put the files and the command in children: rule \"cc\" { foreach \"src/*.c\"; run \"…\" }",
    );
    let decoded = body::decode(ctx, node, &RULE);
    if decoded.foreach.is_empty() {
        ctx.push(Diagnostic::MissingArgument {
            node: "rule".into(),
            what: "a `foreach` child naming its files",
            span: head_span(node),
            example: "rule \"cc\" { foreach \"src/*.c\"; run \"cc -c {in} -o {out}\"; outputs \"build/{stem}.o\" }".into(),
        });
    }
    let foreach = decoded
        .foreach
        .into_iter()
        .map(|pattern| Foreach {
            pattern,
            matched: Ok(Vec::new()),
        })
        .collect();
    Some(Rule {
        name: name?,
        foreach,
        body: decoded.body,
        span: head_span(node),
    })
}

pub(super) const TARGET_PROPS: &[&str] = &["description", "gate"];
pub(super) const TARGET_CHILDREN: &[&str] = &["description", "needs", "gate"];

/// `target "name" { description …; needs …; gate … }`.
pub(super) fn target(ctx: &mut Ctx, node: &KdlNode) -> Option<Target> {
    let p = parts(node);
    let name = ctx.node_name(node, &p);
    ctx.extra_args(
        node,
        &p.args,
        1,
        "list what it builds in a child: target \"ci\" { needs \"a\" }",
    );
    let (mut description, mut gate, mut needs) = (None, None, Vec::new());
    for (key, entry) in &p.props {
        match *key {
            "description" => description = ctx.string(entry, key, "description=\"…\""),
            "gate" => gate = ctx.name(entry, key),
            _ => ctx.unknown_prop(node, key, entry, TARGET_PROPS),
        }
    }
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        match child.name().value() {
            "needs" => needs.extend(ctx.strings(child, "an address")),
            "description" => {
                if let Some(e) = ctx.single(child) {
                    description = ctx.string(e, "description", "description \"…\"");
                }
            }
            "gate" => {
                if let Some(e) = ctx.single(child) {
                    gate = ctx.name(e, "gate");
                }
            }
            _ => ctx.unknown_node(child, "`target`", TARGET_CHILDREN),
        }
    }
    Some(Target {
        name: name?,
        description,
        needs,
        gate,
        span: head_span(node),
    })
}
