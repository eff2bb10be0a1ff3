//! What `--watch` watches, and which changes count: the inputs of the
//! selected tasks (declared, and discovered by their depfiles), their
//! dotenv files, the rules' `foreach` patterns and the orchestra files —
//! never `.orchestra/`, `.git/` or a declared output, which the build
//! itself writes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use notify::event::{EventKind, ModifyKind, RenameMode};

use crate::freshness::inputs::{is_glob, names};
use crate::load::{Loaded, Located};
use crate::plan::Plan;

/// Directories a build never reads as input and watch never enters.
const SKIPPED: &[&str] = &[".git", crate::workspace::DIR];

/// What counts as a change: paths relative to the project directory.
#[derive(Debug, Clone, Default)]
pub(super) struct Filter {
    pub(super) root: PathBuf,
    /// Input patterns (`src/**/*.c`, `a.txt`, a directory, `**`).
    patterns: Vec<String>,
    /// Exact files: the orchestra files, dotenv files, discovered inputs.
    files: BTreeSet<String>,
    /// Declared outputs: written by the build itself, never a change.
    outputs: Vec<String>,
}

/// One changed path an event names, relative to the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Change {
    pub(super) path: String,
    /// The event created it (a file that is gone again by the end of the
    /// burst was a temporary file: no change).
    pub(super) created: bool,
}

impl Filter {
    /// What the build of `compiled` reads; `before` is kept when the file
    /// did not compile (its includes and inputs are still what to watch
    /// for the fix).
    pub(super) fn of(located: &Located, compiled: Option<&(Loaded, Plan)>, before: &Self) -> Self {
        let main = located
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let Some((loaded, plan)) = compiled else {
            let mut kept = before.clone();
            kept.root.clone_from(&located.root);
            kept.files.insert(main);
            return kept;
        };
        // As watched: notify names paths the way they were watched.
        let mut filter = Self {
            root: located.root.clone(),
            ..Self::default()
        };
        filter.files.insert(main.clone());
        for (path, _) in loaded.sources.included() {
            let path = path.to_string_lossy().into_owned();
            // A new file an include glob would match: a `.kdl` beside.
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            filter.patterns.push(if dir.is_empty() {
                "*.kdl".to_owned()
            } else {
                format!("{dir}/*.kdl")
            });
            filter.files.insert(path);
        }
        let workspace =
            crate::workspace::Workspace::new(&located.root, crate::secrets::Masker::default());
        let store = crate::freshness::Incremental::predicting(&workspace, &located.root, 0).store;
        for task in &plan.tasks {
            filter
                .patterns
                .extend(task.inputs.iter().map(|i| pattern(i)));
            filter
                .outputs
                .extend(task.outputs.iter().map(|o| pattern(o)));
            filter.files.extend(plan.dotenv_of(task).iter().cloned());
            if task.depfile.is_some()
                && let Some(record) = store.record(&task.address)
            {
                let inside =
                    (record.discovered.into_iter().map(|(f, _)| f)).filter(|f| !f.starts_with('/'));
                filter.files.extend(inside);
            }
        }
        filter
            .patterns
            .extend(plan.foreach.iter().map(|(p, _)| pattern(p)));
        filter.patterns.sort();
        filter.patterns.dedup();
        filter
    }

    /// The paths `event` changes that the build reads (or a directory that
    /// may hold such paths), with whether it created them.
    pub(super) fn changes(&self, event: &notify::Event) -> Vec<Change> {
        // Whether the event made the path appear: a create, or the new
        // name of a rename (of both names, the second). Anything else may
        // be a file that was there before: a change even if it is gone.
        let created = |i: usize| match event.kind {
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => true,
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => i == 1,
            _ => false,
        };
        if matches!(
            event.kind,
            // Reading, opening, closing and attributes change no content.
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
        ) {
            return Vec::new();
        }
        if event.need_rescan() {
            return vec![Change {
                path: String::new(),
                created: false,
            }];
        }
        let relative =
            |path: &PathBuf| Some(path.strip_prefix(&self.root).ok()?.to_str()?.to_owned());
        (event.paths.iter().enumerate())
            .filter_map(|(i, path)| Some((i, relative(path)?)))
            .filter(|(_, path)| {
                self.reads(path) || self.could_hold(path) && self.root.join(path).is_dir()
            })
            .map(|(i, path)| Change {
                path,
                created: created(i),
            })
            .collect()
    }

    /// Whether the build reads the file at `path`.
    pub(super) fn reads(&self, path: &str) -> bool {
        let ours = SKIPPED
            .iter()
            .any(|s| path == *s || path.starts_with(&format!("{s}/")));
        let built = self.outputs.iter().any(|o| names(o, path));
        !ours
            && !built
            && (self.files.contains(path) || self.patterns.iter().any(|p| names(p, path)))
    }

    /// Whether a directory at `path` could hold what the build reads: one
    /// on the way to an input, or under a glob's fixed part. A directory
    /// that appears there must be watched, and may bring inputs.
    pub(super) fn could_hold(&self, path: &str) -> bool {
        if path.is_empty() || SKIPPED.iter().any(|s| path.split('/').next() == Some(*s)) {
            return false;
        }
        if self.outputs.iter().any(|o| names(o, path)) {
            return false;
        }
        // Only what the build reads and does not write itself.
        let source = |p: &String| !self.outputs.iter().any(|o| names(o, p));
        let on_the_way = |target: &str| target.starts_with(&format!("{path}/"));
        let under = |fixed: &str| {
            fixed.is_empty() || path == fixed || path.starts_with(&format!("{fixed}/"))
        };
        self.files
            .iter()
            .filter(|f| source(f))
            .any(|f| on_the_way(f))
            || self.patterns.iter().filter(|p| source(p)).any(|p| {
                let fixed = fixed_part(p);
                on_the_way(p) || on_the_way(&fixed) || (is_glob(p) || fixed == *p) && under(&fixed)
            })
    }

    /// The directories to watch, relative to the project, each on its own
    /// (not recursively: a `target/` or `node_modules/` that no input lies
    /// in costs nothing): the directory of each file, and every directory
    /// under a pattern's fixed part. One that does not exist yet is watched
    /// through its nearest existing parent.
    pub(super) fn directories(&self) -> BTreeSet<String> {
        let root = &self.root;
        let mut dirs = BTreeSet::new();
        for file in &self.files {
            dirs.insert(existing(root, parent(file)));
        }
        for pattern in &self.patterns {
            let fixed = fixed_part(pattern);
            if !is_glob(pattern) && !root.join(pattern).is_dir() {
                dirs.insert(existing(root, parent(pattern)));
                continue;
            }
            let start = existing(root, &fixed);
            dirs.insert(start.clone());
            if start == fixed {
                self.walk(&start, &mut dirs);
            }
        }
        dirs
    }

    /// Every directory below `dir`, but orchestra's, git's and outputs.
    fn walk(&self, dir: &str, out: &mut BTreeSet<String>) {
        let mut stack = vec![dir.to_owned()];
        while let Some(rel) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(self.root.join(&rel)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let child = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let skipped = SKIPPED.contains(&name.as_str())
                    || self.outputs.iter().any(|o| names(o, &child));
                if is_dir && !skipped {
                    out.insert(child.clone());
                    stack.push(child);
                }
            }
        }
    }
}

/// An input or output as a pattern relative to the project: `./a` is `a`,
/// `src/` is `src`, and `.` is everything.
fn pattern(written: &str) -> String {
    let trimmed = written.trim_start_matches("./").trim_end_matches('/');
    if trimmed.is_empty() || trimmed == "." {
        "**".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A pattern's leading directories without glob characters.
fn fixed_part(pattern: &str) -> String {
    let fixed: Vec<&str> = pattern.split('/').take_while(|c| !is_glob(c)).collect();
    fixed.join("/")
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `dir`, or its nearest parent that exists.
fn existing(root: &Path, dir: &str) -> String {
    let mut dir = dir.to_owned();
    while !dir.is_empty() && !root.join(&dir).is_dir() {
        dir = parent(&dir).to_owned();
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(patterns: &[&str], outputs: &[&str]) -> Filter {
        Filter {
            root: PathBuf::from("/p"),
            patterns: patterns.iter().map(|p| pattern(p)).collect(),
            files: ["orchestra.kdl".to_owned()].into(),
            outputs: outputs.iter().map(|o| pattern(o)).collect(),
        }
    }

    #[test]
    fn inputs_count_and_outputs_and_orchestras_files_do_not() {
        let f = filter(&["src", "./docs/", "**/*.c"], &["src/gen.txt"]);
        assert!(f.reads("src/a.txt"));
        assert!(f.reads("docs/x.md"));
        assert!(f.reads("lib/deep/x.c"));
        assert!(f.reads("orchestra.kdl"));
        assert!(!f.reads("src/gen.txt"));
        assert!(!f.reads(".orchestra/state.json"));
        assert!(!f.reads("README.md"));
        assert!(filter(&["."], &[]).reads("anything/at/all"));
    }

    #[test]
    fn directories_on_the_way_to_or_under_a_pattern_could_hold_inputs() {
        let f = filter(&["src/**/*.c", "gen/deep/later.txt"], &[]);
        assert!(f.could_hold("src/sub"));
        assert!(f.could_hold("gen"));
        assert!(f.could_hold("gen/deep"));
        assert!(!f.could_hold("target"));
        assert!(!f.could_hold(".git"));
        // `out/all.txt` is read by one task but written by another.
        let f = filter(&["src/*.txt", "out/all.txt"], &["out/all.txt"]);
        assert!(!f.could_hold("out"));
    }
}
