//! What the fuzz targets in `fuzz/` drive: the process backend's untrusted inputs — the frames a
//! peer writes, the requests a worker reads — fed from bytes instead of pipes. Not a public API.

use super::frame::{decode, read_frame_into};
use super::protocol::{Request, Response};
use super::worker::serve_requests;

/// Reads frames from `bytes` until the end or an error, decoding each as a request and as a
/// response (both sides read frames). Must neither panic nor allocate beyond `max_frame`.
pub fn read_frames(bytes: &[u8], max_frame: usize) {
    let mut input = bytes;
    let mut buffer = Vec::new();
    while let Ok(Some(frame)) = read_frame_into(&mut input, max_frame, &mut buffer) {
        let _ = decode::<Request<'_>>(frame);
        let _ = decode::<Response<'_>>(frame);
    }
}

/// Runs a worker's request loop over `bytes` as the request stream, answers discarded. Must
/// neither panic nor hang (the stream ends with the bytes).
pub fn serve(bytes: &[u8], max_frame: usize) {
    let mut input = bytes;
    let _ = serve_requests(&mut input, &mut std::io::sink(), max_frame);
}
