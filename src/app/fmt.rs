//! `orchestra fmt [--check] [FILE…]`: lays out orchestra.kdl and every file
//! it includes canonically (`config::format`), writing each changed file
//! atomically and never through a link; `--check` writes nothing, prints a
//! diff and exits 1 when a file would change.

use std::path::{Path, PathBuf};

use super::{show, write_stdout};
use crate::cli::FmtArgs;
use crate::config::format::{Unformatted, format};
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::load::{self, Located};
use crate::sources::Sources;
use crate::validate::Options;
use crate::workspace::fs::{Kind, write_atomic_mode};

/// One file to format: where it is and how messages name it.
struct Target {
    path: PathBuf,
    shown: String,
}

pub(super) fn fmt(
    start: &Path,
    located: Option<Located>,
    args: &FmtArgs,
    render: RenderOptions,
) -> Result<(), Error> {
    let targets = match located {
        _ if !args.files.is_empty() => args
            .files
            .iter()
            .map(|f| Target {
                path: start.join(f),
                shown: f.display().to_string(),
            })
            .collect(),
        Some(located) => project_files(located)?,
        None => Vec::new(),
    };
    let mut unformatted = Vec::new();
    let mut errors = 0;
    let mut found = Vec::new();
    // A file that cannot be formatted does not stop the others.
    let mut refused: Vec<Error> = Vec::new();
    for target in &targets {
        if let Err(error) = writable(target) {
            say!("error: {error}");
            refused.push(error);
            continue;
        }
        let bytes = match std::fs::read(&target.path) {
            Ok(bytes) => bytes,
            Err(source) => {
                let error = Error::Io {
                    action: "read",
                    path: target.path.clone(),
                    source,
                };
                say!("error: {error}");
                refused.push(error);
                continue;
            }
        };
        let (text, formatted) = match load::utf8(bytes) {
            (text, None) => {
                let formatted = format(&text);
                (text, formatted)
            }
            (text, Some(bad)) => (text, Err(Unformatted::Syntax(vec![bad]))),
        };
        let formatted = match formatted {
            Ok(formatted) => formatted,
            Err(Unformatted::Syntax(diagnostics)) => {
                let sources = Sources::single(target.shown.clone(), text);
                show(&diagnostics, &sources, render);
                errors += diagnostics.len();
                found.extend(crate::diagnostic::to_json(&diagnostics, &sources));
                continue;
            }
            Err(Unformatted::Changed) => {
                let error = Error::Unsafe {
                    message: format!(
                        "formatting `{}` would change what it means, so it was left as it is; this is a bug in orchestra fmt, please report it with the file",
                        target.shown
                    ),
                };
                say!("error: {error}");
                refused.push(error);
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if args.check {
            write_stdout(&crate::report::diff::unified(
                &target.shown,
                &text,
                &formatted,
            ))?;
        } else {
            replace(target, &formatted)?;
            say!("formatted {}", target.shown);
        }
        unformatted.push(target.shown.clone());
    }
    if !refused.is_empty() {
        // Each was said as it came.
        return Err(Error::Unsafe {
            message: format!(
                "{} could not be formatted (see above)",
                crate::words::plural(refused.len(), "file")
            ),
        });
    }
    if errors > 0 {
        return Err(Error::Config {
            errors,
            warnings: 0,
            found,
        });
    }
    if args.check && !unformatted.is_empty() {
        return Err(Error::Unformatted { files: unformatted });
    }
    Ok(())
}

/// orchestra.kdl and every file it includes.
fn project_files(located: Located) -> Result<Vec<Target>, Error> {
    let root = located.root.clone();
    let main = Target {
        path: located.path.clone(),
        shown: located.display.clone(),
    };
    let loaded = load::load(
        located,
        Options {
            check_programs: false,
        },
    )?;
    let mut targets = vec![main];
    targets.extend(
        loaded
            .sources
            .included_named()
            .map(|(path, shown, _)| Target {
                path: root.join(path),
                shown: shown.to_owned(),
            }),
    );
    Ok(targets)
}

/// A regular file: a link is refused, not followed, with `--check` too
/// (it could not be written).
fn writable(target: &Target) -> Result<(), Error> {
    let io = |source| Error::Io {
        action: "read",
        path: target.path.clone(),
        source,
    };
    match Kind::of(&target.path).map_err(io)? {
        Kind::File => {}
        kind => {
            return Err(Error::Unsafe {
                message: format!(
                    "`{}` is {}; orchestra fmt does not write through it",
                    target.shown,
                    kind.described()
                ),
            });
        }
    }
    Ok(())
}

/// Writes `text` over the file, keeping its permissions.
fn replace(target: &Target, text: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        action: "write",
        path: target.path.clone(),
        source,
    };
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&target.path).map_err(io)?.permissions(),
    );
    let dir = target.path.parent().unwrap_or(Path::new("."));
    let name = target
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    write_atomic_mode(dir, &name, text.as_bytes(), true, Some(mode)).map_err(io)
}
