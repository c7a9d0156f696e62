use super::Timestamp;

/// One area of an estate as last seen: the last good data, when it was taken, and the last
/// error. A failed refresh keeps the previous data so the screen never goes blank, but the
/// error and the data's age make a stale or failing area visible.
#[derive(Debug, Clone, PartialEq)]
pub struct Area<T> {
    pub data: Option<T>,
    pub taken_at: Option<Timestamp>,
    /// Why the last refresh failed: the data, if any, is from an earlier one.
    pub last_error: Option<AreaError>,
    /// What part of the last refresh could not be read; the rest of it is the data.
    pub partial: Option<AreaError>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AreaError {
    pub at: Timestamp,
    /// What failed, why, and what to do, in one sentence.
    pub message: String,
    /// When the failure is not the area's own but the estate's (no credentials, no route to
    /// AWS), the words every area it stops shares, so that it can be told once.
    pub cause: Option<String>,
}

impl<T> Default for Area<T> {
    fn default() -> Self {
        Self {
            data: None,
            taken_at: None,
            last_error: None,
            partial: None,
        }
    }
}

impl<T> Area<T> {
    pub fn fresh(data: T, at: Timestamp) -> Self {
        Self {
            data: Some(data),
            taken_at: Some(at),
            last_error: None,
            partial: None,
        }
    }

    /// A successful refresh replaces the data and clears the error.
    pub fn record_ok(&mut self, data: T, at: Timestamp) {
        self.data = Some(data);
        self.taken_at = Some(at);
        self.last_error = None;
        self.partial = None;
    }

    /// A failed refresh keeps the last good data.
    pub fn record_error(&mut self, message: impl Into<String>, at: Timestamp) {
        self.record_failure(AreaError {
            at,
            message: message.into(),
            cause: None,
        });
    }

    /// A part of the refresh just recorded could not be read.
    pub fn record_partial(&mut self, error: AreaError) {
        self.partial = Some(error);
    }

    /// A failed refresh, with its cause, keeps the last good data.
    pub fn record_failure(&mut self, error: AreaError) {
        self.last_error = Some(error);
    }

    pub fn age_secs(&self, now: Timestamp) -> Option<i64> {
        self.taken_at.map(|t| (now - t).num_seconds().max(0))
    }

    pub fn is_stale(&self, now: Timestamp, stale_after_secs: i64) -> bool {
        self.age_secs(now).is_some_and(|age| age > stale_after_secs)
    }
}
