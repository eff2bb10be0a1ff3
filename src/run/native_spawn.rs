//! Starting a program with `posix_spawn` ourselves, from an environment
//! built once per build: the second audited `unsafe` of orchestra.
//!
//! Why not `std::process::Command`: every task sets its own `ORCHESTRA_*`
//! variables, and a command whose environment differs from the parent's
//! makes std copy the whole environment again for every spawn (a lock, two
//! strings per variable, a sorted map, then the C array): about 6 % of
//! orchestra's own time in a run of 2,000 `true` tasks. Here the inherited
//! variables become C strings once ([`Environment`]); a spawn adds only the
//! task's own and points at the rest.
//!
//! What the child gets is what std gives it: the signal mask emptied and
//! SIGPIPE back to its default (Rust ignores it in orchestra), its own
//! process group when asked, the working directory changed before `exec`,
//! and no descriptor of ours but the three it is given (everything orchestra
//! opens is close-on-exec; the jobserver's are given on purpose). Beyond
//! std, SIGTTIN and SIGTTOU are back to their defaults too, as a shell with
//! job control gives its jobs: started under tmux or `nohup`, orchestra
//! inherits them ignored, and a task in the background reading the terminal
//! would then fail with EIO here and stop there. Stopped, it is reported as
//! needing the terminal (`groups.rs`), wherever orchestra was started.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The inherited environment as C strings, each `KEY=value`, with its key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    vars: Vec<(OsString, CString)>,
}

impl Environment {
    /// Orchestra's own environment, now.
    pub(crate) fn inherited() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.clone(), entry(&key, &value)?)))
            .collect();
        Self { vars }
    }

    /// The variables of one command, `KEY=value`, each key once (later
    /// entries win), with their keys.
    fn own(own: &[(String, String)]) -> io::Result<(Vec<&str>, Vec<CString>)> {
        let mut keys: Vec<&str> = Vec::with_capacity(own.len());
        let mut entries: Vec<CString> = Vec::with_capacity(own.len());
        for (key, value) in own.iter().rev() {
            if keys.contains(&key.as_str()) {
                continue;
            }
            keys.push(key);
            entries.push(entry(OsStr::new(key), OsStr::new(value)).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the variable `{key}` holds a NUL byte"),
                )
            })?);
        }
        Ok((keys, entries))
    }

    /// The pointers `posix_spawn` takes for `own` over the inherited
    /// variables, ending with a null.
    fn pointers(&self, own: &[CString], own_keys: &[&str]) -> Vec<*const libc::c_char> {
        let mut out: Vec<*const libc::c_char> = Vec::with_capacity(own.len() + self.vars.len() + 1);
        out.extend(own.iter().map(|c| c.as_ptr()));
        out.extend(
            self.vars
                .iter()
                .filter(|(key, _)| !own_keys.iter().any(|k| OsStr::new(k) == key))
                .map(|(_, c)| c.as_ptr()),
        );
        out.push(std::ptr::null());
        out
    }
}

fn entry(key: &OsStr, value: &OsStr) -> Option<CString> {
    let mut bytes = Vec::with_capacity(key.len() + value.len() + 1);
    bytes.extend_from_slice(key.as_bytes());
    bytes.push(b'=');
    bytes.extend_from_slice(value.as_bytes());
    CString::new(bytes).ok()
}

fn c_string(s: &OsStr, what: &str) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the {what} holds a NUL byte"),
        )
    })
}

/// Where a child's standard stream goes.
#[derive(Clone, Copy)]
pub(crate) enum Stream<'a> {
    /// Orchestra's own.
    Inherit,
    To(BorrowedFd<'a>),
}

/// One program to start.
pub(crate) struct Spawn<'a> {
    /// A path (a bare name is not searched for: callers resolve names on
    /// PATH once, and one found nowhere is reported as not found).
    pub(crate) program: &'a OsStr,
    /// The arguments after the program.
    pub(crate) args: &'a [&'a OsStr],
    pub(crate) env: &'a Environment,
    /// The command's own variables (later entries win).
    pub(crate) own_env: &'a [(String, String)],
    pub(crate) dir: &'a Path,
    pub(crate) stdin: Stream<'a>,
    pub(crate) stdout: Stream<'a>,
    pub(crate) stderr: Stream<'a>,
    /// Lead a process group of its own.
    pub(crate) new_group: bool,
    /// Descriptors the program keeps, at the same numbers (the jobserver's).
    pub(crate) inherit: &'a [RawFd],
}

/// Starts the program; its pid, or why it could not start (the program
/// missing or not executable, as `exec` said).
pub(crate) fn spawn(s: &Spawn<'_>) -> io::Result<u32> {
    if !s.program.as_bytes().contains(&b'/') {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    let program = c_string(s.program, "program")?;
    let mut argv = Vec::with_capacity(s.args.len() + 1);
    argv.push(program.clone());
    for arg in s.args {
        argv.push(c_string(arg, "command")?);
    }
    let (own_keys, own) = Environment::own(s.own_env)?;
    let envp = s.env.pointers(&own, &own_keys);
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let dir = c_string(s.dir.as_os_str(), "directory")?;
    let streams =
        [(s.stdin, 0), (s.stdout, 1), (s.stderr, 2)].map(|(stream, target)| match stream {
            Stream::Inherit => None,
            Stream::To(fd) => Some((fd.as_raw_fd(), target)),
        });
    raw_spawn(&program, &argv_ptrs, &envp, &dir, &streams, s)
}

/// Turns a `posix_spawn*` return code into a result.
fn check(code: libc::c_int) -> io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code))
    }
}

/// The spawn attributes and file actions, destroyed however the spawn ends.
struct Prepared {
    attr: libc::posix_spawnattr_t,
    actions: libc::posix_spawn_file_actions_t,
    attr_ready: bool,
    actions_ready: bool,
}

#[allow(unsafe_code)]
impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: each was initialised (the flag says so) and is destroyed
        // once, here.
        unsafe {
            if self.actions_ready {
                libc::posix_spawn_file_actions_destroy(&raw mut self.actions);
            }
            if self.attr_ready {
                libc::posix_spawnattr_destroy(&raw mut self.attr);
            }
        }
    }
}

#[allow(unsafe_code)]
fn raw_spawn(
    program: &CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    dir: &CStr,
    streams: &[Option<(libc::c_int, libc::c_int)>; 3],
    s: &Spawn<'_>,
) -> io::Result<u32> {
    // SAFETY: plain data; both are initialised by their `_init` calls
    // below before any other use, and `Prepared::drop` destroys exactly the
    // ones that were.
    let mut p = Prepared {
        attr: unsafe { std::mem::zeroed() },
        actions: unsafe { std::mem::zeroed() },
        attr_ready: false,
        actions_ready: false,
    };
    // SAFETY: every pointer passed lives until `posix_spawn` returns:
    // `program`, `dir` and the strings `argv` and `envp` point to are
    // borrowed by this function, and both arrays end with a null. The
    // descriptors are open (borrowed by the caller). `posix_spawn` copies
    // what it needs before it returns; the child only `exec`s.
    unsafe {
        check(libc::posix_spawnattr_init(&raw mut p.attr))?;
        p.attr_ready = true;
        check(libc::posix_spawn_file_actions_init(&raw mut p.actions))?;
        p.actions_ready = true;
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut empty);
        check(libc::posix_spawnattr_setsigmask(
            &raw mut p.attr,
            &raw const empty,
        ))?;
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut pipe);
        libc::sigaddset(&raw mut pipe, libc::SIGPIPE);
        libc::sigaddset(&raw mut pipe, libc::SIGTTIN);
        libc::sigaddset(&raw mut pipe, libc::SIGTTOU);
        check(libc::posix_spawnattr_setsigdefault(
            &raw mut p.attr,
            &raw const pipe,
        ))?;
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
        if s.new_group {
            flags |= libc::POSIX_SPAWN_SETPGROUP;
            check(libc::posix_spawnattr_setpgroup(&raw mut p.attr, 0))?;
        }
        // Fits: the flags are a handful of low bits.
        #[allow(clippy::cast_possible_truncation)]
        check(libc::posix_spawnattr_setflags(
            &raw mut p.attr,
            flags as libc::c_short,
        ))?;
        for (fd, target) in streams.iter().flatten() {
            check(libc::posix_spawn_file_actions_adddup2(
                &raw mut p.actions,
                *fd,
                *target,
            ))?;
        }
        // Onto itself: POSIX (and glibc since 2.29) clears close-on-exec.
        for fd in s.inherit {
            check(libc::posix_spawn_file_actions_adddup2(
                &raw mut p.actions,
                *fd,
                *fd,
            ))?;
        }
        check(libc::posix_spawn_file_actions_addchdir_np(
            &raw mut p.actions,
            dir.as_ptr(),
        ))?;
        let mut pid: libc::pid_t = 0;
        check(libc::posix_spawn(
            &raw mut pid,
            program.as_ptr(),
            &raw const p.actions,
            &raw const p.attr,
            argv.as_ptr().cast(),
            envp.as_ptr().cast(),
        ))?;
        u32::try_from(pid).map_err(|_| io::Error::other("posix_spawn gave no pid"))
    }
}

/// How a reaped process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Code(i32),
    Signal(i32),
}

/// Reaps `pid` (our child), waiting for it to end.
pub(crate) fn wait(pid: u32) -> io::Result<Ended> {
    use rustix::process::{Pid, WaitOptions, waitpid};
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::other("not a process id"))?;
    loop {
        match waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, status))) => {
                if let Some(code) = status.exit_status() {
                    return Ok(Ended::Code(code));
                }
                if let Some(signal) = status.terminating_signal() {
                    return Ok(Ended::Signal(signal));
                }
            }
            Ok(None) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn run(program: &str, args: &[&str], own_env: &[(String, String)]) -> (Ended, String) {
        let env = Environment::inherited();
        let (mut reader, writer) = std::io::pipe().unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
        let pid = spawn(&Spawn {
            program: OsStr::new(program),
            args: &args,
            env: &env,
            own_env,
            dir: Path::new("/"),
            stdin: Stream::To(null.as_fd_borrowed()),
            stdout: Stream::To(writer.as_fd_borrowed()),
            stderr: Stream::To(writer.as_fd_borrowed()),
            new_group: true,
            inherit: &[],
        })
        .unwrap();
        drop(writer);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        (wait(pid).unwrap(), out)
    }

    trait Borrowed {
        fn as_fd_borrowed(&self) -> BorrowedFd<'_>;
    }
    impl<T: std::os::fd::AsFd> Borrowed for T {
        fn as_fd_borrowed(&self) -> BorrowedFd<'_> {
            self.as_fd()
        }
    }

    #[test]
    fn a_command_gets_its_variables_over_ours_its_directory_and_its_group() {
        let own = [
            ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
            ("GREETING".to_owned(), "hi".to_owned()),
            ("GREETING".to_owned(), "hello".to_owned()),
        ];
        let (ended, out) = run(
            "/bin/sh",
            &[
                "-c",
                "echo \"$GREETING $(pwd) $(env | grep -c '^GREETING=')\"; ps -o pgid= -p $$ | tr -d ' '; echo $$; exit 3",
            ],
            &own,
        );
        assert_eq!(ended, Ended::Code(3));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "hello / 1", "{out}");
        assert_eq!(lines[1], lines[2], "it leads its own group: {out}");
    }

    #[test]
    fn sigpipe_is_back_to_its_default_and_signals_are_reported() {
        // A shell cannot undo a signal ignored when it started: it would
        // survive its own SIGPIPE and say so.
        let (ended, out) = run("/bin/sh", &["-c", "kill -PIPE $$; echo survived"], &[]);
        assert_eq!(ended, Ended::Signal(libc::SIGPIPE), "{out}");
    }

    #[test]
    fn a_missing_program_or_a_bare_name_is_not_found() {
        let env = Environment::inherited();
        for program in ["/nonexistent/program", "sh"] {
            let error = spawn(&Spawn {
                program: OsStr::new(program),
                args: &[],
                env: &env,
                own_env: &[],
                dir: Path::new("/"),
                stdin: Stream::Inherit,
                stdout: Stream::Inherit,
                stderr: Stream::Inherit,
                new_group: false,
                inherit: &[],
            })
            .unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::NotFound, "{program}");
        }
    }
}
