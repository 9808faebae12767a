//! A worker child process as its parent sees it: its pid, signalled only while it is unreaped,
//! and reaped exactly once, with a description of how it ended.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// One started child.
#[derive(Debug)]
pub(crate) struct Child {
    pub(crate) pid: i32,
    /// How the child ended, once it has been reaped (after which its pid must not be signalled).
    ended: Mutex<Option<String>>,
}

impl Child {
    pub(crate) fn new(pid: i32) -> Self {
        Child { pid, ended: Mutex::new(None) }
    }

    /// Sends `signal` to the child unless it was already reaped (so never to a reused pid).
    pub(crate) fn signal(&self, signal: i32) {
        let ended = self.ended.lock();
        if ended.is_none() {
            // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
            unsafe { libc::kill(self.pid, signal) };
        }
    }

    /// Whether the child has exited, without reaping it (`block`: wait for it).
    fn exited(&self, block: bool) -> bool {
        let flags = libc::WEXITED | libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
        loop {
            // SAFETY: an all-zero siginfo_t is a valid value for waitid to overwrite.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is a valid siginfo_t to fill; WNOWAIT leaves the child unreaped.
            let r = unsafe { libc::waitid(libc::P_PID, self.pid as libc::id_t, &mut info, flags) };
            if r < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return true; // not our child any more (ECHILD): nothing to wait for
            }
            // SAFETY: waitid succeeded, so `info` is initialised; si_pid is 0 if nothing exited.
            return unsafe { info.si_pid() } != 0;
        }
    }

    /// Waits for the child to exit (killing it if it lingers past `grace`), reaps it and says how
    /// it ended.
    pub(crate) fn reap(&self, grace: Duration) -> String {
        let deadline = Instant::now() + grace;
        // A child told to stop usually exits within a fraction of a millisecond: poll from 20 µs,
        // doubling to 2 ms, so closing a pool does not wait a fixed tick per child.
        let mut pause = Duration::from_micros(20);
        while !self.exited(false) {
            if Instant::now() >= deadline {
                self.signal(libc::SIGKILL);
                self.exited(true);
                break;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(2));
        }
        let mut reaped = self.ended.lock();
        if let Some(ended) = &*reaped {
            return ended.clone();
        }
        let mut status = 0;
        let waited = loop {
            // SAFETY: the pid is our unreaped child; `status` is a valid int to fill.
            let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if r >= 0 {
                break Ok(());
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                break Err(error);
            }
        };
        let ended = match waited {
            Ok(()) if libc::WIFEXITED(status) => format!("exited with status {}", libc::WEXITSTATUS(status)),
            Ok(()) if libc::WIFSIGNALED(status) => {
                let signal = libc::WTERMSIG(status);
                format!("killed by signal {signal} ({})", signal_name(signal))
            }
            Ok(()) => format!("ended with wait status {status:#x}"),
            Err(e) => format!("could not be waited for: {e}"),
        };
        *reaped = Some(ended.clone());
        ended
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGINT => "SIGINT",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        _ => "signal",
    }
}
