//! Tables in moto's DynamoDB, made through the AWS request gate as an operator would make them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};

/// A client of the gate's DynamoDB, and a runtime to drive it.
fn client() -> (aws_sdk_dynamodb::Client, tokio::runtime::Runtime) {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(super::gate::endpoint())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    let runtime = super::runtime();
    (aws_sdk_dynamodb::Client::from_conf(config), runtime)
}

/// A table name no other test uses.
pub fn unique(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "claim-mapper-{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates `table` with a string partition key `pk` (on demand).
pub fn create_table(table: &str) {
    let (client, runtime) = client();
    runtime
        .block_on(
            client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("pk")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .unwrap(),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("pk")
                        .key_type(KeyType::Hash)
                        .build()
                        .unwrap(),
                )
                .send(),
        )
        .expect("create table");
}

/// Puts an item: `pk` and string, number (`N:`-prefixed) and string-list (`,`-separated, `L:`)
/// attributes.
pub fn put(table: &str, item: &[(&str, &str)]) {
    let (client, runtime) = client();
    let item: HashMap<String, AttributeValue> = item
        .iter()
        .map(|(name, value)| {
            let value = if let Some(n) = value.strip_prefix("N:") {
                AttributeValue::N(n.to_owned())
            } else if let Some(list) = value.strip_prefix("L:") {
                AttributeValue::L(
                    list.split(',')
                        .map(|s| AttributeValue::S(s.to_owned()))
                        .collect(),
                )
            } else {
                AttributeValue::S((*value).to_owned())
            };
            ((*name).to_owned(), value)
        })
        .collect();
    runtime
        .block_on(
            client
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .send(),
        )
        .expect("put item");
}
