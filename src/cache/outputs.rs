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

/// Every file `task` declares as output, read now; `Err` says why the
/// outputs cannot be stored (a link, a missing output).
pub(crate) fn read(root: &Path, task: &PlanTask) -> Result<Vec<OutputFile>, String> {
    let expanded = inputs::expand(root, &task.outputs).map_err(|e| e.message)?;
    if let Some(missing) = expanded.missing.first() {
        return Err(format!("its output `{missing}` does not exist"));
    }
    let mut files = Vec::with_capacity(expanded.files.len());
    for path in expanded.files {
        let full = root.join(&path);
        let meta = std::fs::symlink_metadata(&full).map_err(|e| format!("`{path}`: {e}"))?;
        if !meta.is_file() {
            return Err(format!(
                "its output `{path}` is {}, not a regular file",
                Kind::of(&full).map_or("unreadable", Kind::described)
            ));
        }
        let mode = meta.permissions().mode() & 0o7777;
        let bytes = match fs::read(&full) {
            fs::Found::Bytes(bytes) => bytes,
            fs::Found::Missing => return Err(format!("its output `{path}` disappeared")),
            fs::Found::Unusable(why) => return Err(format!("`{path}`: {why}")),
        };
        files.push(OutputFile { path, bytes, mode });
    }
    Ok(files)
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
        let output = output.trim_start_matches("./").trim_end_matches('/');
        if output.contains(['*', '?', '[', '{']) {
            GlobBuilder::new(output)
                .literal_separator(true)
                .build()
                .is_ok_and(|g| g.compile_matcher().is_match(path))
        } else {
            path == output
                || path
                    .strip_prefix(output)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
    })
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
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(file.mode))?;
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
}
