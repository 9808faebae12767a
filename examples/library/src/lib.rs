//! A library built on parapool. It never names a backend: its functions take a `&Pool`, so the
//! program that uses it — or that program's user, through `PARAPOOL_BACKEND` — picks one.
//!
//! ```
//! use parapool::prelude::*;
//! let pool = Pool::builder().backend("thread").workers(2).build()?;
//! let text = "the grandmother wrote to the writer";
//! let stats = parapool_example_library::word_stats(&pool, text)?;
//! assert_eq!((stats.words, stats.longest.as_str()), (6, "grandmother"));
//! # Ok::<(), parapool::Error>(())
//! ```
#![deny(missing_docs)]

use parapool::prelude::*;

/// What [`word_stats`] finds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Words in the text.
    pub words: usize,
    /// Vowels over all words.
    pub vowels: usize,
    /// The longest word (the first, on a tie).
    pub longest: String,
}

/// The vowels of one word. A task: it runs on whatever backend the pool has.
#[parapool::task]
pub fn vowels(word: &str) -> usize {
    word.chars().filter(|c| "aeiouAEIOU".contains(*c)).count()
}

/// Word statistics of `text`, its words counted on `pool`.
pub fn word_stats(pool: &Pool, text: &str) -> Result<Stats, Error> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let per_word = pool.map(vowels, &words)?;
    let longest = words.iter().fold("", |best, w| if w.len() > best.len() { w } else { best });
    Ok(Stats { words: words.len(), vowels: per_word.iter().sum(), longest: longest.to_owned() })
}
