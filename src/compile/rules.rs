//! Lowering a rule: one task per matched file, `rule/member`, each needing
//! the rule's `needs`, with the file as its first input and `{in}`, `{out}`,
//! `{stem}`, `{dir}`, `{name}` expanded. Needing the rule waits for all of
//! them; a rule that matched nothing passes its own needs through.

use super::lower::Lowering;
use super::templates::{FileScope, Origin, Scope};
use crate::plan::{TaskId, TaskKind};

impl Lowering<'_> {
    /// Lowers rule `r`; returns its ends: every file's task.
    pub(super) fn rule(&mut self, r: usize) -> Vec<TaskId> {
        let model = self.model;
        let rule = &model.config().rules[r];
        let needs = self.needs(&rule.body.needs);
        let mut ends = Vec::with_capacity(model.rule_files(r).len());
        for file in model.rule_files(r) {
            let address = format!("{}/{}", rule.name.value, file.member);
            // `{out}` is the outputs, which are themselves templates of the
            // file (validation keeps `{out}` out of them).
            let paths = Scope {
                task: &address,
                file: Some(FileScope { file, out: "" }),
                ..Scope::default()
            };
            let out: Vec<String> = rule
                .body
                .outputs
                .iter()
                .map(|o| self.vars.text(&paths, o))
                .collect();
            let out = out.join(" ");
            let origin = Origin {
                scope: Scope {
                    file: Some(FileScope { file, out: &out }),
                    ..Scope::default()
                },
                address,
                kind: TaskKind::Task,
                group: None,
                declared: rule.span,
            };
            let mut task = self.vars.body_task(origin, &rule.body);
            task.inputs.insert(0, file.path.as_str().into());
            ends.push(self.out.graph.push(task, &file.member, needs.clone()));
        }
        if ends.is_empty() { needs } else { ends }
    }
}
