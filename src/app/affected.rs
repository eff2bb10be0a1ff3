//! `--affected [BASE]`: only the tasks a change reaches, by git.
//!
//! The changed files are what `git diff BASE` names (committed, staged
//! and unstaged changes) and the untracked files, relative to the project
//! directory. A task is affected when one of them is its input (declared,
//! whether the file still exists or not, or discovered through its
//! depfile, or the file a rule's task is for), or when its definition in
//! `orchestra.kdl` differs from `BASE`'s; everything that depends on an
//! affected task is affected too, and a task without inputs always is
//! (nothing says what it reads). What an affected task needs stays in the
//! plan, built or found up to date as usual; the rest is left out. BASE
//! defaults to the merge base with the default branch (`origin/HEAD`,
//! else `main`, else `master`).

use std::path::Path;
use std::process::Command;

use crate::error::Error;
use crate::freshness::Incremental;
use crate::freshness::inputs::names;
use crate::load::{self, Loaded};
use crate::plan::{Dependents, Plan, PlanTask};
use crate::validate::Options;
use crate::workspace::Workspace;

/// `plan` with only the affected tasks and what depends on them.
pub(super) fn restrict(
    plan: Plan,
    loaded: &Loaded,
    base: Option<&str>,
    selection: &crate::compile::Selection,
) -> Result<Plan, Error> {
    let root = &loaded.located.root;
    let base = match base {
        Some(base) => base.to_owned(),
        None => merge_base(root)?,
    };
    let changed = changed_files(root, &base)?;
    let workspace = Workspace::new(root, crate::secrets::Masker::default());
    let store = Incremental::predicting(&workspace, root, 0).store;
    let before = base_plan(loaded, &base, selection, &changed);
    let mut keep: Vec<bool> = plan
        .tasks
        .iter()
        .map(|task| {
            let declared = task
                .inputs
                .iter()
                .any(|pattern| changed.iter().any(|f| names(pattern, f)));
            let discovered = store.record(&task.address).is_some_and(|record| {
                record
                    .discovered
                    .iter()
                    .any(|(file, _)| changed.iter().any(|f| f == file))
            });
            let redefined = match &before {
                Base::Same => false,
                Base::Incomparable => true,
                Base::Plan(before) => before
                    .tasks
                    .iter()
                    .find(|b| b.address == task.address)
                    .is_none_or(|b| !same_definition(b, task)),
            };
            // Nothing says what it reads: it cannot be judged, so it runs
            // (as it would be run rather than skipped as up to date).
            let unknowable = task.inputs.is_empty() && task.depfile.is_none();
            declared || discovered || redefined || unknowable
        })
        .collect();
    // Tasks come after their needs: one pass carries "affected" down.
    let dependents = Dependents::of(&plan);
    for i in 0..plan.tasks.len() {
        if keep[i] {
            for d in dependents.get(plan.tasks[i].id) {
                keep[d.index()] = true;
            }
        }
    }
    // What an affected task needs stays in the plan, to be built or found
    // up to date as usual: on a fresh checkout nothing is done yet, and a
    // gate upstream must still pass. Backwards: needs come first.
    for i in (0..plan.tasks.len()).rev() {
        if keep[i] {
            for need in &plan.tasks[i].needs {
                keep[need.index()] = true;
            }
        }
    }
    Ok(plan.restrict(&keep, &format!("--affected {base}")))
}

/// What decides a task's work, compared with its definition at BASE.
fn same_definition(a: &PlanTask, b: &PlanTask) -> bool {
    a.commands == b.commands
        && a.gate == b.gate
        && a.inputs == b.inputs
        && a.outputs == b.outputs
        && a.env == b.env
        && a.dir == b.dir
        && a.depfile == b.depfile
        && a.timeout == b.timeout
        && a.retries == b.retries
}

/// `orchestra.kdl` at BASE.
enum Base {
    /// The same text: no task was redefined.
    Same,
    /// It compiles to this plan: a task is redefined when it differs.
    Plan(Box<Plan>),
    /// It did not exist or does not compile: every task counts as new.
    Incomparable,
}

fn base_plan(
    loaded: &Loaded,
    base: &str,
    selection: &crate::compile::Selection,
    changed: &[String],
) -> Base {
    let root = &loaded.located.root;
    let Some(file) = loaded.located.path.file_name() else {
        return Base::Incomparable;
    };
    let file = file.to_string_lossy();
    let Ok(old) = git(root, &["show", &format!("{base}:./{file}")]) else {
        return Base::Incomparable;
    };
    // Included files are read from disk, not from BASE: a project made of
    // several files is compared whole, every task counting as changed
    // unless none of them differs.
    // A `.kdl` file that changed or went away may have been included at
    // BASE, so any such change counts.
    if !loaded.sources.is_single() {
        let unchanged = old == loaded.sources.main_text()
            && !changed.iter().any(|f| {
                Path::new(f)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("kdl"))
            })
            && loaded.sources.included().all(|(path, text)| {
                git(root, &["show", &format!("{base}:./{}", path.display())])
                    .is_ok_and(|at_base| at_base == text)
            });
        return if unchanged {
            Base::Same
        } else {
            Base::Incomparable
        };
    }
    if old == loaded.sources.main_text() {
        return Base::Same;
    }
    let old = load::parse(
        loaded.located.clone(),
        old.into_bytes(),
        Options {
            check_programs: false,
        },
    );
    old.model
        .as_ref()
        .and_then(|model| crate::compile::compile(model, selection).ok())
        .map_or(Base::Incomparable, |plan| Base::Plan(Box::new(plan)))
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn usage(message: String) -> Error {
    Error::Usage { message }
}

/// The merge base of HEAD with the default branch.
fn merge_base(root: &Path) -> Result<String, Error> {
    let default = git(root, &["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"])
        .ok()
        .map(|s| s.trim().to_owned())
        .or_else(|| {
            ["main", "master"]
                .into_iter()
                .find(|b| git(root, &["rev-parse", "--verify", "--quiet", b]).is_ok())
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            usage(
                "--affected: no default branch to compare with (no origin/HEAD, main or master); name one: `--affected BASE`"
                    .into(),
            )
        })?;
    git(root, &["merge-base", "HEAD", &default])
        .map(|s| s.trim().to_owned())
        .map_err(|e| {
            usage(format!(
                "--affected: no merge base of HEAD and `{default}`: {e}"
            ))
        })
}

/// Files changed since `base` or untracked, relative to the project root.
fn changed_files(root: &Path, base: &str) -> Result<Vec<String>, Error> {
    // `-z`: names as they are (no quoting of unusual ones); no renames:
    // a moved file is its old path deleted and its new one added.
    let diff = git(
        root,
        &[
            "diff",
            "--name-only",
            "--no-renames",
            "-z",
            "--relative",
            base,
            "--",
        ],
    )
    .map_err(|e| usage(format!("--affected {base}: {e}")))?;
    let untracked = git(root, &["ls-files", "-z", "--others", "--exclude-standard"])
        .map_err(|e| usage(format!("--affected: {e}")))?;
    let mut files: Vec<String> = diff
        .split('\0')
        .chain(untracked.split('\0'))
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}
