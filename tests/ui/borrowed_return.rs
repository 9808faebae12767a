use parapool::task;

#[task]
fn greeting(formal: bool) -> &'static str {
    if formal { "Good day" } else { "Hi" }
}

fn main() {}
