//! DynamoDB through the AWS SDK: the items of an event's lookups, read together with
//! `BatchGetItem`, and DynamoDB's attribute values as the JSON rules read.
//!
//! Facts used (Amazon DynamoDB API Reference, `BatchGetItem`): one call takes up to 100 keys over
//! any number of tables, each table's keys unique within it; the items come back in no particular
//! order, so each is matched to its key by the key's attributes, which the projection therefore
//! always includes; keys DynamoDB did not get to (throughput, response size) come back as
//! `UnprocessedKeys` and are asked again.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde_json::{Map, Number, Value};

use super::config::{Budget, operator_client_config, sdk_config};
use super::error::api_error;
use crate::engine::{self, Fetched, KnownItems, LookupFailure, LookupRequest};
use crate::mapping::Mapping;
use crate::workflow::{ApiError, ApiErrorKind};

/// How many times keys DynamoDB left unprocessed are asked again before their lookups fail as
/// throttled. Immediately: the caller's deadline bounds the whole read.
const UNPROCESSED_ROUNDS: usize = 2;

/// One item to read.
#[derive(Debug, Clone, Copy)]
pub struct Read<'a> {
    /// The table's name or ARN.
    pub table: &'a str,
    /// The key: (attribute, string value) pairs.
    pub key: &'a [(&'a str, String)],
    /// The item's attributes to read; empty for the whole item.
    pub attributes: &'a [String],
}

impl<'a> Read<'a> {
    /// What `request` reads.
    pub fn of(request: &'a LookupRequest) -> Read<'a> {
        Read {
            table: &request.lookup.table,
            key: &request.key,
            attributes: &request.lookup.attributes,
        }
    }
}

/// A DynamoDB client set up once with the time limits and retries of a [`Budget`].
#[derive(Debug, Clone)]
pub struct Dynamo {
    client: Client,
}

impl Dynamo {
    /// Builds the client with `budget`. Costs no network call.
    pub async fn new(budget: Budget) -> Self {
        Dynamo {
            client: Client::new(&sdk_config(budget).await),
        }
    }

    /// The client the CLI uses ([`Budget::OPERATOR`]), once a region and credentials are known to
    /// be configured: a missing one is said in one sentence.
    pub async fn operator() -> Result<Self, ApiError> {
        let config = operator_client_config(None).await?;
        Ok(Dynamo {
            client: Client::new(&config),
        })
    }

    /// What the lookups `event` needs under `mapping` find in their tables now, as known items:
    /// `dry-run --live-lookups` and its kin apply them as a fixture file's.
    pub async fn read_known(&self, mapping: &Mapping, event: &Value) -> KnownItems {
        let mut known = KnownItems::default();
        let Ok(plan) = engine::plan_lookups(mapping, event) else {
            return known;
        };
        let reads: Vec<Read> = plan.requests().iter().map(Read::of).collect();
        if reads.is_empty() {
            return known;
        }
        for (request, fetched) in plan.requests().iter().zip(self.get(&reads).await) {
            known.insert(request, fetched);
        }
        known
    }

    /// Reads `reads` with as few `BatchGetItem` calls as DynamoDB allows (one, unless keys come
    /// back unprocessed), and says what each read found, in order. Reads of one table share its
    /// projection (the union of their attributes); each item is trimmed to its own read's
    /// attributes and key.
    pub async fn get(&self, reads: &[Read<'_>]) -> Vec<Fetched> {
        let mut found: Vec<Option<Fetched>> = vec![None; reads.len()];
        let mut request: HashMap<String, KeysAndAttributes> = HashMap::new();
        for (table, keys) in tables(reads) {
            request.insert(table.to_owned(), keys);
        }
        for round in 0..=UNPROCESSED_ROUNDS {
            if request.is_empty() {
                break;
            }
            let sent = self
                .client
                .batch_get_item()
                .set_request_items(Some(std::mem::take(&mut request)))
                .send()
                .await;
            let output = match sent {
                Ok(output) => output,
                Err(error) => {
                    let failure = match api_error("BatchGetItem", error).kind {
                        ApiErrorKind::Throttled => LookupFailure::Throttled,
                        ApiErrorKind::Timeout => LookupFailure::TimedOut,
                        _ => LookupFailure::Error,
                    };
                    return answers(found, Fetched::Failed(failure));
                }
            };
            for (table, items) in output.responses.unwrap_or_default() {
                for item in items {
                    for (i, read) in reads.iter().enumerate() {
                        if found[i].is_none()
                            && same_table(read.table, &table)
                            && holds_key(&item, read.key)
                        {
                            found[i] = Some(Fetched::Item(to_json(&item, read)));
                        }
                    }
                }
            }
            request = output.unprocessed_keys.unwrap_or_default();
            request.retain(|_, keys| !keys.keys.is_empty());
            if round == UNPROCESSED_ROUNDS {
                return answers(found, Fetched::Failed(LookupFailure::Throttled));
            }
        }
        answers(found, Fetched::Missing)
    }
}

/// Each read's answer: what was found, else `otherwise` (no item, or how the read failed).
fn answers(found: Vec<Option<Fetched>>, otherwise: Fetched) -> Vec<Fetched> {
    found
        .into_iter()
        .map(|f| f.unwrap_or_else(|| otherwise.clone()))
        .collect()
}

/// The request's keys and projection by table: each key once; the projection the union of the
/// reads' attributes and their key attributes, or none when a read wants the whole item.
fn tables<'a>(reads: &[Read<'a>]) -> Vec<(&'a str, KeysAndAttributes)> {
    let mut tables: Vec<(&str, Vec<&Read>)> = Vec::new();
    for read in reads {
        match tables.iter_mut().find(|(table, _)| *table == read.table) {
            Some((_, of_table)) => of_table.push(read),
            None => tables.push((read.table, vec![read])),
        }
    }
    tables
        .into_iter()
        .map(|(table, of_table)| {
            let mut keys: Vec<HashMap<String, AttributeValue>> = Vec::new();
            for read in &of_table {
                let key: HashMap<String, AttributeValue> = read
                    .key
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), AttributeValue::S(value.clone())))
                    .collect();
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            let mut names: Vec<&str> = Vec::new();
            let whole = of_table.iter().any(|read| read.attributes.is_empty());
            if !whole {
                for read in &of_table {
                    let key_names = read.key.iter().map(|(name, _)| *name);
                    for name in read.attributes.iter().map(String::as_str).chain(key_names) {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
            }
            // Placeholders for every name: an attribute may be a reserved word (`name`, `plan`)
            // or hold characters an expression cannot (Developer Guide, "Expression attribute
            // names in DynamoDB").
            let mut builder = KeysAndAttributes::builder().set_keys(Some(keys));
            if !names.is_empty() {
                let placeholders: Vec<String> =
                    (0..names.len()).map(|i| format!("#a{i}")).collect();
                builder = builder.projection_expression(placeholders.join(", "));
                for (placeholder, name) in placeholders.into_iter().zip(names) {
                    builder = builder.expression_attribute_names(placeholder, name);
                }
            }
            // Only `keys` is required, and it is always set.
            let keys = builder.build().expect("keys are set");
            (table, keys)
        })
        .collect()
}

/// Whether `a` and `b` name the same table, each by name or ARN: a request may name a table by
/// its ARN (API Reference, `BatchGetItem`, `RequestItems`), and the answer is matched whichever
/// way DynamoDB names it back.
fn same_table(a: &str, b: &str) -> bool {
    let name = |t: &str| t.rsplit_once(":table/").map(|(_, name)| name.to_owned());
    match (name(a), name(b)) {
        (Some(_), Some(_)) | (None, None) => a == b,
        (Some(name), None) => name == b,
        (None, Some(name)) => name == a,
    }
}

/// Whether `item` holds `key`'s values.
fn holds_key(item: &HashMap<String, AttributeValue>, key: &[(&str, String)]) -> bool {
    key.iter()
        .all(|(name, value)| matches!(item.get(*name), Some(AttributeValue::S(s)) if s == value))
}

/// `item` as JSON, trimmed to `read`'s attributes (and key) when it names some.
fn to_json(item: &HashMap<String, AttributeValue>, read: &Read) -> Value {
    let wanted = |name: &str| {
        read.attributes.is_empty()
            || read.attributes.iter().any(|a| a == name)
            || read.key.iter().any(|(k, _)| *k == name)
    };
    Value::Object(
        item.iter()
            .filter(|(name, _)| wanted(name))
            .map(|(name, value)| (name.clone(), json_of(value)))
            .collect::<Map<String, Value>>(),
    )
}

/// A DynamoDB attribute value as JSON: strings, booleans, null, lists and maps as themselves;
/// numbers as JSON numbers (integers exactly, others as the nearest double; a number neither can
/// hold, such as 38 digits, as its text); sets as arrays; binary as base64 text.
pub fn json_of(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(items) => Value::Array(items.iter().map(json_of).collect()),
        AttributeValue::M(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), json_of(v)))
                .collect(),
        ),
        AttributeValue::Ss(strings) => strings.iter().cloned().map(Value::String).collect(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number(n)).collect(),
        AttributeValue::B(blob) => Value::String(aws_smithy_types::base64::encode(blob.as_ref())),
        AttributeValue::Bs(blobs) => blobs
            .iter()
            .map(|b| Value::String(aws_smithy_types::base64::encode(b.as_ref())))
            .collect(),
        // A type newer than this SDK: nothing a rule could read.
        _ => Value::Null,
    }
}

/// A DynamoDB number's text as a JSON number.
fn number(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(u) = text.parse::<u64>() {
        return Value::from(u);
    }
    // An integer past 64 bits, or a decimal of more digits than a double holds, stays text.
    let exact_enough = text.contains(['.', 'e', 'E']) && text.len() <= 17;
    match text.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) if exact_enough => Value::Number(n),
        _ => Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::primitives::Blob;
    use serde_json::json;

    #[test]
    fn attribute_values_become_the_json_rules_read() {
        let item = AttributeValue::M(HashMap::from([
            ("s".into(), AttributeValue::S("x".into())),
            ("n".into(), AttributeValue::N("42".into())),
            ("f".into(), AttributeValue::N("1.5".into())),
            (
                "big".into(),
                AttributeValue::N("12345678901234567890123".into()),
            ),
            ("b".into(), AttributeValue::Bool(true)),
            ("z".into(), AttributeValue::Null(true)),
            (
                "l".into(),
                AttributeValue::L(vec![AttributeValue::S("a".into())]),
            ),
            (
                "ss".into(),
                AttributeValue::Ss(vec!["p".into(), "q".into()]),
            ),
            (
                "ns".into(),
                AttributeValue::Ns(vec!["1".into(), "-2".into()]),
            ),
            ("bin".into(), AttributeValue::B(Blob::new(b"hi".to_vec()))),
        ]));
        assert_eq!(
            json_of(&item),
            json!({
                "s": "x", "n": 42, "f": 1.5, "big": "12345678901234567890123", "b": true,
                "z": null, "l": ["a"], "ss": ["p", "q"], "ns": [1, -2], "bin": "aGk="
            })
        );
    }

    #[test]
    fn one_table_read_twice_shares_one_projection_and_each_key_once() {
        let key = [("pk", "TENANT#a".to_owned())];
        let plan = ["plan".to_owned()];
        let seats = ["seats".to_owned()];
        let reads = [
            Read {
                table: "tenants",
                key: &key,
                attributes: &plan,
            },
            Read {
                table: "tenants",
                key: &key,
                attributes: &seats,
            },
        ];
        let tables = tables(&reads);
        assert_eq!(tables.len(), 1);
        let keys = &tables[0].1;
        assert_eq!(keys.keys.len(), 1);
        assert_eq!(keys.projection_expression.as_deref(), Some("#a0, #a1, #a2"));
        let names = keys.expression_attribute_names.as_ref().unwrap();
        let mut named: Vec<&str> = names.values().map(String::as_str).collect();
        named.sort();
        assert_eq!(named, ["pk", "plan", "seats"]);
        // A read of the whole item: no projection at all.
        let whole = [
            reads[0],
            Read {
                attributes: &[],
                ..reads[1]
            },
        ];
        assert!(tables_projection(&whole).is_none());
    }

    fn tables_projection(reads: &[Read]) -> Option<String> {
        tables(reads)[0].1.projection_expression.clone()
    }

    #[test]
    fn items_are_matched_to_their_keys_and_trimmed_to_their_attributes() {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("TENANT#a".into())),
            ("plan".to_owned(), AttributeValue::S("gold".into())),
            ("seats".to_owned(), AttributeValue::N("3".into())),
        ]);
        let key = [("pk", "TENANT#a".to_owned())];
        let other = [("pk", "TENANT#b".to_owned())];
        assert!(holds_key(&item, &key));
        assert!(same_table("tenants", "tenants"));
        assert!(same_table(
            "arn:aws:dynamodb:eu-west-1:111122223333:table/tenants",
            "tenants"
        ));
        assert!(!same_table("tenants", "plans"));
        assert!(!same_table(
            "arn:aws:dynamodb:eu-west-1:111122223333:table/tenants",
            "arn:aws:dynamodb:eu-west-1:444455556666:table/tenants"
        ));
        assert!(!holds_key(&item, &other));
        let plan = ["plan".to_owned()];
        let read = Read {
            table: "t",
            key: &key,
            attributes: &plan,
        };
        assert_eq!(
            to_json(&item, &read),
            json!({"pk": "TENANT#a", "plan": "gold"})
        );
    }
}
