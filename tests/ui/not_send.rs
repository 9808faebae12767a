use std::rc::Rc;

use parapool::task;

#[task]
fn sum(values: Rc<Vec<u32>>) -> u32 {
    values.iter().sum()
}

fn main() {}
