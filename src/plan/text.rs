//! `orchestra plan --format text`: the waves in order, each task with its
//! kind, settings, commands after templating (or a gate's checks) and what
//! it waits for, then what `--skip` left out and a summary line. Within a
//! wave, tasks keep the plan's order.

use std::fmt::Write;

use super::describe::{command_line, kind_name};
use super::{Group, Plan, PlanTask, left_out_by};
use crate::model::format_duration;
use crate::words::plural;

/// How many needs a task lists before summarising the rest: a wave gate of
/// a large group waits for thousands of tasks.
const NEEDS_SHOWN: usize = 8;

pub(crate) fn render(plan: &Plan) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail, so results are ignored below.
    let _ = writeln!(out, "plan for `{}`", plan.project);
    let mut waves: Vec<Vec<&PlanTask>> = vec![Vec::new(); plan.wave_count() as usize];
    for task in &plan.tasks {
        waves[task.wave as usize - 1].push(task);
    }
    for (w, tasks) in waves.iter().enumerate() {
        let _ = writeln!(out, "\nwave {}", w + 1);
        for task in tasks {
            write_task(&mut out, plan, task);
        }
    }
    if !plan.skipped.is_empty() {
        out.push('\n');
        for skipped in &plan.skipped {
            let _ = writeln!(
                out,
                "skipped {} ({})",
                skipped.address,
                left_out_by(&skipped.by)
            );
        }
    }
    let path = plan.longest_wave_chain();
    let _ = write!(
        out,
        "\n{}, {}, critical path {}",
        plural(plan.tasks.len(), "task"),
        plural(plan.wave_count() as usize, "wave"),
        plural(path.len(), "task"),
    );
    if !path.is_empty() {
        let names: Vec<&str> = path
            .iter()
            .map(|&id| plan.task(id).address.as_str())
            .collect();
        let _ = write!(out, ": {}", names.join(" → "));
    }
    out.push('\n');
    out
}

fn write_task(out: &mut String, plan: &Plan, task: &PlanTask) {
    let mut details = vec![kind_name(task.kind).to_owned()];
    if let Some(gate) = &task.gate {
        details[0] = format!("{} {}", details[0], gate.name);
        if gate.retries > 0 {
            details.push(format!("retries {}", gate.retries));
        }
    }
    // Task waves count every step; the entity's own wave is what a reader
    // checks against its relations.
    if let Some(Group::Entity { wave, .. }) = task.group.as_deref() {
        details.push(format!("entity wave {wave}"));
    }
    if let Some(pool) = &task.pool {
        details.push(format!("pool {pool}"));
    }
    if let Some(depfile) = &task.depfile {
        details.push(format!("depfile {depfile}"));
    }
    if let Some(style) = task.jobserver {
        details.push(format!("jobserver {}", style.as_str()));
    }
    if let Some(timeout) = task.timeout {
        details.push(format!("timeout {}", format_duration(timeout)));
    }
    if task.retries > 0 {
        details.push(format!("retries {}", task.retries));
    }
    if let Some(dir) = &task.dir {
        details.push(format!("dir {dir}"));
    }
    if task.interactive {
        details.push("interactive".to_owned());
    }
    let _ = writeln!(out, "  {}  ({})", task.address, details.join(", "));
    if let Some(confirm) = &task.confirm {
        let _ = writeln!(out, "    confirm: {confirm}");
    }
    for command in &task.commands {
        // A script over several lines keeps them under its `$`.
        let line = command_line(command).replace('\n', "\n      ");
        let _ = writeln!(out, "    $ {line}");
    }
    for check in task.gate.iter().flat_map(|g| &g.checks) {
        let _ = write!(
            out,
            "    check {}: {}",
            check.name,
            command_line(&check.command)
        );
        if let Some(fix) = &check.fix {
            let _ = write!(out, " (fix: {})", command_line(fix));
        }
        if check.optional {
            out.push_str(" (optional)");
        }
        out.push('\n');
    }
    if !task.needs.is_empty() {
        let names: Vec<&str> = task
            .needs
            .iter()
            .take(NEEDS_SHOWN)
            .map(|&n| plan.task(n).address.as_str())
            .collect();
        let _ = write!(out, "    after {}", names.join(", "));
        if task.needs.len() > NEEDS_SHOWN {
            let _ = write!(out, " and {} more", task.needs.len() - NEEDS_SHOWN);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use crate::compile::testing::{plan, plan_with};

    #[test]
    fn waves_tasks_and_summary() {
        let p = plan_with(
            r#"project "demo"
            pool "db" depth=1
            gate "verify" retries=1 { check "fmt" "cargo fmt --check" fix="cargo fmt"; check "t" "true"; }
            task "a" { run "echo" "a b"; pool "db"; timeout "15m"; }
            task "b" { run "echo b"; needs "a"; gate "verify"; }"#,
            &["b"],
            None,
            &["t"],
        );
        insta::assert_snapshot!(super::render(&p), @r"
        plan for `demo`

        wave 1
          a  (task, pool db, timeout 15m)
            $ echo 'a b'

        wave 2
          b  (task)
            $ echo b
            after a

        wave 3
          b/verify  (gate verify, retries 1)
            check fmt: cargo fmt --check (fix: cargo fmt)
            after b

        skipped b/verify/t (--skip t)

        3 tasks, 3 waves, critical path 3 tasks: a → b → b/verify
        ");
    }

    #[test]
    fn a_command_over_several_lines_stays_under_its_dollar() {
        let text = super::render(&plan(
            "task \"t\" { run \"set -e\\nmake all\\nmake check\"; }",
            &["t"],
        ));
        assert!(
            text.contains("    $ set -e\n      make all\n      make check\n"),
            "{text}"
        );
    }

    #[test]
    fn many_needs_are_summarised() {
        let mut kdl = String::new();
        for i in 0..10 {
            let _ = writeln!(kdl, "task \"t{i}\" {{ run \"x\"; }}");
        }
        kdl.push_str("task \"all\" { run \"x\"; needs \"t0\" \"t1\" \"t2\" \"t3\" \"t4\" \"t5\" \"t6\" \"t7\" \"t8\" \"t9\"; }");
        let text = super::render(&plan(&kdl, &["all"]));
        assert!(
            text.contains("after t0, t1, t2, t3, t4, t5, t6, t7 and 2 more\n"),
            "{text}"
        );
    }
}
