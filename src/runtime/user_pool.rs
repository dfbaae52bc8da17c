//! User pools through the Cognito API, for the CLI alone (feature `user-pool`; the Lambda binaries
//! are built without it): reading a pool's configuration for `claim-mapper audit`
//! (`DescribeUserPool`, `ListUserPoolClients`, `DescribeUserPoolClient`), and setting its Pre
//! Token Generation trigger for `claim-mapper attach` (`UpdateUserPool`), as the Amazon Cognito
//! API Reference describes them.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    LambdaConfigType, PreTokenGenerationLambdaVersionType, PreTokenGenerationVersionConfigType,
    UserPoolTierType, UserPoolType,
};

use super::ssm::operator_config;
use crate::audit::{self, Pool, PoolAttribute, TriggerVersion};

/// Why a pool could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No region or no credentials are configured.
    #[error("{0}")]
    Setup(&'static str),
    /// The caller may not do `action` on the pool.
    #[error(
        "user pool {pool}: {action} was refused ({code}); the caller needs the permission \
         cognito-idp:{action} on the pool"
    )]
    Denied {
        /// The pool.
        pool: String,
        /// The API action refused.
        action: &'static str,
        /// The error code Cognito gave.
        code: String,
    },
    /// The pool's feature plan cannot customise access tokens.
    #[error(
        "user pool {0} is on the Lite feature plan, where the trigger cannot customise access \
         tokens (event versions V2_0 and V3_0 need Essentials or Plus): change the pool's plan, or \
         attach with --trigger-version V1_0 (ID-token claims only)"
    )]
    Plan(String),
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
    let (client, user_pool) = describe(id).await?;
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

/// What `attach` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The pool.
    pub pool: String,
    /// The function now invoked.
    pub function: String,
    /// The trigger event version.
    pub version: String,
    /// The function invoked before, if any.
    pub replaced: Option<String>,
}

impl std::fmt::Display for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "user pool {}: Pre Token Generation trigger -> {} ({}), was {}; the pool's other \
             settings were sent back as they were",
            self.pool,
            self.function,
            self.version,
            self.replaced.as_deref().unwrap_or("none")
        )
    }
}

/// Sets `function` as pool `id`'s Pre Token Generation trigger at event version `version`
/// (`V1_0`, `V2_0`, `V3_0`). `UpdateUserPool` resets every setting it is not given to Cognito's
/// default, so the request carries the pool's current configuration as `DescribeUserPool`
/// returns it, with only the trigger changed: the pool's other triggers stay.
pub async fn attach(id: &str, function: &str, version: &str) -> Result<Attached, PoolError> {
    let (client, pool) = describe(id).await?;
    if version != "V1_0" && pool.user_pool_tier == Some(UserPoolTierType::Lite) {
        return Err(PoolError::Plan(id.into()));
    }
    let mut lambda = pool
        .lambda_config
        .clone()
        .unwrap_or_else(|| LambdaConfigType::builder().build());
    let replaced = lambda
        .pre_token_generation_config
        .as_ref()
        .map(|c| c.lambda_arn.clone())
        .or_else(|| lambda.pre_token_generation.clone());
    // The legacy key must name the same function as the versioned one.
    lambda.pre_token_generation = Some(function.to_owned());
    lambda.pre_token_generation_config = Some(
        PreTokenGenerationVersionConfigType::builder()
            .lambda_version(PreTokenGenerationLambdaVersionType::from(version))
            .lambda_arn(function)
            .build()
            .map_err(|e| PoolError::Failed {
                pool: id.into(),
                action: "UpdateUserPool",
                message: e.to_string(),
            })?,
    );
    client
        .update_user_pool()
        .user_pool_id(id)
        .lambda_config(lambda)
        .set_policies(pool.policies)
        .set_deletion_protection(pool.deletion_protection)
        .set_auto_verified_attributes(pool.auto_verified_attributes)
        .set_sms_verification_message(pool.sms_verification_message)
        .set_email_verification_message(pool.email_verification_message)
        .set_email_verification_subject(pool.email_verification_subject)
        .set_verification_message_template(pool.verification_message_template)
        .set_sms_authentication_message(pool.sms_authentication_message)
        .set_user_attribute_update_settings(pool.user_attribute_update_settings)
        .set_mfa_configuration(pool.mfa_configuration)
        .set_device_configuration(pool.device_configuration)
        .set_email_configuration(pool.email_configuration)
        .set_sms_configuration(pool.sms_configuration)
        .set_user_pool_tags(pool.user_pool_tags)
        .set_admin_create_user_config(pool.admin_create_user_config)
        .set_user_pool_add_ons(pool.user_pool_add_ons)
        .set_account_recovery_setting(pool.account_recovery_setting)
        .set_pool_name(pool.name)
        .set_user_pool_tier(pool.user_pool_tier)
        .send()
        .await
        .map_err(|e| classify(id, "UpdateUserPool", e))?;
    Ok(Attached {
        pool: id.to_owned(),
        function: function.to_owned(),
        version: version.to_owned(),
        replaced,
    })
}

/// A client set up for operator commands, and pool `id` as `DescribeUserPool` returns it.
async fn describe(id: &str) -> Result<(Client, UserPoolType), PoolError> {
    let config = operator_config().await.map_err(PoolError::Setup)?;
    let client = Client::new(&config);
    let pool = client
        .describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .map_err(|e| classify(id, "DescribeUserPool", e))?
        .user_pool
        .ok_or_else(|| PoolError::NotFound(id.into()))?;
    Ok((client, pool))
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
