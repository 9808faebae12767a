use parapool::task;

#[task(bogus)]
async fn many<T>(word: &str, #[kwarg] (a, b): (u8, u8), #[kwarg(fast)] flag: bool, rest: String) -> &'static str {
    let _ = (word, a, b, flag, rest);
    ""
}

fn main() {}
