use std::collections::VecDeque;

use super::Timestamp;

/// A short metric time series, oldest first, bounded so a long-running console does not grow.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    points: VecDeque<(Timestamp, f64)>,
    capacity: usize,
}

impl Series {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            points: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    pub fn from_points(
        capacity: usize,
        points: impl IntoIterator<Item = (Timestamp, f64)>,
    ) -> Self {
        let mut s = Self::with_capacity(capacity);
        for (at, v) in points {
            s.push(at, v);
        }
        s
    }

    pub fn push(&mut self, at: Timestamp, value: f64) {
        if self.capacity > 0 && self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back((at, value));
    }

    pub fn last(&self) -> Option<f64> {
        self.points.back().map(|&(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn points(
        &self,
    ) -> impl DoubleEndedIterator<Item = (Timestamp, f64)> + ExactSizeIterator + '_ {
        self.points.iter().copied()
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = f64> + ExactSizeIterator + '_ {
        self.points.iter().map(|&(_, v)| v)
    }

    /// Sum of the points taken after `since` (e.g. requests in the last hour).
    pub fn sum_since(&self, since: Timestamp) -> f64 {
        self.points
            .iter()
            .filter(|(at, _)| *at > since)
            .map(|&(_, v)| v)
            .sum()
    }

    pub fn max(&self) -> Option<f64> {
        self.values().reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn keeps_only_the_newest_points() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut s = Series::with_capacity(3);
        for i in 0..5 {
            s.push(t0 + Duration::minutes(i), i as f64);
        }
        assert_eq!(s.values().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);
        assert_eq!(s.last(), Some(4.0));
        assert_eq!(s.sum_since(t0 + Duration::minutes(2)), 7.0);
    }
}
