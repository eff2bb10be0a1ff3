//! Lowering an entity group: one task per `each` step per entity, in step
//! order, then the entity's `each` gate; an entity's first task needs the
//! group's `needs` and the last task of every entity it relates to. With a
//! `wave-gate`, each wave gets a gate task `group/wave-N/gate` that needs
//! every entity of the wave, and every entity of the next wave needs it: a
//! barrier.

use super::graph::Part;
use super::lower::Lowering;
use super::templates::{Origin, Scope};
use crate::model::{EntityGroup, entity_waves, relation_indices};
use crate::plan::{Group, TaskId, TaskKind};

impl<'m> Lowering<'m> {
    /// Lowers group `g`; returns its ends: the last wave gate, or the last
    /// tasks of the entities no other entity relates to.
    pub(super) fn entity_group(&mut self, g: usize) -> Vec<TaskId> {
        let model = self.model;
        let group = &model.config().entity_groups[g];
        let waves = entity_waves(group);
        let last_wave = waves.iter().copied().max().unwrap_or(0);
        // Properties any entity declares: `{key}` is empty for the others.
        let mut keys: Vec<&str> = Vec::new();
        for (key, _) in group.entities.iter().flat_map(|e| &e.properties) {
            if !keys.contains(&key.as_str()) {
                keys.push(key.as_str());
            }
        }
        let relations = relation_indices(group);
        // Relations point at lower waves, so lowering wave by wave puts
        // every entity after the ones it relates to.
        let mut by_wave: Vec<Vec<usize>> = vec![Vec::new(); last_wave as usize];
        for (e, &wave) in waves.iter().enumerate() {
            by_wave[wave as usize - 1].push(e);
        }
        let group_needs = self.needs(&group.needs);
        let mut parts = vec![Part::default(); group.entities.len()];
        let mut barrier: Option<TaskId> = None;
        for (w, members) in by_wave.iter().enumerate() {
            for &e in members {
                let mut start = group_needs.clone();
                for &r in &relations[e] {
                    start.extend_from_slice(&parts[r].ends);
                }
                start.extend(barrier);
                parts[e] = self.entity(group, e, waves[e], &keys, start);
            }
            if let Some(gate) = group.wave_gate.as_ref().and_then(|w| self.model.gate(w)) {
                let needs = members
                    .iter()
                    .flat_map(|&e| parts[e].ends.iter().copied())
                    .collect();
                let address = format!("{}/wave-{}/{}", group.name.value, w + 1, gate.name.value);
                barrier = Some(self.gate(address, gate, TaskKind::WaveGate, None, needs));
            }
        }
        let ends = if let Some(last) = barrier {
            vec![last]
        } else {
            let mut related = vec![false; parts.len()];
            relations.iter().flatten().for_each(|&r| related[r] = true);
            (0..parts.len())
                .filter(|&e| !related[e])
                .flat_map(|e| parts[e].ends.iter().copied())
                .collect()
        };
        self.out.entities[g] = parts;
        ends
    }

    /// One entity's steps in order and its `each` gate, the first needing
    /// `start`.
    fn entity(
        &mut self,
        group: &'m EntityGroup,
        e: usize,
        wave: u32,
        keys: &[&str],
        start: Vec<TaskId>,
    ) -> Part {
        let entity = &group.entities[e];
        let cluster = Group::Entity {
            group: group.name.value.clone(),
            entity: entity.name.value.clone(),
            wave,
        };
        let first = self.out.graph.len();
        let mut previous = start;
        for step in &group.steps {
            let address = format!(
                "{}/{}/{}",
                group.name.value, entity.name.value, step.name.value
            );
            let origin = Origin {
                scope: Scope {
                    entity: Some((entity, keys)),
                    ..Scope::default()
                },
                address,
                kind: TaskKind::Step,
                group: Some(cluster.clone()),
                declared: step.span,
            };
            let task = self.vars.body_task(origin, &step.body);
            let index = self.out.graph.push(task, &step.name.value, previous);
            previous = vec![index];
        }
        if let Some(gate) = group.each_gate.as_ref().and_then(|g| self.model.gate(g)) {
            let address = format!(
                "{}/{}/{}",
                group.name.value, entity.name.value, gate.name.value
            );
            let owner = previous.last().copied().filter(|p| p.index() >= first);
            let index = self.gate(address, gate, TaskKind::Gate, Some(cluster), previous);
            if let Some(owner) = owner {
                self.out.graph.set_owner(index, owner);
            }
            previous = vec![index];
        }
        Part {
            tasks: first..self.out.graph.len(),
            ends: previous,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{addresses, needs_of, plan, wave_of};

    const SHOP: &str = r#"
        project "shop"
        gate "verify" { check "t" "true" }
        task "scaffold" { run "true" }
        entities {
            needs "scaffold"
            each {
                step "generate" "gen {entity} {fields}"
                step "integrate" "wire {entity}"
                gate "verify"
            }
            wave-gate "verify"
            entity "category" fields="name:String"
            entity "tag" fields="label:String"
            entity "product" fields="name:String,price:u32" { relation "category"; }
            entity "product-tag" { relation "product"; relation "tag"; }
        }
    "#;

    #[test]
    fn steps_run_in_order_then_the_each_gate() {
        let p = plan(SHOP, &["entities/category"]);
        assert_eq!(
            addresses(&p),
            [
                "scaffold",
                "entities/category/generate",
                "entities/category/integrate",
                "entities/category/verify"
            ]
        );
        assert_eq!(needs_of(&p, "entities/category/generate"), ["scaffold"]);
        assert_eq!(
            needs_of(&p, "entities/category/verify"),
            ["entities/category/integrate"]
        );
    }

    #[test]
    fn wave_gates_are_barriers_between_waves() {
        let p = plan(SHOP, &["entities"]);
        assert_eq!(
            needs_of(&p, "entities/wave-1/verify"),
            ["entities/category/verify", "entities/tag/verify"]
        );
        // product relates to category only, but waits for all of wave 1.
        assert_eq!(
            needs_of(&p, "entities/product/generate"),
            [
                "entities/category/verify",
                "entities/wave-1/verify",
                "scaffold"
            ]
        );
        assert_eq!(
            needs_of(&p, "entities/product-tag/generate"),
            [
                "entities/product/verify",
                "entities/tag/verify",
                "entities/wave-2/verify",
                "scaffold"
            ]
        );
        assert_eq!(
            needs_of(&p, "entities/wave-3/verify"),
            ["entities/product-tag/verify"]
        );
        assert!(wave_of(&p, "entities/wave-1/verify") < wave_of(&p, "entities/product/generate"));
    }

    #[test]
    fn entity_properties_and_missing_ones_expand() {
        let p = plan(SHOP, &["entities"]);
        let command = |a: &str| {
            format!(
                "{:?}",
                p.tasks.iter().find(|t| t.address == a).unwrap().commands
            )
        };
        assert!(command("entities/product/generate").contains("gen product name:String,price:u32"));
        assert!(command("entities/product-tag/generate").contains("\"gen product-tag \""));
    }

    #[test]
    fn without_wave_gate_an_entity_waits_only_for_its_relations() {
        let kdl = SHOP.replace("wave-gate \"verify\"", "");
        let p = plan(&kdl, &["entities/product-tag"]);
        assert_eq!(
            needs_of(&p, "entities/product-tag/generate"),
            ["entities/product/verify", "entities/tag/verify", "scaffold"]
        );
        // The closure holds what product-tag relates to, transitively.
        assert!(addresses(&p).contains(&"entities/category/verify".to_owned()));
        let p = plan(&kdl, &["entities"]);
        let group_end = needs_of(
            &plan(
                &format!("{kdl} task \"after\" {{ run \"x\"; needs \"entities\" }}"),
                &["after"],
            ),
            "after",
        );
        assert_eq!(group_end, ["entities/product-tag/verify"]);
        assert_eq!(p.tasks.len(), 13);
    }

    #[test]
    fn a_group_without_steps_passes_its_needs_through() {
        let p = plan(
            r#"task "a" { run "x" }
            entities { needs "a"; entity "e" }
            task "b" { run "y"; needs "entities/e" }"#,
            &["b"],
        );
        assert_eq!(needs_of(&p, "b"), ["a"]);
    }
}
