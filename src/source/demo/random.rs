//! Helpers over the seeded `Rng` that every part of the demo draws from.

use crate::estate::{Series, Timestamp};
use crate::rng::Rng;

/// An independent stream for one part of the estate, so that e.g. a bigger fleet does not shift
/// the course of the WAF or the VPN.
pub(super) fn fork(rng: &mut Rng) -> Rng {
    Rng::new(rng.next_u64())
}

/// `n` lowercase hex digits, as in AWS resource ids.
pub(super) fn hex(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit((rng.next_u64() % 16) as u32, 16).unwrap_or('0'))
        .collect()
}

/// Uniform in [lo, hi).
pub(super) fn int(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    lo + rng.next_u64() % (hi - lo)
}

pub(super) fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[int(rng, 0, items.len() as u64) as usize]
}

/// An address from the documentation ranges, so nothing on screen names a real host.
pub(super) fn doc_ip(rng: &mut Rng) -> String {
    let net = if rng.chance(0.5) {
        "203.0.113"
    } else {
        "198.51.100"
    };
    format!("{net}.{}", int(rng, 1, 255))
}

/// A count around `mean`, scattered the way per-minute request counts are.
pub(super) fn scatter(rng: &mut Rng, mean: f64) -> f64 {
    (mean * rng.range(0.75, 1.25)).round()
}

/// The band a metric wanders in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Band {
    pub lo: f64,
    pub hi: f64,
}

impl Band {
    /// The next value of a mean-reverting random walk: charts move smoothly instead of jumping,
    /// and never leave the band however long the console runs.
    pub(super) fn drift(self, rng: &mut Rng, last: Option<f64>) -> f64 {
        let mid = (self.lo + self.hi) / 2.0;
        let step = (self.hi - self.lo) * 0.08;
        let v = last.unwrap_or_else(|| rng.range(self.lo, self.hi));
        (v + (mid - v) * 0.1 + rng.range(-step, step)).clamp(self.lo, self.hi)
    }

    pub(super) fn walk(self, rng: &mut Rng, series: &mut Series, at: Timestamp) {
        let v = self.drift(rng, series.last());
        series.push(at, v);
    }
}
