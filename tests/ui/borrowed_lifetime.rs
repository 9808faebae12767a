use std::borrow::Cow;

use parapool::task;

#[task]
fn shout(word: Cow<'_, str>) -> String {
    word.to_uppercase()
}

fn main() {}
