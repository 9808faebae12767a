use parapool::task;

#[derive(Clone, Debug, Default)]
struct Opaque;

#[task]
fn run(x: u32, #[kwarg] opaque: Opaque) -> u32 {
    let _ = opaque;
    x
}

fn main() {}
