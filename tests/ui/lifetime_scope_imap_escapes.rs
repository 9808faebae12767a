//! A scoped `imap` cannot leave its scope: its jobs would outlive the scope's wait.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() {
    let pool = parapool::Pool::inline().unwrap();
    let words = vec!["map".to_string(), "entry".to_string()];
    let stream = pool.scope(|s| s.imap(count_letters, &words));
    for count in stream {
        let _ = count;
    }
}
