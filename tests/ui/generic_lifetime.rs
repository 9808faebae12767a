use parapool::task;

#[task]
fn first_word<'a>(text: String) -> String {
    text.split(' ').next().unwrap_or_default().to_owned()
}

fn main() {}
