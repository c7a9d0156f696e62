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
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use crate::config::EstateConfig;
use crate::sdk::{Wording, sdk_config};

/// One operation's calls since the counter was last taken, the slowest of them, and when the
/// last of them finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStat {
    pub count: u32,
    pub slowest: Duration,
    pub finished: Option<Instant>,
    /// Made through [`Optional`]: it only adds to the picture.
    pub optional: bool,
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
            let mut stats = self.0.lock().expect("counter lock");
            let stat = stats.entry(key).or_default();
            stat.count += 1;
            stat.optional |= ONE_ATTEMPT.try_with(|optional| *optional).unwrap_or(false);
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
            stat.finished = stat.finished.max(Some(Instant::now()));
        }
        Ok(())
    }
}

/// Calls that add to a picture but are not needed for it. Each is tried once, never retried
/// (the next refresh is its retry), within a deadline in a one-shot snapshot. Some endpoints
/// do not serve them (emulators, some partitions); after one answers so, the call is left
/// alone for a while instead of costing every refresh a round trip. What they could not add
/// is kept, by call, for the picture to name.
#[derive(Debug, Clone, Default)]
pub struct Optional {
    /// How long a call may take before the picture goes on without it; `None`: the SDK's own
    /// operation timeout.
    deadline: Option<Duration>,
    state: Arc<Mutex<OptionalState>>,
}

#[derive(Debug, Default)]
struct OptionalState {
    /// Calls the endpoint said it does not serve, until when that is believed.
    not_served: HashMap<&'static str, Instant>,
    /// The calls whose last try gave nothing, and why.
    missed: BTreeMap<&'static str, Skipped>,
}

/// How long an endpoint that does not serve a call is believed.
const NOT_SERVED_FOR: Duration = Duration::from_secs(600);

tokio::task_local! {
    /// Set while the calls of a future run with a single attempt ([`OneAttempt`]): an
    /// optional call, or the read of an area AWS is throttling. `true` for an optional one.
    static ONE_ATTEMPT: bool;
}

/// Runs `read` with one attempt per call when `yes`: an area AWS is throttling retries at its
/// next (stretched) cadence, not within the read, so that a throttled account gets fewer
/// requests from the console, not more.
pub async fn one_attempt_if<F: Future>(yes: bool, read: F) -> F::Output {
    match yes {
        true => ONE_ATTEMPT.scope(false, read).await,
        false => read.await,
    }
}

impl Optional {
    /// Optional calls that give up after `deadline`: for a snapshot that is taken once and
    /// printed, where waiting for an extra costs everyone who waits for the snapshot.
    pub fn within(deadline: Duration) -> Optional {
        Optional {
            deadline: Some(deadline),
            state: Arc::default(),
        }
    }

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
        let believed = self
            .lock()
            .not_served
            .get(op)
            .is_some_and(|until| Instant::now() < *until);
        if believed {
            return Err(self.missed(op, Skipped::NotServed));
        }
        let call = ONE_ATTEMPT.scope(true, call);
        let answer = match self.deadline {
            Some(d) => match tokio::time::timeout(d, call).await {
                Ok(answer) => answer,
                Err(_) => {
                    tracing::info!(op, "optional call gave no answer in time");
                    let why = format!("no answer within {:.1} s", d.as_secs_f64());
                    return Err(self.missed(op, Skipped::Failed(why)));
                }
            },
            None => call.await,
        };
        match answer {
            Ok(v) => {
                self.lock().missed.remove(op);
                Ok(v)
            }
            Err(e) => {
                tracing::info!(op, error = %DisplayErrorContext(&e), "optional call failed");
                if not_served(&e) {
                    let until = Instant::now() + NOT_SERVED_FOR;
                    self.lock().not_served.insert(op, until);
                    return Err(self.missed(op, Skipped::NotServed));
                }
                let words = match e.code() {
                    Some(code) if crate::sdk::error::is_throttling(code) => "throttled by AWS",
                    _ => e.message().or(e.code()).unwrap_or("no answer"),
                };
                Err(self.missed(op, Skipped::Failed(words.to_string())))
            }
        }
    }

    /// The calls whose last try gave nothing, by IAM action, and why.
    pub fn missing(&self) -> Vec<(&'static str, Skipped)> {
        let state = self.lock();
        state.missed.iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    fn missed(&self, op: &'static str, why: Skipped) -> Skipped {
        self.lock().missed.insert(op, why.clone());
        why
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OptionalState> {
        self.state.lock().expect("optional lock")
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

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::NotServed => f.write_str("not served by the endpoint"),
            Skipped::Failed(why) => f.write_str(why),
        }
    }
}

/// Gives an operation run inside [`Optional::try_call`] or [`one_attempt_if`] one attempt: the
/// retry strategy reads
/// the retry settings from the operation's config bag when it decides on a retry, so the
/// operation's own layer says one.
#[derive(Debug, Clone, Copy, Default)]
struct OneAttempt;

impl Intercept for OneAttempt {
    fn name(&self) -> &'static str {
        "qpconsole optional calls: one attempt"
    }

    fn modify_before_retry_loop(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if ONE_ATTEMPT.try_with(|_| ()).is_ok() {
            let once = cfg
                .load::<RetryConfig>()
                .cloned()
                .unwrap_or_else(RetryConfig::standard)
                .with_max_attempts(1);
            cfg.interceptor_state().store_put(once);
        }
        Ok(())
    }
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
                        .interceptor(OneAttempt)
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

    #[tokio::test(start_paused = true)]
    async fn a_call_past_its_deadline_is_given_up_named_and_forgotten_once_it_answers() {
        let optional = Optional::within(Duration::from_millis(1500));
        let op = "autoscaling:DescribeInstanceRefreshes";
        let hangs = optional.try_call(op, std::future::pending::<Answer<()>>());
        let late = Skipped::Failed("no answer within 1.5 s".into());
        assert_eq!(hangs.await, Err(late.clone()));
        assert_eq!(optional.missing(), [(op, late)]);
        assert_eq!(optional.call(op, async { Answer::Ok(1) }).await, Some(1));
        assert_eq!(optional.missing(), []);
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
