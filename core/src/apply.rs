//! The job behind `apply_async`: one call that lives in the same cell as its handle's state, so
//! an `apply_async` costs one cell of a slab (`slab.rs`), released when the last of job and handle
//! lets go.

use std::ptr::NonNull;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::backend::wire::{self, EncodedCalls};
use crate::error::Error;
use crate::handle::{AsyncResult, Payload, Shared};
use crate::job::{Job, SharedJob};
use crate::panic::catch_task_panic;
use crate::scope::ScopeToken;
use crate::slab::{CellBox, SlabRc};
use crate::stats::CallCounters;
use crate::task::{Args, Task};

/// The call, until someone takes it to run, fail or send it: whoever takes it completes the
/// handle, so the handle completes exactly once.
///
/// The arguments may borrow the caller's data for `'a`. They are taken out (and dropped) by
/// whoever completes the call, *before* it completes, together with the scope token, which is
/// dropped after completing; a handle that outlives the call keeps only an empty `call`.
pub(crate) struct ApplyCall<'a, T: Task> {
    call: Mutex<Option<Pending<'a, T>>>,
    /// The pool's call counts. Held by the cell, not by the pending call, so the reference is
    /// usually released where the cell is (by the caller, with its handle), not on the worker.
    counters: Arc<CallCounters>,
}

impl<T: Task> Payload for ApplyCall<'_, T> {}

struct Pending<'a, T: Task> {
    args: Args<'a, T>,
    kwargs: T::Kwargs<'a>,
    scope: Option<ScopeToken>,
}

type ApplyCell<'a, T> = Shared<<T as Task>::Output, ApplyCall<'a, T>>;

/// A handle and the job that completes it.
///
/// # Safety
///
/// As for [`new_job`](crate::job::new_job): unless every borrow in `args` and `kwargs` is
/// `'static`, `scope` must belong to a scope that waits, before `'a` ends, until the job has
/// taken (and dropped) the call and released the token.
pub(crate) unsafe fn apply_job<'a, T: Task>(
    args: Args<'a, T>,
    kwargs: T::Kwargs<'a>,
    counters: Arc<CallCounters>,
    scope: Option<ScopeToken>,
) -> (AsyncResult<T::Output>, Job) {
    let pending = Mutex::new(Some(Pending { args, kwargs, scope }));
    let cell: SlabRc<ApplyCell<'a, T>> = SlabRc::new(Shared::new(ApplyCall { call: pending, counters }));
    // SAFETY (both): the closure returns its argument, unsized, with the lifetime `'a` erased from
    // the trait object (same layout and vtable). That is sound by the caller's guarantee above:
    // the handle may outlive `'a`, but by then `call` is `None`, and dropping it reads nothing
    // borrowed.
    let state = unsafe {
        cell.clone().unsize::<Shared<T::Output, dyn Payload>>(|cell| {
            let short: NonNull<CellBox<Shared<T::Output, dyn Payload + 'a>>> = cell;
            std::mem::transmute::<
                NonNull<CellBox<Shared<T::Output, dyn Payload + 'a>>>,
                NonNull<CellBox<Shared<T::Output, dyn Payload>>>,
            >(short)
        })
    };
    let job = unsafe {
        cell.unsize::<dyn SharedJob>(|cell| {
            let short: NonNull<CellBox<dyn SharedJob + 'a>> = cell;
            std::mem::transmute::<NonNull<CellBox<dyn SharedJob + 'a>>, NonNull<CellBox<dyn SharedJob>>>(short)
        })
    };
    (AsyncResult::of(state), Job::shared(job))
}

fn take<'a, T: Task>(cell: &ApplyCell<'a, T>) -> Option<Pending<'a, T>> {
    cell.payload.call.lock().take()
}

impl<T: Task> SharedJob for ApplyCell<'_, T> {
    fn task_name(&self) -> &'static str {
        T::NAME
    }

    fn run(&self) {
        if self.is_cancelled() {
            return self.fail(Error::Cancelled { task: T::NAME.to_owned() });
        }
        if let Some(Pending { args, kwargs, scope }) = take::<T>(self) {
            let result = catch_task_panic(T::NAME, || T::call(args, kwargs));
            self.payload.counters.ended(1, usize::from(result.is_err()));
            self.complete(result);
            drop(scope);
        }
    }

    fn fail(&self, error: Error) {
        if let Some(Pending { args, kwargs, scope }) = take::<T>(self) {
            drop((args, kwargs));
            self.payload.counters.all_failed(1, &error);
            self.complete(Err(error));
            drop(scope);
        }
    }

    fn encode(&self) -> Result<EncodedCalls, Error> {
        if self.is_cancelled() {
            return Err(Error::Cancelled { task: T::NAME.to_owned() }); // the backend fails the job
        }
        let call = self.payload.call.lock();
        let pending = call.as_ref().ok_or_else(|| Error::Backend {
            backend: "core".into(),
            message: format!("task `{}`: a job was encoded after it completed", T::NAME),
        })?;
        wire::encode_calls::<T>(&pending.kwargs, [&pending.args])
    }

    fn complete_encoded(&self, outcomes: &[u8]) {
        let Some(Pending { args, kwargs, scope }) = take::<T>(self) else { return };
        drop((args, kwargs));
        let result = T::read_output(&mut wire::Reader::new(outcomes));
        self.payload.counters.ended(1, usize::from(result.is_err()));
        self.complete(result);
        drop(scope);
    }
}
