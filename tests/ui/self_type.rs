use parapool::task;

#[task]
fn clone_it(value: Self) -> u32 {
    0
}

fn main() {}
