//! Timing: each figure is the median of several rounds, and each round runs
//! the baseline and the subject back to back, so that the machine's drift
//! touches both alike.

use std::time::{Duration, Instant};

/// Times `iterations` calls of `op`, returning the time per call.
pub fn per_op(iterations: u32, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        op();
    }
    start.elapsed() / iterations
}

/// The median of some durations.
pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// The median of some ratios.
pub fn median_ratio(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A subject measured against its baseline, round by round.
pub struct Paired {
    /// The subject's median time per operation.
    pub subject: Duration,
    /// The baseline's median time per operation.
    pub baseline: Duration,
    /// The median of the per-round ratios subject / baseline.
    pub ratio: f64,
}

/// Runs `rounds` rounds of `iterations` of the baseline and the subject,
/// alternating in short runs (of `iterations / 20`), so that both meet the
/// same conditions: on a small machine a thread woken on the other core
/// costs tens of microseconds more than one woken on its own, and which
/// one the scheduler picks drifts over seconds.
pub fn paired(
    rounds: u32,
    iterations: u32,
    mut baseline: impl FnMut(),
    mut subject: impl FnMut(),
) -> Paired {
    // Warm-up: connections, caches, lazy initialisation.
    per_op(iterations / 10 + 1, &mut baseline);
    per_op(iterations / 10 + 1, &mut subject);
    let run = (iterations / 20).max(1);
    let (mut b, mut s, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (mut base, mut subj) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..iterations / run {
            base += per_op(run, &mut baseline) * run;
            subj += per_op(run, &mut subject) * run;
        }
        let (base, subj) = (base / iterations, subj / iterations);
        r.push(subj.as_secs_f64() / base.as_secs_f64());
        b.push(base);
        s.push(subj);
    }
    Paired {
        subject: median(s),
        baseline: median(b),
        ratio: median_ratio(r),
    }
}

/// The `p`th percentile (0–100) of some latencies.
pub fn percentile(values: &mut [Duration], p: f64) -> Duration {
    values.sort();
    let index = ((values.len() as f64 - 1.0) * p / 100.0).round() as usize;
    values[index]
}
