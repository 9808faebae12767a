//! The `#[task]` and `#[main]` attributes of [parapool](https://docs.rs/parapool).
//!
//! Use them through the facade crate, as `#[parapool::task]` and `#[parapool::main]`; this crate
//! only holds the procedural macros. See [`macro@task`] for what it generates and which
//! functions it accepts.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use proc_macro::TokenStream;

mod attrs;
mod expand;
mod main_fn;
mod parse;
mod types;

/// Turns a free function into a parapool task.
///
/// The function is replaced by a zero-sized handle type of the same name and visibility, which
///
/// - implements `parapool::Task` (arguments as a tuple, keyword arguments as a generated struct,
///   output as the return type), so it can be passed to any `Pool` call: `pool.map(my_task, items)`;
/// - is registered under `Task::NAME` (`module_path::fn_name`) so a worker process can run it;
/// - still calls like the original function: `my_task(a, b)` works unchanged (the handle
///   dereferences to a function pointer with every parameter, keyword arguments included, in
///   declaration order).
///
/// A parameter is either owned — a type that implements `serde::Serialize`,
/// `serde::de::DeserializeOwned` and `Send + 'static` — or a shared reference to an owned type:
/// `&str`, `&[u8]`, `&[T]` or `&T` (with `T: Serialize + DeserializeOwned + Sync + 'static`),
/// written without a lifetime. A caller lends borrowed parameters the data it keeps
/// (`pool.map(task, &words)`); see `parapool::backend::param` for what each kind accepts. References
/// inside other types (`Vec<&str>`), `&mut` and named lifetimes are rejected, and so is a
/// borrowed return type: the output is owned. A violation is reported on the offending type.
/// Generic, `async`, `const`, `unsafe` and `extern` functions and methods are rejected.
///
/// # Keyword arguments
///
/// Trailing parameters marked `#[kwarg]` become keyword arguments: fields of a generated struct
/// named after the function in CamelCase plus `Kwargs` (`count_letters` → `CountLettersKwargs`),
/// with a `Default` impl, one builder-style setter per field, and `From<()>`. The handle gets a
/// `kwargs()` function returning the defaults. A keyword argument defaults to
/// `Default::default()`, or to `#[kwarg(default = EXPR)]`, where `EXPR` is converted with
/// `Into` (so `#[kwarg(default = "x")] s: String` works; for primitive integer types `EXPR` is
/// used as is, so an unsuffixed literal takes the field's type). Setters likewise take
/// `impl Into<T>`, or `T` itself for primitive integers.
///
/// Keyword arguments must be plain identifiers (`name: T` or `mut name: T`) and come after every
/// positional parameter; positional parameters may use any irrefutable pattern. A keyword
/// argument may be a reference too: the struct then borrows for a lifetime `'k`
/// (`CountLettersKwargs<'k>`), and its setter takes `&'k` of anything `AsRef<str>` (for `&str`),
/// `AsRef<[T]>` (for `&[T]`) or `Borrow<T>` (for `&T`).
///
/// # Options
///
/// `#[task(crate = "path::to::parapool")]` sets the path the generated code uses to reach the
/// facade crate (default `::parapool`), for crates that re-export parapool under another name.
///
/// # Example
///
/// ```ignore
/// use parapool::prelude::*;
///
/// /// Counts the letters of `word` that occur in `letter` (all of them when it is empty).
/// #[parapool::task]
/// pub fn count_letters(word: String, #[kwarg] letter: String) -> usize {
///     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
/// }
///
/// // Still a plain function, keyword arguments included:
/// assert_eq!(count_letters("hall".into(), "l".into()), 2);
///
/// // A task: run it on a pool, with bound keyword arguments.
/// let pool = Pool::inline()?;
/// let l = count_letters.with(count_letters::kwargs().letter("l"));
/// assert_eq!(pool.map(l, vec!["hall".to_string(), "ball".to_string()])?, vec![2, 2]);
/// assert!(<count_letters as Task>::NAME.ends_with("::count_letters"));
/// # Ok::<(), parapool::Error>(())
/// ```
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::task(attr.into(), item.into()).into()
}

/// Makes `parapool::init()` the first statement of `main`, so that a process-backend worker (this
/// executable, started again by a pool) serves tasks there and exits before any of the program's
/// own code runs. Write it above `main` instead of calling `init()` by hand; other attributes
/// on `main` (such as `#[tokio::main]`) go below it.
///
/// Takes the same `crate = "path"` option as [`macro@task`].
///
/// ```ignore
/// #[parapool::task]
/// fn double(x: u32) -> u32 { 2 * x }
///
/// #[parapool::main]
/// fn main() -> Result<(), parapool::Error> {
///     let pool = parapool::Pool::process(2)?;
///     assert_eq!(pool.map(double, 0..4)?, [0, 2, 4, 6]);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    main_fn::main(attr.into(), item.into()).into()
}
