//! `{name}` templates in commands, paths and messages.
//!
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
    /// `{name` with no closing brace.
    Unclosed,
    /// A `}` that closes nothing.
    StrayClose,
    /// `{}` or `{not a name}`.
    BadName(String),
}

impl fmt::Display for TemplateErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unclosed => write!(f, "`{{` is never closed"),
            Self::StrayClose => write!(f, "`}}` closes nothing"),
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
            b'{' => {
                emit_text(&mut emit, &text[start..i])?;
                let Some(close) = text[i + 1..].find(['}', '{']).map(|p| p + i + 1) else {
                    return Err(TemplateError {
                        offset: i,
                        len: text.len() - i,
                        kind: TemplateErrorKind::Unclosed,
                    });
                };
                if bytes[close] == b'{' {
                    return Err(TemplateError {
                        offset: i,
                        len: close - i,
                        kind: TemplateErrorKind::Unclosed,
                    });
                }
                let name = &text[i + 1..close];
                if !is_name(name) {
                    return Err(TemplateError {
                        offset: i,
                        len: close + 1 - i,
                        kind: TemplateErrorKind::BadName(name.to_owned()),
                    });
                }
                emit(Piece::Var { name, offset: i })?;
                i = close + 1;
                start = i;
            }
            b'}' => {
                return Err(TemplateError {
                    offset: i,
                    len: 1,
                    kind: TemplateErrorKind::StrayClose,
                });
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

/// Template variable names: letters, digits, `_` and `-`.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
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
    fn reports_unclosed_stray_and_bad_names() {
        assert_eq!(parse("a {x").unwrap_err().kind, TemplateErrorKind::Unclosed);
        assert_eq!(parse("a {x {y}").unwrap_err().offset, 2);
        assert_eq!(
            parse("a } b").unwrap_err().kind,
            TemplateErrorKind::StrayClose
        );
        assert_eq!(
            parse("{a b}").unwrap_err().kind,
            TemplateErrorKind::BadName("a b".into())
        );
        assert_eq!(
            parse("{}").unwrap_err().kind,
            TemplateErrorKind::BadName(String::new())
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
