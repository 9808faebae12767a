//! The packed wire format (`parapool::backend::wire`) under arbitrary and damaged bytes: decoding never
//! panics, every call gets exactly one outcome, and a damaged record fails its own call.

mod common;

use common::{weigh, weigh_reference};
use parapool::backend::{registry, wire};
use parapool::{Error, Task};
use proptest::prelude::*;

/// Reads `calls` outcomes of `weigh` and checks nothing follows them.
fn read_outcomes(outcomes: &[u8], calls: usize) -> Vec<Result<u64, Error>> {
    let mut reader = wire::Reader::new(outcomes);
    let read: Vec<_> = (0..calls).map(|_| reader.outcome::<u64>(weigh::NAME)).collect();
    assert!(reader.skip_outcome(weigh::NAME).is_err(), "more outcomes than calls");
    read
}

fn is_missing(result: &Result<u64, Error>) -> bool {
    matches!(result, Err(Error::Backend { message, .. }) if message.contains("fewer outcomes"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes as arguments: the far side answers every call, with a value or an error — every
    /// call that has a byte of `args` for its record; a count beyond that is not trusted.
    #[test]
    fn arbitrary_argument_bytes_give_one_outcome_per_call(
        args in prop::collection::vec(any::<u8>(), 0..200),
        kwargs in prop::collection::vec(any::<u8>(), 0..20),
        calls in 0usize..8,
    ) {
        let outcomes = registry::run_batch(weigh::NAME, &kwargs, calls, &args);
        for outcome in read_outcomes(&outcomes, calls.min(args.len())) {
            prop_assert!(!is_missing(&outcome), "{outcome:?}");
        }
    }

    /// A call count from the wire is not trusted: however large, the answer holds at most one
    /// outcome per byte of `args` (it once reached `Vec::with_capacity` and `repeat` as given).
    #[test]
    fn a_huge_call_count_answers_at_most_one_outcome_per_argument_byte(
        args in prop::collection::vec(any::<u8>(), 0..64),
        calls in prop_oneof![Just(usize::MAX), Just(usize::MAX / 2), Just(1usize << 40), 64usize..1_000_000],
        known_task in any::<bool>(),
    ) {
        let task = if known_task { weigh::NAME } else { "no::such::task" };
        let outcomes = registry::run_batch(task, &[], calls, &args);
        let mut reader = wire::Reader::new(&outcomes);
        let mut answered = 0;
        while reader.skip_outcome(task).is_ok() {
            answered += 1;
        }
        prop_assert!(answered <= args.len(), "{answered} outcomes for {} bytes of arguments", args.len());
    }

    /// Any bytes as outcomes: reading never panics; each call gets a value or an error.
    #[test]
    fn arbitrary_outcome_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), calls in 0usize..8) {
        let mut reader = wire::Reader::new(&bytes);
        for _ in 0..calls {
            let _ = reader.outcome::<(String, u64)>("t");
        }
        let mut reader = wire::Reader::new(&bytes);
        for _ in 0..calls {
            let _ = reader.args::<(String,)>("t");
        }
    }

    /// One damaged byte in a valid batch: the calls whose records are intact still give their
    /// own results (a damaged length may take the records after it along, never the ones before).
    #[test]
    fn a_damaged_byte_fails_at_most_the_calls_from_its_record_on(
        words in prop::collection::vec("[a-e]{0,6}", 1..8),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let kwargs = weigh::kwargs().letter("a");
        let args: Vec<(String,)> = words.iter().map(|w| (w.clone(),)).collect();
        let mut calls = wire::encode_calls::<weigh>(&kwargs, &args).unwrap();
        // The record boundaries, to know which call the damaged byte belongs to.
        let mut ends = Vec::new();
        let mut offset = 0;
        while offset < calls.args.len() {
            // The header: a varint of `length << 2 | tag`.
            let (mut header, mut used) = (0usize, 0);
            loop {
                let byte = calls.args[offset + used];
                header |= usize::from(byte & 0x7f) << (7 * used);
                used += 1;
                if byte < 0x80 {
                    break;
                }
            }
            offset += used + (header >> 2);
            ends.push(offset);
        }
        let position = at.index(calls.args.len());
        let damaged_call = ends.iter().position(|&end| position < end).unwrap();
        calls.args[position] ^= flip;
        let outcomes = registry::run_batch(calls.task, &calls.kwargs, calls.calls, &calls.args);
        let read = read_outcomes(&outcomes, calls.calls);
        for (i, (word, outcome)) in words.iter().zip(&read).enumerate() {
            if i < damaged_call {
                let expected = weigh_reference(word, "a", 1, None).ok();
                prop_assert_eq!(outcome.as_ref().ok(), expected.as_ref(), "call {}", i);
            }
            prop_assert!(!is_missing(outcome), "call {}: {:?}", i, outcome);
        }
    }
}
