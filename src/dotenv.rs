//! `.env` files: `NAME=value` lines, as docker compose, just and the
//! `dotenv` libraries read them. Blank lines and `#` comments are skipped;
//! `export NAME=value` is accepted; a value may be in double quotes (with
//! `\n`, `\t`, `\"` and `\\` escapes) or single quotes (taken literally);
//! an unquoted value ends at ` #` and is trimmed. Nothing is interpolated:
//! `$HOME` stays `$HOME`. Pure: the caller reads the file.

/// A line that is not `NAME=value`: its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadLine {
    pub(crate) line: usize,
    pub(crate) message: String,
}

/// The variables of `text`, in order (a later one of the same name wins
/// when they are applied).
pub(crate) fn parse(text: &str) -> Result<Vec<(String, String)>, BadLine> {
    let mut vars = Vec::new();
    // A byte-order mark some editors write is not part of the first name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let bad = |message: &str| BadLine {
            line: i + 1,
            message: message.to_owned(),
        };
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim_start(),
            _ => line,
        };
        let Some((name, value)) = line.split_once('=') else {
            // `export NAME` (marking a variable for export) sets nothing.
            if raw.trim_start().starts_with("export") && !line.contains(char::is_whitespace) {
                continue;
            }
            return Err(bad("expected `NAME=value`"));
        };
        let name = name.trim();
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(bad(&format!(
                "`{name}` is not a variable name (letters, digits and `_`, not starting with a digit)"
            )));
        }
        vars.push((name.to_owned(), value_of(value.trim()).map_err(bad)?));
    }
    Ok(vars)
}

fn value_of(value: &str) -> Result<String, &'static str> {
    if let Some(rest) = value.strip_prefix('"') {
        let mut out = String::with_capacity(rest.len());
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    let after = chars.as_str().trim();
                    return if after.is_empty() || after.starts_with('#') {
                        Ok(out)
                    } else {
                        Err("text after the closing quote")
                    };
                }
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c @ ('"' | '\\')) => out.push(c),
                    // An unknown escape keeps its backslash: "C:\Users".
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => return Err("a value in double quotes is not closed"),
                },
                c => out.push(c),
            }
        }
        Err("a value in double quotes is not closed")
    } else if let Some(rest) = value.strip_prefix('\'') {
        let (inside, after) = rest
            .split_once('\'')
            .ok_or("a value in single quotes is not closed")?;
        let after = after.trim();
        if after.is_empty() || after.starts_with('#') {
            Ok(inside.to_owned())
        } else {
            Err("text after the closing quote")
        }
    } else if value.starts_with('#') {
        // `A= # note`: an empty value and a comment.
        Ok(String::new())
    } else {
        let end = value.find(" #").unwrap_or(value.len());
        Ok(value[..end].trim_end().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_quotes_and_export() {
        let text = "# comment\n\nA=1\nexport B = two words # note\nC=\"quoted \\\"x\\\"\\nnext\"\nD='$HOME \\n'\nE=\nF=a#b\n";
        let vars = parse(text).unwrap();
        let get = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("1"));
        assert_eq!(get("B"), Some("two words"));
        assert_eq!(get("C"), Some("quoted \"x\"\nnext"));
        assert_eq!(get("D"), Some("$HOME \\n"));
        assert_eq!(get("E"), Some(""));
        assert_eq!(get("F"), Some("a#b"));
    }

    #[test]
    fn a_bom_crlf_bare_export_empty_values_and_unknown_escapes() {
        let vars =
            parse("\u{feff}A=1\r\nexport B\nexport\tC=2\nD= # note\nE=\"C:\\Users\"\n").unwrap();
        assert_eq!(
            vars,
            [
                ("A".to_owned(), "1".to_owned()),
                ("C".to_owned(), "2".to_owned()),
                ("D".to_owned(), String::new()),
                ("E".to_owned(), "C:\\Users".to_owned()),
            ]
        );
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        assert_eq!(parse("A=1\njust words\n").unwrap_err().line, 2);
        assert!(parse("1A=x").unwrap_err().message.contains("variable name"));
        assert!(
            parse("A=\"open")
                .unwrap_err()
                .message
                .contains("not closed")
        );
        assert!(parse("A='x' y").unwrap_err().message.contains("after"));
    }
}
