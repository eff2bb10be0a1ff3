//! Starting one job: spawn the command in its own process group with
//! stdout and stderr merged through one pipe, and its log, opened at the
//! first output (`running.rs` then follows it to the end).
//!
//! Why a process group: a timeout must stop what the command started too
//! (`sh -c 'a | b'`, test runners with workers); signalling the group reaches
//! them all. Why one pipe for both streams: the log then holds output in the
//! order it was written, as on a terminal.
//!
//! An interactive job (`interactive=#true`) gets orchestra's stdin. When
//! orchestra is in the foreground of a terminal, it runs there as if typed
//! at the shell: in orchestra's own process group (ninja's `console` pool
//! does the same), reading and writing the terminal directly, so Ctrl-C and
//! Ctrl-Z reach it and orchestra together. Its output then goes to the
//! terminal only; its stdout is orchestra's stderr, so orchestra's stdout
//! stays clean (`--json`).

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, PipeReader, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::event::Exit;
use super::executor::{Completion, Job};
use super::native_spawn::{self, Environment, Spawn, Stream};
use crate::plan::Cmd;

/// The programs commands start with, each resolved on PATH once so that
/// each spawn is a single `execve` instead of a search through PATH: the
/// shell for shell-form commands, and exec-form programs by name and the
/// PATH they are looked up in (the task's own, when its `env` sets one:
/// std would otherwise fall back from `posix_spawn` to a real fork for it).
#[derive(Debug, Clone)]
pub(crate) struct Shell {
    program: OsString,
    args: Vec<String>,
    exec: std::collections::HashMap<(String, Option<String>), OsString>,
    /// `/dev/null`, opened once: every command's stdin.
    null: Option<std::sync::Arc<File>>,
    /// Orchestra's environment, built once for every command.
    env: std::sync::Arc<Environment>,
}

impl Shell {
    /// The plan's shell words; `sh -c` when there are none.
    pub(crate) fn new(words: &[String]) -> Self {
        let (program, args) = match words.split_first() {
            Some((program, args)) => (program.as_str(), args.to_vec()),
            None => ("sh", vec!["-c".to_owned()]),
        };
        // When it cannot be found, keep the name: spawning it then reports
        // the error for the task that needed it.
        let program = which::which(program)
            .map_or_else(|_| program.into(), std::path::PathBuf::into_os_string);
        Self {
            program,
            args,
            exec: std::collections::HashMap::new(),
            null: File::open("/dev/null").ok().map(std::sync::Arc::new),
            env: std::sync::Arc::new(Environment::inherited()),
        }
    }

    /// `program` as exec-form commands spawn it: a bare name resolved on
    /// `path` (the task's PATH, else ours) relative to `dir`, once per name
    /// and PATH; a path, or a name found nowhere (spawning it then reports
    /// the error), as written.
    fn exec_program(&mut self, program: &str, path: Option<&str>, dir: &Path) -> OsString {
        if program.contains('/') {
            return program.into();
        }
        let key = (program.to_owned(), path.map(str::to_owned));
        self.exec
            .entry(key)
            .or_insert_with(|| {
                let paths = path.map_or_else(|| std::env::var_os("PATH"), |p| Some(p.into()));
                which::which_in(program, paths, dir)
                    .map_or_else(|_| program.into(), std::path::PathBuf::into_os_string)
            })
            .clone()
    }
}

/// A command that was started and still needs its output read and its
/// process reaped.
pub(crate) struct Started {
    /// The process (its group's leader, unless in the foreground).
    pid: u32,
    /// The merged output; `None` for a command in the terminal's
    /// foreground, whose output goes to the terminal.
    reader: Option<PipeReader>,
    log: Log,
}

impl Started {
    /// The process, its output pipe (none in the foreground) and its log.
    pub(crate) fn into_parts(self) -> (u32, Option<PipeReader>, Log) {
        (self.pid, self.reader, self.log)
    }
}

/// Whether orchestra runs in the foreground of the terminal on its stdin:
/// only then can a command of its own group read that terminal.
fn owns_terminal() -> bool {
    let stdin = std::io::stdin();
    stdin.is_terminal()
        && rustix::termios::tcgetpgrp(stdin.as_fd())
            .is_ok_and(|group| group == rustix::process::getpgrp())
}

/// Starts `job`'s command, or says why it could not start. Quick: it
/// returns as soon as the program is executing. The command keeps the
/// descriptors in `inherit` (the jobserver's) open.
pub(crate) fn start(
    job: &Job,
    shell: &mut Shell,
    inherit: &[std::os::fd::RawFd],
) -> Result<Started, Completion> {
    let failed = |message: String| Completion {
        task: job.task,
        exit: Exit::SpawnFailed(message),
        output: String::new(),
        logged: false,
    };
    for dir in &job.output_dirs {
        std::fs::create_dir_all(dir).map_err(|e| {
            failed(format!(
                "cannot create the directory `{}` for its outputs: {e}",
                dir.display()
            ))
        })?;
    }
    let mut log = Log::prepare(job).map_err(failed)?;
    // The last PATH the job's env sets is the one it runs with.
    let path = job
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str());
    let (program, args): (OsString, Vec<&OsStr>) = match &job.command {
        Cmd::Shell(line) => (
            shell.program.clone(),
            shell
                .args
                .iter()
                .map(OsStr::new)
                .chain([OsStr::new(line)])
                .collect(),
        ),
        Cmd::Exec(argv) => {
            let (program, rest) = argv
                .split_first()
                .ok_or_else(|| failed("the command is empty".into()))?;
            let program = shell.exec_program(program, path, &job.dir);
            (program, rest.iter().map(OsStr::new).collect())
        }
    };
    let foreground = job.interactive && owns_terminal();
    let pipe = if foreground {
        None
    } else {
        Some(std::io::pipe().map_err(|e| failed(format!("cannot create a pipe: {e}")))?)
    };
    let null = shell.null.as_deref().map(AsFd::as_fd);
    let stderr = std::io::stderr();
    let (stdin, stdout, stderr, new_group) = match &pipe {
        // In the terminal's foreground: our stdin and stderr, and its
        // stdout is our stderr (our stdout stays clean).
        None => (
            Stream::Inherit,
            Stream::To(stderr.as_fd()),
            Stream::Inherit,
            false,
        ),
        Some((_, writer)) => {
            // An interactive command without a terminal still gets our
            // stdin (`echo yes | orchestra build deploy`).
            let stdin = match null {
                Some(null) if !job.interactive => Stream::To(null),
                _ => Stream::Inherit,
            };
            let out = Stream::To(writer.as_fd());
            (stdin, out, out, true)
        }
    };
    if foreground {
        log.write(
            b"[interactive: it ran in the terminal's foreground; its output went there, not here]\n",
        );
    }
    let spawned = native_spawn::spawn(&Spawn {
        program: &program,
        args: &args,
        env: &shell.env,
        own_env: &job.env,
        dir: &job.dir,
        stdin,
        stdout,
        stderr,
        new_group,
        inherit,
    });
    // Our copy of the pipe's write end must close, or the reader would
    // never see end-of-file.
    let reader = pipe.map(|(reader, _writer)| reader);
    match spawned {
        Ok(pid) => Ok(Started { pid, reader, log }),
        Err(e) => {
            let message = format!("cannot run `{}`: {e}", program_name(&job.command, shell));
            log.write(format!("{message}\n").as_bytes());
            let mut completion = failed(message);
            completion.logged = log.written();
            Err(completion)
        }
    }
}

fn program_name<'a>(cmd: &'a Cmd, shell: &'a Shell) -> std::borrow::Cow<'a, str> {
    match cmd {
        Cmd::Shell(_) => shell.program.to_string_lossy(),
        Cmd::Exec(argv) => argv.first().map_or("".into(), |p| p.as_str().into()),
    }
}

/// A job's log, opened at its first write: a command that prints nothing
/// leaves no file, because creating one cost more than running `true`
/// (25–29µs on the serial path before each spawn, and inode allocation).
pub(crate) struct Log {
    path: Option<PathBuf>,
    header: String,
    /// Start the file afresh rather than append (the task's first job).
    fresh: bool,
    file: Option<File>,
    /// Opening it failed once: the output is still kept in memory.
    unwritable: bool,
}

impl Log {
    /// The job's log, not yet opened. A fresh log's old file is removed
    /// now, so not a byte of a previous run survives in it, even if the
    /// command prints nothing or orchestra dies mid-command (removing a
    /// missing file costs a failed look-up, not a new inode).
    fn prepare(job: &Job) -> Result<Self, String> {
        if let Some(error) = &job.log_error {
            return Err(error.clone());
        }
        if job.fresh_log
            && let Some(path) = &job.log
        {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(format!("cannot replace the log `{}`: {e}", path.display()));
                }
                _ => {}
            }
        }
        Ok(Self {
            path: job.log.clone(),
            header: job.header.clone(),
            fresh: job.fresh_log,
            file: None,
            unwritable: false,
        })
    }

    /// Whether anything reached the file.
    pub(crate) fn written(&self) -> bool {
        self.file.is_some()
    }

    /// Appends `bytes`, opening the file first (with the command's header
    /// line) if this is the job's first output. A full disk or an
    /// unusable file must not kill the build: the output is still kept.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if self.file.is_none() && !self.unwritable {
            self.file = self.open();
            self.unwritable = self.file.is_none();
        }
        if let Some(file) = &mut self.file {
            let _ = file.write_all(bytes);
        }
    }

    fn open(&self) -> Option<File> {
        let path = self.path.as_ref()?;
        let mut options = OpenOptions::new();
        // Never through a link, never blocking on a FIFO in the log's
        // place. Its directory was checked by the job builder.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        if self.fresh {
            // `truncate` only matters if another build recreated it meanwhile.
            options.write(true).create(true).truncate(true);
        } else {
            options.append(true).create(true);
        }
        let mut file = options.open(path).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        writeln!(file, "{}", self.header).ok()?;
        Some(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TaskId;
    use crate::run::ProcessExecutor;
    use crate::run::executor::{Executor, Update};
    use crate::run::running::KEPT_OUTPUT;
    use std::time::{Duration, Instant};

    fn job(command: Cmd, dir: &std::path::Path, timeout: Option<Duration>) -> Job {
        Job {
            task: TaskId(0),
            command,
            dir: dir.to_path_buf(),
            env: vec![("GREETING".into(), "hello".into())],
            timeout,
            log: Some(dir.join("t.log")),
            log_error: None,
            output_dirs: Vec::new(),
            fresh_log: true,
            header: "$ test".into(),
            interactive: false,
            jobserver: None,
        }
    }

    /// Waits for the job's completion, collecting streamed lines.
    fn finish(executor: &mut ProcessExecutor) -> (Completion, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            match executor.wait() {
                Update::Output { line, .. } => lines.push(line),
                Update::Finished(completion) => return (completion, lines),
                Update::Wake => unreachable!("nobody interrupts these tests"),
            }
        }
    }

    #[test]
    fn a_jobserver_task_inherits_the_pipe_others_do_not() {
        use crate::model::Jobserver;
        let dir = tempfile::tempdir().unwrap();
        let mut executor = ProcessExecutor::new(&[], false);
        executor.serve_jobserver(3).unwrap();
        // Reads one token through the descriptor MAKEFLAGS names.
        let take = r#"fds=${MAKEFLAGS##*=}; r=${fds%,*}; echo "$MAKEFLAGS"; dd bs=1 count=1 if=/dev/fd/$r 2>/dev/null"#;
        let mut served = job(Cmd::Shell(take.into()), dir.path(), None);
        served.jobserver = Some(Jobserver::Pipe);
        executor.start(served);
        let (completion, _) = finish(&mut executor);
        assert_eq!(completion.exit, Exit::Success, "{}", completion.output);
        let (flags, token) = completion.output.split_once('\n').unwrap();
        assert!(flags.starts_with("-j3 --jobserver-auth="), "{flags}");
        assert_eq!(token, "+");
        // A task without `jobserver` gets neither the flags nor the pipe.
        let read_end = flags.rsplit_once('=').unwrap().1.split(',').next().unwrap();
        let probe = format!("echo \"[$MAKEFLAGS]\"; dd bs=1 count=1 if=/dev/fd/{read_end}");
        executor.start(job(Cmd::Shell(probe.into()), dir.path(), None));
        let (completion, _) = finish(&mut executor);
        assert_ne!(completion.exit, Exit::Success, "{}", completion.output);
        assert!(
            completion.output.starts_with("[]\n"),
            "{}",
            completion.output
        );
        assert!(!completion.output.contains('+'), "{}", completion.output);
    }

    #[test]
    fn captures_merged_output_into_memory_log_and_stream() {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = ProcessExecutor::new(&[], true);
        let line = "echo $GREETING; echo oops >&2; printf tail; exit 3";
        executor.start(job(Cmd::Shell(line.into()), dir.path(), None));
        let (completion, lines) = finish(&mut executor);
        assert_eq!(completion.exit, Exit::Code(3));
        assert_eq!(completion.output, "hello\noops\ntail");
        assert_eq!(lines, ["hello", "oops", "tail"]);
        let log = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
        assert_eq!(log, "$ test\nhello\noops\ntail");
    }

    #[test]
    fn a_huge_line_goes_to_the_log_whole_and_only_its_end_stays_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = ProcessExecutor::new(&[], false);
        // 3 MB with no newline, then a secret split by the pipe's buffering.
        let line =
            "head -c 3000000 /dev/zero | tr '\\0' x; printf 's3cr'; sleep 0.05; printf 'et!\\n'";
        let mut executor_job = job(Cmd::Shell(line.into()), dir.path(), None);
        executor_job.header = "$ big".into();
        executor = executor.masking(crate::secrets::Masker::new(["s3cret!".to_owned()]));
        executor.start(executor_job);
        let (completion, _) = finish(&mut executor);
        assert!(
            completion.output.len() <= KEPT_OUTPUT + 200,
            "{}",
            completion.output.len()
        );
        assert!(completion.output.starts_with("[… earlier output"));
        let end = &completion.output[completion.output.len() - 20..];
        assert!(end.ends_with("x****\n"), "the secret is masked: {end:?}");
        let log = std::fs::read(dir.path().join("t.log")).unwrap();
        assert_eq!(log.len(), "$ big\n".len() + 3_000_000 + "****\n".len());
    }

    #[test]
    fn a_secret_spanning_lines_is_masked_whole_though_read_in_two() {
        let dir = tempfile::tempdir().unwrap();
        let executor = ProcessExecutor::new(&[], true);
        let mut executor = executor.masking(crate::secrets::Masker::new([
            "-----BEGIN KEY-----\nAAAA\n-----END KEY-----".to_owned(),
        ]));
        let line = "printf 'key:\\n-----BEGIN KEY-----\\n'; sleep 0.1; \
                    printf 'AAAA\\n-----END KEY-----\\ndone\\n'";
        executor.start(job(Cmd::Shell(line.into()), dir.path(), None));
        let (completion, lines) = finish(&mut executor);
        assert_eq!(completion.output, "key:\n****\ndone\n");
        assert_eq!(lines, ["key:", "****", "done"]);
        let log = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
        assert_eq!(log, "$ test\nkey:\n****\ndone\n");
    }

    #[test]
    fn a_fresh_log_replaces_a_longer_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = ProcessExecutor::new(&[], false);
        let nine_lines = "for i in 1 2 3 4 5 6 7 8 9; do echo line $i; done";
        executor.start(job(Cmd::Shell(nine_lines.into()), dir.path(), None));
        finish(&mut executor);
        executor.start(job(Cmd::Shell("echo short".into()), dir.path(), None));
        finish(&mut executor);
        let mut second = job(Cmd::Shell("echo appended".into()), dir.path(), None);
        second.fresh_log = false;
        second.header = "$ next".into();
        executor.start(second);
        finish(&mut executor);
        let log = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
        assert_eq!(log, "$ test\nshort\n$ next\nappended\n");
    }

    #[test]
    fn exec_form_runs_without_a_shell_and_reports_missing_programs() {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = ProcessExecutor::new(&[], false);
        let argv = vec!["echo".into(), "$GREETING; no shell".into()];
        executor.start(job(Cmd::Exec(argv), dir.path(), None));
        let (completion, lines) = finish(&mut executor);
        assert_eq!(completion.output, "$GREETING; no shell\n");
        assert!(lines.is_empty(), "nothing streams unless asked");
        executor.start(job(
            Cmd::Exec(vec!["no-such-program-x".into()]),
            dir.path(),
            None,
        ));
        let (completion, _) = finish(&mut executor);
        assert!(matches!(completion.exit, Exit::SpawnFailed(m) if m.contains("no-such-program-x")));
    }

    #[test]
    fn a_command_that_ended_in_time_is_not_timed_out_when_seen_late() {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = ProcessExecutor::new(&[], false);
        let limit = Duration::from_millis(50);
        executor.start(job(Cmd::Shell("true".into()), dir.path(), Some(limit)));
        // The scheduler is busy elsewhere until well past the limit.
        std::thread::sleep(Duration::from_millis(300));
        let (completion, _) = finish(&mut executor);
        assert_eq!(completion.exit, Exit::Success);
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut executor = ProcessExecutor::new(&[], false);
        // The background sleep holds the pipe open: only killing the group ends it.
        let line = "sleep 30 & sleep 30";
        let limit = Duration::from_millis(200);
        let started = Instant::now();
        executor.start(job(Cmd::Shell(line.into()), dir.path(), Some(limit)));
        let (completion, _) = finish(&mut executor);
        assert_eq!(completion.exit, Exit::TimedOut(limit));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "TERM was enough"
        );
    }
}
