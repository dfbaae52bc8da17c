//! The Lambda function for mapping files only. It contains no AWS SDK code, so it starts faster
//! and uses less memory than `claim-mapper-lambda` (docs/performance.md).

use claim_mapper::runtime::settings::Settings;
use claim_mapper::runtime::{lambda, logging};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();
    let settings =
        Settings::from_vars(|k| std::env::var(k).ok()).unwrap_or_else(|e| lambda::fail_init(e));
    let live = lambda::init_file(&settings).unwrap_or_else(|e| lambda::fail_init(e));
    lambda::serve(live, settings.mode).await
}
