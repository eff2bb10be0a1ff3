//! The GNU make jobserver orchestra serves to its children, so a nested
//! `make`, `cargo build` or `ninja` (≥ 1.13) shares orchestra's `-j` slots
//! instead of adding its own.
//!
//! The protocol: a pipe holds one byte (a token) per slot beyond the first.
//! Every running command owns one slot implicitly; a jobserver client that
//! wants to run a second job at once reads a token first and writes it
//! back when that job ends. orchestra plays by the same rule for its own
//! tasks: every running task beyond the first holds a token (the scheduler
//! takes and returns them through the executor), so orchestra's tasks and
//! their children's jobs together never exceed `-j`.
//!
//! A task with `jobserver=#true` gets `MAKEFLAGS=" -jN
//! --jobserver-auth=R,W"` and inherits the pipe's two descriptors (every
//! GNU make, cargo, ninja); with `jobserver="fifo"` it gets
//! `--jobserver-auth=fifo:PATH` (make ≥ 4.4), where the path is the pipe as
//! `/proc/<orchestra>/fd/<R>`, so nothing is written to disk. Opening the
//! pipe through `/proc` is also how orchestra gets its own non-blocking
//! description of it, leaving the descriptors children share blocking, as
//! make expects.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

use crate::model::Jobserver as Style;

/// A pipe holds at least this many bytes on Linux; more tokens than that
/// could not be written without blocking.
const MAX_TOKENS: usize = 4096;

/// The token pipe, from its creation until orchestra exits.
pub(crate) struct Jobserver {
    /// The ends children inherit, blocking.
    read: OwnedFd,
    write: OwnedFd,
    /// orchestra's own opening of the pipe, non-blocking.
    own: File,
    /// `/proc/<pid>/fd/<read>`: the pipe as a path for `fifo:` clients.
    path: String,
    jobs: usize,
}

impl Jobserver {
    /// A pipe with a token for every slot of `jobs` beyond the first.
    pub(crate) fn new(jobs: usize) -> io::Result<Self> {
        use rustix::pipe::{PipeFlags, pipe_with};
        let (read, write) = pipe_with(PipeFlags::CLOEXEC)?;
        let own = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(format!("/proc/self/fd/{}", read.as_raw_fd()))?;
        let tokens = jobs.saturating_sub(1).min(MAX_TOKENS);
        (&own).write_all(&vec![b'+'; tokens])?;
        Ok(Self {
            path: format!("/proc/{}/fd/{}", std::process::id(), read.as_raw_fd()),
            read,
            write,
            own,
            jobs: tokens + 1,
        })
    }

    /// Takes a token if one is there, without waiting.
    pub(crate) fn try_take(&self) -> bool {
        let mut byte = [0u8; 1];
        matches!(rustix::io::read(&self.own, &mut byte), Ok(1))
    }

    /// Returns a token taken with [`Jobserver::try_take`].
    pub(crate) fn give(&self) {
        // The pipe holds every token there is, so it has room for this one.
        let _ = rustix::io::write(&self.own, b"+");
    }

    /// What to poll for a token coming back.
    pub(crate) fn readable(&self) -> BorrowedFd<'_> {
        self.own.as_fd()
    }

    /// `MAKEFLAGS` for a task of `style`, after the task's own flags.
    pub(crate) fn makeflags(&self, style: Style, theirs: Option<&str>) -> String {
        let auth = match style {
            Style::Pipe => format!("{},{}", self.read.as_raw_fd(), self.write.as_raw_fd()),
            Style::Fifo => format!("fifo:{}", self.path),
        };
        let theirs = theirs.map_or(String::new(), |t| format!("{} ", t.trim()));
        format!("{theirs}-j{} --jobserver-auth={auth}", self.jobs)
    }

    /// The descriptors a task of `style` inherits: both ends for `pipe`,
    /// none for `fifo` (it opens the path).
    pub(crate) fn inherited(&self, style: Style) -> Vec<RawFd> {
        match style {
            Style::Pipe => vec![self.read.as_raw_fd(), self.write.as_raw_fd()],
            Style::Fifo => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_holds_a_token_per_slot_beyond_the_first_and_takes_them_back() {
        let server = Jobserver::new(3).unwrap();
        assert!(server.try_take());
        assert!(server.try_take());
        assert!(!server.try_take(), "two tokens for -j3");
        server.give();
        assert!(server.try_take());
        assert!(!Jobserver::new(1).unwrap().try_take(), "-j1 has none");
    }

    #[test]
    fn makeflags_name_the_descriptors_or_the_path_after_the_tasks_own() {
        let server = Jobserver::new(4).unwrap();
        let [r, w] = [server.read.as_raw_fd(), server.write.as_raw_fd()];
        assert_eq!(
            server.makeflags(Style::Pipe, None),
            format!("-j4 --jobserver-auth={r},{w}")
        );
        assert_eq!(
            server.makeflags(Style::Fifo, Some(" -k ")),
            format!(
                "-k -j4 --jobserver-auth=fifo:/proc/{}/fd/{r}",
                std::process::id()
            )
        );
        assert_eq!(server.inherited(Style::Pipe), [r, w]);
        assert!(server.inherited(Style::Fifo).is_empty());
    }

    #[test]
    fn a_client_opening_the_path_sees_the_same_tokens() {
        let server = Jobserver::new(2).unwrap();
        let mut client = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&server.path)
            .unwrap();
        let mut token = [0u8; 1];
        io::Read::read_exact(&mut client, &mut token).unwrap();
        assert_eq!(&token, b"+");
        assert!(!server.try_take(), "the client holds the only token");
        client.write_all(&token).unwrap();
        assert!(server.try_take());
    }
}
