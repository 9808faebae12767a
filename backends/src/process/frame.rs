//! Length-prefixed frames: a `u32` little-endian length, then that many bytes of postcard.
//!
//! A reader checks the length against a maximum *before* allocating, so a corrupt or hostile
//! length can never make it allocate more than the maximum; a stream that ends inside a frame is
//! an error, never a hang on data that will not come.

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The default largest frame, in bytes (64 MiB).
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Bytes of the length prefix.
pub(crate) const HEADER: usize = 4;

/// What can go wrong reading or writing a frame.
#[derive(Debug)]
pub enum FrameError {
    /// The pipe failed.
    Io(io::Error),
    /// The stream ended inside a frame.
    Truncated {
        /// Bytes the frame (or its header) needed.
        expected: usize,
        /// Bytes that arrived.
        got: usize,
    },
    /// A frame's length is larger than the configured maximum.
    TooLarge {
        /// The length announced or produced.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The payload is not a valid message.
    Malformed(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Io(e) => write!(f, "pipe error: {e}"),
            FrameError::Truncated { expected, got } => {
                write!(f, "the stream ended inside a frame ({got} of {expected} bytes)")
            }
            FrameError::TooLarge { len, max } => write!(
                f,
                "a frame of {len} bytes exceeds the maximum of {max} bytes (use a smaller chunksize, or raise max_frame)"
            ),
            FrameError::Malformed(message) => write!(f, "malformed frame: {message}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> Self {
        FrameError::Io(e)
    }
}

/// Encodes `message` as one complete frame (header included), refusing payloads above `max`.
pub fn encode_frame<T: Serialize + ?Sized>(message: &T, max: usize) -> Result<Vec<u8>, FrameError> {
    let buffer = postcard::to_extend(message, vec![0u8; HEADER]).map_err(|e| FrameError::Malformed(e.to_string()))?;
    let len = buffer.len() - HEADER;
    if len > max || u32::try_from(len).is_err() {
        return Err(FrameError::TooLarge { len, max });
    }
    let mut buffer = buffer;
    buffer[..HEADER].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(buffer)
}

/// Encodes and writes one frame.
pub fn write_frame<T: Serialize + ?Sized>(out: &mut impl Write, message: &T, max: usize) -> Result<(), FrameError> {
    let frame = encode_frame(message, max)?;
    out.write_all(&frame)?;
    Ok(())
}

/// The start of a frame holding `message` whose last field is a byte string (`serde_bytes`) left
/// empty in `message`, and is a tail of `tail_len` bytes in the frame: the length header and the
/// message, with the empty field's length (its last byte, a zero) replaced by `tail_len`. Writing
/// this, then the tail, sends the frame without copying the tail; the receiver decodes it as the
/// message with that field filled.
pub fn frame_prefix<T: Serialize + ?Sized>(message: &T, tail_len: usize, max: usize) -> Result<Vec<u8>, FrameError> {
    let malformed = |e: postcard::Error| FrameError::Malformed(e.to_string());
    let mut prefix = postcard::to_extend(message, vec![0u8; HEADER]).map_err(malformed)?;
    assert_eq!(prefix.pop(), Some(0), "the message must end with an empty byte string");
    let mut prefix = postcard::to_extend(&tail_len, prefix).map_err(malformed)?;
    let len = prefix.len() - HEADER + tail_len;
    if len > max || u32::try_from(len).is_err() {
        return Err(FrameError::TooLarge { len, max });
    }
    prefix[..HEADER].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(prefix)
}

/// Writes the frame of [`frame_prefix`]: the prefix, then `tail`.
pub fn write_frame_with_tail<T: Serialize + ?Sized>(
    out: &mut impl Write,
    message: &T,
    tail: &[u8],
    max: usize,
) -> Result<(), FrameError> {
    let prefix = frame_prefix(message, tail.len(), max)?;
    write_all_two(out, &prefix, tail)?;
    Ok(())
}

/// Writes `first` then `second`, both in one vectored write where the output takes them at once
/// (a pipe with room): a reader waiting for the whole frame then wakes once, not once for the
/// prefix and again for the tail, and the writer makes one system call instead of two.
pub fn write_all_two(out: &mut impl Write, first: &[u8], second: &[u8]) -> io::Result<()> {
    let mut first = first;
    while !first.is_empty() {
        let written = match out.write_vectored(&[io::IoSlice::new(first), io::IoSlice::new(second)]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "failed to write whole buffer")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if written >= first.len() {
            let rest = written - first.len();
            return out.write_all(&second[rest..]);
        }
        first = &first[written..];
    }
    out.write_all(second)
}

/// Reads as many bytes as fit in `buf`, stopping early only at the end of the stream.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads one frame's payload. `Ok(None)` is a clean end of stream (between frames).
pub fn read_frame(input: &mut impl Read, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut payload = Vec::new();
    let Some(len) = read_frame_into(input, max, &mut payload)?.map(<[u8]>::len) else { return Ok(None) };
    payload.truncate(len);
    Ok(Some(payload))
}

/// Reads one frame's payload into `buffer` (reused from frame to frame: it only grows, and only
/// its growth is zeroed) and returns it. `Ok(None)` is a clean end of stream (between frames).
pub fn read_frame_into<'b>(
    input: &mut impl Read,
    max: usize,
    buffer: &'b mut Vec<u8>,
) -> Result<Option<&'b [u8]>, FrameError> {
    let mut header = [0u8; HEADER];
    match read_full(input, &mut header)? {
        0 => return Ok(None),
        HEADER => {}
        got => return Err(FrameError::Truncated { expected: HEADER, got }),
    }
    let len = u32::from_le_bytes(header) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    if buffer.len() < len {
        buffer.resize(len, 0);
    }
    let got = read_full(input, &mut buffer[..len])?;
    if got < len {
        return Err(FrameError::Truncated { expected: len, got });
    }
    Ok(Some(&buffer[..len]))
}

/// Decodes a frame's payload as a message that may borrow from it.
pub fn decode<'b, T: serde::Deserialize<'b>>(payload: &'b [u8]) -> Result<T, FrameError> {
    postcard::from_bytes(payload).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Reads and decodes one message. `Ok(None)` is a clean end of stream.
pub fn read_message<T: DeserializeOwned>(input: &mut impl Read, max: usize) -> Result<Option<T>, FrameError> {
    match read_frame(input, max)? {
        None => Ok(None),
        Some(payload) => postcard::from_bytes(&payload).map(Some).map_err(|e| FrameError::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut pipe = Vec::new();
        write_frame(&mut pipe, &(7u32, "seven".to_string()), 1024).unwrap();
        write_frame(&mut pipe, &vec![1u8, 2, 3], 1024).unwrap();
        let mut input = &pipe[..];
        assert_eq!(read_message::<(u32, String)>(&mut input, 1024).unwrap(), Some((7, "seven".into())));
        assert_eq!(read_message::<Vec<u8>>(&mut input, 1024).unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(read_message::<Vec<u8>>(&mut input, 1024).unwrap(), None);
    }

    #[test]
    fn a_tail_is_written_after_its_message_and_decodes_in_place() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Batch<'a> {
            id: u64,
            #[serde(with = "serde_bytes")]
            body: &'a [u8],
        }
        let body: Vec<u8> = (0..=255).collect();
        let mut pipe = Vec::new();
        write_frame_with_tail(&mut pipe, &Batch { id: 9, body: &[] }, &body, 1024).unwrap();
        write_frame_with_tail(&mut pipe, &Batch { id: 10, body: &[] }, &[], 1024).unwrap();
        let mut input = &pipe[..];
        let mut buffer = Vec::new();
        let frame = read_frame_into(&mut input, 1024, &mut buffer).unwrap().unwrap();
        assert_eq!(decode::<Batch>(frame).unwrap(), Batch { id: 9, body: &body });
        let frame = read_frame_into(&mut input, 1024, &mut buffer).unwrap().unwrap();
        assert_eq!(decode::<Batch>(frame).unwrap(), Batch { id: 10, body: &[] });
        assert_eq!(read_frame_into(&mut input, 1024, &mut buffer).unwrap(), None);
        let err = write_frame_with_tail(&mut Vec::new(), &Batch { id: 1, body: &[] }, &body, 100).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { max: 100, .. }), "{err}");
    }

    #[test]
    fn truncated_header_and_payload_are_errors() {
        let mut input: &[u8] = &[5, 0];
        assert!(matches!(read_frame(&mut input, 64), Err(FrameError::Truncated { expected: 4, got: 2 })));
        let mut input: &[u8] = &[5, 0, 0, 0, 1, 2];
        assert!(matches!(read_frame(&mut input, 64), Err(FrameError::Truncated { expected: 5, got: 2 })));
    }

    #[test]
    fn oversized_length_is_refused_before_allocating() {
        // u32::MAX would be a 4 GiB allocation if it were trusted.
        let mut input: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0];
        match read_frame(&mut input, DEFAULT_MAX_FRAME) {
            Err(FrameError::TooLarge { len, max }) => {
                assert_eq!(len, u32::MAX as usize);
                assert_eq!(max, DEFAULT_MAX_FRAME);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn oversized_message_is_refused_when_writing() {
        let mut pipe = Vec::new();
        let err = write_frame(&mut pipe, &vec![0u8; 100], 50).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { max: 50, .. }), "{err}");
        assert!(pipe.is_empty());
    }

    #[test]
    fn garbage_payload_is_malformed() {
        let mut input: &[u8] = &[2, 0, 0, 0, 0xff, 0xff];
        let err = read_message::<(u64, String)>(&mut input, 64).unwrap_err();
        assert!(matches!(err, FrameError::Malformed(_)), "{err}");
        assert!(err.to_string().contains("malformed"));
    }
}
