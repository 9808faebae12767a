use parapool::task;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
enum Mode {
    Fast,
    Careful,
}

#[task]
fn run(x: u32, #[kwarg] mode: Mode) -> u32 {
    match mode {
        Mode::Fast => x,
        Mode::Careful => x + 1,
    }
}

fn main() {}
