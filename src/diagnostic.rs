//! Configuration diagnostics: every mistake `orchestra.kdl` can hold, as data.
//!
//! Each variant knows its message, labels, help and severity; [`render`] turns
//! a list of them into miette reports against the named source file. Messages
//! are lowercase and put names in backticks.

use std::fmt;
use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode};

use crate::model::Span;
use crate::sources::{Place, Sources};

/// One edge of a dependency cycle, labelled at the span that declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CycleEdge {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) span: Span,
}

/// The kinds of item that share one namespace (see `validate/names.rs`).
const SHARED_NAMESPACE: &[&str] = &["task", "gate", "milestone", "target", "entity group"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Diagnostic {
    /// A KDL syntax error, re-wrapped from kdl's own diagnostic.
    Syntax {
        message: String,
        label: Option<String>,
        help: Option<String>,
        span: Span,
    },
    UnknownNode {
        name: String,
        parent: String,
        span: Span,
        suggestion: Option<String>,
        expected: Vec<&'static str>,
    },
    UnknownProperty {
        name: String,
        node: String,
        span: Span,
        suggestion: Option<String>,
        expected: Vec<&'static str>,
    },
    UnexpectedArgument {
        node: String,
        span: Span,
        help: String,
    },
    UnexpectedChildren {
        node: String,
        span: Span,
    },
    MissingArgument {
        node: String,
        what: &'static str,
        span: Span,
        example: String,
    },
    WrongType {
        setting: String,
        expected: &'static str,
        found: &'static str,
        span: Span,
        example: String,
    },
    InvalidValue {
        setting: String,
        message: String,
        span: Span,
        help: Option<String>,
    },
    RepeatedSetting {
        setting: String,
        first: Span,
        second: Span,
    },
    InvalidName {
        name: String,
        reason: &'static str,
        /// How to fix it; depends on the reason.
        help: &'static str,
        span: Span,
    },
    DuplicateName {
        name: String,
        kind: &'static str,
        first_kind: &'static str,
        first: Span,
        second: Span,
    },
    /// Two parts that would lower to tasks with the same address.
    AddressCollision {
        address: String,
        kind: &'static str,
        first_kind: &'static str,
        first: Span,
        second: Span,
    },
    UnknownReference {
        /// What was expected: `gate`, `pool`, `pipeline`, `entity`, `phase`…
        what: &'static str,
        name: String,
        span: Span,
        suggestion: Option<String>,
        /// Extra help when there is no near miss, e.g. the declared names.
        hint: Option<String>,
    },
    /// A milestone with phases goes through a pipeline without `phases`.
    PhasesDropped {
        pipeline: String,
        milestone: String,
        pipeline_span: Span,
        milestone_span: Span,
    },
    WrongReferenceKind {
        name: String,
        expected: &'static str,
        found: &'static str,
        span: Span,
    },
    Cycle {
        /// `needs`, `relation` or `depends-on`.
        via: &'static str,
        edges: Vec<CycleEdge>,
    },
    Template {
        message: String,
        span: Span,
    },
    UnknownTemplateVariable {
        name: String,
        span: Span,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    ProgramNotFound {
        program: String,
        span: Span,
        /// An `optional=#true` check's program: a warning, not an error.
        optional: bool,
        /// Started by a gate's check (which `optional=#true` could skip).
        in_check: bool,
    },
    /// A literal `inputs` path that does not exist and no task produces.
    MissingInput {
        input: String,
        task: String,
        suggestion: Option<String>,
        span: Span,
    },
    /// An `inputs` glob that matches no file and no task's output.
    UnmatchedInput {
        pattern: String,
        task: String,
        span: Span,
    },
    /// A rule's `foreach` pattern that matches no file: no tasks from it.
    UnmatchedForeach {
        pattern: String,
        rule: String,
        span: Span,
    },
    /// Two tasks that may run at once declare the same output.
    OutputCollision {
        output: String,
        first_task: String,
        second_task: String,
        first: Span,
        second: Span,
    },
    /// A mistake in how the file is put together from others: an
    /// `include`, a `template` or a `use` of one. Its labels may lie in
    /// different files.
    Composition {
        code: &'static str,
        message: String,
        labels: Vec<(String, Span)>,
        help: Option<String>,
    },
    /// Two files of one rule that would be the same task.
    RuleCollision {
        address: String,
        first: String,
        second: String,
        span: Span,
    },
}

const UNMATCHED_FOREACH_HELP: &str =
    "the rule has no task for this pattern until a file matches; fix the pattern if files should";
const OUTPUT_COLLISION_HELP: &str = "they may run at once and overwrite each other: give each its own output (in a rule, `build/{dir}/{stem}.o` keeps `src/a/x.c` and `src/b/x.c` apart), or make one need the other";
const RULE_COLLISION_HELP: &str = "a file's task is its path below the pattern's directory without the extension; narrow the pattern or rename one file";

impl Diagnostic {
    pub(crate) fn severity(&self) -> Severity {
        match self {
            Self::ProgramNotFound { optional: true, .. }
            | Self::UnmatchedInput { .. }
            | Self::UnmatchedForeach { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    pub(crate) fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    /// A stable code per class, shown in the report header.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Syntax { .. } => "orchestra::syntax",
            Self::UnknownNode { .. } => "orchestra::unknown_node",
            Self::UnknownProperty { .. } => "orchestra::unknown_property",
            Self::UnexpectedArgument { .. } => "orchestra::unexpected_argument",
            Self::UnexpectedChildren { .. } => "orchestra::unexpected_children",
            Self::MissingArgument { .. } => "orchestra::missing_argument",
            Self::WrongType { .. } => "orchestra::wrong_type",
            Self::InvalidValue { .. } => "orchestra::invalid_value",
            Self::RepeatedSetting { .. } => "orchestra::repeated_setting",
            Self::InvalidName { .. } => "orchestra::invalid_name",
            Self::DuplicateName { .. } => "orchestra::duplicate_name",
            Self::AddressCollision { .. } => "orchestra::address_collision",
            Self::UnknownReference { .. } => "orchestra::unknown_reference",
            Self::WrongReferenceKind { .. } => "orchestra::wrong_reference_kind",
            Self::PhasesDropped { .. } => "orchestra::phases_dropped",
            Self::Cycle { .. } => "orchestra::cycle",
            Self::Template { .. } => "orchestra::template",
            Self::UnknownTemplateVariable { .. } => "orchestra::unknown_variable",
            Self::ProgramNotFound { .. } => "orchestra::program_not_found",
            Self::MissingInput { .. } => "orchestra::missing_input",
            Self::UnmatchedInput { .. } => "orchestra::unmatched_input",
            Self::UnmatchedForeach { .. } => "orchestra::unmatched_foreach",
            Self::RuleCollision { .. } => "orchestra::rule_collision",
            Self::OutputCollision { .. } => "orchestra::output_collision",
            Self::Composition { code, .. } => code,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            Self::Syntax { message, .. } => format!("syntax error: {message}"),
            Self::UnknownNode { name, parent, .. } => {
                format!("unknown node `{name}` in {parent}")
            }
            Self::UnknownProperty { name, node, .. } => {
                format!("unknown property `{name}` on `{node}`")
            }
            Self::UnexpectedArgument { node, .. } => format!("too many arguments to `{node}`"),
            Self::UnexpectedChildren { node, .. } => format!("`{node}` takes no children block"),
            Self::MissingArgument { node, what, .. } => format!("`{node}` needs {what}"),
            Self::WrongType {
                setting,
                expected,
                found,
                ..
            } => format!("`{setting}` must be {expected}, found {found}"),
            Self::InvalidValue {
                setting, message, ..
            } => format!("invalid `{setting}`: {message}"),
            Self::RepeatedSetting { setting, .. } => format!("`{setting}` is set twice"),
            Self::InvalidName { name, reason, .. } if name.is_empty() => {
                format!("invalid name: {reason}")
            }
            Self::InvalidName { name, reason, .. } => format!("invalid name `{name}`: {reason}"),
            Self::DuplicateName {
                name,
                kind,
                first_kind,
                ..
            } => {
                if kind == first_kind {
                    format!("duplicate {kind} `{name}`")
                } else {
                    format!("{kind} `{name}` has the same name as a {first_kind}")
                }
            }
            Self::AddressCollision {
                address,
                kind,
                first_kind,
                ..
            } => format!(
                "two tasks would be called `{address}`: {} and {}",
                with_article(first_kind),
                with_article(kind)
            ),
            Self::UnknownReference { what, name, .. } => format!("unknown {what} `{name}`"),
            Self::WrongReferenceKind {
                name,
                expected,
                found,
                ..
            } => format!("`{name}` is a {found}, not a {expected}"),
            Self::PhasesDropped {
                pipeline,
                milestone,
                ..
            } => format!(
                "pipeline `{pipeline}` has no `phases`, so the phases of milestone `{milestone}` would never run"
            ),
            Self::Cycle { via, edges } => {
                let mut path: Vec<&str> = edges.iter().map(|e| e.from.as_str()).collect();
                if let Some(first) = edges.first() {
                    path.push(&first.from);
                }
                format!("`{via}` cycle: {}", path.join(" → "))
            }
            Self::Template { message, .. } => format!("bad template: {message}"),
            Self::Composition { message, .. } => message.clone(),
            Self::UnknownTemplateVariable { name, .. } => {
                format!("unknown template variable `{{{name}}}`")
            }
            Self::ProgramNotFound { program, .. } => {
                format!("program `{program}` not found on PATH")
            }
            Self::MissingInput { input, task, .. } => {
                format!("input `{input}` of `{task}` does not exist, and no task produces it")
            }
            Self::UnmatchedInput { pattern, task, .. } => {
                format!("input `{pattern}` of `{task}` matches no file")
            }
            Self::UnmatchedForeach { pattern, rule, .. } => {
                format!("`foreach \"{pattern}\"` of rule `{rule}` matches no file")
            }
            Self::RuleCollision {
                address,
                first,
                second,
                ..
            } => format!("two files would be the task `{address}`: `{first}` and `{second}`"),
            Self::OutputCollision {
                output,
                first_task,
                second_task,
                ..
            } => format!(
                "`{first_task}` and `{second_task}` both write `{output}`, and neither waits for the other"
            ),
        }
    }

    pub(crate) fn labels(&self) -> Vec<LabeledSpan> {
        let label = |text: &str, span: &Span| LabeledSpan::new_with_span(Some(text.into()), *span);
        match self {
            Self::MissingInput { span, .. } => vec![label("no such file", span)],
            Self::UnmatchedInput { span, .. } | Self::UnmatchedForeach { span, .. } => {
                vec![label("matches nothing", span)]
            }
            Self::RuleCollision { span, .. } => vec![label("both matched here", span)],
            Self::OutputCollision { first, second, .. } => {
                vec![label("written here", first), label("and here", second)]
            }
            Self::Syntax { label: l, span, .. } => {
                vec![label(l.as_deref().unwrap_or("here"), span)]
            }
            Self::UnknownNode { span, .. } => vec![label("not a known node here", span)],
            Self::UnknownProperty { span, .. } => vec![label("not a known property", span)],
            Self::UnexpectedArgument { span, .. } => vec![label("unexpected argument", span)],
            Self::UnexpectedChildren { span, .. } => vec![label("remove this block", span)],
            Self::MissingArgument { what, span, .. } => vec![label(&format!("needs {what}"), span)],
            Self::WrongType { expected, span, .. } => {
                vec![label(&format!("expected {expected}"), span)]
            }
            Self::InvalidValue { span, .. } => vec![label("this value", span)],
            Self::RepeatedSetting { first, second, .. } => vec![
                label("first set here", first),
                label("set again here", second),
            ],
            Self::InvalidName { span, .. } => vec![label("this name", span)],
            Self::DuplicateName { first, second, .. } => vec![
                label("first declared here", first),
                label("declared again here", second),
            ],
            Self::AddressCollision {
                kind,
                first_kind,
                first,
                second,
                ..
            } => vec![
                label(&format!("the {first_kind}"), first),
                label(&format!("the {kind}"), second),
            ],
            Self::UnknownReference { what, span, .. } => {
                vec![label(&format!("no {what} has this name"), span)]
            }
            Self::WrongReferenceKind { expected, span, .. } => {
                vec![label(&format!("expected a {expected}"), span)]
            }
            Self::PhasesDropped {
                pipeline_span,
                milestone_span,
                ..
            } => vec![
                label("this pipeline has no `phases`", pipeline_span),
                label("this milestone's phases would be dropped", milestone_span),
            ],
            Self::Cycle { via, edges } => {
                // Each label reads as a sentence: `a` needs `b`.
                let verb = if *via == "relation" {
                    "relates to"
                } else {
                    via
                };
                edges
                    .iter()
                    .map(|e| label(&format!("`{}` {verb} `{}`", e.from, e.to), &e.span))
                    .collect()
            }
            Self::Template { span, .. } => vec![label("here", span)],
            Self::Composition { labels, .. } => labels.iter().map(|(l, s)| label(l, s)).collect(),
            Self::UnknownTemplateVariable { span, .. } => vec![label("not defined", span)],
            Self::ProgramNotFound { span, optional, .. } => vec![label(
                if *optional {
                    "this check will be skipped"
                } else {
                    "not on PATH"
                },
                span,
            )],
        }
    }

    pub(crate) fn help(&self) -> Option<String> {
        let did_you_mean = |s: &Option<String>| s.as_ref().map(|s| format!("did you mean `{s}`?"));
        match self {
            Self::Syntax { help, .. }
            | Self::InvalidValue { help, .. }
            | Self::Composition { help, .. } => help.clone(),
            Self::UnknownNode {
                suggestion,
                expected,
                ..
            } => did_you_mean(suggestion).or_else(|| {
                (!expected.is_empty()).then(|| format!("expected one of: {}", expected.join(", ")))
            }),
            Self::UnknownProperty {
                suggestion,
                expected,
                node,
                ..
            } => did_you_mean(suggestion).or_else(|| {
                Some(if expected.is_empty() {
                    format!("`{node}` takes no properties")
                } else {
                    format!("expected one of: {}", expected.join(", "))
                })
            }),
            Self::UnexpectedArgument { help, .. } => Some(help.clone()),
            Self::UnexpectedChildren { node, .. } => {
                Some(format!("write `{node}` on one line, without braces"))
            }
            Self::MissingArgument { example, .. } | Self::WrongType { example, .. } => {
                Some(format!("for example: {example}"))
            }
            Self::RepeatedSetting { .. } => Some("keep one of them".into()),
            Self::InvalidName { help, .. } => Some((*help).into()),
            Self::DuplicateName {
                kind, first_kind, ..
            } => Some(
                if SHARED_NAMESPACE.contains(kind) && SHARED_NAMESPACE.contains(first_kind) {
                    "tasks, gates, milestones, targets and entity groups share one namespace: rename one"
                        .into()
                } else {
                    format!("rename one of the two {kind}s")
                },
            ),
            Self::AddressCollision { .. } => Some(
                "every task of the plan needs its own address (`orchestra plan` names them): rename one"
                    .into(),
            ),
            Self::UnknownReference {
                suggestion, hint, ..
            } => did_you_mean(suggestion).or_else(|| hint.clone()),
            Self::WrongReferenceKind { expected, .. } => {
                Some(format!("declare a {expected} with this name, or name an existing one"))
            }
            Self::PhasesDropped { .. } => Some(
                "add `phases` to the pipeline where the milestone's phases belong, e.g. `stage \"build\" \"…\"; phases`"
                    .into(),
            ),
            Self::Cycle { via, .. } => Some(format!("remove one `{via}` edge to break the loop")),
            Self::Template { .. } => Some("write `{{` and `}}` for literal braces".into()),
            Self::UnknownTemplateVariable {
                suggestion,
                available,
                ..
            } => did_you_mean(suggestion).or_else(|| {
                Some(if available.is_empty() {
                    "no template variables are available here; write `{{` for a literal brace"
                        .into()
                } else {
                    format!("available here: {}", available.join(", "))
                })
            }),
            Self::MissingInput { suggestion, .. } => Some(suggestion.as_ref().map_or_else(
                || {
                    "create it, fix the path, or need the task that produces it (with the file in its `outputs`)"
                        .to_owned()
                },
                |s| format!("did you mean `{s}`?"),
            )),
            Self::UnmatchedInput { .. } => Some(
                "a task whose inputs match nothing is up to date whatever happens; fix the pattern, or add the files"
                    .into(),
            ),
            Self::UnmatchedForeach { .. } => Some(UNMATCHED_FOREACH_HELP.into()),
            Self::RuleCollision { .. } => Some(RULE_COLLISION_HELP.into()),
            Self::OutputCollision { .. } => Some(OUTPUT_COLLISION_HELP.into()),
            Self::ProgramNotFound {
                optional, in_check, ..
            } => Some(
                if *optional {
                    "install it, or the check is skipped with a warning at run time"
                } else if *in_check {
                    "install it, fix the name, or mark the check `optional=#true` to skip it when missing"
                } else {
                    "install it or fix the name"
                }
                .into(),
            ),
        }
    }

    /// The span the diagnostic is about (its first label), for sorting.
    pub(crate) fn primary_offset(&self) -> usize {
        self.labels().first().map_or(0, LabeledSpan::offset)
    }
}

/// `a stage`, `an entity`.
fn with_article(word: &str) -> String {
    let an = word.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {word}", if an { "an" } else { "a" })
}

/// How to draw reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RenderOptions {
    pub(crate) color: bool,
    pub(crate) width: usize,
    /// GitHub Actions workflow commands beside the text: annotations, log
    /// groups (`--ci-format github`, or `auto` under `GITHUB_ACTIONS`).
    pub(crate) github: bool,
}

/// One diagnostic bound to the file it points into, as miette wants it.
struct Located<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a Sources,
}

impl fmt::Debug for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diagnostic.fmt(f)
    }
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message())
    }
}

impl std::error::Error for Located<'_> {}

impl miette::Diagnostic for Located<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code()))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.diagnostic.severity())
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(
            with_use_sites(self.diagnostic.labels(), self.source).into_iter(),
        ))
    }
}

/// `labels`, and for each one inside a template's expansion the `use` that
/// made it (a mistake in a template is shown where it is written and where
/// it was used).
pub(crate) fn with_use_sites(mut labels: Vec<LabeledSpan>, source: &Sources) -> Vec<LabeledSpan> {
    let mut extra: Vec<LabeledSpan> = Vec::new();
    for label in &labels {
        for (span, template) in source.use_sites(label.offset()) {
            if !extra.iter().any(|e| e.offset() == span.offset()) {
                extra.push(LabeledSpan::new_with_span(
                    Some(format!("in this use of template `{template}`")),
                    span,
                ));
            }
        }
    }
    labels.extend(extra);
    labels
}

/// Renders each diagnostic as a miette report against `source`.
pub(crate) fn render(
    diagnostics: &[Diagnostic],
    source: &Sources,
    options: RenderOptions,
) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false);
    let plain = miette::NarratableReportHandler::new();
    let mut out = String::new();
    for (i, diagnostic) in diagnostics.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let located = Located { diagnostic, source };
        // The graphical renderer cannot draw very long lines (it panics
        // past 65,535 columns); those get the plain narration instead. A
        // panic from it anyway is caught, and narrated too.
        let mut drawn = String::new();
        let graphical = !on_long_line(diagnostic, source.text())
            && std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // Writing into a String cannot fail.
                let _ = handler.render_report(&mut drawn, &located);
            }))
            .is_ok();
        if !graphical {
            drawn.clear();
            let _ = plain.render_report(&mut drawn, &located);
        }
        out.push_str(&drawn);
    }
    if diagnostics.len() > SHOWN {
        let (errors, warnings): (Vec<_>, Vec<_>) =
            diagnostics[SHOWN..].iter().partition(|d| d.is_error());
        let mut more = Vec::new();
        if !errors.is_empty() {
            more.push(crate::words::plural(errors.len(), "more error"));
        }
        if !warnings.is_empty() {
            more.push(crate::words::plural(warnings.len(), "more warning"));
        }
        let _ = writeln!(
            out,
            "\n… and {} not shown (the first {SHOWN} are; fix those first)",
            more.join(" and ")
        );
    }
    out
}

/// Diagnostics as data for machines (`build --json` on a configuration
/// error): code, severity, message, file, line and column (from 1), help.
pub(crate) fn to_json(diagnostics: &[Diagnostic], source: &Sources) -> Vec<serde_json::Value> {
    diagnostics
        .iter()
        .zip(places(diagnostics, source))
        .map(|(d, place)| {
            let used_at: Vec<serde_json::Value> = used_at(d, source)
                .into_iter()
                .map(|(template, at)| {
                    serde_json::json!({
                        "template": template,
                        "file": at.file,
                        "line": at.line,
                        "column": at.column,
                    })
                })
                .collect();
            serde_json::json!({
                "code": d.code(),
                "severity": if d.is_error() { "error" } else { "warning" },
                "message": d.message(),
                "file": place.file,
                "line": place.line,
                "column": place.column,
                "used_at": used_at,
                "help": d.help(),
            })
        })
        .collect()
}

/// For a diagnostic inside a template's expansion: each `use` that made
/// it, innermost first, with its place.
pub(crate) fn used_at(diagnostic: &Diagnostic, source: &Sources) -> Vec<(String, Place)> {
    source
        .use_sites(diagnostic.primary_offset())
        .into_iter()
        .map(|(span, template)| (template, source.place(span.offset())))
        .collect()
}

/// Each diagnostic's place (file, line and column from 1).
pub(crate) fn places(diagnostics: &[Diagnostic], source: &Sources) -> Vec<Place> {
    let offsets: Vec<usize> = diagnostics.iter().map(Diagnostic::primary_offset).collect();
    source.places(&offsets)
}

/// How many diagnostics are drawn: nobody reads 100,000 reports, and
/// drawing each costs time.
pub(crate) const SHOWN: usize = 50;

/// Whether a label of `diagnostic` sits on a line longer than the
/// graphical renderer can draw.
fn on_long_line(diagnostic: &Diagnostic, source: &str) -> bool {
    const LONGEST: usize = 10_000;
    diagnostic.labels().iter().any(|label| {
        let bytes = source.as_bytes();
        let at = label.offset().min(bytes.len());
        let start = bytes[..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let end = bytes[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| at + i);
        end - start > LONGEST
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_message_closes_the_loop() {
        let edge = |a: &str, b: &str| CycleEdge {
            from: a.into(),
            to: b.into(),
            span: (0, 1).into(),
        };
        let d = Diagnostic::Cycle {
            via: "needs",
            edges: vec![edge("a", "b"), edge("b", "a")],
        };
        assert_eq!(d.message(), "`needs` cycle: a → b → a");
        assert_eq!(d.labels().len(), 2);
    }
}
