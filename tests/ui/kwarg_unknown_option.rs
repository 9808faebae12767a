use parapool::task;

#[task]
fn count_letters(word: String, #[kwarg(defualt = "e")] letter: String) -> usize {
    word.chars().filter(|c| letter.contains(*c)).count()
}

fn main() {}
