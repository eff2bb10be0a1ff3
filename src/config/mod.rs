//! KDL → [`Config`]: parse `orchestra.kdl` with the `kdl` crate and decode
//! every node by hand, keeping spans, collecting every mistake.
//!
//! This is the only module that imports `kdl`. One file per node kind; the
//! shared helpers for values and task-like bodies live in `values.rs` and
//! `body.rs`.

mod body;
mod entities;
pub(crate) mod format;
mod gate;
mod include;
mod milestone;
mod project;
pub(crate) mod schema;
mod simple;
mod template;
mod values;

pub(crate) use include::Files;

use kdl::{KdlDocument, KdlError};

use crate::diagnostic::Diagnostic;
use crate::model::Config;
use crate::sources::Sources;
use values::Ctx;

/// The top-level node kinds, in the order the reference documents them.
const TOP_LEVEL: &[&str] = &[
    "project",
    "vars",
    "pool",
    "gate",
    "task",
    "rule",
    "entities",
    "pipeline",
    "milestone",
    "target",
    "include",
    "template",
    "use",
];

/// Parses and decodes the main file (the text in `sources`), and every file
/// it includes, read through `files` and added to `sources`; `main` is the
/// main file's path relative to the project directory. The config is
/// returned even when there are diagnostics, so validation can report its
/// own findings in the same run; callers must not use it for anything else
/// when an error was returned. A syntax error in the main file returns
/// none.
pub(crate) fn load(
    sources: &mut Sources,
    main: &str,
    files: &dyn Files,
) -> (Option<Config>, Vec<Diagnostic>) {
    let source = sources.main_text();
    if let Some(found) = nesting(source) {
        return (None, found);
    }
    let document = match KdlDocument::parse(source) {
        Ok(document) => document,
        Err(error) => return (None, syntax_diagnostics(&error, source)),
    };
    let mut ctx = Ctx::default();
    let units = include::gather(document, main, sources, files, &mut ctx);
    let main = &units[0];
    let config = decode_units(
        &units,
        &main.document,
        Some(&main.includes),
        sources,
        &mut ctx,
    );
    (Some(config), ctx.diagnostics)
}

/// Decodes one parsed document alone: its `include`s find nothing (the
/// front-end benchmarks and fuzzing measure this).
pub(crate) fn decode(document: &KdlDocument, text: &str) -> (Config, Vec<Diagnostic>) {
    let mut ctx = Ctx::default();
    let mut sources = Sources::single("orchestra.kdl", text.to_owned());
    let config = decode_units(&[], document, None, &mut sources, &mut ctx);
    (config, ctx.diagnostics)
}

/// Decodes `main` into one config: its nodes in order, each `include`
/// replaced by the nodes of the files it brought in (`includes`, indexes
/// into `units`), each `use` by its template's, the templates read first
/// from every file.
fn decode_units(
    units: &[include::Unit],
    main: &KdlDocument,
    includes: Option<&std::collections::HashMap<usize, Vec<usize>>>,
    sources: &mut Sources,
    ctx: &mut Ctx,
) -> Config {
    let others = units.iter().skip(1).map(|u| &u.document);
    let templates = template::collect(std::iter::once(main).chain(others), ctx);
    let mut expander = template::Expander::new(&templates, sources);
    let mut config = Config::default();
    let mut decoder = Decoder {
        ctx,
        config: &mut config,
        project_span: None,
    };
    decoder.document(main, units, includes, &mut expander);
    config
}

/// `source` as the whole project, with no other file to include.
#[cfg(test)]
pub(crate) fn load_str(source: &str) -> (Option<Config>, Vec<Diagnostic>) {
    struct NoFiles;
    impl Files for NoFiles {
        fn matching(&self, _: &str) -> Result<Vec<String>, String> {
            Ok(Vec::new())
        }
        fn read(&self, _: &str) -> Result<(String, String), String> {
            Err("no files in this test".into())
        }
    }
    let mut sources = Sources::single("orchestra.kdl", source.to_owned());
    load(&mut sources, "orchestra.kdl", &NoFiles)
}

/// `text` as a KDL v2 string literal that reads back as `text`: quoted,
/// with `\`, `"` and every control or invisible character escaped (KDL
/// forbids most of them raw).
pub(crate) fn kdl_string(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' | '"' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{200E}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The nesting check every file gets before the parser sees it.
fn nesting(source: &str) -> Option<Vec<Diagnostic>> {
    // The KDL parser recurses once per level of `{`: a few thousand levels
    // overflow the stack. No real file nests this deep.
    let at = too_deep(source).or_else(|| too_deep_blind(source))?;
    Some(vec![Diagnostic::Syntax {
        message: format!("blocks nest deeper than {MAX_DEPTH} levels"),
        label: Some("this `{` is one level too deep".into()),
        help: Some("an orchestra file needs a handful of levels; close the blocks".into()),
        span: (at, 1).into(),
    }])
}

/// kdl reports an unclosed block twice, at the `{` and after its nodes;
/// the first is enough.
const UNCLOSED_BLOCK: &str = "No closing '}' for child block";
const UNCLOSED_BLOCK_ECHO: &str = "Closing '}' was not found after nodes";

/// kdl's error carries a bare string as its source, so reports would say
/// `[2:24]` instead of the file name: copy its parts into our own type.
fn syntax_diagnostics(error: &KdlError, source: &str) -> Vec<Diagnostic> {
    let unclosed = error
        .diagnostics
        .iter()
        .any(|d| d.message.as_deref() == Some(UNCLOSED_BLOCK));
    let mut out: Vec<Diagnostic> = error
        .diagnostics
        .iter()
        .filter(|d| !(unclosed && d.message.as_deref() == Some(UNCLOSED_BLOCK_ECHO)))
        .map(|d| Diagnostic::Syntax {
            message: d
                .message
                .as_deref()
                .map_or_else(|| "invalid KDL".into(), lowercase_first),
            label: d.label.clone(),
            help: habit_help(source, d.span)
                .or_else(|| d.help.clone())
                .or_else(|| keyword_help(source, d.span))
                .or_else(|| {
                    (d.message.as_deref() == Some(UNCLOSED_BLOCK))
                        .then(|| "add the `}` that ends this block".into())
                }),
            span: d.span,
        })
        .collect();
    // One raw-string or quote habit on a line makes the parser stumble
    // more than once there: say it once.
    let line_ends: Vec<usize> = source.match_indices('\n').map(|(at, _)| at).collect();
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| {
        let Diagnostic::Syntax {
            help: Some(help),
            span,
            ..
        } = d
        else {
            return true;
        };
        let line = line_ends.partition_point(|&end| end < span.offset());
        seen.insert((line, help.clone()))
    });
    if out.is_empty() {
        out.push(Diagnostic::Syntax {
            message: "invalid KDL".into(),
            label: None,
            help: None,
            span: (0, 0).into(),
        });
    }
    out
}

/// How deep `{` blocks may nest (an orchestra file uses about four).
pub(crate) const MAX_DEPTH: usize = 64;

/// Where `{` first nests deeper than [`MAX_DEPTH`], outside strings and
/// comments, read without recursion.
///
/// The scan knows KDL v2's string forms (`"…"`, `"""…"""`, raw `#"…"#` with
/// any number of `#`). It errs toward refusing: a string that never closes
/// is not a string to it, so its braces count, because the parser would
/// recurse into whatever lies before the missing quote.
fn too_deep(source: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut strings = true;
    let mut i = 0;
    while i < bytes.len() {
        if strings && let Some((open, end)) = string_at(bytes, i) {
            if let Some(end) = end {
                i = end;
            } else {
                // Unterminated: count everything after it, quotes too.
                strings = false;
                i += open;
            }
            continue;
        }
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(bytes, i);
                continue;
            }
            byte if nest(&mut depth, byte) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Follows one byte's effect on the brace depth; true when a `{` goes
/// deeper than [`MAX_DEPTH`].
fn nest(depth: &mut usize, byte: u8) -> bool {
    match byte {
        b'{' => {
            *depth += 1;
            *depth > MAX_DEPTH
        }
        b'}' => {
            *depth = depth.saturating_sub(1);
            false
        }
        _ => false,
    }
}

/// Where `{` first nests deeper than [`MAX_DEPTH`] counting every brace,
/// in strings and comments too. The parser recovers from errors in ways
/// [`too_deep`] cannot follow (after `re"` it parses on as if no string
/// began), so both counts must stay under the limit; a real file's strings
/// hold balanced `{…}` templates, which add one level at most.
fn too_deep_blind(source: &str) -> Option<usize> {
    let mut depth = 0usize;
    source.bytes().position(|byte| nest(&mut depth, byte))
}

/// Where the block comment opening at `at` ends: block comments nest in
/// KDL, counted here without recursion.
fn block_comment_end(bytes: &[u8], at: usize) -> usize {
    let mut open = 0;
    let mut i = at;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            open += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            open -= 1;
            i += 2;
            if open == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// A string starting at `at`: the length of its opening and the index just
/// past its end (`None` when it never closes). `None` overall when no string
/// starts there.
fn string_at(bytes: &[u8], at: usize) -> Option<(usize, Option<usize>)> {
    let hashes = bytes[at..].iter().take_while(|&&b| b == b'#').count();
    let rest = &bytes[at + hashes..];
    if !rest.starts_with(b"\"") {
        return None;
    }
    let triple = rest.starts_with(b"\"\"\"");
    let open = hashes + if triple { 3 } else { 1 };
    let mut i = at + open;
    while i < bytes.len() {
        let b = bytes[i];
        if hashes == 0 && b == b'\\' {
            i += 2;
            continue;
        }
        if b == b'"' {
            let close_at = if triple {
                // The closing `"""` ends at this quote's run of three.
                bytes[i..].starts_with(b"\"\"\"").then_some(i + 3)
            } else {
                Some(i + 1)
            };
            if let Some(after) = close_at {
                let closes = bytes[after..].iter().take_while(|&&b| b == b'#').count() >= hashes;
                if closes {
                    return Some((open, Some(after + hashes)));
                }
            }
        }
        i += 1;
    }
    Some((open, None))
}

/// `Expected identifier` → `expected identifier`, as our messages read; an
/// acronym (`EOF`) is left alone.
fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => first
            .to_lowercase()
            .chain(message.chars().skip(1))
            .collect(),
        _ => message.to_owned(),
    }
}

/// Habits from other formats on the line of a syntax error: a `#` comment,
/// a KDL v1 raw string `r#"…"#`, typographic quotes.
fn habit_help(source: &str, span: crate::model::Span) -> Option<String> {
    let start = source
        .get(..span.offset())?
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let line = &source[start..end];
    let trimmed = line.trim_start();
    if trimmed.starts_with("# ") || trimmed == "#" || trimmed.starts_with("##") {
        return Some("KDL comments are `//` (to the end of the line) or `/* … */`, not `#`".into());
    }
    if line.contains("r#\"") || line.contains(" r\"") {
        return Some(
            "KDL v2 writes raw strings without the `r`: `#\"say \"hi\"\"#`, not `r#\"…\"#`".into(),
        );
    }
    if line.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}']) {
        return Some("use straight quotes `\"`, not typographic ones (“ ”)".into());
    }
    setting_line(trimmed)
}

/// `timeout="5m"` alone on a line inside a block: a property written as
/// if it were a node.
fn setting_line(trimmed: &str) -> Option<String> {
    let (name, value) = trimmed.split_once('=')?;
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let value = value.trim_end().trim_end_matches(';');
    (is_name && !value.is_empty()).then(|| {
        format!(
            "`{name}={value}` alone on a line is not a setting: write the child `{name} {value}`, or put `{name}={value}` on the node's own line (`task \"a\" {name}={value} {{ … }}`)"
        )
    })
}

/// KDL v1 habits that v2 rejects: bare `true`, `false`, `null`.
fn keyword_help(source: &str, span: crate::model::Span) -> Option<String> {
    let text = source.get(span.offset()..span.offset() + span.len())?;
    match text {
        "true" | "false" | "null" | "inf" | "-inf" | "nan" => Some(format!(
            "KDL v2 writes keywords with `#`: `#{text}`; for the word itself, quote it: `\"{text}\"`"
        )),
        _ => None,
    }
}

/// Typographic quotes (“ ”, ‘ ’) are letters to KDL: `run “echo hi”` is a
/// two-word exec command, silently. One error per node that has them.
fn typographic_quotes(document: &KdlDocument, ctx: &mut Ctx) {
    const QUOTES: [char; 4] = ['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'];
    for node in document.nodes() {
        let name = node.name();
        let named = name.value().contains(QUOTES).then(|| name.span());
        let entry = node.entries().iter().find_map(|e| {
            e.value()
                .as_string()
                .is_some_and(|s| s.contains(QUOTES))
                .then(|| e.span())
        });
        if let Some(span) = named.or(entry) {
            ctx.push(Diagnostic::Syntax {
                message: "typographic quotes are not quotes in KDL".into(),
                label: Some("these “ ” are part of the text".into()),
                help: Some("use straight quotes `\"`".into()),
                span,
            });
        }
        if let Some(children) = node.children() {
            typographic_quotes(children, ctx);
        }
    }
}

/// Decodes the top-level nodes of every file into one [`Config`].
struct Decoder<'c> {
    ctx: &'c mut Ctx,
    config: &'c mut Config,
    project_span: Option<crate::model::Span>,
}

impl Decoder<'_> {
    /// The nodes of file `u`, each `include` replaced by its files' nodes.
    fn unit(&mut self, units: &[include::Unit], u: usize, expander: &mut template::Expander) {
        let unit = &units[u];
        self.document(&unit.document, units, Some(&unit.includes), expander);
    }

    fn document(
        &mut self,
        document: &KdlDocument,
        units: &[include::Unit],
        includes: Option<&std::collections::HashMap<usize, Vec<usize>>>,
        expander: &mut template::Expander,
    ) {
        typographic_quotes(document, self.ctx);
        for (i, node) in document.nodes().iter().enumerate() {
            match node.name().value() {
                "include" => {
                    for &v in includes.and_then(|m| m.get(&i)).into_iter().flatten() {
                        self.unit(units, v, expander);
                    }
                }
                // Read before decoding (`template::collect`).
                "template" => {}
                _ => match expander.expand(node, self.ctx) {
                    Some(pasted) => {
                        for node in &pasted {
                            self.node(node);
                        }
                    }
                    None => self.node(node),
                },
            }
        }
    }

    fn node(&mut self, node: &kdl::KdlNode) {
        let (ctx, config) = (&mut *self.ctx, &mut *self.config);
        match node.name().value() {
            "project" => {
                if let Some(first) = self.project_span {
                    ctx.push(Diagnostic::RepeatedSetting {
                        setting: "project".into(),
                        first,
                        second: node.name().span(),
                    });
                } else {
                    self.project_span = Some(node.name().span());
                    config.project = project::decode(ctx, node);
                }
            }
            "vars" => simple::vars(ctx, node, &mut config.vars),
            "pool" => config.pools.extend(simple::pool(ctx, node)),
            "gate" => config.gates.extend(gate::decode(ctx, node)),
            "task" => config.tasks.extend(simple::task(ctx, node)),
            "rule" => config.rules.extend(simple::rule(ctx, node)),
            "entities" => config.entity_groups.push(entities::decode(ctx, node)),
            "pipeline" => config.pipelines.extend(milestone::pipeline(ctx, node)),
            "milestone" => config.milestones.extend(milestone::milestone(ctx, node)),
            "target" => config.targets.extend(simple::target(ctx, node)),
            name @ ("include" | "template") => ctx.push(Diagnostic::Composition {
                code: "orchestra::template",
                message: format!("`{name}` cannot be inside a template"),
                labels: vec![("here".into(), values::head_span(node))],
                help: Some("write it at the top of a file".into()),
            }),
            _ => {
                ctx.unknown_node(node, "the file", TOP_LEVEL);
                let name = node.entries().iter().find(|e| e.name().is_none());
                if let Some(name) = name.and_then(|e| e.value().as_string()) {
                    config.misspelled.push(name.to_owned());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_DEPTH, too_deep};

    fn nested(n: usize) -> String {
        "n {".repeat(n) + &"}".repeat(n)
    }

    #[test]
    fn a_kdl_string_reads_back_as_the_text() {
        for text in [
            "plain",
            "a \"b\" \\ c",
            "bell\u{7} tab\t nl\n",
            "bidi\u{202E}x",
            "{x}",
            "",
        ] {
            let literal = super::kdl_string(text);
            let document = kdl::KdlDocument::parse(&format!("n {literal}")).unwrap();
            assert_eq!(
                document.nodes()[0].entries()[0].value().as_string(),
                Some(text),
                "{literal}"
            );
        }
    }

    #[test]
    fn braces_inside_every_string_form_do_not_count() {
        let deep = "{".repeat(MAX_DEPTH + 1);
        for string in [
            format!("\"{deep}\""),
            format!("\"\\\"{deep}\""),
            format!("#\"{deep}\"#"),
            format!("##\"\"#{deep}\"##"),
            format!("\"\"\"\n{deep}\n\"\"\""),
            format!("#\"\"\"\n\"\"\"{deep}\n\"\"\"#"),
        ] {
            assert_eq!(too_deep(&format!("n {string}\n")), None, "{string}");
        }
    }

    #[test]
    fn a_raw_string_ends_at_its_own_quote_and_hashes() {
        // No escapes in a raw string: `\"` there is a backslash, then the end.
        let source = format!("n #\"\\\"# {}", nested(MAX_DEPTH + 1));
        assert!(too_deep(&source).is_some());
        let source = format!("n ##\"\"#\"## {}", nested(MAX_DEPTH + 1));
        assert!(too_deep(&source).is_some());
    }

    #[test]
    fn an_unterminated_string_counts_the_braces_after_it() {
        for opening in ["\"", "\"\"\"", "#\"", "\"\\\""] {
            let source = format!("n {opening} {}", "{".repeat(MAX_DEPTH + 1));
            assert!(too_deep(&source).is_some(), "{opening}");
        }
    }

    #[test]
    fn braces_the_parser_may_read_after_a_recovered_error_count_blind() {
        // `re"` is no string to a recovering parser: the nesting after it
        // is real to the parser though it looks quoted.
        let source = format!("n {{ re\"\n {} \"\n}}", "{ n ".repeat(MAX_DEPTH + 1));
        assert_eq!(too_deep(&source), None, "quoted, read as a string");
        assert!(super::too_deep_blind(&source).is_some());
        assert_eq!(super::too_deep_blind(&nested(MAX_DEPTH)), None);
    }

    #[test]
    fn comments_hide_braces_and_the_limit_is_inclusive() {
        assert_eq!(too_deep(&nested(MAX_DEPTH)), None);
        assert!(too_deep(&nested(MAX_DEPTH + 1)).is_some());
        let deep = "{".repeat(MAX_DEPTH + 1);
        assert_eq!(too_deep(&format!("// {deep}\n/* /* */ {deep} */")), None);
    }
}
