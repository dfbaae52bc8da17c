//! The Lambda function: Cognito's Pre Token Generation trigger, with the mapping from a file or
//! from SSM Parameter Store (primary) with a file as fallback.

use claim_mapper::runtime::settings::Settings;
use claim_mapper::runtime::{lambda, logging};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();
    let settings =
        Settings::from_vars(|k| std::env::var(k).ok()).unwrap_or_else(|e| lambda::fail_init(e));
    let live = lambda::init(&settings)
        .await
        .unwrap_or_else(|e| lambda::fail_init(e));
    lambda::serve(live, settings.mode).await
}
