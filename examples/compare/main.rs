//! The comparison runner of the overhead study: parapool's backends, rayon, threadpool, plain
//! `std` threads and Python's `multiprocessing.Pool` on the same workloads, in one run, in
//! paired and alternating rounds; prints a markdown report and writes it with two SVG plots.
//!
//! ```text
//! cargo run --release --example compare                  # the full study, ~10 minutes here
//! cargo run --release --example compare -- --quick       # every section, small (CI: < 2 minutes)
//! cargo run --release --example compare -- --out book/src/performance   # what the book shows
//! ```
//!
//! Options: `--quick`; `--out DIR` (default `target/compare`): where `results.md`,
//! `speedup-by-task-size.svg` and `scaling.svg` go; `--rounds N` (default 7, quick 2);
//! `--no-python`. Without `python3` on `PATH`, Python's columns are left out with a note.
//!
//! Sections, in the order they run (each module's header says what it compares):
//! [`calls`] what one call costs; [`granularity`] speedup by task size and break-even;
//! [`scaling`] speedup by worker count, oversubscribed too; [`efficiency`] efficiency and
//! utilization on 2,000 × 1 ms beside a scheduler-free split; [`tutorial`] the tutorial's map;
//! [`startup`] start-up and idle cost.
//!
//! Every contender checks its results against the plain loop's; no figure is asserted on.

mod calls;
mod contenders;
mod efficiency;
mod granularity;
mod plot;
mod python;
mod report;
mod rounds;
mod scaling;
mod setup;
mod startup;
mod tutorial;
#[path = "../count_letters.rs"]
#[allow(dead_code)] // the runner uses the task and the words
mod tutorial_task;
mod workload;

use std::cell::RefCell;
use std::path::PathBuf;

use contenders::Pools;
use python::Python;
use report::Report;
pub use setup::Setup;

struct Options {
    quick: bool,
    out: PathBuf,
    rounds: Option<usize>,
    python: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options { quick: false, out: PathBuf::from("target/compare"), rounds: None, python: true };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--no-python" => options.python = false,
            "--out" => options.out = args.next().ok_or("--out needs a directory")?.into(),
            "--rounds" => {
                let rounds = args.next().ok_or("--rounds needs a number")?;
                match rounds.parse() {
                    Ok(n) if n > 0 => options.rounds = Some(n),
                    _ => return Err(format!("--rounds needs a positive number, not {rounds:?}")),
                }
            }
            other => return Err(format!("unknown argument {other:?} (see the header of examples/compare/main.rs)")),
        }
    }
    Ok(options)
}

fn main() {
    // First thing: a process-backend worker (this binary, re-executed) serves and exits here.
    parapool::init();
    let options = options().unwrap_or_else(|error| {
        eprintln!("compare: {error}");
        std::process::exit(2)
    });
    let mut report = Report::default();
    let (python, without_python) = match options.python.then(Python::start) {
        Some(Ok(python)) => (Some(RefCell::new(python)), None),
        Some(Err(why)) => (None, Some(why)),
        None => (None, Some("--no-python".to_string())),
    };
    let python = python.as_ref();
    let cores = parapool::cpu_count();
    let setup = Setup {
        quick: options.quick,
        rounds: options.rounds.unwrap_or(if options.quick { 2 } else { 7 }),
        cores,
        per_nanosecond: workload::iterations_per_nanosecond(),
        python_per_nanosecond: python.map_or(1.0, |p| p.borrow_mut().ask("calibrate")[0]),
    };
    report.section("run");
    report.text(&format!(
        "Measured by `cargo run --release --example compare{}` on {cores} cores ({}), {} rounds \
         per figure, every contender once per round in rotating order.",
        if setup.quick { " -- --quick" } else { "" },
        cpu_model(),
        setup.rounds
    ));
    if cfg!(debug_assertions) {
        report.text("> Built without `--release`: these figures measure unoptimized code (CI runs it so to check the runner end to end).");
    }
    if let Some(why) = without_python {
        report.text(&format!("> Python's `Pool` is left out of this run: {why}."));
    }
    let pools = Pools::start(cores);
    calls::run(&setup, &pools, python, &mut report);
    let by_size = granularity::run(&setup, &pools, python, &mut report);
    let by_workers = scaling::run(&setup, python, &mut report);
    efficiency::run(&setup, &pools, python, &mut report);
    tutorial::run(&setup, &pools, python, &mut report);
    startup::run(&setup, python, &mut report);

    std::fs::create_dir_all(&options.out).expect("the output directory");
    let written = [
        plot::speedup_by_task_size(&options.out.join("speedup-by-task-size.svg"), cores, &by_size),
        plot::scaling(&options.out.join("scaling.svg"), cores, &by_workers),
    ];
    for result in written {
        result.expect("an SVG plot");
    }
    std::fs::write(options.out.join("results.md"), &report.markdown).expect("results.md");
    for (stem, markdown) in &report.sections {
        std::fs::write(options.out.join(format!("{stem}.md")), markdown).expect("a section's markdown");
    }
    eprintln!(
        "compare: wrote results.md (and each section: {}), speedup-by-task-size.svg and scaling.svg to {}",
        report.sections.iter().map(|(stem, _)| format!("{stem}.md")).collect::<Vec<_>>().join(", "),
        options.out.display()
    );
}

/// The processor's model name, from `/proc/cpuinfo` where there is one.
fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|line| line.strip_prefix("model name")?.split(':').nth(1));
    model.map_or_else(|| std::env::consts::ARCH.to_string(), |m| m.trim().to_string())
}
