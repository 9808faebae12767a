//! Borrowed items to `imap` and `imap_unordered` outside a scope.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() -> Result<(), parapool::Error> {
    let pool = parapool::Pool::inline()?;
    let words = vec!["map".to_string(), "entry".to_string()];
    let ordered: Vec<_> = pool.imap(count_letters, words.iter()).collect();
    let unordered: Vec<_> = pool.imap_unordered(count_letters, &words).collect();
    assert_eq!(ordered.len(), unordered.len());
    Ok(())
}
