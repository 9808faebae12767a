//! Starting a worker process: the current executable, re-executed with the protocol pipes on
//! descriptors 3 (requests in) and 4 (results out), a one-time token in its environment, and no
//! other inherited descriptor above 2. Its stdin, stdout and stderr are the parent's.
//!
//! The child is started with `posix_spawn`, whose file actions place the pipes and close every
//! other descriptor, so glibc can start it with `clone(CLONE_VM | CLONE_VFORK)`: the parent's
//! page tables are never copied, and a pool starts as fast in a parent with gigabytes mapped as
//! in a small one. (std's `Command` can place a descriptor at 3 or 4 only in `pre_exec`, which
//! makes it `fork`: 12 ms for two workers in a 200 MiB parent against 3 ms in a 4 MiB one. Its
//! `pre_exec` also cannot know where std keeps its exec-error pipe, so moving a pipe onto 3 or 4
//! there can close that pipe, and a failed `exec` then looks like a started child.)
//!
//! Everything above 4 is closed by one `posix_spawn_file_actions_addclosefrom_np` action where
//! the C library has it (glibc 2.34 and later); elsewhere by one close action per descriptor that
//! is open here without close-on-exec (those with it close at `exec` anyway). The fallback cannot
//! see a descriptor that another thread opens without close-on-exec between its scan and the
//! spawn; std opens every descriptor with close-on-exec.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

/// The environment variable that carries the one-time token to a worker.
pub const TOKEN_VAR: &str = "PARAPOOL_WORKER_TOKEN";
/// The environment variable that carries the parent's pid to a worker, which checks it.
pub const PARENT_VAR: &str = "PARAPOOL_WORKER_PARENT";
/// The environment variable that carries the maximum frame size to a worker.
pub const MAX_FRAME_VAR: &str = "PARAPOOL_WORKER_MAX_FRAME";
/// The descriptor a worker reads requests from.
pub const REQUEST_FD: RawFd = 3;
/// The descriptor a worker writes results to.
pub const RESULT_FD: RawFd = 4;

/// A started worker: its pid (to be reaped with `waitpid`), and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    /// The process id of the (unreaped) child.
    pub pid: i32,
    /// Requests go here.
    pub to_child: File,
    /// Results come from here.
    pub from_child: File,
}

/// How the child's descriptors above 4 are closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseRest {
    /// One `posix_spawn_file_actions_addclosefrom_np` action.
    From,
    /// A close action for each descriptor open here without close-on-exec.
    Each,
}

impl CloseRest {
    /// `From` where the C library has it.
    pub(crate) fn best() -> CloseRest {
        if closefrom_action().is_some() {
            CloseRest::From
        } else {
            CloseRest::Each
        }
    }
}

/// Starts `exe args…` as a worker with `token`.
pub fn spawn_worker(exe: &Path, args: &[String], token: &str, max_frame: usize) -> io::Result<Spawned> {
    spawn_worker_with(CloseRest::best(), exe, args, token, max_frame)
}

/// Starts `exe args…` as a worker with `token`, closing the rest as `close_rest` says.
pub(crate) fn spawn_worker_with(
    close_rest: CloseRest,
    exe: &Path,
    args: &[String],
    token: &str,
    max_frame: usize,
) -> io::Result<Spawned> {
    let (request_read, request_write) = pipe()?;
    let (result_read, result_write) = pipe()?;
    let child_in = dup_high(&request_read)?;
    let child_out = dup_high(&result_write)?;
    drop((request_read, result_write));
    let ends = ChildEnds { request: child_in.as_raw_fd(), result: child_out.as_raw_fd() };
    let max_frame = max_frame.to_string();
    let parent = std::process::id().to_string();
    let env = [(TOKEN_VAR, token), (MAX_FRAME_VAR, max_frame.as_str()), (PARENT_VAR, parent.as_str())];
    let pid = posix_spawn(exe, args, &env, ends, close_rest)?;
    drop((child_in, child_out));
    Ok(Spawned { pid, to_child: File::from(request_write), from_child: File::from(result_read) })
}

/// The child's ends of the two pipes, as close-on-exec descriptors numbered 10 or above.
#[derive(Clone, Copy)]
struct ChildEnds {
    request: RawFd,
    result: RawFd,
}

/// A pipe whose both ends are close-on-exec: `(read, write)`.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two descriptors for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // A larger pipe buffer (256 KiB, four times the default) moves a batch in fewer system calls
    // and wake-ups; best effort, the default still works. Not the 1 MiB maximum: pipe memory
    // counts against a per-user quota (pipe-user-pages-soft, 64 MiB by default) past which Linux
    // shrinks every new pipe of the user, and 256 KiB measured as fast (15.7-16.0 ms against
    // 15.8-16.5 ms for 1 MiB and 16.4-16.9 ms for 64 KiB, a process map over 1M words).
    // SAFETY: F_SETPIPE_SZ only resizes the buffer of the pipe `fds[1]` belongs to.
    unsafe { libc::fcntl(fds[1], libc::F_SETPIPE_SZ, PIPE_BUFFER) };
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The pipe buffer asked for: 256 KiB.
const PIPE_BUFFER: libc::c_int = 256 << 10;

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

/// `posix_spawn_file_actions_addclosefrom_np(actions, from)`.
type CloseFrom = unsafe extern "C" fn(*mut libc::posix_spawn_file_actions_t, libc::c_int) -> libc::c_int;

/// The C library's `posix_spawn_file_actions_addclosefrom_np`, if it has one (glibc ≥ 2.34),
/// looked up at run time so that the binary still loads on an older C library.
fn closefrom_action() -> Option<CloseFrom> {
    static FOUND: OnceLock<Option<CloseFrom>> = OnceLock::new();
    *FOUND.get_or_init(|| {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only searches the loaded
        // objects; it returns null when the symbol is absent.
        let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"posix_spawn_file_actions_addclosefrom_np".as_ptr()) };
        // SAFETY: a non-null result is the address of the C function, whose signature (glibc's
        // <spawn.h>) is exactly `CloseFrom`.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut libc::c_void, CloseFrom>(symbol) })
    })
}

/// A C string from an OS string, or an error naming it if it contains a NUL byte.
fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{:?} contains a NUL byte", String::from_utf8_lossy(bytes)))
    })
}

/// This process's environment with `extra` set (replacing any earlier value), as `KEY=VALUE`.
fn environment(extra: &[(&str, &str)]) -> io::Result<Vec<CString>> {
    let mut entries = Vec::new();
    for (key, value) in std::env::vars_os() {
        if extra.iter().any(|(k, _)| OsStr::new(k) == key) {
            continue;
        }
        entries.push(c_string(&[key.as_bytes(), b"=", value.as_bytes()].concat())?);
    }
    for (key, value) in extra {
        entries.push(c_string(format!("{key}={value}").as_bytes())?);
    }
    Ok(entries)
}

/// Null-terminated pointers to `strings` (which must outlive them).
fn pointers(strings: &[CString]) -> Vec<*mut libc::c_char> {
    strings.iter().map(|s| s.as_ptr().cast_mut()).chain(std::iter::once(std::ptr::null_mut())).collect()
}

/// File actions, destroyed on drop.
struct FileActions(libc::posix_spawn_file_actions_t);

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: the actions were initialised by posix_spawn_file_actions_init and are
        // destroyed once.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
    }
}

/// Spawn attributes, destroyed on drop.
struct Attributes(libc::posix_spawnattr_t);

impl Drop for Attributes {
    fn drop(&mut self) {
        // SAFETY: the attributes were initialised by posix_spawnattr_init and are destroyed once.
        unsafe { libc::posix_spawnattr_destroy(&mut self.0) };
    }
}

/// Turns a `posix_spawn*` return value (an errno, 0 for success) into a result.
fn check(code: libc::c_int) -> io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code))
    }
}

/// Starts the child with `posix_spawn`: the pipes are duplicated onto 3 and 4 (which clears
/// their close-on-exec flag), everything from 5 up is closed, the signal mask is emptied and
/// SIGPIPE is back to its default, as std's `Command` does.
fn posix_spawn(
    exe: &Path,
    args: &[String],
    env: &[(&str, &str)],
    ends: ChildEnds,
    close_rest: CloseRest,
) -> io::Result<i32> {
    let program = c_string(exe.as_os_str().as_bytes())?;
    let mut argv = vec![program.clone()];
    for arg in args {
        argv.push(c_string(arg.as_bytes())?);
    }
    let envp = environment(env)?;
    let (argv_ptrs, envp_ptrs) = (pointers(&argv), pointers(&envp));

    // SAFETY (for every block below): each call gets pointers to live, initialised values of the
    // types its C prototype names; the actions and attributes are initialised before use and
    // destroyed exactly once by their guards.
    let mut actions = FileActions(unsafe { std::mem::zeroed() });
    check(unsafe { libc::posix_spawn_file_actions_init(&mut actions.0) })?;
    check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut actions.0, ends.request, REQUEST_FD) })?;
    check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut actions.0, ends.result, RESULT_FD) })?;
    match (close_rest, closefrom_action()) {
        (CloseRest::From, Some(closefrom)) => check(unsafe { closefrom(&mut actions.0, RESULT_FD + 1) })?,
        _ => {
            for fd in inheritable_descriptors()? {
                check(unsafe { libc::posix_spawn_file_actions_addclose(&mut actions.0, fd) })?;
            }
        }
    }

    let mut attributes = Attributes(unsafe { std::mem::zeroed() });
    check(unsafe { libc::posix_spawnattr_init(&mut attributes.0) })?;
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut pipe_signal: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::sigemptyset(&mut empty);
        libc::sigemptyset(&mut pipe_signal);
        libc::sigaddset(&mut pipe_signal, libc::SIGPIPE);
    }
    check(unsafe { libc::posix_spawnattr_setsigmask(&mut attributes.0, &empty) })?;
    check(unsafe { libc::posix_spawnattr_setsigdefault(&mut attributes.0, &pipe_signal) })?;
    let flags = (libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF) as libc::c_short;
    check(unsafe { libc::posix_spawnattr_setflags(&mut attributes.0, flags) })?;

    let mut pid: libc::pid_t = 0;
    // SAFETY: `program`, `argv_ptrs` and `envp_ptrs` are NUL-terminated strings and
    // null-terminated arrays that live until this call returns; the actions and attributes are
    // initialised.
    check(unsafe {
        libc::posix_spawn(&mut pid, program.as_ptr(), &actions.0, &attributes.0, argv_ptrs.as_ptr(), envp_ptrs.as_ptr())
    })?;
    Ok(pid)
}

/// The descriptors above 4 open in this process without close-on-exec: what a child would
/// inherit. Read from `/proc/self/fd` (Linux), or by asking each number up to the limit.
fn inheritable_descriptors() -> io::Result<Vec<RawFd>> {
    let candidates: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.parse().ok()))
            .collect(),
        Err(_) => {
            // SAFETY: sysconf has no memory-safety preconditions.
            let limit = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
            (0..if limit <= 0 { 1024 } else { limit.min(65_536) as RawFd }).collect()
        }
    };
    Ok(candidates
        .into_iter()
        .filter(|&fd| fd > RESULT_FD)
        .filter(|&fd| {
            // SAFETY: F_GETFD only queries a descriptor's flags; a closed one gives -1.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            flags >= 0 && flags & libc::FD_CLOEXEC == 0
        })
        .collect())
}

/// A fresh random token (128 bits from the kernel), as hex.
pub fn new_token() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    let mut urandom = File::open("/dev/urandom")?;
    io::Read::read_exact(&mut urandom, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Runs a shell as a "worker" that reports its descriptors and token on the result pipe,
    /// with a stray descriptor (no close-on-exec) open in this process, and checks what it saw.
    fn child_sees_only_its_pipes(close_rest: CloseRest) {
        // SAFETY: F_DUPFD (without close-on-exec) of stdin only creates a new descriptor, closed
        // below.
        let stray = unsafe { libc::fcntl(0, libc::F_DUPFD, 200) };
        assert!(stray >= 200);
        let script = "set -- /proc/$$/fd/*; echo \"$PARAPOOL_WORKER_TOKEN $PARAPOOL_WORKER_MAX_FRAME $*\" >&4";
        let args = ["-c".to_owned(), script.to_owned()];
        let spawned = spawn_worker_with(close_rest, Path::new("/bin/sh"), &args, "t0ken", 4096).unwrap();
        drop(spawned.to_child);
        let mut report = String::new();
        (&spawned.from_child).read_to_string(&mut report).unwrap();
        let mut status = 0;
        // SAFETY: `pid` is our unreaped child; `status` is a valid int to fill.
        assert_eq!(unsafe { libc::waitpid(spawned.pid, &mut status, 0) }, spawned.pid);
        // SAFETY: `stray` is ours and open.
        unsafe { libc::close(stray) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{status}");
        let mut words = report.split_whitespace();
        assert_eq!(words.next(), Some("t0ken"));
        assert_eq!(words.next(), Some("4096"));
        let fds: Vec<i32> = words.map(|path| path.rsplit('/').next().unwrap().parse().unwrap()).collect();
        assert!([0, 1, 2, 3, 4].iter().all(|fd| fds.contains(fd)), "{close_rest:?}: {fds:?}");
        // The shell's glob may hold one directory descriptor of its own, at the lowest free number.
        assert!(fds.iter().all(|&fd| fd <= 5), "{close_rest:?}: {fds:?} (stray {stray})");
    }

    #[test]
    fn closefrom_gives_the_child_only_its_pipes() {
        if CloseRest::best() == CloseRest::From {
            child_sees_only_its_pipes(CloseRest::From);
        } else {
            eprintln!("no posix_spawn_file_actions_addclosefrom_np in this C library");
        }
    }

    #[test]
    fn closing_each_inheritable_descriptor_gives_the_child_only_its_pipes() {
        child_sees_only_its_pipes(CloseRest::Each);
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_child() {
        for close_rest in [CloseRest::From, CloseRest::Each] {
            // Many times over, while other tests open and close descriptors: a failed exec must
            // never look like a started child.
            for _ in 0..50 {
                match spawn_worker_with(close_rest, Path::new("/nonexistent/parapool"), &[], "t", 1) {
                    Err(error) => assert_eq!(error.kind(), io::ErrorKind::NotFound, "{close_rest:?}: {error}"),
                    Ok(spawned) => panic!("{close_rest:?} started {spawned:?}"),
                }
            }
        }
    }
}
