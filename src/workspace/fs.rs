//! File operations that never follow a symlink and never block on a
//! special file: the only way the workspace touches the disk.
//!
//! How paths stay inside the project: every path is built by
//! [`super::Workspace`] from the project root, `.orchestra` and names it
//! chose or encoded (no `..`, no `/`). Each directory on the way is checked
//! with `lstat` and created with `mkdir`, which fails on an existing link
//! rather than following it ([`ensure_dir`]); each file is opened with
//! `O_NOFOLLOW` (a link in its place is an error, never a detour) and
//! `O_NONBLOCK` (a FIFO cannot stall us), and `fstat` then confirms it is a
//! regular file. Replacing a file is a rename over it, which replaces a
//! link itself, not its target; removing walks with `remove_dir_all`, which
//! unlinks links instead of descending into them.
//!
//! What stays: someone who can write the project directory could swap a
//! checked directory for a link between our check and our use. Closing that
//! would need `openat` on every call; a process that can do that can already
//! edit the project's own files, so we defend against links that are
//! *there* (a cloned repository shipping `.orchestra -> ..`), not against a
//! concurrent attacker inside the project.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What stands at a path, without following a link there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Missing,
    File,
    Dir,
    Link,
    /// A FIFO, socket or device.
    Special,
}

impl Kind {
    pub(crate) fn of(path: &Path) -> io::Result<Self> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) => Ok(Self::from_meta(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::Missing),
            Err(e) => Err(e),
        }
    }

    fn from_meta(meta: &Metadata) -> Self {
        let kind = meta.file_type();
        if kind.is_symlink() {
            Self::Link
        } else if kind.is_dir() {
            Self::Dir
        } else if kind.is_file() {
            Self::File
        } else {
            Self::Special
        }
    }

    /// `a symlink`, `a directory`…, for messages.
    pub(crate) fn described(self) -> &'static str {
        match self {
            Self::Missing => "nothing",
            Self::File => "a file",
            Self::Dir => "a directory",
            Self::Link => "a symlink",
            Self::Special => "a FIFO, socket or device",
        }
    }
}

fn refused(path: &Path, kind: Kind, wanted: &str) -> io::Error {
    io::Error::other(format!(
        "`{}` is {}, not {wanted}; orchestra does not follow or replace it",
        path.display(),
        kind.described()
    ))
}

/// Makes sure `base/components…` are real directories, creating what is
/// missing; `base` itself must already be one (the project root).
pub(crate) fn ensure_dir(base: &Path, components: &[&str]) -> io::Result<PathBuf> {
    let mut path = base.to_path_buf();
    for component in components {
        path.push(component);
        match Kind::of(&path)? {
            Kind::Dir => {}
            Kind::Missing => match std::fs::create_dir(&path) {
                Ok(()) => {}
                // Another build made it meanwhile: check what it made.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let kind = Kind::of(&path)?;
                    if kind != Kind::Dir {
                        return Err(refused(&path, kind, "a directory"));
                    }
                }
                Err(e) => return Err(e),
            },
            kind => return Err(refused(&path, kind, "a directory")),
        }
    }
    Ok(path)
}

fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    options
}

/// Confirms an opened file is a regular file (a FIFO or directory opened
/// without blocking is still not one) and clears `O_NONBLOCK`'s meaning by
/// never relying on it for regular files (they ignore it).
fn regular(file: File, path: &Path) -> io::Result<File> {
    let kind = Kind::from_meta(&file.metadata()?);
    if kind == Kind::File {
        Ok(file)
    } else {
        Err(refused(path, kind, "a regular file"))
    }
}

/// What reading a persisted file found.
#[derive(Debug)]
pub(crate) enum Found {
    Missing,
    Bytes(Vec<u8>),
    /// Something that is not a regular file stands there, or it could not
    /// be read: the message says which.
    Unusable(String),
}

/// Reads a whole regular file; a link, directory, FIFO or device in its
/// place is [`Found::Unusable`], never followed or waited on.
pub(crate) fn read(path: &Path) -> Found {
    match Kind::of(path) {
        Ok(Kind::Missing) => return Found::Missing,
        Ok(Kind::File) => {}
        Ok(kind) => {
            return Found::Unusable(format!(
                "it is {}, not a regular file (not followed, not read)",
                kind.described()
            ));
        }
        Err(e) => return Found::Unusable(format!("cannot read it: {e}")),
    }
    let opened = options()
        .read(true)
        .open(path)
        .and_then(|f| regular(f, path));
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Missing,
        Err(e) => return Found::Unusable(format!("cannot read it: {e}")),
    };
    let mut bytes = Vec::new();
    match file.read_to_end(&mut bytes) {
        Ok(_) => Found::Bytes(bytes),
        Err(e) => Found::Unusable(format!("cannot read it: {e}")),
    }
}

/// Opens an existing regular file for reading (for a lock test or a
/// read): never through a link, never blocking on a FIFO.
pub(crate) fn open_read(path: &Path) -> io::Result<File> {
    let file = options().read(true).open(path)?;
    regular(file, path)
}

/// Removes whatever stands at `path` (a file, a link itself, a FIFO, a
/// whole directory) without following links; a missing path is fine.
pub(crate) fn remove(path: &Path) -> io::Result<()> {
    let result = match Kind::of(path)? {
        Kind::Missing => return Ok(()),
        Kind::Dir => std::fs::remove_dir_all(path),
        _ => std::fs::remove_file(path),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Opens (creating) a regular file for reading and writing without
/// truncating it. Something else in its place is removed first and named
/// in the returned note, so a stray directory or link cannot wedge locks.
pub(crate) fn open_rw(path: &Path) -> io::Result<(File, Option<String>)> {
    let note = clear_non_file(path)?;
    let file = read_write().open(path)?;
    Ok((regular(file, path)?, note))
}

/// Read and write, created when missing, never truncated.
fn read_write() -> OpenOptions {
    let mut options = options();
    options
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644);
    options
}

/// Opens (creating) a regular file for reading and writing in as few
/// system calls as a per-task lock needs: `open` with `O_NOFOLLOW`, then
/// `fstat`. Anything but a regular file there is an error (a link gives
/// `ELOOP`); the caller falls back to [`open_rw`], which replaces it.
pub(crate) fn open_rw_quick(path: &Path) -> io::Result<(File, Metadata)> {
    let file = read_write().open(path)?;
    let meta = file.metadata()?;
    if Kind::from_meta(&meta) == Kind::File {
        Ok((file, meta))
    } else {
        Err(refused(path, Kind::from_meta(&meta), "a regular file"))
    }
}

/// Opens (creating) a regular file for appending; like [`open_rw`].
pub(crate) fn open_append(path: &Path) -> io::Result<(File, Option<String>)> {
    let note = clear_non_file(path)?;
    let file = options().append(true).create(true).mode(0o644).open(path)?;
    Ok((regular(file, path)?, note))
}

fn clear_non_file(path: &Path) -> io::Result<Option<String>> {
    match Kind::of(path)? {
        Kind::Missing | Kind::File => Ok(None),
        kind => {
            remove(path)?;
            Ok(Some(format!(
                "replaced `{}`: it was {}, not a regular file",
                path.display(),
                kind.described()
            )))
        }
    }
}

/// Replaces the file `dir/name` with `bytes` so that readers see either the
/// old or the new contents, whole: a temporary file in `dir` (created with
/// `O_EXCL`, so never through a link) renamed over it. `sync` also flushes
/// the data and the directory, so the rename survives a power cut. A
/// directory in the file's place is removed first (rename cannot replace
/// one); a link or FIFO is simply replaced by the rename.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8], sync: bool) -> io::Result<()> {
    write_atomic_mode(dir, name, bytes, sync, None)
}

/// [`write_atomic`], the file getting `mode` (its permission bits) before
/// it is renamed into place, so no moment sees it otherwise and nothing is
/// set through a link that took its place.
pub(crate) fn write_atomic_mode(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    sync: bool,
    mode: Option<u32>,
) -> io::Result<()> {
    let path = dir.join(name);
    let temp = temp_file(dir, bytes, sync)?;
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode & 0o777))?;
    }
    if Kind::of(&path)? == Kind::Dir {
        remove(&path)?;
    }
    temp.persist(&path).map_err(|e| e.error)?;
    if sync {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The new contents in a temporary file inside `dir`, not yet in place.
pub(crate) fn temp_file(
    dir: &Path,
    bytes: &[u8],
    sync: bool,
) -> io::Result<tempfile::NamedTempFile> {
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    if sync {
        temp.as_file().sync_all()?;
    }
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn directories_are_created_but_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let made = ensure_dir(dir.path(), &["a", "b"]).unwrap();
        assert!(made.is_dir());
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), dir.path().join("link")).unwrap();
        let error = ensure_dir(dir.path(), &["link", "c"]).unwrap_err();
        assert!(error.to_string().contains("is a symlink"), "{error}");
        assert!(!outside.path().join("c").exists());
    }

    #[test]
    fn reads_refuse_links_directories_and_fifos_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();
        std::fs::create_dir(dir.path().join("dir")).unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        for name in ["link", "dir", "fifo"] {
            assert!(
                matches!(read(&dir.path().join(name)), Found::Unusable(_)),
                "{name}"
            );
        }
        assert!(matches!(read(&dir.path().join("none")), Found::Missing));
    }

    #[test]
    fn writes_replace_links_instead_of_writing_through_them() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        symlink(&target, dir.path().join("state")).unwrap();
        write_atomic(dir.path(), "state", b"new", false).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("state")).unwrap(),
            "new"
        );
        // A dangling link for an append-only file: replaced, nothing created outside.
        let gone = outside.path().join("never");
        symlink(&gone, dir.path().join("history")).unwrap();
        let (mut file, note) = open_append(&dir.path().join("history")).unwrap();
        file.write_all(b"line\n").unwrap();
        assert!(note.is_some());
        assert!(!gone.exists());
        // A directory where a file belongs is replaced too.
        std::fs::create_dir_all(dir.path().join("plan/x")).unwrap();
        write_atomic(dir.path(), "plan", b"p", true).unwrap();
        assert_eq!(std::fs::read(dir.path().join("plan")).unwrap(), b"p");
    }
}
