//! Words and command lines shared by the text, JSON and dot renderings, so
//! a task reads the same in each.

use super::{Cmd, TaskKind};
use crate::model::CommandKind;

/// The kind as users read it: `task`, `step`, `wave-gate`…
pub(crate) fn kind_name(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Task => "task",
        TaskKind::Step => "step",
        TaskKind::Stage => "stage",
        TaskKind::Phase => "phase",
        TaskKind::Gate => "gate",
        TaskKind::WaveGate => "wave-gate",
        TaskKind::Target => "target",
    }
}

/// A command as one line: a shell line as written, a direct command with
/// each word quoted for `sh` where it needs it (so the line can be pasted).
pub(crate) fn command_line(command: &Cmd) -> String {
    match command {
        CommandKind::Shell(line) => line.to_string(),
        CommandKind::Exec(argv) => argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "),
    }
}

/// POSIX single quotes around a word with anything but safe characters.
fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_commands_quote_only_what_needs_it() {
        let argv = ["cargo", "test", "a b", "it's", ""]
            .map(crate::strings::Str::from)
            .to_vec();
        assert_eq!(
            command_line(&CommandKind::Exec(argv)),
            r"cargo test 'a b' 'it'\''s' ''"
        );
        assert_eq!(command_line(&CommandKind::Shell("a && b".into())), "a && b");
    }
}
