//! `parapool-example-library [--backend NAME] [--workers N] TEXT…`: word statistics of the
//! text, on the backend named on the command line, or in `PARAPOOL_BACKEND`, or the default.

use parapool::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    parapool::init(); // a process-backend worker serves here and exits
    let mut builder = Pool::builder().from_env()?;
    let mut text = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => builder = builder.backend(args.next().ok_or("--backend needs a name")?),
            "--workers" => builder = builder.workers(args.next().ok_or("--workers needs a number")?.parse()?),
            _ => text.push(arg),
        }
    }
    let pool = builder.build()?;
    let stats = parapool_example_library::word_stats(&pool, &text.join(" "))?;
    println!("{} ({} workers): {stats:?}", pool.backend_name(), pool.workers());
    Ok(())
}
