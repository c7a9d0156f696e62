//! Why an area of the live estate could not be read: AWS's failure, or an answer that does not
//! make the estate the config names.

use thiserror::Error;

use crate::estate::Timestamp;
use crate::estate::area::AreaError;
use crate::sdk::AwsError;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// AWS answered, but not with what the estate's config names (a cluster that is not there).
    #[error("{0}")]
    Estate(String),
}

impl ReadError {
    /// The area's error, with the estate-wide cause when there is one (no credentials, no
    /// route to AWS), so that it is told once.
    pub fn at(&self, at: Timestamp) -> AreaError {
        AreaError {
            at,
            message: self.to_string(),
            cause: match self {
                ReadError::Aws(e) => e.cause(),
                ReadError::Estate(_) => None,
            },
        }
    }
}

impl From<String> for ReadError {
    fn from(message: String) -> Self {
        ReadError::Estate(message)
    }
}
