//! Gates as tasks. A gate attached to an owner (task, phase, stage, `each`,
//! target) becomes a task `owner/gate` that needs the owner and that the
//! owner's dependents need instead; a `wave-gate` becomes one task per
//! wave; a gate built alone is a task named after the gate. Every gate task
//! carries its checks as data ([`GateSpec`]) for the runner, templated with
//! the gate task's own address as `{task}`.

use super::lower::Lowering;
use super::templates::{Origin, Scope};
use crate::model::{Gate, Spanned};
use crate::plan::{CheckSpec, GateSpec, Group, TaskId, TaskKind};

impl<'m> Lowering<'m> {
    /// Pushes a gate task at `address` that needs `needs`; returns its index.
    pub(super) fn gate(
        &mut self,
        address: String,
        gate: &'m Gate,
        kind: TaskKind,
        group: Option<Group>,
        needs: Vec<TaskId>,
    ) -> TaskId {
        let spec = self.gate_spec(gate, &Scope::task(&address));
        let mut task = self.vars.bare_task(Origin {
            scope: Scope::default(),
            address,
            kind,
            group,
            declared: gate.span,
        });
        task.gate = Some(Box::new(spec));
        // Gate descriptions are not templates (validation does not check
        // them), so they are shown as written.
        task.description = gate.description.as_ref().map(|d| d.value.clone());
        self.out.graph.push(task, &gate.name.value, needs)
    }

    /// The owner's gate, if it names one, as a task `owner/gate` that needs
    /// the owner. Returns what finishes the owner: the gate task, or the
    /// owner itself when it has no gate.
    pub(super) fn owned_gate(
        &mut self,
        owner: TaskId,
        gate: Option<&Spanned<String>>,
        group: Option<Group>,
    ) -> TaskId {
        let Some(gate) = gate.and_then(|g| self.model.gate(g)) else {
            return owner;
        };
        let address = format!(
            "{}/{}",
            self.out.graph.tasks[owner.index()].address,
            gate.name.value
        );
        let index = self.gate(address, gate, TaskKind::Gate, group, vec![owner]);
        self.out.graph.set_owner(index, owner);
        index
    }

    fn gate_spec(&self, gate: &Gate, scope: &Scope<'_>) -> GateSpec {
        let v = self.vars;
        GateSpec {
            name: gate.name.value.clone(),
            retries: gate.retries.as_ref().map_or(0, |r| r.value),
            checks: gate
                .checks
                .iter()
                .map(|check| CheckSpec {
                    name: check.name.value.clone(),
                    command: v.command(scope, &check.command),
                    fix: check.fix.as_ref().map(|f| v.command(scope, f)),
                    optional: check.optional,
                    timeout: check.timeout.as_ref().map(|t| t.value),
                    retries: check.retries.as_ref().map_or(0, |r| r.value),
                    dir: check.dir.as_ref().map(|d| v.text(scope, d)),
                    // The project env too, so a runner that gives a check
                    // only its own env still sees the project's.
                    env: v.env(scope, &check.env),
                    declared: check.span,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::testing::{addresses, needs_of, plan};
    use crate::model::CommandKind;
    use crate::plan::TaskKind;

    const GATE: &str = r#"
        project "p"
        gate "verify" retries=2 {
            check "lint" "lint {task}" fix="fix {project}" optional=#true
            check "test" "cargo" "test"
        }
    "#;

    #[test]
    fn a_task_gate_needs_the_task_and_dependents_need_the_gate() {
        let p = plan(
            &format!(
                r#"{GATE}
                task "a" {{ run "make a"; gate "verify" }}
                task "b" {{ run "make b"; needs "a" }}"#
            ),
            &[],
        );
        assert_eq!(addresses(&p), ["a", "a/verify", "b"]);
        assert_eq!(needs_of(&p, "a/verify"), ["a"]);
        assert_eq!(needs_of(&p, "b"), ["a/verify"]);
        let gate = p.tasks[1].gate.as_ref().unwrap();
        assert_eq!(p.tasks[1].kind, TaskKind::Gate);
        assert_eq!(gate.retries, 2);
        assert_eq!(
            gate.checks[0].command,
            CommandKind::Shell("lint a/verify".into())
        );
        assert_eq!(gate.checks[0].fix, Some(CommandKind::Shell("fix p".into())));
        assert!(gate.checks[0].optional);
        assert_eq!(
            gate.checks[1].command,
            CommandKind::Exec(vec!["cargo".into(), "test".into()])
        );
    }

    #[test]
    fn a_gate_named_as_the_address_runs_alone() {
        let p = plan(
            &format!(r#"{GATE} task "a" {{ run "x"; gate "verify" }}"#),
            &["verify"],
        );
        assert_eq!(addresses(&p), ["verify"]);
        assert!(p.tasks[0].needs.is_empty());
    }

    #[test]
    fn a_target_gate_runs_after_what_the_target_needs() {
        let p = plan(
            &format!(
                r#"{GATE}
                task "a" {{ run "x" }}
                task "b" {{ run "y" }}
                target "ci" {{ needs "a" "b"; gate "verify" }}"#
            ),
            &["ci"],
        );
        assert_eq!(addresses(&p), ["a", "b", "ci/verify", "ci"]);
        assert_eq!(needs_of(&p, "ci/verify"), ["a", "b"]);
        assert_eq!(needs_of(&p, "ci"), ["ci/verify"]);
        assert_eq!(p.tasks[3].kind, TaskKind::Target);
        assert!(p.tasks[3].commands.is_empty());
    }
}
