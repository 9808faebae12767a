//! Owned items, but a borrowed keyword argument, outside a scope.
use parapool::Task;
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() -> Result<(), parapool::Error> {
    let pool = parapool::Pool::inline()?;
    let letter = String::from("e");
    let call = count_letters.with(count_letters::kwargs().letter(&letter));
    let handle = pool.map_async(call, vec!["map".to_string()])?;
    handle.get()?;
    Ok(())
}
