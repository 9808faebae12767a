//! What `#[task]` generates: the [`Task`] trait, and [`TaskCall`], a task with bound keyword
//! arguments and call options (Python's `functools.partial`, plus a chunk size).

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::backend::param::Params;
use crate::progress::{Hook, Progress};

/// A function that a [`Pool`](crate::Pool) can run on any backend.
///
/// You do not implement this by hand: put `#[parapool::task]` on a free function and the macro
/// generates a zero-sized handle type named like the function that implements `Task`, registers it
/// under [`Task::NAME`] so a worker process can find it, and still lets you call the function
/// directly as plain Rust.
///
/// Parameters may be borrowed (`&str`, `&[u8]`, `&[T]`, `&T`) or owned (any serde type that is
/// `Send + 'static`); see [`param`](crate::backend::param) for what a caller may pass for each. The bounds
/// are the same for every backend, so switching backend at run time never needs a code change.
///
/// ```
/// use parapool::prelude::*;
///
/// #[parapool::task]
/// fn add(a: i64, b: &i64, #[kwarg(default = 1)] scale: i64) -> i64 {
///     (a + b) * scale
/// }
///
/// assert_eq!(add(2, &3, 10), 50); // still a plain function
/// assert!(<add as Task>::NAME.ends_with("::add"));
/// assert_eq!(add::call((2, &3), add::kwargs()), 5);
/// ```
pub trait Task: Copy + Send + Sync + 'static {
    /// The stable name the task is registered under: `module_path::fn_name`.
    const NAME: &'static str;
    /// The kinds of the positional parameters, as a tuple (`(Str, Owned<u32>)` for
    /// `fn f(word: &str, n: u32)`); [`Args`] is the argument tuple they make.
    type Params: Params;
    /// The keyword arguments: a generated struct with defaults, or `()` when there are none. It
    /// borrows for `'k` when a keyword parameter is a reference.
    type Kwargs<'k>: Serialize + Default + Clone + std::fmt::Debug + Send + Sync;
    /// What the far side of a remote backend decodes the keyword arguments into (once per batch).
    type KwargsWire<'w>: Deserialize<'w>;
    /// What the function returns.
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// Runs the function body with unpacked arguments.
    fn call(args: Args<'_, Self>, kwargs: Self::Kwargs<'_>) -> Self::Output;

    /// The keyword arguments lent from their decoded form.
    fn kwargs_from_wire<'a>(wire: &'a Self::KwargsWire<'_>) -> Self::Kwargs<'a>;

    /// Appends the outcome record of a call that returned `output` (see [`wire`](crate::backend::wire));
    /// `#[task]` writes integer outputs directly, without serde.
    #[doc(hidden)]
    #[inline]
    fn append_output(buffer: &mut Vec<u8>, output: &Self::Output) {
        crate::backend::wire::append_outcome(buffer, Self::NAME, Ok(output))
    }

    /// Reads the next call's outcome (the inverse of [`append_output`](Self::append_output)).
    #[doc(hidden)]
    #[inline]
    fn read_output(reader: &mut crate::backend::wire::Reader<'_>) -> Result<Self::Output, crate::Error> {
        reader.outcome::<Self::Output>(Self::NAME)
    }

    /// The same keyword arguments, seen as borrowing for a shorter time (what covariance gives
    /// the concrete type, which generic code cannot see through the associated type).
    #[doc(hidden)]
    fn shorten_kwargs<'short, 'long: 'short>(kwargs: Self::Kwargs<'long>) -> Self::Kwargs<'short>;

    /// Binds keyword arguments for every call made through the result, like `functools.partial`.
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// use parapool::prelude::*;
    /// let pool = Pool::inline()?;
    /// let e = count_letters.with(count_letters::kwargs().letter("e"));
    /// assert_eq!(pool.map(e, ["entry", "map"])?, vec![1, 0]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    fn with<'k>(self, kwargs: impl Into<Self::Kwargs<'k>>) -> TaskCall<'k, Self> {
        TaskCall::new(self).with(kwargs)
    }

    /// Sets the number of items per job for the map family (`map`, `starmap`, `imap`, …),
    /// instead of the automatic choice.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// use parapool::prelude::*;
    /// let pool = Pool::inline()?;
    /// assert_eq!(pool.map(double.chunksize(2), 1..=5)?, vec![2, 4, 6, 8, 10]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    fn chunksize(self, items_per_job: usize) -> TaskCall<'static, Self> {
        TaskCall::new(self).chunksize(items_per_job)
    }

    /// Reports the progress of a map-family call (`map`, `starmap`, their `_async` forms,
    /// `imap`, `imap_unordered`) to `progress`, counted in this process as calls complete
    /// (see [`Progress`]). While it is attached, automatic chunks are capped at 1/64 of the
    /// input, so the count moves smoothly; other calls ignore it.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// use parapool::prelude::*;
    /// let pool = Pool::thread(2)?;
    /// let report = parapool::progress_fn(|done, total| eprint!("\r{done}/{}", total.unwrap_or(0)));
    /// assert_eq!(pool.map(double.progress(report), 1..=5)?, vec![2, 4, 6, 8, 10]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    fn progress(self, progress: Arc<dyn Progress>) -> TaskCall<'static, Self> {
        TaskCall::new(self).progress(progress)
    }
}

/// The positional argument tuple of task `T`, borrowing for `'a` where a parameter is a
/// reference: `(&'a str, u32)` for `fn f(word: &str, n: u32)`.
///
/// ```
/// # #[parapool::task] fn repeat(word: &str, times: u32) -> String { word.repeat(times as usize) }
/// let word = String::from("ab");
/// let args: parapool::Args<'_, repeat> = (&word, 2);
/// assert_eq!(parapool::Pool::inline()?.apply(repeat, args, ())?, "abab");
/// # Ok::<(), parapool::Error>(())
/// ```
pub type Args<'a, T> = <<T as Task>::Params as Params>::Args<'a>;

/// A task with bound keyword arguments and call options; made by [`Task::with`] and
/// [`Task::chunksize`], accepted wherever a task is. `'k` is how long borrowed keyword arguments
/// live (`'static` for literals and owned values).
///
/// ```
/// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
/// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
/// use parapool::prelude::*;
/// let pool = Pool::inline()?;
/// let letters = String::from("l");
/// let call = count_letters.with(count_letters::kwargs().letter(&letters)).chunksize(1);
/// assert_eq!(pool.map(call, ["hall"])?, vec![2]);
/// # Ok::<(), parapool::Error>(())
/// ```
#[must_use = "a task call does nothing until it is passed to a pool call"]
pub struct TaskCall<'k, T: Task> {
    pub(crate) task: T,
    pub(crate) kwargs: T::Kwargs<'k>,
    pub(crate) chunksize: Option<usize>,
    pub(crate) progress: Option<Hook>,
}

impl<T: Task> Clone for TaskCall<'_, T> {
    fn clone(&self) -> Self {
        TaskCall {
            task: self.task,
            kwargs: self.kwargs.clone(),
            chunksize: self.chunksize,
            progress: self.progress.clone(),
        }
    }
}

impl<T: Task> std::fmt::Debug for TaskCall<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskCall")
            .field("task", &T::NAME)
            .field("kwargs", &self.kwargs)
            .field("chunksize", &self.chunksize)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl<'k, T: Task> TaskCall<'k, T> {
    /// The task with default keyword arguments and automatic chunking.
    pub fn new(task: T) -> Self {
        TaskCall { task, kwargs: T::Kwargs::default(), chunksize: None, progress: None }
    }

    /// Replaces the bound keyword arguments.
    pub fn with<'j>(self, kwargs: impl Into<T::Kwargs<'j>>) -> TaskCall<'j, T> {
        TaskCall { task: self.task, kwargs: kwargs.into(), chunksize: self.chunksize, progress: self.progress }
    }

    /// Sets the number of items per job for the map family. `0` is rejected when the call is
    /// made, with [`Error::ZeroChunksize`](crate::Error::ZeroChunksize).
    pub fn chunksize(mut self, items_per_job: usize) -> Self {
        self.chunksize = Some(items_per_job);
        self
    }

    /// Reports the progress of a map-family call to `progress`; see [`Task::progress`].
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = Some(Hook(progress));
        self
    }

    /// The task being called.
    pub fn task(&self) -> T {
        self.task
    }

    /// The bound keyword arguments.
    pub fn kwargs(&self) -> &T::Kwargs<'k> {
        &self.kwargs
    }
}

/// Anything a `Pool` call accepts as "the function": a [`Task`] handle or a [`TaskCall`], with
/// keyword arguments that live for `'k`.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::prelude::*;
/// assert_eq!(double.into_task_call().kwargs(), &());
/// assert_eq!(double.chunksize(3).into_task_call().kwargs(), &());
/// ```
pub trait IntoTaskCall<'k> {
    /// The task being called.
    type Task: Task;
    /// Converts into a [`TaskCall`].
    fn into_task_call(self) -> TaskCall<'k, Self::Task>;
}

impl<'k, T: Task> IntoTaskCall<'k> for T {
    type Task = T;
    fn into_task_call(self) -> TaskCall<'k, T> {
        TaskCall::new(self)
    }
}

/// A call whose keyword arguments live for `'long` can be used where they must live for `'k`.
impl<'k, 'long: 'k, T: Task> IntoTaskCall<'k> for TaskCall<'long, T> {
    type Task = T;
    fn into_task_call(self) -> TaskCall<'k, T> {
        TaskCall {
            task: self.task,
            kwargs: T::shorten_kwargs(self.kwargs),
            chunksize: self.chunksize,
            progress: self.progress,
        }
    }
}
