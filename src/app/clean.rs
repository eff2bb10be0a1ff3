//! `orchestra clean`: remove what orchestra wrote under `.orchestra/` —
//! state, history, logs, the fingerprint store and the plan cache — and say
//! what went. Nothing outside `.orchestra/` is touched, and a milestone lock
//! held by a running build is left alone (removing it would let a second
//! build take the milestone).

use std::fmt::Write;
use std::fs::File;
use std::path::Path;

use super::write_stdout;
use crate::error::Error;
use crate::load::Loaded;

pub(super) fn clean(loaded: &Loaded) -> Result<(), Error> {
    let dir = loaded.located.root.join(".orchestra");
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return write_stdout("nothing to clean: there is no .orchestra/\n");
        }
        Err(source) => return Err(io_error("read", &dir, source)),
    };
    let mut names: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    names.sort();
    for path in names {
        let name = path.file_name().map_or_else(String::new, |n| {
            format!(".orchestra/{}", n.to_string_lossy())
        });
        if path.file_name().is_some_and(|n| n == "locks") && path.is_dir() {
            clean_locks(&path, &mut removed, &mut kept)?;
            continue;
        }
        let result = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        result.map_err(|source| io_error("remove", &path, source))?;
        removed.push(name);
    }
    if kept.is_empty() {
        // Leave no empty directory behind when nothing is running.
        let _ = std::fs::remove_dir(&dir);
    }
    let mut text = String::new();
    for name in &removed {
        let _ = writeln!(text, "removed {name}");
    }
    for name in &kept {
        let _ = writeln!(text, "kept {name}: a running build holds it");
    }
    if removed.is_empty() && kept.is_empty() {
        text.push_str("nothing to clean: .orchestra/ is empty\n");
    }
    write_stdout(&text)
}

/// Removes lock files nobody holds; keeps held ones (and the directory).
fn clean_locks(dir: &Path, removed: &mut Vec<String>, kept: &mut Vec<String>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| io_error("read", dir, source))?;
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    let mut any_kept = false;
    for path in paths {
        let name = format!(
            ".orchestra/locks/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        if is_held(&path) {
            kept.push(name);
            any_kept = true;
            continue;
        }
        std::fs::remove_file(&path).map_err(|source| io_error("remove", &path, source))?;
        removed.push(name);
    }
    if !any_kept {
        std::fs::remove_dir(dir).map_err(|source| io_error("remove", dir, source))?;
    }
    Ok(())
}

/// Whether another process holds an OS lock on the file right now.
fn is_held(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    // When the lock cannot be tried, keep the file: better a stale lock
    // than a running build's lock removed.
    !matches!(file.try_lock(), Ok(()))
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}
