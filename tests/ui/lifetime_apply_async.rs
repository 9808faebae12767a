//! A borrowed argument to `apply_async` outside a scope.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() -> Result<(), parapool::Error> {
    let pool = parapool::Pool::inline()?;
    let word = String::from("entry");
    let handle = pool.apply_async(count_letters, (&word,), ())?;
    handle.get()?;
    Ok(())
}
