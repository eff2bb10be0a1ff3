//! A command as written: one string through the shell, or a program and its
//! arguments run directly.

use super::Span;
use crate::strings::Str;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CommandKind {
    /// `run "one string"`: passed to the project's shell (`sh -c` by default).
    Shell(Str),
    /// `run "prog" "arg" …`: executed directly, no shell, so substituted
    /// values cannot inject shell syntax.
    Exec(Vec<Str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub(crate) kind: CommandKind,
    /// Span of each word (one for shell form), in order.
    pub(crate) word_spans: Vec<Span>,
    /// The whole node or value that declared the command.
    pub(crate) span: Span,
}

impl Command {
    /// The words of the command as written (one for shell form).
    pub(crate) fn words(&self) -> Vec<&str> {
        match &self.kind {
            CommandKind::Shell(line) => vec![line.as_str()],
            CommandKind::Exec(argv) => argv.iter().map(Str::as_str).collect(),
        }
    }

    /// The program this command will start, when it can be known before
    /// running: argv\[0\] in exec form, the first word of a shell line when it is
    /// a plain program name (not a builtin, assignment, path or template).
    pub(crate) fn program(&self) -> Option<&str> {
        match &self.kind {
            CommandKind::Exec(argv) => argv.first().map(Str::as_str).filter(|p| is_plain(p)),
            CommandKind::Shell(line) => shell_program(line),
        }
    }
}

/// Shell words that are not programs on PATH.
const SHELL_BUILTINS: &[&str] = &[
    ".", ":", "alias", "bg", "break", "case", "cd", "command", "continue", "eval", "exec", "exit",
    "export", "fg", "for", "function", "getopts", "hash", "if", "jobs", "local", "read",
    "readonly", "return", "set", "shift", "source", "test", "times", "trap", "type", "ulimit",
    "umask", "unalias", "unset", "until", "wait", "while", "!", "{", "(", "[", "[[", "time",
];

/// The first word of a shell line when it names a program to look up on PATH.
pub(crate) fn shell_program(line: &str) -> Option<&str> {
    let first = line.split_whitespace().next()?;
    (is_plain(first) && !SHELL_BUILTINS.contains(&first)).then_some(first)
}

/// A plain program name: no path, no quoting, no expansion, no template.
fn is_plain(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
        && word != "."
        && word != ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_program_is_first_plain_word() {
        assert_eq!(shell_program("cargo check -q"), Some("cargo"));
        assert_eq!(shell_program("  sh scripts/x.sh"), Some("sh"));
        assert_eq!(shell_program("cd src && make"), None);
        assert_eq!(shell_program("FOO=1 cargo test"), None);
        assert_eq!(shell_program("./configure"), None);
        assert_eq!(shell_program("{crate}-gen"), None);
        assert_eq!(shell_program("\"quoted\" x"), None);
        assert_eq!(shell_program(""), None);
    }
}
