//! `project "name" { default …; jobs …; complexity …; env …; lock-timeout …;
//! secret …; shell …; cache-size …; cache-url … }`.

use kdl::{KdlEntry, KdlNode};

use super::values::{Ctx, parts};
use crate::model::{Project, Spanned};

pub(super) const SCALARS: &[&str] = &[
    "default",
    "jobs",
    "complexity",
    "lock-timeout",
    "shell",
    "cache-size",
    "cache-url",
];
pub(super) const CHILDREN: &[&str] = &[
    "default",
    "jobs",
    "complexity",
    "env",
    "lock-timeout",
    "secret",
    "shell",
    "cache-size",
    "cache-url",
    "dotenv",
];

pub(super) fn decode(ctx: &mut Ctx, node: &KdlNode) -> Project {
    let p = parts(node);
    let mut project = Project {
        name: p.args.first().and_then(|e| ctx.name(e, "project")),
        span: Some(node.name().span()),
        ..Project::default()
    };
    ctx.extra_args(node, &p.args, 1, "`project` takes one name");
    for (key, entry) in p.props {
        if SCALARS.contains(&key) {
            scalar(ctx, &mut project, key, entry);
        } else {
            ctx.unknown_prop(node, key, entry, SCALARS);
        }
    }
    for child in node
        .children()
        .map(kdl::KdlDocument::nodes)
        .unwrap_or_default()
    {
        match child.name().value() {
            "env" => ctx.env(child, &mut project.env),
            "secret" => project
                .secrets
                .extend(ctx.strings(child, "a variable name")),
            "dotenv" => project.dotenv.extend(ctx.strings(child, "a path")),
            "shell" => {
                let words = ctx.strings(child, "a program");
                if let Some(first) = words.first() {
                    let span = first.span;
                    project.shell = Some(Spanned::new(
                        words.into_iter().map(|w| w.value).collect(),
                        span,
                    ));
                }
            }
            key if SCALARS.contains(&key) => {
                if let Some(entry) = ctx.single(child) {
                    scalar(ctx, &mut project, key, entry);
                }
            }
            _ => ctx.unknown_node(child, "`project`", CHILDREN),
        }
    }
    project
}

fn scalar(ctx: &mut Ctx, project: &mut Project, key: &str, entry: &KdlEntry) {
    match key {
        "default" => project.default = ctx.string(entry, key, "default \"ci\""),
        "jobs" => project.jobs = ctx.count(entry, key, 0),
        "complexity" => project.complexity = ctx.name(entry, key),
        "lock-timeout" => project.lock_timeout = ctx.duration(entry, key),
        "shell" => {
            project.shell = ctx
                .string(entry, key, "shell \"bash\" \"-c\"")
                .map(|s| s.map(|v| vec![v]));
        }
        "cache-size" => {
            project.cache_size = ctx
                .string(entry, key, "cache-size \"5GB\"")
                .and_then(|s| checked(ctx, key, entry, &s, crate::model::cache::parse_size));
        }
        "cache-url" => {
            project.cache_url = ctx
                .string(entry, key, "cache-url \"http://127.0.0.1:8080/cache\"")
                .and_then(|s| {
                    let parsed = |url: &str| {
                        crate::model::cache::Endpoint::parse(url, "cache-url")
                            .map(|_| url.to_owned())
                    };
                    checked(ctx, key, entry, &s, parsed)
                });
        }
        _ => unreachable!("SCALARS lists only known settings"),
    }
}

/// `value` parsed by `parse`, or an invalid-value diagnostic at `entry`.
fn checked<T>(
    ctx: &mut Ctx,
    key: &str,
    entry: &KdlEntry,
    value: &Spanned<String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<Spanned<T>> {
    match parse(&value.value) {
        Ok(parsed) => Some(Spanned::new(parsed, value.span)),
        Err(message) => {
            ctx.push(crate::diagnostic::Diagnostic::InvalidValue {
                setting: key.into(),
                message,
                span: entry.span(),
                help: None,
            });
            None
        }
    }
}
