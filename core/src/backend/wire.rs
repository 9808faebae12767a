//! The encoded form of a job's calls and of their outcomes: the bytes a backend that runs work
//! outside this process (worker processes; later, other hosts) ships back and forth.
//!
//! A backend never looks inside. It takes [`EncodedCalls`] from [`Job::encode`](crate::backend::Job::encode),
//! moves them to the other side, runs [`registry::run_batch`](crate::backend::registry::run_batch) there,
//! moves the bytes it returns back and hands them to
//! [`Job::complete_encoded`](crate::backend::Job::complete_encoded).
//!
//! Both directions are *packed*: one buffer per batch, in which every call is one record
//! `[header: varint][payload: length bytes]`, where the header is `length << 2 | tag` in
//! postcard's variable-length integer encoding (one byte for payloads under 32 bytes, as most
//! single-call payloads are). Packing keeps the cost per call to the codec itself (no allocation
//! per call on either side), and the length keeps every call on its own: a payload that fails to
//! decode fails its call alone, and the next record is still found.
//!
//! | buffer | tag | payload |
//! |---|---|---|
//! | arguments | [`ARGS`] | the call's positional-argument tuple, postcard-encoded |
//! | arguments | [`UNSENT`] | a [`RemoteError`]: the arguments could not be encoded; the other side answers with it |
//! | outcomes | [`OK`] | the call's output, postcard-encoded |
//! | outcomes | [`FAILED`] | a [`RemoteError`]: the call's error |
//!
//! The keyword arguments are encoded once per batch, as one plain postcard value.

use postcard::ser_flavors::Flavor;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Side};
use crate::task::{Args, Task};

/// Arguments record: the call's argument tuple follows.
pub const ARGS: u8 = 0;
/// Arguments record: the arguments could not be encoded; a [`RemoteError`] follows.
pub const UNSENT: u8 = 1;
/// Outcome record: the call's output follows.
pub const OK: u8 = 2;
/// Outcome record: the call failed; a [`RemoteError`] follows.
pub const FAILED: u8 = 3;

/// Bits of a record header that hold the tag.
const TAG_BITS: u32 = 2;
/// The largest header: a payload length below 4 GiB, shifted past the tag.
const MAX_HEADER: u64 = (u32::MAX as u64) << TAG_BITS | 3;

/// Writes `value` as a postcard varint into `out`, returning the bytes used (at most 10).
#[inline]
fn write_varint(mut value: u64, out: &mut [u8; 10]) -> usize {
    let mut used = 0;
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out[used] = byte;
            return used + 1;
        }
        out[used] = byte | 0x80;
        used += 1;
    }
}

/// Reads a record header (a postcard varint of at most five bytes, no larger than
/// [`MAX_HEADER`]) from the start of `bytes`: the value and the bytes used.
#[inline]
fn read_header(bytes: &[u8]) -> Option<(u64, usize)> {
    read_varint_u64(bytes).filter(|&(value, used)| used <= 5 && value <= MAX_HEADER)
}

/// The calls of a job in encoded form, for a backend that runs them outside this process.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::backend::{registry, Backend, Job, Shutdown};
/// use parapool::prelude::*;
///
/// /// A third-party backend that sends every job through the codec, as a remote backend would.
/// struct Loopback;
/// impl Backend for Loopback {
///     fn name(&self) -> &str { "loopback" }
///     fn workers(&self) -> usize { 1 }
///     fn submit(&self, job: Job) {
///         let calls = match job.encode() {
///             Ok(calls) => calls,
///             Err(error) => return job.fail(error),
///         };
///         // … on the other side …
///         let outcomes = registry::run_batch(calls.task, &calls.kwargs, calls.calls, &calls.args);
///         // … and back.
///         job.complete_encoded(&outcomes);
///     }
///     fn shutdown(&self, _mode: Shutdown) {}
/// }
///
/// let pool = Pool::with_backend(Box::new(Loopback));
/// assert_eq!(pool.map(double, [1, 2, 3])?, vec![2, 4, 6]);
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Debug)]
pub struct EncodedCalls {
    /// The task's registered name.
    pub task: &'static str,
    /// The keyword arguments, encoded once for the whole job.
    pub kwargs: Vec<u8>,
    /// How many calls `args` holds (the job's [`calls`](crate::backend::Job::calls)).
    pub calls: usize,
    /// One record per call (see the module documentation).
    pub args: Vec<u8>,
}

/// Encodes calls to task `T` (each item one call's argument tuple) with keyword arguments
/// `kwargs`: what [`Job::encode`](crate::backend::Job::encode) gives a backend, built directly (for tests
/// of a backend, or a batch made outside a pool).
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// let calls = parapool::backend::wire::encode_calls::<double>(&(), &[(20,), (21,)])?;
/// assert_eq!((calls.task, calls.calls), (<double as parapool::Task>::NAME, 2));
/// # Ok::<(), parapool::Error>(())
/// ```
pub fn encode_calls<'x, 'a: 'x, T: Task>(
    kwargs: &T::Kwargs<'_>,
    args: impl IntoIterator<Item = &'x Args<'a, T>>,
) -> Result<EncodedCalls, Error> {
    let mut buffer = Vec::new();
    let mut calls = 0;
    for args in args {
        append_args(&mut buffer, T::NAME, args);
        calls += 1;
    }
    Ok(EncodedCalls {
        task: T::NAME,
        kwargs: crate::backend::registry::encode(T::NAME, Side::Args, kwargs)?,
        calls,
        args: buffer,
    })
}

/// A call's error in a form that crosses process and host boundaries.
///
/// ```
/// use parapool::backend::RemoteError;
/// use parapool::prelude::*;
/// let error = Error::UnknownTask { name: "t".into() };
/// let remote = RemoteError::from(&error); // serde-serializable
/// assert_eq!(Error::from(remote), error);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemoteError {
    /// [`Error::Panicked`].
    Panicked {
        /// Task name.
        task: String,
        /// Panic message.
        message: String,
        /// Panic location.
        location: Option<String>,
    },
    /// [`Error::Serialization`].
    Serialization {
        /// Task name.
        task: String,
        /// Whether the output (not the arguments) failed.
        output: bool,
        /// Codec message.
        message: String,
    },
    /// [`Error::UnknownTask`].
    UnknownTask {
        /// The name looked up.
        name: String,
    },
    /// [`Error::Backend`], and any other error, as text.
    Backend {
        /// The backend that reported it.
        backend: String,
        /// The error's message.
        message: String,
    },
}

impl From<&Error> for RemoteError {
    fn from(error: &Error) -> RemoteError {
        match error {
            Error::Panicked { task, message, location } => {
                RemoteError::Panicked { task: task.clone(), message: message.clone(), location: location.clone() }
            }
            Error::Serialization { task, side, message } => RemoteError::Serialization {
                task: task.clone(),
                output: *side == Side::Output,
                message: message.clone(),
            },
            Error::UnknownTask { name } => RemoteError::UnknownTask { name: name.clone() },
            Error::Backend { backend, message } => {
                RemoteError::Backend { backend: backend.clone(), message: message.clone() }
            }
            other => RemoteError::Backend { backend: "remote".into(), message: other.to_string() },
        }
    }
}

impl From<RemoteError> for Error {
    fn from(error: RemoteError) -> Error {
        match error {
            RemoteError::Panicked { task, message, location } => Error::Panicked { task, message, location },
            RemoteError::Serialization { task, output, message } => {
                Error::Serialization { task, side: if output { Side::Output } else { Side::Args }, message }
            }
            RemoteError::UnknownTask { name } => Error::UnknownTask { name },
            RemoteError::Backend { backend, message } => Error::Backend { backend, message },
        }
    }
}

/// A postcard flavor that appends to a borrowed vector.
struct Append<'a>(&'a mut Vec<u8>);

impl Flavor for Append<'_> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    /// A single byte (most varints) without a call to `memcpy`, which costs more than the copy.
    #[inline]
    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        match bytes {
            [byte] => self.0.push(*byte),
            _ => self.0.extend_from_slice(bytes),
        }
        Ok(())
    }

    #[inline]
    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Appends one record: the header with `tag`, then `value` encoded. On failure `buffer` is left
/// as it was.
#[inline]
fn append_record<V: Serialize + ?Sized>(
    buffer: &mut Vec<u8>,
    tag: u8,
    value: &V,
    task: &str,
    side: Side,
) -> Result<(), Error> {
    let start = buffer.len();
    // A one-byte header, widened below in the rare case the payload needs more.
    buffer.push(0);
    // postcard's serializer used directly (not through `serialize_with_flavor`), so that the
    // whole encoding can inline into the caller's loop.
    let mut serializer = postcard::Serializer { output: Append(buffer) };
    let encoded = value.serialize(&mut serializer);
    let buffer = serializer.output.0;
    let length = buffer.len() - start - 1;
    match (encoded, u32::try_from(length)) {
        (Ok(()), Ok(length)) => {
            let header = u64::from(length) << TAG_BITS | u64::from(tag);
            if header < 0x80 {
                buffer[start] = header as u8;
            } else {
                let mut bytes = [0; 10];
                let used = write_varint(header, &mut bytes);
                let end = buffer.len();
                buffer.resize(end + used - 1, 0);
                buffer.copy_within(start + 1..end, start + used);
                buffer[start..start + used].copy_from_slice(&bytes[..used]);
            }
            Ok(())
        }
        (encoded, _) => {
            buffer.truncate(start);
            let message = match encoded {
                Err(e) => e.to_string(),
                Ok(()) => "one call's encoding is larger than 4 GiB".to_owned(),
            };
            Err(Error::Serialization { task: task.to_owned(), side, message })
        }
    }
}

/// Appends an error record (`UNSENT` or `FAILED`).
fn append_error(buffer: &mut Vec<u8>, tag: u8, error: &Error) {
    let remote = RemoteError::from(error);
    if append_record(buffer, tag, &remote, "", Side::Output).is_err() {
        // Only a message over 4 GiB gets here; say so instead.
        let remote =
            RemoteError::Backend { backend: "wire".into(), message: "an error message too large to send".into() };
        append_record(buffer, tag, &remote, "", Side::Output).expect("a short error always encodes");
    }
}

/// Appends one call's arguments record: `ARGS` and the arguments, or `UNSENT` and the error that
/// encoding them gave.
#[inline]
pub(crate) fn append_args<A: Serialize + ?Sized>(buffer: &mut Vec<u8>, task: &str, args: &A) {
    if let Err(error) = append_record(buffer, ARGS, args, task, Side::Args) {
        append_error(buffer, UNSENT, &error);
    }
}

/// Appends one call's arguments record for a one-parameter task whose argument encodes as a
/// string or byte string: `varint(length)` and the bytes, which is what postcard makes of `(&str,)`
/// or `(&[u8],)`. A short one (the fast path of a map over words) is written without serde; a
/// longer one goes through [`append_args`] like any other argument.
#[inline]
pub(crate) fn append_bytes_args(buffer: &mut Vec<u8>, task: &str, bytes: &[u8]) {
    // The common case, a payload under 32 bytes: one header byte and one length byte, pushed
    // (a call to `memcpy` for each would cost more than the bytes).
    let len = bytes.len();
    if len < 31 {
        buffer.reserve(2 + len);
        let start = buffer.len();
        // SAFETY: `reserve` made room for the `2 + len` bytes written at `start`, which
        // `set_len` then covers.
        unsafe {
            let out = buffer.as_mut_ptr().add(start);
            out.write(((1 + len) as u8) << TAG_BITS | ARGS);
            out.add(1).write(len as u8);
            copy_short(bytes, out.add(2));
            buffer.set_len(start + 2 + len);
        }
        return;
    }
    append_long_bytes_args(buffer, task, bytes)
}

/// [`append_bytes_args`] for 31 bytes or more: out of line, so that the short case inlines into
/// the encoding loop.
#[inline(never)]
fn append_long_bytes_args(buffer: &mut Vec<u8>, task: &str, bytes: &[u8]) {
    append_args(buffer, task, &ByteString(bytes));
}

/// Copies `bytes` (at most 32) to `out` with at most two overlapping loads and stores of the
/// widest size that fits: a call to `memcpy` costs more than such short copies.
///
/// # Safety
///
/// `out` is valid for `bytes.len()` bytes of writes and does not overlap `bytes`.
#[inline(always)]
unsafe fn copy_short(bytes: &[u8], out: *mut u8) {
    let (len, from) = (bytes.len(), bytes.as_ptr());
    debug_assert!(len <= 32);
    // SAFETY (every branch): both reads and both writes lie inside `bytes` and `out[..len]`.
    unsafe {
        if len >= 16 {
            let (head, tail) =
                (from.cast::<u128>().read_unaligned(), from.add(len - 16).cast::<u128>().read_unaligned());
            out.cast::<u128>().write_unaligned(head);
            out.add(len - 16).cast::<u128>().write_unaligned(tail);
        } else if len >= 8 {
            let (head, tail) = (from.cast::<u64>().read_unaligned(), from.add(len - 8).cast::<u64>().read_unaligned());
            out.cast::<u64>().write_unaligned(head);
            out.add(len - 8).cast::<u64>().write_unaligned(tail);
        } else if len >= 4 {
            let (head, tail) = (from.cast::<u32>().read_unaligned(), from.add(len - 4).cast::<u32>().read_unaligned());
            out.cast::<u32>().write_unaligned(head);
            out.add(len - 4).cast::<u32>().write_unaligned(tail);
        } else if len > 0 {
            // 1 to 3 bytes: the first, the middle and the last (some the same).
            let (first, middle, last) = (*from, *from.add(len / 2), *from.add(len - 1));
            *out = first;
            *out.add(len / 2) = middle;
            *out.add(len - 1) = last;
        }
    }
}

/// Bytes that serialize as one byte string (a length and the bytes): what a `&str` or a
/// `&[u8]` argument, alone in its tuple, encodes to.
struct ByteString<'a>(&'a [u8]);

impl Serialize for ByteString<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Appends an `OK` outcome record whose value is an unsigned integer in postcard's encoding (a
/// varint; a signed one goes through [`zigzag`] first), written without serde: `#[task]` uses it
/// for functions that return `usize`, `u64`, `i32` and the like.
#[doc(hidden)]
#[inline]
pub fn append_varint_outcome(buffer: &mut Vec<u8>, value: u64) {
    if value < 0x80 {
        // The common case, a small value: a header byte and one value byte.
        buffer.extend_from_slice(&[1 << TAG_BITS | OK, value as u8]);
        return;
    }
    let mut bytes = [0; 10];
    let used = write_varint(value, &mut bytes);
    buffer.reserve(1 + used);
    // At most 10 payload bytes: the header is one byte.
    buffer.push((used as u8) << TAG_BITS | OK);
    for &byte in &bytes[..used] {
        buffer.push(byte);
    }
}

/// A signed integer as postcard encodes it before its varint: zigzag, so small magnitudes stay
/// short.
#[doc(hidden)]
#[inline]
pub fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[doc(hidden)]
#[inline]
pub fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Reads a postcard `u64` varint from the start of `bytes`: the value and the bytes it took.
#[inline]
fn read_varint_u64(bytes: &[u8]) -> Option<(u64, usize)> {
    let first = *bytes.first()?;
    if first < 0x80 {
        return Some((u64::from(first), 1));
    }
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte < 0x80 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Reads a postcard `usize` varint from the start of `bytes`: the value and the bytes it took.
#[inline]
pub(crate) fn read_length(bytes: &[u8]) -> Option<(usize, usize)> {
    let (value, used) = read_varint_u64(bytes)?;
    Some((usize::try_from(value).ok()?, used))
}

/// Appends one call's outcome record: `OK` and the output, or `FAILED` and the error (an output
/// that cannot be encoded fails its call with a serialization error).
#[inline]
pub(crate) fn append_outcome<O: Serialize>(buffer: &mut Vec<u8>, task: &str, outcome: Result<&O, &Error>) {
    let error = match outcome {
        Ok(output) => match append_record(buffer, OK, output, task, Side::Output) {
            Ok(()) => return,
            Err(error) => error,
        },
        Err(error) => return append_error(buffer, FAILED, error),
    };
    append_error(buffer, FAILED, &error);
}

/// Appends one call's `FAILED` outcome record with `error`.
pub(crate) fn append_failed_outcome(buffer: &mut Vec<u8>, error: &Error) {
    append_error(buffer, FAILED, error)
}

/// Outcomes in which each of `calls` calls failed with `error`: what a backend returns for a batch
/// it received but could not run, or whose outcomes it could not send back.
///
/// ```
/// use parapool::backend::wire;
/// use parapool::prelude::*;
/// let outcomes = wire::failed_outcomes(2, &Error::UnknownTask { name: "t".into() });
/// let mut reader = wire::Reader::new(&outcomes);
/// for _ in 0..2 {
///     assert!(matches!(reader.outcome::<u32>("t"), Err(Error::UnknownTask { .. })));
/// }
/// ```
pub fn failed_outcomes(calls: usize, error: &Error) -> Vec<u8> {
    let mut buffer = Vec::new();
    append_error(&mut buffer, FAILED, error);
    buffer.repeat(calls)
}

/// Reads the records of a packed buffer in order.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::backend::{registry, wire};
/// let calls = wire::encode_calls::<double>(&(), &[(1,), (2,)])?;
/// assert_eq!(wire::Reader::new(&calls.args).args::<(u32,)>(calls.task)?, (1,));
/// let outcomes = registry::run_batch(calls.task, &calls.kwargs, calls.calls, &calls.args);
/// let mut reader = wire::Reader::new(&outcomes);
/// assert_eq!(reader.outcome::<u32>(calls.task)?, 2);
/// assert_eq!(reader.outcome::<u32>(calls.task)?, 4);
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the first record of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// The next record's tag and payload; `None` when the buffer ends, is cut short or holds a
    /// header that is not one.
    #[inline]
    fn record(&mut self) -> Option<(u8, &'a [u8])> {
        let (header, used) = read_header(self.rest)?;
        let length = usize::try_from(header >> TAG_BITS).ok()?;
        let payload = self.rest.get(used..used.checked_add(length)?)?;
        self.rest = &self.rest[used + length..];
        Some(((header & 3) as u8, payload))
    }

    /// Decodes a record's payload, borrowing from it where `V` borrows.
    #[inline]
    fn decode<V: Deserialize<'a>>(payload: &'a [u8], task: &str, side: Side) -> Result<V, Error> {
        // postcard's deserializer used directly, so that decoding can inline into the caller.
        V::deserialize(&mut postcard::Deserializer::from_bytes(payload)).map_err(|e| Error::Serialization {
            task: task.to_owned(),
            side,
            message: e.to_string(),
        })
    }

    /// The error a missing or unexpected record stands for.
    #[cold]
    fn malformed(task: &str, what: &str) -> Error {
        Error::Backend { backend: "wire".into(), message: format!("task `{task}`: {what}") }
    }

    /// The next call's arguments (an arguments buffer), or the error that stands for them.
    /// Borrowed parts of `A` (`&str`, `&[u8]`) point into the buffer.
    #[inline]
    pub fn args<A: Deserialize<'a>>(&mut self, task: &str) -> Result<A, Error> {
        Self::decode(self.args_payload(task)?, task, Side::Args)
    }

    /// The next call's arguments decoded by `decode` (a faster path than serde for some
    /// argument kinds, see `param.rs`).
    #[inline]
    pub(crate) fn args_with<A>(
        &mut self,
        task: &str,
        decode: impl FnOnce(&'a [u8]) -> postcard::Result<A>,
    ) -> Result<A, Error> {
        decode(self.args_payload(task)?).map_err(|e| Error::Serialization {
            task: task.to_owned(),
            side: Side::Args,
            message: e.to_string(),
        })
    }

    /// The next arguments record's payload, or the error that stands for the call.
    #[inline]
    fn args_payload(&mut self, task: &str) -> Result<&'a [u8], Error> {
        self.payload(task, [ARGS, UNSENT], Side::Args, "the arguments end before this call")
    }

    /// The next call's outcome with its value skipped undecoded: `Ok(())`, or the call's error
    /// (for a caller that needs no value, such as a worker's initializer).
    pub fn skip_outcome(&mut self, task: &str) -> Result<(), Error> {
        self.outcome_payload(task).map(|_| ())
    }

    /// The next call's outcome when it is an integer written by [`append_varint_outcome`] (or by
    /// postcard: the same bytes), before converting to the task's output type.
    #[doc(hidden)]
    #[inline]
    pub fn varint_outcome(&mut self, task: &str) -> Result<u64, Error> {
        // The common case, an `OK` record of a one-byte varint (a value below 128): two bytes,
        // read without the general record and varint readers.
        if let [header, value, rest @ ..] = self.rest {
            if *header == (1 << TAG_BITS | OK) && *value < 0x80 {
                self.rest = rest;
                return Ok(u64::from(*value));
            }
        }
        self.varint_outcome_general(task)
    }

    /// [`varint_outcome`](Self::varint_outcome) for any record: out of line, so that the fast
    /// path above inlines into the caller's loop.
    #[inline(never)]
    fn varint_outcome_general(&mut self, task: &str) -> Result<u64, Error> {
        let payload = self.outcome_payload(task)?;
        match read_varint_u64(payload) {
            Some((value, used)) if used == payload.len() => Ok(value),
            _ => Err(Self::not_an_integer(task)),
        }
    }

    #[cold]
    fn not_an_integer(task: &str) -> Error {
        Error::Serialization {
            task: task.to_owned(),
            side: Side::Output,
            message: "the outcome is not an integer of the task's output type".into(),
        }
    }

    /// The next call's outcome (an outcomes buffer).
    #[inline]
    pub fn outcome<O: Deserialize<'a>>(&mut self, task: &str) -> Result<O, Error> {
        Self::decode(self.outcome_payload(task)?, task, Side::Output)
    }

    /// The next outcome record: the encoded output, or the call's error.
    #[inline]
    fn outcome_payload(&mut self, task: &str) -> Result<&'a [u8], Error> {
        self.payload(task, [OK, FAILED], Side::Output, "the backend returned fewer outcomes than calls")
    }

    /// The payload of the next record, which must be tagged `value` (returned) or `error` (a
    /// [`RemoteError`], returned as the call's error); `missing` says what an ended buffer means.
    #[inline]
    fn payload(&mut self, task: &str, [value, error]: [u8; 2], side: Side, missing: &str) -> Result<&'a [u8], Error> {
        // The common case, a value record with a one-byte header (a payload under 32 bytes),
        // read here; anything else goes through the general reader below, out of line.
        if let [header, rest @ ..] = self.rest {
            let length = usize::from(*header >> TAG_BITS);
            if *header < 0x80 && *header & 3 == value && length <= rest.len() {
                let (payload, rest) = rest.split_at(length);
                self.rest = rest;
                return Ok(payload);
            }
        }
        self.payload_general(task, [value, error], side, missing)
    }

    /// [`payload`](Self::payload) for any record.
    #[inline(never)]
    fn payload_general(
        &mut self,
        task: &str,
        [value, error]: [u8; 2],
        side: Side,
        missing: &str,
    ) -> Result<&'a [u8], Error> {
        match self.record() {
            Some((tag, payload)) if tag == value => Ok(payload),
            other => Err(Self::not_a_value(other, task, error, side, missing)),
        }
    }

    /// The error a record that holds no value stands for (kept out of the hot path).
    #[cold]
    fn not_a_value(record: Option<(u8, &'a [u8])>, task: &str, error: u8, side: Side, missing: &str) -> Error {
        match record {
            Some((tag, payload)) if tag == error => match Self::decode::<RemoteError>(payload, task, side) {
                Ok(remote) => remote.into(),
                Err(undecodable) => undecodable,
            },
            Some((tag, _)) => {
                let kind = if side == Side::Args { "an arguments" } else { "an outcome" };
                Self::malformed(task, &format!("{kind} record has tag {tag}"))
            }
            None => Self::malformed(task, missing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_fail_alone() {
        let mut args = Vec::new();
        append_args(&mut args, "t", &("a".to_owned(), 1u8));
        append_args(&mut args, "t", &("b".to_owned(), 2u8));
        let mut reader = Reader::new(&args);
        assert_eq!(reader.args::<(String, u8)>("t").unwrap(), ("a".to_owned(), 1));
        // A payload of the wrong type fails its call; the next record is still found.
        let mut reader = Reader::new(&args);
        assert!(matches!(reader.args::<(String, String)>("t"), Err(Error::Serialization { side: Side::Args, .. })));
        assert_eq!(reader.args::<(String, u8)>("t").unwrap(), ("b".to_owned(), 2));
        assert!(matches!(reader.args::<(String, u8)>("t"), Err(Error::Backend { .. })));
    }

    #[test]
    fn byte_arguments_written_directly_read_as_postcard_wrote_them() {
        // Every short length (each width of the short copy), then the longer encodings.
        for len in (0usize..=40).chain([127, 128, 5000]) {
            let text = "e".repeat(len);
            let (mut direct, mut serde) = (Vec::new(), Vec::new());
            append_bytes_args(&mut direct, "t", text.as_bytes());
            append_args(&mut serde, "t", &(text.as_str(),));
            assert_eq!(direct, serde, "length {len}");
            assert_eq!(Reader::new(&direct).args::<(String,)>("t").unwrap().0, text);
        }
    }

    #[test]
    fn integer_outcomes_written_directly_read_as_postcard_wrote_them() {
        for value in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let (mut direct, mut serde) = (Vec::new(), Vec::new());
            append_varint_outcome(&mut direct, value);
            append_outcome(&mut serde, "t", Ok(&value));
            assert_eq!(direct, serde, "{value}");
            assert_eq!(Reader::new(&direct).varint_outcome("t").unwrap(), value);
            assert_eq!(Reader::new(&direct).outcome::<u64>("t").unwrap(), value);
        }
        for value in [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX] {
            let (mut direct, mut serde) = (Vec::new(), Vec::new());
            append_varint_outcome(&mut direct, zigzag(value));
            append_outcome(&mut serde, "t", Ok(&value));
            assert_eq!(direct, serde, "{value}");
            assert_eq!(unzigzag(Reader::new(&direct).varint_outcome("t").unwrap()), value);
        }
        let mut text = Vec::new();
        append_outcome(&mut text, "t", Ok(&"not a number".to_owned()));
        assert!(matches!(Reader::new(&text).varint_outcome("t"), Err(Error::Serialization { .. })));
    }

    #[test]
    fn short_records_read_in_place_and_long_ones_in_general() {
        // Outcomes: one-byte values (the fast path), then longer varints, a long payload and an
        // error, in one buffer; every record is found in turn.
        let mut outcomes = Vec::new();
        for value in [0u64, 127, 128, u64::MAX, 5] {
            append_varint_outcome(&mut outcomes, value);
        }
        append_outcome(&mut outcomes, "t", Ok(&"x".repeat(40)));
        append_failed_outcome(&mut outcomes, &Error::UnknownTask { name: "n".into() });
        append_varint_outcome(&mut outcomes, 1);
        let mut reader = Reader::new(&outcomes);
        for value in [0u64, 127, 128, u64::MAX, 5] {
            assert_eq!(reader.varint_outcome("t").unwrap(), value);
        }
        assert_eq!(reader.outcome::<String>("t").unwrap(), "x".repeat(40));
        assert!(matches!(reader.varint_outcome("t"), Err(Error::UnknownTask { .. })));
        assert_eq!(reader.varint_outcome("t").unwrap(), 1);
        assert!(matches!(reader.varint_outcome("t"), Err(Error::Backend { .. })));
        // An outcome record where arguments are expected is an error, not a value.
        assert!(matches!(Reader::new(&outcomes).args::<(u8,)>("t"), Err(Error::Backend { .. })));
        // A record cut short is not read past the buffer.
        assert!(matches!(Reader::new(&[(3 << TAG_BITS) | OK, 1]).varint_outcome("t"), Err(Error::Backend { .. })));
    }

    #[test]
    fn unencodable_arguments_travel_as_their_error() {
        struct Refuses;
        impl Serialize for Refuses {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let mut args = Vec::new();
        append_args(&mut args, "t", &(Refuses,));
        append_args(&mut args, "t", &(7u32,));
        let mut reader = Reader::new(&args);
        assert!(matches!(reader.args::<(u32,)>("t"), Err(Error::Serialization { side: Side::Args, .. })));
        assert_eq!(reader.args::<(u32,)>("t").unwrap(), (7,));
    }

    #[test]
    fn outcomes_carry_values_and_errors() {
        let mut outcomes = Vec::new();
        append_outcome(&mut outcomes, "t", Ok(&5u32));
        let panicked = Error::Panicked { task: "t".into(), message: "m".into(), location: Some("f:1:2".into()) };
        append_outcome::<u32>(&mut outcomes, "t", Err(&panicked));
        let mut reader = Reader::new(&outcomes);
        assert_eq!(reader.outcome::<u32>("t").unwrap(), 5);
        assert_eq!(reader.outcome::<u32>("t").unwrap_err(), panicked);
        assert!(matches!(reader.outcome::<u32>("t"), Err(Error::Backend { .. })));
        let mut skipping = Reader::new(&outcomes);
        assert_eq!(skipping.skip_outcome("t"), Ok(()));
        assert_eq!(skipping.skip_outcome("t"), Err(panicked));
    }

    #[test]
    fn a_cut_buffer_fails_the_calls_it_lost() {
        let mut outcomes = Vec::new();
        append_outcome(&mut outcomes, "t", Ok(&"long enough".to_owned()));
        append_outcome(&mut outcomes, "t", Ok(&"long enough".to_owned()));
        outcomes.truncate(outcomes.len() - 3);
        let mut reader = Reader::new(&outcomes);
        assert_eq!(reader.outcome::<String>("t").unwrap(), "long enough");
        assert!(matches!(reader.outcome::<String>("t"), Err(Error::Backend { .. })));
    }

    #[test]
    fn errors_cross_the_wire() {
        let errors = [
            Error::Panicked { task: "t".into(), message: "m".into(), location: Some("f:1:2".into()) },
            Error::Serialization { task: "t".into(), side: Side::Output, message: "m".into() },
            Error::Serialization { task: "t".into(), side: Side::Args, message: "m".into() },
            Error::UnknownTask { name: "n".into() },
            Error::Backend { backend: "b".into(), message: "m".into() },
        ];
        for error in errors {
            let remote: RemoteError =
                postcard::from_bytes(&postcard::to_stdvec(&RemoteError::from(&error)).unwrap()).unwrap();
            assert_eq!(Error::from(remote), error);
        }
        assert!(matches!(Error::from(RemoteError::from(&Error::Closed)), Error::Backend { .. }));
    }
}
