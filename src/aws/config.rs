//! The AWS SDK configuration: region, credentials and endpoint from the standard chain
//! (`AWS_ENDPOINT_URL` honoured), with the time limits and retries of a [`Budget`].

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use crate::workflow::{ApiError, ApiErrorKind};

/// Time limits and retries of AWS calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Connecting to the endpoint.
    pub connect: Duration,
    /// One attempt.
    pub attempt: Duration,
    /// The whole call, retries included.
    pub call: Duration,
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// The longest wait before the first retry; each later retry may wait twice as long, up to
    /// `max_backoff`. The SDK waits a random fraction of it ("full jitter"), so that instances
    /// throttled together do not retry together.
    pub backoff: Duration,
    /// The longest wait before any retry.
    pub max_backoff: Duration,
}

impl Budget {
    /// For the Lambda function's cold start without a fallback file, where a failed read fails
    /// the init (and sign-ins). Cognito gives the whole trigger 5 s, cold start included: one SSM
    /// call, retries included, takes at most 2 s, so that a cold start with a slow, throttling
    /// or unreachable SSM still answers in time. A slow SSM gets two attempts (700 ms each); a
    /// throttled call is answered at once, so it gets up to six, with jittered exponential
    /// backoff between them (at most 0.1, 0.2, 0.4, 0.8, 0.8 s).
    pub const LAMBDA: Budget = Budget {
        connect: Duration::from_millis(300),
        attempt: Duration::from_millis(700),
        call: Duration::from_millis(2000),
        attempts: 6,
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(800),
    };

    /// For the Lambda function's cold start with a fallback file: three attempts within 1 s (at
    /// most 0.1 and 0.2 s between them), then the file serves and the parameter is tried again
    /// within seconds. Retrying longer would make every throttled cold start slower by up to 2 s
    /// (a sign-in waiting) while gaining few instances the parameter: measured in
    /// docs/operations.md, "At scale".
    pub const LAMBDA_WITH_FALLBACK: Budget = Budget {
        connect: Duration::from_millis(300),
        attempt: Duration::from_millis(700),
        call: Duration::from_millis(1000),
        attempts: 3,
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(200),
    };

    /// For lookups on the Lambda function's sign-in path, within the mapping's own deadlines
    /// (`timeout_ms`, `limits.lookup_budget_ms`, at most 1 s), which cut the call short: one
    /// retry of a throttled or failed attempt after at most 20 ms, the connection within 200 ms.
    pub const LOOKUPS: Budget = Budget {
        connect: Duration::from_millis(200),
        attempt: Duration::from_millis(1000),
        call: Duration::from_millis(1000),
        attempts: 2,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(20),
    };

    /// For operator commands, which wait longer rather than fail, and never retry a write
    /// that may already have happened (a retried `PutParameter` would make two versions).
    pub const OPERATOR: Budget = Budget {
        connect: Duration::from_secs(5),
        attempt: Duration::from_secs(30),
        call: Duration::from_secs(30),
        attempts: 1,
        backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    };
}

impl Budget {
    /// The SDK's timeouts of this budget.
    pub fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.call)
            .build()
    }
}

/// The SDK configuration from the standard chain, with timeouts and retries from `budget`.
pub async fn sdk_config(budget: Budget) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(budget.timeouts())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(budget.attempts)
                .with_initial_backoff(budget.backoff)
                .with_max_backoff(budget.max_backoff),
        )
        .load()
        .await
}

/// The configuration of operator commands ([`Budget::OPERATOR`]) in `region` when given, else in
/// the configured one, once a region and credentials are known to be configured; else, in one
/// sentence, which is missing (not the SDK's chain of errors), as the error of the
/// `configuration` step.
pub async fn operator_client_config(
    region: Option<&str>,
) -> Result<aws_config::SdkConfig, ApiError> {
    operator_config_in(region).await.map_err(|m| ApiError {
        action: "configuration",
        kind: ApiErrorKind::Setup(m),
    })
}

/// [`operator_client_config`]'s configuration, or which of region and credentials is missing.
async fn operator_config_in(region: Option<&str>) -> Result<aws_config::SdkConfig, &'static str> {
    use aws_sdk_ssm::config::ProvideCredentials;

    let mut config = sdk_config(Budget::OPERATOR).await;
    if let Some(region) = region {
        config = config
            .into_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .build();
    }
    if config.region().is_none() {
        return Err("no AWS region is configured: set AWS_REGION, or a region in your AWS profile");
    }
    let credentials = match config.credentials_provider() {
        Some(provider) => provider.provide_credentials().await.ok(),
        None => None,
    };
    if credentials.is_none() {
        return Err(
            "no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, or run where a role provides them",
        );
    }
    Ok(config)
}
