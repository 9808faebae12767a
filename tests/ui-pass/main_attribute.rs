//! `#[parapool::main]` makes `init()` the first statement: the process pool's workers (this
//! binary, started again) serve there, so the pool works without an explicit `init()` call.

#[parapool::task]
fn double(x: u32) -> u32 {
    2 * x
}

#[parapool::main]
fn main() -> Result<(), parapool::Error> {
    let pool = parapool::Pool::process(2)?;
    assert_eq!(pool.map(double, 0..100u32)?, (0..100).map(|x| 2 * x).collect::<Vec<u32>>());
    pool.close();
    pool.join()
}
