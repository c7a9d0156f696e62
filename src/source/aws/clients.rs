//! The AWS clients of one estate, built from aws-config's standard chain (environment,
//! profiles with SSO and assume-role, instance metadata) and the standard endpoint settings
//! (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, a profile's `services`), with bounded
//! retries and timeouts, and a counter of every call made.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::config::EstateConfig;
use crate::sdk::{Wording, sdk_config};

/// One operation's calls since the counter was last taken, and the slowest of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStat {
    pub count: u32,
    pub slowest: Duration,
}

/// Calls made, by `Service:Operation`, since the counter was last taken: every call of every
/// client, counted where the SDK runs it, so no call site can forget to count.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, CallStat>>>);

/// When this operation started, kept in the operation's own config bag.
#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl CallCounter {
    /// The counts so far, and a fresh start.
    pub fn take(&self) -> BTreeMap<String, CallStat> {
        std::mem::take(&mut *self.0.lock().expect("counter lock"))
    }

    fn key(cfg: &ConfigBag) -> Option<String> {
        cfg.load::<Metadata>()
            .map(|m| format!("{}:{}", m.service(), m.name()))
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "qpconsole call counter"
    }

    // Before serialization, not before execution: the operation's metadata is in the bag only
    // once its own configuration has been applied. It runs once per operation, not per retry.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(key) = Self::key(cfg) {
            self.0
                .lock()
                .expect("counter lock")
                .entry(key)
                .or_default()
                .count += 1;
            cfg.interceptor_state().store_put(Started(Instant::now()));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(key), Some(started)) = (Self::key(cfg), cfg.load::<Started>()) {
            let took = started.0.elapsed();
            let mut stats = self.0.lock().expect("counter lock");
            let stat = stats.entry(key).or_default();
            stat.slowest = stat.slowest.max(took);
        }
        Ok(())
    }
}

/// Calls that add to a picture but are not needed for it. Some endpoints do not serve them
/// (emulators, some partitions); after one answers so, the call is left alone for a while
/// instead of costing every refresh its retries.
#[derive(Debug, Clone, Default)]
pub struct Optional(Arc<Mutex<HashMap<&'static str, Instant>>>);

/// How long an endpoint that does not serve a call is believed.
const NOT_SERVED_FOR: Duration = Duration::from_secs(600);

impl Optional {
    /// Runs `call` unless the endpoint said lately that it does not serve `op`; `None` when it
    /// was skipped or failed (the failure is logged, the picture goes on without it).
    pub async fn call<T, E>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.try_call(op, call).await.ok()
    }

    /// As `call`, saying why there is no answer: the endpoint does not serve `op`, or the
    /// call failed with AWS's words.
    pub async fn try_call<T, E>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, Skipped>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let skipped = self
            .0
            .lock()
            .expect("optional lock")
            .get(op)
            .is_some_and(|until| Instant::now() < *until);
        if skipped {
            return Err(Skipped::NotServed);
        }
        match call.await {
            Ok(v) => Ok(v),
            Err(e) => {
                tracing::info!(op, error = %DisplayErrorContext(&e), "optional call failed");
                if not_served(&e) {
                    let until = Instant::now() + NOT_SERVED_FOR;
                    self.0.lock().expect("optional lock").insert(op, until);
                    return Err(Skipped::NotServed);
                }
                let words = e.message().or(e.code()).unwrap_or("no answer");
                Err(Skipped::Failed(words.to_string()))
            }
        }
    }
}

/// Why an optional call gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// The endpoint does not serve it (or said so lately).
    NotServed,
    /// It failed, in AWS's words.
    Failed(String),
}

/// Whether an error says the endpoint does not serve the call at all, as opposed to a passing
/// failure: an unknown operation, or a server error that outlasted the retries.
fn not_served<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    // An answer the SDK could not read at all (an HTML error page) from a server that failed
    // or knows no such path.
    if let SdkError::ResponseError(r) = err {
        let status = r.raw().status().as_u16();
        return status >= 500 || status == 404;
    }
    let SdkError::ServiceError(e) = err else {
        return false;
    };
    let code = e.err().code().unwrap_or_default();
    let status = e.raw().status().as_u16();
    status >= 500
        || status == 404
        || matches!(
            code,
            "UnknownOperationException"
                | "InvalidAction"
                | "NotImplemented"
                | "UnsupportedOperation"
        )
}

#[derive(Debug, Clone)]
pub struct Clients {
    pub rds: aws_sdk_rds::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub waf: aws_sdk_wafv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub backup: aws_sdk_backup::Client,
    pub dms: aws_sdk_databasemigration::Client,
    pub pi: aws_sdk_pi::Client,
    pub sts: aws_sdk_sts::Client,
    pub calls: CallCounter,
    pub optional: Optional,
    /// How their failures are told.
    pub words: Wording,
}

impl Clients {
    pub async fn load(cfg: &EstateConfig) -> Clients {
        Self::load_with(cfg, None).await
    }

    /// As `load`, with `http` (when given) carrying every call, the credential providers'
    /// included, instead of the SDK's own HTTP client: see `bastion::aws_http`.
    pub async fn load_with(cfg: &EstateConfig, http: Option<SharedHttpClient>) -> Clients {
        let sdk = sdk_config(cfg, http).await;
        let calls = CallCounter::default();
        let words = Wording::new(crate::sdk::profile(cfg));
        macro_rules! client {
            ($krate:ident) => {
                $krate::Client::from_conf(
                    $krate::config::Builder::from(&sdk)
                        .interceptor(calls.clone())
                        .interceptor(words.interceptor())
                        .build(),
                )
            };
        }
        Clients {
            rds: client!(aws_sdk_rds),
            ec2: client!(aws_sdk_ec2),
            autoscaling: client!(aws_sdk_autoscaling),
            elb: client!(aws_sdk_elasticloadbalancingv2),
            waf: client!(aws_sdk_wafv2),
            cloudwatch: client!(aws_sdk_cloudwatch),
            backup: client!(aws_sdk_backup),
            dms: client!(aws_sdk_databasemigration),
            pi: client!(aws_sdk_pi),
            sts: client!(aws_sdk_sts),
            calls,
            optional: Optional::default(),
            words,
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_wafv2::operation::get_sampled_requests::GetSampledRequestsError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    type Answer<T> = Result<T, SdkError<GetSampledRequestsError, HttpResponse>>;

    // The SDK's own error type, as large as it comes: these are its results.
    #[allow(clippy::result_large_err)]
    fn failing(
        status: u16,
        code: &str,
    ) -> Result<(), SdkError<GetSampledRequestsError, HttpResponse>> {
        let err = GetSampledRequestsError::generic(ErrorMetadata::builder().code(code).build());
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        Err(SdkError::service_error(err, raw))
    }

    #[tokio::test]
    async fn a_call_the_endpoint_does_not_serve_is_left_alone_for_a_while() {
        let optional = Optional::default();
        let op = "wafv2:GetSampledRequests";
        assert_eq!(
            optional
                .call(op, async { failing(500, "InternalFailure") })
                .await,
            None
        );
        let mut tried = false;
        let skipped = optional.call(op, async {
            tried = true;
            Answer::Ok(())
        });
        assert_eq!(skipped.await, None);
        assert!(!tried, "not called again while the endpoint is believed");
    }

    #[tokio::test]
    async fn an_html_error_page_is_an_endpoint_that_does_not_serve_the_call() {
        let optional = Optional::default();
        let page = Response::new(StatusCode::try_from(500).unwrap(), SdkBody::from("<html>"));
        let answer = optional.try_call("pi:GetResourceMetrics", async {
            Answer::<()>::Err(SdkError::response_error("expected map", page))
        });
        assert_eq!(answer.await, Err(Skipped::NotServed));
        let refused = optional.try_call("wafv2:GetSampledRequests", async {
            failing(400, "WAFNonexistentItemException")
        });
        assert_eq!(
            refused.await,
            Err(Skipped::Failed("WAFNonexistentItemException".into()))
        );
    }

    #[tokio::test]
    async fn a_passing_refusal_is_tried_again_next_time() {
        let optional = Optional::default();
        let op = "wafv2:GetSampledRequests";
        assert_eq!(
            optional
                .call(op, async { failing(400, "WAFNonexistentItemException") })
                .await,
            None
        );
        let answer = optional.call(op, async { Answer::Ok(7) });
        assert_eq!(answer.await, Some(7));
    }
}
