use parapool::task;

#[task]
fn count_letters(word: &str, letters: Vec<&'static str>, pairs: &[(u8, &str)]) -> usize {
    word.len() + letters.len() + pairs.len()
}

fn main() {}
