//! The `mpi` backend's transport for the shared remote-worker layer: a worker slot is a worker
//! rank (slot `i` is rank `i + 1`); connecting attaches the rank's results to the slot's window
//! on the MPI thread, sending queues a frame for the MPI thread to send, closing detaches the rank
//! (which stays up for the next pool).

use std::sync::Arc;
use std::time::Duration;

use parapool_core::backend::remote::{Connector, InFlight, SendError, WorkerLink};
use parapool_core::backend::{EncodedCalls, Shutdown};
use parapool_core::Error;

use super::mpi_error;
use super::runtime::{Command, Runtime, EPOCH_SHIFT};
use crate::process::frame::frame_prefix;
use crate::process::protocol::Request;

/// Attaches worker ranks of the MPI job.
#[derive(Clone)]
pub(crate) struct MpiConnector {
    pub(crate) runtime: Arc<Runtime>,
}

/// One attached worker rank.
pub(crate) struct MpiLink {
    runtime: Arc<Runtime>,
    rank: i32,
    epoch: u64,
    in_flight: Arc<InFlight>,
}

impl Connector for MpiConnector {
    type Link = MpiLink;

    fn name(&self) -> &'static str {
        "mpi"
    }

    fn connect(&self, worker: usize, in_flight: Arc<InFlight>) -> Result<MpiLink, Error> {
        let rank = i32::try_from(worker + 1).map_err(|_| mpi_error(format!("no rank for worker {worker}")))?;
        let epoch = self.runtime.new_epoch();
        if epoch >= 1 << (64 - EPOCH_SHIFT) {
            return Err(mpi_error("too many worker attachments in one program".into()));
        }
        self.runtime.send(Command::Attach { rank, epoch, in_flight: Arc::clone(&in_flight) })?;
        trace_event!(tracing::Level::DEBUG, backend = "mpi", worker, rank, "worker rank attached");
        Ok(MpiLink { runtime: Arc::clone(&self.runtime), rank, epoch, in_flight })
    }
}

impl WorkerLink for MpiLink {
    /// One message per batch: the process protocol's frame, the arguments copied after its
    /// prefix (an MPI send takes one buffer).
    fn send(&mut self, id: u64, calls: &EncodedCalls) -> Result<usize, SendError> {
        let task = calls.task;
        let wire_id = (self.epoch << EPOCH_SHIFT) | id;
        let request = Request::Batch { id: wire_id, task, kwargs: &calls.kwargs, calls: calls.calls as u64, args: &[] };
        let mut frame = frame_prefix(&request, calls.args.len(), i32::MAX as usize)
            .map_err(|e| SendError::Refused(mpi_error(format!("task `{task}`: {e}"))))?;
        frame.extend_from_slice(&calls.args);
        let bytes = frame.len();
        self.runtime.send(Command::Send { rank: self.rank, frame }).map_err(SendError::Refused)?;
        Ok(bytes)
    }

    /// Detaches the rank; its window learns that the worker left (failing what it still holds,
    /// as terminated, after a `terminate`: a rank cannot be stopped mid-task, so it finishes the
    /// batch it runs and its late answer is dropped).
    fn close(self, mode: Shutdown) {
        let cause = match mode {
            Shutdown::Drain => "the pool released the rank",
            Shutdown::Terminate => "the pool was terminated",
        };
        if self.runtime.send(Command::Detach { rank: self.rank, epoch: self.epoch, cause }).is_err() {
            self.in_flight.lost("the MPI thread has ended");
        }
        while !self.in_flight.wait_lost(Duration::from_secs(1)) {}
    }
}
