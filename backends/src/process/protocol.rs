//! The messages between a parent and its worker processes, and the handshake that opens each
//! connection.
//!
//! Handshake (child → parent, once): the 8 bytes [`MAGIC`], then a frame holding a [`Hello`]: the
//! protocol version, the one-time token the parent put in the child's environment, and the
//! identity of the executable the child runs ([`BuildId`]). The parent refuses a connection whose
//! magic, version, token or build differ from its own, with a message saying which.
//!
//! Then frames (see `frame.rs`): the parent sends [`Request`]s, the child answers each
//! [`Request::Batch`] with one [`Response::Results`] carrying the same id.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::frame::{read_message, write_frame, FrameError};

/// The first bytes a worker writes.
pub const MAGIC: [u8; 8] = *b"PPWORKER";

/// Bumped whenever a message changes shape (3: borrowed batches, varint record headers).
pub const VERSION: u32 = 4;

/// The largest hello frame accepted.
const MAX_HELLO: usize = 4096;

/// The identity of an executable file: two processes run the same build when these agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildId {
    /// Device of the file.
    pub dev: u64,
    /// Inode of the file.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds.
    pub mtime: i64,
    /// Modification time, nanoseconds.
    pub mtime_nsec: i64,
}

impl BuildId {
    /// The identity of `std::env::current_exe()`.
    pub fn current() -> io::Result<BuildId> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(std::env::current_exe()?)?;
        Ok(BuildId {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        })
    }
}

/// The handshake's payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`VERSION`] of the child.
    pub version: u32,
    /// The token the child found in its environment.
    pub token: String,
    /// The child's executable.
    pub build: BuildId,
}

/// Parent → child. It borrows its bytes: the parent encodes it from a job's encoded calls without
/// copying them (`frame::write_frame_with_tail`), the child decodes it in place from the frame it
/// read, so a task's borrowed arguments point into that frame.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request<'a> {
    /// Run the `calls` calls packed in `args` (see `parapool_core::wire`) to `task` with
    /// `kwargs`; answer with [`Response::Results`] for `id`.
    Batch {
        /// Chosen by the parent, echoed in the answer.
        id: u64,
        /// The task's registered name.
        task: &'a str,
        /// Encoded keyword arguments, shared by every call.
        #[serde(with = "serde_bytes")]
        kwargs: &'a [u8],
        /// How many calls `args` packs.
        calls: u64,
        /// One arguments record per call. The last field, so it can be written as the frame's tail.
        #[serde(with = "serde_bytes")]
        args: &'a [u8],
    },
    /// Finish and exit.
    Shutdown,
}

/// Child → parent; borrowed like [`Request`].
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response<'a> {
    /// One outcome record per call of batch `id`, in order (see `parapool_core::wire`).
    Results {
        /// The batch's id.
        id: u64,
        /// The packed outcomes. The last field, so it can be written as the frame's tail.
        #[serde(with = "serde_bytes")]
        outcomes: &'a [u8],
    },
    /// Batch `id` could not be answered call by call (its results would exceed the frame limit):
    /// every call of it fails with `message`.
    Failed {
        /// The batch's id.
        id: u64,
        /// Why, and what to change.
        message: &'a str,
    },
}

/// Writes the child's side of the handshake.
pub fn send_hello(out: &mut impl Write, token: &str) -> io::Result<()> {
    let hello = Hello { version: VERSION, token: token.to_owned(), build: BuildId::current()? };
    out.write_all(&MAGIC)?;
    write_frame(out, &hello, MAX_HELLO).map_err(|e| io::Error::other(e.to_string()))?;
    out.flush()
}

/// Reads and checks the child's handshake. The error says what did not match.
pub fn check_hello(input: &mut impl Read, token: &str, build: &BuildId) -> Result<(), String> {
    let mut magic = [0u8; 8];
    let mut got = 0;
    while got < magic.len() {
        match input.read(&mut magic[got..]) {
            Ok(0) => {
                return Err("the worker exited before its handshake: does main() call parapool::init() first \
                     (or, in an integration test, does the file contain parapool::process_worker_test!())?"
                    .into())
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the worker's handshake: {e}")),
        }
    }
    if magic != MAGIC {
        return Err(format!(
            "the worker's handshake starts with {magic:02x?}, not parapool's magic bytes: \
             something else wrote to the protocol pipe"
        ));
    }
    let hello: Hello = match read_message(input, MAX_HELLO) {
        Ok(Some(hello)) => hello,
        Ok(None) => return Err("the worker closed its pipe inside the handshake".into()),
        Err(FrameError::Malformed(_)) => {
            return Err("the worker's handshake is malformed: is it a different version of parapool?".into())
        }
        Err(e) => return Err(format!("reading the worker's handshake: {e}")),
    };
    if hello.version != VERSION {
        return Err(format!("protocol version mismatch: the worker speaks {}, this process {VERSION}", hello.version));
    }
    if hello.token != token {
        return Err("the worker presented the wrong token: it was not started by this pool".into());
    }
    if &hello.build != build {
        return Err(format!(
            "the worker runs a different build of this executable ({:?}, here {build:?}): was the binary \
             rebuilt while the pool was running?",
            hello.build
        ));
    }
    Ok(())
}

/// Reads from a pipe, giving up with `TimedOut` at a deadline (for the handshake).
pub struct DeadlineReader<'a> {
    /// The pipe.
    pub file: &'a std::fs::File,
    /// When to give up.
    pub deadline: Instant,
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left == Duration::ZERO {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no handshake from the worker in time"));
            }
            let mut poll = libc::pollfd { fd: self.file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            let millis = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: `poll` points to one valid, initialised pollfd for the duration of the call.
            let ready = unsafe { libc::poll(&mut poll, 1, millis) };
            if ready < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if ready > 0 {
                return (&mut &*self.file).read(buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello_bytes(hello: &Hello) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        write_frame(&mut out, hello, MAX_HELLO).unwrap();
        out
    }

    fn good() -> Hello {
        Hello { version: VERSION, token: "t0k3n".into(), build: BuildId::current().unwrap() }
    }

    #[test]
    fn a_matching_hello_is_accepted() {
        let mut out = Vec::new();
        send_hello(&mut out, "t0k3n").unwrap();
        assert_eq!(check_hello(&mut &out[..], "t0k3n", &BuildId::current().unwrap()), Ok(()));
    }

    #[test]
    fn mismatches_are_named() {
        let build = BuildId::current().unwrap();
        let wrong_token = check_hello(&mut &hello_bytes(&good())[..], "other", &build).unwrap_err();
        assert!(wrong_token.contains("token"), "{wrong_token}");
        let old = Hello { version: VERSION + 1, ..good() };
        assert!(check_hello(&mut &hello_bytes(&old)[..], "t0k3n", &build).unwrap_err().contains("version"));
        let other = Hello { build: BuildId { size: build.size + 1, ..build.clone() }, ..good() };
        assert!(check_hello(&mut &hello_bytes(&other)[..], "t0k3n", &build).unwrap_err().contains("build"));
        let garbage = b"HTTP/1.1 200 OK\r\n".to_vec();
        assert!(check_hello(&mut &garbage[..], "t0k3n", &build).unwrap_err().contains("magic"));
        let mut truncated = hello_bytes(&good());
        truncated.truncate(12);
        assert!(check_hello(&mut &truncated[..], "t0k3n", &build).is_err());
        assert!(check_hello(&mut &b""[..], "t0k3n", &build).unwrap_err().contains("init()"));
    }
}
