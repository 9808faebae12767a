//! How each parameter of a task is passed: by value, or borrowed from data the caller keeps.
//!
//! `#[task]` sorts every parameter into one of five kinds by how it is written, and names the
//! kind in [`Task::Params`](crate::Task::Params):
//!
//! | parameter | kind | the caller may pass (each item of a `map`) | a worker process decodes |
//! |---|---|---|---|
//! | `word: &str` | [`Str`] | a reference to anything `AsRef<str>` (`&String`, `&&str`, `&Box<str>`), `&str`, or an owned `String`, `Box<str>`, `Arc<str>`, `Cow<str>` | a `&str` into the received bytes: no allocation |
//! | `data: &[u8]` | [`Bytes`] | a reference to anything `AsRef<[u8]>`, `&[u8]`, or an owned `Vec<u8>`, `[u8; N]`, `Box<[u8]>`, `Arc<[u8]>`, `Cow<[u8]>` | a `&[u8]` into the received bytes: no allocation |
//! | `xs: &[T]` | [`Slice<T>`] | a reference to anything `AsRef<[T]>` (`&Vec<T>`), `&[T]`, or an owned `Vec<T>`, `[T; N]`, `Box<[T]>`, `Arc<[T]>` | a `Vec<T>`, lent to the call |
//! | `x: &T` | [`Ref<T>`] | anything `Borrow<T>`: `&T`, `T`, `Box<T>`, `Arc<T>` | a `T`, lent to the call |
//! | `x: T` | [`Owned<T>`] | a `T` | a `T`, moved into the call |
//!
//! A borrowed parameter never makes the caller clone: a map over `&words` hands each call a
//! `&str` that points into `words` (in-process backends) or encodes straight from it (backends
//! that run work elsewhere). When the items borrow the elements of a slice (`&words`, `&words[..]`,
//! `words.iter()` for the first three kinds), a map does not even gather the references on the
//! caller's thread: each job gets a range of the slice and gathers its own, a block at a time, on
//! the worker that runs it ([`ArgOf::lend`] tells a slice's iterator apart with `typeid`). Which calls may borrow, and for how long, is [`Pool`](crate::Pool)'s
//! business: blocking calls borrow for their duration, the rest only inside a
//! [`Pool::scope`](crate::Pool::scope).
//!
//! Every kind encodes exactly as its parameter type does with serde, so the bytes a caller sends
//! do not depend on what it passed (`&String` or `String` for a `&str` parameter).

use std::borrow::Borrow;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::backend::wire;

/// One kind of parameter (a row of the table in the module documentation). Implemented by the
/// five kinds [`Str`], [`Bytes`], [`Slice`], [`Ref`] and [`Owned`]; `#[task]` picks one per
/// parameter.
///
/// ```
/// use parapool::backend::param::{Param, Str};
/// use parapool::backend::param::Owned;
/// let mut decoded: <Owned<u32> as Param>::Wire<'_> = postcard::from_bytes(&[7]).unwrap();
/// let n: u32 = Owned::<u32>::from_wire(&mut decoded);
/// assert_eq!(n, 7);
/// let mut decoded: <Str as Param>::Wire<'_> = postcard::from_bytes(b"\x05entry").unwrap();
/// let word: &str = Str::from_wire(&mut decoded);
/// assert_eq!(word, "entry");
/// ```
pub trait Param: 'static {
    /// The parameter as the function takes it, borrowing for `'a` where it borrows.
    type Arg<'a>: Serialize + Send;
    /// What the far side of a remote backend decodes for it, borrowing from the received bytes
    /// for `'w` where the type allows (`&str`, `&[u8]`).
    type Wire<'w>: Deserialize<'w>;
    /// The argument made from its decoded form: lent from it, or moved out of it once.
    fn from_wire<'a>(wire: &'a mut Self::Wire<'_>) -> Self::Arg<'a>;

    /// Decodes the argument alone from `bytes` (postcard). Kinds with a fixed layout override
    /// this with a direct reader.
    #[doc(hidden)]
    #[inline]
    fn decode_wire(bytes: &[u8]) -> postcard::Result<Self::Wire<'_>> {
        Self::Wire::deserialize(&mut postcard::Deserializer::from_bytes(bytes))
    }

    /// [`decode_wire`](Self::decode_wire) of bytes that lie in a batch checked to be all ASCII
    /// (a worker checks a whole batch at once): a `&str` inside it needs no check of its own.
    #[doc(hidden)]
    #[inline]
    fn decode_wire_in<'w>(bytes: &'w [u8], _batch: Option<AsciiBytes<'_>>) -> postcard::Result<Self::Wire<'w>> {
        Self::decode_wire(bytes)
    }
}

/// The length-prefixed bytes at the start of `bytes` (what postcard makes of a `str` or a byte
/// string).
#[inline]
fn length_prefixed(bytes: &[u8]) -> postcard::Result<&[u8]> {
    let (length, used) = wire::read_length(bytes).ok_or(postcard::Error::DeserializeBadVarint)?;
    bytes
        .get(used..used.checked_add(length).ok_or(postcard::Error::DeserializeUnexpectedEnd)?)
        .ok_or(postcard::Error::DeserializeUnexpectedEnd)
}

/// `bytes` as a `&str` if they are UTF-8, checked with a fast path for ASCII.
#[inline]
fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

/// Bytes checked to be all ASCII, so that every part of them is valid UTF-8: the proof a worker
/// makes once per batch, so that each `&str` argument inside it skips its own UTF-8 check. It can
/// only be made by checking, and it vouches only for bytes that lie inside it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct AsciiBytes<'a>(&'a [u8]);

impl<'a> AsciiBytes<'a> {
    /// `bytes`, if every one of them is ASCII.
    #[inline]
    pub fn check(bytes: &'a [u8]) -> Option<Self> {
        bytes.is_ascii().then_some(AsciiBytes(bytes))
    }

    /// `part` as a `&str`, without a check, if it lies inside these bytes; `None` otherwise.
    #[inline]
    pub fn str_within<'p>(&self, part: &'p [u8]) -> Option<&'p str> {
        let (start, end) = (self.0.as_ptr() as usize, self.0.as_ptr() as usize + self.0.len());
        let (from, to) = (part.as_ptr() as usize, part.as_ptr() as usize + part.len());
        if start <= from && to <= end {
            // SAFETY: `part` lies inside bytes that were all checked to be ASCII, so it is
            // ASCII, which is valid UTF-8.
            Some(unsafe { std::str::from_utf8_unchecked(part) })
        } else {
            None
        }
    }
}

/// A `&str` parameter.
#[derive(Debug)]
pub enum Str {}

/// A `&[u8]` parameter (encoded as one byte string, decoded without a copy).
#[derive(Debug)]
pub enum Bytes {}

/// A `&[T]` parameter.
#[derive(Debug)]
pub struct Slice<T>(PhantomData<fn() -> T>);

/// A `&T` parameter.
#[derive(Debug)]
pub struct Ref<T>(PhantomData<fn() -> T>);

/// A parameter taken by value.
#[derive(Debug)]
pub struct Owned<T>(PhantomData<fn() -> T>);

impl Param for Str {
    type Arg<'a> = &'a str;
    type Wire<'w> = WireStr<'w>;
    #[inline]
    fn from_wire<'a>(wire: &'a mut WireStr<'_>) -> &'a str {
        wire.0
    }
    #[inline]
    fn decode_wire(bytes: &[u8]) -> postcard::Result<WireStr<'_>> {
        utf8(length_prefixed(bytes)?).map(WireStr).ok_or(postcard::Error::DeserializeBadUtf8)
    }
    #[inline]
    fn decode_wire_in<'w>(bytes: &'w [u8], batch: Option<AsciiBytes<'_>>) -> postcard::Result<WireStr<'w>> {
        let text = length_prefixed(bytes)?;
        if let Some(text) = batch.and_then(|batch| batch.str_within(text)) {
            return Ok(WireStr(text));
        }
        utf8(text).map(WireStr).ok_or(postcard::Error::DeserializeBadUtf8)
    }
}

/// A `&str` decoded by borrowing from the received bytes. It decodes what a `str` encodes to
/// (a length and the bytes), checking the bytes are UTF-8 with a fast path for ASCII: for the
/// short words a map usually carries, `core::str::from_utf8`'s set-up costs more than the check.
#[derive(Debug)]
pub struct WireStr<'w>(&'w str);

impl<'de> Deserialize<'de> for WireStr<'de> {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Borrowed;
        impl<'de> serde::de::Visitor<'de> for Borrowed {
            type Value = WireStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a borrowed UTF-8 string")
            }
            #[inline]
            fn visit_borrowed_bytes<E: serde::de::Error>(self, bytes: &'de [u8]) -> Result<Self::Value, E> {
                utf8(bytes).map(WireStr).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self))
            }
            #[inline]
            fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(WireStr(text))
            }
        }
        deserializer.deserialize_bytes(Borrowed)
    }
}

impl Param for Bytes {
    type Arg<'a> = &'a [u8];
    type Wire<'w> = &'w [u8];
    #[inline]
    fn from_wire<'a>(wire: &'a mut &[u8]) -> &'a [u8] {
        wire
    }
    #[inline]
    fn decode_wire(bytes: &[u8]) -> postcard::Result<&[u8]> {
        length_prefixed(bytes)
    }
}

impl<T: Serialize + DeserializeOwned + Sync + 'static> Param for Slice<T> {
    type Arg<'a> = &'a [T];
    type Wire<'w> = Vec<T>;
    #[inline]
    fn from_wire(wire: &mut Vec<T>) -> &[T] {
        wire
    }
}

impl<T: Serialize + DeserializeOwned + Sync + 'static> Param for Ref<T> {
    type Arg<'a> = &'a T;
    type Wire<'w> = T;
    #[inline]
    fn from_wire(wire: &mut T) -> &T {
        wire
    }
}

impl<T: Serialize + DeserializeOwned + Send + 'static> Param for Owned<T> {
    type Arg<'a> = T;
    type Wire<'w> = Take<T>;
    #[inline]
    fn from_wire(wire: &mut Take<T>) -> T {
        wire.0.take().expect("an owned argument is taken once")
    }
}

/// A decoded owned argument, until the call takes it. Decodes exactly as `T`.
#[derive(Debug)]
pub struct Take<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Take<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(|value| Take(Some(value)))
    }
}

/// All positional parameters of a task, as a tuple of [`Param`] kinds (`(Str, Owned<u32>)`).
///
/// ```
/// use parapool::backend::param::{Owned, Params, Str};
/// let args: <(Str, Owned<u32>) as Params>::Args<'_> = ("entry", 2);
/// assert_eq!(args, ("entry", 2));
/// ```
pub trait Params: 'static {
    /// The argument tuple the function takes: `(&'a str, u32)`.
    type Args<'a>: Serialize + Send;
    /// What the far side of a remote backend decodes for one call.
    type Wire<'w>: Deserialize<'w>;
    /// The argument tuple made from its decoded form.
    fn from_wire<'a>(wire: &'a mut Self::Wire<'_>) -> Self::Args<'a>;

    /// Decodes one call's argument tuple from `bytes` (postcard; a one-element tuple decodes as
    /// its element, which may have a faster reader).
    #[doc(hidden)]
    #[inline]
    fn decode_wire(bytes: &[u8]) -> postcard::Result<Self::Wire<'_>> {
        Self::Wire::deserialize(&mut postcard::Deserializer::from_bytes(bytes))
    }

    /// [`decode_wire`](Self::decode_wire) of bytes inside a batch checked to be all ASCII (see
    /// [`Param::decode_wire_in`]).
    #[doc(hidden)]
    #[inline]
    fn decode_wire_in<'w>(bytes: &'w [u8], _batch: Option<AsciiBytes<'_>>) -> postcard::Result<Self::Wire<'w>> {
        Self::decode_wire(bytes)
    }
}

/// Something a caller may pass for a parameter of kind `F`: see the table in the
/// [module documentation](self). You do not implement this; it is implemented for every type the
/// table names.
///
/// ```
/// use parapool::backend::param::{ArgOf, Owned, Ref, Str};
/// fn passes_for<F: parapool::backend::param::Param, A: ArgOf<F>>(_: A) {}
/// let word = String::from("entry");
/// passes_for::<Str, _>(&word); // lent
/// passes_for::<Str, _>("entry");
/// passes_for::<Str, _>(word.clone()); // moved in, lent to the call, dropped after it
/// passes_for::<Ref<String>, _>(&word);
/// passes_for::<Owned<u32>, _>(7u32);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed for this task's parameter (kind `{F}`)",
    label = "the items (or arguments) do not match the task's parameter",
    note = "a parameter taken by value (`word: String`) needs owned items: pass `words` or \
            `words.iter().cloned()`, or declare it as a reference (`word: &str`, `x: &T`) to borrow \
            the caller's data instead",
    note = "`&str` takes a reference to anything `AsRef<str>` or an owned `String`, `Box<str>`, `Arc<str>` or \
            `Cow<str>`; `&[T]` likewise with `AsRef<[T]>` (owned: `Vec<T>`, arrays, `Box<[T]>`, `Arc<[T]>`); `&T` \
            takes anything `Borrow<T>`"
)]
pub trait ArgOf<F: Param>: Send {
    /// What a call keeps while it runs (the item, or the owned value until the call takes it).
    #[doc(hidden)]
    type Held;
    /// Starts a call with this item.
    #[doc(hidden)]
    fn hold(self) -> Self::Held;
    /// The argument, lent from (or moved out of) what the call holds.
    #[doc(hidden)]
    fn arg(held: &mut Self::Held) -> F::Arg<'_>;
    /// Encodes this item exactly as the parameter type encodes.
    #[doc(hidden)]
    fn serialize_arg<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;

    /// Appends the arguments record of a call to a one-parameter task with this item (see
    /// `wire`). Kinds with a fixed layout override this with a direct writer.
    #[doc(hidden)]
    #[inline]
    fn append_one(&self, buffer: &mut Vec<u8>, task: &str)
    where
        Self: Sized,
    {
        wire::append_args(buffer, task, &AsOneArg::<Self, F>::new(self))
    }

    /// The slice `items` walks, if it walks one whose elements these items borrow (a map over
    /// `&words`): a map then hands each job a range of the caller's slice instead of collecting
    /// the references first.
    #[doc(hidden)]
    #[inline]
    fn lend<I: Iterator<Item = Self>>(items: I) -> Result<LentSlice<Self>, I>
    where
        Self: Sized,
    {
        Err(items)
    }
}

/// The caller's slice `&'a [X]` that a map's items `&'a X` borrow from, with `X` erased: a job
/// holds a range of it, and gathers that range's references where the job runs or is encoded (on
/// a worker, in parallel), not on the caller's thread.
#[doc(hidden)]
pub struct LentSlice<A> {
    first: *const (),
    len: usize,
    gather: unsafe fn(*const (), std::ops::Range<usize>) -> Vec<A>,
}

impl<A> Clone for LentSlice<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for LentSlice<A> {}

impl<A> std::fmt::Debug for LentSlice<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LentSlice").field("len", &self.len).finish()
    }
}

// SAFETY: a `LentSlice<&'a X>` stands for a `&'a [X]`, which may be sent to another thread when the
// items `&'a X` may (`X: Sync`); the item type carries the borrow, so it bounds the lifetime of
// whatever holds the slice, as the items themselves would.
unsafe impl<A: Send> Send for LentSlice<A> {}

impl<A> LentSlice<A> {
    /// How many elements the slice has.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The references to the elements of `range`, in order.
    pub(crate) fn gather(&self, range: std::ops::Range<usize>) -> Vec<A> {
        assert!(range.start <= range.end && range.end <= self.len, "a range of the lent slice");
        // SAFETY: `gather` was made for this slice's element type, and `range` is inside it.
        unsafe { (self.gather)(self.first, range) }
    }
}

/// The items of a range of a lent slice, gathered a block at a time (so a chunk of a million
/// references never needs a vector of a million).
pub(crate) struct Gathered<A> {
    slice: LentSlice<A>,
    next: usize,
    end: usize,
    block: std::vec::IntoIter<A>,
}

/// References gathered at once by [`Gathered`]: 8 KiB of them, which stay in the cache.
const GATHER_BLOCK: usize = 1024;

impl<A> Gathered<A> {
    pub(crate) fn new(slice: LentSlice<A>, range: std::ops::Range<usize>) -> Self {
        Gathered { slice, next: range.start, end: range.end, block: Vec::new().into_iter() }
    }
}

impl<A> Iterator for Gathered<A> {
    type Item = A;

    #[inline]
    fn next(&mut self) -> Option<A> {
        if let Some(item) = self.block.next() {
            return Some(item);
        }
        if self.next == self.end {
            return None;
        }
        let end = self.end.min(self.next + GATHER_BLOCK);
        self.block = self.slice.gather(self.next..end).into_iter();
        self.next = end;
        self.block.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next + self.block.len();
        (left, Some(left))
    }
}

impl<'a, X: Sync> LentSlice<&'a X> {
    fn new(slice: &'a [X]) -> Self {
        LentSlice { first: slice.as_ptr().cast(), len: slice.len(), gather: gather_refs::<X> }
    }
}

/// # Safety
///
/// `first` points to the first element of a live `[X]` whose length covers `range`, borrowed for
/// `'a`.
unsafe fn gather_refs<'a, X>(first: *const (), range: std::ops::Range<usize>) -> Vec<&'a X> {
    // SAFETY: the caller's guarantee.
    let slice: &'a [X] = unsafe { std::slice::from_raw_parts(first.cast::<X>().add(range.start), range.len()) };
    slice.iter().collect()
}

/// The slice under `items`, if `I` is the iterator of a slice of `X` (what `&Vec<X>`, `&[X]` and
/// `xs.iter()` give).
#[inline]
fn lend_slice<'a, X: Sync, I: Iterator<Item = &'a X>>(items: I) -> Result<LentSlice<&'a X>, I> {
    if typeid::of::<I>() != typeid::of::<std::slice::Iter<'a, X>>() {
        return Err(items);
    }
    let items = std::mem::ManuallyDrop::new(items);
    // SAFETY: `typeid` says `I` is `slice::Iter<'_, X'>` where `X'` is `X` up to lifetimes; its
    // items are `&'_ X'`, and they are `I::Item = &'a X` exactly, so `I` is `slice::Iter<'a, X>`
    // itself. Reading it out of the `ManuallyDrop` moves it (a slice iterator has no `Drop`).
    let iter: std::slice::Iter<'a, X> = unsafe { std::mem::transmute_copy(&*items) };
    Ok(LentSlice::new(iter.as_slice()))
}

/// The methods of `ArgOf<$kind>` for an item type that is `AsRef<$target>`.
macro_rules! as_ref_arg_methods {
    ($target:ty, $serialize:path, $append:expr) => {
        type Held = Self;
        #[inline]
        fn hold(self) -> Self {
            self
        }
        #[inline]
        fn arg(held: &mut Self) -> &$target {
            <Self as AsRef<$target>>::as_ref(held)
        }
        #[inline]
        fn serialize_arg<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
            $serialize(<Self as AsRef<$target>>::as_ref(self), serializer)
        }
        #[inline]
        fn append_one(&self, buffer: &mut Vec<u8>, task: &str) {
            #[allow(clippy::redundant_closure_call)]
            ($append)(<Self as AsRef<$target>>::as_ref(self), buffer, task)
        }
    };
}

fn serialize_str<Z: Serializer>(text: &str, serializer: Z) -> Result<Z::Ok, Z::Error> {
    serializer.serialize_str(text)
}

/// One length and the bytes: what a `&[u8]` sequence encodes to in postcard, without a call per
/// byte.
fn serialize_bytes<Z: Serializer>(bytes: &[u8], serializer: Z) -> Result<Z::Ok, Z::Error> {
    serializer.serialize_bytes(bytes)
}

fn serialize_slice<T: Serialize, Z: Serializer>(items: &[T], serializer: Z) -> Result<Z::Ok, Z::Error> {
    items.serialize(serializer)
}

/// `ArgOf<$kind>` for references to sized `AsRef<$target>` types (with the slice fast path) and
/// for the owned types listed.
macro_rules! as_ref_args {
    ($kind:ty, $target:ty, $params:tt, $serialize:path, $append:expr, owned: $($owned:ty),*) => {
        as_ref_args!(@impl $params, $kind, $target, $serialize, $append, [X: AsRef<$target> + Sync] &'a X, lend);
        as_ref_args!(@impl $params, $kind, $target, $serialize, $append, [] &'a $target);
        $(as_ref_args!(@impl $params, $kind, $target, $serialize, $append, [] $owned);)*
    };
    (@impl [$($param:tt)*], $kind:ty, $target:ty, $serialize:path, $append:expr, [$($x:tt)*] $ty:ty $(, $lend:ident)?) => {
        impl<'a, $($param)* $($x)*> ArgOf<$kind> for $ty {
            as_ref_arg_methods!($target, $serialize, $append);
            $(
                #[inline]
                fn $lend<I: Iterator<Item = Self>>(items: I) -> Result<LentSlice<Self>, I> {
                    lend_slice(items)
                }
            )?
        }
    };
}

as_ref_args!(Str, str, [], serialize_str, |text: &str, buffer: &mut Vec<u8>, task: &str| {
    wire::append_bytes_args(buffer, task, text.as_bytes())
}, owned: String, Box<str>, std::sync::Arc<str>, std::borrow::Cow<'_, str>);

as_ref_args!(Bytes, [u8], [], serialize_bytes, |bytes: &[u8], buffer: &mut Vec<u8>, task: &str| {
    wire::append_bytes_args(buffer, task, bytes)
}, owned: Vec<u8>, Box<[u8]>, std::sync::Arc<[u8]>, std::borrow::Cow<'_, [u8]>);

as_ref_args!(Slice<T>, [T], [T: Serialize + DeserializeOwned + Sync + Send + 'static,], serialize_slice,
    |items: &[T], buffer: &mut Vec<u8>, task: &str| wire::append_args(buffer, task, &(items,)),
    owned: Vec<T>, Box<[T]>, std::sync::Arc<[T]>);

impl<T: Serialize + DeserializeOwned + Sync + Send + 'static, const N: usize> ArgOf<Slice<T>> for [T; N] {
    as_ref_arg_methods!([T], serialize_slice, |items: &[T], buffer: &mut Vec<u8>, task: &str| wire::append_args(
        buffer,
        task,
        &(items,)
    ));
}

impl<const N: usize> ArgOf<Bytes> for [u8; N] {
    as_ref_arg_methods!([u8], serialize_bytes, |bytes: &[u8], buffer: &mut Vec<u8>, task: &str| {
        wire::append_bytes_args(buffer, task, bytes)
    });
}

impl<T, S> ArgOf<Ref<T>> for S
where
    T: Serialize + DeserializeOwned + Sync + 'static,
    S: Borrow<T> + Send,
{
    type Held = S;
    #[inline]
    fn hold(self) -> S {
        self
    }
    #[inline]
    fn arg(held: &mut S) -> &T {
        (*held).borrow()
    }
    #[inline]
    fn serialize_arg<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        self.borrow().serialize(serializer)
    }
}

impl<T: Serialize + DeserializeOwned + Send + 'static> ArgOf<Owned<T>> for T {
    type Held = Option<T>;
    #[inline]
    fn hold(self) -> Option<T> {
        Some(self)
    }
    #[inline]
    fn arg(held: &mut Option<T>) -> T {
        held.take().expect("an owned argument is taken once")
    }
    #[inline]
    fn serialize_arg<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        self.serialize(serializer)
    }
}

/// A tuple a caller may pass as all positional arguments of a task whose parameters are `P`
/// (each element an [`ArgOf`] its parameter): the items of `starmap`.
///
/// ```
/// # #[parapool::task] fn repeat(word: &str, times: u32) -> String { word.repeat(times as usize) }
/// let words: Vec<String> = ["a", "b"].map(String::from).to_vec();
/// let pool = parapool::Pool::inline()?;
/// // (&String, u32) fits (&str, u32): the words are lent.
/// assert_eq!(pool.starmap(repeat, words.iter().zip([2, 3]))?, ["aa", "bbb"]);
/// # Ok::<(), parapool::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed as this task's positional arguments",
    label = "expected a tuple with one element per positional parameter",
    note = "each element must fit its parameter: owned parameters need owned values; `&str` takes \
            a reference to anything `AsRef<str>` or an owned `String` (and the like), `&[T]` a reference to anything \
            `AsRef<[T]>` or a `Vec<T>`, `&T` anything `Borrow<T>`"
)]
pub trait ArgsOf<P: Params>: Send {
    /// What a call keeps while it runs.
    #[doc(hidden)]
    type Held;
    /// Starts a call with these arguments.
    #[doc(hidden)]
    fn hold(self) -> Self::Held;
    /// The argument tuple, lent from (or moved out of) what the call holds.
    #[doc(hidden)]
    fn args(held: &mut Self::Held) -> P::Args<'_>;
    /// Encodes the tuple exactly as the task's argument tuple encodes.
    #[doc(hidden)]
    fn serialize_args<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

/// Serializes an item as the parameter it stands for.
pub(crate) struct AsArg<'x, A, F>(pub(crate) &'x A, PhantomData<fn() -> F>);

impl<'x, A, F> AsArg<'x, A, F> {
    #[inline]
    pub(crate) fn new(item: &'x A) -> Self {
        AsArg(item, PhantomData)
    }
}

impl<A: ArgOf<F>, F: Param> Serialize for AsArg<'_, A, F> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_arg(serializer)
    }
}

/// Serializes an item as the one-element argument tuple of a one-parameter task.
pub(crate) struct AsOneArg<'x, A, F>(pub(crate) &'x A, PhantomData<fn() -> F>);

impl<'x, A, F> AsOneArg<'x, A, F> {
    #[inline]
    pub(crate) fn new(item: &'x A) -> Self {
        AsOneArg(item, PhantomData)
    }
}

impl<A: ArgOf<F>, F: Param> Serialize for AsOneArg<'_, A, F> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(1)?;
        tuple.serialize_element(&AsArg::<A, F>::new(self.0))?;
        tuple.end()
    }
}

/// Serializes a tuple of items as the argument tuple of a task.
pub(crate) struct AsArgs<'x, A, P>(pub(crate) &'x A, PhantomData<fn() -> P>);

impl<'x, A, P> AsArgs<'x, A, P> {
    #[inline]
    pub(crate) fn new(items: &'x A) -> Self {
        AsArgs(items, PhantomData)
    }
}

impl<A: ArgsOf<P>, P: Params> Serialize for AsArgs<'_, A, P> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_args(serializer)
    }
}

macro_rules! tuple_params {
    ($len:literal; $($F:ident $A:ident $i:tt),*) => {
        tuple_params!(@params $($F $i),*);
        tuple_params!(@args $len; $($F $A $i),*);
    };
    (@params F0 0) => {
        /// One parameter: the tuple decodes as its element, with the element's own reader.
        impl<F0: Param> Params for (F0,) {
            type Args<'a> = (F0::Arg<'a>,);
            type Wire<'w> = (F0::Wire<'w>,);
            #[inline]
            fn from_wire<'a>(wire: &'a mut Self::Wire<'_>) -> Self::Args<'a> {
                (F0::from_wire(&mut wire.0),)
            }
            #[inline]
            fn decode_wire(bytes: &[u8]) -> postcard::Result<Self::Wire<'_>> {
                F0::decode_wire(bytes).map(|wire| (wire,))
            }
            #[inline]
            fn decode_wire_in<'w>(bytes: &'w [u8], batch: Option<AsciiBytes<'_>>) -> postcard::Result<Self::Wire<'w>> {
                F0::decode_wire_in(bytes, batch).map(|wire| (wire,))
            }
        }
    };
    (@params $($F:ident $i:tt),*) => {
        impl<$($F: Param),*> Params for ($($F,)*) {
            type Args<'a> = ($($F::Arg<'a>,)*);
            type Wire<'w> = ($($F::Wire<'w>,)*);
            #[inline]
            #[allow(clippy::unused_unit)]
            fn from_wire<'a>(_wire: &'a mut Self::Wire<'_>) -> Self::Args<'a> {
                ($($F::from_wire(&mut _wire.$i),)*)
            }
        }
    };
    (@args $len:literal; $($F:ident $A:ident $i:tt),*) => {
        impl<$($F: Param, $A: ArgOf<$F>),*> ArgsOf<($($F,)*)> for ($($A,)*) {
            type Held = ($($A::Held,)*);
            #[inline]
            #[allow(clippy::unused_unit)]
            fn hold(self) -> Self::Held {
                ($(self.$i.hold(),)*)
            }
            #[inline]
            #[allow(clippy::unused_unit)]
            fn args(_held: &mut Self::Held) -> ($($F::Arg<'_>,)*) {
                ($($A::arg(&mut _held.$i),)*)
            }
            #[inline]
            fn serialize_args<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #[allow(unused_mut)]
                let mut tuple = serializer.serialize_tuple($len)?;
                $(tuple.serialize_element(&AsArg::<$A, $F>::new(&self.$i))?;)*
                tuple.end()
            }
        }
    };
}

tuple_params!(0;);
tuple_params!(1; F0 A0 0);
tuple_params!(2; F0 A0 0, F1 A1 1);
tuple_params!(3; F0 A0 0, F1 A1 1, F2 A2 2);
tuple_params!(4; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3);
tuple_params!(5; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4);
tuple_params!(6; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4, F5 A5 5);
tuple_params!(7; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4, F5 A5 5, F6 A6 6);
tuple_params!(8; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4, F5 A5 5, F6 A6 6, F7 A7 7);
tuple_params!(9; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4, F5 A5 5, F6 A6 6, F7 A7 7, F8 A8 8);
tuple_params!(10; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4, F5 A5 5, F6 A6 6, F7 A7 7, F8 A8 8, F9 A9 9);
tuple_params!(11; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4, F5 A5 5, F6 A6 6, F7 A7 7, F8 A8 8, F9 A9 9, F10 A10 10);
tuple_params!(12; F0 A0 0, F1 A1 1, F2 A2 2, F3 A3 3, F4 A4 4, F5 A5 5, F6 A6 6, F7 A7 7, F8 A8 8, F9 A9 9, F10 A10 10, F11 A11 11);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_str_is_checked_unless_it_lies_in_a_batch_checked_to_be_ascii() {
        fn decode<'w>(bytes: &'w [u8], batch: Option<AsciiBytes<'_>>) -> postcard::Result<&'w str> {
            <(Str,) as Params>::decode_wire_in(bytes, batch).map(|w| w.0 .0)
        }
        let batch: &[u8] = b"\x05entry\x03map";
        let ascii = AsciiBytes::check(batch);
        assert!(ascii.is_some());
        assert_eq!(decode(batch, ascii).unwrap(), "entry");
        assert_eq!(decode(&batch[6..], ascii).unwrap(), "map");
        assert_eq!(decode(batch, None).unwrap(), "entry");
        assert!(AsciiBytes::check("\u{e9}".as_bytes()).is_none());
        assert_eq!(decode("\x03\u{e9}a".as_bytes(), None).unwrap(), "\u{e9}a");
        // A proof vouches only for bytes inside it: other bytes are still checked.
        assert!(matches!(decode(b"\x02\xffa", ascii), Err(postcard::Error::DeserializeBadUtf8)));
        assert!(matches!(decode(b"\x09entry", ascii), Err(postcard::Error::DeserializeUnexpectedEnd)));
    }
}
