//! A task's declared outputs on disk: read whole after it succeeds (what
//! a cache entry holds) and written back when an entry is restored.
//!
//! Restoring never leaves the project and never follows a link: every path
//! an entry names must be relative, made of plain components, and one the
//! task declares (a literal output, a file under a declared directory, or
//! a match of a declared glob) — an entry from a server is not trusted to
//! name paths. Each directory on the way is checked and created without
//! following a link ([`fs::ensure_dir`]); each file is written to a
//! temporary file beside it, given its mode, and renamed over the old one,
//! which replaces a link rather than writing through it.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use globset::GlobBuilder;

use crate::freshness::inputs;
use crate::plan::PlanTask;
use crate::workspace::fs::{self, Kind};

/// One output file as stored: its path relative to the project root, its
/// bytes and its permission bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputFile {
    pub(crate) path: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) mode: u32,
}

/// A declared output as a path relative to the root (`./` and a trailing
/// `/` dropped).
pub(crate) fn trimmed(output: &str) -> &str {
    output.trim_start_matches("./").trim_end_matches('/')
}

/// Whether every output of `task` is a relative path inside the project:
/// only those can be stored and restored.
pub(crate) fn storable(task: &PlanTask) -> bool {
    task.outputs.iter().all(|o| {
        let o = trimmed(o);
        !o.starts_with('/') && plain(o) && o.split('/').next() != Some(crate::workspace::DIR)
    })
}

/// The files under `dir` (relative to `root`), walked without following a
/// link; a link, or a name that is not UTF-8, is an error (it could not be
/// restored as it is).
fn walk(root: &Path, dir: &str, files: &mut Vec<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(root.join(dir)).map_err(|e| format!("`{dir}`: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("`{dir}`: {e}"))?;
        let name = entry.file_name().into_string().map_err(|n| {
            format!(
                "`{dir}` holds `{}`, whose name is not UTF-8",
                n.to_string_lossy()
            )
        })?;
        let path = format!("{dir}/{name}");
        let kind = entry.file_type().map_err(|e| format!("`{path}`: {e}"))?;
        if kind.is_symlink() {
            return Err(format!("its output `{path}` is a symlink"));
        } else if kind.is_dir() {
            walk(root, &path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// The files `task`'s outputs name on disk now: literal files, every file
/// under a declared directory, every match of a glob.
fn listed(root: &Path, task: &PlanTask) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    for output in &task.outputs {
        let output = trimmed(output);
        if inputs::is_glob(output) {
            let expanded = inputs::expand(root, &[output]).map_err(|e| e.message)?;
            files.extend(expanded.files);
            continue;
        }
        match Kind::of(&root.join(output)) {
            Ok(Kind::File) => files.push(output.to_owned()),
            Ok(Kind::Dir) => walk(root, output, &mut files)?,
            Ok(Kind::Missing) => return Err(format!("its output `{output}` does not exist")),
            Ok(kind) => {
                return Err(format!("its output `{output}` is {}", kind.described()));
            }
            Err(e) => return Err(format!("`{output}`: {e}")),
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Every file `task` declares as output, read now; `Err` says why the
/// outputs cannot be stored (a link, a missing output).
pub(crate) fn read(root: &Path, task: &PlanTask) -> Result<Vec<OutputFile>, String> {
    let paths = listed(root, task)?;
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let full = root.join(&path);
        let meta = std::fs::symlink_metadata(&full).map_err(|e| format!("`{path}`: {e}"))?;
        if !meta.is_file() {
            return Err(format!(
                "its output `{path}` is {}, not a regular file",
                Kind::of(&full).map_or("unreadable", Kind::described)
            ));
        }
        let mode = meta.permissions().mode() & 0o777;
        let bytes = match fs::read(&full) {
            fs::Found::Bytes(bytes) => bytes,
            fs::Found::Missing => return Err(format!("its output `{path}` disappeared")),
            fs::Found::Unusable(why) => return Err(format!("`{path}`: {why}")),
        };
        files.push(OutputFile { path, bytes, mode });
    }
    Ok(files)
}

/// Removes what `task`'s outputs name on disk but `keep` does not: a
/// restored directory or glob holds exactly what the entry holds, as
/// running the task would have left it (a file from another branch's run
/// would otherwise stay beside them). Links are removed, never followed.
pub(crate) fn clear_stale(root: &Path, task: &PlanTask, keep: &[&str]) -> io::Result<()> {
    let mut present = Vec::new();
    for output in &task.outputs {
        let output = trimmed(output);
        if inputs::is_glob(output) {
            present.extend(
                inputs::expand(root, &[output])
                    .map(|e| e.files)
                    .unwrap_or_default(),
            );
        } else if Kind::of(&root.join(output))? == Kind::Dir {
            list_all(root, output, &mut present);
        }
    }
    for path in present {
        if !keep.contains(&path.as_str()) && declared(task, &path) {
            fs::remove(&root.join(&path))?;
        }
    }
    Ok(())
}

/// Every file and link under `dir`, without following a link.
fn list_all(root: &Path, dir: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let path = format!("{dir}/{name}");
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => list_all(root, &path, out),
            Ok(_) => out.push(path),
            Err(_) => {}
        }
    }
}

/// Whether `path` is a relative path of plain components (no `..`, no
/// `.`, no empty part, not absolute).
fn plain(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'))
}

/// Whether `task` declares `path` as (part of) an output: the only paths a
/// restore writes.
pub(crate) fn declared(task: &PlanTask, path: &str) -> bool {
    if !plain(path) || path.split('/').next() == Some(crate::workspace::DIR) {
        return false;
    }
    task.outputs.iter().any(|output| {
        let output = trimmed(output);
        if inputs::is_glob(output) {
            GlobBuilder::new(output)
                .literal_separator(true)
                .build()
                .is_ok_and(|g| g.compile_matcher().is_match(path))
        } else {
            covers(output, path)
        }
    })
}

/// Whether the literal output `output` is `path` or a directory holding it.
pub(crate) fn covers(output: &str, path: &str) -> bool {
    path == output
        || path
            .strip_prefix(output)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Writes `files` under `root`; every path must already have passed
/// [`declared`].
pub(crate) fn write(root: &Path, files: &[OutputFile]) -> io::Result<()> {
    for file in files {
        if !plain(&file.path) {
            return Err(io::Error::other(format!(
                "`{}` is not a plain path",
                file.path
            )));
        }
        let mut parts: Vec<&str> = file.path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        let dir = fs::ensure_dir(root, &parts)?;
        let target = dir.join(name);
        if Kind::of(&target)? == Kind::Dir {
            return Err(io::Error::other(format!(
                "`{}` is a directory; the cached output is a file",
                file.path
            )));
        }
        let temp = fs::temp_file(&dir, &file.bytes, false)?;
        // Read, write and execute bits only: an entry never makes a
        // setuid file.
        std::fs::set_permissions(
            temp.path(),
            std::fs::Permissions::from_mode(file.mode & 0o777),
        )?;
        temp.persist(&target).map_err(|e| e.error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::task;

    fn with_outputs(outputs: &[&str]) -> PlanTask {
        let mut t = task(0, "gen", &[]);
        t.outputs = outputs.iter().map(|o| (*o).into()).collect();
        t
    }

    #[test]
    fn only_declared_plain_paths_may_be_restored() {
        let t = with_outputs(&["out/app", "dist", "gen/*.h", "./build/x.o"]);
        for ok in ["out/app", "dist/a/b.js", "gen/x.h", "build/x.o"] {
            assert!(declared(&t, ok), "{ok}");
        }
        for refused in [
            "out/app2",
            "distx/a",
            "gen/sub/x.h",
            "../out/app",
            "/etc/passwd",
            "dist/../../x",
            "dist/./a",
            "",
            "src/main.c",
        ] {
            assert!(!declared(&t, refused), "{refused}");
        }
        assert!(!declared(
            &with_outputs(&[".orchestra"]),
            ".orchestra/fingerprints"
        ));
    }

    #[test]
    fn outputs_round_trip_with_their_modes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("out/sub")).unwrap();
        std::fs::write(root.path().join("out/sub/tool"), b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            root.path().join("out/sub/tool"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::write(root.path().join("out/data"), b"x").unwrap();
        let t = with_outputs(&["out"]);
        let files = read(root.path(), &t).unwrap();
        assert_eq!(files.len(), 2);
        let other = tempfile::tempdir().unwrap();
        write(other.path(), &files).unwrap();
        assert_eq!(read(other.path(), &t).unwrap(), files);
        let mode = std::fs::metadata(other.path().join("out/sub/tool"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn a_link_among_outputs_is_not_stored_and_not_written_through() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).unwrap();
        let files = vec![OutputFile {
            path: "out/x".into(),
            bytes: b"x".to_vec(),
            mode: 0o644,
        }];
        assert!(write(root.path(), &files).is_err());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        // A link standing where the file goes is replaced, not followed.
        std::fs::remove_file(root.path().join("out")).unwrap();
        std::fs::create_dir(root.path().join("out")).unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        std::os::unix::fs::symlink(&victim, root.path().join("out/x")).unwrap();
        write(root.path(), &files).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(root.path().join("out/x")).unwrap(), b"x");
        let linked = with_outputs(&["out/y"]);
        std::os::unix::fs::symlink(&victim, root.path().join("out/y")).unwrap();
        assert!(read(root.path(), &linked).unwrap_err().contains("symlink"));
    }

    #[test]
    fn a_restore_leaves_a_directory_as_the_entry_has_it() {
        let root = tempfile::tempdir().unwrap();
        let t = with_outputs(&["dist/", "gen/*.h"]);
        assert!(storable(&t));
        std::fs::create_dir_all(root.path().join("dist/sub")).unwrap();
        std::fs::create_dir_all(root.path().join("gen")).unwrap();
        for stale in ["dist/old.js", "dist/sub/old.map", "gen/old.h"] {
            std::fs::write(root.path().join(stale), b"stale").unwrap();
        }
        std::fs::write(root.path().join("gen/keep.c"), b"not an output").unwrap();
        let files = vec![OutputFile {
            path: "dist/new.js".into(),
            bytes: b"new".to_vec(),
            mode: 0o644,
        }];
        clear_stale(root.path(), &t, &["dist/new.js"]).unwrap();
        write(root.path(), &files).unwrap();
        let read_back = read(root.path(), &t).unwrap();
        assert_eq!(read_back, files, "a trailing slash reads plain paths");
        assert!(
            root.path().join("gen/keep.c").exists(),
            "only declared outputs go"
        );
    }

    #[test]
    fn what_cannot_be_restored_as_it_is_is_not_stored() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("dist")).unwrap();
        std::os::unix::fs::symlink("/etc", root.path().join("dist/etc")).unwrap();
        let err = read(root.path(), &with_outputs(&["dist"])).unwrap_err();
        assert!(err.contains("symlink"), "{err}");
        assert!(!storable(&with_outputs(&["../outside"])));
        assert!(!storable(&with_outputs(&["/tmp/x"])));
        assert!(!storable(&with_outputs(&[".orchestra/x"])));
    }

    #[test]
    fn restored_modes_never_carry_setuid() {
        let root = tempfile::tempdir().unwrap();
        let files = vec![OutputFile {
            path: "tool".into(),
            bytes: b"x".to_vec(),
            mode: 0o4755,
        }];
        write(root.path(), &files).unwrap();
        let mode = std::fs::metadata(root.path().join("tool"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755);
    }
}
