//! Every task of the compiled plan needs its own address, but some parts
//! that live in different namespaces lower to the same one:
//!
//! - a pipeline's stages and gates, and a milestone's phases, are all
//!   `milestone/name` (so are two `gate` items of one pipeline);
//! - an entity's steps and its `each` gate are all `group/entity/name`;
//! - a wave gate is `group/wave-N/gate`, which an entity named `wave-N`
//!   with a step or `each` gate of that name would also be.
//!
//! A milestone is checked against the pipeline it uses by default;
//! `--complexity` can pick another, which the compiler reports itself.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::model::{EntityGroup, Model, Pipeline, PipelineItem, Span, entity_waves};

pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let c = model.config();
    for pipeline in &c.pipelines {
        let mut seen: HashMap<&str, (&'static str, Span)> = HashMap::new();
        for (name, kind, span) in pipeline_names(pipeline) {
            match seen.get(name) {
                // Two stages of one name are a duplicate, reported by names.rs.
                Some(&(first_kind, first)) if !(kind == "stage" && first_kind == "stage") => {
                    out.push(Diagnostic::AddressCollision {
                        address: format!("<milestone>/{name}"),
                        kind,
                        first_kind,
                        first,
                        second: span,
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(name, (kind, span));
                }
            }
        }
    }
    for milestone in &c.milestones {
        let Some(pipeline) = model.pipeline_of(milestone) else {
            continue;
        };
        for phase in &milestone.phases {
            let clash = pipeline_names(pipeline).find(|(name, _, _)| *name == phase.name.as_str());
            if let Some((name, first_kind, first)) = clash {
                out.push(Diagnostic::AddressCollision {
                    address: format!("{}/{name}", milestone.name.value),
                    kind: "phase",
                    first_kind,
                    first,
                    second: phase.name.span,
                });
            }
        }
    }
    for group in &c.entity_groups {
        entity_group(group, out);
    }
}

/// The stage and gate names of a pipeline, which become `milestone/name`.
fn pipeline_names(pipeline: &Pipeline) -> impl Iterator<Item = (&str, &'static str, Span)> {
    pipeline.items.iter().filter_map(|item| match item {
        PipelineItem::Stage(stage) => Some((stage.name.as_str(), "stage", stage.name.span)),
        PipelineItem::Gate(gate) => Some((gate.as_str(), "gate", gate.span)),
        PipelineItem::Phases(_) => None,
    })
}

fn entity_group(group: &EntityGroup, out: &mut Vec<Diagnostic>) {
    let each_gate = group.each_gate.as_ref();
    if let Some(gate) = each_gate
        && let Some(step) = group.steps.iter().find(|s| s.name.value == gate.value)
    {
        out.push(Diagnostic::AddressCollision {
            address: format!("{}/<entity>/{}", group.name.value, gate.value),
            kind: "gate",
            first_kind: "step",
            first: step.name.span,
            second: gate.span,
        });
    }
    let Some(wave_gate) = &group.wave_gate else {
        return;
    };
    let entity_part = group.steps.iter().map(|s| &s.name).chain(each_gate);
    if !entity_part.clone().any(|n| n.value == wave_gate.value) {
        return;
    }
    let last_wave = entity_waves(group).into_iter().max().unwrap_or(0);
    for entity in &group.entities {
        let wave = entity
            .name
            .strip_prefix("wave-")
            .and_then(|n| n.parse::<u32>().ok());
        if wave.is_some_and(|w| (1..=last_wave).contains(&w)) {
            out.push(Diagnostic::AddressCollision {
                address: format!(
                    "{}/{}/{}",
                    group.name.value, entity.name.value, wave_gate.value
                ),
                kind: "entity",
                first_kind: "wave gate",
                first: wave_gate.span,
                second: entity.name.span,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Diagnostic;
    use crate::validate::{Options, validate};

    fn collisions(kdl: &str) -> Vec<String> {
        let (config, _) = crate::config::load_str(kdl);
        let options = Options {
            check_programs: false,
        };
        let (_, found) = validate(config.unwrap(), kdl, "p", options);
        found
            .iter()
            .filter(|d| matches!(d, Diagnostic::AddressCollision { .. }))
            .map(Diagnostic::message)
            .collect()
    }

    #[test]
    fn a_phase_named_like_a_stage_of_its_pipeline() {
        let kdl = r#"pipeline "full" { stage "review" "r"; phases; }
            milestone "M" complexity="full" { phase "review" { run "x"; } }"#;
        assert_eq!(
            collisions(kdl),
            ["two tasks would be called `M/review`: a stage and a phase"]
        );
    }

    #[test]
    fn a_pipeline_with_the_same_gate_twice() {
        let kdl = r#"gate "g" { check "c" "true"; }
            pipeline "p" { gate "g"; phases; gate "g"; }"#;
        assert_eq!(
            collisions(kdl),
            ["two tasks would be called `<milestone>/g`: a gate and a gate"]
        );
    }

    #[test]
    fn a_step_named_like_the_each_gate_and_an_entity_named_like_a_wave() {
        let kdl = r#"gate "verify" { check "c" "true"; }
            entities {
                each { step "verify" "x"; gate "verify"; }
                wave-gate "verify"
                entity "wave-1"
                entity "wave-7"
            }"#;
        assert_eq!(
            collisions(kdl),
            [
                "two tasks would be called `entities/<entity>/verify`: a step and a gate",
                "two tasks would be called `entities/wave-1/verify`: a wave gate and an entity"
            ]
        );
    }
}
