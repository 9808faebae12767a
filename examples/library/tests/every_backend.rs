//! The library gives the same statistics on every backend, the process backend included (this
//! file is its workers' entry point), and its program runs from the command line.

parapool::process_worker_test!();

use parapool::prelude::*;
use parapool_example_library::{word_stats, Stats};

#[test]
fn the_same_statistics_on_every_backend() {
    let text = "map entry buyer hall clothes patience negotiation courage grandmother writer";
    let expected = Stats { words: 10, vowels: 26, longest: "negotiation".into() };
    for factory in parapool::backend::backends() {
        let pool = Pool::builder().backend(factory.name()).workers(2).build().unwrap();
        assert_eq!(word_stats(&pool, text).unwrap(), expected, "{}", factory.name());
    }
}

#[test]
fn the_program_picks_the_backend_from_its_command_line() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parapool-example-library"))
        .args(["--backend", "process", "--workers", "2", "the", "grandmother", "wrote"])
        .env_remove("PARAPOOL_BACKEND")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), r#"process (2 workers): Stats { words: 3, vowels: 6, longest: "grandmother" }"#);
}
