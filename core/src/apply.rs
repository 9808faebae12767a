//! The job behind `apply_async`: one call that lives in the same allocation as its handle's
//! state, so an `apply_async` costs one allocation, and the worker that runs it frees nothing
//! (the allocation goes when the last of job and handle lets go, usually the handle, on the
//! thread that made it).

use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::Error;
use crate::handle::{AsyncResult, Completer, Shared};
use crate::job::{Job, SharedJob};
use crate::panic::catch_task_panic;
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
    let cell: Arc<ApplyCell<T>> = Arc::new(Shared::new(ApplyCall { call: Mutex::new(Some((args, kwargs))) }));
    let handle = AsyncResult::of(Arc::clone(&cell) as Arc<Shared<T::Output, dyn crate::handle::Payload>>);
    (handle, Job::shared(cell))
}

fn take<T: Task>(cell: &ApplyCell<T>) -> Option<(T::Args, T::Kwargs)> {
    cell.payload.call.lock().take()
}

fn complete<T: Task>(cell: Arc<ApplyCell<T>>, result: Result<T::Output, Error>) {
    Completer::of(cell).complete(result);
}

impl<T: Task> SharedJob for ApplyCell<T> {
    fn task_name(&self) -> &'static str {
        T::NAME
    }

    fn run(self: Arc<Self>) {
        if let Some((args, kwargs)) = take::<T>(&self) {
            let result = catch_task_panic(T::NAME, || T::call(args, kwargs));
            complete::<T>(self, result);
        }
    }

    fn fail(self: Arc<Self>, error: Error) {
        if take::<T>(&self).is_some() {
            complete::<T>(self, Err(error));
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

    fn complete_encoded(self: Arc<Self>, outcomes: &[u8]) {
        if take::<T>(&self).is_none() {
            return;
        }
        let result = wire::Reader::new(outcomes).outcome::<T::Output>(T::NAME);
        complete::<T>(self, result);
    }
}
