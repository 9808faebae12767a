//! Data made inside the scope's closure dies before the scope waits: it cannot be lent.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() -> Result<(), parapool::Error> {
    let pool = parapool::Pool::inline()?;
    let counts = pool.scope(|s| {
        let words = vec!["map".to_string(), "entry".to_string()];
        s.map_async(count_letters, &words)
    })?;
    counts.get()?;
    Ok(())
}
