use parapool::task;

#[task]
fn first(word: &'static str, #[kwarg] letter: &'static str) -> usize {
    word.len() + letter.len()
}

fn main() {}
