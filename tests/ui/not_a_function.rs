use parapool::task;

#[task]
struct Double(u32);

fn main() {}
