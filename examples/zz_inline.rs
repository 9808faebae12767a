use parapool::{Pool, Task};
#[path = "../benches/support/mod.rs"]
mod support;
use support::{count_letters, tutorial_words};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let letter = if std::env::args().nth(2).as_deref() == Some("e") { "e" } else { "" };
    let words = tutorial_words(1_000_000);
    let inline = Pool::inline().unwrap();
    let call = count_letters.with(count_letters::kwargs().letter(letter));
    let out: Vec<usize> = match mode.as_str() {
        "loop" => words.iter().map(|w| count_letters(w, letter)).collect(),
        _ => inline.map(call, &words).unwrap(),
    };
    println!("{}", out.iter().sum::<usize>());
}
