//! What one call costs: a trivial task (`plus_one`) through every call of the API on each
//! backend, beside calling the function directly and the nearest equivalent in rayon,
//! threadpool and Python's `Pool` — time per call, the median of alternating rounds.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::mpsc;

use parapool::prelude::*;
use rayon::prelude::*;

use crate::contenders::Pools;
use crate::python::Python;
use crate::report::{self, Report};
use crate::rounds::{alternate, Contender};
use crate::workload::plus_one;
use crate::Setup;

/// The calls, as table rows.
pub const CALLS: [&str; 8] = [
    "apply, one at a time",
    "apply_async, then get",
    "map, chunks of 1",
    "map, chunks of 10",
    "map, chunks of 100",
    "map, chunks of 1000",
    "map, automatic",
    "imap",
];
/// The columns after the call: parapool's three backends are `inline`, `thread` and `process`.
pub const COLUMNS: [&str; 7] = ["direct call", "inline", "thread", "process", "rayon", "threadpool", "Python Pool"];

fn expected(n: u64) -> u64 {
    (1..=n).sum()
}

/// Every call on every contender, `n` calls each, with the (row, column) of its cell in the
/// table: [`CALLS`] are the rows, [`COLUMNS`] the columns.
pub fn contenders<'a>(
    pools: &'a Pools,
    python: Option<&'a RefCell<Python>>,
    n: u64,
) -> Vec<((usize, usize), Contender<'a>)> {
    let check = move |sum: u64| assert_eq!(sum, expected(n));
    let mut cells: Vec<((usize, usize), Contender<'a>)> = Vec::new();
    let mut add = |row: usize, column: usize, contender: Contender<'a>| cells.push(((row, column), contender));
    add(0, 0, Contender::timed("direct", move || check((0..n).map(|i| plus_one(black_box(i))).sum())));
    for (column, pool) in [(1, &pools.inline), (2, &pools.thread), (3, &pools.process)] {
        add(
            0,
            column,
            Contender::timed("apply", move || {
                check((0..n).map(|i| pool.apply(plus_one, (i,), ()).expect("apply")).sum())
            }),
        );
        add(
            1,
            column,
            Contender::timed("apply_async", move || {
                let handles: Vec<_> =
                    (0..n).map(|i| pool.apply_async(plus_one, (i,), ()).expect("apply_async")).collect();
                check(handles.into_iter().map(|h| h.get().expect("get")).sum())
            }),
        );
        for (row, chunk) in [(2, 1), (3, 10), (4, 100), (5, 1000)] {
            add(
                row,
                column,
                Contender::timed("map", move || {
                    check(pool.map(plus_one.chunksize(chunk), 0..n).expect("map").into_iter().sum())
                }),
            );
        }
        add(
            6,
            column,
            Contender::timed("map", move || check(pool.map(plus_one, 0..n).expect("map").into_iter().sum())),
        );
        add(
            7,
            column,
            Contender::timed("imap", move || check(pool.imap(plus_one, 0..n).map(|r| r.expect("imap")).sum())),
        );
    }
    let rayon = &pools.rayon;
    let threadpool = &pools.threadpool;
    add(0, 4, Contender::timed("rayon install", move || check((0..n).map(|i| rayon.install(|| plus_one(i))).sum())));
    add(
        0,
        5,
        Contender::timed("threadpool execute, one at a time", move || {
            let (sender, receiver) = mpsc::channel();
            let mut sum = 0;
            for i in 0..n {
                let sender = sender.clone();
                threadpool.execute(move || sender.send(plus_one(i)).expect("the receiver waits"));
                sum += receiver.recv().expect("a result");
            }
            check(sum)
        }),
    );
    add(
        1,
        4,
        Contender::timed("rayon spawn", move || {
            let receivers: Vec<_> = (0..n)
                .map(|i| {
                    let (sender, receiver) = mpsc::sync_channel(1);
                    rayon.spawn(move || sender.send(plus_one(i)).expect("the receiver waits"));
                    receiver
                })
                .collect();
            check(receivers.into_iter().map(|r| r.recv().expect("a result")).sum())
        }),
    );
    add(
        6,
        4,
        Contender::timed("rayon par_iter", move || {
            check(rayon.install(|| (0..n).into_par_iter().map(*plus_one).collect::<Vec<u64>>()).into_iter().sum())
        }),
    );

    add(
        1,
        5,
        Contender::timed("threadpool execute", move || {
            let receivers: Vec<_> = (0..n)
                .map(|i| {
                    let (sender, receiver) = mpsc::sync_channel(1);
                    threadpool.execute(move || sender.send(plus_one(i)).expect("the receiver waits"));
                    receiver
                })
                .collect();
            check(receivers.into_iter().map(|r| r.recv().expect("a result")).sum())
        }),
    );
    if let Some(python) = python {
        let workers = pools.workers;
        for (row, kind) in [(0, "apply"), (1, "apply_async"), (6, "map"), (7, "imap")] {
            add(
                row,
                6,
                Contender::new(format!("Python {kind}"), move || {
                    let reply = python.borrow_mut().ask(&format!("call {workers} {n} {kind}"));
                    crate::rounds::Sample::wall(reply[0] * n as f64)
                }),
            );
        }
    }
    cells
}

/// Runs the section and reports it.
pub fn run<'a>(setup: &Setup, pools: &'a Pools, python: Option<&'a RefCell<Python>>, report: &mut Report) {
    let n: u64 = if setup.quick { 2_000 } else { 10_000 };
    let (cells, contenders): (Vec<_>, Vec<_>) = contenders(pools, python, n).into_iter().unzip();
    eprintln!("calls: {} contenders x {n} calls", contenders.len());
    let series = alternate(setup.rounds, contenders);
    let mut table = vec![vec!["".to_string(); COLUMNS.len()]; CALLS.len()];
    for (&(row, column), s) in cells.iter().zip(&series) {
        table[row][column] = report::time(s.median() / n as f64);
    }
    report.section("calls");
    report.text(&format!(
        "### What one call costs ({} workers)\n\n\
         A trivial task (`x + 1`), {n} calls per run, time per call (median of the rounds); \
         `inline`, `thread` and `process` are parapool's backends. \
         \"apply_async, then get\" submits every call, then takes every result: rayon's and \
         threadpool's figure is a spawn with a channel per task (the same service: a result per \
         task); their \"apply\" is `install` (rayon) and `execute` followed by a wait for the \
         result (threadpool). The map rows divide the whole map by the number of items.",
        pools.workers
    ));
    let rows: Vec<Vec<String>> =
        CALLS.iter().zip(table).map(|(call, cells)| std::iter::once(call.to_string()).chain(cells).collect()).collect();
    let mut headers = vec!["call"];
    headers.extend(COLUMNS);
    report.table(&headers, &rows);
}
