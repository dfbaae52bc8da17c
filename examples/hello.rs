//! A hello-world `lambda_runtime` function (echoes its event), with logging initialised as the
//! trigger's is: the baseline `scripts/bench-cold-start` compares the trigger against.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    claim_mapper::runtime::logging::init();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
