//! The scope itself cannot be kept past its closure.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() {
    let pool = parapool::Pool::inline().unwrap();
    let mut kept = None;
    pool.scope(|s| kept = Some(s));
    let words = vec!["map".to_string()];
    let _ = kept.unwrap().map_async(count_letters, &words);
}
