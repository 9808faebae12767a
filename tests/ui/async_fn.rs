use parapool::task;

#[task]
async fn fetch(url: String) -> String {
    url
}

fn main() {}
