//! Cognito user pools through the AWS SDK: a pool's configuration for `audit` (`DescribeUserPool`,
//! `ListUserPoolClients`, `DescribeUserPoolClient`, `ListGroups`), a user, their groups and a client for
//! `preview` (`AdminGetUser`, `AdminListGroupsForUser`), and the raw description and update that
//! `attach` and `detach` work on.
//!
//! `DescribeUserPool` is read as the JSON Cognito sent, not as the SDK's types, which drop every
//! member newer than the SDK; and `UpdateUserPool` is sent with a body built from that JSON. The
//! SDK still signs, times and sends both calls: the raw body is taken from the response once it is
//! read, and put into the request before it is signed.

use std::sync::{Arc, Mutex};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_cognitoidentityprovider::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cognitoidentityprovider::types::{PreTokenGenerationLambdaVersionType, UserPoolType};
use aws_smithy_types::body::SdkBody;
use serde_json::{Map, Value};

use super::config::operator_client_config;
use super::error::api_error;
use crate::audit::{self, Pool, PoolAttribute, TriggerVersion};
use crate::workflow::preview::{Directory, Group, User};
use crate::workflow::{ApiError, ApiErrorKind, UserPools};

/// A Cognito client set up for operator commands.
#[derive(Debug, Clone)]
pub struct Cognito {
    client: Client,
}

impl Cognito {
    /// The client, once a region and credentials are known to be configured.
    pub async fn operator() -> Result<Self, ApiError> {
        let config = operator_client_config(None).await?;
        Ok(Cognito {
            client: Client::new(&config),
        })
    }

    /// Pool `id`'s schema, app clients and Pre Token Generation trigger version, for `audit`.
    pub async fn read_pool(&self, id: &str) -> Result<Pool, ApiError> {
        let user_pool = self.describe_typed(id).await?;
        let attributes = user_pool
            .schema_attributes()
            .iter()
            .filter_map(|a| {
                let name = a.name()?;
                // Developer-only attributes reach events as `dev:custom:...`.
                let name = if a.developer_only_attribute() == Some(true) {
                    format!("dev:{name}")
                } else {
                    name.to_owned()
                };
                Some(PoolAttribute {
                    name,
                    mutable: a.mutable().unwrap_or(true),
                })
            })
            .collect();
        let trigger = trigger_version(&user_pool);

        let mut clients = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client
                .list_user_pool_clients()
                .user_pool_id(id)
                .max_results(60)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| api_error("ListUserPoolClients", e))?;
            for listed in page.user_pool_clients() {
                let Some(client_id) = listed.client_id() else {
                    continue;
                };
                let described = self
                    .client
                    .describe_user_pool_client()
                    .user_pool_id(id)
                    .client_id(client_id)
                    .send()
                    .await
                    .map_err(|e| api_error("DescribeUserPoolClient", e))?;
                let Some(c) = described.user_pool_client else {
                    continue;
                };
                // Cognito returns the sets only when they are not its defaults; an empty list is
                // read as the default too, which counts more writers, never fewer.
                let set = |listed: &[String]| (!listed.is_empty()).then(|| listed.to_vec());
                clients.push(audit::Client {
                    id: client_id.to_owned(),
                    name: c.client_name().unwrap_or_default().to_owned(),
                    read: set(c.read_attributes()),
                    write: set(c.write_attributes()),
                });
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        let mut groups = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client
                .list_groups()
                .user_pool_id(id)
                .limit(60)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| api_error("ListGroups", e))?;
            groups.extend(
                page.groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(str::to_owned)),
            );
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        Ok(Pool {
            id: id.to_owned(),
            attributes,
            clients,
            trigger,
            groups: Some(groups),
        })
    }

    async fn describe_typed(&self, id: &str) -> Result<UserPoolType, ApiError> {
        self.client
            .describe_user_pool()
            .user_pool_id(id)
            .send()
            .await
            .map_err(|e| api_error("DescribeUserPool", e))?
            .user_pool
            .ok_or(ApiError {
                action: "DescribeUserPool",
                kind: ApiErrorKind::NotFound,
            })
    }
}

/// The pool's Pre Token Generation trigger version: `PreTokenGenerationConfig`'s, or V1 for the
/// legacy `PreTokenGeneration` setting.
fn trigger_version(user_pool: &UserPoolType) -> Option<TriggerVersion> {
    let lambda = user_pool.lambda_config();
    match lambda
        .and_then(|l| l.pre_token_generation_config())
        .map(|c| c.lambda_version())
    {
        Some(PreTokenGenerationLambdaVersionType::V20) => Some(TriggerVersion::V2),
        Some(PreTokenGenerationLambdaVersionType::V30) => Some(TriggerVersion::V3),
        Some(_) => Some(TriggerVersion::V1),
        None if lambda.and_then(|l| l.pre_token_generation()).is_some() => Some(TriggerVersion::V1),
        None => None,
    }
}

impl Directory for Cognito {
    async fn user(&self, pool: &str, username: &str) -> Result<User, ApiError> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(pool)
            .username(username)
            .send()
            .await
            .map_err(|e| api_error("AdminGetUser", e))?;
        Ok(User {
            username: user.username().to_owned(),
            status: user.user_status().map(|s| s.as_str().to_owned()),
            attributes: user
                .user_attributes()
                .iter()
                .map(|a| {
                    (
                        a.name().to_owned(),
                        a.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
        })
    }

    async fn groups(&self, pool: &str, username: &str) -> Result<Vec<Group>, ApiError> {
        let mut groups = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client
                .admin_list_groups_for_user()
                .user_pool_id(pool)
                .username(username)
                .limit(60)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| api_error("AdminListGroupsForUser", e))?;
            groups.extend(page.groups().iter().filter_map(|g| {
                Some(Group {
                    name: g.group_name()?.to_owned(),
                    precedence: g.precedence(),
                    role: g.role_arn().map(str::to_owned),
                })
            }));
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(groups);
            }
        }
    }

    async fn client_scopes(&self, pool: &str, client: &str) -> Result<Vec<String>, ApiError> {
        let described = self
            .client
            .describe_user_pool_client()
            .user_pool_id(pool)
            .client_id(client)
            .send()
            .await
            .map_err(|e| api_error("DescribeUserPoolClient", e))?;
        Ok(described
            .user_pool_client
            .map(|c| c.allowed_o_auth_scopes().to_vec())
            .unwrap_or_default())
    }

    async fn trigger_version(&self, pool: &str) -> Result<Option<TriggerVersion>, ApiError> {
        Ok(trigger_version(&self.describe_typed(pool).await?))
    }
}

/// Keeps the raw body of the response it sees.
#[derive(Debug, Default, Clone)]
struct KeepBody(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for KeepBody {
    fn name(&self) -> &'static str {
        "KeepBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = context.response().body().bytes().map(<[u8]>::to_vec);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = body;
        Ok(())
    }
}

impl UserPools for Cognito {
    async fn describe(&self, id: &str) -> Result<Value, ApiError> {
        const ACTION: &str = "DescribeUserPool";
        let kept = KeepBody::default();
        self.client
            .describe_user_pool()
            .user_pool_id(id)
            .customize()
            .interceptor(kept.clone())
            .send()
            .await
            .map_err(|e| api_error(ACTION, e))?;
        let body = kept.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        body.and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(ApiError {
                action: ACTION,
                kind: ApiErrorKind::Refused {
                    code: "(response)".into(),
                    message: "the response body could not be read as JSON".into(),
                },
            })
    }

    async fn update(&self, body: &Map<String, Value>) -> Result<(), ApiError> {
        const ACTION: &str = "UpdateUserPool";
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError {
            action: ACTION,
            kind: ApiErrorKind::Refused {
                code: "(request)".into(),
                message: e.to_string(),
            },
        })?;
        let id = body
            .get("UserPoolId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // The SDK builds the request (endpoint, headers); its body is replaced by the one built
        // from the pool's description before the request is signed.
        self.client
            .update_user_pool()
            .user_pool_id(id)
            .customize()
            .mutate_request(move |request| {
                *request.body_mut() = SdkBody::from(bytes.clone());
                request
                    .headers_mut()
                    .insert("content-length", bytes.len().to_string());
            })
            .send()
            .await
            .map_err(|e| api_error(ACTION, e))?;
        Ok(())
    }
}
