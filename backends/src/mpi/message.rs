//! The two halves of moving frames as MPI messages, shared by rank 0 and the worker ranks:
//! [`PendingSend`], a frame being sent without blocking, and [`receive_into`], a probed message
//! received into a buffer that is reused from one message to the next.

use mpi::point_to_point::{Message, Status};
use mpi::request::{Request as MpiRequest, StaticScope};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::TAG_FRAME;

/// A frame being sent without blocking. A blocking send of a large frame waits until the
/// receiver takes it (MPI's rendezvous protocol, beyond a few KiB): on rank 0 that deadlocked
/// with a worker sending a large result at the same time, and on a worker rank it held the next
/// batch back until rank 0 came round to the result. So both sides only start sends, and go on
/// receiving while they complete.
pub(crate) struct PendingSend {
    request: Option<MpiRequest<'static, [u8], StaticScope>>,
    /// The frame, leaked for as long as MPI may read it; freed once the request completed.
    buffer: *mut [u8],
}

impl PendingSend {
    /// Starts sending `frame` to `rank` (tag [`TAG_FRAME`]).
    pub(crate) fn start(world: &SimpleCommunicator, rank: i32, frame: Vec<u8>) -> Self {
        let buffer: &'static mut [u8] = Box::leak(frame.into_boxed_slice());
        let pointer: *mut [u8] = buffer;
        // SAFETY: `pointer` comes from the leaked box just above; the shared reference made from
        // it lives as long as the request, and the box is only rebuilt (and freed) in `done`,
        // after MPI reported the request complete, so nothing writes or frees it meanwhile.
        let frame: &'static [u8] = unsafe { &*pointer };
        let request = world.process_at_rank(rank).immediate_send_with_tag(StaticScope, frame, TAG_FRAME);
        PendingSend { request: Some(request), buffer: pointer }
    }

    /// Whether the send has completed (its buffer then freed).
    pub(crate) fn done(&mut self) -> bool {
        let Some(request) = self.request.take() else { return true };
        match request.test() {
            Ok(_) => {
                // SAFETY: the request completed, so MPI no longer reads the buffer; it was leaked
                // from a box in `start` and is rebuilt and freed here, once.
                drop(unsafe { Box::from_raw(self.buffer) });
                true
            }
            Err(request) => {
                self.request = Some(request);
                false
            }
        }
    }
}

/// Receives a probed message of bytes into `buffer` (resized to fit; its capacity stays for the
/// next message, so a steady stream of batches allocates nothing).
pub(crate) fn receive_into(message: Message, status: Status, buffer: &mut Vec<u8>) -> Status {
    let len = usize::try_from(status.count(u8::equivalent_datatype())).unwrap_or(0);
    // The receive overwrites all `len` bytes: only a buffer that grows is filled first.
    buffer.resize(len, 0);
    message.matched_receive_into(&mut buffer[..])
}
