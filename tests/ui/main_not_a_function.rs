#[parapool::main]
struct Main;

fn main() {}
