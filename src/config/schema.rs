//! The language as data, for editors and language servers: every node
//! kind, the properties it takes and the children it takes, read from the
//! very tables the decoder checks files against (so the description cannot
//! drift from what `check` accepts). `orchestra schema` prints it;
//! `docs/orchestra.schema.json` is a copy a test keeps equal to it.

use serde_json::{Value, json};

use super::body::{PHASE, RULE, STAGE, STEP, Spec, TASK};
use super::{TOP_LEVEL, entities, gate, milestone, project, simple, template};

/// What a node kind takes: properties (`name=value` on its line) and
/// children (nodes in its block). A setting may be both.
fn node(about: &str, properties: &[&str], children: &[&str]) -> Value {
    json!({ "about": about, "properties": properties, "children": children })
}

fn body(about: &str, spec: &Spec) -> Value {
    let scalars = spec.scalar_names();
    let mut children = scalars.clone();
    children.extend_from_slice(spec.lists());
    node(about, &scalars, &children)
}

/// The description, versioned: `version` changes when a field changes
/// meaning; new node kinds or settings come without a change.
pub(crate) fn describe() -> Value {
    json!({
        "version": 1,
        "file": "orchestra.kdl",
        "kdl": "2.0",
        "reference": "docs/language.md",
        "top_level": TOP_LEVEL,
        "nodes": {
            "project": node("settings of the whole project; at most one", project::SCALARS, project::CHILDREN),
            "vars": {
                "about": "template variables: one child per variable, `name \"value\"`",
                "properties": [],
                "children": "any",
            },
            "pool": node("at most `depth` tasks of the pool run at once", simple::POOL_PROPS, &[]),
            "gate": node("ordered checks with fixes and retries", gate::GATE_PROPS, gate::GATE_CHILDREN),
            "check": node("one command of a gate", gate::CHECK_PROPS, gate::CHECK_CHILDREN),
            "task": body("a make-like task", &TASK),
            "rule": body("one task per file a `foreach` glob matches", &RULE),
            "entities": node("a group of entities built in dependency waves", &[], entities::CHILDREN),
            "entity": {
                "about": "one entity; its properties are its own (`entity \"product\" fields=\"name price\"`), except the built-in names in `reserved`, and its steps' templates see them",
                "reserved": entities::RESERVED,
                "properties": "any",
                "children": entities::ENTITY_CHILDREN,
            },
            "each": node("the steps every entity of the group goes through", &[], entities::EACH_CHILDREN),
            "step": body("one step of every entity", &STEP),
            "pipeline": node("the stages a milestone of this complexity goes through", &[], milestone::PIPELINE_CHILDREN),
            "stage": body("one stage of a pipeline", &STAGE),
            "milestone": node("phases, in a pipeline", milestone::MILESTONE_PROPS, milestone::MILESTONE_CHILDREN),
            "phase": body("one phase of a milestone", &PHASE),
            "target": node("done when what it needs is done", simple::TARGET_PROPS, simple::TARGET_CHILDREN),
            "include": {
                "about": "`include \"ci/*.kdl\"`: the nodes of other files (paths and globs relative to this file, inside the project) join this one",
                "properties": [],
                "children": [],
            },
            "template": {
                "about": "a named list of nodes with `param`s, pasted by `use`; `{param}` in its strings is the use's value; any other child is its body",
                "properties": [],
                "children": "any",
            },
            "param": node("a parameter of a template; without `default` every `use` must give it", template::PARAM_PROPS, &[]),
            "use": {
                "about": "`use \"crud\" resource=\"product\"`: the template's nodes here (at the top level, or in any block, e.g. phases in a milestone); its properties are the template's params",
                "properties": "any",
                "children": [],
            },
        },
    })
}

#[cfg(test)]
mod tests {
    /// Every top-level kind is described, and what a task takes is what
    /// the decoder takes.
    #[test]
    fn the_description_follows_the_decoders_tables() {
        let d = super::describe();
        for kind in super::TOP_LEVEL {
            assert!(d["nodes"][kind].is_object(), "{kind}");
        }
        let task = &d["nodes"]["task"];
        for setting in [
            "run",
            "inputs",
            "outputs",
            "dotenv",
            "cache",
            "jobserver",
            "gate",
        ] {
            assert!(
                task["children"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c == setting),
                "{setting}"
            );
        }
        assert!(
            d["nodes"]["project"]["properties"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == "cache-size")
        );
    }
}
