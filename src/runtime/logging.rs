//! Log set-up for the Lambda function, following Lambda's advanced logging controls
//! (`AWS_LAMBDA_LOG_FORMAT=JSON`, `AWS_LAMBDA_LOG_LEVEL`, falling back to `RUST_LOG`).
//!
//! At TRACE level `lambda_runtime` logs every raw event (user attributes) and the AWS SDK logs
//! response bodies (the mapping). Those crates are therefore capped at DEBUG whatever level is
//! asked for: no log line carries an attribute value or parameter content.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// Crates whose TRACE output carries payloads.
const PAYLOAD_LOGGERS: [&str; 8] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_types",
    "hyper",
    "hyper_util",
];

/// The filter for a requested level (Lambda's names, any case; `FATAL` is `error`; unset or
/// unknown is `info`).
pub fn filter(level: Option<&str>) -> EnvFilter {
    let level = match level.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("fatal") => LevelFilter::ERROR,
        Some(other) => other.parse().unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    };
    let capped = level.min(LevelFilter::DEBUG);
    let mut directives = level.to_string();
    for krate in PAYLOAD_LOGGERS {
        directives.push_str(&format!(",{krate}={capped}"));
    }
    EnvFilter::new(directives)
}

/// Installs the global subscriber: text, or JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`. JSON
/// lines carry the current span's fields (`requestId`, the live mapping, `cold_start`).
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level.as_deref()))
        .with_target(false)
        .without_time();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // `try_init` fails only if a subscriber is already installed, which then stays in charge.
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_loggers_are_capped_at_debug() {
        let directives = |level| {
            let f = filter(level).to_string();
            f.split(',').map(str::to_owned).collect::<Vec<_>>()
        };
        let trace = directives(Some("TRACE"));
        assert!(trace.contains(&"trace".to_owned()), "{trace:?}");
        assert!(
            trace.contains(&"lambda_runtime=debug".to_owned()),
            "{trace:?}"
        );
        assert!(
            trace.contains(&"aws_smithy_runtime=debug".to_owned()),
            "{trace:?}"
        );
        assert!(directives(Some("warn")).contains(&"lambda_runtime=warn".to_owned()));
        assert!(directives(Some("FATAL")).contains(&"error".to_owned()));
        assert!(directives(Some("nonsense")).contains(&"info".to_owned()));
        assert!(directives(None).contains(&"info".to_owned()));
    }
}
