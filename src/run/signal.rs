//! Signalling a command's whole process group: one of orchestra's two
//! audited `unsafe` places (the other is `native_spawn.rs`), shared by
//! timeouts, interrupts and the guardian.

use std::time::Duration;

/// How long a timed-out or interrupted group gets between TERM and KILL.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// Sends `signal` to every process in the group led by `group`.
#[allow(unsafe_code)]
pub(crate) fn signal_group(group: u32, signal: libc::c_int) {
    let Ok(group) = libc::pid_t::try_from(group) else {
        return;
    };
    if group <= 1 {
        // 0 and 1 would mean our own group or every process: never ours.
        return;
    }
    // SAFETY: killpg takes two integers and touches no memory of ours. The
    // group is ours: its leader is our child and is not reaped until the
    // watchdog calling this has returned and `Groups` has forgotten it (in
    // the guardian: orchestra, the leader's parent, has just died, and the
    // guardian acts at once).
    unsafe {
        libc::killpg(group, signal);
    }
}

/// Sends `signal` to the one process `pid` (a command running in the
/// terminal's foreground, in orchestra's own group, has no group of its own).
pub(crate) fn signal_process(pid: u32, signal: libc::c_int) {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    let signal = rustix::process::Signal::from_named_raw(signal);
    if let (Some(pid), Some(signal)) = (pid, signal)
        && !pid.is_init()
    {
        let _ = rustix::process::kill_process(pid, signal);
    }
}
