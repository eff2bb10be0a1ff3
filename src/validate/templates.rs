//! Every `{name}` in a command, path or message must name a variable that
//! exists where the template is expanded:
//!
//! | where                         | variables                                  |
//! |-------------------------------|--------------------------------------------|
//! | everywhere                    | `project`, `task`, every `vars` entry      |
//! | `each` steps                  | + `entity` and every entity property       |
//! | pipeline stages               | + `milestone`                              |
//! | milestone phases              | + `milestone`, `phase`                     |
//! | rules                         | + `in`, `stem`, `dir`, `name`; and `out`   |
//! |                               |   except in `inputs`, `outputs`, `depfile` |

use crate::diagnostic::Diagnostic;
use crate::model::template::{self, Piece};
use crate::model::{Body, Command, EnvVar, Model, PipelineItem, RULE_VARS, Span, Spanned};
use crate::words::suggest;

pub(super) fn check(model: &Model, source: &str, out: &mut Vec<Diagnostic>) {
    let c = model.config();
    let mut base: Vec<String> = vec!["project".into(), "task".into(), "args".into()];
    base.extend(c.vars.iter().map(|v| v.name.value.clone()));
    let mut t = Templates { source, out };
    t.env(&c.project.env, &base);
    for task in &c.tasks {
        t.body(&task.body, &base);
    }
    for gate in &c.gates {
        for check in &gate.checks {
            t.command(&check.command, &base);
            check.fix.iter().for_each(|f| t.command(f, &base));
            check.dir.iter().for_each(|d| t.text(d, &base));
            t.env(&check.env, &base);
        }
    }
    for group in &c.entity_groups {
        let mut scope = base.clone();
        scope.push("entity".into());
        for entity in &group.entities {
            for (key, _) in &entity.properties {
                if !scope.contains(&key.value) {
                    scope.push(key.value.clone());
                }
            }
        }
        group.steps.iter().for_each(|s| t.body(&s.body, &scope));
    }
    for rule in &c.rules {
        let mut paths = base.clone();
        paths.extend(
            RULE_VARS
                .iter()
                .filter(|v| **v != "out")
                .map(|v| (*v).to_owned()),
        );
        let mut scope = paths.clone();
        scope.push("out".into());
        let b = &rule.body;
        b.run.iter().for_each(|c| t.command(c, &scope));
        for text in b.inputs.iter().chain(&b.outputs).chain(&b.depfile) {
            t.text(text, &paths);
        }
        for text in b.dir.iter().chain(&b.description) {
            t.text(text, &scope);
        }
        t.env(&b.env, &scope);
    }
    let mut milestone_scope = base.clone();
    milestone_scope.push("milestone".into());
    for pipeline in &c.pipelines {
        for item in &pipeline.items {
            if let PipelineItem::Stage(stage) = item {
                t.body(&stage.body, &milestone_scope);
            }
        }
    }
    let mut phase_scope = milestone_scope.clone();
    phase_scope.push("phase".into());
    for milestone in &c.milestones {
        milestone.description.iter().for_each(|d| t.text(d, &base));
        milestone
            .phases
            .iter()
            .for_each(|p| t.body(&p.body, &phase_scope));
    }
    for target in &c.targets {
        target.description.iter().for_each(|d| t.text(d, &base));
    }
}

struct Templates<'a> {
    source: &'a str,
    out: &'a mut Vec<Diagnostic>,
}

impl Templates<'_> {
    fn body(&mut self, body: &Body, scope: &[String]) {
        body.run.iter().for_each(|c| self.command(c, scope));
        for text in body.inputs.iter().chain(&body.outputs) {
            self.text(text, scope);
        }
        for text in [&body.dir, &body.depfile, &body.confirm, &body.description]
            .into_iter()
            .flatten()
        {
            self.text(text, scope);
        }
        self.env(&body.env, scope);
    }

    fn env(&mut self, env: &[EnvVar], scope: &[String]) {
        for e in env {
            self.text(&e.value, scope);
        }
    }

    fn command(&mut self, command: &Command, scope: &[String]) {
        for (word, span) in command.words().into_iter().zip(&command.word_spans) {
            self.check(word, *span, scope);
        }
    }

    fn text(&mut self, text: &Spanned<String>, scope: &[String]) {
        self.check(text, text.span, scope);
    }

    fn check(&mut self, text: &str, literal: Span, scope: &[String]) {
        match template::parse(text) {
            Err(e) => self.out.push(Diagnostic::Template {
                message: e.kind.to_string(),
                span: super::inner_span(self.source, literal, text, e.offset, e.len),
            }),
            Ok(pieces) => {
                for piece in pieces {
                    if let Piece::Var { name, offset } = piece
                        && !scope.iter().any(|s| s == name)
                    {
                        self.out.push(Diagnostic::UnknownTemplateVariable {
                            name: name.into(),
                            span: super::inner_span(
                                self.source,
                                literal,
                                text,
                                offset,
                                name.len() + 2,
                            ),
                            suggestion: suggest(name, scope.iter().map(String::as_str)),
                            available: scope.to_vec(),
                        });
                    }
                }
            }
        }
    }
}
