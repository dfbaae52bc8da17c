//! The Lambda function for mapping files only. It contains no AWS SDK code, so it starts faster
//! and uses less memory than `claim-mapper-lambda` (docs/performance.md).

use claim_mapper::runtime::{lambda, logging};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();
    lambda::run_file().await
}
