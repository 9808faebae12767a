//! Property tests: on every backend in `common::BACKENDS`, every call gives what sequential
//! execution gives — same values, same order for ordered calls, same multiset for unordered ones —
//! and exactly the inputs whose task panics give errors, carrying that panic's message.

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

mod common;

use common::{subtract, weigh, weigh_borrowed, weigh_reference, BACKENDS};
use parapool::{Error, Task};
use proptest::prelude::*;

/// Words: empty, ASCII, unicode, and now and then long.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{0,12}",
        2 => "\\PC{0,8}",
        1 => "[a-zé日本ß]{100,400}",
    ]
}

/// Keyword arguments for [`weigh`]: a letter set, a scale, and maybe a character that panics.
fn kwargs() -> impl Strategy<Value = (String, u64, Option<char>)> {
    ("[a-eé]{0,3}", 1u64..5, proptest::option::weighted(0.4, prop_oneof![Just('a'), Just('é'), Just('z')]))
}

fn chunksize() -> impl Strategy<Value = Option<usize>> {
    proptest::option::of(1usize..20)
}

fn call(kw: &(String, u64, Option<char>), chunk: Option<usize>) -> parapool::TaskCall<'static, weigh> {
    let call = weigh.with(weigh::kwargs().letter(kw.0.as_str()).scale(kw.1).fail_on(kw.2));
    match chunk {
        Some(n) => call.chunksize(n),
        None => call,
    }
}

/// The message of a task panic, or a description of any other result.
fn panic_message<T: std::fmt::Debug>(result: &Result<T, Error>) -> Result<&T, String> {
    match result {
        Ok(value) => Ok(value),
        Err(Error::Panicked { task, message, .. }) => {
            assert_eq!(task, <weigh as Task>::NAME);
            Err(message.clone())
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

/// What `map` must return: every value, or the first panic in input order.
fn expected_map(expected: &[Result<u64, String>]) -> Result<Vec<u64>, String> {
    expected.iter().cloned().collect()
}

fn map_outcome(result: Result<Vec<u64>, Error>) -> Result<Vec<u64>, String> {
    match result {
        Ok(values) => Ok(values),
        Err(Error::Panicked { message, .. }) => Err(message),
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

/// [`weigh_borrowed`] with the keyword arguments `kw`, its letters lent by `kw`.
fn borrowed_call(kw: &(String, u64, Option<char>), chunk: Option<usize>) -> parapool::TaskCall<'_, weigh_borrowed> {
    let call = weigh_borrowed.with(weigh_borrowed::kwargs().letter(&kw.0).scale(kw.1).fail_on(kw.2));
    match chunk {
        Some(n) => call.chunksize(n),
        None => call,
    }
}

/// One item's outcome from [`weigh_borrowed`]: the value, or the message of its panic.
fn borrowed_outcome(result: &Result<u64, Error>) -> Result<u64, String> {
    match result {
        Ok(value) => Ok(*value),
        Err(Error::Panicked { task, message, .. }) => {
            assert_eq!(task, <weigh_borrowed as Task>::NAME);
            Err(message.clone())
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

/// A whole map's outcome from [`weigh_borrowed`]: the values, or the message of the first panic.
fn borrowed_map_outcome(result: Result<Vec<u64>, Error>) -> Result<Vec<u64>, String> {
    match result {
        Ok(values) => Ok(values),
        Err(error) => Err(borrowed_outcome(&Err(error)).unwrap_err()),
    }
}

/// Each item as a one-element argument tuple, for `starmap`.
fn starred<I: IntoIterator>(items: I) -> impl Iterator<Item = (I::Item,)> {
    items.into_iter().map(|item| (item,))
}

/// Runs `$body` once for each form a caller may pass `$words` (a `Vec<String>`) in for a `&str`
/// parameter, with `$form` naming the form and `$items()` making a fresh value of it (a borrowing
/// one, or an owned copy the call consumes).
macro_rules! for_each_str_form {
    ($words:expr, |$form:ident, $items:ident| $body:block) => {{
        let words: &Vec<String> = &$words;
        {
            let ($form, $items) = ("&Vec<String>", || words);
            $body
        }
        {
            let ($form, $items) = ("words.iter()", || words.iter());
            $body
        }
        {
            let ($form, $items) = ("Vec<&str>", || words.iter().map(String::as_str).collect::<Vec<&str>>());
            $body
        }
        {
            let ($form, $items) = ("&[String]", || words.as_slice());
            $body
        }
        {
            let ($form, $items) = ("Vec<String>", || words.clone());
            $body
        }
    }};
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn map_family_equals_sequential(words in prop::collection::vec(word(), 0..60), kw in kwargs(), chunk in chunksize()) {
        let expected: Vec<Result<u64, String>> =
            words.iter().map(|w| weigh_reference(w, &kw.0, kw.1, kw.2)).collect();
        for backend in BACKENDS {
            let pool = common::pool(backend);

            prop_assert_eq!(map_outcome(pool.map(call(&kw, chunk), words.clone())), expected_map(&expected), "map on {}", backend);
            prop_assert_eq!(
                map_outcome(pool.map_async(call(&kw, chunk), words.clone()).unwrap().get()),
                expected_map(&expected),
                "map_async on {}", backend
            );
            let starred: Vec<(String,)> = words.iter().map(|w| (w.clone(),)).collect();
            prop_assert_eq!(map_outcome(pool.starmap(call(&kw, chunk), starred.clone())), expected_map(&expected), "starmap on {}", backend);
            prop_assert_eq!(
                map_outcome(pool.starmap_async(call(&kw, chunk), starred).unwrap().get()),
                expected_map(&expected),
                "starmap_async on {}", backend
            );

            let streamed: Vec<Result<u64, String>> = pool
                .imap(call(&kw, chunk), words.clone())
                .map(|r| panic_message(&r).cloned())
                .collect();
            prop_assert_eq!(&streamed, &expected, "imap on {}", backend);

            let mut unordered: Vec<Result<u64, String>> = pool
                .imap_unordered(call(&kw, chunk), words.clone())
                .map(|r| panic_message(&r).cloned())
                .collect();
            let mut sorted_expected = expected.clone();
            unordered.sort();
            sorted_expected.sort();
            prop_assert_eq!(&unordered, &sorted_expected, "imap_unordered on {}", backend);

            pool.close();
            pool.join().unwrap();
        }
    }

    #[test]
    fn apply_family_equals_sequential(words in prop::collection::vec(word(), 0..12), kw in kwargs()) {
        let kwargs = || weigh::kwargs().letter(kw.0.as_str()).scale(kw.1).fail_on(kw.2);
        for backend in BACKENDS {
            let pool = common::pool(backend);
            let handles: Vec<_> = words.iter().map(|w| pool.apply_async(weigh, (w.clone(),), kwargs()).unwrap()).collect();
            for (word, handle) in words.iter().zip(handles) {
                let expected = weigh_reference(word, &kw.0, kw.1, kw.2);
                let applied = pool.apply(weigh, (word.clone(),), kwargs());
                prop_assert_eq!(panic_message(&applied).cloned(), expected.clone(), "apply on {}", backend);
                let got = handle.get();
                prop_assert_eq!(panic_message(&got).cloned(), expected, "apply_async on {}", backend);
            }
        }
    }

    #[test]
    fn starmap_unpacks_positional_tuples(pairs in prop::collection::vec((-50i64..50, -50i64..50), 0..40), chunk in chunksize()) {
        let expected: Result<Vec<i64>, String> = pairs
            .iter()
            .map(|&(a, b)| if a >= b { Ok(a - b) } else { Err(format!("{a} < {b}")) })
            .collect();
        for backend in BACKENDS {
            let pool = common::pool(backend);
            let call = match chunk { Some(n) => subtract.chunksize(n), None => parapool::TaskCall::new(subtract) };
            let got = match pool.starmap(call, pairs.clone()) {
                Ok(values) => Ok(values),
                Err(Error::Panicked { message, .. }) => Err(message),
                Err(other) => panic!("unexpected {other:?}"),
            };
            prop_assert_eq!(&got, &expected, "starmap on {}", backend);
        }
    }

    #[test]
    fn borrowed_calls_equal_sequential(words in prop::collection::vec(word(), 0..40), kw in kwargs(), chunk in chunksize()) {
        let expected: Vec<Result<u64, String>> =
            words.iter().map(|w| weigh_reference(w, &kw.0, kw.1, kw.2)).collect();
        let mut sorted_expected = expected.clone();
        sorted_expected.sort();
        let snapshot = words.clone();
        for backend in BACKENDS {
            let pool = common::pool(backend);
            let call = || borrowed_call(&kw, chunk);

            for_each_str_form!(words, |form, items| {
                prop_assert_eq!(
                    borrowed_map_outcome(pool.map(call(), items())),
                    expected_map(&expected),
                    "map over {} on {}", form, backend
                );
                prop_assert_eq!(
                    borrowed_map_outcome(pool.starmap(call(), starred(items()))),
                    expected_map(&expected),
                    "starmap over ({},) on {}", form, backend
                );
                // Every scoped call at once, each handle and stream read after all were started.
                let (mapped, starmapped, streamed, mut unordered) = pool.scope(|s| {
                    let mapped = s.map_async(call(), items()).unwrap();
                    let starmapped = s.starmap_async(call(), starred(items())).unwrap();
                    let streamed = s.imap(call(), items());
                    let unordered = s.imap_unordered(call(), items());
                    let unordered: Vec<_> = unordered.map(|r| borrowed_outcome(&r)).collect();
                    let streamed: Vec<_> = streamed.map(|r| borrowed_outcome(&r)).collect();
                    (mapped.get(), starmapped.get(), streamed, unordered)
                });
                prop_assert_eq!(borrowed_map_outcome(mapped), expected_map(&expected), "scoped map_async over {} on {}", form, backend);
                prop_assert_eq!(
                    borrowed_map_outcome(starmapped),
                    expected_map(&expected),
                    "scoped starmap_async over ({},) on {}", form, backend
                );
                prop_assert_eq!(&streamed, &expected, "scoped imap over {} on {}", form, backend);
                unordered.sort();
                prop_assert_eq!(&unordered, &sorted_expected, "scoped imap_unordered over {} on {}", form, backend);
            });

            // apply and scoped apply_async, the word lent as &String, &str or a subslice in turn,
            // the keyword arguments borrowed from `kw`.
            let kwargs = || weigh_borrowed::kwargs().letter(&kw.0).scale(kw.1).fail_on(kw.2);
            for (i, (word, expected)) in words.iter().zip(&expected).enumerate() {
                let applied = match i % 3 {
                    0 => pool.apply(weigh_borrowed, (word,), kwargs()),
                    1 => pool.apply(weigh_borrowed, (word.as_str(),), kwargs()),
                    _ => pool.apply(weigh_borrowed, (&word[..],), kwargs()),
                };
                prop_assert_eq!(&borrowed_outcome(&applied), expected, "apply on {}", backend);
            }
            let applied_async: Vec<Result<u64, String>> = pool.scope(|s| {
                let handles: Vec<_> = words.iter().map(|w| s.apply_async(weigh_borrowed, (w,), kwargs()).unwrap()).collect();
                handles.into_iter().map(|h| borrowed_outcome(&h.get())).collect()
            });
            prop_assert_eq!(&applied_async, &expected, "scoped apply_async on {}", backend);

            prop_assert_eq!(&words, &snapshot, "the caller's words changed on {}", backend);
            pool.close();
            pool.join().unwrap();
        }
    }
}
