//! The Lambda function: Cognito's Pre Token Generation trigger, with the mapping from a file or
//! from SSM Parameter Store (primary) with a file as fallback.

use claim_mapper::runtime::{lambda, logging};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();
    lambda::run().await
}
