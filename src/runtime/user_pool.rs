//! Reading a user pool's configuration for `claim-mapper audit`, through the Cognito API and
//! read-only: `DescribeUserPool`, `ListUserPoolClients`, `DescribeUserPoolClient` (Amazon Cognito
//! API Reference). Only the CLI uses it (feature `audit`); the Lambda binaries are built without.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::PreTokenGenerationLambdaVersionType;

use super::ssm::operator_config;
use crate::audit::{self, Pool, PoolAttribute, TriggerVersion};

/// Why a pool could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No region or no credentials are configured.
    #[error("{0}")]
    Setup(&'static str),
    /// The caller may not read the pool.
    #[error(
        "cannot read user pool {pool}: {action} was refused ({code}); the audit needs \
         cognito-idp:DescribeUserPool, cognito-idp:ListUserPoolClients and \
         cognito-idp:DescribeUserPoolClient on the pool"
    )]
    Denied {
        /// The pool.
        pool: String,
        /// The API action refused.
        action: &'static str,
        /// The error code Cognito gave.
        code: String,
    },
    /// There is no such pool in the region.
    #[error("user pool {0} was not found in this account and region")]
    NotFound(String),
    /// Any other failure.
    #[error("cannot read user pool {pool}: {action} failed: {message}")]
    Failed {
        /// The pool.
        pool: String,
        /// The API action.
        action: &'static str,
        /// What the SDK said.
        message: String,
    },
}

/// Reads pool `id`'s schema, app clients and Pre Token Generation trigger version.
pub async fn read_pool(id: &str) -> Result<Pool, PoolError> {
    let config = operator_config().await.map_err(PoolError::Setup)?;
    let client = Client::new(&config);
    let described = client
        .describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .map_err(|e| classify(id, "DescribeUserPool", e))?;
    let user_pool = described
        .user_pool
        .ok_or_else(|| PoolError::NotFound(id.into()))?;
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
    let lambda = user_pool.lambda_config();
    let trigger = match lambda
        .and_then(|l| l.pre_token_generation_config())
        .map(|c| c.lambda_version())
    {
        Some(PreTokenGenerationLambdaVersionType::V20) => Some(TriggerVersion::V2),
        Some(PreTokenGenerationLambdaVersionType::V30) => Some(TriggerVersion::V3),
        Some(_) => Some(TriggerVersion::V1),
        None if lambda.and_then(|l| l.pre_token_generation()).is_some() => Some(TriggerVersion::V1),
        None => None,
    };

    let mut clients = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_user_pool_clients()
            .user_pool_id(id)
            .max_results(60)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| classify(id, "ListUserPoolClients", e))?;
        for listed in page.user_pool_clients() {
            let Some(client_id) = listed.client_id() else {
                continue;
            };
            let described = client
                .describe_user_pool_client()
                .user_pool_id(id)
                .client_id(client_id)
                .send()
                .await
                .map_err(|e| classify(id, "DescribeUserPoolClient", e))?;
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
    Ok(Pool {
        id: id.to_owned(),
        attributes,
        clients,
        trigger,
    })
}

fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(
    pool: &str,
    action: &'static str,
    error: SdkError<E>,
) -> PoolError {
    let code = error.code().unwrap_or_default().to_owned();
    match code.as_str() {
        "AccessDeniedException" | "NotAuthorizedException" | "UnrecognizedClientException" => {
            PoolError::Denied {
                pool: pool.into(),
                action,
                code,
            }
        }
        "ResourceNotFoundException" => PoolError::NotFound(pool.into()),
        _ => PoolError::Failed {
            pool: pool.into(),
            action,
            message: error
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{error:?}")),
        },
    }
}
