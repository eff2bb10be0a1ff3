//! Why a selection cannot be compiled: usage errors on the command line
//! (`ADDRESS`, `--complexity`, `--skip`, `--set`), each with a near miss
//! when there is one. All of them exit with code 2.

use std::fmt;

use crate::model::AddressError;
use crate::secrets::Masker;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SelectionError {
    /// An `ADDRESS` argument that names nothing.
    UnknownAddress {
        address: String,
        error: AddressError,
    },
    /// `--set` without `=`.
    MalformedSet { arg: String },
    /// `--set NAME=…` where no `vars` entry is called NAME.
    UnknownVar {
        name: String,
        suggestion: Option<String>,
        declared: Vec<String>,
    },
    /// `--complexity LEVEL` where no pipeline is called LEVEL.
    UnknownComplexity {
        level: String,
        suggestion: Option<String>,
        declared: Vec<String>,
    },
    /// `--complexity LEVEL` names a pipeline without `phases`, which would
    /// drop this milestone's phases.
    PhasesDropped { level: String, milestone: String },
    /// `--skip NAME` that matches no stage, step, phase, gate, check or task
    /// of the selected plan.
    UnknownSkip {
        name: String,
        suggestion: Option<String>,
    },
    /// `--complexity` put a stage or gate next to a phase of the same name,
    /// so two tasks would share an address. (Validation reports this for
    /// each milestone's own pipeline; only an override can get here.)
    AddressCollision { address: String, level: String },
    /// `-- ARGS…` that no `{args}` of the task named would take: `task` is
    /// whether the address is one task, `commands` whether it has any, and
    /// `example` one of its tasks when it is not.
    ArgsUnused {
        address: String,
        task: bool,
        commands: bool,
        example: Option<String>,
    },
}

impl SelectionError {
    /// Usage errors exit with 2, like configuration errors.
    // Every selection error is a usage error today; the method mirrors
    // `Error::exit_code` so a new kind can choose its own.
    #[allow(clippy::unused_self)]
    pub(crate) fn exit_code(&self) -> u8 {
        2
    }
}

impl SelectionError {
    /// The error with every word the user typed masked where it holds a
    /// secret's value (a token pasted as an address or a `--set` name must
    /// not be echoed). A masked address loses its near-miss suggestion,
    /// which was made from the secret.
    pub(crate) fn masked(mut self, masker: &Masker) -> Self {
        let mask = |text: &mut String| {
            let shown = masker.mask(text);
            let changed = shown != *text;
            if changed {
                *text = shown.into_owned();
            }
            changed
        };
        match &mut self {
            Self::UnknownAddress { address, error } => {
                if mask(address) | mask(&mut error.name) {
                    error.offset = 0;
                    error.suggestion = None;
                }
            }
            Self::MalformedSet { arg } => {
                mask(arg);
            }
            Self::UnknownVar {
                name, suggestion, ..
            }
            | Self::UnknownComplexity {
                level: name,
                suggestion,
                ..
            }
            | Self::UnknownSkip { name, suggestion } => {
                if mask(name) {
                    *suggestion = None;
                }
            }
            Self::ArgsUnused { address, .. } => {
                mask(address);
            }
            Self::PhasesDropped { .. } | Self::AddressCollision { .. } => {}
        }
        self
    }
}

/// ": did you mean `x`?" or ": declared: a, b" or nothing.
fn hint(suggestion: Option<&String>, declared: &[String], none: &str) -> String {
    match suggestion {
        Some(s) => format!(": did you mean `{s}`?"),
        None if declared.is_empty() => format!(" ({none})"),
        None => format!(" (declared: {})", declared.join(", ")),
    }
}

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownAddress { address, error } => {
                if error.what == "address" {
                    write!(f, "unknown address `{address}`")?;
                } else {
                    write!(
                        f,
                        "unknown {} `{}` in address `{address}`",
                        error.what, error.name
                    )?;
                }
                match (&error.suggestion, &error.hint) {
                    (Some(s), _) if error.what == "address" => write!(f, ": did you mean `{s}`?"),
                    (Some(s), _) => {
                        let fixed = format!("{}{s}", &address[..error.offset]);
                        write!(f, ": did you mean `{fixed}`?")
                    }
                    (None, Some(h)) => write!(f, " ({h})"),
                    (None, None) => Ok(()),
                }
            }
            Self::MalformedSet { arg } => {
                write!(f, "`--set {arg}` must have the form NAME=VALUE")
            }
            Self::UnknownVar {
                name,
                suggestion,
                declared,
            } => write!(
                f,
                "`--set {name}=…` names no var{}",
                hint(suggestion.as_ref(), declared, "no `vars` are declared")
            ),
            Self::UnknownComplexity {
                level,
                suggestion,
                declared,
            } => write!(
                f,
                "unknown complexity `{level}`{}",
                hint(suggestion.as_ref(), declared, "no pipeline is declared")
            ),
            Self::PhasesDropped { level, milestone } => write!(
                f,
                "`--complexity {level}`: pipeline `{level}` has no `phases`, so the phases of milestone `{milestone}` would never run; add `phases` to it or choose another level"
            ),
            Self::UnknownSkip { name, suggestion } => {
                write!(
                    f,
                    "`--skip {name}` matches no stage, step, phase, gate, check or task of the selected plan"
                )?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean `{s}`?"),
                    None => Ok(()),
                }
            }
            Self::ArgsUnused {
                address,
                task: false,
                example,
                ..
            } => write!(
                f,
                "`{address}` is not one task, so the arguments after `--` would reach nothing: name one of its tasks, such as `{}`",
                example.as_deref().unwrap_or("…")
            ),
            Self::ArgsUnused {
                address,
                commands: false,
                ..
            } => write!(
                f,
                "`{address}` runs no commands, so the arguments after `--` would reach nothing: name the task that uses `{{args}}`"
            ),
            Self::ArgsUnused { address, .. } => write!(
                f,
                "`{address}` does not use `{{args}}`, so the arguments after `--` would reach nothing: write `{{args}}` in its commands, or leave them out"
            ),
            Self::AddressCollision { address, level } => write!(
                f,
                "with `--complexity {level}` two tasks would be called `{address}`: a phase has the name of a stage or gate of that pipeline"
            ),
        }
    }
}

impl std::error::Error for SelectionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_read_as_questions() {
        let e = SelectionError::UnknownComplexity {
            level: "ful".into(),
            suggestion: Some("full".into()),
            declared: vec!["full".into()],
        };
        assert_eq!(
            e.to_string(),
            "unknown complexity `ful`: did you mean `full`?"
        );
        let e = SelectionError::UnknownVar {
            name: "x".into(),
            suggestion: None,
            declared: vec![],
        };
        assert_eq!(
            e.to_string(),
            "`--set x=…` names no var (no `vars` are declared)"
        );
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn inner_part_suggestion_repeats_the_prefix() {
        let e = SelectionError::UnknownAddress {
            address: "M1/shema".into(),
            error: AddressError {
                what: "phase",
                name: "shema".into(),
                offset: 3,
                suggestion: Some("schema".into()),
                hint: None,
            },
        };
        assert_eq!(
            e.to_string(),
            "unknown phase `shema` in address `M1/shema`: did you mean `M1/schema`?"
        );
    }
}
