//! Paired, alternating rounds: every contender runs once per round, in an order that rotates from
//! round to round, so that the drift of a shared machine (tens of percent within seconds) hits
//! every contender alike, and ratios are taken within a round before the median is taken.

use std::time::Instant;

/// One timed run of a contender.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Wall-clock seconds of the run.
    pub wall: f64,
    /// Seconds spent inside tasks, summed over every worker, when the contender can tell.
    pub in_tasks: Option<f64>,
}

impl Sample {
    /// A sample with a wall time only.
    pub fn wall(wall: f64) -> Sample {
        Sample { wall, in_tasks: None }
    }
}

/// A contender: a name and a run that times itself (so that preparing an owned input or checking
/// the result stays outside the figure).
pub struct Contender<'a> {
    pub name: String,
    pub run: Box<dyn FnMut() -> Sample + 'a>,
}

impl<'a> Contender<'a> {
    /// A contender whose whole closure is timed.
    pub fn timed<T>(name: impl Into<String>, mut run: impl FnMut() -> T + 'a) -> Contender<'a> {
        Contender::new(name, move || {
            let started = Instant::now();
            std::hint::black_box(run());
            Sample::wall(started.elapsed().as_secs_f64())
        })
    }

    /// A contender that times itself.
    pub fn new(name: impl Into<String>, run: impl FnMut() -> Sample + 'a) -> Contender<'a> {
        Contender { name: name.into(), run: Box::new(run) }
    }
}

/// The samples of one contender over the rounds.
pub struct Series {
    pub name: String,
    pub samples: Vec<Sample>,
}

impl Series {
    /// Median wall time.
    pub fn median(&self) -> f64 {
        quartiles(self.samples.iter().map(|s| s.wall).collect())[1]
    }

    /// Quartiles of `f(self's sample, other's sample)` over the rounds.
    pub fn paired(&self, other: &Series, f: impl Fn(&Sample, &Sample) -> f64) -> [f64; 3] {
        quartiles(self.samples.iter().zip(&other.samples).map(|(a, b)| f(a, b)).collect())
    }

    /// Quartiles of the speedup over `baseline`: the baseline's time over this one's, per round.
    pub fn speedup_over(&self, baseline: &Series) -> [f64; 3] {
        self.paired(baseline, |mine, base| base.wall / mine.wall)
    }

    /// The fastest wall time.
    pub fn fastest(&self) -> f64 {
        self.samples.iter().map(|s| s.wall).fold(f64::INFINITY, f64::min)
    }
}

/// Runs every contender once untimed (warm-up), then `rounds` rounds, rotating the order.
pub fn alternate(rounds: usize, mut contenders: Vec<Contender<'_>>) -> Vec<Series> {
    for contender in &mut contenders {
        (contender.run)();
    }
    let count = contenders.len();
    let mut samples = vec![Vec::with_capacity(rounds); count];
    for round in 0..rounds {
        for offset in 0..count {
            let index = (round + offset) % count;
            samples[index].push((contenders[index].run)());
        }
    }
    contenders.into_iter().zip(samples).map(|(c, samples)| Series { name: c.name, samples }).collect()
}

/// Lower quartile, median and upper quartile (nearest rank).
pub fn quartiles(mut values: Vec<f64>) -> [f64; 3] {
    assert!(!values.is_empty(), "no samples");
    values.sort_by(f64::total_cmp);
    let at = |q: usize| values[(q * (values.len() - 1) + 2) / 4];
    [at(1), at(2), at(3)]
}
