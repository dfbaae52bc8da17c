//! The Lambda function: load the mapping at cold start, then apply it to every invocation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use time::{Date, OffsetDateTime};
use tracing::Instrument;

use super::candidate::Candidate;
use super::live::{Fixed, Live, RefreshCounts};
use super::metrics::{CandidateCount, InvocationMetrics, LookupCounts, Metrics, Tally};
use super::settings::{self, Mode, Settings};
use crate::engine::ResponseView;
use crate::engine::{self, ApplyError, EventError, Items, Payload, Reply};
use crate::load::{self, LoadError, Loaded};
use crate::mapping::Mapping;
use crate::report::diff::NamedDifferences;
use crate::report::preview::{self, Mark};
use crate::workflow::candidate::Role;

impl From<ApplyError> for Diagnostic {
    fn from(error: ApplyError) -> Diagnostic {
        let error_type = match error {
            ApplyError::Event(_) => "InvalidEvent",
            ApplyError::Rule(_) => "ClaimMappingFailed",
            ApplyError::Response(_) => "ResponseNotWritten",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Fails the init: logs `error` the way the function logs everything ([`LoadError::log_line`]: a
/// parameter's content is never quoted), reports it to the Runtime API's `/runtime/init/error`
/// (so Lambda records the reason with the failed init, not only an exit code; "Using the Lambda
/// runtime API for custom runtimes",
/// <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror>), and
/// ends the process. Returning it from `main` instead would print it a second time, unredacted.
async fn fail_init(error: LoadError) -> ! {
    let message = error.log_line();
    tracing::error!("{message}");
    if let Err(report) = report_init_error(&message).await {
        tracing::warn!(error = %report, "the init error could not be reported to the Runtime API");
    }
    std::process::exit(1)
}

/// Posts `message` to `/runtime/init/error` (error type `ClaimMappingNotLoaded`).
async fn report_init_error(message: &str) -> Result<(), lambda_runtime::Error> {
    use lambda_runtime_api_client::{Client, body::Body, build_request};

    let api =
        std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(|_| "AWS_LAMBDA_RUNTIME_API is not set")?;
    let client = Client::builder().with_endpoint(api.parse()?).build()?;
    let diagnostic = Diagnostic {
        error_type: "ClaimMappingNotLoaded".into(),
        error_message: message.into(),
    };
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
        .body(Body::from(serde_json::to_vec(&diagnostic)?))?;
    let response = client.call(request).await?;
    if !response.status().is_success() {
        return Err(format!("the Runtime API answered {}", response.status()).into());
    }
    Ok(())
}

/// The file-only function (`claim-mapper-lambda-file`): settings from the environment, the
/// mapping file loaded once, then invocations until the runtime shuts the process down.
pub async fn run_file() -> Result<(), lambda_runtime::Error> {
    let started = Settings::from_vars(|k| std::env::var(k).ok())
        .and_then(|settings| Ok((init_file(&settings)?, settings)));
    serve_or_fail(started, NoTables).await
}

/// The function with SSM (`claim-mapper-lambda`): as [`run_file`], with the mapping from the
/// parameter (refreshed while serving) or the file, and its lookups read from DynamoDB.
#[cfg(feature = "lookups")]
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let started = match Settings::from_vars(|k| std::env::var(k).ok()) {
        Ok(settings) => init(&settings).await.map(|live| (live, settings)),
        Err(error) => Err(error),
    };
    serve_or_fail(started, DynamoDbTables::default()).await
}

/// Serves the loaded mapping, or fails the init with why it could not be loaded.
async fn serve_or_fail(
    started: Result<(impl Live, Settings), LoadError>,
    tables: impl Tables,
) -> Result<(), lambda_runtime::Error> {
    match started {
        Ok((live, settings)) => {
            for refused in settings.metrics.iter().flat_map(|m| &m.refused) {
                tracing::error!("metric setting refused: {refused}");
            }
            let metrics = settings.metrics.map(Metrics::stdout);
            serve(live, settings.mode, metrics, tables).await
        }
        Err(error) => fail_init(error).await,
    }
}

/// Loads the mapping file named by `settings`, as the file-only function does at cold start.
/// It touches no AWS SDK code; a configured SSM parameter, or a mapping that declares lookups
/// (which read DynamoDB), is an error naming the other binary.
pub fn init_file(settings: &Settings) -> Result<Fixed, LoadError> {
    let loaded = load_file_only(settings)?;
    if let Some(lookup) = loaded.mapping.lookups().first() {
        return Err(LoadError::Setting {
            var: settings::FILE_VAR,
            reason: format!(
                "the mapping declares lookups (`lookups.{}`), which read DynamoDB: \
                 claim-mapper-lambda-file carries no AWS SDK; deploy claim-mapper-lambda",
                lookup.name
            ),
        });
    }
    Ok(Fixed::new(loaded))
}

fn load_file_only(settings: &Settings) -> Result<Loaded, LoadError> {
    if settings.parameter.is_some() {
        return Err(LoadError::Setting {
            var: settings::SSM_VAR,
            reason: "claim-mapper-lambda-file serves mapping files only; deploy claim-mapper-lambda to read SSM".into(),
        });
    }
    let file = settings
        .file
        .as_deref()
        .unwrap_or(std::path::Path::new(settings::DEFAULT_FILE));
    Ok(load::load_file(file)?)
}

/// Loads the mapping as configured by `settings`, as `claim-mapper-lambda` does at cold start: the
/// file when no parameter is set (the SDK is then not set up at all), else the parameter with the
/// file as fallback, with the SSM client set up once and kept for refreshes.
#[cfg(feature = "ssm")]
pub async fn init(settings: &Settings) -> Result<super::live::Refreshing, LoadError> {
    use super::live::{RefreshFrom, Refreshing, load_at_start};
    use crate::aws::config::Budget;
    use crate::aws::ssm::Ssm;
    use crate::workflow::parameter::ParameterRef;

    let Some(parameter) = &settings.parameter else {
        return Ok(Refreshing::new(load_file_only(settings)?, None));
    };
    let parameter = ParameterRef::parse(parameter).map_err(|reason| LoadError::Setting {
        var: settings::SSM_VAR,
        reason,
    })?;
    let budget = match settings.file {
        Some(_) => Budget::LAMBDA_WITH_FALLBACK,
        None => Budget::LAMBDA,
    };
    let from = RefreshFrom {
        ssm: Ssm::new(budget).await,
        parameter,
        every: settings.refresh,
    };
    let (loaded, candidates) = load_at_start(&from, settings.file.as_deref()).await?;
    let live = Refreshing::new(loaded, Some(from));
    live.adopt_candidates(&candidates);
    Ok(live)
}

/// Serves invocations with `live` in `mode` until the runtime shuts the process down, writing
/// one metric line per invocation to `metrics` when given.
pub async fn serve(
    live: impl Live,
    mode: Mode,
    metrics: Option<Metrics>,
    tables: impl Tables,
) -> Result<(), lambda_runtime::Error> {
    let current = live.current();
    tracing::info!(
        live = %current.describe(),
        rules = current.mapping.rule_count(),
        // Counted only: a warning may quote the mapping, which may be a SecureString.
        warnings = current.mapping.warnings().len(),
        shadow = mode == Mode::Shadow,
        compare = mode == Mode::Compare,
        metrics = metrics.is_some(),
        "claim mapping loaded"
    );
    match mode {
        Mode::Apply => serve_as(Apply, live, metrics, tables).await,
        Mode::Shadow => serve_as(Evaluate(Mode::Shadow), live, metrics, tables).await,
        Mode::Compare => serve_as(Evaluate(Mode::Compare), live, metrics, tables).await,
    }
}

/// What answers a mapping's lookups: a type rather than a value, so that the file-only function
/// ([`NoTables`]) carries none of the AWS SDK's code.
pub trait Tables: Send + Sync + 'static {
    /// The items `event` needs under `mapping`, and what each lookup did.
    fn items<'a>(
        &'a self,
        mapping: &'a Mapping,
        event: Option<&'a Value>,
    ) -> impl Future<Output = (Items, LookupCounts)> + Send + 'a;
}

/// No tables: the file-only function, which refuses a mapping with lookups at load.
#[derive(Debug, Clone, Copy)]
pub struct NoTables;

impl Tables for NoTables {
    fn items<'a>(
        &'a self,
        _: &'a Mapping,
        _: Option<&'a Value>,
    ) -> impl Future<Output = (Items, LookupCounts)> + Send + 'a {
        std::future::ready((Items::none(), LookupCounts::default()))
    }
}

/// DynamoDB, with the instance's cache: set up at the first event that needs a lookup, so that
/// a mapping without lookups pays nothing for them at cold start.
#[cfg(feature = "lookups")]
#[derive(Debug, Default)]
pub struct DynamoDbTables(tokio::sync::OnceCell<super::lookups::Lookups>);

#[cfg(feature = "lookups")]
impl Tables for DynamoDbTables {
    async fn items(&self, mapping: &Mapping, event: Option<&Value>) -> (Items, LookupCounts) {
        // A mapping without lookups: no planning, no lock.
        let (Some(event), false) = (event, mapping.lookups().is_empty()) else {
            return (Items::none(), LookupCounts::default());
        };
        // A trait object: the SDK's futures nest deeper than the compiler lays out in the type
        // of the whole service (its recursion limit); one allocation per event with lookups.
        let fetch: std::pin::Pin<Box<dyn Future<Output = _> + Send + '_>> = Box::pin(async move {
            let lookups = self.0.get_or_init(super::lookups::Lookups::new).await;
            lookups.items(mapping, event).await
        });
        fetch.await
    }
}

/// What a mode does with one invocation: the payload type it reads, and the answer and tally it
/// makes of it. Apply mode reads the event straight into a [`Value`]; shadow and compare modes
/// keep the payload as it came (a [`RawValue`]) to hand it back unchanged, even one the mapping
/// cannot read, and parse it a second time for the mapping.
trait Invoke: Copy + Send + Sync + 'static {
    /// What `lambda_runtime` deserialises the payload into.
    type Event: serde::de::DeserializeOwned + Send;
    /// What is written back.
    type Answer: Serialize + Send;
    /// Whether the answer is the mapping's reply (apply mode), for the metric line.
    const APPLIES: bool;

    /// The event as the mapping reads it, for its lookups: parsed again from a raw payload, which
    /// only a mapping with lookups pays for.
    fn read(event: &Self::Event) -> Option<std::borrow::Cow<'_, Value>>;

    /// The event and the response an answer holds, when it is the mapping's reply (apply mode):
    /// what a shadow candidate is evaluated on and compared with.
    fn replied(answer: &Self::Answer) -> Option<(&Value, ResponseView)>;

    /// Answers one invocation with `loaded` and the items of its lookups, and says what it did.
    fn invoke(
        self,
        loaded: Arc<Loaded>,
        event: Result<Self::Event, EventError>,
        items: Items,
    ) -> (Result<Self::Answer, ApplyError>, Tally);
}

/// Apply mode: the mapping's reply is the answer.
#[derive(Clone, Copy)]
struct Apply;

impl Invoke for Apply {
    type Event = Value;
    type Answer = InvocationReply;
    const APPLIES: bool = true;

    fn read(event: &Value) -> Option<std::borrow::Cow<'_, Value>> {
        Some(std::borrow::Cow::Borrowed(event))
    }

    fn replied(answer: &InvocationReply) -> Option<(&Value, ResponseView)> {
        Some((&answer.borrow_owner().event, answer.response()))
    }

    fn invoke(
        self,
        loaded: Arc<Loaded>,
        event: Result<Value, EventError>,
        items: Items,
    ) -> (Result<InvocationReply, ApplyError>, Tally) {
        match event {
            Ok(event) => {
                let today = today(&loaded.mapping);
                handle_with(loaded, event, items, today)
            }
            Err(error) => (Err(refused(error.into())), Tally::refused()),
        }
    }
}

/// Shadow and compare modes: the payload as it came is the answer; the mapping is evaluated
/// aside.
#[derive(Clone, Copy)]
struct Evaluate(Mode);

impl Invoke for Evaluate {
    type Event = Box<RawValue>;
    type Answer = Box<RawValue>;
    const APPLIES: bool = false;

    fn read(event: &Box<RawValue>) -> Option<std::borrow::Cow<'_, Value>> {
        Payload::from_slice(event.get().as_bytes())
            .ok()
            .map(std::borrow::Cow::Owned)
    }

    fn replied(_: &Box<RawValue>) -> Option<(&Value, ResponseView)> {
        None
    }

    fn invoke(
        self,
        loaded: Arc<Loaded>,
        event: Result<Box<RawValue>, EventError>,
        items: Items,
    ) -> (Result<Box<RawValue>, ApplyError>, Tally) {
        let mut tally = Tally::default();
        let result = match self.0 {
            Mode::Compare => compare(&loaded.mapping, event, &items, &mut tally),
            _ => shadow(&loaded.mapping, event, &items, &mut tally),
        };
        tally.refused = result.is_err();
        (result, tally)
    }
}

/// The one invocation path of every mode: the live mapping (refreshed if due), the mode's
/// answer, the metric line.
async fn serve_as<I: Invoke>(
    mode: I,
    live: impl Live,
    metrics: Option<Metrics>,
    tables: impl Tables,
) -> Result<(), lambda_runtime::Error> {
    let live = Arc::new(live);
    let cold = Arc::new(AtomicBool::new(true));
    let metrics = metrics.map(Arc::new);
    let tables = Arc::new(tables);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload<I::Event>>| {
        let payload = event.payload.0;
        let (start, span) = Start::begin::<I>(&*live, &cold, &metrics, &payload);
        let tables = Arc::clone(&tables);
        async move {
            let read = payload.as_ref().ok().and_then(I::read);
            let (items, lookups) = tables.items(&start.served.mapping, read.as_deref()).await;
            drop(read);
            let (answer, tally) = mode.invoke(Arc::clone(&start.served), payload, items);
            let candidate = match &start.candidate {
                Some(candidate) if I::APPLIES => {
                    let replied = || answer.as_ref().ok().and_then(I::replied);
                    Some(beside(candidate, start.canary, &tally, replied, &*tables).await)
                }
                _ => None,
            };
            start.finish(
                I::APPLIES,
                Tally {
                    lookups,
                    candidate,
                    ..tally
                },
            );
            answer
        }
        .instrument(span)
    }))
    .await
}

/// The start of an invocation: the live mapping (after a refresh if one is due), the candidate
/// beside it and whether its canary serves this event, whether it is the first event of the
/// process, and (with metrics on) the refreshes since the last one.
struct Start {
    /// The mapping that serves the event: the live one, or the canary.
    served: Arc<Loaded>,
    /// The release's candidate (apply mode).
    candidate: Option<Arc<Candidate>>,
    /// The canary serves the event.
    canary: bool,
    cold_start: bool,
    metrics: Option<(Arc<Metrics>, Option<RefreshCounts>)>,
}

impl Start {
    /// Starts an invocation, with the span that every line logged for the event carries: the
    /// live mapping, the canary when it serves the event, and whether this is the first event of
    /// the process (`lambda_runtime`'s own span adds the request id).
    fn begin<I: Invoke>(
        live: &impl Live,
        cold: &AtomicBool,
        metrics: &Option<Arc<Metrics>>,
        payload: &Result<I::Event, EventError>,
    ) -> (Start, tracing::Span) {
        live.poll();
        let loaded = live.current();
        // Only apply mode serves a candidate: shadow and compare modes apply nothing.
        let candidate = live.candidate().filter(|_| I::APPLIES);
        let canary = candidate.as_ref().is_some_and(|c| {
            let event = payload.as_ref().ok().and_then(I::read);
            event.is_some_and(|e| c.serves(&e))
        });
        let cold_start = cold.swap(false, Ordering::Relaxed);
        let span = tracing::info_span!(
            "mapping",
            live = %loaded.describe(),
            canary = tracing::field::Empty,
            cold_start
        );
        let served = match &candidate {
            Some(c) if canary => {
                span.record("canary", tracing::field::display(c.loaded.describe()));
                Arc::clone(&c.loaded)
            }
            _ => loaded,
        };
        let metrics = metrics
            .as_ref()
            .map(|m| (Arc::clone(m), live.take_refresh_counts()));
        let start = Start {
            served,
            candidate,
            canary,
            cold_start,
            metrics,
        };
        (start, span)
    }

    /// Ends the invocation: with metrics on, writes its line.
    fn finish(self, applied: bool, tally: Tally) {
        if let Some((metrics, refresh)) = self.metrics {
            metrics.write(&InvocationMetrics {
                cold_start: self.cold_start,
                shadow: !applied,
                tally,
                refresh,
                loaded: &self.served,
            });
        }
    }
}

/// What the release's candidate did beside the invocation: a canary counts the sign-in (and is
/// rolled back on this instance when it fails more than the live mapping); a shadow candidate is
/// evaluated on the event and its response compared with the live one's, by name only.
async fn beside<'a>(
    candidate: &Candidate,
    canary: bool,
    tally: &Tally,
    replied: impl FnOnce() -> Option<(&'a Value, ResponseView)>,
    tables: &impl Tables,
) -> CandidateCount {
    match candidate.role {
        Role::Canary { .. } => {
            let rolled_back = candidate.record(canary, tally.refused || tally.skipped > 0);
            if let Some(why) = rolled_back {
                tracing::error!(
                    candidate = %candidate.loaded.describe(),
                    canary_sign_ins = why.canary_sign_ins,
                    canary_failed = why.canary_failed,
                    live_sign_ins = why.live_sign_ins,
                    live_failed = why.live_failed,
                    "canary rolled back on this instance: it refused or skipped more sign-ins \
                     than the live mapping; the live mapping serves every user here"
                );
            }
            CandidateCount::Canary {
                served: canary,
                rolled_back: rolled_back.is_some(),
            }
        }
        Role::Shadow => {
            // Read back only here: a canary's sign-ins never pay for it.
            let Some((event, live)) = replied() else {
                // The live mapping refused the event: nothing to compare with.
                return CandidateCount::Shadow {
                    differs: false,
                    would_fail: false,
                };
            };
            let mapping = &candidate.loaded.mapping;
            let (items, _) = tables.items(mapping, Some(event)).await;
            let done = engine::apply_with(mapping, event, &items, today(mapping), &mut ())
                .and_then(Reply::into_owned);
            match done {
                Ok(done) => CandidateCount::Shadow {
                    differs: !log_differences(&live, &done.response(), Beside::Candidate),
                    would_fail: false,
                },
                Err(error) => {
                    tracing::warn!(%error, "candidate: the shadow candidate would fail this sign-in");
                    CandidateCount::Shadow {
                        differs: true,
                        would_fail: true,
                    }
                }
            }
        }
    }
}

/// The mapping, the event and the items of its lookups for one invocation, which its
/// [`InvocationReply`] borrows from.
#[derive(Debug)]
pub struct Invocation {
    loaded: Arc<Loaded>,
    event: Value,
    items: Items,
}

self_cell::self_cell!(
    /// One invocation's reply: it owns the event and a handle on the mapping, and holds what the
    /// mapping produced (borrowing from both). It serialises as the event with its response filled
    /// in, so `lambda_runtime` writes the JSON straight into the response body.
    pub struct InvocationReply {
        owner: Invocation,
        #[covariant]
        dependent: Reply,
    }

    impl {Debug}
);

impl InvocationReply {
    /// Applies the invocation's mapping to its event.
    fn apply(
        invocation: Invocation,
        today: Date,
        observer: &mut impl engine::Observer,
    ) -> Result<InvocationReply, ApplyError> {
        InvocationReply::try_new(invocation, |it| {
            engine::apply_with(&it.loaded.mapping, &it.event, &it.items, today, observer)
        })
    }
}

impl InvocationReply {
    /// The response the reply holds, read back as compare mode reads one.
    fn response(&self) -> ResponseView {
        let reply = self.borrow_dependent();
        serde_json::to_value(reply)
            .ok()
            .and_then(|event| engine::read_response(&event, reply.shape()).ok())
            .unwrap_or_default()
    }
}

impl Serialize for InvocationReply {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.borrow_dependent().serialize(serializer)
    }
}

/// The evaluation date for an invocation with `mapping`: today (UTC) when a rule reads it (an
/// `age` transform); otherwise the clock is not read and the date, which nothing reads, is
/// [`Date::MIN`].
pub fn today(mapping: &Mapping) -> Date {
    if mapping.reads_date() {
        OffsetDateTime::now_utc().date()
    } else {
        Date::MIN
    }
}

/// One invocation in apply mode: applies the live mapping to `event` as of `today`; returns the
/// filled-in event to be written (or why the sign-in is refused) and what the invocation did.
/// Logs rule outcomes by number and claim name only.
pub fn handle(
    loaded: Arc<Loaded>,
    event: Value,
    today: Date,
) -> (Result<InvocationReply, ApplyError>, Tally) {
    handle_with(loaded, event, Items::none(), today)
}

/// [`handle`] with the items of the event's lookups.
pub fn handle_with(
    loaded: Arc<Loaded>,
    event: Value,
    items: Items,
    today: Date,
) -> (Result<InvocationReply, ApplyError>, Tally) {
    let invocation = Invocation {
        loaded,
        event,
        items,
    };
    // Below debug level, rule outcomes are not even reported (and the no-op observer compiles
    // away).
    let result = if tracing::enabled!(tracing::Level::DEBUG) {
        InvocationReply::apply(invocation, today, &mut DebugLog)
    } else {
        InvocationReply::apply(invocation, today, &mut ())
    };
    let reply = match result {
        Ok(reply) => reply,
        Err(error) => return (Err(refused(error)), Tally::refused()),
    };
    let reply_of = reply.borrow_dependent();
    warn_notes(reply_of.notes(), Mode::Apply);
    warn_skipped(reply_of.skipped(), Mode::Apply);
    tracing::debug!(
        applied = reply_of.applied(),
        skipped = reply_of.skipped().len(),
        "claims mapped"
    );
    let tally = Tally {
        applied: reply_of.applied(),
        skipped: reply_of.skipped().len(),
        ..Tally::default()
    };
    (Ok(reply), tally)
}

/// Logs why an invocation is refused (a rule's number, claim and reason, or what is wrong with
/// the event; never a value) and returns the error to be posted.
fn refused(error: ApplyError) -> ApplyError {
    match &error {
        ApplyError::Rule(failure) => tracing::error!(
            rule = %failure.rule,
            claim = %failure.claim,
            reason = %failure.reason,
            "claim rule failed; sign-in refused (on_error: fail)"
        ),
        ApplyError::Event(e) => tracing::error!(error = %e, "event refused"),
        ApplyError::Response(e) => tracing::error!(error = %e, "response not written"),
    }
    error
}

/// Shadow mode: evaluates the mapping exactly as [`handle`] would, logs per token which claims it
/// would add, change and remove (names and counts only), and hands the payload back as it came.
/// Only a payload that is not JSON at all is refused, as there is nothing to hand back (Lambda's
/// Invoke API never passes one on). `tally` learns whether a token would change or the sign-in
/// would fail.
pub fn shadow(
    mapping: &Mapping,
    payload: Result<Box<RawValue>, EventError>,
    items: &Items,
    tally: &mut Tally,
) -> Result<Box<RawValue>, ApplyError> {
    let (payload, result) = aside(mapping, payload, items, Evaluated::AsReceived)?;
    match result {
        Ok((_, done)) => {
            for token in preview::preview(&done) {
                tally.would_change |= !token.changes.is_empty();
                let names = |mark: Mark| {
                    token
                        .changes
                        .iter()
                        .filter(|(_, (m, _))| *m == mark)
                        .map(|(claim, _)| claim.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                tracing::info!(
                    token = token.token.name(),
                    changes = token.changes.len(),
                    added = %names(Mark::Added),
                    changed = %names(Mark::Changed),
                    removed = %names(Mark::Removed),
                    "shadow: the mapping would change this token"
                );
            }
            warn_notes(&done.notes, Mode::Shadow);
            warn_skipped(&done.skipped, Mode::Shadow);
        }
        Err(error) => {
            tally.would_fail = true;
            tracing::warn!(%error, "shadow: the mapping would fail this sign-in")
        }
    }
    Ok(payload)
}

/// Compare mode: evaluates the mapping exactly as [`handle`] would, logs per token where its
/// response differs from the response the event already carries (what another trigger wrote:
/// claim and scope names only, never a value), and hands the payload back as it came. `tally`
/// learns whether the responses differ or the sign-in would fail.
pub fn compare(
    mapping: &Mapping,
    payload: Result<Box<RawValue>, EventError>,
    items: &Items,
    tally: &mut Tally,
) -> Result<Box<RawValue>, ApplyError> {
    let (payload, result) = aside(mapping, payload, items, Evaluated::WithoutResponse)?;
    match result {
        Ok((event, done)) => {
            let ours = done.response();
            let given = match engine::read_response(&event, done.shape) {
                Ok(given) => given,
                Err(unreadable) => {
                    // Not a match: the other trigger's response is not one the engine reads as
                    // Cognito would, so nothing can be said to agree.
                    tally.would_change = true;
                    tracing::warn!(
                        %unreadable,
                        "compare: the event's response cannot be read; it counts as differing"
                    );
                    warn_notes(&done.notes, Mode::Compare);
                    warn_skipped(&done.skipped, Mode::Compare);
                    return Ok(payload);
                }
            };
            let agree = log_differences(&given, &ours, Beside::Event);
            tally.would_change = !agree;
            warn_notes(&done.notes, Mode::Compare);
            warn_skipped(&done.skipped, Mode::Compare);
        }
        Err(error) => {
            tally.would_fail = true;
            tracing::warn!(%error, "compare: the mapping would fail this sign-in")
        }
    }
    Ok(payload)
}

/// What a response is compared with, for the log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Beside {
    /// Compare mode: the mapping's response beside the one the event carries.
    Event,
    /// A shadow candidate's response beside the live mapping's.
    Candidate,
}

/// Logs where `ours` differs from `expected` (group override; per token the claim and scope
/// names only, never a value); whether they agree.
fn log_differences(expected: &ResponseView, ours: &ResponseView, beside: Beside) -> bool {
    let (groups, differs, matches) = match beside {
        Beside::Event => (
            "compare: the mapping's group override differs from the event's",
            "compare: the mapping's response differs from the event's",
            "compare: the mapping's response matches the event's",
        ),
        Beside::Candidate => (
            "candidate: the shadow candidate's group override differs from the live mapping's",
            "candidate: the shadow candidate's response differs from the live mapping's",
            "candidate: the shadow candidate's response matches the live mapping's",
        ),
    };
    let mut agree = expected.groups == ours.groups;
    if !agree {
        tracing::info!("{groups}");
    }
    for (token, theirs, mine) in [
        ("id", &expected.id, &ours.id),
        ("access", &expected.access, &ours.access),
    ] {
        let d = NamedDifferences::between(theirs, mine);
        if d.is_empty() {
            continue;
        }
        agree = false;
        tracing::info!(
            token,
            missing = %d.missing.join(","),
            extra = %d.extra.join(","),
            changed = %d.changed.join(","),
            suppressed = %d.suppressed.join(","),
            scopes = %d.scopes.join(","),
            "{differs}"
        );
    }
    if agree {
        tracing::info!("{matches}");
    }
    agree
}

/// The payload as it came, and the event as read with what the Lambda would return for it (or
/// why it would fail).
type Aside = (
    Box<RawValue>,
    Result<(Value, engine::OwnedReply), ApplyError>,
);

/// What shadow and compare modes evaluate the mapping on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evaluated {
    /// The event as received (shadow mode: Cognito's, with an empty response).
    AsReceived,
    /// The event with its response's details emptied (compare mode: the response is another
    /// trigger's, which the mapping must not read, as it never can when Cognito calls it).
    WithoutResponse,
}

/// Shadow and compare modes: the payload as it came, and the mapping evaluated aside on it (the
/// event as read, and what the Lambda would return). Only a payload that is not JSON at all is
/// refused.
fn aside(
    mapping: &Mapping,
    payload: Result<Box<RawValue>, EventError>,
    items: &Items,
    evaluated: Evaluated,
) -> Result<Aside, ApplyError> {
    let payload = payload.map_err(|e| refused(e.into()))?;
    let result = Payload::from_slice(payload.get().as_bytes())
        .map_err(ApplyError::from)
        .and_then(|event| {
            let mut evaluated_on = std::borrow::Cow::Borrowed(&event);
            if evaluated == Evaluated::WithoutResponse
                && let Some(Value::Object(response)) = evaluated_on.to_mut().get_mut("response")
            {
                // The details keys stay (an emulator's event may need one to tell its shape),
                // emptied.
                for (_, details) in response.iter_mut() {
                    *details = Value::Null;
                }
            }
            let done =
                engine::apply_with(mapping, &evaluated_on, items, today(mapping), &mut DebugLog)
                    .and_then(Reply::into_owned)?;
            Ok((event, done))
        });
    Ok((payload, result))
}

/// One warning per thing the engine worked around in the event (no value of the user's in any).
fn warn_notes(notes: &[engine::Note], mode: Mode) {
    for note in notes {
        tracing::warn!(shadow = mode != Mode::Apply, "{note}");
    }
}

/// One warning per rule skipped under `on_error: skip` (in shadow mode: that would be skipped).
fn warn_skipped(skipped: &[engine::RuleFailure], mode: Mode) {
    for failure in skipped {
        tracing::warn!(
            rule = %failure.rule,
            claim = %failure.claim,
            reason = %failure.reason,
            shadow = mode != Mode::Apply,
            "claim rule skipped"
        );
    }
}

/// Logs each rule's outcome by id and claim name, and each group step by count: never a value.
/// [`handle`] uses it only when debug logging is on.
struct DebugLog;

impl engine::Observer for DebugLog {
    fn rule(&mut self, rule: &crate::mapping::Rule, outcome: &engine::RuleOutcome) {
        tracing::debug!(rule = %rule.id, claim = %rule.claim, %outcome, "rule");
    }

    fn group_stage(&mut self, stage: engine::Stage, groups: &[String]) {
        tracing::debug!(step = stage.name(), groups = groups.len(), "group pipeline");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;

    fn loaded(yaml: &str) -> Arc<Loaded> {
        Arc::new(Loaded {
            mapping: Mapping::from_yaml(yaml, "test.yaml").unwrap(),
            origin: Origin::File("test.yaml".into()),
        })
    }

    #[test]
    fn the_clock_is_read_only_for_mappings_that_use_the_date() {
        let event: Value = serde_json::from_str(include_str!(
            "../../examples/events/v2-authentication-custom-attrs-groups.json"
        ))
        .unwrap();
        let reply = |loaded: &Arc<Loaded>, today| {
            let (reply, tally) = handle(Arc::clone(loaded), event.clone(), today);
            assert!(!tally.refused);
            serde_json::to_string(&reply.unwrap()).unwrap()
        };
        let bench = loaded(include_str!("../../mappings/bench.yaml"));
        assert!(!bench.mapping.reads_date());
        assert_eq!(today(&bench.mapping), Date::MIN);
        // Without `age`, the date does not matter.
        let now = OffsetDateTime::now_utc().date();
        assert_eq!(reply(&bench, Date::MIN), reply(&bench, now));

        let age =
            loaded("version: 1\nclaims:\n  - { claim: age, from: birthdate, transform: [age] }\n");
        assert!(age.mapping.reads_date());
        assert!(today(&age.mapping) >= now);
        assert_ne!(reply(&age, Date::MIN), reply(&age, now));
    }
}
