//! Conformance of borrowed task parameters, on every backend in `common::BACKENDS`: each kind of
//! parameter (`&str`, `&[u8]`, `&[T]`, `&T`, and owned ones mixed with them) through every call
//! (`map`, `starmap`, `apply`, and inside `pool.scope` `map_async`, `starmap_async`,
//! `apply_async`, `imap`, `imap_unordered`), with the items in each form a caller may pass;
//! borrowed keyword arguments; the caller's data left as it was; and a scope that returns only
//! after every job it started has finished, however its closure ends.

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

mod common;

use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use common::{
    address_of, checksum, checksum_reference, label, label_reference, mark, perimeter, weigh_borrowed, weigh_reference,
    weighted_sum, weighted_sum_reference, within, Marks, Shape, BACKENDS,
};
use parapool::backend::param::{ArgOf, Param};
use parapool::{Error, Pool, Scope, Task, TaskCall};

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// `count` distinct words that are safe as file names (for [`mark`]), starting with `prefix`.
fn numbered(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i:03}")).collect()
}

/// Every call of the map family — `map`, `starmap`, and inside one `pool.scope`, all at once,
/// `map_async`, `starmap_async`, `imap` and `imap_unordered` — over the items `items()` makes
/// (a fresh value for each call: a borrowing form, or an owned one the call consumes) gives
/// `expected` (in any order for `imap_unordered`).
fn check_map_family<'a, 'i, T, F, I>(
    pool: &Pool,
    call: &TaskCall<'a, T>,
    items: impl Fn() -> I,
    expected: &[T::Output],
    form: &str,
) where
    T: Task<Params = (F,)>,
    F: Param,
    I: IntoIterator,
    I::Item: ArgOf<F> + 'i,
    T::Output: Ord + Debug + Clone,
{
    let backend = pool.backend_name();
    assert_eq!(pool.map(call.clone(), items()).unwrap(), expected, "{backend}: map over {form}");
    let starred = pool.starmap(call.clone(), items().into_iter().map(|item| (item,)));
    assert_eq!(starred.unwrap(), expected, "{backend}: starmap over ({form},) tuples");
    let (mapped, starmapped, streamed, mut unordered) = pool.scope(|s| {
        let mapped = s.map_async(call.clone(), items()).unwrap();
        let starmapped = s.starmap_async(call.clone(), items().into_iter().map(|item| (item,))).unwrap();
        let streamed: Vec<_> = s.imap(call.clone(), items()).map(Result::unwrap).collect();
        let unordered: Vec<_> = s.imap_unordered(call.clone(), items()).map(Result::unwrap).collect();
        (mapped.get().unwrap(), starmapped.get().unwrap(), streamed, unordered)
    });
    assert_eq!(mapped, expected, "{backend}: scoped map_async over {form}");
    assert_eq!(starmapped, expected, "{backend}: scoped starmap_async over ({form},) tuples");
    assert_eq!(streamed, expected, "{backend}: scoped imap over {form}");
    let mut sorted = expected.to_vec();
    sorted.sort();
    unordered.sort();
    assert_eq!(unordered, sorted, "{backend}: scoped imap_unordered over {form}");
}

/// `pool.apply($task, $args, $kwargs)` for each `$item` of `$items`, then inside a scope
/// `s.apply_async` for all of them at once before taking any result, give `$expected`.
macro_rules! check_apply_family {
    ($pool:expr, $task:expr, $items:expr, |$item:ident| $args:expr, $kwargs:expr, $expected:expr, $form:expr) => {{
        let pool: &Pool = &$pool;
        let backend = pool.backend_name();
        let applied: Vec<_> = $items.into_iter().map(|$item| pool.apply($task, $args, $kwargs).unwrap()).collect();
        assert_eq!(applied, $expected, "{backend}: apply with {}", $form);
        let applied_async: Vec<_> = pool.scope(|s| {
            let handles: Vec<_> =
                $items.into_iter().map(|$item| s.apply_async($task, $args, $kwargs).unwrap()).collect();
            handles.into_iter().map(|handle| handle.get().unwrap()).collect()
        });
        assert_eq!(applied_async, $expected, "{backend}: scoped apply_async with {}", $form);
    }};
}

// ----- each kind of parameter, on every call ----------------------------------------------------

#[test]
fn str_parameters_on_every_call() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let mut words = strings(&["entry", "", "grandmother", "négociation", "日本語", "writer", "e"]);
        let snapshot = words.clone();
        let letter = String::from("reé");
        let expected: Vec<u64> = words.iter().map(|w| weigh_reference(w, &letter, 2, None).unwrap()).collect();
        let call = weigh_borrowed.with(weigh_borrowed::kwargs().letter(&letter).scale(2));

        check_map_family(&pool, &call, || &words, &expected, "&Vec<String>");
        check_map_family(&pool, &call, || words.iter(), &expected, "words.iter()");
        check_map_family(
            &pool,
            &call,
            || words.iter().map(String::as_str).collect::<Vec<&str>>(),
            &expected,
            "Vec<&str>",
        );
        check_map_family(&pool, &call, || &words[..], &expected, "&[String]");
        check_map_family(&pool, &call, || words.clone(), &expected, "Vec<String> (consumed)");
        check_map_family(&pool, &call, || words.iter().map(|w| w.clone().into_boxed_str()), &expected, "Box<str>");
        let literals = ["entry", "", "grandmother", "négociation", "日本語", "writer", "e"];
        check_map_family(&pool, &call, || literals, &expected, "[&'static str; 7]");
        check_map_family(&pool, &call.clone().chunksize(1), || &words, &expected, "&Vec<String>, one per job");
        check_map_family(&pool, &call, Vec::<&String>::new, &[], "an empty Vec<&String>");

        let kwargs = || weigh_borrowed::kwargs().letter(&letter).scale(2);
        check_apply_family!(pool, weigh_borrowed, &words, |word| (word,), kwargs(), expected, "(&String,)");
        check_apply_family!(pool, weigh_borrowed, &words, |word| (word.as_str(),), kwargs(), expected, "(&str,)");
        check_apply_family!(pool, weigh_borrowed, literals, |word| (word,), kwargs(), expected, "(&'static str,)");

        assert_eq!(words, snapshot, "{backend}: the caller's words are unchanged");
        // Nothing borrows them any more: the caller may change them and lend them again.
        words.push("reader".into());
        let again = pool.map(call.clone(), &words);
        assert_eq!(again.unwrap().last(), Some(&8), "{backend}: 'reader' has four letters of \"reé\", times 2");
    }
}

#[test]
fn byte_slice_parameters_on_every_call() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let blobs: Vec<Vec<u8>> =
            vec![b"abc".to_vec(), Vec::new(), (0..=255).collect(), vec![0; 1000], b"zzz".to_vec()];
        let snapshot = blobs.clone();
        let skip = b"z\x00".to_vec();
        let expected: Vec<u64> = blobs.iter().map(|b| checksum_reference(b, &skip)).collect();
        let call = checksum.with(checksum::kwargs().skip(&skip));

        check_map_family(&pool, &call, || &blobs, &expected, "&Vec<Vec<u8>>");
        check_map_family(&pool, &call, || blobs.iter(), &expected, "blobs.iter()");
        check_map_family(
            &pool,
            &call,
            || blobs.iter().map(Vec::as_slice).collect::<Vec<&[u8]>>(),
            &expected,
            "Vec<&[u8]>",
        );
        check_map_family(&pool, &call, || &blobs[..], &expected, "&[Vec<u8>]");
        check_map_family(&pool, &call, || blobs.clone(), &expected, "Vec<Vec<u8>> (consumed)");
        check_map_family(&pool, &call.clone().chunksize(2), || &blobs, &expected, "&Vec<Vec<u8>>, two per job");

        // Anything `AsRef<[u8]>`: strings lend their bytes, arrays their elements.
        let words = strings(&["map", "zebra", ""]);
        let word_sums: Vec<u64> = words.iter().map(|w| checksum_reference(w.as_bytes(), &skip)).collect();
        check_map_family(&pool, &call, || &words, &word_sums, "&Vec<String> as bytes");
        let arrays = [[1u8, 2, 3], [0, 122, 7]];
        check_map_family(&pool, &call, || arrays, &[14, 21], "[[u8; 3]; 2]");
        // No keyword argument: nothing is skipped.
        assert_eq!(pool.map(checksum, &blobs[..1]).unwrap(), vec![97 + 2 * 98 + 3 * 99], "{backend}");

        let kwargs = || checksum::kwargs().skip(&skip);
        check_apply_family!(pool, checksum, &blobs, |blob| (blob.as_slice(),), kwargs(), expected, "(&[u8],)");
        check_apply_family!(pool, checksum, &blobs, |blob| (&blob[..],), kwargs(), expected, "(&blob[..],)");
        assert_eq!(blobs, snapshot, "{backend}: the caller's bytes are unchanged");
    }
}

#[test]
fn slice_parameters_on_every_call() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let rows: Vec<Vec<u32>> = vec![vec![1, 2, 3], vec![], vec![10; 50], vec![u32::MAX, 1], vec![7]];
        let snapshot = rows.clone();
        let weights = vec![3u32, 0];
        let unit = String::from(" kg");
        let expected: Vec<String> = rows.iter().map(|r| weighted_sum_reference(r, &weights, &unit)).collect();
        let call = weighted_sum.with(weighted_sum::kwargs().weights(&weights).unit(&unit));

        check_map_family(&pool, &call, || &rows, &expected, "&Vec<Vec<u32>>");
        check_map_family(&pool, &call, || rows.iter(), &expected, "rows.iter()");
        check_map_family(
            &pool,
            &call,
            || rows.iter().map(Vec::as_slice).collect::<Vec<&[u32]>>(),
            &expected,
            "Vec<&[u32]>",
        );
        check_map_family(&pool, &call, || &rows[..], &expected, "&[Vec<u32>]");
        check_map_family(&pool, &call, || rows.clone(), &expected, "Vec<Vec<u32>> (consumed)");
        check_map_family(&pool, &call.clone().chunksize(1), || rows.iter(), &expected, "rows.iter(), one per job");
        let arrays = [[1u32, 2, 3], [4, 5, 6]];
        check_map_family(&pool, &call, || arrays, &["6 kg".to_string(), "18 kg".to_string()], "[[u32; 3]; 2]");
        check_map_family(&pool, &call, || arrays.iter(), &["6 kg".to_string(), "18 kg".to_string()], "arrays.iter()");

        let kwargs = || weighted_sum::kwargs().weights(&weights).unit(&unit);
        check_apply_family!(pool, weighted_sum, &rows, |row| (row.as_slice(),), kwargs(), expected, "(&[u32],)");
        check_apply_family!(pool, weighted_sum, &rows, |row| (&row[..],), kwargs(), expected, "(&row[..],)");
        assert_eq!(rows, snapshot, "{backend}: the caller's rows are unchanged");
        assert_eq!(weights, [3, 0], "{backend}: the caller's weights are unchanged");
    }
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape::new("triangle", &[3, 4, 5]),
        Shape::new("square", &[2; 4]),
        Shape::new("", &[1]),
        Shape::new("hectogon", &[7; 100]),
    ]
}

#[test]
fn reference_parameters_on_every_call() {
    // `Shape` is not `Clone`: every form below passes the caller's shapes without copying them.
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let shapes = shapes();
        let expected = strings(&["triangle: 36", "square: 24", ": 3", "hectogon: 2100"]);
        let call = perimeter.with(perimeter::kwargs().scale(3));

        check_map_family(&pool, &call, || &shapes, &expected, "&Vec<Shape>");
        check_map_family(&pool, &call, || shapes.iter(), &expected, "shapes.iter()");
        check_map_family(&pool, &call, || shapes.iter().collect::<Vec<&Shape>>(), &expected, "Vec<&Shape>");
        check_map_family(&pool, &call, || &shapes[..], &expected, "&[Shape]");
        check_map_family(&pool, &call, self::shapes, &expected, "Vec<Shape> (consumed)");
        check_map_family(&pool, &call, || self::shapes().into_iter().map(Box::new), &expected, "Box<Shape>");
        check_map_family(&pool, &call, || self::shapes().into_iter().map(Arc::new), &expected, "Arc<Shape>");
        check_map_family(&pool, &call.clone().chunksize(1), || &shapes, &expected, "&Vec<Shape>, one per job");

        let kwargs = || perimeter::kwargs().scale(3);
        check_apply_family!(pool, perimeter, &shapes, |shape| (shape,), kwargs(), expected, "(&Shape,)");
        assert_eq!(shapes, self::shapes(), "{backend}: the caller's shapes are unchanged");

        // A panic is an error for that item alone, also with borrowed items.
        let with_a_bad_one = vec![Shape::new("dot", &[]), Shape::new("line", &[1, 1])];
        let err = pool.map(perimeter, &with_a_bad_one).unwrap_err();
        assert!(matches!(&err, Error::Panicked { message, .. } if message == "dot has no sides"), "{backend}: {err:?}");
        let streamed: Vec<_> = pool.scope(|s| s.imap(perimeter.chunksize(2), &with_a_bad_one).collect());
        assert!(
            matches!(&streamed[0], Err(Error::Panicked { task, message, .. })
                if task == <perimeter as Task>::NAME && message == "dot has no sides"),
            "{backend}: {:?}",
            streamed[0]
        );
        assert_eq!(streamed[1], Ok("line: 2".to_string()), "{backend}");
        assert_eq!(with_a_bad_one[1], Shape::new("line", &[1, 1]), "{backend}");
    }
}

#[test]
fn owned_and_borrowed_parameters_mixed() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let words = strings(&["ab", "", "é"]);
        let tails: Vec<Vec<u32>> = vec![vec![1, 2], vec![], vec![40]];
        let shapes = shapes();
        let offsets = [0u64, 5, u64::from(u32::MAX)];
        let expected: Vec<String> = (0..3)
            .map(|i| label_reference(&words[i], i + 1, &tails[i], &format!("s{i}"), &shapes[i], offsets[i]))
            .collect();
        assert_eq!(expected[0], "ab|3|s0|triangle", "the reference itself");

        // Borrowed arguments as references to the caller's data, owned ones moved in.
        let lent = || (0..3).map(|i| (&words[i], i + 1, &tails[i], format!("s{i}"), &shapes[i], &offsets[i]));
        // Borrowed arguments given owned (or boxed) instead: also accepted.
        let owned = || {
            (0..3).map(|i| {
                let shape = Box::new(Shape::new(&shapes[i].name, &shapes[i].sides));
                (words[i].clone(), i + 1, tails[i].clone(), format!("s{i}"), shape, offsets[i])
            })
        };
        for (form, got) in [
            ("lent", pool.starmap(label, lent())),
            ("owned", pool.starmap(label, owned())),
            ("lent, one per job", pool.starmap(label.chunksize(1), lent())),
        ] {
            assert_eq!(got.unwrap(), expected, "{backend}: starmap, {form}");
        }
        let (lent_async, owned_async) = pool.scope(|s| {
            let lent_async = s.starmap_async(label, lent()).unwrap();
            let owned_async = s.starmap_async(label.chunksize(2), owned()).unwrap();
            (lent_async.get().unwrap(), owned_async.get().unwrap())
        });
        assert_eq!(lent_async, expected, "{backend}: scoped starmap_async, lent");
        assert_eq!(owned_async, expected, "{backend}: scoped starmap_async, owned");

        check_apply_family!(
            pool,
            label,
            0..3,
            |i| (words[i].as_str(), i + 1, tails[i].as_slice(), format!("s{i}"), &shapes[i], &offsets[i]),
            (),
            expected,
            "(&str, usize, &[u32], String, &Shape, &u64)"
        );
        assert_eq!(words, ["ab", "", "é"], "{backend}: the caller's data is unchanged");
        assert_eq!(tails, [vec![1, 2], vec![], vec![40]], "{backend}");
        assert_eq!(shapes, self::shapes(), "{backend}");
    }
}

// ----- borrowed keyword arguments -----------------------------------------------------------------

#[test]
fn borrowed_keyword_arguments_through_with_and_apply() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let words = strings(&["entry", "writer", "negotiation", "hall"]);
        let mut letter = String::from("e");

        // Defaults: no keyword arguments count every letter.
        assert_eq!(pool.map(weigh_borrowed, &words).unwrap(), vec![5, 6, 11, 4], "{backend}: defaults");
        assert_eq!(pool.apply(weigh_borrowed, ("hall",), ()).unwrap(), 4, "{backend}: defaults, apply");

        let with_e = weigh_borrowed.with(weigh_borrowed::kwargs().letter(&letter));
        assert_eq!(
            pool.map(with_e.clone(), &words).unwrap(),
            vec![1, 1, 1, 0],
            "{backend}: map with a borrowed letter"
        );
        let starred = pool.starmap(with_e.clone(), words.iter().map(|w| (w,)));
        assert_eq!(starred.unwrap(), vec![1, 1, 1, 0], "{backend}: starmap with a borrowed letter");
        let (mapped, streamed) = pool.scope(|s| {
            let mapped = s.map_async(with_e.clone(), &words).unwrap();
            let streamed: Vec<u64> = s.imap(with_e.clone(), words.iter()).map(Result::unwrap).collect();
            (mapped.get().unwrap(), streamed)
        });
        assert_eq!(mapped, vec![1, 1, 1, 0], "{backend}: scoped map_async with a borrowed letter");
        assert_eq!(streamed, vec![1, 1, 1, 0], "{backend}: scoped imap with a borrowed letter");
        let applied = pool.apply(weigh_borrowed, ("clothes",), weigh_borrowed::kwargs().letter(&letter).scale(10));
        assert_eq!(applied.unwrap(), 10, "{backend}: apply with a borrowed letter");
        let handle_value = pool
            .scope(|s| s.apply_async(weigh_borrowed, (&words[2],), weigh_borrowed::kwargs().letter(&letter))?.get());
        assert_eq!(handle_value.unwrap(), 1, "{backend}: scoped apply_async with a borrowed letter");

        // Every keyword argument together; the letters borrowed from part of a string.
        let text = String::from("xxntoy");
        let every = weigh_borrowed.with(weigh_borrowed::kwargs().letter(&text[2..5]).scale(3).fail_on(Some('w')));
        let results: Vec<_> = pool.scope(|s| s.imap(every.chunksize(1), &words).collect());
        assert_eq!(results[0], Ok(6), "{backend}: 'entry' has an n and a t, times 3");
        assert!(
            matches!(&results[1], Err(Error::Panicked { message, .. }) if message == "'w' in \"writer\""),
            "{backend}: {:?}",
            results[1]
        );
        assert_eq!(results[2], Ok(18), "{backend}: 'negotiation' has two each of n, t and o, times 3");
        assert_eq!(results[3], Ok(0), "{backend}");

        // The caller changes its string once the calls are done, and lends it again.
        letter.push('a');
        let with_ea = weigh_borrowed.with(weigh_borrowed::kwargs().letter(&letter));
        assert_eq!(pool.map(with_ea, &words).unwrap(), vec![1, 1, 2, 1], "{backend}: after the change");
        assert_eq!(text, "xxntoy", "{backend}: the caller's string is unchanged");
    }
}

// ----- the caller's data ----------------------------------------------------------------------------

#[test]
fn in_process_backends_lend_the_callers_own_strings() {
    for backend in ["inline", "thread"] {
        let pool = common::pool(backend);
        let words = strings(&["map", "entry", "buyer", "hall", "clothes"]);
        let addresses: Vec<usize> = words.iter().map(|w| w.as_ptr() as usize).collect();
        assert_eq!(pool.map(address_of, &words).unwrap(), addresses, "{backend}: map over &words copies nothing");
        assert_eq!(pool.map(address_of.chunksize(1), words.iter()).unwrap(), addresses, "{backend}: words.iter()");
        let scoped = pool.scope(|s| s.map_async(address_of, &words).unwrap().get().unwrap());
        assert_eq!(scoped, addresses, "{backend}: scoped map_async");
        let applied = pool.apply(address_of, (&words[1],), ()).unwrap();
        assert_eq!(applied, addresses[1], "{backend}: apply");
    }
}

// ----- a scope waits for every job it started ---------------------------------------------------------

/// Whether `backend` runs every call in the caller's thread, during the call that submits it.
fn runs_in_the_caller(backend: &str) -> bool {
    matches!(backend, "inline" | "serde-loopback")
}

/// Runs `body` in `pool.scope` while `marks`' gate stays shut until `body` has returned or
/// panicked (a helper thread opens it then). A call of the scope that waits at the gate can only
/// finish after that, so had the scope returned without waiting for it, it would still be
/// unfinished when the scope returns.
fn scope_with_gate<'env, R>(
    pool: &'env Pool,
    marks: &Marks,
    body: impl for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
) -> R {
    let (body_done, body_ended) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|threads| {
        threads.spawn(move || {
            // Disconnected when the closure below has returned or unwound.
            let _ = body_ended.recv();
            marks.open_gate();
        });
        pool.scope(move |s| {
            let _body_done = body_done;
            body(s)
        })
    })
}

#[test]
fn a_scope_waits_for_calls_whose_handles_were_dropped_or_forgotten() {
    for backend in BACKENDS {
        within(120, move || {
            let pool = common::pool(backend);
            let marks = Marks::new("dropped-handles");
            let mapped = numbered("m", 12);
            let forgotten = numbered("f", 5);
            let starred = numbered("s", 7);
            let applied = String::from("a000");
            let finished_inside = scope_with_gate(&pool, &marks, |s| {
                drop(s.map_async(marks.call().chunksize(1), &mapped).unwrap());
                std::mem::forget(s.map_async(marks.call(), forgotten.iter()).unwrap());
                std::mem::forget(s.starmap_async(marks.call().chunksize(2), starred.iter().map(|w| (w,))).unwrap());
                drop(
                    s.apply_async(mark, (&applied,), mark::kwargs().dir(marks.dir()).owner(std::process::id()))
                        .unwrap(),
                );
                marks.finished()
            });
            let finished = marks.finished();
            let calls = 12 + 5 + 7 + 1;
            let expected_inside = if runs_in_the_caller(backend) { calls } else { 0 };
            assert_eq!(finished_inside, expected_inside, "{backend}: calls done when the closure returned");
            assert_eq!(finished, calls, "{backend}: calls unfinished when the scope returned");
            assert_eq!(marks.started(), finished, "{backend}");
            assert_eq!(mapped, numbered("m", 12), "{backend}");
        });
    }
}

#[test]
fn a_scope_waits_for_an_imap_dropped_after_one_item() {
    for backend in BACKENDS {
        within(120, move || {
            for ordered in [true, false] {
                let what = format!("{backend}, {}", if ordered { "imap" } else { "imap_unordered" });
                let pool = common::pool(backend);
                let marks = Marks::new("dropped-imap");
                // The first word passes the gate, so its result can be taken inside the scope.
                let mut words = numbered("i", 16);
                words[0] = "!first".into();
                let first = scope_with_gate(&pool, &marks, |s| {
                    let call = marks.call().chunksize(1);
                    let mut stream = if ordered { s.imap(call, &words) } else { s.imap_unordered(call, &words) };
                    stream.next()
                });
                let (started, finished) = (marks.started(), marks.finished());
                assert_eq!(first, Some(Ok(6)), "{what}: the first result");
                assert_eq!(started, finished, "{what}: a call was still running when the scope returned");
                pool.close();
                pool.join().unwrap();
                assert_eq!(marks.started(), started, "{what}: a call of the dropped stream started after the scope");
                assert_eq!(words[1..], numbered("i", 16)[1..], "{what}");
            }
        });
    }
}

#[test]
fn a_panic_in_the_scope_closure_propagates_after_its_calls_finished() {
    for backend in BACKENDS {
        within(120, move || {
            let pool = common::pool(backend);
            let marks = Marks::new("panicking-closure");
            let words = numbered("p", 10);
            let mut finished_inside = None;
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                scope_with_gate(&pool, &marks, |s| {
                    let _handle = s.map_async(marks.call().chunksize(1), &words).unwrap();
                    finished_inside = Some(marks.finished());
                    panic!("the closure broke");
                })
            }));
            let expected_inside = if runs_in_the_caller(backend) { 10 } else { 0 };
            assert_eq!(finished_inside, Some(expected_inside), "{backend}: calls done when the closure panicked");
            let finished = marks.finished();
            let payload = outcome.expect_err("the closure's panic propagates out of the scope");
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"the closure broke"),
                "{backend}: the closure's own panic"
            );
            assert_eq!(finished, 10, "{backend}: calls unfinished when the panic left the scope");
            assert_eq!(marks.started(), 10, "{backend}");
            // The pool is still usable.
            assert_eq!(pool.map(weigh_borrowed, &words).unwrap(), vec![4; 10], "{backend}");
        });
    }
}

#[test]
fn handles_that_leave_a_scope_are_ready() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let words = numbered("h", 9);
        let (mapped, applied) = pool.scope(|s| {
            let mapped = s.map_async(weigh_borrowed.chunksize(2), &words).unwrap();
            let applied = s.apply_async(weigh_borrowed, (&words[3],), weigh_borrowed::kwargs().letter("h")).unwrap();
            (mapped, applied)
        });
        assert!(mapped.ready(), "{backend}: the scope returned before its map_async completed");
        assert!(applied.ready(), "{backend}: the scope returned before its apply_async completed");
        assert_eq!(mapped.get().unwrap(), vec![4; 9], "{backend}");
        assert_eq!(applied.get().unwrap(), 1, "{backend}");
    }
}

// ----- terminate during a borrowed map --------------------------------------------------------------

/// What a map over `words` that `terminate` may have cut short can return: every value, or a
/// cancellation.
fn check_terminated_map(result: &Result<Vec<usize>, Error>, words: &[String], all_started: bool, what: &str) {
    match result {
        Ok(values) => assert_eq!(values, &words.iter().map(String::len).collect::<Vec<_>>(), "{what}"),
        Err(Error::Cancelled { task }) if !all_started => assert_eq!(task, <mark as Task>::NAME, "{what}"),
        Err(other) => panic!("{what}: unexpected {other:?} (every call started before terminate: {all_started})"),
    }
}

#[test]
fn terminate_from_another_thread_during_a_borrowed_map() {
    // Terminate once the first calls are running (most are still queued), half-way, and once
    // every call has started (then nothing can be cancelled).
    for started_before_terminate in [1, 2, 20, 40] {
        within(120, move || {
            for scoped in [false, true] {
                let pool = common::pool("thread");
                let marks = Marks::new("terminate");
                let words = numbered("t", 40);
                let result = std::thread::scope(|threads| {
                    threads.spawn(|| {
                        marks.wait_started(1);
                        marks.open_gate();
                        marks.wait_started(started_before_terminate);
                        pool.terminate();
                    });
                    if scoped {
                        pool.scope(|s| s.map_async(marks.call().chunksize(1), &words)?.get())
                    } else {
                        pool.map(marks.call().chunksize(1), &words)
                    }
                });
                let what = format!("terminate after {started_before_terminate} started, scoped: {scoped}");
                check_terminated_map(&result, &words, started_before_terminate == words.len(), &what);
                assert_eq!(marks.started(), marks.finished(), "{what}: a call was still running after the map");
                assert_eq!(words, numbered("t", 40), "{what}");
                assert_eq!(pool.map(marks.call(), &words), Err(Error::Closed), "{what}");
                pool.join().unwrap();
            }
        });
    }
}
