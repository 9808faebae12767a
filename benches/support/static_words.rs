//! The tutorial's words as `Cow<'static, str>` and a `count_letters` over them: a map whose
//! inputs need no allocation. Kept out of `mod.rs` and included only by the benches that use it,
//! so that other bench binaries hold one task that calls `str::contains`, as a user's program with
//! the tutorial task does: LLVM inlines a function with a single call site in a codegen unit that
//! it leaves out of line once there are several (which cost the process worker ~4 ns a call on
//! letter `"e"` when both tasks were in every binary).
#![allow(dead_code)]

use std::borrow::Cow;

use crate::support::TUTORIAL_WORDS;

/// The tutorial's words, repeated to `n` words that borrow the literals (no allocation).
pub fn static_words(n: usize) -> Vec<Cow<'static, str>> {
    TUTORIAL_WORDS.iter().cycle().take(n).map(|w| Cow::Borrowed(*w)).collect()
}

/// count_letters on words that borrow string literals: no allocation per call.
#[parapool::task]
pub fn count_letters_static(word: Cow<'static, str>, #[kwarg] letter: Cow<'static, str>) -> usize {
    if letter.is_empty() {
        word.chars().count()
    } else {
        word.chars().filter(|c| letter.contains(*c)).count()
    }
}
