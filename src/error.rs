//! Errors that end a command, as data; the exit code is a method.

use std::fmt;
use std::path::PathBuf;

use crate::compile::SelectionError;
use crate::words::plural;

/// Why a command stopped short.
#[derive(Debug)]
pub(crate) enum Error {
    /// No orchestra file was found searching upward from `start`.
    FileNotFound { start: PathBuf },
    /// A path given on the command line cannot be used.
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The configuration has errors; they were already printed. `found`
    /// holds them as data, for `--json`.
    Config {
        errors: usize,
        warnings: usize,
        found: Vec<serde_json::Value>,
    },
    /// Warnings were found under `--deny-warnings`; already printed.
    DeniedWarnings { warnings: usize },
    /// The command line's selection does not fit the model.
    Selection(SelectionError),
    /// Writing output failed (for example a closed pipe).
    Output(std::io::Error),
    /// `orchestra build` ran and these tasks failed (already reported).
    BuildFailed { failed: Vec<String> },
    /// The run was interrupted (Ctrl-C); exit code 130 like a shell.
    Interrupted,
    /// orchestra refused to touch something that is not what it should be
    /// (a `.orchestra` that is a symlink, say); the message says what.
    Unsafe { message: String },
    /// Options that cannot go together (clap cannot say it for values).
    Usage { message: String },
    /// `orchestra fmt --check`: these files are not formatted (their diffs
    /// were printed).
    Unformatted { files: Vec<String> },
}

impl Error {
    /// 2 for everything about configuration or usage, per the README.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::FileNotFound { .. }
            | Self::Io { .. }
            | Self::Config { .. }
            | Self::DeniedWarnings { .. }
            | Self::Unsafe { .. }
            | Self::Usage { .. } => 2,
            Self::Selection(e) => e.exit_code(),
            Self::BuildFailed { .. } | Self::Unformatted { .. } => 1,
            // Not 1: the work may well have succeeded; only its report was lost.
            Self::Output(_) => 3,
            Self::Interrupted => 130,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FileNotFound { start } => write!(
                f,
                "no `orchestra.kdl` found in `{}` or any parent directory (use `-f PATH` to name one)",
                start.display()
            ),
            Self::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} `{}`: {source}", path.display()),
            Self::Unsafe { message } | Self::Usage { message } => write!(f, "{message}"),
            Self::Unformatted { files } => write!(
                f,
                "{} not formatted: {} (run `orchestra fmt`)",
                if files.len() == 1 {
                    "1 file is".to_owned()
                } else {
                    format!("{} files are", files.len())
                },
                files.join(", ")
            ),
            Self::Config {
                errors, warnings, ..
            } if *warnings > 0 => write!(
                f,
                "the configuration has {} and {}",
                plural(*errors, "error"),
                plural(*warnings, "warning")
            ),
            Self::Config { errors, .. } => {
                write!(f, "the configuration has {}", plural(*errors, "error"))
            }
            Self::DeniedWarnings { warnings } => write!(
                f,
                "the configuration has {} (denied by --deny-warnings)",
                plural(*warnings, "warning")
            ),
            Self::Selection(e) => e.fmt(f),
            Self::Output(e) => write!(f, "cannot write output: {e}"),
            Self::BuildFailed { failed } => match failed.as_slice() {
                [one] => write!(f, "`{one}` failed"),
                many => {
                    let names: Vec<String> = many.iter().map(|a| format!("`{a}`")).collect();
                    write!(
                        f,
                        "{} failed: {}",
                        plural(many.len(), "task"),
                        names.join(", ")
                    )
                }
            },
            Self::Interrupted => write!(f, "interrupted"),
        }
    }
}

impl std::error::Error for Error {}

impl From<SelectionError> for Error {
    fn from(error: SelectionError) -> Self {
        Self::Selection(error)
    }
}
