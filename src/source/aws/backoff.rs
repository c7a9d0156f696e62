//! Reading less while AWS throttles. A read AWS throttled makes its area wait out cadences
//! before the next: one after the first throttled read, three after the second and later
//! ones (its cadence stretched to 2x, then 4x, or less where the area says so), and none once
//! a read is not throttled. Each area is paced on its own: a throttled WAF does not hold up
//! the cluster.

use std::collections::HashMap;

/// How many cadences an area's reads come apart at most while AWS throttles them: recovery is
/// seen within this many cadences of the throttling ending.
pub const MOST: u32 = 4;

#[derive(Debug, Default)]
pub struct Backoff {
    areas: HashMap<&'static str, Stretch>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Stretch {
    /// Reads throttled one after the other.
    in_a_row: u32,
    /// Cadences still to wait out before the next read.
    waiting: u32,
}

impl Backoff {
    /// Whether `area` is read at this cadence; one it waits out is used up.
    pub fn due(&mut self, area: &'static str) -> bool {
        let s = self.areas.entry(area).or_default();
        if s.waiting == 0 {
            return true;
        }
        s.waiting -= 1;
        false
    }

    /// Whether AWS throttled `area`'s last read.
    pub fn throttled(&self, area: &'static str) -> bool {
        self.areas.get(area).is_some_and(|s| s.in_a_row > 0)
    }

    /// Notes how `area`'s read went; when AWS throttled it, in how many cadences (`most` at
    /// most) it is read again.
    pub fn after(&mut self, area: &'static str, throttled: bool, most: u32) -> Option<u32> {
        let s = self.areas.entry(area).or_default();
        if !throttled {
            *s = Stretch::default();
            return None;
        }
        s.in_a_row += 1;
        let period = (1 << s.in_a_row.min(MOST.ilog2())).min(most.clamp(1, MOST));
        s.waiting = period - 1;
        Some(period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which of `n` cadences read the area, when every read is throttled until `until`.
    fn reads(n: u32, until: u32) -> Vec<u32> {
        let mut b = Backoff::default();
        (0..n)
            .filter(|&i| {
                let due = b.due("cluster");
                if due {
                    b.after("cluster", i < until, MOST);
                }
                due
            })
            .collect()
    }

    #[test]
    fn a_throttled_area_is_read_at_twice_then_four_times_its_cadence() {
        assert_eq!(reads(16, 99), [0, 2, 6, 10, 14]);
    }

    #[test]
    fn one_read_that_is_not_throttled_brings_the_cadence_back() {
        // Throttled at 0 and 2; the read at 6 goes through, and from then on every cadence.
        assert_eq!(reads(10, 3), [0, 2, 6, 7, 8, 9]);
    }

    #[test]
    fn the_next_read_is_told_and_areas_are_paced_apart() {
        let mut b = Backoff::default();
        assert_eq!(b.after("waf", true, MOST), Some(2));
        assert_eq!(b.after("waf", true, MOST), Some(4));
        assert!(b.due("cluster"));
        assert!(!b.due("waf"));
        assert!(b.throttled("waf") && !b.throttled("cluster"));
        assert_eq!(b.after("cluster", false, MOST), None);
        // An area that keeps its cadence is still told as throttled, and read next time.
        assert_eq!(b.after("metrics", true, 1), Some(1));
        assert_eq!(b.after("metrics", true, 1), Some(1));
        assert!(b.throttled("metrics") && b.due("metrics"));
    }
}
