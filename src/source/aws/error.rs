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

#[cfg(test)]
mod tests {
    use aws_sdk_rds::operation::describe_db_clusters::DescribeDBClustersError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    const ACTION: &str = "rds:DescribeDBClusters";

    fn service(code: &str, message: &str) -> String {
        let err = DescribeDBClustersError::generic(
            ErrorMetadata::builder().code(code).message(message).build(),
        );
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        describe(ACTION, &SdkError::service_error(err, raw))
    }

    #[test]
    fn service_errors_say_what_to_do() {
        assert_eq!(
            service("Throttling", "Rate exceeded"),
            "throttled by rds (Throttling): retrying at the next refresh"
        );
        assert_eq!(
            service("AccessDenied", "User is not authorized"),
            "access denied: the IAM policy lacks rds:DescribeDBClusters"
        );
        assert_eq!(
            service(
                "ExpiredToken",
                "The security token included in the request is expired"
            ),
            "credentials expired: sign in again (e.g. `aws sso login`)"
        );
        assert_eq!(
            service("DBClusterNotFoundFault", "DBCluster qp not found."),
            "rds:DescribeDBClusters failed: DBClusterNotFoundFault: DBCluster qp not found."
        );
    }

    #[test]
    fn transport_errors_name_the_service() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let err: SdkError<DescribeDBClustersError, Response> =
            SdkError::dispatch_failure(ConnectorError::io(refused.into()));
        let text = describe(ACTION, &err);
        assert!(
            text.starts_with("cannot reach the rds endpoint: "),
            "{text}"
        );
        assert!(text.contains("connection refused"), "{text}");
        let err: SdkError<DescribeDBClustersError, Response> = SdkError::timeout_error("too slow");
        assert_eq!(
            describe(ACTION, &err),
            "rds did not answer in time (rds:DescribeDBClusters)"
        );
    }
}
