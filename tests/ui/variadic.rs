use parapool::task;

#[task]
unsafe extern "C" fn sum(count: u32, mut args: ...) -> u32 {
    count
}

fn main() {}
