//! Finding and loading `orchestra.kdl`: search upward like git and just do,
//! read, parse, decode and validate, collecting every diagnostic.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::model::Model;
use crate::sources::Sources;
use crate::timings::measure;
use crate::validate::{self, Options};

pub(crate) const FILE_NAME: &str = "orchestra.kdl";

/// Where the file is, and how to show its name in messages.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub(crate) path: PathBuf,
    /// The project directory: the file's parent.
    pub(crate) root: PathBuf,
    /// Relative to the current directory when possible (`orchestra.kdl`,
    /// `../orchestra.kdl`), so messages read like what the user typed.
    pub(crate) display: String,
}

/// The explicit `-f PATH`, or `orchestra.kdl` in `start` or its nearest
/// ancestor that has one.
pub(crate) fn locate(start: &Path, explicit: Option<&Path>) -> Result<Located, Error> {
    if let Some(path) = explicit {
        let full = start.join(path);
        if !full.is_file() {
            return Err(Error::Io {
                action: "read",
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let root = full
            .parent()
            .map_or_else(|| start.to_path_buf(), Path::to_path_buf);
        return Ok(Located {
            path: full,
            root,
            display: path.display().to_string(),
        });
    }
    for (depth, dir) in start.ancestors().enumerate() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(Located {
                path: candidate,
                root: dir.to_path_buf(),
                display: format!("{}{FILE_NAME}", "../".repeat(depth)),
            });
        }
    }
    Err(Error::FileNotFound {
        start: start.to_path_buf(),
    })
}

/// A loaded file: the model if it is valid, and everything found.
pub(crate) struct Loaded {
    pub(crate) located: Located,
    /// The main file's text, and every included file's and template
    /// expansion's after it: what spans point into.
    pub(crate) sources: Sources,
    pub(crate) model: Option<Model>,
    /// Sorted by position in the file; errors and warnings together.
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// The located file's bytes.
pub(crate) fn read(located: &Located) -> Result<Vec<u8>, Error> {
    std::fs::read(&located.path).map_err(|source| Error::Io {
        action: "read",
        path: located.path.clone(),
        source,
    })
}

/// The project directory's name: the project name when the file sets none.
pub(crate) fn directory_name(root: &Path) -> String {
    root.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".into())
}

/// Fills in the files each rule's `foreach` patterns match: the one fact
/// from disk the model needs (a file that appears makes a task).
fn match_rule_files(config: &mut crate::model::Config, root: &Path) {
    for foreach in config.rules.iter_mut().flat_map(|r| &mut r.foreach) {
        foreach.matched = foreach_files(root, &foreach.pattern);
    }
}

/// The files one `foreach` pattern matches, or why it cannot match any.
/// A cached plan is checked against this too (`app::cached`).
pub(crate) fn foreach_files(root: &Path, pattern: &str) -> Result<Vec<String>, String> {
    let outside = pattern.starts_with('/') || pattern.split('/').any(|c| c == "..");
    if outside {
        return Err("`foreach` names files inside the project: no absolute path, no `..`".into());
    }
    crate::freshness::inputs::expand(root, &[pattern])
        .map(|expanded| expanded.files)
        .map_err(|bad| bad.message)
}

/// The project's other files, for `include`: found under the project
/// directory, named in messages the way the main file is.
struct Disk<'a> {
    located: &'a Located,
}

impl Disk<'_> {
    /// `relative` as the file it really is, relative to the real project
    /// directory: links resolved, so a file reached two ways is one file,
    /// and one reached through a link out of the project is refused.
    fn real(&self, relative: &str) -> Result<String, String> {
        let root = self
            .located
            .root
            .canonicalize()
            .map_err(|e| e.to_string().to_lowercase())?;
        let real = root
            .join(relative)
            .canonicalize()
            .map_err(|e| format!("`{relative}`: {}", e.to_string().to_lowercase()))?;
        let inside = real.strip_prefix(&root).map_err(|_| {
            format!(
                "`{relative}` is a link to `{}`, outside the project",
                real.display()
            )
        })?;
        Ok(inside.to_string_lossy().into_owned())
    }
}

impl crate::config::Files for Disk<'_> {
    fn matching(&self, pattern: &str) -> Result<Vec<String>, String> {
        let root = &self.located.root;
        if !crate::freshness::inputs::is_glob(pattern) {
            let path = root.join(pattern);
            if path.is_dir() {
                return Err(format!(
                    "`{pattern}` is a directory: include its files with `{pattern}/*.kdl`"
                ));
            }
            return if path.is_file() {
                Ok(vec![self.real(pattern)?])
            } else {
                Ok(Vec::new())
            };
        }
        let found = crate::freshness::inputs::expand(root, &[pattern])
            .map(|expanded| expanded.files)
            .map_err(|bad| bad.message)?;
        // As a shell's glob would: no hidden files (an editor's lock file
        // `.#a.kdl`, a `.git` directory), and only files that exist.
        let mut real = Vec::new();
        for file in found {
            let hidden = file.split('/').any(|c| c.starts_with('.'));
            if !hidden && root.join(&file).is_file() {
                real.push(self.real(&file)?);
            }
        }
        real.dedup();
        Ok(real)
    }

    fn read(&self, path: &str) -> Result<(String, String), String> {
        let text = std::fs::read_to_string(self.located.root.join(path)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                "it is not UTF-8 text".to_owned()
            } else {
                e.to_string().to_lowercase()
            }
        })?;
        // `../orchestra.kdl` includes `ci/a.kdl`: shown as `../ci/a.kdl`.
        let shown = Path::new(&self.located.display)
            .parent()
            .map_or_else(|| PathBuf::from(path), |dir| dir.join(path));
        Ok((text, shown.display().to_string()))
    }
}

/// A file's bytes as text; when they are not UTF-8, the text with the bad
/// bytes replaced and a diagnostic at the first.
pub(crate) fn utf8(bytes: Vec<u8>) -> (String, Option<Diagnostic>) {
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let diagnostic = Diagnostic::Syntax {
            message: "the file is not valid UTF-8".into(),
            label: Some("invalid byte here".into()),
            help: Some("save the file as UTF-8".into()),
            span: (at.min(text.len()), 0).into(),
        };
        (text, diagnostic)
    });
    match text {
        Ok(text) => (text, None),
        Err((text, diagnostic)) => (text, Some(diagnostic)),
    }
}

/// Reads, parses, decodes and validates the located file.
pub(crate) fn load(located: Located, options: Options) -> Result<Loaded, Error> {
    let bytes = read(&located)?;
    Ok(parse(located, bytes, options))
}

/// Parses, decodes and validates the file's `bytes`, already read.
pub(crate) fn parse(located: Located, bytes: Vec<u8>, options: Options) -> Loaded {
    let (text, bad) = utf8(bytes);
    let mut diagnostics: Vec<Diagnostic> = bad.into_iter().collect();
    let mut model = None;
    let mut sources = Sources::single(located.display.clone(), text);
    if diagnostics.is_empty() {
        let files = Disk { located: &located };
        let main = located
            .path
            .file_name()
            .map_or_else(|| FILE_NAME.into(), |n| n.to_string_lossy().into_owned());
        let (config, found) = measure("parse", || crate::config::load(&mut sources, &main, &files));
        diagnostics = found;
        if let Some(mut config) = config {
            measure("foreach", || match_rule_files(&mut config, &located.root));
            let fallback = directory_name(&located.root);
            let decode_failed = diagnostics.iter().any(Diagnostic::is_error);
            let (valid, found) = measure("validate", || {
                validate::validate(config, sources.text(), &fallback, options)
            });
            diagnostics.extend(found);
            if !decode_failed {
                model = valid;
            }
        }
    }
    diagnostics.sort_by_key(Diagnostic::primary_offset);
    Loaded {
        located,
        sources,
        model,
        diagnostics,
    }
}
