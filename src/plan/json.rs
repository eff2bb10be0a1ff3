//! `orchestra plan --format json`: the plan as a versioned JSON document.
//!
//! The schema is documented in `docs/plan-json.md` and shipped as JSON
//! Schema in `docs/plan.schema.json`; a test validates output against it.
//! Bump [`VERSION`] on any change that could break a reader (renaming or
//! removing a field, changing a type or a meaning); adding a field does not.
//! Environment values are left out on purpose: they may hold secrets.
//!
//! The document is a tree of borrowed structs rather than a `serde_json`
//! value, so fields keep the documented order and a 100k-task plan is
//! written without building a second copy of it.

use std::time::Duration;

use serde::Serialize;

use super::describe::kind_name;
use super::{Cmd, Group, Plan};
use crate::model::CommandKind;

/// The schema version, the document's `"version"`.
pub(crate) const VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub(crate) struct Document<'a> {
    pub(crate) version: u32,
    pub(crate) project: &'a str,
    pub(crate) file: &'a str,
    pub(crate) shell: &'a [String],
    pub(crate) pools: Vec<Pool<'a>>,
    pub(crate) waves: u32,
    pub(crate) critical_path: Vec<&'a str>,
    pub(crate) tasks: Vec<Task<'a>>,
    pub(crate) skipped: Vec<Skipped<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Pool<'a> {
    pub(crate) name: &'a str,
    pub(crate) depth: u32,
}

#[derive(Debug, Serialize)]
pub(crate) struct Task<'a> {
    pub(crate) id: u32,
    pub(crate) address: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) group: Option<GroupRef<'a>>,
    pub(crate) description: Option<&'a str>,
    pub(crate) commands: Vec<Command<'a>>,
    pub(crate) gate: Option<Gate<'a>>,
    pub(crate) needs: Vec<&'a str>,
    pub(crate) wave: u32,
    pub(crate) inputs: &'a [super::Str],
    pub(crate) outputs: &'a [super::Str],
    pub(crate) env: Vec<&'a str>,
    pub(crate) dir: Option<&'a str>,
    pub(crate) pool: Option<&'a str>,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) retries: u32,
    pub(crate) confirm: Option<&'a str>,
    pub(crate) interactive: bool,
    pub(crate) depfile: Option<&'a str>,
    /// `pipe` or `fifo`: how its commands reach the jobserver.
    pub(crate) jobserver: Option<&'static str>,
    pub(crate) declared: Declared<'a>,
}

/// `{"milestone": "M1"}` or `{"entities": "entities", "entity": "product"}`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum GroupRef<'a> {
    Milestone {
        milestone: &'a str,
    },
    Entity {
        entities: &'a str,
        entity: &'a str,
        entity_wave: u32,
    },
}

/// `{"shell": "line"}` or `{"exec": ["prog", "arg"]}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Command<'a> {
    Shell(&'a str),
    Exec(&'a [super::Str]),
}

#[derive(Debug, Serialize)]
pub(crate) struct Gate<'a> {
    pub(crate) name: &'a str,
    pub(crate) retries: u32,
    pub(crate) checks: Vec<Check<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Check<'a> {
    pub(crate) name: &'a str,
    pub(crate) command: Command<'a>,
    pub(crate) fix: Option<Command<'a>>,
    pub(crate) optional: bool,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) retries: u32,
    pub(crate) dir: Option<&'a str>,
    pub(crate) env: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Declared<'a> {
    pub(crate) file: &'a str,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct Skipped<'a> {
    pub(crate) address: &'a str,
    pub(crate) by: &'a str,
}

/// Where a byte offset of the project's text is: file, line and column
/// (from 1).
pub(crate) type Locate<'s> = &'s dyn Fn(usize) -> (&'s str, usize, usize);

/// The plan as pretty-printed JSON with a final newline; `file` names the
/// orchestra file and `locate` tells where each task was declared.
pub(crate) fn render<'a>(plan: &'a Plan, file: &'a str, locate: Locate<'a>) -> String {
    let mut text = serde_json::to_string_pretty(&document(plan, file, locate))
        .expect("the document has string keys only");
    text.push('\n');
    text
}

/// The document [`render`] writes.
pub(crate) fn document<'a>(plan: &'a Plan, file: &'a str, locate: Locate<'a>) -> Document<'a> {
    let address = |id: &super::TaskId| plan.task(*id).address.as_str();
    Document {
        version: VERSION,
        project: &plan.project,
        file,
        shell: &plan.shell,
        pools: plan
            .pools
            .iter()
            .map(|(name, depth)| Pool {
                name,
                depth: *depth,
            })
            .collect(),
        waves: plan.wave_count(),
        critical_path: plan.longest_wave_chain().iter().map(address).collect(),
        tasks: plan
            .tasks
            .iter()
            .map(|t| {
                let (file, line, column) = locate(t.declared.offset());
                Task {
                    id: t.id.0,
                    address: &t.address,
                    kind: kind_name(t.kind),
                    group: t.group.as_deref().map(|g| match g {
                        Group::Milestone(m) => GroupRef::Milestone { milestone: m },
                        Group::Entity {
                            group,
                            entity,
                            wave,
                        } => GroupRef::Entity {
                            entities: group,
                            entity,
                            entity_wave: *wave,
                        },
                    }),
                    description: t.description.as_deref(),
                    commands: t.commands.iter().map(command).collect(),
                    gate: t.gate.as_ref().map(|g| Gate {
                        name: &g.name,
                        retries: g.retries,
                        checks: g
                            .checks
                            .iter()
                            .map(|c| Check {
                                name: &c.name,
                                command: command(&c.command),
                                fix: c.fix.as_ref().map(command),
                                optional: c.optional,
                                timeout_ms: c.timeout.map(millis),
                                retries: c.retries,
                                dir: c.dir.as_deref(),
                                env: keys(&c.env),
                            })
                            .collect(),
                    }),
                    needs: t.needs.iter().map(address).collect(),
                    wave: t.wave,
                    inputs: &t.inputs,
                    outputs: &t.outputs,
                    env: keys(&t.env),
                    dir: t.dir.as_deref(),
                    pool: t.pool.as_deref(),
                    timeout_ms: t.timeout.map(millis),
                    retries: t.retries,
                    confirm: t.confirm.as_deref(),
                    interactive: t.interactive,
                    depfile: t.depfile.as_deref(),
                    jobserver: t.jobserver.map(crate::model::Jobserver::as_str),
                    declared: Declared { file, line, column },
                }
            })
            .collect(),
        skipped: plan
            .skipped
            .iter()
            .map(|s| Skipped {
                address: &s.address,
                by: &s.by,
            })
            .collect(),
    }
}

fn command(command: &Cmd) -> Command<'_> {
    match command {
        CommandKind::Shell(line) => Command::Shell(line),
        CommandKind::Exec(argv) => Command::Exec(argv),
    }
}

fn keys(env: &[(String, String)]) -> Vec<&str> {
    env.iter().map(|(k, _)| k.as_str()).collect()
}

/// Whole milliseconds; saturates far beyond any real timeout.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::compile::testing::plan;

    #[test]
    fn env_values_stay_out_and_positions_are_lines() {
        let kdl = "project \"p\" { env TOKEN=\"secret\"; }\n\ntask \"a\" {\n  run \"x\" \"y\"\n  timeout \"2s\"\n}";
        let sources = crate::sources::Sources::single("orchestra.kdl", kdl.into());
        let locate = |at| sources.locate(at);
        let text = super::render(&plan(kdl, &[]), "orchestra.kdl", &locate);
        assert!(text.starts_with("{\n  \"version\": 1,\n"), "{text}");
        assert!(!text.contains("secret"));
        let value: Value = serde_json::from_str(&text).unwrap();
        let task = &value["tasks"][0];
        assert_eq!(task["env"], json!(["TOKEN"]));
        assert_eq!(task["commands"], json!([{"exec": ["x", "y"]}]));
        assert_eq!(
            task["declared"],
            json!({"file": "orchestra.kdl", "line": 3, "column": 1})
        );
        assert_eq!(task["timeout_ms"], 2000);
    }
}
