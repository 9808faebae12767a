//! A borrowed map outside a scope: the jobs could outlive `words`.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() -> Result<(), parapool::Error> {
    let pool = parapool::Pool::inline()?;
    let words = vec!["map".to_string(), "entry".to_string()];
    let handle = pool.map_async(count_letters, &words)?;
    drop(words);
    handle.get()?;
    Ok(())
}
