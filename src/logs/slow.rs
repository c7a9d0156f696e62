//! MySQL's slow query log, as Aurora exports it to CloudWatch Logs: one event per query, its
//! header lines (`# Query_time: 2.3  Lock_time: 0.0 Rows_sent: 1  Rows_examined: 482113`)
//! then the statement. The numbers are read once, into columns.

#[derive(Debug, Clone, PartialEq)]
pub struct SlowQuery {
    /// Seconds.
    pub query_time: f64,
    pub lock_time: f64,
    pub rows_sent: u64,
    pub rows_examined: u64,
    /// The statement, on one line (without the `SET timestamp` and `use` lines before it).
    pub statement: String,
}

impl SlowQuery {
    /// The entry's numbers, when `text` is a slow query entry.
    pub fn parse(text: &str) -> Option<SlowQuery> {
        let header = text.lines().find(|l| l.starts_with("# Query_time:"))?;
        let value = |key: &str| -> Option<&str> {
            let rest = &header[header.find(key)? + key.len()..];
            rest.split_whitespace().next()
        };
        let statement = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| {
                let lower = l.trim_start().to_ascii_lowercase();
                !(lower.starts_with("set timestamp=") || lower.starts_with("use "))
            })
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Some(SlowQuery {
            query_time: value("Query_time:")?.parse().ok()?,
            lock_time: value("Lock_time:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0),
            rows_sent: value("Rows_sent:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            rows_examined: value("Rows_examined:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            statement,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_query_entry_gives_its_numbers_and_statement() {
        let entry = "# Time: 2026-12-01T10:00:00.123456Z\n\
            # User@Host: phoenix[phoenix] @  [10.20.1.4]  Id:   123\n\
            # Query_time: 2.345678  Lock_time: 0.000120 Rows_sent: 1  Rows_examined: 482113\n\
            use tracking;\n\
            SET timestamp=1796124000;\n\
            SELECT * FROM parcels\n  WHERE status = 'late';";
        let q = SlowQuery::parse(entry).expect("a slow query entry");
        assert_eq!(q.query_time, 2.345678);
        assert_eq!(q.lock_time, 0.00012);
        assert_eq!((q.rows_sent, q.rows_examined), (1, 482113));
        assert_eq!(q.statement, "SELECT * FROM parcels WHERE status = 'late';");
        assert_eq!(SlowQuery::parse("INFO GET /track 200"), None);
    }
}
