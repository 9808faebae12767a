//! The process backend's transport, for the shared remote-worker layer
//! ([`parapool_core::backend::remote`]): the [`ProcessConnector`] starts a child (the current
//! executable again), checks its handshake and runs the initializer; the [`ProcessLink`] writes
//! batches to the child's request pipe; a reader thread per child decodes the results from its
//! result pipe into the child's [`InFlight`] window and, when the child goes away, reaps it and
//! reports the loss. Dispatch, the in-flight bound, retries and shutdown are the layer's.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use parapool_core::backend::remote::{Connector, InFlight, SendError, WorkerLink};
use parapool_core::backend::{wire, EncodedCalls, Shutdown};
use parapool_core::Error;

use super::child::Child;
use super::frame::{decode, frame_prefix, read_frame_into, write_all_two, write_frame, write_frame_with_tail, HEADER};
use super::protocol::{check_hello, BuildId, DeadlineReader, Request, Response};
use super::spawn::spawn_worker;
use super::{Initializer, ProcessOptions};

/// The backend's name in errors.
const BACKEND: &str = "process";

pub(crate) fn backend_error(message: String) -> Error {
    Error::Backend { backend: BACKEND.into(), message }
}

/// Starts worker processes: what every child of one pool is started with.
#[derive(Debug)]
pub(crate) struct ProcessConnector {
    pub(crate) exe: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) token: String,
    pub(crate) build: BuildId,
    pub(crate) options: ProcessOptions,
}

/// A connected child: its process, its request pipe and its reader thread.
pub(crate) struct ProcessLink {
    child: Arc<Child>,
    in_flight: Arc<InFlight>,
    writer: Option<File>,
    reader: Option<JoinHandle<()>>,
    options: ProcessOptions,
}

impl Connector for ProcessConnector {
    type Link = ProcessLink;

    fn name(&self) -> &'static str {
        BACKEND
    }

    /// Starts worker `index` and checks its handshake (and runs the initializer, if any).
    fn connect(&self, index: usize, in_flight: Arc<InFlight>) -> Result<ProcessLink, Error> {
        let spawned = spawn_worker(&self.exe, &self.args, &self.token, self.options.max_frame)
            .map_err(|e| backend_error(format!("starting worker {index} ({}): {e}", self.exe.display())))?;
        let pid = spawned.pid;
        trace_event!(tracing::Level::DEBUG, backend = "process", worker = index, pid, "worker process started");
        let child = Arc::new(Child::new(pid));
        let fail = |message: String| {
            child.signal(libc::SIGKILL);
            child.reap(self.options.grace);
            Err(backend_error(message))
        };
        let mut handshake =
            DeadlineReader { file: &spawned.from_child, deadline: Instant::now() + self.options.handshake_timeout };
        if let Err(message) = check_hello(&mut handshake, &self.token, &self.build) {
            return fail(format!("worker {index} (pid {pid}): {message}"));
        }
        if let Some(init) = &self.options.initializer {
            if let Err(message) = run_initializer(init, &spawned.to_child, &spawned.from_child, self.options.max_frame)
            {
                return fail(format!("worker {index} (pid {pid}): the initializer `{}` {message}", init.task));
            }
        }
        let reader = {
            let child = Arc::clone(&child);
            let in_flight = Arc::clone(&in_flight);
            let from_child = spawned.from_child;
            let options = self.options.clone();
            std::thread::Builder::new()
                .name(format!("parapool-process-reader-{index}"))
                .spawn(move || read_results(&child, &in_flight, from_child, &options))
        };
        match reader {
            Ok(reader) => Ok(ProcessLink {
                child,
                in_flight,
                writer: Some(spawned.to_child),
                reader: Some(reader),
                options: self.options.clone(),
            }),
            Err(e) => fail(format!("starting the reader thread of worker {index}: {e}")),
        }
    }
}

impl WorkerLink for ProcessLink {
    /// Writes the batch as one frame: the prefix, then the arguments as its tail, straight from
    /// the job's encoding. A frame over `max_frame` is refused; a failed write kills the child
    /// (its reader then reports the loss).
    fn send(&mut self, id: u64, calls: &EncodedCalls) -> Result<usize, SendError> {
        let task = calls.task;
        let request = Request::Batch { id, task, kwargs: &calls.kwargs, calls: calls.calls as u64, args: &[] };
        let prefix = frame_prefix(&request, calls.args.len(), self.options.max_frame)
            .map_err(|e| SendError::Refused(backend_error(format!("task `{task}`: {e}"))))?;
        match self.writer.as_mut().map(|w| write_all_two(w, &prefix, &calls.args)) {
            Some(Ok(())) => Ok(prefix.len() + calls.args.len()),
            _ => {
                // The child cannot take requests: kill it; its reader fails what it held.
                self.child.signal(libc::SIGKILL);
                Err(SendError::Broken)
            }
        }
    }

    /// Stops the child: `Drain` asks it to exit (it has answered everything by now), `Terminate`
    /// sends SIGTERM; either way SIGKILL after the grace period. Returns once the child is
    /// reaped and its reader joined (which reported the end).
    fn close(mut self, mode: Shutdown) {
        if let Some(mut writer) = self.writer.take() {
            if mode == Shutdown::Drain {
                let _ = write_frame(&mut writer, &Request::Shutdown, self.options.max_frame);
            }
        }
        if mode == Shutdown::Terminate {
            self.child.signal(libc::SIGTERM);
        }
        if !self.in_flight.wait_lost(self.options.grace) {
            self.child.signal(libc::SIGKILL);
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Runs the initializer on a new worker and waits for its outcome.
fn run_initializer(init: &Initializer, to_child: &File, from_child: &File, max_frame: usize) -> Result<(), String> {
    let request = Request::Batch { id: u64::MAX, task: init.task, kwargs: &init.kwargs, calls: 1, args: &[] };
    write_frame_with_tail(&mut &*to_child, &request, &init.args, max_frame)
        .map_err(|e| format!("could not be sent: {e}"))?;
    let mut buffer = Vec::new();
    let response = read_frame_into(&mut &*from_child, max_frame, &mut buffer).and_then(|f| f.map(decode).transpose());
    match response {
        Ok(Some(Response::Results { id: u64::MAX, outcomes })) => {
            match wire::Reader::new(outcomes).skip_outcome(init.task) {
                Ok(_) => Ok(()),
                Err(e) => Err(format!("failed: {e}")),
            }
        }
        Ok(Some(Response::Results { id, .. })) => Err(format!("got the results of batch {id}")),
        Ok(Some(Response::Failed { message, .. })) => Err(format!("failed: {message}")),
        Ok(None) => Err("ended the worker".into()),
        Err(e) => Err(format!("failed: {e}")),
    }
}

/// The reader thread: completes jobs from the child's results; when the child goes away (or
/// breaks the protocol, and is killed for it), reaps it and reports the loss.
fn read_results(child: &Child, in_flight: &InFlight, mut from_child: File, options: &ProcessOptions) {
    in_flight.mark_receiving_thread();
    // One frame buffer for the life of the child: results are decoded in place.
    let mut buffer = Vec::new();
    let broken = loop {
        let frame = read_frame_into(&mut from_child, options.max_frame, &mut buffer).and_then(|frame| {
            if let Some(frame) = frame {
                in_flight.received(HEADER + frame.len());
            }
            frame.map(decode::<Response>).transpose()
        });
        let answered = match frame {
            Ok(Some(Response::Results { id, outcomes })) => in_flight.answered(id, outcomes),
            Ok(Some(Response::Failed { id, message })) => in_flight.refused(id, backend_error(message.to_owned())),
            Ok(None) => break None,
            Err(e) => break Some(format!("protocol error: {e}")),
        };
        if let Err(unknown) = answered {
            break Some(format!("protocol error: {unknown}"));
        }
    };
    if broken.is_some() {
        child.signal(libc::SIGKILL);
    }
    let status = child.reap(options.grace);
    let cause = match broken {
        Some(broken) => format!("{broken}; the worker {status}"),
        None => status,
    };
    trace_event!(tracing::Level::DEBUG, backend = "process", worker = in_flight.worker(), pid = child.pid, cause = %cause, "worker process ended");
    in_flight.lost(&cause);
}
