use parapool::task;

#[task]
fn count_letters(word: &str, letters: Vec<&'static str>) -> usize {
    word.len() + letters.len()
}

fn main() {}
