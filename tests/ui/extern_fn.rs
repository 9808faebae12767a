use parapool::task;

#[task]
extern "C" fn double(x: u32) -> u32 {
    x * 2
}

fn main() {}
