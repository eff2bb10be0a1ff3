//! Expanding a task's `inputs` globs into the sorted list of files they
//! name, relative to the project root with `/` separators.
//!
//! A pattern without glob characters names one file, or every file under a
//! directory. A glob is matched from its longest literal directory prefix,
//! so `src/**/*.rs` walks only `src/`. `*` does not cross `/`; `**` does.
//! `.git` and `.orchestra` are never walked.

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

const SKIPPED_DIRS: &[&str] = &[".git", crate::workspace::DIR];

/// What a task's input patterns name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Expanded {
    /// Existing files, sorted, deduplicated.
    pub(crate) files: Vec<String>,
    /// Literal paths (no glob characters) that do not exist.
    pub(crate) missing: Vec<String>,
}

/// An input pattern that is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadPattern {
    pub(crate) pattern: String,
    pub(crate) message: String,
}

fn is_glob(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

/// Expands `patterns` under `root`.
pub(crate) fn expand(root: &Path, patterns: &[String]) -> Result<Expanded, BadPattern> {
    let mut files = BTreeSet::new();
    let mut missing = Vec::new();
    for pattern in patterns {
        let pattern = pattern.trim_start_matches("./");
        if !is_glob(pattern) {
            let path = root.join(pattern);
            if path.is_file() {
                files.insert(pattern.to_owned());
            } else if path.is_dir() {
                walk(root, pattern, None, &mut files);
            } else {
                missing.push(pattern.to_owned());
            }
            continue;
        }
        let matcher = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| BadPattern {
                pattern: pattern.to_owned(),
                message: e.kind().to_string(),
            })?
            .compile_matcher();
        let prefix: Vec<&str> = pattern.split('/').take_while(|c| !is_glob(c)).collect();
        walk(root, &prefix.join("/"), Some(&matcher), &mut files);
    }
    Ok(Expanded {
        files: files.into_iter().collect(),
        missing,
    })
}

/// Adds every file under `dir` (relative to `root`) that `matcher` accepts.
fn walk(root: &Path, dir: &str, matcher: Option<&GlobMatcher>, out: &mut BTreeSet<String>) {
    let mut stack = vec![dir.to_owned()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = read_dir(&root.join(&rel)) else {
            continue;
        };
        for (name, is_dir) in entries {
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if is_dir {
                if !SKIPPED_DIRS.contains(&name.as_str()) {
                    stack.push(child);
                }
            } else if matcher.is_none_or(|m| m.is_match(&child)) {
                out.insert(child);
            }
        }
    }
}

/// Entry names of a directory with whether each is a directory (links are
/// followed, as a build would).
fn read_dir(dir: &Path) -> io::Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let is_dir = entry.file_type()?.is_dir()
            || (entry.file_type()?.is_symlink() && entry.path().is_dir());
        out.push((name, is_dir));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, f).unwrap();
        }
        dir
    }

    #[test]
    fn expands_globs_literals_and_directories() {
        let dir = tree(&[
            "src/a.rs",
            "src/m/b.rs",
            "src/c.txt",
            "build.sh",
            "docs/x.md",
            ".git/HEAD",
        ]);
        let e = expand(
            dir.path(),
            &["src/**/*.rs".into(), "build.sh".into(), "docs".into()],
        )
        .unwrap();
        assert_eq!(e.files, ["build.sh", "docs/x.md", "src/a.rs", "src/m/b.rs"]);
        assert!(e.missing.is_empty());
    }

    #[test]
    fn star_does_not_cross_directories() {
        let dir = tree(&["src/a.rs", "src/m/b.rs"]);
        let e = expand(dir.path(), &["src/*.rs".into()]).unwrap();
        assert_eq!(e.files, ["src/a.rs"]);
    }

    #[test]
    fn missing_literals_are_reported_and_bad_globs_rejected() {
        let dir = tree(&["a"]);
        let e = expand(dir.path(), &["nope.txt".into(), "*.none".into()]).unwrap();
        assert_eq!(e.missing, ["nope.txt"]);
        assert!(e.files.is_empty());
        assert!(expand(dir.path(), &["src/[".into()]).is_err());
    }

    #[test]
    fn top_level_double_star_skips_state_and_git() {
        let dir = tree(&["a.rs", ".orchestra/x.rs", ".git/y.rs", "d/e.rs"]);
        let e = expand(dir.path(), &["**/*.rs".into()]).unwrap();
        assert_eq!(e.files, ["a.rs", "d/e.rs"]);
    }
}
