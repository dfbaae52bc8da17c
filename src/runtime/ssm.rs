//! Mappings in SSM Parameter Store: parameter references, a client configured for Cognito's
//! time budget, fetching (String or SecureString, always decrypted) and publishing.

use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};

/// Largest value SSM stores (an advanced-tier parameter).
pub const MAX_PARAMETER_BYTES: usize = 8 * 1024;

/// Time limits and retries of SSM calls.
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
    /// within seconds ([`Refreshing`](super::live::Refreshing)). Retrying longer would make every
    /// throttled cold start slower by up to 2 s (a sign-in waiting) while gaining few instances
    /// the parameter: measured in docs/operations.md, "At scale".
    pub const LAMBDA_WITH_FALLBACK: Budget = Budget {
        connect: Duration::from_millis(300),
        attempt: Duration::from_millis(700),
        call: Duration::from_millis(1000),
        attempts: 3,
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(200),
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

/// Why SSM would refuse `label`, if it would: at most 100 letters, digits, `.`, `-` or `_`, not
/// starting with a digit, `aws` or `ssm` in any case (the `LabelParameterVersion` action in the
/// AWS Systems Manager API reference).
pub fn label_restriction(label: &str) -> Option<&'static str> {
    let lower = label.to_ascii_lowercase();
    if label.is_empty() || label.len() > 100 {
        Some("a label is 1 to 100 characters")
    } else if !label
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        Some("a label holds only letters, digits, `.`, `-` and `_`")
    } else if label.starts_with(|c: char| c.is_ascii_digit())
        || lower.starts_with("aws")
        || lower.starts_with("ssm")
    {
        Some("a label cannot start with a digit, `aws` or `ssm`")
    } else {
        None
    }
}

/// A parameter name or ARN, optionally pinned to a version or label (`name:3`, `name:prod`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterRef {
    /// The name or ARN without the selector.
    pub name: String,
    /// The pin, if any.
    pub selector: Option<Selector>,
}

/// What a parameter reference is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A parameter version.
    Version(i64),
    /// A parameter label.
    Label(String),
}

impl ParameterRef {
    /// Parses `NAME`, `NAME:VERSION`, `NAME:LABEL`, or the same with an ARN.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        // In an ARN the name starts after `:parameter`; SSM names themselves contain no `:`.
        let name_start = match text.strip_prefix("arn:") {
            Some(_) => text
                .find(":parameter/")
                .map(|i| i + ":parameter".len())
                .ok_or_else(|| format!("`{text}` is not an SSM parameter ARN"))?,
            None => 0,
        };
        let (name, selector) = match text[name_start..].rfind(':') {
            Some(i) => {
                let (name, sel) = text.split_at(name_start + i);
                let sel = &sel[1..];
                if sel.is_empty() {
                    return Err(format!(
                        "`{text}` ends with `:` but names no version or label"
                    ));
                }
                let selector = match sel.parse::<i64>() {
                    Ok(v) if v > 0 => Selector::Version(v),
                    Ok(_) => return Err(format!("`{text}`: parameter versions start at 1")),
                    Err(_) => Selector::Label(sel.to_owned()),
                };
                (name, Some(selector))
            }
            None => (text, None),
        };
        if name.len() <= name_start {
            return Err("an SSM parameter name cannot be empty".into());
        }
        Ok(ParameterRef {
            name: name.to_owned(),
            selector,
        })
    }

    /// The `Name` argument of `GetParameter`: the name with its selector.
    pub fn query(&self) -> String {
        match &self.selector {
            None => self.name.clone(),
            Some(Selector::Version(v)) => format!("{}:{v}", self.name),
            Some(Selector::Label(l)) => format!("{}:{l}", self.name),
        }
    }

    /// Whether the reference names one fixed version, which a refresh can never change.
    pub fn is_pinned_to_version(&self) -> bool {
        matches!(self.selector, Some(Selector::Version(_)))
    }
}

impl fmt::Display for ParameterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.query())
    }
}

/// Why a parameter could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsmError {
    /// No such parameter, version or label.
    NotFound,
    /// The caller may not read the parameter or decrypt it.
    AccessDenied(String),
    /// SSM throttled the call.
    Throttled,
    /// The call did not finish within its time budget.
    Timeout,
    /// SSM could not be reached.
    Network(String),
    /// Any other error, with SSM's code and message.
    Service(String),
    /// The parameter has no value.
    Empty,
    /// No region or no credentials are configured where the command runs.
    Setup(&'static str),
}

impl fmt::Display for SsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SsmError::NotFound => write!(f, "not found (no such parameter, version or label)"),
            SsmError::AccessDenied(m) => write!(f, "access denied: {m}"),
            SsmError::Throttled => write!(f, "throttled by SSM"),
            SsmError::Timeout => write!(f, "timed out"),
            SsmError::Network(m) => write!(f, "network error: {m}"),
            SsmError::Service(m) => write!(f, "{m}"),
            SsmError::Empty => write!(f, "the parameter has no value"),
            SsmError::Setup(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for SsmError {}

impl<E: ProvideErrorMetadata + std::error::Error + 'static, R: fmt::Debug> From<SdkError<E, R>>
    for SsmError
{
    fn from(err: SdkError<E, R>) -> Self {
        match &err {
            SdkError::TimeoutError(_) => SsmError::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => SsmError::Timeout,
            SdkError::DispatchFailure(_) => {
                SsmError::Network(aws_sdk_ssm::error::DisplayErrorContext(&err).to_string())
            }
            _ => {
                let code = err.code().unwrap_or_default();
                let message = err.message().unwrap_or_default().to_owned();
                match code {
                    "ParameterNotFound" | "ParameterVersionNotFound" => SsmError::NotFound,
                    "AccessDeniedException" | "InvalidKeyId" | "KMSAccessDeniedException" => {
                        SsmError::AccessDenied(format!("{code}: {message}"))
                    }
                    "ThrottlingException" | "TooManyUpdates" => SsmError::Throttled,
                    "" => {
                        SsmError::Service(aws_sdk_ssm::error::DisplayErrorContext(&err).to_string())
                    }
                    _ => SsmError::Service(format!("{code}: {message}")),
                }
            }
        }
    }
}

/// A parameter's value and version.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The mapping text.
    pub text: String,
    /// The parameter version it came from.
    pub version: i64,
}

/// An SSM client set up once (region and credentials from the standard chain, `AWS_ENDPOINT_URL`
/// honoured) with timeouts and retries that fit Cognito's budget.
#[derive(Debug, Clone)]
pub struct Ssm {
    client: Client,
}

/// The SDK configuration from the standard chain (region, credentials, `AWS_ENDPOINT_URL`), with
/// timeouts and retries from `budget`.
async fn sdk_config(budget: Budget) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(budget.connect)
                .operation_attempt_timeout(budget.attempt)
                .operation_timeout(budget.call)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(budget.attempts)
                .with_initial_backoff(budget.backoff)
                .with_max_backoff(budget.max_backoff),
        )
        .load()
        .await
}

/// The AWS configuration of operator commands ([`Budget::OPERATOR`]), once a region and
/// credentials are known to be configured; else, in one sentence, which is missing (not the SDK's
/// chain of errors).
pub(crate) async fn operator_config() -> Result<aws_config::SdkConfig, &'static str> {
    use aws_sdk_ssm::config::ProvideCredentials;

    let config = sdk_config(Budget::OPERATOR).await;
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

impl Ssm {
    /// Builds the client with `budget`. Costs no network call.
    pub async fn new(budget: Budget) -> Self {
        Ssm {
            client: Client::new(&sdk_config(budget).await),
        }
    }

    /// The client the CLI uses ([`Budget::OPERATOR`]), once a region and credentials are known to
    /// be configured: a missing one is said in one sentence, not as the SDK's chain of errors.
    pub async fn operator() -> Result<Self, SsmError> {
        let config = operator_config().await.map_err(SsmError::Setup)?;
        Ok(Ssm {
            client: Client::new(&config),
        })
    }

    /// Reads a parameter, decrypting a SecureString, with the client's retries.
    pub async fn fetch(&self, parameter: &ParameterRef) -> Result<Fetched, SsmError> {
        self.get(parameter, None).await
    }

    /// Reads a parameter once, without retrying: for refreshes, which wait far longer than any
    /// retry would before they try again, and which must not add to the load that throttled them.
    pub async fn fetch_once(&self, parameter: &ParameterRef) -> Result<Fetched, SsmError> {
        let once = aws_sdk_ssm::config::Builder::default().retry_config(RetryConfig::disabled());
        self.get(parameter, Some(once)).await
    }

    async fn get(
        &self,
        parameter: &ParameterRef,
        config: Option<aws_sdk_ssm::config::Builder>,
    ) -> Result<Fetched, SsmError> {
        let request = self
            .client
            .get_parameter()
            .name(parameter.query())
            .with_decryption(true);
        let out = match config {
            Some(config) => request.customize().config_override(config).send().await?,
            None => request.send().await?,
        };
        let p = out.parameter.ok_or(SsmError::Empty)?;
        Ok(Fetched {
            text: p.value.ok_or(SsmError::Empty)?,
            version: p.version,
        })
    }

    /// Stores `text` as a new version of `name` (creating the parameter if needed) and returns
    /// the version. Intelligent-Tiering picks the advanced tier only for values over 4 KB.
    pub async fn put(&self, name: &str, text: &str, secure: bool) -> Result<i64, SsmError> {
        let kind = if secure {
            ParameterType::SecureString
        } else {
            ParameterType::String
        };
        let out = self
            .client
            .put_parameter()
            .name(name)
            .value(text)
            .r#type(kind)
            .overwrite(true)
            .tier(ParameterTier::IntelligentTiering)
            .send()
            .await?;
        Ok(out.version)
    }

    /// Moves `label` to `version` of `name`.
    pub async fn label(&self, name: &str, version: i64, label: &str) -> Result<(), SsmError> {
        let out = self
            .client
            .label_parameter_version()
            .name(name)
            .parameter_version(version)
            .labels(label)
            .send()
            .await?;
        match out.invalid_labels() {
            [] => Ok(()),
            invalid => Err(SsmError::Service(format!(
                "SSM refused the label(s) {invalid:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_arns_and_selectors() {
        let p = |s| ParameterRef::parse(s).unwrap();
        assert_eq!(
            p("/app/prod/mapping"),
            ParameterRef {
                name: "/app/prod/mapping".into(),
                selector: None
            }
        );
        assert_eq!(p("/app/m:3").selector, Some(Selector::Version(3)));
        assert_eq!(
            p("/app/m:live").selector,
            Some(Selector::Label("live".into()))
        );
        let arn = p("arn:aws:ssm:eu-west-1:111122223333:parameter/app/m:live");
        assert_eq!(
            arn.name,
            "arn:aws:ssm:eu-west-1:111122223333:parameter/app/m"
        );
        assert_eq!(
            arn.query(),
            "arn:aws:ssm:eu-west-1:111122223333:parameter/app/m:live"
        );
        assert_eq!(
            p("arn:aws:ssm:eu-west-1:111122223333:parameter/app/m").selector,
            None
        );
        assert!(p("/app/m:7").is_pinned_to_version());
        assert!(!p("/app/m:prod").is_pinned_to_version());
        for bad in ["", ":3", "/app/m:", "/app/m:0", "arn:aws:s3:::bucket"] {
            assert!(ParameterRef::parse(bad).is_err(), "{bad}");
        }
    }
}
