//! Test-only builders for plans: a task with every setting at its default,
//! and a plan around a list of tasks, so unit tests of the runner and the
//! reports state only what they are about.

use super::{Cmd, Plan, PlanTask, TaskId, TaskKind};

/// A plain task whose one command is its own address.
pub(crate) fn task(id: u32, address: &str, needs: &[u32]) -> PlanTask {
    PlanTask {
        id: TaskId(id),
        address: address.into(),
        kind: TaskKind::Task,
        group: None,
        commands: vec![Cmd::Shell(address.into())],
        gate: None,
        needs: needs.iter().map(|n| TaskId(*n)).collect(),
        wave: 1,
        inputs: Vec::new(),
        outputs: Vec::new(),
        env: Vec::new(),
        dir: None,
        timeout: None,
        retries: 0,
        pool: None,
        confirm: None,
        interactive: false,
        depfile: None,
        jobserver: None,
        cache: true,
        dotenv: 0,
        description: None,
        declared: (0, 0).into(),
    }
}

/// A plan of `tasks` for project `test`, with no pools, secrets or skips.
pub(crate) fn plan(tasks: Vec<PlanTask>) -> Plan {
    Plan {
        project: "test".into(),
        shell: Vec::new(),
        pools: Vec::new(),
        jobs: None,
        secrets: Vec::new(),
        lock_timeout: None,
        cache_size: None,
        cache_url: None,
        dotenv: vec![Vec::new()],
        tasks,
        skipped: Vec::new(),
        foreach: Vec::new(),
    }
}
