//! Entity waves: wave 1 has no relations; otherwise 1 + the highest wave
//! among an entity's relations.

use std::collections::{HashMap, VecDeque};

use super::EntityGroup;

/// The wave of each entity of `group`, in declaration order. Relations to
/// unknown entities are ignored and entities on a cycle get the wave reached
/// so far, so this is total even on a config that failed validation (which
/// reports both). Kahn's algorithm: no recursion, so long chains are fine.
pub(crate) fn entity_waves(group: &EntityGroup) -> Vec<u32> {
    let count = group.entities.len();
    let mut pending = vec![0usize; count];
    let mut dependents = vec![Vec::new(); count];
    for (i, related) in relation_indices(group).into_iter().enumerate() {
        for j in related {
            pending[i] += 1;
            dependents[j].push(i);
        }
    }
    let mut waves = vec![1u32; count];
    let mut ready: VecDeque<usize> = (0..count).filter(|&i| pending[i] == 0).collect();
    while let Some(j) = ready.pop_front() {
        for &i in &dependents[j] {
            waves[i] = waves[i].max(waves[j] + 1);
            pending[i] -= 1;
            if pending[i] == 0 {
                ready.push_back(i);
            }
        }
    }
    waves
}

/// For each entity of `group`, the indices of the entities it relates to,
/// in written order; relations to unknown names are left out.
pub(crate) fn relation_indices(group: &EntityGroup) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = group
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    group
        .entities
        .iter()
        .map(|e| {
            e.relations
                .iter()
                .filter_map(|r| index.get(r.as_str()).copied())
                .collect()
        })
        .collect()
}
