//! The AWS SDK as the console sets it up for an estate: its region and profile, bounded
//! retries and timeouts, the HTTP client (the bastion's, for `aws_via_bastion`), and AWS's
//! failures told in one sentence. The live source and the endpoint checks both build on it.

pub mod error;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::config::EstateConfig;

pub use error::{AwsError, Wording};

/// Bounded: a dead endpoint costs one refresh a few seconds, never a hang.
const ATTEMPTS: u32 = 3;
// Standard, not adaptive: under adaptive retry a retry after a throttling answer waits for
// tokens of a bucket that refills at 0.5 a second at a console's rates, and one throttled call
// then held its refresh until the operation timeout (20 s, measured against the lab's fault
// proxy). While AWS throttles, the console asks less often instead (`source::aws::backoff`),
// and the standard mode's retry quota runs dry, leaving one attempt a call.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// The SDK settings of an estate: its region and profile, the console's retry and timeouts,
/// and `http` (when given) carrying every call, the credential providers' included.
pub async fn sdk_config(
    cfg: &EstateConfig,
    http: Option<SharedHttpClient>,
) -> aws_types::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(cfg.region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &cfg.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(http) = http {
        loader = loader.http_client(http);
    }
    loader.load().await
}

/// The profile the estate's credentials come from, as a person would name it: the estate's
/// own, else `AWS_PROFILE`; `None` for the default chain.
pub fn profile(cfg: &EstateConfig) -> Option<String> {
    cfg.profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
}
