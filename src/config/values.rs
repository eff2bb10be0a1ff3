//! Typed reads of KDL values, each reporting a precise diagnostic on failure.

use std::time::Duration;

use kdl::{KdlEntry, KdlNode, KdlValue};

use crate::diagnostic::Diagnostic;
use crate::model::{Command, CommandKind, EnvVar, Span, Spanned, parse_duration};
use crate::words::suggest;

/// Decoding state: the diagnostics collected so far.
#[derive(Default)]
pub(super) struct Ctx {
    pub(super) diagnostics: Vec<Diagnostic>,
}

/// The positional arguments and the properties of a node, in written order.
pub(super) struct Parts<'a> {
    pub(super) args: Vec<&'a KdlEntry>,
    pub(super) props: Vec<(&'a str, &'a KdlEntry)>,
}

pub(super) fn parts(node: &KdlNode) -> Parts<'_> {
    let mut args = Vec::new();
    let mut props = Vec::new();
    for entry in node.entries() {
        match entry.name() {
            Some(key) => props.push((key.value(), entry)),
            None => args.push(entry),
        }
    }
    Parts { args, props }
}

fn type_name(value: &KdlValue) -> &'static str {
    match value {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "`#null`",
    }
}

/// The span of the value alone: a property's span covers `key = value`,
/// and an argument's its type annotation `(ty)value`. The value is what the
/// entry ends with, as written (`value_repr`).
fn value_span(entry: &KdlEntry) -> Span {
    let span = entry.span();
    let end = span.offset() + span.len();
    match entry.format() {
        Some(format) if format.value_repr.len() <= span.len() => {
            let len = format.value_repr.len();
            (end - len, len).into()
        }
        _ => span,
    }
}

/// The span from a node's name to its first argument: `task "scaffold"`.
pub(super) fn head_span(node: &KdlNode) -> Span {
    let name = node.name().span();
    let end = parts(node)
        .args
        .first()
        .map_or(name.offset() + name.len(), |a| {
            a.span().offset() + a.span().len()
        });
    (name.offset(), end.saturating_sub(name.offset())).into()
}

/// The span of a children block from `{` to `}`. kdl spans only the nodes
/// inside; the block starts after the node's head and whatever stands
/// before the `{` (`before_children`), and ends where the node ends.
fn block_span(node: &KdlNode, inner: Span) -> Span {
    let head_end = node
        .entries()
        .last()
        .map_or(node.name().span(), KdlEntry::span);
    let head_end = head_end.offset() + head_end.len();
    let gap = node.format().map_or(0, |f| f.before_children.len());
    let start = head_end + gap;
    let end = node.span().offset() + node.span().len();
    if start <= inner.offset() && inner.offset() + inner.len() <= end {
        (start, end - start).into()
    } else {
        inner
    }
}

impl Ctx {
    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub(super) fn wrong_type(
        &mut self,
        entry: &KdlEntry,
        setting: &str,
        expected: &'static str,
        example: &str,
    ) {
        self.push(Diagnostic::WrongType {
            setting: setting.into(),
            expected,
            found: type_name(entry.value()),
            span: value_span(entry),
            example: example.into(),
        });
    }

    pub(super) fn string(
        &mut self,
        entry: &KdlEntry,
        setting: &str,
        example: &str,
    ) -> Option<Spanned<String>> {
        if let KdlValue::String(s) = entry.value() {
            Some(Spanned::new(s.clone(), value_span(entry)))
        } else {
            self.wrong_type(entry, setting, "a string", example);
            None
        }
    }

    /// A string, or a number or boolean taken as its text (for `vars` and
    /// entity properties, where `port=8080` should just work).
    pub(super) fn text(&mut self, entry: &KdlEntry, setting: &str) -> Option<Spanned<String>> {
        let text = match entry.value() {
            KdlValue::String(s) => s.clone(),
            KdlValue::Integer(i) => i.to_string(),
            KdlValue::Float(f) => f.to_string(),
            KdlValue::Bool(b) => b.to_string(),
            KdlValue::Null => {
                self.wrong_type(entry, setting, "a string", &format!("{setting}=\"value\""));
                return None;
            }
        };
        Some(Spanned::new(text, value_span(entry)))
    }

    /// A whole number in `min..=u32::MAX`.
    pub(super) fn count(
        &mut self,
        entry: &KdlEntry,
        setting: &str,
        min: u32,
    ) -> Option<Spanned<u32>> {
        let KdlValue::Integer(n) = entry.value() else {
            self.wrong_type(
                entry,
                setting,
                "a whole number",
                &format!("{setting}={}", min.max(2)),
            );
            return None;
        };
        match u32::try_from(*n) {
            Ok(v) if v >= min => Some(Spanned::new(v, value_span(entry))),
            _ => {
                let message = if *n < 0 {
                    format!("`{n}` is negative")
                } else if *n < i128::from(min) {
                    format!("`{n}` is less than {min}")
                } else {
                    format!("`{n}` is too large")
                };
                self.push(Diagnostic::InvalidValue {
                    setting: setting.into(),
                    message,
                    span: value_span(entry),
                    help: Some(format!("use a whole number from {min} to {}", u32::MAX)),
                });
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, entry: &KdlEntry, setting: &str) -> Option<bool> {
        if let KdlValue::Bool(b) = entry.value() {
            Some(*b)
        } else {
            self.wrong_type(
                entry,
                setting,
                "`#true` or `#false`",
                &format!("{setting}=#true"),
            );
            None
        }
    }

    pub(super) fn duration(
        &mut self,
        entry: &KdlEntry,
        setting: &str,
    ) -> Option<Spanned<Duration>> {
        let KdlValue::String(text) = entry.value() else {
            let example = format!("{setting}=\"30s\"");
            self.wrong_type(entry, setting, "a duration like \"30s\"", &example);
            return None;
        };
        let text = Spanned::new(text.clone(), value_span(entry));
        match parse_duration(&text) {
            Ok(d) => Some(Spanned::new(d, text.span)),
            Err(help) => {
                self.push(Diagnostic::InvalidValue {
                    setting: setting.into(),
                    message: format!("`{}` is not a duration", text.value),
                    span: text.span,
                    help: Some(help),
                });
                None
            }
        }
    }

    /// A name argument: a string without `/`, not empty.
    pub(super) fn name(&mut self, entry: &KdlEntry, setting: &str) -> Option<Spanned<String>> {
        let name = self.string(entry, setting, &format!("{setting} \"name\""))?;
        let problem = if name.is_empty() {
            Some(("a name cannot be empty", "write a name, like \"build\""))
        } else if name.contains('/') {
            Some((
                "`/` separates the parts of an address",
                "use `-`, `_` or `.` inside a name; `/` is for addresses like `M1/schema`",
            ))
        } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some((
                "a name cannot contain spaces",
                "use `-` or `_` instead of spaces",
            ))
        } else {
            None
        };
        if let Some((reason, help)) = problem {
            self.push(Diagnostic::InvalidName {
                name: name.value.clone(),
                reason,
                help,
                span: name.span,
            });
        }
        Some(name)
    }

    /// The first argument of `node` as its name; reports a missing one.
    pub(super) fn node_name(
        &mut self,
        node: &KdlNode,
        parts: &Parts<'_>,
    ) -> Option<Spanned<String>> {
        let kind = node.name().value();
        if let Some(entry) = parts.args.first() {
            self.name(entry, kind)
        } else {
            self.push(Diagnostic::MissingArgument {
                node: kind.into(),
                what: "a name",
                span: node.name().span(),
                example: format!("{kind} \"name\""),
            });
            None
        }
    }

    /// Reports arguments past the first `allowed`.
    pub(super) fn extra_args(
        &mut self,
        node: &KdlNode,
        args: &[&KdlEntry],
        allowed: usize,
        help: &str,
    ) {
        for entry in args.iter().skip(allowed) {
            self.push(Diagnostic::UnexpectedArgument {
                node: node.name().value().into(),
                span: entry.span(),
                help: help.into(),
            });
        }
    }

    /// Reports a children block on a node that takes none.
    pub(super) fn no_children(&mut self, node: &KdlNode) {
        if let Some(children) = node.children() {
            self.push(Diagnostic::UnexpectedChildren {
                node: node.name().value().into(),
                span: block_span(node, children.span()),
            });
        }
    }

    pub(super) fn no_props(&mut self, node: &KdlNode, props: &[(&str, &KdlEntry)]) {
        for (key, entry) in props {
            self.unknown_prop(node, key, entry, &[]);
        }
    }

    pub(super) fn unknown_prop(
        &mut self,
        node: &KdlNode,
        key: &str,
        entry: &KdlEntry,
        expected: &[&'static str],
    ) {
        let span = entry.name().map_or(entry.span(), kdl::KdlIdentifier::span);
        self.push(Diagnostic::UnknownProperty {
            name: key.into(),
            node: node.name().value().into(),
            span,
            suggestion: crate::words::habit(key, expected)
                .map(str::to_owned)
                .or_else(|| suggest(key, expected.iter().copied())),
            expected: expected.to_vec(),
        });
    }

    pub(super) fn unknown_node(&mut self, node: &KdlNode, parent: &str, expected: &[&'static str]) {
        let name = node.name().value();
        self.push(Diagnostic::UnknownNode {
            name: name.into(),
            parent: parent.into(),
            span: node.name().span(),
            suggestion: crate::words::habit(name, expected)
                .map(str::to_owned)
                .or_else(|| suggest(name, expected.iter().copied())),
            expected: expected.to_vec(),
        });
    }

    /// A child setting of exactly one value: `timeout "15m"`.
    pub(super) fn single<'a>(&mut self, node: &'a KdlNode) -> Option<&'a KdlEntry> {
        let parts = parts(node);
        let kind = node.name().value();
        self.no_props(node, &parts.props);
        self.no_children(node);
        self.extra_args(node, &parts.args, 1, &format!("`{kind}` takes one value"));
        if parts.args.is_empty() {
            self.push(Diagnostic::MissingArgument {
                node: kind.into(),
                what: "a value",
                span: node.name().span(),
                example: format!("{kind} \"…\""),
            });
        }
        parts.args.first().copied()
    }

    /// A child list of one or more strings: `needs "a" "b"`.
    pub(super) fn strings(&mut self, node: &KdlNode, what: &'static str) -> Vec<Spanned<String>> {
        let parts = parts(node);
        let kind = node.name().value();
        self.no_props(node, &parts.props);
        self.no_children(node);
        if parts.args.is_empty() {
            self.push(Diagnostic::MissingArgument {
                node: kind.into(),
                what,
                span: node.name().span(),
                example: format!("{kind} \"a\" \"b\""),
            });
        }
        parts
            .args
            .iter()
            .filter_map(|e| self.string(e, kind, &format!("{kind} \"name\"")))
            .collect()
    }

    /// `env NAME="value" …`.
    pub(super) fn env(&mut self, node: &KdlNode, into: &mut Vec<EnvVar>) {
        let parts = parts(node);
        self.no_children(node);
        self.extra_args(
            node,
            &parts.args,
            0,
            "write variables as properties: env NAME=\"value\"",
        );
        if parts.props.is_empty() && parts.args.is_empty() {
            self.push(Diagnostic::MissingArgument {
                node: "env".into(),
                what: "at least one `NAME=\"value\"`",
                span: node.name().span(),
                example: "env RUST_LOG=\"info\"".into(),
            });
        }
        for (key, entry) in parts.props {
            let key_span = entry.name().map_or(entry.span(), kdl::KdlIdentifier::span);
            if let Some(value) = self.text(entry, key) {
                into.push(EnvVar {
                    name: Spanned::new(key.to_owned(), key_span),
                    value,
                });
            }
        }
    }

    /// A command from argument entries: one string runs through the shell,
    /// several run the program directly. `kind` names the setting in
    /// messages: `run`, `fix`, `step`…
    pub(super) fn command(
        &mut self,
        kind: &str,
        args: &[&KdlEntry],
        span: Span,
    ) -> Option<Command> {
        let words: Vec<Spanned<String>> = args
            .iter()
            .filter_map(|e| self.string(e, kind, &format!("{kind} \"cargo test\"")))
            .collect();
        if words.len() != args.len() {
            return None;
        }
        if words.first().is_some_and(|w| w.trim().is_empty()) {
            self.push(Diagnostic::InvalidValue {
                setting: kind.into(),
                message: "the command is empty".into(),
                span: words[0].span,
                help: Some("write the command to run, like \"cargo test\"".into()),
            });
            return None;
        }
        let word_spans = words.iter().map(|w| w.span).collect();
        let kind = match words.len() {
            0 => return None,
            1 => CommandKind::Shell(words.into_iter().next()?.value.into()),
            _ => CommandKind::Exec(words.into_iter().map(|w| w.value.into()).collect()),
        };
        Some(Command {
            kind,
            word_spans,
            span,
        })
    }
}
