//! `include "ci/*.kdl"`: the files a project is read from. Each included
//! file is parsed on its own, its spans moved to where [`Sources`] put its
//! text, and its nodes decoded where the `include` stands, in the same
//! namespace. Paths are relative to the including file and stay inside the
//! project; a file included twice is read once; a loop is an error showing
//! every `include` on it.

use std::collections::HashMap;

use kdl::{KdlDocument, KdlNode};

use super::values::{Ctx, head_span, parts};
use crate::diagnostic::Diagnostic;
use crate::model::{Span, Spanned};
use crate::sources::Sources;

/// What the decoder may read besides the main file: the disk belongs to
/// `load`, which implements this.
pub(crate) trait Files {
    /// The project files `pattern` (relative to the project, `/`-separated)
    /// names, sorted: the file itself, or a glob's matches.
    fn matching(&self, pattern: &str) -> Result<Vec<String>, String>;
    /// A project file's text, and its name as messages show it.
    fn read(&self, path: &str) -> Result<(String, String), String>;
}

/// One file of the project, parsed, with its spans in the shared space.
pub(super) struct Unit {
    pub(super) document: KdlDocument,
    /// Relative to the project directory.
    pub(super) path: String,
    /// For each `include` node (by index): the units it brought in, in order.
    pub(super) includes: HashMap<usize, Vec<usize>>,
}

/// Reads every file `main` includes, transitively; the main file is
/// unit 0.
pub(super) fn gather(
    main: KdlDocument,
    main_path: &str,
    sources: &mut Sources,
    files: &dyn Files,
    ctx: &mut Ctx,
) -> Vec<Unit> {
    let mut units = vec![Unit {
        document: main,
        path: main_path.to_owned(),
        includes: HashMap::new(),
    }];
    let mut reader = Reader {
        sources,
        files,
        ctx,
        chain: Vec::new(),
    };
    reader.visit(0, &mut units);
    units
}

struct Reader<'a> {
    sources: &'a mut Sources,
    files: &'a dyn Files,
    ctx: &'a mut Ctx,
    /// The `include`s from the main file down to the one being read.
    chain: Vec<(usize, Span)>,
}

impl Reader<'_> {
    fn visit(&mut self, u: usize, units: &mut Vec<Unit>) {
        let wanted: Vec<(usize, Vec<Spanned<String>>)> = units[u]
            .document
            .nodes()
            .iter()
            .enumerate()
            .filter(|(_, node)| node.name().value() == "include")
            .map(|(i, node)| (i, self.patterns(node)))
            .collect();
        for (i, patterns) in wanted {
            let mut brought = Vec::new();
            for pattern in patterns {
                for path in self.resolve(&units[u].path, &pattern) {
                    if let Some(v) = self.include(u, path, pattern.span, units) {
                        brought.push(v);
                    }
                }
            }
            units[u].includes.insert(i, brought);
        }
    }

    /// An `include` node's patterns: one or more strings.
    fn patterns(&mut self, node: &KdlNode) -> Vec<Spanned<String>> {
        let parts = parts(node);
        self.ctx.no_props(node, &parts.props);
        self.ctx.no_children(node);
        if parts.args.is_empty() {
            self.ctx.push(Diagnostic::MissingArgument {
                node: "include".into(),
                what: "a file or a glob",
                span: head_span(node),
                example: "include \"ci/*.kdl\"".into(),
            });
        }
        parts
            .args
            .iter()
            .filter_map(|e| self.ctx.string(e, "include", "include \"ci/*.kdl\""))
            .collect()
    }

    /// The project files `pattern`, written in `from`, names.
    fn resolve(&mut self, from: &str, pattern: &Spanned<String>) -> Vec<String> {
        let joined = match join(from, &pattern.value) {
            Ok(joined) => joined,
            Err(message) => {
                self.error(
                    message,
                    pattern.span,
                    "not inside the project",
                    "name a file inside the project, relative to this file",
                );
                return Vec::new();
            }
        };
        match self.files.matching(&joined) {
            Ok(found) if !found.is_empty() => found,
            Ok(_) => {
                let glob = crate::freshness::inputs::is_glob(&joined);
                self.error(
                    format!(
                        "`include \"{}\"` {}",
                        pattern.value,
                        if glob {
                            "matches no file"
                        } else {
                            "names no file"
                        }
                    ),
                    pattern.span,
                    if glob {
                        "matches nothing"
                    } else {
                        "no such file"
                    },
                    &format!(
                        "paths are relative to the including file: this one looks for `{joined}`"
                    ),
                );
                Vec::new()
            }
            Err(message) => {
                self.error(
                    format!("cannot include `{}`: {message}", pattern.value),
                    pattern.span,
                    "here",
                    "fix the pattern",
                );
                Vec::new()
            }
        }
    }

    /// Reads `path`, included by unit `u` at `span`, unless that closes a
    /// loop or it was read already; returns its unit.
    fn include(
        &mut self,
        u: usize,
        path: String,
        span: Span,
        units: &mut Vec<Unit>,
    ) -> Option<usize> {
        // The files being read, from the main one down to `u`.
        let on_chain = self
            .chain
            .iter()
            .map(|(v, _)| *v)
            .chain(std::iter::once(u))
            .position(|v| units[v].path == path);
        if let Some(start) = on_chain {
            self.cycle(start, u, &path, span, units);
            return None;
        }
        if units.iter().any(|unit| unit.path == path) {
            // Included elsewhere too: its nodes are in already.
            return None;
        }
        let (text, name) = match self.files.read(&path) {
            Ok(read) => read,
            Err(message) => {
                self.error(
                    format!("cannot read `{path}`: {message}"),
                    span,
                    "included here",
                    "make the file readable UTF-8 text",
                );
                return None;
            }
        };
        let base = self.sources.add_file(name, path.clone().into(), &text);
        let document = match parse_at(&text, base) {
            Ok(document) => document,
            Err(found) => {
                for diagnostic in found {
                    self.ctx.push(diagnostic);
                }
                return None;
            }
        };
        units.push(Unit {
            document,
            path,
            includes: HashMap::new(),
        });
        let v = units.len() - 1;
        self.chain.push((u, span));
        self.visit(v, units);
        self.chain.pop();
        Some(v)
    }

    /// `path` is already being read: `chain` from its `start`-th file down
    /// to unit `u`, which includes it again at `span`.
    fn cycle(&mut self, start: usize, u: usize, path: &str, span: Span, units: &[Unit]) {
        // chain[k] = (the file that includes, where); the file it includes
        // is chain[k + 1].0, or `u` for the last.
        let mut labels = Vec::new();
        let mut names = Vec::new();
        let links: Vec<(usize, Span)> = self.chain.iter().copied().skip(start).collect();
        for (k, (from, at)) in links.iter().enumerate() {
            let to = links.get(k + 1).map_or(u, |(next, _)| *next);
            names.push(units[*from].path.clone());
            labels.push((
                format!("`{}` includes `{}`", units[*from].path, units[to].path),
                *at,
            ));
        }
        names.push(units[u].path.clone());
        names.push(path.to_owned());
        labels.push((format!("`{}` includes `{path}` again", units[u].path), span));
        self.ctx.push(Diagnostic::Composition {
            code: "orchestra::include_cycle",
            message: format!("`include` cycle: {}", names.join(" → ")),
            labels,
            help: Some("remove one `include` to break the loop".into()),
        });
    }

    fn error(&mut self, message: String, span: Span, label: &str, help: &str) {
        self.ctx.push(Diagnostic::Composition {
            code: "orchestra::include",
            message,
            labels: vec![(label.into(), span)],
            help: Some(help.into()),
        });
    }
}

/// `pattern` relative to the directory of `from`, both inside the
/// project: `ci/a.kdl` + `../b.kdl` → `b.kdl`.
fn join(from: &str, pattern: &str) -> Result<String, String> {
    if pattern.starts_with('/') {
        return Err(format!(
            "`include \"{pattern}\"` is an absolute path: includes stay inside the project"
        ));
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for component in pattern.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!(
                        "`include \"{pattern}\"` leaves the project: includes stay inside it"
                    ));
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

/// Parses an included file whose text starts at `base` in the shared space.
fn parse_at(text: &str, base: usize) -> Result<KdlDocument, Vec<Diagnostic>> {
    let moved = |mut found: Vec<Diagnostic>| {
        for diagnostic in &mut found {
            if let Diagnostic::Syntax { span, .. } = diagnostic {
                *span = (span.offset() + base, span.len()).into();
            }
        }
        found
    };
    if let Some(found) = super::nesting(text) {
        return Err(moved(found));
    }
    match KdlDocument::parse(text) {
        Ok(mut document) => {
            shift(&mut document, base);
            Ok(document)
        }
        Err(error) => Err(moved(super::syntax_diagnostics(&error, text))),
    }
}

/// Moves every span in `document` by `by` bytes.
pub(super) fn shift(document: &mut KdlDocument, by: usize) {
    let moved = |span: miette::SourceSpan| -> Span { (span.offset() + by, span.len()).into() };
    let span = moved(document.span());
    document.set_span(span);
    for node in document.nodes_mut() {
        let span = moved(node.span());
        node.set_span(span);
        let span = moved(node.name().span());
        node.name_mut().set_span(span);
        if let Some(ty) = node.ty_mut() {
            let span = moved(ty.span());
            ty.set_span(span);
        }
        for entry in node.entries_mut() {
            let span = moved(entry.span());
            entry.set_span(span);
            if let Some(name) = entry.name_mut() {
                let span = moved(name.span());
                name.set_span(span);
            }
            if let Some(ty) = entry.ty_mut() {
                let span = moved(ty.span());
                ty.set_span(span);
            }
        }
        if let Some(children) = node.children_mut() {
            shift(children, by);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn paths_are_relative_to_the_including_file_and_stay_inside() {
        assert_eq!(join("orchestra.kdl", "ci/a.kdl").unwrap(), "ci/a.kdl");
        assert_eq!(join("ci/a.kdl", "b.kdl").unwrap(), "ci/b.kdl");
        assert_eq!(join("ci/a.kdl", "../b.kdl").unwrap(), "b.kdl");
        assert_eq!(join("ci/a.kdl", "./x/*.kdl").unwrap(), "ci/x/*.kdl");
        assert!(join("orchestra.kdl", "../b.kdl").is_err());
        assert!(join("orchestra.kdl", "/etc/b.kdl").is_err());
    }
}
