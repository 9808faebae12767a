//! Compile errors of `#[task]`: each file under `tests/ui/` must fail with the message and span in
//! its `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
