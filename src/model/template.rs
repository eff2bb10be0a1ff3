//! `{name}` templates in commands, paths and messages.
//!
//! `{name}` is a template only when `name` is an identifier (letters,
//! digits, `_`, `-`, `.`); anything else with braces is left as written, so
//! shell syntax passes through: `${HOME}`, `{}`, `{a,b}`, `awk '{print $1}'`.
//! `{{` and `}}` stand for literal braces. Parsing is pure so validation (which
//! reports unknown names at their span) and the compiler (which expands them)
//! share one definition of the syntax.

use std::fmt;

/// A template that does not parse, with the byte offset of the culprit
/// within the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) offset: usize,
    pub(crate) len: usize,
    pub(crate) kind: TemplateErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplateErrorKind {
    /// `{name` with no closing brace, at the end of the text.
    Unclosed,
    /// A name that nothing defines (the compiler's own check).
    BadName(String),
}

impl fmt::Display for TemplateErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unclosed => write!(f, "`{{` is never closed"),
            Self::BadName(name) if name.is_empty() => write!(f, "empty template variable `{{}}`"),
            Self::BadName(name) => write!(f, "`{{{name}}}` is not a template variable name"),
        }
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    /// A literal `{` or `}` written doubled.
    Brace(char),
    /// `{name}`; `offset` is where the `{` stands.
    Var {
        name: &'a str,
        offset: usize,
    },
}

/// Splits a template into text, literal braces and variables.
pub(crate) fn parse(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    scan(text, |piece| {
        pieces.push(piece);
        Ok(())
    })?;
    Ok(pieces)
}

/// Hands each piece of a template to `emit`, in order, without collecting
/// them (the compiler expands a template per task of a large plan). Stops
/// at the first error, from the template or from `emit`.
pub(crate) fn scan<'a>(
    text: &'a str,
    mut emit: impl FnMut(Piece<'a>) -> Result<(), TemplateError>,
) -> Result<(), TemplateError> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'}' if bytes.get(i + 1) == Some(&bytes[i]) => {
                emit_text(&mut emit, &text[start..i])?;
                emit(Piece::Brace(char::from(bytes[i])))?;
                i += 2;
                start = i;
            }
            // `${VAR}` is the shell's.
            b'{' if i > 0 && bytes[i - 1] == b'$' => i += 1,
            b'{' => {
                let end = i
                    + 1
                    + bytes[i + 1..]
                        .iter()
                        .take_while(|b| is_name_byte(**b))
                        .count();
                match bytes.get(end) {
                    Some(b'}') if end > i + 1 => {
                        emit_text(&mut emit, &text[start..i])?;
                        emit(Piece::Var {
                            name: &text[i + 1..end],
                            offset: i,
                        })?;
                        i = end + 1;
                        start = i;
                    }
                    // `{name` and nothing after it: a template left open.
                    None if end > i + 1 => {
                        return Err(TemplateError {
                            offset: i,
                            len: end - i,
                            kind: TemplateErrorKind::Unclosed,
                        });
                    }
                    // `{}`, `{a,b}`, `{ print $1 }`: shell syntax, as written.
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    emit_text(&mut emit, &text[start..])
}

/// Emits a text piece unless it is empty.
fn emit_text<'a>(
    emit: &mut impl FnMut(Piece<'a>) -> Result<(), TemplateError>,
    text: &'a str,
) -> Result<(), TemplateError> {
    if text.is_empty() {
        Ok(())
    } else {
        emit(Piece::Text(text))
    }
}

/// Template variable names: letters, digits, `_`, `-` and `.`.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Expands a template (tests use it as the reference expansion); an unknown name is
/// returned as the error so callers can still fail loudly on a logic bug.
#[cfg(test)]
pub(crate) fn expand<'a>(
    text: &'a str,
    lookup: impl Fn(&str) -> Option<&'a str>,
) -> Result<String, TemplateError> {
    expand_with(text, |name| lookup(name).map(str::to_owned))
}

/// Like [`expand`], with a lookup that builds its values.
#[cfg(test)]
pub(crate) fn expand_with(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    for piece in parse(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Brace(c) => out.push(c),
            Piece::Var { name, offset } => match lookup(name) {
                Some(value) => out.push_str(&value),
                None => {
                    return Err(TemplateError {
                        offset,
                        len: name.len() + 2,
                        kind: TemplateErrorKind::BadName(name.to_owned()),
                    });
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_vars_and_braces() {
        let pieces = parse("a {x} {{b}} c").unwrap();
        assert_eq!(
            pieces,
            vec![
                Piece::Text("a "),
                Piece::Var {
                    name: "x",
                    offset: 2
                },
                Piece::Text(" "),
                Piece::Brace('{'),
                Piece::Text("b"),
                Piece::Brace('}'),
                Piece::Text(" c"),
            ]
        );
    }

    #[test]
    fn an_identifier_left_open_at_the_end_is_an_error() {
        assert_eq!(parse("a {x").unwrap_err().kind, TemplateErrorKind::Unclosed);
        assert_eq!(parse("a {x").unwrap_err().offset, 2);
    }

    #[test]
    fn shell_syntax_passes_through_untouched() {
        for shell in [
            "echo ${HOME} ${PATH:-x}",
            "find . -name '*.o' -exec rm {} \\;",
            "cp file.{c,h} out/",
            "awk '{print $1}' data",
            "if true; then { echo a; }; fi",
            "a } b",
            "echo {a b}",
        ] {
            assert_eq!(expand(shell, |_| None).unwrap(), shell, "{shell}");
        }
        assert_eq!(
            expand_with("v{ver.major} {x-y}", |n| Some(n.to_uppercase())).unwrap(),
            "vVER.MAJOR X-Y"
        );
    }

    #[test]
    fn expands_known_names() {
        let out = expand("gen {entity} {{x}}", |n| (n == "entity").then_some("tag")).unwrap();
        assert_eq!(out, "gen tag {x}");
        assert!(expand("{nope}", |_| None).is_err());
    }

    #[test]
    fn multibyte_text_is_kept() {
        assert_eq!(expand("é{a}ü", |_| Some("ß")).unwrap(), "éßü");
    }
}
