use parapool::task;

#[task(crate = parapool)]
fn double(x: u32) -> u32 {
    x * 2
}

fn main() {}
