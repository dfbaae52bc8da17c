//! Facts of the Cognito Pre Token Generation contract that the mapping is checked against.
//!
//! Source: the Amazon Cognito Developer Guide, "Pre token generation Lambda trigger"
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html>):
//! its "Trigger sources" table for [`TRIGGER_SOURCES`], and its "Claims and scopes reference" for
//! the claims no trigger may add, override or suppress.

/// Every `triggerSource` Cognito sends to a Pre Token Generation trigger.
pub const TRIGGER_SOURCES: [&str; 6] = [
    "TokenGeneration_HostedAuth",
    "TokenGeneration_Authentication",
    "TokenGeneration_NewPasswordChallenge",
    "TokenGeneration_AuthenticateDevice",
    "TokenGeneration_RefreshTokens",
    "TokenGeneration_ClientCredentials",
];

/// The user attributes Cognito defines, as they appear in `request.userAttributes`: the OpenID
/// Connect standard attributes it supports, `sub`, the verification flags, and `identities`
/// (federated users). Attributes a pool adds are `custom:`-prefixed, developer-only ones `dev:`,
/// and Cognito's own `cognito:` (`cognito:user_status`). Source: Amazon Cognito Developer
/// Guide, "Working with user attributes"
/// (<https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html>).
pub const STANDARD_ATTRIBUTES: [&str; 21] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "identities",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "sub",
    "updated_at",
    "website",
    "zoneinfo",
];

/// The prefixes of attributes that are not standard: custom, developer-only, Cognito's own.
pub const ATTRIBUTE_PREFIXES: [&str; 3] = ["custom:", "dev:", "cognito:"];

/// The trigger source of machine-to-machine (client credentials) tokens, which have no ID token.
pub const CLIENT_CREDENTIALS: &str = "TokenGeneration_ClientCredentials";

/// A top-level field of the Cognito event envelope ("Customizing user pool workflows with Lambda
/// triggers", common parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `version`.
    Version,
    /// `triggerSource`.
    TriggerSource,
    /// `region`.
    Region,
    /// `userPoolId`.
    UserPoolId,
    /// `userName`.
    UserName,
    /// `callerContext`.
    CallerContext,
    /// `request`.
    Request,
    /// `response`.
    Response,
}

impl Field {
    /// The field's name in the event.
    pub fn name(self) -> &'static str {
        match self {
            Field::Version => "version",
            Field::TriggerSource => "triggerSource",
            Field::Region => "region",
            Field::UserPoolId => "userPoolId",
            Field::UserName => "userName",
            Field::CallerContext => "callerContext",
            Field::Request => "request",
            Field::Response => "response",
        }
    }
}

/// Why `client` cannot be an app client id, if it cannot: ids are 1 to 128 word characters or
/// `+` (`ClientId` in the Amazon Cognito API reference, e.g. `DescribeUserPoolClient`).
pub fn client_id_restriction(client: &str) -> Option<String> {
    let valid = !client.is_empty()
        && client.len() <= 128
        && client
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+');
    (!valid)
        .then(|| format!("`{client}` is not an app client id (1-128 letters, digits, `_` or `+`)"))
}

/// Claims no trigger may add, override or suppress, in either token.
const IMMUTABLE: [&str; 20] = [
    "sub",
    "iss",
    "exp",
    "iat",
    "nbf",
    "jti",
    "acr",
    "amr",
    "auth_time",
    "azp",
    "nonce",
    "origin_jti",
    "token_use",
    "at_hash",
    "identities",
    "username",
    "client_id",
    "event_id",
    "version",
    "device_key",
];

/// ID-token claims whose value may not be a complex object (array or object) in V2/V3.
pub const ID_TOKEN_SCALAR_ONLY: [&str; 4] = [
    "phone_number_verified",
    "email_verified",
    "updated_at",
    "address",
];

/// Which token a claim goes into.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Token {
    /// The ID token (every event version).
    Id,
    /// The access token (event versions 2 and 3 only).
    Access,
}

impl Token {
    /// The name used in mapping files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Token::Id => "id",
            Token::Access => "access",
        }
    }
}

/// Why Cognito would refuse `claim` in `claimsToAddOrOverride` of `token`, or `None` if it may be added.
pub fn add_restriction(claim: &str, token: Token) -> Option<String> {
    if claim.is_empty() {
        return Some("a claim name cannot be empty".into());
    }
    if IMMUTABLE.contains(&claim) {
        return Some(format!(
            "`{claim}` is set by Cognito and cannot be added or overridden"
        ));
    }
    if claim == "cognito:groups" || claim == "cognito:roles" || claim == "cognito:preferred_role" {
        return Some(format!(
            "`{claim}` can only be changed through a group override, not as a claim"
        ));
    }
    if claim.starts_with("cognito:") {
        return Some(format!(
            "`cognito:` claims such as `{claim}` cannot be added or overridden"
        ));
    }
    if claim.starts_with("dev:") {
        return Some(format!(
            "`dev:` attributes such as `{claim}` can only be suppressed"
        ));
    }
    if claim == "scope" {
        return Some("`scope` is changed through the `scopes:` section, not as a claim".into());
    }
    if claim == "aud" && token == Token::Id {
        return Some(
            "`aud` cannot be changed in the ID token; it can only be added to the access token"
                .into(),
        );
    }
    None
}

/// Why Cognito would refuse `claim` in `claimsToSuppress`, or `None` if it may be suppressed.
pub fn suppress_restriction(claim: &str) -> Option<String> {
    if claim.is_empty() {
        return Some("a claim name cannot be empty".into());
    }
    if IMMUTABLE.contains(&claim) || claim == "aud" {
        return Some(format!(
            "`{claim}` is set by Cognito and cannot be suppressed"
        ));
    }
    if claim.starts_with("cognito:") && claim != "cognito:groups" {
        return Some(format!(
            "`{claim}` cannot be suppressed (only `cognito:groups`, which also removes roles and preferred role)"
        ));
    }
    None
}

/// Why Cognito would refuse to add `scope`, or `None` if it may be added.
pub fn scope_restriction(scope: &str) -> Option<&'static str> {
    if scope.is_empty() {
        Some("a scope cannot be empty")
    } else if scope.chars().any(char::is_whitespace) {
        Some("a scope containing whitespace cannot be added")
    } else {
        None
    }
}

/// Why Cognito would refuse `value` as the value of `claim` in `token` of a V2/V3 response, or
/// `None` if it is accepted. V1 values are always sent as strings, so only null matters there.
#[inline]
pub fn value_restriction(
    claim: &str,
    token: Token,
    value: &serde_json::Value,
) -> Option<&'static str> {
    use serde_json::Value;
    match value {
        // Every string, number and boolean is accepted (checked inline: most values are these).
        Value::String(_) | Value::Number(_) | Value::Bool(_) => None,
        _ => other_value_restriction(claim, token, value),
    }
}

/// [`value_restriction`] of null, an array or an object.
fn other_value_restriction(
    claim: &str,
    token: Token,
    value: &serde_json::Value,
) -> Option<&'static str> {
    use serde_json::Value;
    match value {
        Value::Null => Some("null is not a claim value"),
        Value::Array(items)
            if items
                .iter()
                .any(|i| matches!(i, Value::Null | Value::Array(_) | Value::Object(_))) =>
        {
            Some("arrays may hold only strings, numbers and booleans")
        }
        Value::Array(_) | Value::Object(_)
            if token == Token::Id && ID_TOKEN_SCALAR_ONLY.contains(&claim) =>
        {
            Some("this ID-token claim cannot hold an array or object")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_claims_are_refused() {
        for claim in [
            "sub",
            "exp",
            "cognito:username",
            "cognito:anything",
            "dev:x",
            "scope",
        ] {
            assert!(add_restriction(claim, Token::Access).is_some(), "{claim}");
        }
        assert!(add_restriction("aud", Token::Id).is_some());
        assert!(add_restriction("aud", Token::Access).is_none());
        assert!(add_restriction("custom:department", Token::Id).is_none());
    }

    #[test]
    fn suppressions_follow_the_contract() {
        assert!(suppress_restriction("dev:secret").is_none());
        assert!(suppress_restriction("cognito:groups").is_none());
        assert!(suppress_restriction("phone_number").is_none());
        assert!(suppress_restriction("cognito:username").is_some());
        assert!(suppress_restriction("sub").is_some());
    }

    #[test]
    fn values_cognito_refuses() {
        use serde_json::json;
        assert!(value_restriction("x", Token::Id, &json!(null)).is_some());
        assert!(value_restriction("x", Token::Id, &json!(["a", 1, true])).is_none());
        assert!(value_restriction("x", Token::Id, &json!(["a", {"b": 1}])).is_some());
        assert!(value_restriction("x", Token::Id, &json!({"nested": [1]})).is_none());
        assert!(value_restriction("address", Token::Id, &json!({"street": "x"})).is_some());
        assert!(value_restriction("address", Token::Access, &json!({"street": "x"})).is_none());
    }

    #[test]
    fn scopes_with_whitespace_are_refused() {
        assert!(scope_restriction("orders-api/read").is_none());
        assert!(scope_restriction("a b").is_some());
        assert!(scope_restriction("").is_some());
    }
}
