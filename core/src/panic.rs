//! Turning a task's panic into [`Error::Panicked`] with its message and location.
//!
//! The message comes from the payload. The location is only known to a panic hook, so the first
//! pool installs one (chained to whatever hook was there) that records the location in a
//! thread-local while a task runs, and stays silent for those panics: the error carries the
//! message and location to the caller instead of printing them from a worker. Panics outside
//! tasks go to the previous hook unchanged.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::error::Error;

thread_local! {
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

/// Installs the location-recording panic hook once per process.
pub(crate) fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_TASK.with(Cell::get) {
                let location = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                LAST_LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// While alive, panics on this thread are task panics: their location is recorded for
/// [`TaskScope::catch`] and the default hook's message is not printed.
///
/// One scope covers a whole chunk of calls, so the per-call cost is only `catch_unwind`.
pub struct TaskScope {
    was_in_task: bool,
}

impl TaskScope {
    /// Enters task mode on this thread.
    #[inline]
    pub fn enter() -> TaskScope {
        TaskScope { was_in_task: IN_TASK.with(|flag| flag.replace(true)) }
    }

    /// Runs `f` as task `task`, turning a panic into [`Error::Panicked`].
    #[inline]
    pub fn catch<R>(&self, task: &str, f: impl FnOnce() -> R) -> Result<R, Error> {
        panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Error::Panicked {
            task: task.to_owned(),
            message: payload_message(&*payload),
            location: LAST_LOCATION.with(|slot| slot.borrow_mut().take()),
        })
    }
}

impl Drop for TaskScope {
    fn drop(&mut self) {
        IN_TASK.with(|flag| flag.set(self.was_in_task));
    }
}

/// Runs `f` as ordinary (non-task) code even inside a task scope: callbacks use this, so their
/// panics reach the previous panic hook and are never mistaken for a task's.
pub(crate) fn outside_task<R>(f: impl FnOnce() -> R) -> R {
    let outer = TaskScope { was_in_task: IN_TASK.with(|flag| flag.replace(false)) };
    let result = f();
    drop(outer);
    result
}

/// Runs `f` as task `task`, turning a panic into [`Error::Panicked`].
pub fn catch_task_panic<R>(task: &str, f: impl FnOnce() -> R) -> Result<R, Error> {
    TaskScope::enter().catch(task, f)
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_error_with_message_and_location() {
        install_hook();
        let err = catch_task_panic("t", || -> u32 { panic!("boom {}", 7) }).unwrap_err();
        match err {
            Error::Panicked { task, message, location } => {
                assert_eq!(task, "t");
                assert_eq!(message, "boom 7");
                assert!(location.unwrap().contains("panic.rs"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(catch_task_panic("t", || 5).unwrap(), 5);
    }

    #[test]
    fn non_string_payload_has_placeholder() {
        install_hook();
        let err = catch_task_panic("t", || std::panic::panic_any(42u8)).unwrap_err();
        assert!(matches!(err, Error::Panicked { message, .. } if message == "<non-string panic payload>"));
    }
}
