use parapool::task;

#[task]
fn repeat(word: String, #[kwarg(default = "three")] times: usize, #[kwarg(default = 1.5)] sep: String) -> String {
    word.repeat(times) + &sep
}

fn main() {}
