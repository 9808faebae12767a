//! How a job holds its calls' positional arguments.
//!
//! `starmap` and `apply` store the argument tuples themselves. `map` stores the items as given and
//! makes the one-element tuple as each call starts, so a million-item map never makes a pass over
//! its input just to wrap every item in a tuple.

use serde::Serialize;

use crate::task::Task;
use crate::wire;

/// A way of holding the positional arguments of calls to `T`.
pub(crate) trait CallInput<T: Task>: 'static {
    /// What a job stores per call.
    type Item: Send + 'static;
    /// The call's argument tuple.
    fn into_args(item: Self::Item) -> T::Args;
    /// The call's encoded argument tuple.
    /// Appends the item's arguments record to a packed buffer (see `wire`).
    fn encode_into(item: &Self::Item, buffer: &mut Vec<u8>);
}

/// Each item is the whole argument tuple.
pub(crate) struct Starred;

impl<T: Task> CallInput<T> for Starred {
    type Item = T::Args;

    #[inline]
    fn into_args(item: T::Args) -> T::Args {
        item
    }

    #[inline]
    fn encode_into(item: &T::Args, buffer: &mut Vec<u8>) {
        wire::append_args(buffer, T::NAME, item)
    }
}

/// Each item is the task's only positional argument.
pub(crate) struct Single;

impl<T, A> CallInput<T> for Single
where
    T: Task<Args = (A,)>,
    A: Serialize + Send + 'static,
{
    type Item = A;

    #[inline]
    fn into_args(item: A) -> (A,) {
        (item,)
    }

    /// `(&A,)` encodes exactly as `(A,)` does.
    #[inline]
    fn encode_into(item: &A, buffer: &mut Vec<u8>) {
        wire::append_args(buffer, T::NAME, &(item,))
    }
}
