use parapool::task;

struct Opaque(u32);

#[task]
fn make(value: u32) -> Opaque {
    Opaque(value)
}

fn main() {}
