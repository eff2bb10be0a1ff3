//! Shell completions and the man page: `orchestra completions SHELL`
//! prints a registration script that calls orchestra back at each Tab
//! (`ORCHESTRA_COMPLETE=SHELL orchestra -- WORDS…`, answered in
//! [`answer`] before anything else runs), so subcommands and options come
//! from the command line's own definition and addresses from the project
//! in the current directory, as it is now. `orchestra man` prints the man
//! page (roff) from the same definition.

use std::ffi::OsStr;

use clap::CommandFactory;
use clap_complete::env::{EnvCompleter, Shells};
use clap_complete::{ArgValueCompleter, CompletionCandidate};

use super::write_stdout;
use crate::cli::{Cli, Shell};
use crate::error::Error;

/// The variable the registration scripts set when they call back.
const VAR: &str = "ORCHESTRA_COMPLETE";

/// When a shell is asking (the variable is set), answers and exits.
pub(super) fn answer() {
    clap_complete::CompleteEnv::with_factory(completing)
        .var(VAR)
        .bin("orchestra")
        .complete();
}

/// The command line's definition with the project's addresses as what
/// `build`, `plan` and `why` take (added here: `cli.rs` knows no project).
fn completing() -> clap::Command {
    let complete = |arg: clap::Arg| arg.add(ArgValueCompleter::new(addresses));
    // `mut_arg` puts the argument last: `-- ARGS…` must stay after it.
    let selecting = |c: clap::Command| c.mut_arg("addresses", complete).mut_arg("args", |a| a);
    Cli::command()
        .mut_subcommand("build", selecting)
        .mut_subcommand("plan", selecting)
        .mut_subcommand("why", |c| c.mut_arg("address", complete))
}

/// `orchestra completions SHELL`.
pub(super) fn script(shell: Shell) -> Result<(), Error> {
    let name = match shell {
        Shell::Bash => "bash",
        Shell::Zsh => "zsh",
        Shell::Fish => "fish",
        Shell::Powershell => "powershell",
        Shell::Elvish => "elvish",
    };
    let builtins = Shells::builtins();
    let completer: &dyn EnvCompleter = builtins.completer(name).ok_or_else(|| Error::Usage {
        message: format!("no completions for `{name}`"),
    })?;
    rendered("write the completion script", |out| {
        completer.write_registration(VAR, "orchestra", "orchestra", "orchestra", out)
    })
}

/// `orchestra man`: the man page, in roff.
pub(super) fn man() -> Result<(), Error> {
    rendered("write the man page", |out| {
        clap_mangen::Man::new(Cli::command()).render(out)
    })
}

/// What `render` writes, printed on stdout.
fn rendered(
    action: &'static str,
    render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
) -> Result<(), Error> {
    let mut text = Vec::new();
    render(&mut text).map_err(|source| Error::Io {
        action,
        path: "-".into(),
        source,
    })?;
    write_stdout(&String::from_utf8_lossy(&text))
}

/// The addresses of the project found from the current directory that
/// start with what is typed: every task's address and each of its
/// `/`-separated prefixes (a milestone, an entity group, a rule). A file
/// that does not load completes nothing, silently: a shell prompt is no
/// place for diagnostics.
fn addresses(typed: &OsStr) -> Vec<CompletionCandidate> {
    let typed = typed.to_string_lossy();
    let Ok(cwd) = std::env::current_dir() else {
        return Vec::new();
    };
    let Ok(located) = crate::load::locate(&cwd, None) else {
        return Vec::new();
    };
    let options = crate::validate::Options {
        check_programs: false,
    };
    let Some(model) = crate::load::load(located, options)
        .ok()
        .and_then(|loaded| loaded.model)
    else {
        return Vec::new();
    };
    let selection = crate::compile::Selection {
        everything: true,
        ..crate::compile::Selection::default()
    };
    let Ok(plan) = crate::compile::compile(&model, &selection) else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for task in &plan.tasks {
        let address = task.address.as_str();
        let mut end = 0;
        while let Some(slash) = address[end..].find('/') {
            found.push(address[..end + slash].to_owned());
            end += slash + 1;
        }
        found.push(address.to_owned());
    }
    found.sort();
    found.dedup();
    found
        .into_iter()
        .filter(|a| a.starts_with(typed.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

#[cfg(test)]
mod tests {
    /// clap checks a definition only when it is built: the one the shell's
    /// call-back builds (every subcommand at once) must pass its checks.
    #[test]
    fn the_definition_completions_use_is_valid() {
        super::completing().debug_assert();
    }
}
