//! Borrowed tuples to `starmap_async` outside a scope.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() -> Result<(), parapool::Error> {
    let pool = parapool::Pool::inline()?;
    let words = vec!["map".to_string(), "entry".to_string()];
    let handle = pool.starmap_async(count_letters, words.iter().map(|w| (w.as_str(),)))?;
    handle.get()?;
    Ok(())
}
