//! A rule's files: a `foreach` pattern that is not a glob or leaves the
//! project is an error, one that matches nothing a warning, and two files
//! that would be the same task (`src/main.c` and `src/main.h` under
//! `src/*`) an error.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::model::Model;

pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (r, rule) in model.config().rules.iter().enumerate() {
        for foreach in &rule.foreach {
            match &foreach.matched {
                Err(message) => out.push(Diagnostic::InvalidValue {
                    setting: "foreach".into(),
                    message: message.clone(),
                    span: foreach.pattern.span,
                    help: Some("write a path or glob relative to the project: `src/*.c`".into()),
                }),
                Ok(files) if files.is_empty() => out.push(Diagnostic::UnmatchedForeach {
                    pattern: foreach.pattern.value.clone(),
                    rule: rule.name.value.clone(),
                    span: foreach.pattern.span,
                }),
                Ok(_) => {}
            }
        }
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for file in model.rule_files(r) {
            if let Some(first) = seen.insert(&file.member, &file.path) {
                let span = rule
                    .foreach
                    .iter()
                    .find(|f| f.matched.as_ref().is_ok_and(|m| m.contains(&file.path)))
                    .map_or(rule.span, |f| f.pattern.span);
                out.push(Diagnostic::RuleCollision {
                    address: format!("{}/{}", rule.name.value, file.member),
                    first: first.to_owned(),
                    second: file.path.clone(),
                    span,
                });
            }
        }
    }
}
