//! The tutorial example prints the tutorial's lines on every backend.

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

mod common;

#[path = "../examples/owned_inputs.rs"]
#[allow(dead_code)]
mod owned;

/// `examples/count_letters.rs`, which `owned_inputs.rs` includes.
use owned::tutorial as example;

const ALL: &str = "[3, 5, 5, 4, 7, 8, 11, 7, 11, 6]";
const E: &str = "[0, 1, 1, 0, 1, 2, 1, 1, 1, 1]";

#[test]
fn count_letters_prints_the_tutorial_lines_on_every_backend() {
    for backend in common::BACKENDS {
        let pool = common::pool(backend);
        let lines = example::tutorial_lines(&pool).unwrap();
        assert_eq!(lines, vec![ALL, E, E, ALL, E, ALL], "backend {backend}");
        pool.close();
        pool.join().unwrap();
    }
}

#[test]
fn count_letters_is_still_a_plain_function() {
    assert_eq!(example::count_letters("grandmother", ""), 11);
    assert_eq!(example::count_letters("grandmother", "r"), 2);
}

#[test]
fn owned_inputs_print_the_same_lines_on_every_backend() {
    for backend in common::BACKENDS {
        let pool = common::pool(backend);
        let lines = owned::owned_lines(&pool).unwrap();
        assert_eq!(lines, vec![r#"["MAP!", "ENTRY!", "BUYER!"]"#, "[2, 4, 6, 8]", ALL], "backend {backend}");
    }
}
