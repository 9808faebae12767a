//! parapool's built-in backends. Each registers itself by name, so `Pool::builder().backend(name)`
//! and `PARAPOOL_BACKEND=name` find it:
//!
//! | name | runs jobs | module |
//! |---|---|---|
//! | `inline` | sequentially, in the caller's thread, at submission | [`inline`] |
#![deny(missing_docs)]

pub mod inline;

/// Links this crate's backend registrations into a binary that otherwise names nothing from it.
///
/// ```
/// parapool_backends::link();
/// ```
pub fn link() {}
