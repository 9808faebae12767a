//! The tutorial's workload: `count_letters` over many tutorial words, `letter = ""` and `"e"`,
//! over words the caller keeps (borrowed) and over words handed over (owned, consumed by the call;
//! the copy is made before the clock starts), on every contender that can run it.

use std::cell::RefCell;
use std::time::Instant;

use parapool::prelude::*;
use rayon::prelude::*;

use crate::contenders::Pools;
use crate::python::Python;
use crate::report::{self, Report};
use crate::rounds::{alternate, Contender, Sample};
use crate::tutorial_task::{count_letters, WORDS};
use crate::Setup;

/// Runs the section for both letters and reports it.
pub fn run(setup: &Setup, pools: &Pools, python: Option<&RefCell<Python>>, report: &mut Report) {
    let n = if setup.quick { 100_000 } else { 1_000_000 };
    let words: Vec<String> = WORDS.iter().cycle().take(n).map(|w| w.to_string()).collect();
    if let Some(python) = python {
        python.borrow_mut().ask(&format!("words {n}"));
    }
    report.section("tutorial");
    report.text(&format!(
        "### The tutorial's map: count_letters over {n} words, {} workers\n\n\
         Median time of the rounds, and the speedup over the plain loop over borrowed words in the \
         same round (quartiles in brackets). \"Owned\" contenders consume a copy of the words made \
         before the clock starts, so freeing them is part of the figure.",
        pools.workers
    ));
    let mut rows = Vec::new();
    let words = &words;
    for letter in ["", "e"] {
        eprintln!("tutorial: letter {letter:?}");
        let series = alternate(setup.rounds, contenders(pools, python, words, letter));
        let baseline = &series[0];
        for s in &series {
            rows.push(vec![
                format!("{letter:?}"),
                s.name.clone(),
                report::time(s.median()),
                report::ratio(s.speedup_over(baseline)),
            ]);
        }
    }
    report.table(&["letter", "contender", "time", "speedup over the loop"], &rows);
}

/// Every contender of the tutorial's map over `words` with `letter`, the plain loop over borrowed
/// words first. Python's contenders need `words <n>` sent to the script first.
pub fn contenders<'a>(
    pools: &'a Pools,
    python: Option<&'a RefCell<Python>>,
    words: &'a [String],
    letter: &'static str,
) -> Vec<Contender<'a>> {
    {
        let expected: usize = words.iter().map(|w| count_letters(w, letter)).sum();
        let call = count_letters.with(count_letters::kwargs().letter(letter));
        let check = move |counts: Vec<usize>| assert_eq!(counts.iter().sum::<usize>(), expected, "the counts");
        let mut contenders = vec![Contender::timed("plain loop, borrowed", move || {
            check(words.iter().map(|w| count_letters(w, letter)).collect())
        })];
        contenders.push(Contender::timed("rayon par_iter, borrowed", move || {
            check(pools.rayon.install(|| words.par_iter().map(|w| count_letters(w, letter)).collect()))
        }));
        for (name, pool) in [("inline", &pools.inline), ("thread", &pools.thread), ("process", &pools.process)] {
            let call = call.clone();
            contenders.push(Contender::timed(format!("parapool {name}, borrowed"), move || {
                check(pool.map(call.clone(), words).expect("map"))
            }));
        }
        contenders.push(owned("plain loop", words, check, move |w| {
            w.into_iter().map(|w| count_letters(&w, letter)).collect()
        }));
        contenders.push(owned("rayon into_par_iter", words, check, move |w| {
            pools.rayon.install(|| w.into_par_iter().map(|w| count_letters(&w, letter)).collect())
        }));
        for (name, pool) in [("parapool thread", &pools.thread), ("parapool process", &pools.process)] {
            let call = call.clone();
            contenders.push(owned(name, words, check, move |w| pool.map(call.clone(), w).expect("map")));
        }
        if let Some(python) = python {
            let token = if letter.is_empty() { "-" } else { letter };
            let workers = pools.workers;
            let ask = move |request: String| {
                let reply = python.borrow_mut().ask(&request);
                assert_eq!(reply[1] as usize, expected, "python3's counts");
                Sample::wall(reply[0])
            };
            contenders.push(Contender::new("Python loop", move || ask(format!("tutorial_loop {token}"))));
            contenders.push(Contender::new("Python Pool", move || ask(format!("tutorial_map {workers} {token}"))));
        }
        contenders
    }
}

/// A contender that consumes a copy of `words`, made before its clock starts.
fn owned<'a>(
    name: &str,
    words: &'a [String],
    check: impl Fn(Vec<usize>) + 'a,
    run: impl Fn(Vec<String>) -> Vec<usize> + 'a,
) -> Contender<'a> {
    Contender::new(format!("{name}, owned"), move || {
        let input = words.to_vec();
        let started = Instant::now();
        let counts = run(input);
        let wall = started.elapsed().as_secs_f64();
        check(counts);
        Sample::wall(wall)
    })
}
