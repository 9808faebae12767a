//! How a job holds its calls' positional arguments, and turns each into a call.
//!
//! `starmap` stores each call's argument tuple as given ([`Starred`]); `map` stores the items as
//! given ([`Single`]) and makes the one-element tuple as each call starts, so a million-item map
//! never makes a pass over its input just to wrap every item in a tuple. Either way an item is
//! what the caller passed ([`ArgOf`]): a `&String` for a `&str` parameter is lent to the call,
//! never cloned.

use std::marker::PhantomData;

use crate::backend::param::{ArgOf, ArgsOf, AsArgs, LentSlice, Param};
use crate::backend::wire;
use crate::task::Task;

/// A way of holding the positional arguments of calls to `T`.
pub(crate) trait CallInput<T: Task> {
    /// What a job stores per call.
    type Item: Send;
    /// Calls the task with the arguments made from `item`. The item is dropped before this
    /// returns.
    fn call(item: Self::Item, kwargs: T::Kwargs<'_>) -> T::Output;
    /// Appends the item's arguments record to a packed buffer (see `wire`).
    fn encode_into(item: &Self::Item, buffer: &mut Vec<u8>);
    /// The caller's slice that `items` walks, if its items borrow from one (see `ArgOf::lend`).
    #[inline]
    fn lend<I: Iterator<Item = Self::Item>>(items: I) -> Result<LentSlice<Self::Item>, I> {
        Err(items)
    }
}

/// Each item is a tuple of the task's positional arguments.
pub(crate) struct Starred<A>(PhantomData<fn() -> A>);

impl<T: Task, A: ArgsOf<T::Params>> CallInput<T> for Starred<A> {
    type Item = A;

    #[inline]
    fn call(item: A, kwargs: T::Kwargs<'_>) -> T::Output {
        let mut held = item.hold();
        T::call(A::args(&mut held), kwargs)
    }

    #[inline]
    fn encode_into(item: &A, buffer: &mut Vec<u8>) {
        wire::append_args(buffer, T::NAME, &AsArgs::<A, T::Params>::new(item))
    }
}

/// Each item is the task's only positional argument (of kind `F`).
pub(crate) struct Single<A, F>(PhantomData<fn() -> (A, F)>);

impl<T, F, A> CallInput<T> for Single<A, F>
where
    T: Task<Params = (F,)>,
    F: Param,
    A: ArgOf<F>,
{
    type Item = A;

    #[inline]
    fn call(item: A, kwargs: T::Kwargs<'_>) -> T::Output {
        let mut held = item.hold();
        T::call((A::arg(&mut held),), kwargs)
    }

    /// Encodes exactly as the one-element argument tuple does.
    #[inline]
    fn encode_into(item: &A, buffer: &mut Vec<u8>) {
        item.append_one(buffer, T::NAME)
    }

    #[inline]
    fn lend<I: Iterator<Item = A>>(items: I) -> Result<LentSlice<A>, I> {
        A::lend(items)
    }
}
