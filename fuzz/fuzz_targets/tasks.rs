// Tasks the targets' batches name, one per parameter kind (included by the targets that run
// batches, so each binary registers them).

#[parapool::task]
pub fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

#[parapool::task]
pub fn weighted(xs: &[u32], #[kwarg(default = 1)] scale: u64) -> u64 {
    xs.iter().map(|&x| u64::from(x) * scale).sum()
}

#[parapool::task]
pub fn pair(name: String, tag: Option<u8>, bytes: &[u8]) -> (String, u8, usize) {
    (name, tag.unwrap_or(0), bytes.len())
}

pub const TASKS: [&str; 4] = [
    <count_letters as parapool::Task>::NAME,
    <weighted as parapool::Task>::NAME,
    <pair as parapool::Task>::NAME,
    "no::such::task",
];
