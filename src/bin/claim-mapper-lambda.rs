//! The Lambda function: Cognito's Pre Token Generation trigger.

use claim_mapper::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let loaded = lambda::load_from_env().inspect_err(|e| tracing::error!("{e}"))?;
    lambda::serve(loaded).await
}
