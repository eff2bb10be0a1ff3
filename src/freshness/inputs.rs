//! Expanding a task's `inputs` globs into the sorted list of files they
//! name, relative to the project root with `/` separators.
//!
//! A pattern without glob characters names one file, or every file under a
//! directory. A glob is matched from its longest literal directory prefix,
//! so `src/**/*.rs` walks only `src/`. `*` does not cross `/`; `**` does.
//! `.git` and `.orchestra` are never walked, and neither is a link to a
//! directory (it could loop, or lead out of the project).

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use super::stat_cache::Seen;
use crate::plan::{Plan, TaskId};

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

/// Whether a pattern (or one of its components) holds glob characters.
pub(crate) fn is_glob(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

/// Expands `patterns` under `root`.
pub(crate) fn expand<S: AsRef<str>>(root: &Path, patterns: &[S]) -> Result<Expanded, BadPattern> {
    let mut files = BTreeSet::new();
    let mut missing = Vec::new();
    for pattern in patterns {
        let pattern = pattern.as_ref().trim_start_matches("./");
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

/// Entry names of a directory with whether each is a directory to walk.
/// A link to a directory is not walked: it could lead back up (`d/l -> .`
/// loops forever) or out of the project (`l -> /` walks the machine). A
/// link to a file is a file like any other.
fn read_dir(dir: &Path) -> io::Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let kind = entry.file_type()?;
        if kind.is_symlink() && entry.path().is_dir() {
            continue;
        }
        out.push((name, kind.is_dir()));
    }
    Ok(out)
}

/// An input that no file and no task of the plan provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unmatched {
    /// A literal path that does not exist and that no task declares as an
    /// output, with the existing path it is probably a misspelling of.
    Missing {
        task: TaskId,
        input: String,
        suggestion: Option<String>,
    },
    /// A glob that matches no file and no task's output.
    EmptyGlob { task: TaskId, pattern: String },
}

/// The inputs of `plan` that match nothing under `root`: today, these make
/// a task up to date forever, so they are reported before anything runs.
/// Literal inputs are looked up through `seen`, which keeps their stats
/// for the build.
pub(crate) fn unmatched<'p>(plan: &'p Plan, root: &Path, seen: &mut Seen<'p>) -> Vec<Unmatched> {
    // Every literal input and output, stat'ed at once on every core: the
    // up-to-date checks then take no stat of their own until a task runs.
    let literal: Vec<&str> = plan
        .tasks
        .iter()
        .flat_map(|t| t.inputs.iter().chain(&t.outputs))
        .map(|p| p.trim_start_matches("./"))
        .filter(|p| !is_glob(p))
        .collect();
    seen.prefetch(root, &literal);
    let outputs: Vec<&str> = plan
        .tasks
        .iter()
        .flat_map(|t| t.outputs.iter().map(|o| o.trim_start_matches("./")))
        .collect();
    let output_globs: Vec<GlobMatcher> = outputs
        .iter()
        .filter(|o| is_glob(o))
        .filter_map(|o| matcher(o).ok())
        .collect();
    let produced = |path: &str| {
        outputs
            .iter()
            .any(|o| *o == path || o.strip_prefix(path).is_some_and(|r| r.starts_with('/')))
            || output_globs.iter().any(|g| g.is_match(path))
    };
    let mut found = Vec::new();
    for task in &plan.tasks {
        for input in &task.inputs {
            let path = input.trim_start_matches("./");
            if !is_glob(path) {
                if !seen.exists(root, path) && !produced(path) {
                    found.push(Unmatched::Missing {
                        task: task.id,
                        input: input.to_string(),
                        suggestion: near_miss(root, path),
                    });
                }
                continue;
            }
            let Ok(glob) = matcher(path) else { continue };
            // Files first: matching every output against the glob is the
            // costly part (100 globs × 20,000 outputs), and rarely needed.
            // What the glob names is kept: the up-to-date checks need it.
            let files = if let Some(files) = seen.glob(path) {
                files.len()
            } else {
                let files = expand(root, std::slice::from_ref(input))
                    .map(|e| e.files)
                    .unwrap_or_default();
                let count = files.len();
                seen.keep_glob(path, files);
                count
            };
            let some_output = || outputs.iter().any(|o| glob.is_match(o) || is_glob(o));
            if files == 0 && !some_output() {
                found.push(Unmatched::EmptyGlob {
                    task: task.id,
                    pattern: input.to_string(),
                });
            }
        }
    }
    found
}

/// Whether the input `pattern` names `path` (relative to the project root,
/// `/`-separated), whether or not the file exists now: the path itself, a
/// file under a named directory, or a glob match.
pub(crate) fn names(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./");
    if !is_glob(pattern) {
        return path == pattern
            || path
                .strip_prefix(pattern)
                .is_some_and(|rest| rest.starts_with('/'));
    }
    matcher(pattern).is_ok_and(|m| m.is_match(path))
}

fn matcher(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

/// The existing path closest to `path`: its first missing component
/// replaced by the most similar name in that directory, if one is close.
fn near_miss(root: &Path, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let mut dir = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let next = dir.join(part);
        if next.exists() {
            dir = next;
            continue;
        }
        let names: Vec<String> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        let near = crate::words::suggest(part, names.iter().map(String::as_str))?;
        let mut fixed: Vec<&str> = parts.clone();
        fixed[i] = &near;
        return Some(fixed.join("/"));
    }
    None
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
            &[
                "src/**/*.rs".to_owned(),
                "build.sh".to_owned(),
                "docs".to_owned(),
            ],
        )
        .unwrap();
        assert_eq!(e.files, ["build.sh", "docs/x.md", "src/a.rs", "src/m/b.rs"]);
        assert!(e.missing.is_empty());
    }

    #[test]
    fn star_does_not_cross_directories() {
        let dir = tree(&["src/a.rs", "src/m/b.rs"]);
        let e = expand(dir.path(), &["src/*.rs".to_owned()]).unwrap();
        assert_eq!(e.files, ["src/a.rs"]);
    }

    #[test]
    fn missing_literals_are_reported_and_bad_globs_rejected() {
        let dir = tree(&["a"]);
        let e = expand(dir.path(), &["nope.txt".to_owned(), "*.none".to_owned()]).unwrap();
        assert_eq!(e.missing, ["nope.txt"]);
        assert!(e.files.is_empty());
        assert!(expand(dir.path(), &["src/[".to_owned()]).is_err());
    }

    #[test]
    fn inputs_matching_nothing_are_found_with_a_near_miss() {
        use crate::plan::testing::{plan, task};
        let dir = tree(&["scripts/scaffold.sh", "src/a.rs"]);
        let mut reads = task(0, "reads", &[]);
        reads.inputs = vec![
            "scrpts/scaffold.sh".into(),
            "gen/out.txt".into(),
            "src/*.rs".into(),
            "docs/*.md".into(),
            "made/*.o".into(),
        ];
        let mut makes = task(1, "makes", &[]);
        makes.outputs = vec!["gen/out.txt".into(), "made/x.o".into()];
        let found = unmatched(&plan(vec![reads, makes]), dir.path(), &mut Seen::default());
        assert_eq!(
            found,
            [
                Unmatched::Missing {
                    task: TaskId(0),
                    input: "scrpts/scaffold.sh".into(),
                    suggestion: Some("scripts/scaffold.sh".into()),
                },
                Unmatched::EmptyGlob {
                    task: TaskId(0),
                    pattern: "docs/*.md".into(),
                },
            ]
        );
    }

    #[test]
    fn links_to_directories_are_not_walked() {
        let dir = tree(&["d/a.txt"]);
        std::os::unix::fs::symlink(".", dir.path().join("d/loop")).unwrap();
        std::os::unix::fs::symlink("/", dir.path().join("root")).unwrap();
        std::os::unix::fs::symlink("a.txt", dir.path().join("d/alias.txt")).unwrap();
        let e = expand(dir.path(), &["**/*.txt".to_owned()]).unwrap();
        assert_eq!(e.files, ["d/a.txt", "d/alias.txt"]);
    }

    #[test]
    fn top_level_double_star_skips_state_and_git() {
        let dir = tree(&["a.rs", ".orchestra/x.rs", ".git/y.rs", "d/e.rs"]);
        let e = expand(dir.path(), &["**/*.rs".to_owned()]).unwrap();
        assert_eq!(e.files, ["a.rs", "d/e.rs"]);
    }
}
