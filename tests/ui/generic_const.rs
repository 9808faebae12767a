use parapool::task;

#[task]
fn repeat<const N: usize>(text: String) -> String {
    text.repeat(N)
}

fn main() {}
