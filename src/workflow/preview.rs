//! `preview`: the event Cognito would send the trigger for a real user signing in to a real app
//! client, built from what the user pool says of them, so that an operator sees what that user's
//! tokens will hold without writing an event by hand.
//!
//! The event follows the trigger's contract (Cognito Developer Guide, "Pre token generation Lambda
//! trigger": the request of each event version) with values as Cognito sends them: every user
//! attribute as text, with `cognito:user_status`; the user's groups with their IAM roles and the
//! preferred role (Amazon Cognito API Reference, `CreateGroup`, `Precedence`: lower values take
//! precedence over higher or null ones; the role of the group that takes precedence is the
//! preferred role, and none when two groups of that precedence have different roles). What the
//! documentation leaves open is decided here and said in `docs/operations.md`: groups in order
//! of precedence (lowest value first, groups without one last), then by name.

use std::collections::BTreeSet;
use std::future::Future;

use serde_json::{Value, json};

use super::ApiError;
use crate::audit::TriggerVersion;
use crate::cognito::{self, CLIENT_CREDENTIALS};

/// A user as `AdminGetUser` returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `Username`: the name the user signs in with, or the id Cognito gave.
    pub username: String,
    /// `UserStatus` (`CONFIRMED`, `FORCE_CHANGE_PASSWORD`, `EXTERNAL_PROVIDER`, ...).
    pub status: Option<String>,
    /// `UserAttributes`, by name, as text.
    pub attributes: Vec<(String, String)>,
}

/// One of a user's groups, as `AdminListGroupsForUser` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `GroupName`.
    pub name: String,
    /// `Precedence`: the lower, the more it counts.
    pub precedence: Option<i32>,
    /// `RoleArn`.
    pub role: Option<String>,
}

/// The Cognito reads a preview needs (all read-only).
pub trait Directory {
    /// `AdminGetUser`.
    fn user(&self, pool: &str, username: &str) -> impl Future<Output = Result<User, ApiError>>;
    /// `AdminListGroupsForUser`, every page.
    fn groups(
        &self,
        pool: &str,
        username: &str,
    ) -> impl Future<Output = Result<Vec<Group>, ApiError>>;
    /// `DescribeUserPoolClient`: the client's `AllowedOAuthScopes`.
    fn client_scopes(
        &self,
        pool: &str,
        client: &str,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>>;
    /// `DescribeUserPool`: the Pre Token Generation trigger's event version, if one is set.
    fn trigger_version(
        &self,
        pool: &str,
    ) -> impl Future<Output = Result<Option<TriggerVersion>, ApiError>>;
}

/// What to preview.
#[derive(Debug, Clone)]
pub struct Request {
    /// The user pool (`us-east-1_Zx98Yw76V`).
    pub pool: String,
    /// The user; none for machine-to-machine tokens (`TokenGeneration_ClientCredentials`).
    pub username: Option<String>,
    /// The app client the tokens are for.
    pub client: String,
    /// The trigger source.
    pub trigger: String,
    /// The event version; `None`: the pool's.
    pub version: Option<u8>,
    /// The requested scopes; `None`: what the trigger source implies (see [`event`]).
    pub scopes: Option<Vec<String>>,
}

/// The built event and where its version came from.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The event, as Cognito would send it.
    pub event: Value,
    /// What decided the event version, for the operator.
    pub version_note: String,
}

/// Why a preview could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The request cannot describe an event Cognito sends.
    #[error("{0}")]
    Invalid(String),
    /// A Cognito read failed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Reads the pool, the user, their groups and the client, and builds the event.
pub async fn preview(
    directory: &impl Directory,
    request: &Request,
) -> Result<Preview, PreviewError> {
    let invalid = |m: String| Err(PreviewError::Invalid(m));
    if !cognito::TRIGGER_SOURCES.contains(&request.trigger.as_str()) {
        return invalid(format!(
            "unknown trigger source `{}`; known: {}",
            request.trigger,
            cognito::TRIGGER_SOURCES.join(", ")
        ));
    }
    if let Some(reason) = cognito::client_id_restriction(&request.client) {
        return invalid(reason);
    }
    let machine = request.trigger == CLIENT_CREDENTIALS;
    match (&request.username, machine) {
        (Some(_), true) => {
            return invalid(format!(
                "{CLIENT_CREDENTIALS} tokens have no user: leave out the username"
            ));
        }
        (None, false) => return invalid("a username is needed for a user's tokens".into()),
        _ => {}
    }
    let configured = directory.trigger_version(&request.pool).await?;
    let (version, version_note) = match (request.version, configured) {
        (Some(v @ 1..=3), _) => (v, format!("event version {v}, as asked")),
        (Some(v), _) => return invalid(format!("Cognito sends event versions 1, 2 and 3, not {v}")),
        (None, Some(configured)) => {
            let v = match configured {
                TriggerVersion::V1 => 1,
                TriggerVersion::V2 => 2,
                TriggerVersion::V3 => 3,
            };
            (v, format!("event version {v}, the pool's trigger version"))
        }
        (None, None) => (
            2,
            "event version 2: the pool has no Pre Token Generation trigger yet (--version to choose)"
                .to_owned(),
        ),
    };
    if machine && version != 3 {
        return invalid(format!(
            "Cognito sends {CLIENT_CREDENTIALS} only to version 3 triggers (event version {version} here)"
        ));
    }
    let client_scopes = directory
        .client_scopes(&request.pool, &request.client)
        .await?;
    let (user, groups) = match &request.username {
        Some(name) => (
            Some(directory.user(&request.pool, name).await?),
            directory.groups(&request.pool, name).await?,
        ),
        None => (None, Vec::new()),
    };
    let scopes = request
        .scopes
        .clone()
        .unwrap_or_else(|| requested_scopes(&request.trigger, &client_scopes));
    Ok(Preview {
        event: event(
            &request.pool,
            user.as_ref(),
            &groups,
            &request.client,
            &request.trigger,
            version,
            &scopes,
        ),
        version_note,
    })
}

/// The scopes a sign-in through `trigger` requests when the operator does not say: through the
/// managed login pages (and the refresh of such a sign-in), every scope the client allows; through
/// the user-pools API, Cognito's own `aws.cognito.signin.user.admin`, the one scope of an access
/// token from `InitiateAuth` (Developer Guide, "Understanding the access token"); for a machine,
/// every scope the client allows.
fn requested_scopes(trigger: &str, client_scopes: &[String]) -> Vec<String> {
    match trigger {
        "TokenGeneration_Authentication"
        | "TokenGeneration_NewPasswordChallenge"
        | "TokenGeneration_AuthenticateDevice" => vec!["aws.cognito.signin.user.admin".into()],
        _ => client_scopes.to_vec(),
    }
}

/// The event Cognito sends `trigger` at `version` for `user` (none: a machine) in `groups`,
/// signing in to `client` of `pool` with `scopes`.
pub fn event(
    pool: &str,
    user: Option<&User>,
    groups: &[Group],
    client: &str,
    trigger: &str,
    version: u8,
    scopes: &[String],
) -> Value {
    let region = pool.split_once('_').map_or("", |(region, _)| region);
    let request = match user {
        Some(user) => {
            let mut attributes = serde_json::Map::new();
            for (name, value) in &user.attributes {
                attributes.insert(name.clone(), json!(value));
            }
            if let Some(status) = &user.status {
                attributes.insert("cognito:user_status".into(), json!(status));
            }
            let mut request = json!({
                "userAttributes": attributes,
                "groupConfiguration": group_configuration(groups),
            });
            if version > 1 {
                request["scopes"] = json!(scopes);
            }
            request
        }
        None => json!({
            "userAttributes": {},
            "groupConfiguration": null,
            "scopes": scopes,
        }),
    };
    let response = if version == 1 {
        json!({ "claimsOverrideDetails": null })
    } else {
        json!({ "claimsAndScopeOverrideDetails": null })
    };
    json!({
        "version": version.to_string(),
        "triggerSource": trigger,
        "region": region,
        "userPoolId": pool,
        "userName": user.map_or(client, |u| u.username.as_str()),
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client },
        "request": request,
        "response": response,
    })
}

/// `groupConfiguration` for `groups`: in order of precedence, their roles (each once), and the
/// preferred role.
fn group_configuration(groups: &[Group]) -> Value {
    let mut ordered: Vec<&Group> = groups.iter().collect();
    ordered.sort_by(|a, b| {
        (a.precedence.is_none(), a.precedence, &a.name).cmp(&(
            b.precedence.is_none(),
            b.precedence,
            &b.name,
        ))
    });
    let mut seen = BTreeSet::new();
    let roles: Vec<&str> = ordered
        .iter()
        .filter_map(|g| g.role.as_deref())
        .filter(|role| seen.insert(*role))
        .collect();
    json!({
        "groupsToOverride": ordered.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        "iamRolesToOverride": roles,
        "preferredRole": preferred_role(&ordered),
    })
}

/// The role of the group with a role that takes precedence (`ordered` is in precedence order; no
/// precedence counts after every value); none when another group with a role has the same
/// precedence and a different role.
fn preferred_role<'a>(ordered: &[&'a Group]) -> Option<&'a str> {
    let mut with_roles = ordered
        .iter()
        .filter_map(|g| Some((g.precedence, g.role.as_deref()?)));
    let (best, role) = with_roles.next()?;
    let tied = with_roles.any(|(precedence, other)| precedence == best && other != role);
    (!tied).then_some(role)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, precedence: Option<i32>, role: Option<&str>) -> Group {
        Group {
            name: name.into(),
            precedence,
            role: role.map(Into::into),
        }
    }

    fn user() -> User {
        User {
            username: "jdoe".into(),
            status: Some("CONFIRMED".into()),
            attributes: vec![
                ("sub".into(), "a1b2".into()),
                ("custom:tenant_id".into(), "tenant-42".into()),
            ],
        }
    }

    #[test]
    fn groups_go_in_precedence_order_with_the_preferred_role_of_the_lowest() {
        let groups = [
            group("zeta", None, Some("arn:z")),
            group("billing", Some(5), Some("arn:billing")),
            group("admins", Some(1), Some("arn:admins")),
            group("readers", Some(5), None),
            group("also-admins", Some(1), Some("arn:admins")),
        ];
        let config = group_configuration(&groups);
        assert_eq!(
            config["groupsToOverride"],
            json!(["admins", "also-admins", "billing", "readers", "zeta"])
        );
        assert_eq!(
            config["iamRolesToOverride"],
            json!(["arn:admins", "arn:billing", "arn:z"])
        );
        assert_eq!(config["preferredRole"], json!("arn:admins"));
    }

    #[test]
    fn two_roles_at_the_lowest_precedence_make_no_preferred_role() {
        let groups = [
            group("a", Some(1), Some("arn:a")),
            group("b", Some(1), Some("arn:b")),
            group("c", Some(0), None),
        ];
        assert_eq!(group_configuration(&groups)["preferredRole"], Value::Null);
        assert_eq!(group_configuration(&[])["preferredRole"], Value::Null);
        // No precedence counts after every value, and still gives its role when it is the only one.
        let unranked = [group("a", None, Some("arn:a"))];
        assert_eq!(
            group_configuration(&unranked)["preferredRole"],
            json!("arn:a")
        );
        let unranked = [
            group("a", None, Some("arn:a")),
            group("b", None, Some("arn:b")),
        ];
        assert_eq!(group_configuration(&unranked)["preferredRole"], Value::Null);
    }

    #[test]
    fn a_user_event_is_the_contract_s_shape_for_each_version() {
        let scopes = ["aws.cognito.signin.user.admin".to_owned()];
        let v2 = event(
            "eu-west-1_Ab12",
            Some(&user()),
            &[],
            "client1",
            "TokenGeneration_Authentication",
            2,
            &scopes,
        );
        assert_eq!(v2["version"], "2");
        assert_eq!(v2["region"], "eu-west-1");
        assert_eq!(v2["userName"], "jdoe");
        assert_eq!(v2["callerContext"]["clientId"], "client1");
        assert_eq!(
            v2["request"]["userAttributes"]["cognito:user_status"],
            "CONFIRMED"
        );
        assert_eq!(
            v2["request"]["userAttributes"]["custom:tenant_id"],
            "tenant-42"
        );
        assert_eq!(v2["request"]["scopes"], json!(scopes));
        assert_eq!(
            v2["response"],
            json!({"claimsAndScopeOverrideDetails": null})
        );
        let v1 = event(
            "eu-west-1_Ab12",
            Some(&user()),
            &[],
            "client1",
            "TokenGeneration_HostedAuth",
            1,
            &scopes,
        );
        assert!(v1["request"].get("scopes").is_none());
        assert_eq!(v1["response"], json!({"claimsOverrideDetails": null}));
        // What the engine reads, it reads as from any event.
        let view = crate::engine::Event::new(&v2).unwrap();
        assert_eq!(view.trigger_source(), "TokenGeneration_Authentication");
        assert_eq!(
            view.attribute("custom:tenant_id"),
            Some(&json!("tenant-42"))
        );
    }

    #[test]
    fn scopes_follow_the_flow_unless_given() {
        let allowed = ["openid".to_owned(), "orders/read".to_owned()];
        assert_eq!(
            requested_scopes("TokenGeneration_HostedAuth", &allowed),
            allowed
        );
        assert_eq!(
            requested_scopes("TokenGeneration_RefreshTokens", &allowed),
            allowed
        );
        assert_eq!(requested_scopes(CLIENT_CREDENTIALS, &allowed), allowed);
        for api in [
            "TokenGeneration_Authentication",
            "TokenGeneration_NewPasswordChallenge",
            "TokenGeneration_AuthenticateDevice",
        ] {
            assert_eq!(
                requested_scopes(api, &allowed),
                ["aws.cognito.signin.user.admin"]
            );
        }
    }
}
