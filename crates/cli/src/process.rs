//! Signals to child processes (the demo's members and broker, the verifiable-client tests).

/// Sends `signo` to process `pid`; returns false when it is gone (or the pid is invalid).
pub fn signal(pid: u32, signo: libc::c_int) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        // 0 and negative pids address process groups; never what a caller of this means.
        return false;
    }
    #[allow(unsafe_code)]
    // SAFETY: kill(2) has no memory-safety preconditions; pid is a single positive process id.
    let rc = unsafe { libc::kill(pid, signo) };
    rc == 0
}
