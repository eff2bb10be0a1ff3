//! `--shard I/N`: the selection split into `N` parts for `N` CI jobs.
//!
//! Tasks connected by needs, in either direction, form a group that stays
//! whole, so no shard waits for another. Groups (in the order of their
//! first task) are dealt largest first to the least-loaded shard, ties to
//! the lower index. Weighed by expected durations when the caller has them
//! (the history's medians), else by task count.
//!
//! Each CI job computes its shard for itself, so every job must arrive at
//! the same split: a split depends on the plan alone (equal counts), unless
//! the jobs are handed one, the [`Split::token`] that
//! `plan --format github-matrix` prints after balancing by durations on one
//! machine. A token made for another plan (a different number of groups) is
//! refused rather than trusted.

use std::time::Duration;

use super::Plan;

/// Which shard each group goes to, and which group each task is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    group_of: Vec<usize>,
    shard_of_group: Vec<usize>,
    shards: usize,
}

/// Digits of a token: one per group, its shard.
const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/// At most this many shards can be handed over in a token.
pub(crate) const MAX_TOKEN_SHARDS: usize = DIGITS.len();

fn groups(plan: &Plan) -> Vec<usize> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let count = plan.tasks.len();
    let mut parent: Vec<usize> = (0..count).collect();
    for task in &plan.tasks {
        for need in &task.needs {
            let (a, b) = (
                root(&mut parent, task.id.index()),
                root(&mut parent, need.index()),
            );
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut index_of_root = std::collections::HashMap::new();
    (0..count)
        .map(|i| {
            let r = root(&mut parent, i);
            let next = index_of_root.len();
            *index_of_root.entry(r).or_insert(next)
        })
        .collect()
}

impl Split {
    /// Groups dealt to `n` shards by `expected` durations (by task id;
    /// each task counts the same where there are none).
    pub(crate) fn balanced(plan: &Plan, n: usize, expected: &[Duration]) -> Self {
        let group_of = groups(plan);
        let count = group_of.iter().max().map_or(0, |g| g + 1);
        let mut weight = vec![Duration::ZERO; count];
        let mut first = vec![usize::MAX; count];
        for (task, &g) in group_of.iter().enumerate() {
            weight[g] += expected
                .get(task)
                .copied()
                .unwrap_or(Duration::from_millis(1));
            first[g] = first[g].min(task);
        }
        let mut order: Vec<usize> = (0..count).collect();
        order.sort_by(|&a, &b| weight[b].cmp(&weight[a]).then(first[a].cmp(&first[b])));
        let shards = n.max(1);
        let mut load = vec![Duration::ZERO; shards];
        let mut shard_of_group = vec![0; count];
        for g in order {
            let shard = (0..shards).min_by_key(|&s| (load[s], s)).unwrap_or(0);
            load[shard] += weight[g];
            shard_of_group[g] = shard;
        }
        Self {
            group_of,
            shard_of_group,
            shards,
        }
    }

    /// Each task's shard, from 0.
    pub(crate) fn by_task(&self) -> Vec<usize> {
        self.group_of
            .iter()
            .map(|&g| self.shard_of_group[g])
            .collect()
    }

    /// The split as a string a CI matrix can hand to every job; `None`
    /// past [`MAX_TOKEN_SHARDS`] shards.
    pub(crate) fn token(&self) -> Option<String> {
        (self.shards <= MAX_TOKEN_SHARDS).then(|| {
            let digits: String = self
                .shard_of_group
                .iter()
                .map(|&s| char::from(DIGITS[s]))
                .collect();
            format!("{}:{digits}", self.shards)
        })
    }

    /// The split a token describes, for this plan and `n` shards; why not
    /// when it was made for another plan or another number of shards.
    pub(crate) fn from_token(plan: &Plan, n: usize, token: &str) -> Result<Self, String> {
        let (shards, digits) = token
            .split_once(':')
            .ok_or_else(|| "a split looks like `4:0123…`".to_owned())?;
        if shards.parse::<usize>().ok() != Some(n) {
            return Err(format!("the split is for {shards} shards, not {n}"));
        }
        let group_of = groups(plan);
        let count = group_of.iter().max().map_or(0, |g| g + 1);
        let shard_of_group: Vec<usize> = digits
            .bytes()
            .map(|d| DIGITS.iter().position(|&x| x == d).filter(|&s| s < n))
            .collect::<Option<_>>()
            .ok_or_else(|| "the split holds a shard that does not exist".to_owned())?;
        if shard_of_group.len() != count {
            return Err(format!(
                "the split was made for another plan ({} groups of tasks, this plan has {count})",
                shard_of_group.len()
            ));
        }
        Ok(Self {
            group_of,
            shard_of_group,
            shards: n,
        })
    }
}

/// `{"include": [...]}` for a workflow's `strategy.matrix`: with `shards`,
/// one entry per shard (`shard` as `I/N`, its task count, the milliseconds
/// `expected` durations add up to, and the split token every job passes
/// back with `--split`), balanced by `expected` when given; else one entry
/// per target of the plan.
pub(crate) fn github_matrix(
    plan: &Plan,
    shards: Option<usize>,
    expected: Option<&[Duration]>,
) -> String {
    let include: Vec<serde_json::Value> = if let Some(n) = shards {
        let balanced = Split::balanced(plan, n, expected.unwrap_or(&[]));
        let token = balanced.token();
        let split = balanced.by_task();
        (0..n)
            .map(|s| {
                let tasks = split.iter().filter(|&&x| x == s).count();
                let ms: u128 = expected.map_or(0, |e| {
                    split
                        .iter()
                        .zip(e)
                        .filter(|&(&x, _)| x == s)
                        .map(|(_, d)| d.as_millis())
                        .sum()
                });
                let mut entry = serde_json::json!({
                    "shard": format!("{}/{n}", s + 1),
                    "tasks": tasks,
                    "expected_ms": ms,
                });
                if let Some(token) = &token {
                    entry["split"] = token.clone().into();
                }
                entry
            })
            .collect()
    } else {
        plan.tasks
            .iter()
            .filter(|t| t.kind == super::TaskKind::Target)
            .map(|t| serde_json::json!({ "target": t.address.as_str() }))
            .collect()
    };
    format!("{:#}\n", serde_json::json!({ "include": include }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{plan, task};

    fn five() -> Plan {
        // a→b (10 s + 10 s), c (15 s), d (4 s), e (1 s).
        plan(vec![
            task(0, "a", &[]),
            task(1, "b", &[0]),
            task(2, "c", &[]),
            task(3, "d", &[]),
            task(4, "e", &[]),
        ])
    }

    #[test]
    fn groups_go_largest_first_to_the_least_loaded_shard() {
        let p = five();
        let s = |n: u64| Duration::from_secs(n);
        let expected = [s(10), s(10), s(15), s(4), s(1)];
        // a+b (20) to shard 0, c (15) to 1, d (4) to 1 (19), e (1) to 1 (20).
        assert_eq!(Split::balanced(&p, 2, &expected).by_task(), [0, 0, 1, 1, 1]);
        assert_eq!(Split::balanced(&p, 1, &expected).by_task(), [0, 0, 0, 0, 0]);
        assert_eq!(Split::balanced(&p, 3, &expected).by_task(), [0, 0, 1, 2, 2]);
    }

    #[test]
    fn a_token_carries_the_split_and_is_refused_for_another_plan() {
        let p = five();
        let expected = [10, 10, 15, 4, 1].map(Duration::from_secs);
        let split = Split::balanced(&p, 2, &expected);
        let token = split.token().unwrap();
        assert_eq!(token, "2:0111");
        assert_eq!(Split::from_token(&p, 2, &token).unwrap(), split);
        assert!(
            Split::from_token(&p, 3, &token)
                .unwrap_err()
                .contains("2 shards")
        );
        let smaller = plan(vec![task(0, "a", &[])]);
        let err = Split::from_token(&smaller, 2, &token).unwrap_err();
        assert!(err.contains("another plan"), "{err}");
        assert!(Split::from_token(&p, 2, "2:0119").is_err());
    }
}
