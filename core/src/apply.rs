//! The job behind `apply_async`: one call that lives in the same cell as its handle's state, so
//! an `apply_async` costs one cell of a slab (`slab.rs`), released when the last of job and handle
//! lets go.

use parking_lot::Mutex;

use crate::error::Error;
use crate::handle::{AsyncResult, Payload, Shared};
use crate::job::{Job, SharedJob};
use crate::panic::catch_task_panic;
use crate::slab::SlabRc;
use crate::task::Task;
use crate::wire::{self, EncodedCalls};

/// The call, until someone takes it to run, fail or send it: whoever takes it completes the
/// handle, so the handle completes exactly once.
pub(crate) struct ApplyCall<T: Task> {
    call: Mutex<Option<(T::Args, T::Kwargs)>>,
}

type ApplyCell<T> = Shared<<T as Task>::Output, ApplyCall<T>>;

/// A handle and the job that completes it.
pub(crate) fn apply_job<T: Task>(args: T::Args, kwargs: T::Kwargs) -> (AsyncResult<T::Output>, Job) {
    let cell: SlabRc<ApplyCell<T>> = SlabRc::new(Shared::new(ApplyCall { call: Mutex::new(Some((args, kwargs))) }));
    // SAFETY (both): the closure returns its argument, unsized.
    let state: SlabRc<Shared<T::Output, dyn Payload>> =
        unsafe { cell.clone().unsize::<Shared<T::Output, dyn Payload>>(|cell| cell) };
    let job: SlabRc<dyn SharedJob> = unsafe { cell.unsize::<dyn SharedJob>(|cell| cell) };
    (AsyncResult::of(state), Job::shared(job))
}

fn take<T: Task>(cell: &ApplyCell<T>) -> Option<(T::Args, T::Kwargs)> {
    cell.payload.call.lock().take()
}

impl<T: Task> SharedJob for ApplyCell<T> {
    fn task_name(&self) -> &'static str {
        T::NAME
    }

    fn run(&self) {
        if let Some((args, kwargs)) = take::<T>(self) {
            let result = catch_task_panic(T::NAME, || T::call(args, kwargs));
            self.complete(result);
        }
    }

    fn fail(&self, error: Error) {
        if take::<T>(self).is_some() {
            self.complete(Err(error));
        }
    }

    fn encode(&self) -> Result<EncodedCalls, Error> {
        let call = self.payload.call.lock();
        let (args, kwargs) = call.as_ref().ok_or_else(|| Error::Backend {
            backend: "core".into(),
            message: format!("task `{}`: a job was encoded after it completed", T::NAME),
        })?;
        wire::encode_calls::<T>(kwargs, [args])
    }

    fn complete_encoded(&self, outcomes: &[u8]) {
        if take::<T>(self).is_none() {
            return;
        }
        let result = wire::Reader::new(outcomes).outcome::<T::Output>(T::NAME);
        self.complete(result);
    }
}
