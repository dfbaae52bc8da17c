//! Lambda functions' resource-based policies through the AWS SDK: what `attach` reads and adds
//! so that Cognito may invoke the function (`GetPolicy`, `AddPermission`).

use aws_sdk_lambda::Client;
use serde_json::Value;

use super::config::operator_client_config;
use super::error::api_error;
use crate::workflow::permission::{COGNITO_PRINCIPAL, Permission};
use crate::workflow::trigger::FunctionArn;
use crate::workflow::{ApiError, ApiErrorKind, FunctionPolicies};

/// A Lambda client set up for operator commands.
#[derive(Debug, Clone)]
pub struct Lambda {
    client: Client,
}

impl Lambda {
    /// The client, once a region and credentials are known to be configured.
    pub async fn operator() -> Result<Self, ApiError> {
        let config = operator_client_config(None).await?;
        Ok(Lambda {
            client: Client::new(&config),
        })
    }
}

impl FunctionPolicies for Lambda {
    async fn policy(&self, function: &FunctionArn) -> Result<Option<Value>, ApiError> {
        const ACTION: &str = "GetPolicy";
        let out = match self
            .client
            .get_policy()
            .function_name(&function.unqualified)
            .qualifier(&function.qualifier)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return match api_error(ACTION, e) {
                    // No policy at all: nothing grants Cognito anything.
                    ApiError {
                        kind: ApiErrorKind::NotFound,
                        ..
                    } => Ok(None),
                    other => Err(other),
                };
            }
        };
        match out.policy() {
            None => Ok(None),
            Some(text) => serde_json::from_str(text).map(Some).map_err(|e| ApiError {
                action: ACTION,
                kind: ApiErrorKind::Refused {
                    code: "(response)".into(),
                    message: format!("the policy is not JSON: {e}"),
                },
            }),
        }
    }

    async fn add_permission(
        &self,
        function: &FunctionArn,
        permission: &Permission,
    ) -> Result<(), ApiError> {
        self.client
            .add_permission()
            .function_name(&function.unqualified)
            .qualifier(&function.qualifier)
            .statement_id(&permission.statement_id)
            .action("lambda:InvokeFunction")
            .principal(COGNITO_PRINCIPAL)
            .source_arn(&permission.source_arn)
            .source_account(&permission.source_account)
            .send()
            .await
            .map_err(|e| api_error("AddPermission", e))?;
        Ok(())
    }
}
