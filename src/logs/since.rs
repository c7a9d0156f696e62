//! `--since` and the view's `since`: how far back a log is read from, as `aws logs tail`
//! takes it: `90s`, `10m`, `1h`, `2d`, `1w`, or a time (`2026-12-01T10:00:00Z`, or
//! `2026-12-01 10:00` in UTC).

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};

use crate::estate::Timestamp;

/// A point to read from, as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// This long before now.
    Ago(Duration),
    At(Timestamp),
}

impl Since {
    pub fn from(self, now: Timestamp) -> Timestamp {
        match self {
            Since::Ago(d) => now - d,
            Since::At(t) => t,
        }
    }
}

/// Reads `text`, or says what is accepted.
pub fn parse_since(text: &str) -> Result<Since, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "'{text}' is not a time to read from: give an age (90s, 10m, 1h, 2d, 1w) or a UTC time (2026-12-01T10:00:00Z)"
        )
    };
    if let Some(unit) = t.chars().last().filter(char::is_ascii_alphabetic)
        && let Ok(n) = t[..t.len() - 1].parse::<i64>()
    {
        let d = match unit {
            's' => Duration::try_seconds(n),
            'm' => Duration::try_minutes(n),
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            'w' => Duration::try_weeks(n),
            _ => None,
        };
        return d
            .filter(|d| *d >= Duration::zero())
            .map(Since::Ago)
            .ok_or_else(bad);
    }
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(Since::At(at.with_timezone(&Utc)));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(Since::At(Utc.from_utc_datetime(&at)));
        }
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_times_are_read_and_anything_else_is_told() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let at = |s: &str| parse_since(s).unwrap().from(now);
        assert_eq!(at("10m"), now - Duration::minutes(10));
        assert_eq!(at("90s"), now - Duration::seconds(90));
        assert_eq!(at("1h"), now - Duration::hours(1));
        assert_eq!(at("2d"), now - Duration::days(2));
        assert_eq!(
            at("2026-12-01T10:00:00Z"),
            Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
        );
        assert_eq!(
            at("2026-12-01 10:30"),
            Utc.with_ymd_and_hms(2026, 12, 1, 10, 30, 0).unwrap()
        );
        for bad in ["", "10", "10x", "-5m", "yesterday"] {
            let e = parse_since(bad).unwrap_err();
            assert!(e.contains("give an age (90s, 10m"), "{bad}: {e}");
        }
    }
}
