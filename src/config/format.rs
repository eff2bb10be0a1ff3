//! `orchestra fmt`: the canonical layout of an orchestra file.
//!
//! It works on lines, not on the parsed tree, so every comment, blank-line
//! group and value's spelling (`#"raw"#`, `"""` blocks, `0x1F`) stays as
//! written (line endings become `\n`): each line is indented four spaces
//! per open `{` (a `\`
//! continuation one more), runs of spaces between tokens become one (but
//! for those before an end-of-line comment, kept for alignment), `=`
//! loses its spaces, `{`, `}` and `;` get one around them, trailing spaces
//! go, runs of blank lines become one and none is kept at the start of a
//! block or file or before a `}`. Lines inside a multi-line string or
//! comment are left exactly as they are (a `"""` string's indentation is
//! part of its value). Each step is a fixed point of itself, so formatting
//! twice changes nothing; and the result is parsed and compared with the
//! original, node by node, before anything is written.

use kdl::KdlDocument;

use crate::diagnostic::Diagnostic;

const INDENT: &str = "    ";

/// Why a file was not formatted.
#[derive(Debug)]
pub(crate) enum Unformatted {
    /// It is not valid KDL.
    Syntax(Vec<Diagnostic>),
    /// The result would not mean the same; a bug, reported as one.
    Changed,
}

/// `source` formatted.
pub(crate) fn format(source: &str) -> Result<String, Unformatted> {
    if let Some(found) = super::nesting(source) {
        return Err(Unformatted::Syntax(found));
    }
    let before = KdlDocument::parse(source)
        .map_err(|e| Unformatted::Syntax(super::syntax_diagnostics(&e, source)))?;
    let out = layout(&newlines(source));
    let after = KdlDocument::parse(&out).map_err(|_| Unformatted::Changed)?;
    if !same(before, after) {
        return Err(Unformatted::Changed);
    }
    Ok(out)
}

/// Every KDL newline (`\r\n`, a lone `\r`, NEL, VT, FF, LS, PS) as `\n`:
/// the one line ending of a formatted file. No string can hold a raw one
/// but a multi-line string, whose value KDL normalizes the same way.
fn newlines(source: &str) -> std::borrow::Cow<'_, str> {
    const OTHERS: [char; 6] = ['\r', '\u{85}', '\u{b}', '\u{c}', '\u{2028}', '\u{2029}'];
    if !source.contains(OTHERS) {
        return source.into();
    }
    source.replace("\r\n", "\n").replace(OTHERS, "\n").into()
}

/// The two documents hold the same nodes and values, whatever the layout.
fn same(mut a: KdlDocument, mut b: KdlDocument) -> bool {
    a.clear_format_recursive();
    b.clear_format_recursive();
    a == b
}

/// What a stretch of a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Code,
    /// A string or a comment: copied as written.
    Kept,
}

/// One line of the file, cut into pieces.
#[derive(Debug, Default)]
struct Line<'a> {
    pieces: Vec<(Piece, &'a str)>,
    /// It starts inside a string or comment that began on an earlier line:
    /// copied whole, as written.
    inside: bool,
}

/// Cuts `source` into lines of code, strings and comments.
fn lines<'a>(source: &'a str) -> Vec<Line<'a>> {
    let bytes = source.as_bytes();
    let mut out = vec![Line::default()];
    let mut i = 0;
    let mut code_start = 0;
    // Pushes `source[from..to]`, splitting it at newlines; a piece that
    // crosses one makes the next lines `inside`.
    let push = |out: &mut Vec<Line<'a>>, piece: Piece, from: usize, to: usize| {
        let text = &source[from..to];
        let mut parts = text.split('\n');
        if let Some(first) = parts.next()
            && !first.is_empty()
        {
            out.last_mut().expect("a line").pieces.push((piece, first));
        }
        for part in parts {
            out.push(Line {
                pieces: Vec::new(),
                inside: piece == Piece::Kept,
            });
            if !part.is_empty() {
                out.last_mut().expect("a line").pieces.push((piece, part));
            }
        }
    };
    // A piece that ends its line leaves the next line a fresh one, even
    // when it was a kept piece (a `//` comment ends before the newline).
    while i < bytes.len() {
        let kept_end = if bytes[i..].starts_with(b"//") {
            Some(
                bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n),
            )
        } else if bytes[i..].starts_with(b"/*") {
            Some(super::block_comment_end(bytes, i))
        } else if let Some((_, end)) = super::string_at(bytes, i) {
            Some(end.unwrap_or(bytes.len()))
        } else {
            None
        };
        match kept_end {
            Some(end) => {
                if code_start < i {
                    push(&mut out, Piece::Code, code_start, i);
                }
                push(&mut out, Piece::Kept, i, end);
                i = end;
                code_start = end;
            }
            None => i += 1,
        }
    }
    if code_start < bytes.len() {
        push(&mut out, Piece::Code, code_start, bytes.len());
    }
    out
}

/// The canonical spacing of one line's code: one space between tokens, none
/// around `=`, one around `{`, `}` and `;` (none before `;`).
fn tidy_code(code: &str, out: &mut String) {
    for c in code.chars() {
        match c {
            ' ' | '\t' | '\r' => {
                if !out.is_empty() && !out.ends_with([' ', '=']) {
                    out.push(' ');
                }
            }
            '=' => {
                trim_space(out);
                out.push('=');
            }
            ';' => {
                trim_space(out);
                out.push_str("; ");
            }
            '{' | '}' => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push(c);
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
}

fn trim_space(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
}

/// The file laid out canonically.
fn layout(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut depth: usize = 0;
    let mut continued = false;
    let mut blank = false;
    // After a `{` that ends its line, or at the start: no blank line yet.
    let mut opened = true;
    for line in lines(source) {
        let braces = Braces::of(&line);
        if line.inside {
            // Part of a string or comment that began above: as written.
            for (_, text) in &line.pieces {
                out.push_str(text);
            }
            out.push('\n');
            depth = (depth + braces.opens).saturating_sub(braces.closes);
            opened = false;
            blank = false;
            continued = ends_with_escline(&line);
            continue;
        }
        let mut text = String::new();
        for (k, (piece, part)) in line.pieces.iter().enumerate() {
            let before_comment = line
                .pieces
                .get(k + 1)
                .is_some_and(|(p, t)| *p == Piece::Kept && t.starts_with("//"));
            match piece {
                // The spaces before an end-of-line comment are the writer's
                // (comments aligned in a column stay aligned).
                Piece::Code if before_comment => {
                    let code = part.trim_end_matches([' ', '\t']);
                    tidy_code(code, &mut text);
                    trim_space(&mut text);
                    text.push_str(&part[code.len()..]);
                }
                Piece::Code => tidy_code(part, &mut text),
                Piece::Kept => {
                    if !text.is_empty() && !text.ends_with(' ') && part.starts_with("//") {
                        text.push(' ');
                    }
                    text.push_str(part);
                }
            }
        }
        let (opens, closes, closes_first) = (braces.opens, braces.closes, braces.leading);
        let text = text.trim();
        if text.is_empty() {
            // A blank line ends a node, continued or not.
            blank = !opened;
            continued = false;
            continue;
        }
        let indent_depth = depth.saturating_sub(closes_first) + usize::from(continued);
        if blank && closes_first == 0 {
            out.push('\n');
        }
        blank = false;
        for _ in 0..indent_depth {
            out.push_str(INDENT);
        }
        out.push_str(text);
        out.push('\n');
        depth = (depth + opens).saturating_sub(closes);
        opened = opens > 0 && text.ends_with('{');
        continued = ends_with_escline(&line);
    }
    out
}

/// The braces of one line's code.
struct Braces {
    /// `{` not closed on the line.
    opens: usize,
    /// `}` closing blocks of earlier lines.
    closes: usize,
    /// Of those, the ones before anything else on the line: they take the
    /// line's indentation back out.
    leading: usize,
}

impl Braces {
    fn of(line: &Line<'_>) -> Self {
        let mut braces = Self {
            opens: 0,
            closes: 0,
            leading: 0,
        };
        let mut started = false;
        for (piece, text) in &line.pieces {
            if *piece == Piece::Kept {
                started = true;
                continue;
            }
            for c in text.chars() {
                match c {
                    '{' => {
                        braces.opens += 1;
                        started = true;
                    }
                    '}' if braces.opens > 0 => braces.opens -= 1,
                    '}' => {
                        braces.closes += 1;
                        if !started {
                            braces.leading += 1;
                        }
                    }
                    c if c.is_whitespace() => {}
                    _ => started = true,
                }
            }
        }
        braces
    }
}

/// Whether the line's last code (before any comment) is a `\`: the node
/// goes on on the next line.
fn ends_with_escline(line: &Line<'_>) -> bool {
    let code = line.pieces.iter().rev().find(|(piece, text)| {
        *piece == Piece::Code && !text.trim().is_empty()
            || *piece == Piece::Kept && !text.starts_with("//") && !text.starts_with("/*")
    });
    matches!(code, Some((Piece::Code, text)) if text.trim_end().ends_with('\\'))
}

#[cfg(test)]
mod tests {
    use super::format;

    fn formatted(source: &str) -> String {
        let once = format(source).unwrap_or_else(|e| panic!("{e:?} for:\n{source}"));
        let twice = format(&once).unwrap();
        assert_eq!(once, twice, "not idempotent");
        once
    }

    #[test]
    fn indentation_spacing_and_blank_lines_become_canonical() {
        let source = "\n\n// top\ntask   \"a\"  timeout = \"1m\"{\n\n  run \"x\" // why\n\n\n\t  needs \"b\"\n\n}\n\n\n\ntask \"b\" { run \"y\";timeout \"2s\" }\n\n";
        assert_eq!(
            formatted(source),
            "// top\ntask \"a\" timeout=\"1m\" {\n    run \"x\" // why\n\n    needs \"b\"\n}\n\ntask \"b\" { run \"y\"; timeout \"2s\" }\n"
        );
    }

    #[test]
    fn comments_aligned_in_a_column_stay_aligned() {
        let source = "project \"p\" {\n  jobs 4          // a\n  default \"ci\"   // b\n}\n";
        assert_eq!(
            formatted(source),
            "project \"p\" {\n    jobs 4          // a\n    default \"ci\"   // b\n}\n"
        );
    }

    #[test]
    fn strings_and_comments_stay_as_written() {
        let source = "task \"a\" {\n        run #\"echo  {  \"x\" }\"#\n  /* keep\n      this   */\n    run \"\"\"\n      two  spaces\n      \"\"\"\n  description \"a  =  b\"\n}\n";
        let out = formatted(source);
        assert!(out.contains("    run #\"echo  {  \"x\" }\"#\n"), "{out}");
        assert!(out.contains("\n      this   */\n"), "{out}");
        assert!(out.contains("      two  spaces\n      \"\"\"\n"), "{out}");
        assert!(out.contains("description \"a  =  b\""), "{out}");
    }

    #[test]
    fn continuation_lines_and_slashdash_keep_their_meaning() {
        let source = "task \"a\" {\nrun \"printf\" \\\n\"%s\" \\ // the format\n\"x\"\n/- timeout \"1m\"\n}\n/- task \"off\" {\n   run \"x\"\n}\n";
        let out = formatted(source);
        assert_eq!(
            out,
            "task \"a\" {\n    run \"printf\" \\\n        \"%s\" \\ // the format\n        \"x\"\n    /- timeout \"1m\"\n}\n/- task \"off\" {\n    run \"x\"\n}\n"
        );
    }

    #[test]
    fn every_kdl_newline_becomes_a_line_feed() {
        assert_eq!(formatted("a\r\nb\rc\u{85}d\u{2028}e\n"), "a\nb\nc\nd\ne\n");
    }

    #[test]
    fn a_syntax_error_is_reported_not_formatted() {
        assert!(matches!(
            format("task \"a\" {"),
            Err(super::Unformatted::Syntax(_))
        ));
    }
}
