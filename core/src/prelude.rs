//! The traits a caller needs in scope, and the types most code names.
//!
//! `count_letters.with(..)` and `.chunksize(..)` are methods of [`Task`] and [`IntoTaskCall`],
//! so they need these traits in scope; one glob import brings them:
//!
//! ```
//! use parapool::prelude::*;
//!
//! #[parapool::task]
//! fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
//!     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
//! }
//!
//! let pool = Pool::thread(2)?;
//! let words = ["map", "entry", "buyer"];
//! let e = pool.map(count_letters.with(count_letters::kwargs().letter("e")).chunksize(2), words)?;
//! assert_eq!(e, vec![0, 1, 1]);
//! # Ok::<(), Error>(())
//! ```
//!
//! It holds no `Result` alias, so it never shadows the standard library's; write
//! `parapool::Result<T>` where you want parapool's.

pub use crate::error::Error;
pub use crate::handle::AsyncResult;
pub use crate::pool::{Pool, PoolBuilder};
pub use crate::scope::Scope;
pub use crate::stream::Imap;
pub use crate::task::{IntoTaskCall, Task, TaskCall};
