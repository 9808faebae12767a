//! The dispatcher of one remote worker: on its own thread it takes jobs from the shared
//! scheduler, encodes each as a batch, waits for room in the worker's window and sends it
//! through the transport; it starts a new worker when the last one was lost, and retires one
//! after `max_tasks_per_child` batches.

use std::sync::Arc;

use super::in_flight::InFlight;
use super::{Connector, RemoteShared, SendError, WorkerLink};
use crate::backend::Shutdown;
use crate::job::Job;

/// A connected worker: the transport's link and the worker's window.
struct Connection<L> {
    link: L,
    in_flight: Arc<InFlight>,
}

/// Sends jobs to one worker slot, restarting its worker when it is lost.
pub(crate) struct Dispatcher<C: Connector> {
    index: usize,
    shared: Arc<RemoteShared>,
    connector: Arc<C>,
    conn: Option<Connection<C::Link>>,
    next_id: u64,
    /// Batches sent to the current worker (for `max_tasks_per_child`).
    sent: usize,
}

impl<C: Connector> Dispatcher<C> {
    /// The dispatcher of slot `index`, with its first worker already connected.
    pub(crate) fn new(
        index: usize,
        shared: Arc<RemoteShared>,
        connector: Arc<C>,
        first: (C::Link, Arc<InFlight>),
    ) -> Self {
        let (link, in_flight) = first;
        Dispatcher { index, shared, connector, conn: Some(Connection { link, in_flight }), next_id: 0, sent: 0 }
    }

    /// The live connection, starting a new worker if the last one was lost.
    fn connection(&mut self) -> Result<&mut Connection<C::Link>, crate::Error> {
        if self.conn.as_ref().is_some_and(|c| c.in_flight.is_lost()) {
            if let Some(old) = self.conn.take() {
                close(old, Shutdown::Terminate);
            }
        }
        if self.conn.is_none() {
            let (link, in_flight) = connect(&*self.connector, self.index, &self.shared)?;
            self.conn = Some(Connection { link, in_flight });
            self.sent = 0;
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Encodes `job` and sends it, waiting while the worker's window is full.
    pub(crate) fn dispatch(&mut self, job: Job) {
        if self.shared.terminating() {
            return drop(job); // cancels its calls
        }
        let calls = match job.encode() {
            Ok(calls) => calls,
            Err(error) => return job.fail(error),
        };
        let id = self.next_id;
        self.next_id += 1;
        let max_in_flight = self.shared.policy.max_in_flight;
        let shared = Arc::clone(&self.shared);
        let mut job = Some(job);
        loop {
            if shared.terminating() {
                return drop(job); // cancels its calls
            }
            let conn = match self.connection() {
                Ok(conn) => conn,
                Err(error) => return job.take().expect("not yet sent").fail(error),
            };
            let mut window = conn.in_flight.wait_for_room(max_in_flight);
            if window.lost || shared.terminating() {
                continue; // a new worker, or cancellation, at the top of the loop
            }
            conn.in_flight.insert(&mut window, id, job.take().expect("sent once"));
            drop(window);
            match conn.link.send(id, &calls) {
                Ok(bytes) => shared.counters.sent(bytes),
                Err(SendError::Refused(error)) => {
                    // The worker never saw it: this job fails alone.
                    if let Some(job) = conn.in_flight.take(id, false) {
                        job.fail(error);
                    }
                    return;
                }
                // The transport stops the worker; its end fails (or retries) what it held.
                Err(SendError::Broken) => {}
            }
            self.sent += 1;
            if shared.policy.max_tasks_per_child.is_some_and(|max| self.sent >= max) {
                // Retire this worker once it has answered; the next job starts a new one.
                if let Some(conn) = self.conn.take() {
                    close(conn, Shutdown::Drain);
                }
                return;
            }
            // Take the next job only when this worker has room for it: a dispatcher that took a
            // job and then waited would hold it while another worker sits idle.
            if let Some(conn) = self.conn.as_ref() {
                drop(conn.in_flight.wait_for_room(max_in_flight));
            }
            return;
        }
    }

    /// After the dispatch loop: stops the worker (gracefully unless the pool is terminating),
    /// then sends any job that came back late (a retry) before returning.
    pub(crate) fn finish(mut self) {
        loop {
            if let Some(conn) = self.conn.take() {
                let mode = if self.shared.terminating() { Shutdown::Terminate } else { Shutdown::Drain };
                close(conn, mode);
            }
            // Closing waited for this worker's end, so a job it gave back (a retry) is in the
            // scheduler by now; if the other dispatchers have stopped, nobody else will take it.
            match self.shared.scheduler.take_injected() {
                Some(job) => self.dispatch(job),
                None => return,
            }
        }
    }
}

/// Starts worker `index` with a new window.
pub(crate) fn connect<C: Connector>(
    connector: &C,
    index: usize,
    shared: &Arc<RemoteShared>,
) -> Result<(C::Link, Arc<InFlight>), crate::Error> {
    let in_flight = InFlight::new(index, Arc::clone(shared));
    let link = connector.connect(index, Arc::clone(&in_flight))?;
    shared.counters.worker_started();
    Ok((link, in_flight))
}

/// Stops a worker: `Drain` once it has answered every batch it holds, `Terminate` at once.
/// Returns when the transport has reported its end.
fn close<L: WorkerLink>(conn: Connection<L>, mode: Shutdown) {
    if mode == Shutdown::Drain {
        drop(conn.in_flight.wait_for_room(1)); // until nothing is in flight
    }
    let mode = if conn.in_flight.pool_terminating() { Shutdown::Terminate } else { mode };
    conn.in_flight.closing();
    conn.link.close(mode);
}
