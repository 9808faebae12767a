use parapool::task;

struct Opaque;

#[task]
fn wrap(value: u32, opaque: Opaque) -> u32 {
    let _ = opaque;
    value
}

fn main() {}
