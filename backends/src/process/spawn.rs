//! Starting a worker process: the current executable, re-executed with the protocol pipes on
//! descriptors 3 (requests in) and 4 (results out), a one-time token in its environment, and no
//! other inherited descriptor above 2. Its stdin, stdout and stderr are the parent's.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

/// The environment variable that carries the one-time token to a worker.
pub const TOKEN_VAR: &str = "PARAPOOL_WORKER_TOKEN";
/// The environment variable that carries the maximum frame size to a worker.
pub const MAX_FRAME_VAR: &str = "PARAPOOL_WORKER_MAX_FRAME";
/// The descriptor a worker reads requests from.
pub const REQUEST_FD: RawFd = 3;
/// The descriptor a worker writes results to.
pub const RESULT_FD: RawFd = 4;

/// A started worker: the process, and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    /// The process.
    pub child: Child,
    /// Requests go here.
    pub to_child: File,
    /// Results come from here.
    pub from_child: File,
}

/// A pipe whose both ends are close-on-exec: `(read, write)`.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two descriptors for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec duplicate of `fd` numbered at least 10, so that moving it to 3 or 4 in the
/// child never overwrites the other pipe end.
fn dup_high(fd: &OwnedFd) -> io::Result<OwnedFd> {
    // SAFETY: `fd` is an open descriptor; F_DUPFD_CLOEXEC creates a new one we then own.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// The highest descriptor number worth scanning when `close_range` is unavailable.
fn max_fd() -> RawFd {
    // SAFETY: sysconf has no memory-safety preconditions.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    if max <= 0 {
        1024
    } else {
        max.min(65_536) as RawFd
    }
}

/// Starts `exe args…` as a worker with `token`.
pub fn spawn_worker(exe: &std::path::Path, args: &[String], token: &str, max_frame: usize) -> io::Result<Spawned> {
    let (request_read, request_write) = pipe()?;
    let (result_read, result_write) = pipe()?;
    let child_in = dup_high(&request_read)?;
    let child_out = dup_high(&result_write)?;
    drop((request_read, result_write));
    let (child_in_fd, child_out_fd) = (child_in.as_raw_fd(), child_out.as_raw_fd());
    let scan_to = max_fd();
    let mut command = Command::new(exe);
    command.args(args).env(TOKEN_VAR, token).env(MAX_FRAME_VAR, max_frame.to_string());
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // system calls (dup2, syscall(close_range), fcntl) on plain integers: no allocation, no locks.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(child_in_fd, REQUEST_FD) < 0 || libc::dup2(child_out_fd, RESULT_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
            // Every other descriptor above the pipes closes at exec (marking them close-on-exec
            // rather than closing them keeps std's own exec-error pipe working until then).
            let marked = libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC);
            if marked != 0 {
                for fd in 5..scan_to {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                        libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                    }
                }
            }
            Ok(())
        });
    }
    let child = command.spawn()?;
    drop((child_in, child_out));
    Ok(Spawned { child, to_child: File::from(request_write), from_child: File::from(result_read) })
}

/// A fresh random token (128 bits from the kernel), as hex.
pub fn new_token() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    let mut urandom = File::open("/dev/urandom")?;
    io::Read::read_exact(&mut urandom, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
