//! Token preview (`dry-run --tokens`): the payloads the ID and access tokens would carry after a
//! processed event, built from the event the way Cognito builds tokens, with every claim the
//! mapping changed marked.
//!
//! Claims Cognito sets at issue time (`auth_time`, `exp`, `iat`, `jti`, `event_id`, `origin_jti`)
//! cannot be known beforehand; they show as `"<set by Cognito>"`. Which user attributes an app
//! client may read is app-client configuration the event does not carry: the preview shows all
//! of them, as for a client that reads every attribute.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::cognito::{CLIENT_CREDENTIALS, Token};
use crate::engine::TokenView;
use crate::engine::{Event, GroupOverride, OwnedReply, Shape};

/// Shown for claims only Cognito knows when it issues the token.
pub const SET_BY_COGNITO: &str = "<set by Cognito>";

/// What the mapping did to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Added by a claim rule.
    Added,
    /// Given a new value by a claim rule, the group pipeline or a scope change.
    Changed,
    /// Removed (suppressed, or emptied by the group pipeline).
    Removed,
}

impl Mark {
    fn symbol(self) -> char {
        match self {
            Mark::Added => '+',
            Mark::Changed => '~',
            Mark::Removed => '-',
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mark::Added => "added",
            Mark::Changed => "changed",
            Mark::Removed => "removed",
        }
    }
}

/// One token's payload and what the mapping changed in it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPreview {
    /// Which token.
    pub token: Token,
    /// The claims the token would carry.
    pub payload: Map<String, Value>,
    /// Claims the mapping added, changed or removed (removed ones with their former value).
    pub changes: BTreeMap<String, (Mark, Option<Value>)>,
}

/// The tokens a processed event would produce: the ID token (absent for client credentials) and
/// the access token.
pub fn preview(done: &OwnedReply) -> Vec<TokenPreview> {
    // `Event::new` accepted this event before it was processed.
    let Ok(event) = Event::new(&done.event) else {
        return Vec::new();
    };
    let view = done.response();
    let m2m = event.trigger_source() == CLIENT_CREDENTIALS;
    let mut tokens = Vec::with_capacity(2);
    if !m2m {
        let mut id = TokenPreview {
            token: Token::Id,
            payload: id_claims(&event),
            changes: BTreeMap::new(),
        };
        apply_groups(&mut id, &view.groups, true);
        apply_claims(&mut id, &view.id);
        tokens.push(id);
    }
    let mut access = TokenPreview {
        token: Token::Access,
        payload: access_claims(&event, m2m),
        changes: BTreeMap::new(),
    };
    apply_groups(&mut access, &view.groups, false);
    if done.shape == Shape::V2AndV3 {
        apply_claims(&mut access, &view.access);
        apply_scopes(&mut access, &view.access);
    }
    tokens.push(access);
    tokens
}

fn issuer(event: &Event) -> Value {
    let root = event.value();
    match (
        root.get("region").and_then(Value::as_str),
        event.user_pool_id(),
    ) {
        (Some(region), Some(pool)) => {
            json!(format!("https://cognito-idp.{region}.amazonaws.com/{pool}"))
        }
        _ => json!(SET_BY_COGNITO),
    }
}

fn user_name(event: &Event) -> Value {
    event
        .value()
        .get("userName")
        .and_then(Value::as_str)
        .map_or(json!(SET_BY_COGNITO), |u| json!(u))
}

fn issue_time_claims(claims: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        claims.insert((*key).into(), json!(SET_BY_COGNITO));
    }
}

/// The group claims a token carries for `groups`: `cognito:groups`, and in the ID token
/// `cognito:roles` and `cognito:preferred_role`; `None` for each one it does not carry.
fn group_claims(groups: &GroupOverride, id: bool) -> [(&'static str, Option<Value>); 3] {
    let any = !groups.groups.is_empty();
    [
        ("cognito:groups", any.then(|| json!(groups.groups))),
        (
            "cognito:roles",
            (id && any && !groups.roles.is_empty()).then(|| json!(groups.roles)),
        ),
        (
            "cognito:preferred_role",
            groups
                .preferred_role
                .as_ref()
                .filter(|_| id && any)
                .map(|r| json!(r)),
        ),
    ]
}

/// The event's own groups, as Cognito puts them into a token.
fn event_group_claims(claims: &mut Map<String, Value>, event: &Event, id: bool) {
    let groups = GroupOverride {
        groups: event.groups().map(str::to_owned).collect(),
        roles: event.roles().map(str::to_owned).collect(),
        preferred_role: event.preferred_role().map(str::to_owned),
    };
    for (claim, value) in group_claims(&groups, id) {
        if let Some(value) = value {
            claims.insert(claim.into(), value);
        }
    }
}

fn id_claims(event: &Event) -> Map<String, Value> {
    let mut claims = Map::new();
    if let Some(Value::Object(attributes)) = event.value().pointer("/request/userAttributes") {
        for (name, value) in attributes {
            // `cognito:user_status` and the like describe the account, not the token.
            if name.starts_with("cognito:") || value.is_null() {
                continue;
            }
            claims.insert(name.clone(), attribute_claim(name, value));
        }
    }
    event_group_claims(&mut claims, event, true);
    claims.insert("iss".into(), issuer(event));
    claims.insert("cognito:username".into(), user_name(event));
    if let Some(client) = event.client_id() {
        claims.insert("aud".into(), json!(client));
    }
    claims.insert("token_use".into(), json!("id"));
    issue_time_claims(
        &mut claims,
        &["auth_time", "exp", "iat", "jti", "event_id", "origin_jti"],
    );
    claims
}

/// Attributes arrive as strings; the ID token types a few of them.
fn attribute_claim(name: &str, value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    match name {
        "email_verified" | "phone_number_verified" => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => value.clone(),
        },
        "updated_at" => text.parse::<i64>().map_or(value.clone(), Value::from),
        "identities" => serde_json::from_str(text).unwrap_or_else(|_| value.clone()),
        _ => value.clone(),
    }
}

fn access_claims(event: &Event, m2m: bool) -> Map<String, Value> {
    let mut claims = Map::new();
    let client = event
        .client_id()
        .map_or(json!(SET_BY_COGNITO), |c| json!(c));
    if m2m {
        claims.insert("sub".into(), client.clone());
    } else {
        let sub = event
            .attribute("sub")
            .cloned()
            .unwrap_or(json!(SET_BY_COGNITO));
        claims.insert("sub".into(), sub);
        claims.insert("username".into(), user_name(event));
        event_group_claims(&mut claims, event, false);
        issue_time_claims(&mut claims, &["event_id", "origin_jti"]);
    }
    claims.insert("iss".into(), issuer(event));
    claims.insert("client_id".into(), client);
    claims.insert("token_use".into(), json!("access"));
    claims.insert("version".into(), json!(2));
    let scopes: Vec<&str> = event.scopes().collect();
    if !scopes.is_empty() {
        claims.insert("scope".into(), json!(scopes.join(" ")));
    }
    issue_time_claims(&mut claims, &["auth_time", "exp", "iat", "jti"]);
    claims
}

impl TokenPreview {
    fn set(&mut self, claim: &str, value: Value) {
        let mark = match self.payload.get(claim) {
            None => Mark::Added,
            Some(old) if *old == value => return,
            Some(_) => Mark::Changed,
        };
        let before = self.payload.insert(claim.to_owned(), value);
        self.changes.insert(claim.to_owned(), (mark, before));
    }

    fn remove(&mut self, claim: &str) {
        if let Some(before) = self.payload.remove(claim) {
            self.changes
                .insert(claim.to_owned(), (Mark::Removed, Some(before)));
        }
    }
}

fn apply_groups(token: &mut TokenPreview, groups: &Option<GroupOverride>, id: bool) {
    let Some(groups) = groups else { return };
    for (claim, value) in group_claims(groups, id) {
        match value {
            Some(value) => token.set(claim, value),
            None => token.remove(claim),
        }
    }
}

fn apply_claims(token: &mut TokenPreview, changes: &TokenView) {
    for claim in &changes.changes.suppress {
        token.remove(claim);
        // Suppressing the groups also removes the roles that come with them.
        if claim == "cognito:groups" {
            token.remove("cognito:roles");
            token.remove("cognito:preferred_role");
        }
    }
    for (claim, value) in &changes.changes.add {
        token.set(claim, value.clone());
    }
}

fn apply_scopes(token: &mut TokenPreview, changes: &TokenView) {
    if changes.scopes_add.is_empty() && changes.scopes_suppress.is_empty() {
        return;
    }
    let mut scopes: Vec<String> = token
        .payload
        .get("scope")
        .and_then(Value::as_str)
        .map(|s| s.split(' ').map(str::to_owned).collect())
        .unwrap_or_default();
    for scope in &changes.scopes_add {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    scopes.retain(|s| !changes.scopes_suppress.contains(s));
    if scopes.is_empty() {
        token.remove("scope");
    } else {
        token.set("scope", json!(scopes.join(" ")));
    }
}

/// The human rendering: one line per claim, marked `+` added, `~` changed, `-` removed.
pub fn render(tokens: &[TokenPreview]) -> String {
    let mut out = String::new();
    for token in tokens {
        let _ = writeln!(out, "  {} token payload:", token.token.name());
        let mut lines: BTreeMap<&str, String> = BTreeMap::new();
        for (claim, value) in &token.payload {
            let mark = token.changes.get(claim).map_or(' ', |(m, _)| m.symbol());
            lines.insert(claim, format!("    {mark} {claim}: {}", show(value)));
        }
        for (claim, (mark, before)) in &token.changes {
            if *mark == Mark::Removed {
                let was = before.as_ref().map(show).unwrap_or_default();
                lines.insert(claim, format!("    - {claim}: {was}  (removed)"));
            }
        }
        for line in lines.values() {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) if s == SET_BY_COGNITO => s.clone(),
        other => other.to_string(),
    }
}

/// The JSON rendering: `{"id": {"payload", "changes"}, "access": {...}}`.
pub fn to_json(tokens: &[TokenPreview]) -> Value {
    let mut out = Map::new();
    for token in tokens {
        let changes: Map<String, Value> = token
            .changes
            .iter()
            .map(|(claim, (mark, _))| (claim.clone(), json!(mark.name())))
            .collect();
        out.insert(
            token.token.name().into(),
            json!({"payload": token.payload, "changes": changes}),
        );
    }
    Value::Object(out)
}
