use parapool::task;

#[task]
fn push(list: &mut Vec<u32>, value: u32) {
    list.push(value);
}

fn main() {}
