//! Programs a command starts must be on PATH: checked with `which` before
//! anything runs. An ordinary command's missing program is an error; an
//! `optional=#true` check's is a warning (it is skipped at run time).

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::model::{Command, CommandKind, Model, PipelineItem};

pub(super) fn check(model: &Model, source: &str, out: &mut Vec<Diagnostic>) {
    let c = model.config();
    let mut p = Programs {
        source,
        found: HashMap::new(),
        out,
    };
    for task in &c.tasks {
        task.body.run.iter().for_each(|cmd| p.command(cmd, None));
    }
    for gate in &c.gates {
        for check in &gate.checks {
            let optional = Some(check.optional);
            p.command(&check.command, optional);
            check.fix.iter().for_each(|f| p.command(f, optional));
        }
    }
    for group in &c.entity_groups {
        for step in &group.steps {
            step.body.run.iter().for_each(|cmd| p.command(cmd, None));
        }
    }
    for pipeline in &c.pipelines {
        for item in &pipeline.items {
            if let PipelineItem::Stage(stage) = item {
                stage.body.run.iter().for_each(|cmd| p.command(cmd, None));
            }
        }
    }
    for milestone in &c.milestones {
        for phase in &milestone.phases {
            phase.body.run.iter().for_each(|cmd| p.command(cmd, None));
        }
    }
    if let Some(shell) = &c.project.shell
        && let Some(program) = shell.first()
        && !p.on_path(program)
    {
        p.out.push(Diagnostic::ProgramNotFound {
            program: program.clone(),
            span: shell.span,
            optional: false,
            in_check: false,
        });
    }
}

struct Programs<'a> {
    source: &'a str,
    /// `which` results by program name: one lookup per distinct program.
    found: HashMap<String, bool>,
    out: &'a mut Vec<Diagnostic>,
}

impl Programs<'_> {
    fn on_path(&mut self, program: &str) -> bool {
        *self
            .found
            .entry(program.to_owned())
            .or_insert_with(|| which::which(program).is_ok())
    }

    /// `check`: `Some(optional)` for a gate's check, `None` otherwise.
    fn command(&mut self, command: &Command, check: Option<bool>) {
        let Some(program) = command.program() else {
            return;
        };
        if self.on_path(program) {
            return;
        }
        let first = command.word_spans.first().copied().unwrap_or(command.span);
        let span = match &command.kind {
            CommandKind::Shell(line) => {
                let at = line.len() - line.trim_start().len();
                super::inner_span(self.source, first, line, at, program.len())
            }
            CommandKind::Exec(_) => first,
        };
        self.out.push(Diagnostic::ProgramNotFound {
            program: program.into(),
            span,
            optional: check == Some(true),
            in_check: check.is_some(),
        });
    }
}
