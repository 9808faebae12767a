//! Tasks by name. `#[task]` submits a [`TaskEntry`] to this registry with `inventory`, so a
//! worker process (the same binary, re-executed) can look a task up by its stable name, decode
//! its arguments, run it and encode its output.
//!
//! A binary sees the tasks of every crate it links. A test binary that uses tasks defined in a
//! library must link that library (`use the_lib as _;` is enough).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backend::param::{AsciiBytes, Params};
use crate::backend::wire;
use crate::error::{Error, Side};
use crate::panic::TaskScope;
use crate::task::Task;

/// One registered task: its name and how to run a batch of its calls in encoded form.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::backend::{registry, wire};
/// use parapool::prelude::*;
/// let entry = registry::lookup(<double as Task>::NAME)?;
/// let calls = wire::encode_calls::<double>(&(), &[(20,), (21,)])?;
/// let outcomes = entry.run_batch(&calls.kwargs, calls.calls, &calls.args);
/// let mut reader = wire::Reader::new(&outcomes);
/// assert_eq!(reader.outcome::<u32>(entry.name())?, 40);
/// assert_eq!(reader.outcome::<u32>(entry.name())?, 42);
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Debug)]
pub struct TaskEntry {
    name: &'static str,
    run_batch: RunBatch,
}

/// Decodes the keyword arguments and each call's arguments, runs the calls, appends the encoded
/// outcomes.
type RunBatch = fn(&[u8], usize, &[u8], &mut Vec<u8>);

impl TaskEntry {
    /// The entry for task `T`; what `#[task]` submits.
    pub const fn of<T: Task>() -> TaskEntry {
        TaskEntry { name: T::NAME, run_batch: run_batch_of::<T> }
    }

    /// The task's stable name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the `calls` calls packed in `args` (see [`wire`]) with the keyword
    /// arguments `kwargs`, each call's panic caught, and returns their packed outcomes, one per
    /// call, in order.
    pub fn run_batch(&self, kwargs: &[u8], calls: usize, args: &[u8]) -> Vec<u8> {
        let mut outcomes = Vec::new();
        self.run_batch_into(kwargs, calls, args, &mut outcomes);
        outcomes
    }

    /// Like [`run_batch`](Self::run_batch), but appends the outcomes to `outcomes` (a buffer a
    /// worker reuses from batch to batch).
    ///
    /// `calls` comes from the wire, so it is not trusted: every call's record takes at least one
    /// byte of `args`, and a count above `args.len()` is cut to it (the calls it claimed beyond
    /// that have no record; the sender sees them missing). So a corrupt count can neither make a
    /// worker allocate in proportion to it nor loop for it.
    pub fn run_batch_into(&self, kwargs: &[u8], calls: usize, args: &[u8], outcomes: &mut Vec<u8>) {
        (self.run_batch)(kwargs, calls.min(args.len()), args, outcomes)
    }
}

inventory::collect!(TaskEntry);

fn run_batch_of<T: Task>(kwargs: &[u8], calls: usize, args: &[u8], outcomes: &mut Vec<u8>) {
    // Borrowed keyword arguments point into `kwargs`, borrowed arguments into `args`: a `&str`
    // parameter costs no allocation here.
    let kwargs: T::KwargsWire<'_> = match postcard::from_bytes(kwargs) {
        Ok(kwargs) => kwargs,
        Err(e) => {
            let error = Error::Serialization { task: T::NAME.to_owned(), side: Side::Args, message: e.to_string() };
            return outcomes.extend(wire::failed_outcomes(calls, &error));
        }
    };
    let mut reader = wire::Reader::new(args);
    // Checked once for the whole batch (a word at a time): when every byte is ASCII, so is every
    // string argument in it, and none needs a UTF-8 check of its own.
    let ascii = AsciiBytes::check(args);
    outcomes.reserve(args.len() / 2 + 8 * calls);
    let scope = TaskScope::enter();
    let (mut done, mut record_start) = (0, 0);
    // One `catch_unwind` for the whole batch, resumed after a panicking call (as chunks run in
    // this process): the happy path is a plain loop.
    while done < calls {
        let ran = scope.catch(T::NAME, || {
            while done < calls {
                record_start = outcomes.len();
                done += 1;
                match reader.args_with(T::NAME, |bytes| T::Params::decode_wire_in(bytes, ascii)) {
                    Ok(mut wire) => {
                        let output = T::call(T::Params::from_wire(&mut wire), T::kwargs_from_wire(&kwargs));
                        T::append_output(outcomes, &output);
                    }
                    Err(error) => append_failure(outcomes, &error),
                }
            }
        });
        if let Err(error) = ran {
            // The panic may have come from the output's `Serialize` half-way through its record.
            outcomes.truncate(record_start);
            append_failure(outcomes, &error);
        }
    }
}

/// Appends a failed call's outcome record. Out of line and cold: kept out of the loop above, the
/// task's body has more room to be inlined into it.
#[cold]
#[inline(never)]
fn append_failure(outcomes: &mut Vec<u8>, error: &Error) {
    wire::append_failed_outcome(outcomes, error)
}

/// Runs the `calls` calls of task `task` packed in `args` with keyword arguments `kwargs`: what
/// the far side of a backend that runs work outside this process does with [`EncodedCalls`]
/// (`crate::backend::wire`). An unknown task fails every call with [`Error::UnknownTask`].
/// `calls` is not trusted: a call needs at least one byte of `args` for its record, and calls
/// beyond `args.len()` get no outcome (see [`TaskEntry::run_batch_into`]).
///
/// ```
/// use parapool::backend::{registry, wire};
/// use parapool::prelude::*;
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// let calls = wire::encode_calls::<double>(&(), &[(1,), (2,)])?; // to another task, by mistake
/// let outcomes = registry::run_batch("no::such::task", &[], calls.calls, &calls.args);
/// let mut reader = wire::Reader::new(&outcomes);
/// assert!(matches!(reader.outcome::<u32>("no::such::task"), Err(Error::UnknownTask { .. })));
/// assert!(matches!(reader.outcome::<u32>("no::such::task"), Err(Error::UnknownTask { .. })));
/// # Ok::<(), parapool::Error>(())
/// ```
///
/// [`EncodedCalls`]: crate::backend::wire::EncodedCalls
pub fn run_batch(task: &str, kwargs: &[u8], calls: usize, args: &[u8]) -> Vec<u8> {
    let mut outcomes = Vec::new();
    run_batch_into(task, kwargs, calls, args, &mut outcomes);
    outcomes
}

/// Like [`run_batch`], but appends the outcomes to `outcomes` (a buffer a worker reuses from
/// batch to batch, so a batch's outcomes cost no allocation once it has grown).
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::backend::{registry, wire};
/// use parapool::prelude::*;
/// let calls = wire::encode_calls::<double>(&(), &[(1,), (2,)])?;
/// let mut outcomes = Vec::new();
/// registry::run_batch_into(calls.task, &calls.kwargs, calls.calls, &calls.args, &mut outcomes);
/// let mut reader = wire::Reader::new(&outcomes);
/// assert_eq!((reader.outcome::<u32>(calls.task)?, reader.outcome::<u32>(calls.task)?), (2, 4));
/// # Ok::<(), parapool::Error>(())
/// ```
pub fn run_batch_into(task: &str, kwargs: &[u8], calls: usize, args: &[u8], outcomes: &mut Vec<u8>) {
    match lookup(task) {
        Ok(entry) => entry.run_batch_into(kwargs, calls, args, outcomes),
        // As in `TaskEntry::run_batch_into`: at most one record per byte of `args`.
        Err(error) => outcomes.extend(wire::failed_outcomes(calls.min(args.len()), &error)),
    }
}

/// Finds the task registered under `name`.
///
/// ```
/// let err = parapool::backend::registry::lookup("no::such::task").unwrap_err();
/// assert!(matches!(err, parapool::Error::UnknownTask { .. }));
/// ```
pub fn lookup(name: &str) -> Result<&'static TaskEntry, Error> {
    inventory::iter::<TaskEntry>
        .into_iter()
        .find(|entry| entry.name == name)
        .ok_or_else(|| Error::UnknownTask { name: name.to_owned() })
}

/// The names of every task this binary registered, sorted.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// assert!(parapool::backend::registry::names().iter().any(|n| n.ends_with("::double")));
/// ```
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<_> = inventory::iter::<TaskEntry>.into_iter().map(|e| e.name).collect();
    names.sort_unstable();
    names
}

/// Encodes a value with parapool's codec (postcard), naming the task and side on failure.
pub fn encode<V: Serialize + ?Sized>(task: &str, side: Side, value: &V) -> Result<Vec<u8>, Error> {
    postcard::to_stdvec(value).map_err(|e| Error::Serialization { task: task.to_owned(), side, message: e.to_string() })
}

/// Decodes a value with parapool's codec (postcard), naming the task and side on failure.
pub fn decode<V: DeserializeOwned>(task: &str, side: Side, bytes: &[u8]) -> Result<V, Error> {
    postcard::from_bytes(bytes).map_err(|e| Error::Serialization {
        task: task.to_owned(),
        side,
        message: e.to_string(),
    })
}
