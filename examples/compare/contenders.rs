//! The contenders, built once per worker count: parapool's three backends, rayon, threadpool,
//! plain `std` threads with the work split in fixed halves (no scheduler at all: the machine's
//! ceiling), and Python's `Pool` through its script — each running the same `spin` tasks.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Instant;

use parapool::prelude::*;
use rayon::prelude::*;

use crate::python::Python;
use crate::rounds::{Contender, Sample};
use crate::workload::{spin, spin_timed};

/// Every pool of one worker count, started and warmed up before anything is timed.
pub struct Pools {
    pub workers: usize,
    pub inline: Pool,
    pub thread: Pool,
    pub process: Pool,
    pub rayon: rayon::ThreadPool,
    pub threadpool: threadpool::ThreadPool,
}

impl Pools {
    /// Starts every pool with `workers` workers.
    pub fn start(workers: usize) -> Pools {
        let process = Pool::builder().backend("process").workers(workers).build().expect("process pool");
        // Every worker process started and answering before the first timed call.
        process.map(crate::workload::plus_one, 0..workers as u64 * 4).expect("warm-up");
        Pools {
            workers,
            inline: Pool::inline().expect("inline pool"),
            thread: Pool::thread(workers).expect("thread pool"),
            process,
            rayon: rayon::ThreadPoolBuilder::new().num_threads(workers).build().expect("rayon pool"),
            threadpool: threadpool::ThreadPool::new(workers),
        }
    }
}

/// Which contenders a section wants.
#[derive(Clone, Copy)]
pub struct Wanted {
    /// parapool's inline backend (the plain loop, every speedup's baseline, always runs).
    pub inline: bool,
    /// Python's loop next to Python's Pool (Python's own baseline).
    pub python_loop: bool,
}

/// The tasks of one run: `tasks` calls of `spin(iterations)`, or of `spin_timed` when `timed`
/// (each contender's sample then carries the time spent in tasks).
#[derive(Clone, Copy)]
pub struct SpinWork {
    pub iterations: u64,
    pub python_iterations: u64,
    pub tasks: usize,
    pub timed: bool,
}

impl SpinWork {
    fn task(&self) -> fn(u64) -> u64 {
        if self.timed {
            *spin_timed
        } else {
            *spin
        }
    }

    /// Checks a run's outputs and makes its sample.
    fn sample(&self, started: Instant, outputs: Vec<u64>) -> Sample {
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(outputs.len(), self.tasks, "one output per task");
        let sum = outputs.iter().fold(0u64, |a, &b| a.wrapping_add(b));
        if self.timed {
            Sample { wall, in_tasks: Some(sum as f64 * 1e-9) }
        } else {
            assert_eq!(sum, self.checksum(), "the outputs of spin");
            Sample::wall(wall)
        }
    }

    /// The sum of every `spin` output.
    pub fn checksum(&self) -> u64 {
        spin(self.iterations).wrapping_mul(self.tasks as u64)
    }
}

/// The contenders over `work` on `pools`, in the order of the table.
pub fn spin_contenders<'a>(
    pools: &'a Pools,
    work: SpinWork,
    python: Option<&'a RefCell<Python>>,
    wanted: Wanted,
) -> Vec<Contender<'a>> {
    // One input vector, shared by the contenders that map over it.
    let inputs: Rc<[u64]> = vec![work.iterations; work.tasks].into();
    let task = work.task();
    let workers = pools.workers;
    let mut contenders = Vec::new();
    {
        let inputs = Rc::clone(&inputs);
        contenders.push(Contender::new("plain loop", move || {
            let started = Instant::now();
            let outputs = inputs.iter().map(|&n| task(n)).collect();
            work.sample(started, outputs)
        }));
    }
    let inline = wanted.inline.then_some(("parapool inline", &pools.inline));
    for (name, pool) in
        inline.into_iter().chain([("parapool thread", &pools.thread), ("parapool process", &pools.process)])
    {
        let inputs = Rc::clone(&inputs);
        contenders.push(Contender::new(name, move || {
            let started = Instant::now();
            let outputs = match work.timed {
                true => pool.map(spin_timed, inputs.iter().copied()),
                false => pool.map(spin, inputs.iter().copied()),
            };
            work.sample(started, outputs.expect("map"))
        }));
    }
    {
        let inputs = Rc::clone(&inputs);
        contenders.push(Contender::new("rayon", move || {
            let started = Instant::now();
            let inputs: &[u64] = &inputs;
            let outputs = pools.rayon.install(|| inputs.par_iter().map(|&n| task(n)).collect());
            work.sample(started, outputs)
        }));
    }
    contenders.push(Contender::new("threadpool", move || {
        let started = Instant::now();
        let (sender, receiver) = mpsc::channel();
        for index in 0..work.tasks {
            let sender = sender.clone();
            let n = work.iterations;
            pools.threadpool.execute(move || sender.send((index, task(n))).expect("the receiver waits"));
        }
        drop(sender);
        let mut outputs = vec![0; work.tasks];
        for (index, output) in receiver {
            outputs[index] = output;
        }
        work.sample(started, outputs)
    }));
    {
        contenders.push(Contender::new("std threads, fixed split", move || {
            let started = Instant::now();
            let per_thread = inputs.len().div_ceil(workers).max(1);
            let outputs = std::thread::scope(|scope| {
                let parts: Vec<_> = inputs
                    .chunks(per_thread)
                    .map(|part| scope.spawn(move || part.iter().map(|&n| task(n)).collect::<Vec<u64>>()))
                    .collect();
                parts.into_iter().flat_map(|part| part.join().expect("a split thread")).collect()
            });
            work.sample(started, outputs)
        }));
    }
    if let Some(python) = python {
        let (suffix, replies) = if work.timed { ("_timed", 3) } else { ("", 2) };
        let check = move |reply: Vec<f64>| {
            assert_eq!(reply.len(), replies, "python3's reply");
            match work.timed {
                true => {
                    assert_eq!(reply[2] as usize, work.tasks, "python3 ran every task");
                    Sample { wall: reply[0], in_tasks: Some(reply[1]) }
                }
                false => {
                    let expected = spin(work.python_iterations).wrapping_mul(work.tasks as u64);
                    assert_eq!(reply[1] as u64, expected, "python3's spin computes what spin does");
                    Sample::wall(reply[0])
                }
            }
        };
        let (n, tasks) = (work.python_iterations, work.tasks);
        if wanted.python_loop {
            contenders.push(Contender::new("Python loop", move || {
                check(python.borrow_mut().ask(&format!("loop{suffix} {n} {tasks}")))
            }));
        }
        contenders.push(Contender::new("Python Pool", move || {
            check(python.borrow_mut().ask(&format!("map{suffix} {workers} {n} {tasks}")))
        }));
    }
    contenders
}
