//! KDL → [`Config`]: parse `orchestra.kdl` with the `kdl` crate and decode
//! every node by hand, keeping spans, collecting every mistake.
//!
//! This is the only module that imports `kdl`. One file per node kind; the
//! shared helpers for values and task-like bodies live in `values.rs` and
//! `body.rs`.

mod body;
mod entities;
mod gate;
mod milestone;
mod project;
mod simple;
mod values;

use kdl::{KdlDocument, KdlError};

use crate::diagnostic::Diagnostic;
use crate::model::Config;
use values::Ctx;

/// The top-level node kinds, in the order the reference documents them.
const TOP_LEVEL: &[&str] = &[
    "project",
    "vars",
    "pool",
    "gate",
    "task",
    "entities",
    "pipeline",
    "milestone",
    "target",
];

/// Parses and decodes `source`. The config is returned even when there are
/// diagnostics, so validation can report its own findings in the same run;
/// callers must not use it for anything else when an error was returned.
pub fn load(source: &str) -> (Option<Config>, Vec<Diagnostic>) {
    match KdlDocument::parse(source) {
        Ok(document) => {
            let (config, diagnostics) = decode(&document);
            (Some(config), diagnostics)
        }
        Err(error) => (None, syntax_diagnostics(&error)),
    }
}

/// kdl's error carries a bare string as its source, so reports would say
/// `[2:24]` instead of the file name: copy its parts into our own type.
fn syntax_diagnostics(error: &KdlError) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = error
        .diagnostics
        .iter()
        .map(|d| Diagnostic::Syntax {
            message: d.message.clone().unwrap_or_else(|| "invalid KDL".into()),
            label: d.label.clone(),
            help: d.help.clone(),
            span: d.span,
        })
        .collect();
    if out.is_empty() {
        out.push(Diagnostic::Syntax {
            message: "invalid KDL".into(),
            label: None,
            help: None,
            span: (0, 0).into(),
        });
    }
    out
}

/// Decodes a parsed document into a [`Config`], collecting diagnostics.
pub fn decode(document: &KdlDocument) -> (Config, Vec<Diagnostic>) {
    let mut ctx = Ctx::default();
    let mut config = Config::default();
    let mut project_span = None;
    for node in document.nodes() {
        let name = node.name().value();
        match name {
            "project" => {
                if let Some(first) = project_span {
                    ctx.push(Diagnostic::RepeatedSetting {
                        setting: "project".into(),
                        first,
                        second: node.name().span(),
                    });
                } else {
                    project_span = Some(node.name().span());
                    config.project = project::decode(&mut ctx, node);
                }
            }
            "vars" => simple::vars(&mut ctx, node, &mut config.vars),
            "pool" => config.pools.extend(simple::pool(&mut ctx, node)),
            "gate" => config.gates.extend(gate::decode(&mut ctx, node)),
            "task" => config.tasks.extend(simple::task(&mut ctx, node)),
            "entities" => config.entity_groups.push(entities::decode(&mut ctx, node)),
            "pipeline" => config.pipelines.extend(milestone::pipeline(&mut ctx, node)),
            "milestone" => config
                .milestones
                .extend(milestone::milestone(&mut ctx, node)),
            "target" => config.targets.extend(simple::target(&mut ctx, node)),
            _ => ctx.unknown_node(node, "the file", TOP_LEVEL),
        }
    }
    (config, ctx.diagnostics)
}
