//! What `#[task]` generates: the [`Task`] trait, and [`TaskCall`], a task with bound keyword
//! arguments and call options (Python's `functools.partial`, plus a chunk size).

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A function that a [`Pool`](crate::Pool) can run on any backend.
///
/// You do not implement this by hand: put `#[parapool::task]` on a free function and the macro
/// generates a zero-sized handle type named like the function that implements `Task`, registers it
/// under [`Task::NAME`] so a worker process can find it, and still lets you call the function
/// directly as plain Rust.
///
/// The bounds are the same for every backend — serde for arguments, keyword arguments and output,
/// plus `Send + 'static` — so switching backend at run time never needs a code change.
///
/// ```
/// use parapool::Task;
///
/// #[parapool::task]
/// fn add(a: i64, b: i64, #[kwarg(default = 1)] scale: i64) -> i64 {
///     (a + b) * scale
/// }
///
/// assert_eq!(add(2, 3, 10), 50); // still a plain function
/// assert!(<add as Task>::NAME.ends_with("::add"));
/// assert_eq!(add::call((2, 3), add::kwargs()), 5);
/// ```
pub trait Task: Copy + Send + Sync + 'static {
    /// The stable name the task is registered under: `module_path::fn_name`.
    const NAME: &'static str;
    /// The positional arguments, as a tuple (`(String,)` for one argument).
    type Args: Serialize + DeserializeOwned + Send + 'static;
    /// The keyword arguments: a generated struct with defaults, or `()` when there are none.
    type Kwargs: Serialize + DeserializeOwned + Default + Clone + Send + Sync + 'static;
    /// What the function returns.
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// Runs the function body with unpacked arguments.
    fn call(args: Self::Args, kwargs: Self::Kwargs) -> Self::Output;

    /// Binds keyword arguments for every call made through the result, like `functools.partial`.
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: String, #[kwarg] letter: String) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// use parapool::{Pool, Task};
    /// let pool = Pool::inline()?;
    /// let e = count_letters.with(count_letters::kwargs().letter("e"));
    /// assert_eq!(pool.map(e, vec!["entry".to_string(), "map".to_string()])?, vec![1, 0]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    fn with(self, kwargs: impl Into<Self::Kwargs>) -> TaskCall<Self> {
        TaskCall::new(self).with(kwargs)
    }

    /// Sets the number of items per job for the map family (`map`, `starmap`, `imap`, …),
    /// instead of the automatic choice.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// use parapool::{Pool, Task};
    /// let pool = Pool::inline()?;
    /// assert_eq!(pool.map(double.chunksize(2), 1..=5)?, vec![2, 4, 6, 8, 10]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    fn chunksize(self, items_per_job: usize) -> TaskCall<Self> {
        TaskCall::new(self).chunksize(items_per_job)
    }
}

/// A task with bound keyword arguments and call options; made by [`Task::with`] and
/// [`Task::chunksize`], accepted wherever a task is.
///
/// ```
/// # #[parapool::task] fn count_letters(word: String, #[kwarg] letter: String) -> usize {
/// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
/// use parapool::{Pool, Task};
/// let pool = Pool::inline()?;
/// let call = count_letters.with(count_letters::kwargs().letter("l")).chunksize(1);
/// assert_eq!(pool.map(call, vec!["hall".to_string()])?, vec![2]);
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TaskCall<T: Task> {
    pub(crate) task: T,
    pub(crate) kwargs: T::Kwargs,
    pub(crate) chunksize: Option<usize>,
}

impl<T: Task> TaskCall<T> {
    /// The task with default keyword arguments and automatic chunking.
    pub fn new(task: T) -> Self {
        TaskCall { task, kwargs: T::Kwargs::default(), chunksize: None }
    }

    /// Replaces the bound keyword arguments.
    pub fn with(mut self, kwargs: impl Into<T::Kwargs>) -> Self {
        self.kwargs = kwargs.into();
        self
    }

    /// Sets the number of items per job for the map family. `0` is rejected when the call is
    /// made, with [`Error::ZeroChunksize`](crate::Error::ZeroChunksize).
    pub fn chunksize(mut self, items_per_job: usize) -> Self {
        self.chunksize = Some(items_per_job);
        self
    }

    /// The task being called.
    pub fn task(&self) -> T {
        self.task
    }

    /// The bound keyword arguments.
    pub fn kwargs(&self) -> &T::Kwargs {
        &self.kwargs
    }
}

/// Anything a `Pool` call accepts as "the function": a [`Task`] handle or a [`TaskCall`].
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::{IntoTaskCall, Task};
/// assert_eq!(double.into_task_call().kwargs(), &());
/// assert_eq!(double.chunksize(3).into_task_call().kwargs(), &());
/// ```
pub trait IntoTaskCall {
    /// The task being called.
    type Task: Task;
    /// Converts into a [`TaskCall`].
    fn into_task_call(self) -> TaskCall<Self::Task>;
}

impl<T: Task> IntoTaskCall for T {
    type Task = T;
    fn into_task_call(self) -> TaskCall<T> {
        TaskCall::new(self)
    }
}

impl<T: Task> IntoTaskCall for TaskCall<T> {
    type Task = T;
    fn into_task_call(self) -> TaskCall<T> {
        self
    }
}
