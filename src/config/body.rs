//! Task-like bodies: the settings shared by `task`, `phase`, `stage` and
//! `step`. A scalar setting may be written as a property or as a child node
//! (`timeout="15m"` or `timeout "15m"`); both mean the same.

use std::collections::HashMap;

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::values::{Ctx, head_span, parts};
use crate::diagnostic::Diagnostic;
use crate::model::{Body, Jobserver, Span, Spanned};

/// Which settings a node kind accepts: scalar settings in groups (each
/// kind takes some of the groups below), then list settings.
pub(super) struct Spec {
    scalars: &'static [&'static [&'static str]],
    lists: &'static [&'static str],
}

impl Spec {
    fn scalar(&self, key: &str) -> bool {
        self.scalars.iter().any(|group| group.contains(&key))
    }

    pub(super) fn lists(&self) -> &'static [&'static str] {
        self.lists
    }

    pub(super) fn scalar_names(&self) -> Vec<&'static str> {
        self.scalars
            .iter()
            .flat_map(|g| g.iter().copied())
            .collect()
    }
}

/// How any command runs: every task-like kind takes these.
const RUNS: &[&str] = &[
    "dir",
    "depfile",
    "jobserver",
    "timeout",
    "retries",
    "pool",
    "cache",
];
/// Talking to a person: not once per file of a rule.
const PERSON: &[&str] = &["confirm", "interactive"];
const DESCRIBED: &[&str] = &["description"];
/// A gate run after the commands: not per entity step, nor per file.
const GATED: &[&str] = &["gate"];

pub(super) const TASK: Spec = Spec {
    scalars: &[RUNS, PERSON, DESCRIBED, GATED],
    lists: &["run", "needs", "inputs", "outputs", "env", "dotenv"],
};

pub(super) const PHASE: Spec = Spec {
    scalars: &[RUNS, PERSON, DESCRIBED, GATED, &["depends-on"]],
    lists: &["run", "inputs", "outputs", "env", "dotenv"],
};

/// A rule's body is a task's without what makes no sense once per file
/// (a gate, a confirmation, a terminal of its own), plus its `foreach`.
pub(super) const RULE: Spec = Spec {
    scalars: &[RUNS, DESCRIBED],
    lists: &[
        "foreach", "run", "needs", "inputs", "outputs", "env", "dotenv",
    ],
};

/// Stages and steps take their command inline (`step "gen" "sh gen.sh"`) or
/// as `run` children.
pub(super) const STAGE: Spec = Spec {
    scalars: &[RUNS, PERSON, DESCRIBED, GATED],
    lists: &["run", "inputs", "outputs", "env", "dotenv"],
};

pub(super) const STEP: Spec = Spec {
    scalars: &[RUNS, PERSON, DESCRIBED],
    lists: &["run", "inputs", "outputs", "env", "dotenv"],
};

/// The result of decoding a body: the body and, for phases, `depends-on`;
/// for rules, `foreach`.
pub(super) struct Decoded {
    pub(super) body: Body,
    pub(super) depends_on: Option<Vec<Spanned<String>>>,
    pub(super) foreach: Vec<Spanned<String>>,
}

/// Decodes the properties and children of `node` per `spec`. Arguments are
/// the caller's: it knows whether a name or an inline command comes first.
pub(super) fn decode(ctx: &mut Ctx, node: &KdlNode, spec: &Spec) -> Decoded {
    let mut out = Decoded {
        body: Body::default(),
        depends_on: None,
        foreach: Vec::new(),
    };
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let scalars = spec.scalar_names();
    let accepted: Vec<&'static str> = scalars.iter().chain(spec.lists).copied().collect();
    for (key, entry) in parts(node).props {
        if spec.scalar(key) {
            if first_time(ctx, &mut seen, key, entry.span()) {
                set_scalar(ctx, &mut out, key, entry);
            }
        } else {
            ctx.unknown_prop(node, key, entry, &scalars);
        }
    }
    let Some(children) = node.children() else {
        return out;
    };
    for child in children.nodes() {
        let key = child.name().value();
        if key == "depends-on" && spec.scalar(key) {
            // The child form takes several names, or none at all.
            if first_time(ctx, &mut seen, key, child.name().span()) {
                let p = parts(child);
                ctx.no_props(child, &p.props);
                ctx.no_children(child);
                out.depends_on = Some(
                    p.args
                        .iter()
                        .filter_map(|e| ctx.name(e, "depends-on"))
                        .collect(),
                );
            }
        } else if spec.scalar(key) {
            if first_time(ctx, &mut seen, key, child.name().span())
                && let Some(entry) = ctx.single(child)
            {
                set_scalar(ctx, &mut out, key, entry);
            }
        } else if key == "foreach" && spec.lists.contains(&key) {
            out.foreach.extend(ctx.strings(child, "a path or glob"));
        } else if spec.lists.contains(&key) {
            list(ctx, &mut out.body, child);
        } else {
            let parent = format!("`{}`", node.name().value());
            ctx.unknown_node(child, &parent, &accepted);
        }
    }
    out
}

/// Records that `key` was set; reports the second time.
fn first_time<'a>(
    ctx: &mut Ctx,
    seen: &mut HashMap<&'a str, Span>,
    key: &'a str,
    span: Span,
) -> bool {
    if let Some(first) = seen.get(key) {
        ctx.push(Diagnostic::RepeatedSetting {
            setting: key.into(),
            first: *first,
            second: span,
        });
        false
    } else {
        seen.insert(key, span);
        true
    }
}

fn set_scalar(ctx: &mut Ctx, out: &mut Decoded, key: &str, entry: &KdlEntry) {
    let body = &mut out.body;
    match key {
        "timeout" => body.timeout = ctx.duration(entry, key),
        "retries" => body.retries = ctx.count(entry, key, 0),
        "dir" => body.dir = ctx.string(entry, key, "dir=\"crates/api\""),
        "depfile" => body.depfile = ctx.string(entry, key, "depfile=\"build/main.d\""),
        "jobserver" => body.jobserver = jobserver(ctx, entry),
        "cache" => body.cache = ctx.boolean(entry, key),
        "pool" => body.pool = ctx.name(entry, key),
        "gate" => body.gate = ctx.name(entry, key),
        "confirm" => body.confirm = ctx.string(entry, key, "confirm=\"Deploy now?\""),
        "interactive" => body.interactive = ctx.boolean(entry, key).unwrap_or(false),
        "description" => body.description = ctx.string(entry, key, "description=\"…\""),
        "depends-on" => {
            let several = entry
                .value()
                .as_string()
                .filter(|s| s.split_whitespace().count() > 1);
            if let Some(names) = several {
                // A habit from space-separated lists: say the KDL form once,
                // instead of an invalid name and an unknown phase.
                ctx.push(Diagnostic::InvalidName {
                    name: names.to_owned(),
                    reason: "`depends-on=` names one phase",
                    help: "for several, use the child form: `depends-on \"a\" \"b\" \"c\"`",
                    span: entry.span(),
                });
                out.depends_on = Some(Vec::new());
            } else {
                out.depends_on = ctx.name(entry, key).map(|n| vec![n]);
            }
        }
        _ => unreachable!("spec lists only known scalar settings"),
    }
}

/// `jobserver=#true` (descriptors), `"pipe"`, `"fifo"`, or `#false`.
fn jobserver(ctx: &mut Ctx, entry: &KdlEntry) -> Option<Jobserver> {
    match entry.value() {
        KdlValue::Bool(true) => Some(Jobserver::Pipe),
        KdlValue::Bool(false) => None,
        KdlValue::String(s) if s == "pipe" => Some(Jobserver::Pipe),
        KdlValue::String(s) if s == "fifo" => Some(Jobserver::Fifo),
        KdlValue::String(s) => {
            ctx.push(Diagnostic::InvalidValue {
                setting: "jobserver".into(),
                message: format!("`{s}` is not a jobserver style"),
                span: entry.span(),
                help: Some(
                    "write `jobserver=#true` (descriptors, for every GNU make, cargo and ninja), or `jobserver=\"fifo\"` (a path, for make 4.4 and later)"
                        .into(),
                ),
            });
            None
        }
        _ => {
            ctx.boolean(entry, "jobserver");
            None
        }
    }
}

fn list(ctx: &mut Ctx, body: &mut Body, child: &KdlNode) {
    match child.name().value() {
        "run" => {
            let p = parts(child);
            ctx.no_props(child, &p.props);
            ctx.no_children(child);
            if p.args.is_empty() {
                ctx.push(Diagnostic::MissingArgument {
                    node: "run".into(),
                    what: "a command",
                    span: child.name().span(),
                    example: "run \"cargo test\"".into(),
                });
            }
            body.run
                .extend(ctx.command(child.name().value(), &p.args, head_span(child)));
        }
        "needs" => body.needs.extend(ctx.strings(child, "an address")),
        "inputs" => body.inputs.extend(ctx.strings(child, "a path or glob")),
        "outputs" => body.outputs.extend(ctx.strings(child, "a path")),
        "env" => ctx.env(child, &mut body.env),
        "dotenv" => body.dotenv.extend(ctx.strings(child, "a path")),
        _ => unreachable!("spec lists only known list settings"),
    }
}
