//! `template "crud" { param "resource"; … }` and `use "crud"
//! resource="product"`: a named, parameterised list of nodes pasted where
//! it is used, before anything is decoded, so a template may hold tasks,
//! milestones, gates — or phases, used inside a milestone.
//!
//! `{param}` in any string of the body becomes the use's value (names
//! included, which is how two uses stay apart); other `{…}` are left to the
//! compiler's templates. Each use's nodes get their own copy of the
//! template's text in [`Sources`], so a mistake inside is shown on the
//! template's line and at the `use` that made it.

use std::collections::HashMap;

use kdl::{KdlDocument, KdlNode, KdlValue};

use super::include::shift;
use super::values::{Ctx, head_span, parts};
use crate::diagnostic::Diagnostic;
use crate::model::{Span, Spanned};
use crate::sources::Sources;
use crate::words::suggest;

/// What a `param` takes.
pub(super) const PARAM_PROPS: &[&str] = &["default"];

/// How deep uses may nest inside templates.
const MAX_NESTING: usize = 16;

struct Param {
    name: String,
    default: Option<String>,
    span: Span,
}

struct Template<'a> {
    node: &'a KdlNode,
    params: Vec<Param>,
}

/// Every template of the project, by name.
#[derive(Default)]
pub(super) struct Templates<'a> {
    by_name: HashMap<String, (Span, Template<'a>)>,
}

/// The `template` nodes at the top of every file.
pub(super) fn collect<'a>(
    documents: impl Iterator<Item = &'a KdlDocument>,
    ctx: &mut Ctx,
) -> Templates<'a> {
    let mut templates = Templates::default();
    for node in documents.flat_map(KdlDocument::nodes) {
        if node.name().value() != "template" {
            continue;
        }
        let parts = parts(node);
        let Some(name) = ctx.node_name(node, &parts) else {
            continue;
        };
        ctx.no_props(node, &parts.props);
        ctx.extra_args(node, &parts.args, 1, "`template` takes one name");
        if let Some((first, _)) = templates.by_name.get(&name.value) {
            ctx.push(Diagnostic::Composition {
                code: "orchestra::duplicate_template",
                message: format!("template `{}` is declared twice", name.value),
                labels: vec![
                    ("first declared here".into(), *first),
                    ("declared again here".into(), name.span),
                ],
                help: Some("rename one of them".into()),
            });
            continue;
        }
        let params = params(node, ctx);
        templates
            .by_name
            .insert(name.value.clone(), (name.span, Template { node, params }));
    }
    templates
}

/// The `param` lines of a template.
fn params(node: &KdlNode, ctx: &mut Ctx) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    for child in node.children().map(KdlDocument::nodes).unwrap_or_default() {
        if child.name().value() != "param" {
            continue;
        }
        let parts = parts(child);
        ctx.no_children(child);
        ctx.extra_args(child, &parts.args, 1, "`param` takes one name");
        let Some(name) = ctx.node_name(child, &parts) else {
            continue;
        };
        let mut default = None;
        for (key, entry) in &parts.props {
            if *key == "default" {
                default = ctx.text(entry, "default").map(|d| d.value);
            } else {
                ctx.unknown_prop(child, key, entry, PARAM_PROPS);
            }
        }
        let usable = name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !usable {
            ctx.push(Diagnostic::InvalidName {
                name: name.value.clone(),
                reason: "a parameter is written `{name}`: letters, digits, `_`, `-` and `.` only",
                help: "rename it, like `resource`",
                span: name.span,
            });
        }
        if let Some(first) = out.iter().find(|p| p.name == name.value) {
            ctx.push(Diagnostic::RepeatedSetting {
                setting: format!("param `{}`", name.value),
                first: first.span,
                second: name.span,
            });
            continue;
        }
        out.push(Param {
            name: name.value,
            default,
            span: name.span,
        });
    }
    out
}

/// Pastes templates where they are used.
pub(super) struct Expander<'a, 's> {
    templates: &'s Templates<'a>,
    sources: &'s mut Sources,
    /// The templates being expanded, outermost first.
    stack: Vec<String>,
}

impl<'a, 's> Expander<'a, 's> {
    pub(super) fn new(templates: &'s Templates<'a>, sources: &'s mut Sources) -> Self {
        Self {
            templates,
            sources,
            stack: Vec::new(),
        }
    }

    /// `node` as decoding should see it: for a `use`, the nodes it stands
    /// for; for a node with a `use` somewhere inside, a copy with those
    /// expanded; `None` when there is nothing to expand.
    pub(super) fn expand(&mut self, node: &KdlNode, ctx: &mut Ctx) -> Option<Vec<KdlNode>> {
        if node.name().value() == "use" {
            return Some(self.expand_use(node, ctx));
        }
        // In `vars`, a child is a variable's name: `use "fast"` is one.
        if node.name().value() == "vars" || !holds_use(node) {
            return None;
        }
        let mut copy = node.clone();
        if let Some(children) = copy.children_mut() {
            let nodes = std::mem::take(children.nodes_mut());
            let mut expanded = Vec::with_capacity(nodes.len());
            for child in nodes {
                match self.expand(&child, ctx) {
                    Some(replaced) => expanded.extend(replaced),
                    None => expanded.push(child),
                }
            }
            *children.nodes_mut() = expanded;
        }
        Some(vec![copy])
    }

    fn expand_use(&mut self, node: &KdlNode, ctx: &mut Ctx) -> Vec<KdlNode> {
        let parts = parts(node);
        ctx.no_children(node);
        ctx.extra_args(node, &parts.args, 1, "`use` takes the template's name");
        let Some(name) = ctx.node_name(node, &parts) else {
            return Vec::new();
        };
        let Some((_, template)) = self.templates.by_name.get(&name.value) else {
            let names = self.templates.by_name.keys().map(String::as_str);
            let mut declared: Vec<&str> = names.clone().collect();
            declared.sort_unstable();
            ctx.push(Diagnostic::UnknownReference {
                what: "template",
                name: name.value.clone(),
                span: name.span,
                suggestion: suggest(&name.value, names),
                hint: Some(if declared.is_empty() {
                    "declare it with `template \"name\" { … }`".into()
                } else {
                    format!("the templates are {}", declared.join(", "))
                }),
            });
            return Vec::new();
        };
        let looped = self.stack.contains(&name.value);
        if looped || self.stack.len() >= MAX_NESTING {
            let chain = format!("{} → {}", self.stack.join(" → "), name.value);
            ctx.push(Diagnostic::Composition {
                code: "orchestra::template_cycle",
                message: if looped {
                    format!("template `{}` uses itself: {chain}", name.value)
                } else {
                    format!("templates nest deeper than {MAX_NESTING} uses: {chain}")
                },
                labels: vec![("used here".into(), name.span)],
                help: Some(if looped {
                    "a template may use others, but not itself, even indirectly".into()
                } else {
                    "flatten the templates: no real file needs this many levels".into()
                }),
            });
            return Vec::new();
        }
        let Some(values) = Self::values(node, &name, template, ctx) else {
            return Vec::new();
        };
        let by = self
            .sources
            .add_expansion(template.node.span(), head_span(node), &name.value);
        let mut body = KdlDocument::new();
        for child in template
            .node
            .children()
            .map(KdlDocument::nodes)
            .unwrap_or_default()
        {
            if child.name().value() != "param" {
                let mut copy = child.clone();
                substitute(&mut copy, &values);
                body.nodes_mut().push(copy);
            }
        }
        shift(&mut body, by);
        self.stack.push(name.value.clone());
        let mut out = Vec::new();
        for child in std::mem::take(body.nodes_mut()) {
            if matches!(child.name().value(), "template" | "include") {
                ctx.push(Diagnostic::Composition {
                    code: "orchestra::template",
                    message: format!("`{}` cannot be inside a template", child.name().value()),
                    labels: vec![("here".into(), head_span(&child))],
                    help: Some("write it at the top of a file".into()),
                });
                continue;
            }
            match self.expand(&child, ctx) {
                Some(replaced) => out.extend(replaced),
                None => out.push(child),
            }
        }
        self.stack.pop();
        out
    }

    /// The value of each parameter for this use, or `None` after reporting
    /// what is wrong.
    fn values(
        node: &KdlNode,
        name: &Spanned<String>,
        template: &Template<'_>,
        ctx: &mut Ctx,
    ) -> Option<HashMap<String, String>> {
        let mut values = HashMap::new();
        let mut ok = true;
        for (key, entry) in parts(node).props {
            if !template.params.iter().any(|p| p.name == key) {
                let names = template.params.iter().map(|p| p.name.as_str());
                let did_you_mean =
                    suggest(key, names.clone()).map(|s| format!("did you mean `{s}`? "));
                let declared: Vec<&str> = names.collect();
                ctx.push(Diagnostic::Composition {
                    code: "orchestra::template_use",
                    message: format!("template `{}` has no parameter `{key}`", name.value),
                    labels: vec![("not a parameter".into(), entry.span())],
                    help: Some(format!(
                        "{}{}",
                        did_you_mean.unwrap_or_default(),
                        if declared.is_empty() {
                            "it takes none".to_owned()
                        } else {
                            format!("it takes {}", declared.join(", "))
                        }
                    )),
                });
                ok = false;
                continue;
            }
            match ctx.text(entry, key) {
                Some(value) => {
                    values.insert(key.to_owned(), value.value);
                }
                None => ok = false,
            }
        }
        for param in &template.params {
            if values.contains_key(&param.name) {
                continue;
            }
            if let Some(default) = &param.default {
                values.insert(param.name.clone(), default.clone());
                continue;
            }
            ctx.push(Diagnostic::Composition {
                code: "orchestra::template_use",
                message: format!(
                    "`use \"{}\"` does not give parameter `{}`",
                    name.value, param.name
                ),
                labels: vec![
                    (format!("`{}` is missing here", param.name), head_span(node)),
                    ("declared here, with no default".into(), param.span),
                ],
                help: Some(format!(
                    "add `{}=\"…\"` to the `use`, or a `default` to the `param`",
                    param.name
                )),
            });
            ok = false;
        }
        ok.then_some(values)
    }
}

/// Whether a `use` stands anywhere inside `node`'s children (not as a
/// variable of a `vars` block).
fn holds_use(node: &KdlNode) -> bool {
    node.children().is_some_and(|children| {
        children
            .nodes()
            .iter()
            .any(|c| c.name().value() == "use" || c.name().value() != "vars" && holds_use(c))
    })
}

/// Replaces `{param}` in every string of `node` and its children.
fn substitute(node: &mut KdlNode, values: &HashMap<String, String>) {
    for entry in node.entries_mut() {
        if let KdlValue::String(text) = entry.value()
            && let Some(replaced) = fill(text, values)
        {
            entry.set_value(KdlValue::String(replaced));
        }
    }
    if let Some(children) = node.children_mut() {
        for child in children.nodes_mut() {
            substitute(child, values);
        }
    }
}

/// `text` with each `{param}` replaced, or `None` when it names none.
/// `{{`/`}}` stay as they are (the compiler's templates read them); a
/// value is pasted as written, so a `{x}` in it is the compiler's to read
/// like any other (and passes through nested uses unchanged).
fn fill(text: &str, values: &HashMap<String, String>) -> Option<String> {
    if !text.contains('{') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push_str("{{");
            rest = after;
            continue;
        }
        let name_len = tail[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(tail.len() - 1);
        let name = &tail[1..=name_len];
        if tail[1 + name_len..].starts_with('}')
            && let Some(value) = values.get(name)
        {
            out.push_str(value);
            rest = &tail[name_len + 2..];
            changed = true;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn parameters_are_filled_and_everything_else_is_left_for_the_compiler() {
        let values = [("resource".to_owned(), "product".to_owned())].into();
        assert_eq!(fill("{resource}-gen", &values).unwrap(), "product-gen");
        assert_eq!(
            fill("gen {resource} {task} {{resource}} ${HOME}", &values).unwrap(),
            "gen product {task} {{resource}} ${HOME}"
        );
        assert_eq!(fill("{task}", &values), None);
        assert_eq!(fill("no braces", &values), None);
        let braces = [("resource".to_owned(), "a{task}".to_owned())].into();
        assert_eq!(fill("{resource}", &braces).unwrap(), "a{task}");
    }
}
