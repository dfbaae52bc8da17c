//! Whether Cognito may invoke a function: the statement of the function's resource-based policy
//! that lets `cognito-idp.amazonaws.com` call `lambda:InvokeFunction` on the ARN the pool names,
//! for that pool. Without it every sign-in of the pool fails. The console adds it when a trigger is
//! chosen there; a caller of the API must add it (Amazon Cognito Developer Guide, "Customizing user
//! pool workflows with Lambda triggers",
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html>;
//! AWS Lambda API Reference,
//! [AddPermission](https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html)).

use serde_json::Value;

use super::trigger::FunctionArn;

/// The service principal Cognito invokes triggers as.
pub const COGNITO_PRINCIPAL: &str = "cognito-idp.amazonaws.com";

/// What the function's policy says of Cognito invoking it from one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A statement lets this pool invoke the ARN.
    Granted {
        /// The statement's id.
        sid: String,
        /// Whether it is limited to this pool (`AWS:SourceArn`); without it any pool of any
        /// account may invoke the function.
        for_this_pool_only: bool,
    },
    /// No statement does: Cognito's calls would be refused.
    Missing,
    /// The policy was not read (`--no-permission-check`).
    NotChecked,
}

/// The permission `attach --add-permission` adds: Cognito may invoke `function` on behalf of the
/// pool `pool_arn` of `account` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// `StatementId`: one per pool, so that attaching again finds it.
    pub statement_id: String,
    /// `SourceArn`: the pool's ARN.
    pub source_arn: String,
    /// `SourceAccount`: the pool's account.
    pub source_account: String,
}

impl Permission {
    /// The permission for the pool with `pool_id`, `pool_arn` in `account`.
    pub fn for_pool(pool_id: &str, pool_arn: &str, account: &str) -> Permission {
        Permission {
            // `StatementId`: letters, digits, `-` and `_`, at most 100 (pool ids are at most 55).
            statement_id: format!("cognito-claim-mapper-{pool_id}"),
            source_arn: pool_arn.to_owned(),
            source_account: account.to_owned(),
        }
    }
}

/// What `policy` (the JSON document `GetPolicy` returns, `None` when the function has none)
/// grants Cognito for `function`, invoked by the pool `pool_arn`.
pub fn grant(policy: Option<&Value>, function: &FunctionArn, pool_arn: &str) -> Grant {
    let statements = match policy.and_then(|p| p.get("Statement")) {
        Some(Value::Array(statements)) => statements.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for statement in statements {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && principal_is_cognito(statement.get("Principal"))
            && any_text(statement.get("Action"), |a| {
                a == "lambda:InvokeFunction" || a == "lambda:*" || a == "*"
            })
            && any_text(statement.get("Resource"), |r| {
                r == function.arn
                    || r == "*"
                    || (r.ends_with(":*") && function.arn.starts_with(&r[..r.len() - 1]))
            });
        if !allows {
            continue;
        }
        match source_arn_condition(statement.get("Condition")) {
            Some(patterns) if !patterns.iter().any(|p| arn_like(p, pool_arn)) => continue,
            limited => {
                return Grant::Granted {
                    sid: statement
                        .get("Sid")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    for_this_pool_only: limited.is_some(),
                };
            }
        }
    }
    Grant::Missing
}

fn principal_is_cognito(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::String(any)) => any == "*",
        Some(Value::Object(p)) => any_text(p.get("Service"), |s| s == COGNITO_PRINCIPAL),
        _ => false,
    }
}

/// Whether `value` (a string or a list of strings) holds a string that passes `test`.
fn any_text(value: Option<&Value>, test: impl Fn(&str) -> bool) -> bool {
    match value {
        Some(Value::String(s)) => test(s),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(test),
        _ => false,
    }
}

/// The patterns an `AWS:SourceArn` condition allows (condition keys are case-insensitive), or
/// `None` when the statement has none.
fn source_arn_condition(condition: Option<&Value>) -> Option<Vec<String>> {
    let mut patterns = Vec::new();
    let mut found = false;
    for operators in condition.and_then(Value::as_object).into_iter() {
        for (_, keys) in operators {
            for (key, value) in keys.as_object().into_iter().flatten() {
                if key.eq_ignore_ascii_case("aws:SourceArn") {
                    found = true;
                    match value {
                        Value::String(s) => patterns.push(s.clone()),
                        Value::Array(items) => patterns
                            .extend(items.iter().filter_map(Value::as_str).map(str::to_owned)),
                        _ => {}
                    }
                }
            }
        }
    }
    found.then_some(patterns)
}

/// `ArnLike` matching: `*` any run of characters, `?` one character.
fn arn_like(pattern: &str, arn: &str) -> bool {
    fn matches(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| matches(rest, &s[i..])),
            Some((b'?', rest)) => !s.is_empty() && matches(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && matches(rest, &s[1..]),
        }
    }
    matches(pattern.as_bytes(), arn.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POOL: &str = "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Abc";

    fn function() -> FunctionArn {
        FunctionArn::parse("arn:aws:lambda:us-east-1:111122223333:function:cm:live").unwrap()
    }

    fn policy(resource: &str, condition: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "cognito",
            "Effect": "Allow",
            "Principal": {"Service": "cognito-idp.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": resource,
            "Condition": condition
        }]})
    }

    #[test]
    fn a_statement_for_this_pool_on_the_alias_grants() {
        let p = policy(&function().arn, json!({"ArnLike": {"AWS:SourceArn": POOL}}));
        assert_eq!(
            grant(Some(&p), &function(), POOL),
            Grant::Granted {
                sid: "cognito".into(),
                for_this_pool_only: true
            }
        );
        let any_pool = policy(&function().arn, Value::Null);
        assert_eq!(
            grant(Some(&any_pool), &function(), POOL),
            Grant::Granted {
                sid: "cognito".into(),
                for_this_pool_only: false
            }
        );
        let wildcard = policy(
            &function().arn,
            json!({"ArnLike": {"aws:sourcearn": "arn:aws:cognito-idp:us-east-1:111122223333:userpool/*"}}),
        );
        assert!(matches!(
            grant(Some(&wildcard), &function(), POOL),
            Grant::Granted { .. }
        ));
    }

    #[test]
    fn another_pool_another_alias_or_no_policy_do_not() {
        let other_pool = policy(
            &function().arn,
            json!({"ArnLike": {"AWS:SourceArn": "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Other"}}),
        );
        assert_eq!(grant(Some(&other_pool), &function(), POOL), Grant::Missing);
        let unqualified = policy(&function().unqualified, Value::Null);
        assert_eq!(grant(Some(&unqualified), &function(), POOL), Grant::Missing);
        assert_eq!(grant(None, &function(), POOL), Grant::Missing);
        let mut denied = policy(&function().arn, Value::Null);
        denied["Statement"][0]["Effect"] = json!("Deny");
        assert_eq!(grant(Some(&denied), &function(), POOL), Grant::Missing);
    }
}
