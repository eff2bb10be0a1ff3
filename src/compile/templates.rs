//! Template expansion for the compiler: which `{name}` a task sees and
//! what it expands to, with `--set` overrides applied to `vars`.
//!
//! Lookup order: a rule's file variables (`in`, `out`, `stem`, `dir`,
//! `name`), the built-ins (`project`, `task`, `entity`, `milestone`,
//! `phase`), the entity's own properties, `vars`, and finally a property
//! that another entity of the group declares, which expands to the empty
//! string (so `{fields}` works for an entity that has none). Validation has
//! already rejected every other name.

use crate::compile::SelectionError;
use crate::model::template::{self, Piece, TemplateError, TemplateErrorKind};
use crate::model::{Body, Command, CommandKind, Entity, EnvVar, Model, RuleFile};
use crate::plan::{Cmd, Group, PlanTask, TaskId, TaskKind};
use crate::words::suggest;

use crate::model::Span;

/// The variables of the whole project, after `--set`.
#[derive(Debug)]
pub(super) struct Vars<'m> {
    project: &'m str,
    values: Vec<(&'m str, String)>,
    env: &'m [EnvVar],
    /// The project's `dotenv` files.
    dotenv: &'m [crate::model::Spanned<String>],
    /// Every list of dotenv files a task reads, the first empty: the
    /// plan's table ([`crate::plan::Plan::dotenv`]).
    dotenv_sets: std::cell::RefCell<Vec<Vec<String>>>,
    /// `-- ARGS…` and the task they are for (`{args}`).
    args: Option<Args>,
}

/// The arguments after `--`, for one task.
#[derive(Debug)]
struct Args {
    task: String,
    words: Vec<String>,
    /// Each word shell-quoted, joined by spaces: `{args}` in a shell line.
    quoted: String,
    /// `{args}` was expanded somewhere in the task: the arguments reached it.
    used: std::cell::Cell<bool>,
}

/// `word` as one shell word: as it is when it holds nothing a shell would
/// read, else in single quotes (a `'` inside written `'\''`).
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// What one task's templates may refer to besides the project's variables.
/// `task` is filled in from [`Origin::address`] when a task is built.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Scope<'a> {
    pub(super) task: &'a str,
    pub(super) entity: Option<(&'a Entity, &'a [&'a str])>,
    pub(super) milestone: Option<&'a str>,
    pub(super) phase: Option<&'a str>,
    /// In a rule: the file the task is for.
    pub(super) file: Option<FileScope<'a>>,
}

/// A rule task's file and its expanded outputs (`{out}`).
#[derive(Debug, Clone, Copy)]
pub(super) struct FileScope<'a> {
    pub(super) file: &'a RuleFile,
    pub(super) out: &'a str,
}

impl<'a> Scope<'a> {
    pub(super) fn task(task: &'a str) -> Self {
        Self {
            task,
            ..Self::default()
        }
    }
}

/// Where a task came from, for the fields that are not templates; the
/// scope's `task` is the address.
pub(super) struct Origin<'a> {
    pub(super) address: String,
    pub(super) kind: TaskKind,
    pub(super) group: Option<Group>,
    pub(super) declared: Span,
    pub(super) scope: Scope<'a>,
}

impl<'m> Vars<'m> {
    /// The project's variables with `set` (already split at `=`) applied.
    pub(super) fn new(model: &'m Model, set: &[(String, String)]) -> Result<Self, SelectionError> {
        let c = model.config();
        let mut values: Vec<(&str, String)> = c
            .vars
            .iter()
            .map(|v| (v.name.as_str(), v.value.value.clone()))
            .collect();
        for (name, value) in set {
            let Some(slot) = values.iter_mut().find(|(n, _)| *n == name) else {
                let declared: Vec<String> = c.vars.iter().map(|v| v.name.value.clone()).collect();
                return Err(SelectionError::UnknownVar {
                    name: name.clone(),
                    suggestion: suggest(name, declared.iter().map(String::as_str)),
                    declared,
                });
            };
            slot.1.clone_from(value);
        }
        Ok(Self {
            project: model.project_name(),
            values,
            env: &c.project.env,
            dotenv: &c.project.dotenv,
            dotenv_sets: std::cell::RefCell::new(vec![Vec::new()]),
            args: None,
        })
    }

    /// The index of `files` in the table of dotenv lists, added if new.
    fn dotenv_index(&self, files: Vec<String>) -> u16 {
        let mut sets = self.dotenv_sets.borrow_mut();
        let at = sets.iter().position(|s| *s == files).unwrap_or_else(|| {
            sets.push(files);
            sets.len() - 1
        });
        // 65,535 different lists of dotenv files is beyond any project.
        u16::try_from(at).unwrap_or(0)
    }

    /// The table of dotenv lists the tasks index, for the plan.
    pub(super) fn dotenv_table(&self) -> Vec<Vec<String>> {
        self.dotenv_sets.take()
    }

    /// `{args}` in the task at `task` is `words`; anywhere else, nothing.
    pub(super) fn args_for(&mut self, task: &str, words: &[String]) {
        let quoted: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
        self.args = Some(Args {
            task: task.to_owned(),
            words: words.to_vec(),
            quoted: quoted.join(" "),
            used: std::cell::Cell::new(false),
        });
    }

    /// Whether the arguments after `--`, if any, reached a `{args}`.
    pub(super) fn args_reached(&self) -> bool {
        self.args
            .as_ref()
            .is_none_or(|a| a.words.is_empty() || a.used.get())
    }

    /// The arguments `scope`'s task gets.
    fn args_of(&self, scope: &Scope<'_>) -> Option<&Args> {
        let args = self.args.as_ref().filter(|a| a.task == scope.task)?;
        args.used.set(true);
        Some(args)
    }

    fn lookup<'s>(&'s self, scope: &Scope<'s>, name: &str) -> Option<&'s str> {
        if let Some(FileScope { file, out }) = scope.file {
            let value = match name {
                "in" => Some(file.path.as_str()),
                "out" => Some(out),
                "stem" => Some(file.stem()),
                "dir" => Some(file.dir()),
                "name" => Some(file.name()),
                _ => None,
            };
            if value.is_some() {
                return value;
            }
        }
        let builtin = match name {
            "args" => Some(self.args_of(scope).map_or("", |a| a.quoted.as_str())),
            "project" => Some(self.project),
            "task" => Some(scope.task),
            "entity" => scope.entity.map(|(e, _)| e.name.as_str()),
            "milestone" => scope.milestone,
            "phase" => scope.phase,
            _ => None,
        };
        if builtin.is_some() {
            return builtin;
        }
        if let Some((entity, _)) = scope.entity
            && let Some((_, v)) = entity.properties.iter().find(|(k, _)| k.as_str() == name)
        {
            return Some(v.as_str());
        }
        if let Some((_, v)) = self.values.iter().find(|(n, _)| *n == name) {
            return Some(v);
        }
        match scope.entity {
            Some((_, group_keys)) if group_keys.contains(&name) => Some(""),
            _ => None,
        }
    }

    /// Expands `text`. Text without braces is copied as is (the common case,
    /// and the fast one); values are appended in place rather than built as
    /// strings, since a large plan expands hundreds of thousands of these.
    /// A name validation missed leaves the text as written rather than
    /// dropping it, so a bug shows in the plan instead of vanishing.
    pub(super) fn text(&self, scope: &Scope<'_>, text: &str) -> String {
        if !text.contains(['{', '}']) {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 16);
        let expanded = template::scan(text, |piece| {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Brace(c) => out.push(c),
                Piece::Var { name, offset } => {
                    let value = self.lookup(scope, name).ok_or_else(|| TemplateError {
                        offset,
                        len: name.len() + 2,
                        kind: TemplateErrorKind::BadName(name.to_owned()),
                    })?;
                    out.push_str(value);
                }
            }
            Ok(())
        });
        match expanded {
            Ok(()) => out,
            Err(_) => text.to_owned(),
        }
    }

    pub(super) fn command(&self, scope: &Scope<'_>, command: &Command) -> Cmd {
        match &command.kind {
            CommandKind::Shell(line) => CommandKind::Shell(self.text(scope, line).into()),
            CommandKind::Exec(argv) => {
                let mut words = Vec::with_capacity(argv.len());
                for word in argv {
                    // A word that is `{args}` alone becomes the arguments,
                    // one word each, unquoted: nothing parses them again.
                    if word == "{args}" {
                        let given = self.args_of(scope).map(|a| a.words.as_slice());
                        words.extend(given.unwrap_or_default().iter().cloned());
                    } else {
                        words.push(self.text(scope, word));
                    }
                }
                CommandKind::Exec(words.into_iter().map(Into::into).collect())
            }
        }
    }

    /// The project's env, then `own`, templated; a later entry replaces an
    /// earlier one of the same name in place, so each key appears once.
    pub(super) fn env(&self, scope: &Scope<'_>, own: &[EnvVar]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::with_capacity(self.env.len() + own.len());
        for e in self.env.iter().chain(own) {
            let value = self.text(scope, &e.value);
            match out.iter_mut().find(|(k, _)| *k == e.name.value) {
                Some(slot) => slot.1 = value,
                None => out.push((e.name.value.clone(), value)),
            }
        }
        out
    }

    /// A plan task from a task-like body, every template expanded.
    pub(super) fn body_task(&self, origin: Origin<'_>, body: &Body) -> PlanTask {
        let Origin {
            address,
            kind,
            group,
            declared,
            scope,
        } = origin;
        // The scope borrows the address until every field is expanded; the
        // address then moves into the task, built once.
        let s = &Scope {
            task: &address,
            ..scope
        };
        let text = |t: &str| self.text(s, t);
        let commands = body.run.iter().map(|c| self.command(s, c)).collect();
        let inputs = body.inputs.iter().map(|p| text(p).into()).collect();
        let outputs = body.outputs.iter().map(|p| text(p).into()).collect();
        let env = self.env(s, &body.env);
        let dir = body.dir.as_ref().map(|d| text(d));
        let depfile = body.depfile.as_ref().map(|d| text(d));
        let confirm = body.confirm.as_ref().map(|c| text(c));
        let description = body.description.as_ref().map(|d| text(d));
        let files: Vec<String> = self
            .dotenv
            .iter()
            .chain(&body.dotenv)
            .map(|d| text(d))
            .collect();
        let dotenv = self.dotenv_index(files);
        PlanTask {
            id: TaskId(0),
            address: address.into(),
            kind,
            group: group.map(Box::new),
            commands,
            gate: None,
            needs: Vec::new(),
            wave: 0,
            inputs,
            outputs,
            env,
            dir,
            timeout: body.timeout.as_ref().map(|t| t.value),
            retries: body.retries.as_ref().map_or(0, |r| r.value),
            pool: body.pool.as_ref().map(|p| p.value.clone()),
            confirm,
            interactive: body.interactive,
            depfile,
            jobserver: body.jobserver,
            cache: body.cache != Some(false),
            dotenv,
            description,
            declared,
        }
    }

    /// A plan task with no commands or settings (targets, gates): only the
    /// project env, which every command the runner starts gets.
    pub(super) fn bare_task(&self, origin: Origin<'_>) -> PlanTask {
        self.body_task(origin, &Body::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_as_one_shell_word_each() {
        assert_eq!(shell_quote("-k"), "-k");
        assert_eq!(shell_quote("a/b.c=d,e:f@g%h+i"), "a/b.c=d,e:f@g%h+i");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME;rm"), "'$HOME;rm'");
        assert_eq!(shell_quote(""), "''");
    }
    use crate::compile::testing::model;

    #[test]
    fn builtins_then_properties_then_vars_then_empty() {
        let m = model(
            r#"project "p"
            vars { fields "from-vars"; who "var" }
            entities {
                each { step "s" "x {entity} {fields} {label}" }
                entity "a" fields="own" label="L"
                entity "b"
            }"#,
        );
        let vars = Vars::new(&m, &[]).unwrap();
        let group = &m.config().entity_groups[0];
        let keys = ["fields", "label"];
        let scope = |i: usize| Scope {
            task: "t",
            entity: Some((&group.entities[i], &keys[..])),
            ..Scope::default()
        };
        assert_eq!(vars.text(&scope(0), "{entity} {fields} {label}"), "a own L");
        assert_eq!(
            vars.text(&scope(1), "{entity} {fields} {label}"),
            "b from-vars "
        );
        assert_eq!(vars.text(&scope(1), "{project}/{task} {{x}}"), "p/t {x}");
    }

    #[test]
    fn set_overrides_a_var_and_rejects_unknown_names() {
        let m = model(r#"vars { crate "shop" }"#);
        let set = [("crate".to_owned(), "store".to_owned())];
        let vars = Vars::new(&m, &set).unwrap();
        assert_eq!(
            vars.text(&Scope::task("t"), "cargo -p {crate}"),
            "cargo -p store"
        );
        let bad = [("crat".to_owned(), "x".to_owned())];
        let err = Vars::new(&m, &bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`--set crat=…` names no var: did you mean `crate`?"
        );
    }

    #[test]
    fn later_env_entries_replace_earlier_ones() {
        let m = model(
            r#"project "p" { env A="1" B="{task}" }
            task "t" { run "true"; env A="2" C="3" }"#,
        );
        let vars = Vars::new(&m, &[]).unwrap();
        let own = &m.config().tasks[0].body.env;
        let env = vars.env(&Scope::task("t"), own);
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("A", "2"), ("B", "t"), ("C", "3")]);
    }
}
