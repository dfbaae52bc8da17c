//! The Lambda function: load the mapping at cold start, then apply it to every invocation.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use time::OffsetDateTime;

use crate::engine::{self, ProcessError};
use crate::load::{self, Loaded};

impl From<ProcessError> for Diagnostic {
    fn from(error: ProcessError) -> Diagnostic {
        let error_type = match error {
            ProcessError::Event(_) => "InvalidEvent",
            ProcessError::Rule(_) => "ClaimMappingFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Loads the mapping named by the environment (`CLAIM_MAPPING_FILE`, relative to
/// `LAMBDA_TASK_ROOT`), as at cold start.
pub fn load_from_env() -> Result<Loaded, crate::mapping::MappingError> {
    let file = std::env::var(load::FILE_VAR).unwrap_or_else(|_| load::DEFAULT_FILE.to_owned());
    let root = std::env::var("LAMBDA_TASK_ROOT").ok();
    load::load_file(&load::resolve_file(&file, root.as_deref()))
}

/// Serves invocations with `loaded` until the runtime shuts the process down.
pub async fn serve(loaded: Loaded) -> Result<(), lambda_runtime::Error> {
    tracing::info!(
        source = %loaded.describe(),
        rules = loaded.mapping.rules.len(),
        "claim mapping loaded"
    );
    let loaded = Arc::new(loaded);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let loaded = Arc::clone(&loaded);
        async move { handle(&loaded, event.payload) }
    }))
    .await
}

/// One invocation: applies the mapping and logs rule outcomes by number and claim name only.
pub fn handle(loaded: &Loaded, event: Value) -> Result<Value, ProcessError> {
    let today = OffsetDateTime::now_utc().date();
    match engine::process(&loaded.mapping, event, today) {
        Ok(done) => {
            for failure in &done.skipped {
                tracing::warn!(
                    rule = failure.rule,
                    claim = %failure.claim,
                    reason = %failure.reason,
                    "claim rule skipped"
                );
            }
            tracing::debug!(
                applied = done.applied,
                skipped = done.skipped.len(),
                source = %loaded.describe(),
                "claims mapped"
            );
            Ok(done.event)
        }
        Err(error) => {
            match &error {
                ProcessError::Rule(failure) => tracing::error!(
                    rule = failure.rule,
                    claim = %failure.claim,
                    reason = %failure.reason,
                    source = %loaded.describe(),
                    "claim rule failed; sign-in refused (on_error: fail)"
                ),
                ProcessError::Event(e) => tracing::error!(error = %e, "event refused"),
            }
            Err(error)
        }
    }
}
