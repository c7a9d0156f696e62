//! AWS failures in words a person can act on: throttled, access denied (naming the IAM action),
//! credentials missing or expired, endpoint unreachable; never a raw debug dump.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Describes a failed call of `action` (an IAM action name such as `rds:DescribeDBClusters`).
pub fn describe<E, R>(action: &str, err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let service = action.split(':').next().unwrap_or(action);
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            let code = inner.code().unwrap_or("UnknownError");
            let message = inner.message().unwrap_or("").trim();
            match code {
                "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "TooManyRequestsException"
                | "RequestThrottled"
                | "SlowDown" => {
                    format!("throttled by {service} ({code}): retrying at the next refresh")
                }
                "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "UnauthorizedException"
                | "AuthorizationError" => {
                    format!("access denied: the IAM policy lacks {action}")
                }
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
                    "credentials expired: sign in again (e.g. `aws sso login`)".to_string()
                }
                "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "SignatureDoesNotMatch" => {
                    format!("the credentials were refused by {service} ({code}): check the profile")
                }
                _ if message.is_empty() => format!("{action} failed: {code}"),
                _ => format!("{action} failed: {code}: {message}"),
            }
        }
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            format!("{service} did not answer in time ({action})")
        }
        SdkError::DispatchFailure(d) if d.is_io() => format!(
            "cannot reach the {service} endpoint: {}",
            DisplayErrorContext(err)
        ),
        SdkError::TimeoutError(_) => format!("{service} did not answer in time ({action})"),
        SdkError::ResponseError(_) => format!(
            "{service} gave an answer that could not be read ({action}): {}",
            DisplayErrorContext(err)
        ),
        _ => format!("{action} failed: {}", DisplayErrorContext(err)),
    }
}
