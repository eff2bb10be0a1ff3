//! [`Model`] → [`Plan`]: lowering the domain vocabulary (entities,
//! milestones, pipelines, gates, targets) into one primitive, a DAG of tasks.
//!
//! One pass per file, in this order:
//!
//! 1. `templates.rs`: the project's variables, with `--set` applied;
//! 2. `lower.rs` (with `entities.rs`, `milestones.rs`, `gates.rs`, `rules.rs`): every
//!    item of the model into draft tasks with `{name}` expanded (`graph.rs`
//!    holds the drafts);
//! 3. `select.rs`: the addresses asked for and everything they need;
//! 4. `skip.rs`: `--skip`, keeping the graph connected;
//! 5. `waves.rs`: waves, order and ids.
//!
//! Lowering the whole model before selecting keeps each rule in one place
//! and makes selection a plain graph closure. Nothing here imports `kdl`;
//! the language is documented in `docs/plan.md`.

mod entities;
mod error;
mod gates;
mod graph;
mod lower;
mod milestones;
mod rules;
mod select;
mod skip;
mod templates;
mod waves;

#[cfg(test)]
mod arbitrary;
#[cfg(test)]
mod properties;
#[cfg(test)]
pub(crate) mod testing;

pub(crate) use error::SelectionError;
pub(crate) use templates::shell_quote;

use crate::model::{Model, Pipeline};
use crate::plan::Plan;
use crate::timings::measure;
use crate::words::suggest;

/// What to compile: the command line's selection flags, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Addresses to build; empty means the project's `default`, else all.
    pub(crate) addresses: Vec<String>,
    /// `--complexity LEVEL`: the pipeline for every selected milestone.
    pub(crate) complexity: Option<String>,
    /// `--skip NAME`, in order.
    pub(crate) skip: Vec<String>,
    /// `--set NAME=VALUE`, split at the first `=`.
    pub(crate) set: Vec<(String, String)>,
    /// Every part of the file, whatever the project's `default` (`check`).
    pub(crate) everything: bool,
    /// `-- ARGS…`: what `{args}` expands to in the one task named (the
    /// only address); empty everywhere else.
    pub(crate) args: Vec<String>,
}

impl Selection {
    /// The one canonical key of a selection: what the plan cache is keyed
    /// by and what `--resume` compares run records with. A JSON object, so
    /// it reads well in `orchestra status`.
    pub(crate) fn key(&self) -> String {
        let mut key = serde_json::json!({
            "addresses": self.addresses,
            "complexity": self.complexity,
            "skip": self.skip,
            "set": self.set.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>(),
        });
        if self.everything {
            key["everything"] = true.into();
        }
        if !self.args.is_empty() {
            key["args"] = self.args.clone().into();
        }
        key.to_string()
    }
}

/// Splits one `--set NAME=VALUE` argument at its first `=`.
pub(crate) fn parse_set(arg: &str) -> Result<(String, String), SelectionError> {
    match arg.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(SelectionError::MalformedSet {
            arg: arg.to_owned(),
        }),
    }
}

/// Compiles the selection of `model` into a plan.
pub(crate) fn compile(model: &Model, selection: &Selection) -> Result<Plan, SelectionError> {
    let mut vars = templates::Vars::new(model, &selection.set)?;
    if let [address] = selection.addresses.as_slice() {
        vars.args_for(address, &selection.args);
    }
    let pipeline = complexity(model, selection.complexity.as_deref())?;
    let mut lowered = measure("lower", || lower::lower(model, &vars, pipeline))?;
    if !vars.args_reached() {
        return Err(args_unused(&lowered, &selection.addresses));
    }
    let mut selected = measure("select", || {
        if selection.everything {
            Ok(select::all(model, &lowered))
        } else {
            select::select(model, &lowered, &selection.addresses)
        }
    })?;
    let skipped = measure("skip", || {
        skip::apply(&mut lowered.graph, &mut selected, &selection.skip)
    })?;
    let dotenv = vars.dotenv_table();
    Ok(measure("waves", || {
        waves::finish(model, lowered.graph, &selected, skipped, dotenv)
    }))
}

/// Why the arguments after `--` reached no `{args}` of the task named.
fn args_unused(lowered: &lower::Lowered, addresses: &[String]) -> SelectionError {
    let address = addresses.first().cloned().unwrap_or_default();
    let tasks = &lowered.graph.tasks;
    let task = tasks.iter().find(|t| t.address == address.as_str());
    SelectionError::ArgsUnused {
        task: task.is_some(),
        commands: task.is_some_and(|t| !t.commands.is_empty()),
        example: tasks
            .iter()
            .find(|t| t.address.starts_with(&format!("{address}/")))
            .map(|t| t.address.to_string()),
        address,
    }
}

/// The pipeline `--complexity` names, if given.
fn complexity<'m>(
    model: &'m Model,
    level: Option<&str>,
) -> Result<Option<&'m Pipeline>, SelectionError> {
    let Some(level) = level else {
        return Ok(None);
    };
    let pipeline = model.pipeline(level).ok_or_else(|| {
        let declared: Vec<String> = model
            .config()
            .pipelines
            .iter()
            .map(|p| p.name.value.clone())
            .collect();
        SelectionError::UnknownComplexity {
            level: level.to_owned(),
            suggestion: suggest(level, declared.iter().map(String::as_str)),
            declared,
        }
    })?;
    // A pipeline that does not place phases would drop every milestone's.
    let places_phases = pipeline
        .items
        .iter()
        .any(|i| matches!(i, crate::model::PipelineItem::Phases(_)));
    if !places_phases
        && let Some(milestone) = model
            .config()
            .milestones
            .iter()
            .find(|m| !m.phases.is_empty())
    {
        return Err(SelectionError::PhasesDropped {
            level: level.to_owned(),
            milestone: milestone.name.value.clone(),
        });
    }
    Ok(Some(pipeline))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::testing::{addresses, try_plan};

    #[test]
    fn set_arguments_split_at_the_first_equals() {
        assert_eq!(parse_set("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(parse_set("a=").unwrap(), ("a".into(), String::new()));
        assert!(matches!(
            parse_set("a"),
            Err(SelectionError::MalformedSet { .. })
        ));
        assert!(matches!(
            parse_set("=a"),
            Err(SelectionError::MalformedSet { .. })
        ));
    }

    #[test]
    fn unknown_complexity_suggests_a_level() {
        let kdl = r#"pipeline "full" { phases; }; milestone "M" { phase "a" { run "x"; } }"#;
        let err = try_plan(kdl, &[], Some("ful"), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown complexity `ful`: did you mean `full`?"
        );
        assert_eq!(
            addresses(&try_plan(kdl, &[], Some("full"), &[]).unwrap()),
            ["M/a"]
        );
    }

    #[test]
    fn an_override_that_makes_addresses_collide_is_an_error() {
        let kdl = r#"pipeline "full" { phases; stage "a" "y"; }
            milestone "M" { phase "a" { run "x"; } }"#;
        let err = try_plan(kdl, &[], Some("full"), &[]).unwrap_err();
        assert!(
            matches!(err, SelectionError::AddressCollision { ref address, .. } if address == "M/a")
        );
    }
}
