//! How each parameter of a task is passed: by value, or borrowed from data the caller keeps.
//!
//! `#[task]` sorts every parameter into one of five kinds by how it is written, and names the
//! kind in [`Task::Params`](crate::Task::Params):
//!
//! | parameter | kind | the caller may pass (each item of a `map`) | a worker process decodes |
//! |---|---|---|---|
//! | `word: &str` | [`Str`] | anything `AsRef<str>`: `&String`, `&str`, `String`, `Box<str>`, `Cow<str>` | a `&str` into the received bytes: no allocation |
//! | `data: &[u8]` | [`Bytes`] | anything `AsRef<[u8]>` | a `&[u8]` into the received bytes: no allocation |
//! | `xs: &[T]` | [`Slice<T>`] | anything `AsRef<[T]>`: `&Vec<T>`, `&[T]`, `Vec<T>`, arrays | a `Vec<T>`, lent to the call |
//! | `x: &T` | [`Ref<T>`] | anything `Borrow<T>`: `&T`, `T`, `Box<T>`, `Arc<T>` | a `T`, lent to the call |
//! | `x: T` | [`Owned<T>`] | a `T` | a `T`, moved into the call |
//!
//! A borrowed parameter never makes the caller clone: a map over `&words` hands each call a
//! `&str` that points into `words` (in-process backends) or encodes straight from it (backends
//! that run work elsewhere). Which calls may borrow, and for how long, is [`Pool`](crate::Pool)'s
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

use crate::wire;

/// One kind of parameter (a row of the table in the module documentation). Implemented by the
/// five kinds [`Str`], [`Bytes`], [`Slice`], [`Ref`] and [`Owned`]; `#[task]` picks one per
/// parameter.
///
/// ```
/// use parapool::param::{Param, Str};
/// use parapool::param::Owned;
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
}

/// Something a caller may pass for a parameter of kind `F`: see the table in the
/// [module documentation](self). You do not implement this; it is implemented for every type the
/// table names.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed for this task's parameter (kind `{F}`)",
    label = "the items (or arguments) do not match the task's parameter",
    note = "a parameter taken by value (`word: String`) needs owned items: pass `words` or \
            `words.iter().cloned()`, or declare it as a reference (`word: &str`, `x: &T`) to borrow \
            the caller's data instead",
    note = "`&str` takes anything `AsRef<str>`, `&[T]` anything `AsRef<[T]>`, `&T` anything `Borrow<T>`"
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
}

impl<S: AsRef<str> + Send> ArgOf<Str> for S {
    type Held = S;
    #[inline]
    fn hold(self) -> S {
        self
    }
    #[inline]
    fn arg(held: &mut S) -> &str {
        (*held).as_ref()
    }
    #[inline]
    fn serialize_arg<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.serialize_str(self.as_ref())
    }
    #[inline]
    fn append_one(&self, buffer: &mut Vec<u8>, _task: &str) {
        wire::append_bytes_args(buffer, self.as_ref().as_bytes())
    }
}

impl<S: AsRef<[u8]> + Send> ArgOf<Bytes> for S {
    type Held = S;
    #[inline]
    fn hold(self) -> S {
        self
    }
    #[inline]
    fn arg(held: &mut S) -> &[u8] {
        (*held).as_ref()
    }
    /// One length and the bytes: what a `&[u8]` sequence encodes to in postcard, without a call
    /// per byte.
    #[inline]
    fn serialize_arg<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.serialize_bytes(self.as_ref())
    }
    #[inline]
    fn append_one(&self, buffer: &mut Vec<u8>, _task: &str) {
        wire::append_bytes_args(buffer, self.as_ref())
    }
}

impl<T, S> ArgOf<Slice<T>> for S
where
    T: Serialize + DeserializeOwned + Sync + 'static,
    S: AsRef<[T]> + Send,
{
    type Held = S;
    #[inline]
    fn hold(self) -> S {
        self
    }
    #[inline]
    fn arg(held: &mut S) -> &[T] {
        (*held).as_ref()
    }
    #[inline]
    fn serialize_arg<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        self.as_ref().serialize(serializer)
    }
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed as this task's positional arguments",
    label = "expected a tuple with one element per positional parameter",
    note = "each element must fit its parameter: owned parameters need owned values; `&str` takes \
            anything `AsRef<str>`, `&[T]` anything `AsRef<[T]>`, `&T` anything `Borrow<T>`"
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
