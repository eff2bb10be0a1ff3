//! Property tests: random valid configurations (tasks, an entity group,
//! milestones with phases and pipelines, targets, gates everywhere) are
//! compiled, and the plan must keep the rules: every `needs`, `relation`
//! and `depends-on` becomes its edge, no task is in a wave before what it
//! needs, selection is exactly the dependency closure, and `--skip` keeps
//! every remaining path.

use std::collections::{BTreeSet, HashMap};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::arbitrary::{Spec, picks, spec};
use super::testing::{model, plan_with};
use super::{Selection, compile};
use crate::plan::Plan;

/// Address → addresses it needs.
fn edges(plan: &Plan) -> HashMap<String, BTreeSet<String>> {
    plan.tasks
        .iter()
        .map(|t| {
            let needs = t
                .needs
                .iter()
                .map(|n| plan.task(*n).address.to_string())
                .collect();
            (t.address.to_string(), needs)
        })
        .collect()
}

fn has_edge(e: &HashMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    e.get(from).is_some_and(|needs| needs.contains(to))
}

/// Every edge a rule of the language promises, checked on the full plan.
fn check_rule_edges(
    spec: &Spec,
    e: &HashMap<String, BTreeSet<String>>,
) -> Result<(), TestCaseError> {
    for (i, (needs, _)) in spec.tasks.iter().enumerate() {
        for j in picks(needs, i) {
            prop_assert!(
                has_edge(e, &format!("t{i}"), &spec.task_end(j)),
                "t{i} needs t{j}"
            );
        }
    }
    if let Some(g) = &spec.group {
        let last = if g.each_gate {
            Some("verify".to_owned())
        } else {
            g.steps.checked_sub(1).map(|s| format!("s{s}"))
        };
        let first = if g.steps > 0 {
            Some("s0".to_owned())
        } else {
            last.clone()
        };
        if let (Some(first), Some(last)) = (first, last) {
            for (j, relations) in g.relations.iter().enumerate() {
                let from = format!("entities/e{j}/{first}");
                for r in picks(relations, j) {
                    prop_assert!(
                        has_edge(e, &from, &format!("entities/e{r}/{last}")),
                        "e{j} relates to e{r}"
                    );
                }
                for t in picks(&g.needs, spec.tasks.len()) {
                    prop_assert!(has_edge(e, &from, &spec.task_end(t)), "entities need t{t}");
                }
            }
        }
    }
    for (m, ms) in spec.milestones.iter().enumerate() {
        let phase_end = |x: usize| {
            if ms.phases[x].2 {
                format!("m{m}/p{x}/verify")
            } else {
                format!("m{m}/p{x}")
            }
        };
        for (x, (mode, deps, _)) in ms.phases.iter().enumerate() {
            let from = format!("m{m}/p{x}");
            let deps = picks(deps, x);
            match mode {
                2 if !deps.is_empty() => {
                    for d in deps {
                        prop_assert!(has_edge(e, &from, &phase_end(d)), "{from} depends on p{d}");
                    }
                }
                0 if x > 0 => prop_assert!(has_edge(e, &from, &phase_end(x - 1)), "{from} follows"),
                _ => {}
            }
        }
        let full = ms.pipeline == 2 || (ms.pipeline == 0 && spec.project_full);
        let first = if full {
            Some(format!("m{m}/design"))
        } else {
            (!ms.phases.is_empty()).then(|| format!("m{m}/p0"))
        };
        if let Some(first) = first {
            for t in picks(&ms.needs_tasks, spec.tasks.len()) {
                prop_assert!(has_edge(e, &first, &spec.task_end(t)), "{first} needs t{t}");
            }
        }
    }
    for (g, (needs, gate)) in spec.targets.iter().enumerate() {
        let waiter = if *gate {
            format!("g{g}/verify")
        } else {
            format!("g{g}")
        };
        if *gate {
            prop_assert!(
                has_edge(e, &format!("g{g}"), &waiter),
                "g{} needs its gate",
                g
            );
        }
        for t in picks(needs, spec.tasks.len()) {
            prop_assert!(
                has_edge(e, &waiter, &spec.task_end(t)),
                "{waiter} needs t{t}"
            );
        }
    }
    Ok(())
}

/// The tasks reachable from `roots` along needs, in the full plan.
fn closure(e: &HashMap<String, BTreeSet<String>>, roots: &[String]) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = roots.to_vec();
    while let Some(a) = stack.pop() {
        if seen.insert(a.clone()) {
            stack.extend(e[&a].iter().cloned());
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn plans_keep_the_rules(spec in spec(), pick in vec(any::<Index>(), 1..4), skip in any::<Index>()) {
        let kdl = spec.kdl();
        let full = plan_with(&kdl, &[], None, &[]);
        for task in &full.tasks {
            for need in &task.needs {
                prop_assert!(need.0 < task.id.0, "plan order is topological");
                prop_assert!(full.task(*need).wave < task.wave, "{} before a need", task.address);
            }
            let highest = task.needs.iter().map(|n| full.task(*n).wave).max().unwrap_or(0);
            prop_assert_eq!(task.wave, highest + 1);
        }
        let e = edges(&full);
        check_rule_edges(&spec, &e)?;

        // Selection: exactly the closure of the tasks each address names.
        let all: Vec<String> = full.tasks.iter().map(|t| t.address.to_string()).collect();
        if all.is_empty() {
            return Ok(());
        }
        let mut candidates: Vec<String> = all.iter().flat_map(|a| {
            let parts: Vec<&str> = a.split('/').collect();
            (1..=parts.len()).map(move |n| parts[..n].join("/"))
        }).collect();
        // Every address and every prefix of one, except `entities/wave-N`,
        // which is only part of an address.
        candidates.retain(|c| all.contains(c) || !c.contains("/wave-"));
        candidates.sort();
        candidates.dedup();
        let chosen: Vec<String> = pick.iter().map(|i| candidates[i.index(candidates.len())].clone()).collect();
        let roots: Vec<String> = all
            .iter()
            .filter(|a| chosen.iter().any(|c| *a == c || a.starts_with(&format!("{c}/"))))
            .cloned()
            .collect();
        let selection = Selection { addresses: chosen.clone(), ..Selection::default() };
        let selected = compile(&model(&kdl), &selection).unwrap();
        let got: BTreeSet<String> = selected.tasks.iter().map(|t| t.address.to_string()).collect();
        prop_assert_eq!(&got, &closure(&e, &roots), "selecting {:?}", chosen);
        for (address, needs) in edges(&selected) {
            prop_assert_eq!(&needs, &e[&address], "selection keeps {}'s edges", address);
        }

        // Skip: what remains keeps every path it had through skipped tasks.
        let names: BTreeSet<&str> = all.iter().map(|a| a.rsplit('/').next().unwrap()).collect();
        let names: Vec<&str> = names.into_iter().collect();
        let name = names[skip.index(names.len())];
        let skipped = plan_with(&kdl, &[], None, &[name]);
        let kept = edges(&skipped);
        for a in kept.keys() {
            let before = closure(&e, std::slice::from_ref(a));
            let after = closure(&kept, std::slice::from_ref(a));
            let expected: BTreeSet<String> = before.into_iter().filter(|x| kept.contains_key(x)).collect();
            prop_assert_eq!(after, expected, "--skip {} keeps what {} needs", name, a);
        }
    }
}
