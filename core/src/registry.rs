//! Tasks by name. `#[task]` submits a [`TaskEntry`] to this registry with `inventory`, so a
//! worker process (the same binary, re-executed) can look a task up by its stable name, decode
//! its arguments, run it and encode its output.
//!
//! A binary sees the tasks of every crate it links. A test binary that uses tasks defined in a
//! library must link that library (`use the_lib as _;` is enough).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Side};
use crate::panic::catch_task_panic;
use crate::task::Task;

/// One registered task: its name and how to run it on encoded arguments.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::registry;
/// let entry = registry::lookup(<double as parapool::Task>::NAME)?;
/// let kwargs = registry::encode(entry.name(), parapool::Side::Args, &())?;
/// let args = registry::encode(entry.name(), parapool::Side::Args, &(21u32,))?;
/// let out = entry.run_encoded(&args, &kwargs)?;
/// assert_eq!(registry::decode::<u32>(entry.name(), parapool::Side::Output, &out)?, 42);
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Debug)]
pub struct TaskEntry {
    name: &'static str,
    run_encoded: RunEncoded,
}

/// Decodes arguments and keyword arguments, runs the task, encodes the output.
type RunEncoded = fn(&[u8], &[u8]) -> Result<Vec<u8>, Error>;

impl TaskEntry {
    /// The entry for task `T`; what `#[task]` submits.
    pub const fn of<T: Task>() -> TaskEntry {
        TaskEntry { name: T::NAME, run_encoded: run_encoded::<T> }
    }

    /// The task's stable name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Decodes the arguments and keyword arguments, runs the task (catching a panic) and encodes
    /// its output.
    pub fn run_encoded(&self, args: &[u8], kwargs: &[u8]) -> Result<Vec<u8>, Error> {
        (self.run_encoded)(args, kwargs)
    }
}

inventory::collect!(TaskEntry);

fn run_encoded<T: Task>(args: &[u8], kwargs: &[u8]) -> Result<Vec<u8>, Error> {
    let args: T::Args = decode(T::NAME, Side::Args, args)?;
    let kwargs: T::Kwargs = decode(T::NAME, Side::Args, kwargs)?;
    let output = catch_task_panic(T::NAME, || T::call(args, kwargs))?;
    encode(T::NAME, Side::Output, &output)
}

/// Finds the task registered under `name`.
///
/// ```
/// let err = parapool::registry::lookup("no::such::task").unwrap_err();
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
/// assert!(parapool::registry::names().iter().any(|n| n.ends_with("::double")));
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
