//! Compile errors of `#[task]` and `#[parapool::main]`: each file under `tests/ui/` must fail
//! with the message and span in its `.stderr`; each under `tests/ui-pass/` must build and run.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
