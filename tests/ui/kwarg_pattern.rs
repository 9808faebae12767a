use parapool::task;

#[task]
fn area(width: u32, #[kwarg] (scale_x, scale_y): (u32, u32)) -> u32 {
    width * scale_x * scale_y
}

fn main() {}
