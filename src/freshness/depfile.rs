//! Reading the dependency files compilers write (`cc -MD`/`-MMD -MF`):
//! Makefile rules, `targets: prerequisites`, of which orchestra keeps the
//! prerequisites — the files the command read.
//!
//! The syntax, as gcc and clang write it: a rule may span lines joined by
//! `\` at the end of a line; names are separated by blanks; a space in a
//! name is written `\ ` (and a backslash before it doubled: `2n`
//! backslashes and a space are `n` backslashes ending the name, `2n+1` are
//! `n` backslashes and a space in it), `#` is `\#`, `$` is `$$`. Several
//! rules may follow one another (`-MP` adds an empty rule per header).
//! Anything else is malformed: orchestra then warns and runs the task
//! again next time rather than trust a partial list.

/// Why a dependency file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Text before any `:` that is not a rule.
    NoRule {
        line: usize,
    },
    NotUtf8,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoRule { line } => write!(f, "line {line} is not a `target: files` rule"),
            Self::NotUtf8 => f.write_str("is not UTF-8"),
        }
    }
}

/// One name or the `:` that ends a rule's targets.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Name(String),
    Colon,
    /// The end of a (joined) line.
    End,
}

/// A token and the line (from 1) it ends on.
type Located = (Token, usize);

/// The prerequisites of every rule in `bytes`, in order, each once.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<String>, Malformed> {
    let text = std::str::from_utf8(bytes).map_err(|_| Malformed::NotUtf8)?;
    let mut files: Vec<String> = Vec::new();
    let mut in_targets = true;
    let mut pending_targets = false;
    let mut last_line = 1;
    for (token, line) in tokens(text) {
        last_line = line;
        match token {
            Token::Colon if in_targets => {
                in_targets = false;
                pending_targets = false;
            }
            // A second `:` in a rule (`a: b: c`) is not something gcc
            // writes.
            Token::Colon => return Err(Malformed::NoRule { line }),
            Token::Name(_) if in_targets => pending_targets = true,
            Token::Name(name) => {
                if !files.contains(&name) {
                    files.push(name);
                }
            }
            Token::End => {
                if in_targets && pending_targets {
                    return Err(Malformed::NoRule { line });
                }
                in_targets = true;
                pending_targets = false;
            }
        }
    }
    if in_targets && pending_targets {
        return Err(Malformed::NoRule { line: last_line });
    }
    Ok(files)
}

/// Splits `text` into names, colons and line ends, undoing the escapes.
fn tokens(text: &str) -> Vec<Located> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Located> = Vec::new();
    let mut name = String::new();
    let mut i = 0;
    let mut line = 1;
    let flush = |name: &mut String, out: &mut Vec<Located>, line: usize| {
        if !name.is_empty() {
            out.push((Token::Name(std::mem::take(name)), line));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let run = chars[i..].iter().take_while(|c| **c == '\\').count();
                let next = chars.get(i + run).copied();
                match next {
                    // A line continued: the backslashes before the newline
                    // other than the last are part of the name.
                    Some('\n') | None if run == 1 => {
                        flush(&mut name, &mut out, line);
                        i += run + usize::from(next.is_some());
                        line += 1;
                        continue;
                    }
                    Some('\r') if run == 1 && chars.get(i + 2) == Some(&'\n') => {
                        flush(&mut name, &mut out, line);
                        i += 3;
                        line += 1;
                        continue;
                    }
                    Some(' ' | '\t') => {
                        name.extend(std::iter::repeat_n('\\', run / 2));
                        if run % 2 == 1 {
                            name.push(next.unwrap_or(' '));
                            i += run + 1;
                        } else {
                            flush(&mut name, &mut out, line);
                            i += run;
                        }
                        continue;
                    }
                    Some('#') => {
                        name.extend(std::iter::repeat_n('\\', run / 2));
                        name.push('#');
                        i += run + 1;
                        continue;
                    }
                    _ => {
                        name.extend(std::iter::repeat_n('\\', run));
                        i += run;
                        continue;
                    }
                }
            }
            '$' if chars.get(i + 1) == Some(&'$') => {
                name.push('$');
                i += 2;
                continue;
            }
            ' ' | '\t' => flush(&mut name, &mut out, line),
            '\r' if chars.get(i + 1) == Some(&'\n') => {}
            '\n' => {
                flush(&mut name, &mut out, line);
                out.push((Token::End, line));
                line += 1;
            }
            // A `:` ends the targets when a blank or the line's end follows
            // (`C:\x` would be a drive, which no Unix compiler writes).
            ':' if matches!(chars.get(i + 1), None | Some(' ' | '\t' | '\n' | '\r')) => {
                flush(&mut name, &mut out, line);
                out.push((Token::Colon, line));
            }
            '#' if name.is_empty() => {
                // A comment, to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            c => name.push(c),
        }
        i += 1;
    }
    flush(&mut name, &mut out, line);
    out.push((Token::End, line));
    out
}

/// `file`, as a depfile written by a command run in `dir` (relative to the
/// project root `root`) names it, as the stat cache names files: relative
/// to the project with `/` separators and no `.` or `..` steps when it is
/// inside the project, absolute when it is outside (`/usr/include/stdio.h`
/// with `-MD`).
pub(crate) fn project_path(root: &std::path::Path, dir: &str, file: &str) -> String {
    use std::path::{Component, Path};
    let joined = if Path::new(file).is_absolute() {
        Path::new(file).to_path_buf()
    } else {
        root.join(dir).join(file)
    };
    let absolute_root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let absolute = std::path::absolute(&joined).unwrap_or(joined);
    // Lexically: `..` undoes the step before it (a link is not followed).
    let mut parts: Vec<Component> = Vec::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(parts.last(), Some(Component::Normal(_))) {
                    parts.pop();
                }
            }
            other => parts.push(other),
        }
    }
    let clean: std::path::PathBuf = parts.iter().collect();
    match clean.strip_prefix(&absolute_root) {
        Ok(inside) => inside.to_string_lossy().into_owned(),
        Err(_) => clean.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(text: &str) -> Vec<String> {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn reads_what_gcc_writes() {
        let d = "build/main.o: src/main.c src/util.h \\\n  include/config.h\n";
        assert_eq!(files(d), ["src/main.c", "src/util.h", "include/config.h"]);
    }

    #[test]
    fn several_targets_and_the_empty_rules_of_mp() {
        let d = "a.o a.d: a.c a.h\n\na.h:\n";
        assert_eq!(files(d), ["a.c", "a.h"]);
    }

    #[test]
    fn escapes_spaces_hashes_dollars_and_backslashes() {
        let d = "out.o: my\\ file.c a\\#b.h cost$$.h dir\\\\\\ x.h odd\\\\ y.h back\\slash.h\n";
        assert_eq!(
            files(d),
            [
                "my file.c",
                "a#b.h",
                "cost$.h",
                "dir\\ x.h",
                "odd\\",
                "y.h",
                "back\\slash.h"
            ]
        );
    }

    #[test]
    fn windows_line_ends_and_no_final_newline() {
        assert_eq!(files("x.o: a.c \\\r\n b.h\r\n"), ["a.c", "b.h"]);
        assert_eq!(files("x.o: a.c"), ["a.c"]);
        assert_eq!(files("x.o:"), Vec::<String>::new());
        assert_eq!(files(""), Vec::<String>::new());
    }

    #[test]
    fn each_file_once() {
        assert_eq!(files("a.o: a.h b.h\nb.o: a.h c.h\n"), ["a.h", "b.h", "c.h"]);
    }

    #[test]
    fn paths_are_named_from_the_project_root() {
        let root = std::path::Path::new("/work/p");
        assert_eq!(project_path(root, ".", "src/a.h"), "src/a.h");
        assert_eq!(project_path(root, "crates/x", "../y/b.h"), "crates/y/b.h");
        assert_eq!(project_path(root, ".", "./inc/./c.h"), "inc/c.h");
        assert_eq!(project_path(root, ".", "/work/p/src/d.h"), "src/d.h");
        assert_eq!(
            project_path(root, ".", "/usr/include/stdio.h"),
            "/usr/include/stdio.h"
        );
        assert_eq!(project_path(root, ".", "../other/e.h"), "/work/other/e.h");
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(
            parse(b"just some words\n"),
            Err(Malformed::NoRule { line: 1 })
        );
        assert_eq!(
            parse(b"a.o: a.c\nnot a rule\n"),
            Err(Malformed::NoRule { line: 2 })
        );
        assert_eq!(parse(&[0xff, b':']), Err(Malformed::NotUtf8));
        assert!(parse(b"a.o: b: c\n").is_err());
    }
}
