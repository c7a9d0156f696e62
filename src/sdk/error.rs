//! AWS failures in words a person can act on, one sentence each: no credentials (and how to
//! get them), throttled, access denied (naming the IAM action), an endpoint that cannot be
//! reached (naming it), a connection reset. The SDK's own error chain goes to the log, never to
//! the screen.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::io;
use std::sync::{Arc, Mutex};

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use thiserror::Error;

/// Why an AWS call failed. `action` is an IAM action name such as `rds:DescribeDBClusters`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AwsError {
    #[error("no AWS credentials{}: {}", for_profile(.profile), sign_in(.profile))]
    NoCredentials { profile: Option<String> },
    #[error("the AWS credentials{} have expired: {}", for_profile(.profile), sign_in(.profile))]
    Expired { profile: Option<String> },
    #[error(
        "AWS refused the credentials{} ({code}): check the keys the profile gives, or sign in again",
        for_profile(.profile)
    )]
    Refused {
        profile: Option<String>,
        code: String,
    },
    #[error("access denied: the IAM policy lacks {action}")]
    AccessDenied { action: String },
    #[error("AWS throttled {action}")]
    Throttled { action: String },
    #[error("cannot reach {host}: {why}")]
    Unreachable { host: String, why: String },
    #[error("the connection to AWS was reset while reading {service}")]
    Reset { service: String },
    #[error("{service} did not answer in time ({action})")]
    TimedOut { service: String, action: String },
    #[error("{service} gave an answer that could not be read ({action})")]
    Unreadable { service: String, action: String },
    #[error("{action} failed: {code}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Service {
        action: String,
        code: String,
        message: String,
    },
    #[error("{action} could not be sent: {why}")]
    Unsent { action: String, why: String },
}

fn for_profile(profile: &Option<String>) -> String {
    profile
        .as_ref()
        .map(|p| format!(" for profile {p}"))
        .unwrap_or_default()
}

fn sign_in(profile: &Option<String>) -> String {
    match profile {
        Some(p) => format!("run `aws sso login --profile {p}` or set AWS_PROFILE"),
        None => "set AWS_PROFILE (and run `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
    }
}

impl AwsError {
    /// When the failure is the account's or the network's rather than one call's (no
    /// credentials, an endpoint that cannot be reached), its sentence: every area it stops
    /// tells the same one, and where all do it is told once.
    pub fn cause(&self) -> Option<String> {
        match self {
            AwsError::NoCredentials { .. }
            | AwsError::Expired { .. }
            | AwsError::Refused { .. }
            | AwsError::Unreachable { .. }
            | AwsError::TimedOut { .. } => Some(self.to_string()),
            AwsError::Reset { .. } => Some("the connection to AWS was reset".into()),
            AwsError::Throttled { .. } => Some(
                "AWS is throttling the console's calls; it asks less often until AWS answers"
                    .into(),
            ),
            AwsError::AccessDenied { .. }
            | AwsError::Unreadable { .. }
            | AwsError::Service { .. }
            | AwsError::Unsent { .. } => None,
        }
    }
}

/// What AWS failures are told with: the profile the credentials come from, and the host each
/// operation's requests were sent to (noted by [`Wording::interceptor`]).
#[derive(Debug, Clone, Default)]
pub struct Wording {
    profile: Option<String>,
    hosts: Arc<Mutex<HashMap<String, String>>>,
}

impl Wording {
    pub fn new(profile: Option<String>) -> Wording {
        Wording {
            profile,
            hosts: Arc::default(),
        }
    }

    /// An interceptor for every client, noting where requests go.
    pub fn interceptor(&self) -> HostNotes {
        HostNotes(self.hosts.clone())
    }

    /// A failed call of `action`, in words; the whole chain goes to the log.
    pub fn error<E, R>(&self, action: &str, err: &SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: std::fmt::Debug + 'static,
    {
        tracing::warn!(action, error = %DisplayErrorContext(err), "AWS call failed");
        let service = action.split(':').next().unwrap_or(action).to_string();
        let operation = action.rsplit(':').next().unwrap_or(action);
        let profile = self.profile.clone();
        match err {
            SdkError::ServiceError(e) => {
                let inner = e.err();
                let code = inner
                    .code()
                    .map_or_else(|| without_code(e.raw()), str::to_string);
                let message = inner.message().unwrap_or("").trim().to_string();
                match code.as_str() {
                    code if is_throttling(code) => AwsError::Throttled {
                        action: action.into(),
                    },
                    "AccessDenied"
                    | "AccessDeniedException"
                    | "UnauthorizedOperation"
                    | "UnauthorizedException"
                    | "AuthorizationError" => AwsError::AccessDenied {
                        action: action.into(),
                    },
                    "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
                        AwsError::Expired { profile }
                    }
                    "InvalidClientTokenId"
                    | "UnrecognizedClientException"
                    | "SignatureDoesNotMatch"
                    | "AuthFailure" => AwsError::Refused { profile, code },
                    _ => AwsError::Service {
                        action: action.into(),
                        code,
                        message,
                    },
                }
            }
            SdkError::TimeoutError(_) => AwsError::TimedOut {
                service,
                action: action.into(),
            },
            SdkError::ResponseError(_) => AwsError::Unreadable {
                service,
                action: action.into(),
            },
            SdkError::DispatchFailure(d) => {
                if found::<CredentialsError>(err).is_some() {
                    return AwsError::NoCredentials { profile };
                }
                if d.is_timeout() {
                    return AwsError::TimedOut {
                        service,
                        action: action.into(),
                    };
                }
                let host = self
                    .hosts
                    .lock()
                    .ok()
                    .and_then(|h| h.get(operation).cloned())
                    .unwrap_or_else(|| format!("the {service} endpoint"));
                transport(err, host, service, action)
            }
            _ => AwsError::Unsent {
                action: action.into(),
                why: "the request could not be made".into(),
            },
        }
    }
}

/// Whether AWS's error code says it throttled the call (each protocol has its own word).
pub fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "SlowDown"
    )
}

/// A request that went out and came to nothing, by what the connection did.
fn transport(
    err: &(dyn StdError + 'static),
    host: String,
    service: String,
    action: &str,
) -> AwsError {
    let unreachable = |why: &str| AwsError::Unreachable {
        host: host.clone(),
        why: why.into(),
    };
    if let Some(Told(why)) = found::<Told>(err) {
        return AwsError::Unsent {
            action: action.into(),
            why: why.clone(),
        };
    }
    if let Some(e) = found::<hyper::Error>(err)
        && (e.is_incomplete_message() || e.is_closed() || e.is_canceled())
    {
        return AwsError::Reset { service };
    }
    if let Some(e) = found::<io::Error>(err) {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => return unreachable("connection refused"),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => return AwsError::Reset { service },
            io::ErrorKind::TimedOut => return unreachable("the connection timed out"),
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                return unreachable("no route to it");
            }
            _ => {}
        }
    }
    if chain(err).any(|e| e.to_string().contains("dns error")) {
        return unreachable("its name does not resolve");
    }
    if chain(err).any(|e| e.to_string().to_lowercase().contains("certificate")) {
        return unreachable("its TLS certificate is not trusted");
    }
    AwsError::Unsent {
        action: action.into(),
        why: "the connection failed (the log has the details)".into(),
    }
}

/// A failure a connector of the console's own (the bastion's, for `aws_via_bastion`) has told
/// in one sentence already.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct Told(pub String);

/// `err`, then each error after it, outermost first; inside an `io::Error` the next one is its
/// payload (rustls's errors and the connectors' come wrapped that way).
pub fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e| match e.downcast_ref::<io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

/// The first error of type `T` in the chain.
pub fn found<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    chain(err).find_map(|e| e.downcast_ref::<T>())
}

/// Notes the host each operation's requests go to, for the words when one cannot be reached.
#[derive(Debug, Clone)]
pub struct HostNotes(Arc<Mutex<HashMap<String, String>>>);

impl Intercept for HostNotes {
    fn name(&self) -> &'static str {
        "qpconsole host notes"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        let host = uri.parse::<hyper::Uri>().ok().and_then(|u| {
            let host = u.host()?.to_string();
            Some(match u.port_u16() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        });
        if let (Some(m), Some(host)) = (cfg.load::<Metadata>(), host)
            && let Ok(mut hosts) = self.0.lock()
        {
            hosts.insert(m.name().to_string(), host);
        }
        Ok(())
    }
}

/// What stands for the code of a service error that has none (an emulator's HTML error page,
/// a proxy's): its HTTP status, where the answer is an HTTP one.
fn without_code<R: 'static>(raw: &R) -> String {
    (raw as &dyn std::any::Any)
        .downcast_ref::<aws_smithy_runtime_api::http::Response>()
        .map_or("an error without a code".to_string(), |r| {
            format!("HTTP {} without an error code", r.status().as_u16())
        })
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
        let mut meta = ErrorMetadata::builder().message(message);
        if !code.is_empty() {
            meta = meta.code(code);
        }
        let err = DescribeDBClustersError::generic(meta.build());
        let status = if code.is_empty() { 500 } else { 400 };
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        Wording::new(Some("qp".into()))
            .error(ACTION, &SdkError::service_error(err, raw))
            .to_string()
    }

    fn dispatch(source: BoxError) -> AwsError {
        let err: SdkError<DescribeDBClustersError, Response> =
            SdkError::dispatch_failure(ConnectorError::other(source, None));
        Wording::new(Some("qualitypost".into())).error(ACTION, &err)
    }

    #[test]
    fn service_errors_say_what_to_do() {
        assert_eq!(
            service("Throttling", "Rate exceeded"),
            "AWS throttled rds:DescribeDBClusters"
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
            "the AWS credentials for profile qp have expired: run `aws sso login --profile qp` or set AWS_PROFILE"
        );
        assert_eq!(
            service("DBClusterNotFoundFault", "DBCluster qp not found."),
            "rds:DescribeDBClusters failed: DBClusterNotFoundFault: DBCluster qp not found."
        );
        assert_eq!(
            service("", ""),
            "rds:DescribeDBClusters failed: HTTP 500 without an error code"
        );
    }

    #[test]
    fn missing_credentials_say_how_to_get_them_once_for_every_area() {
        let e = dispatch(Box::new(CredentialsError::not_loaded(
            "no providers in chain",
        )));
        assert_eq!(
            e.to_string(),
            "no AWS credentials for profile qualitypost: run `aws sso login --profile qualitypost` or set AWS_PROFILE"
        );
        assert_eq!(e.cause(), Some(e.to_string()));
        let without = Wording::default().error(
            ACTION,
            &SdkError::<DescribeDBClustersError, Response>::dispatch_failure(
                ConnectorError::other(
                    Box::new(CredentialsError::provider_error("IMDS said no")),
                    None,
                ),
            ),
        );
        assert!(
            without
                .to_string()
                .starts_with("no AWS credentials: set AWS_PROFILE"),
            "{without}"
        );
    }

    #[test]
    fn transport_errors_are_told_in_words() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused");
        let err: SdkError<DescribeDBClustersError, Response> =
            SdkError::dispatch_failure(ConnectorError::io(refused.into()));
        let words = Wording::new(None);
        words.hosts.lock().unwrap().insert(
            "DescribeDBClusters".into(),
            "rds.us-east-1.amazonaws.com".into(),
        );
        assert_eq!(
            words.error(ACTION, &err).to_string(),
            "cannot reach rds.us-east-1.amazonaws.com: connection refused"
        );
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
        let err: SdkError<DescribeDBClustersError, Response> =
            SdkError::dispatch_failure(ConnectorError::io(reset.into()));
        assert_eq!(
            words.error(ACTION, &err).to_string(),
            "the connection to AWS was reset while reading rds"
        );
        let err: SdkError<DescribeDBClustersError, Response> = SdkError::timeout_error("too slow");
        assert_eq!(
            words.error(ACTION, &err).to_string(),
            "rds did not answer in time (rds:DescribeDBClusters)"
        );
    }
}
