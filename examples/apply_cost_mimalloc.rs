//! `apply_cost` with mimalloc as the global allocator (see `examples/apply_cost.rs`).
//!
//! ```text
//! cargo run --release --example apply_cost_mimalloc [-- BACKEND [WORKERS]]
//! ```

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "apply_cost.rs"]
mod apply_cost;

fn main() -> Result<(), parapool::Error> {
    apply_cost::main()
}
