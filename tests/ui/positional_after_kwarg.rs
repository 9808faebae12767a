use parapool::task;

#[task]
fn count_letters(word: String, #[kwarg] letter: String, limit: usize) -> usize {
    word.chars().filter(|c| letter.contains(*c)).take(limit).count()
}

fn main() {}
