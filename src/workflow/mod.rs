//! What operators do to an AWS account: publishing a mapping (`push`), moving its label
//! (`release`), setting a pool's trigger (`attach`, `detach`), and what they read from it to
//! preview a real user's tokens (`preview`). Each workflow plans from what it
//! reads, writes only what it planned, and reads back what it wrote.
//!
//! The AWS APIs are reached through the small traits below, which `crate::aws` implements with
//! the AWS SDK and tests implement in memory: a workflow is tested without any endpoint, and the
//! requests the SDK sends are checked against AWS's service models in `tests/it/` (the gate).
//!
//! Uses the mapping; must not know the AWS SDK, the Lambda runtime or the CLI.

use std::fmt;
use std::future::Future;

use serde_json::{Map, Value};

pub mod attach;
pub mod candidate;
#[cfg(test)]
mod memory;
pub mod parameter;
pub mod permission;
pub mod pool;
pub mod preview;
pub mod trigger;

use permission::Permission;
use trigger::FunctionArn;

/// Why an AWS call failed, named by its action; access denied names the IAM permission needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The API action (`UpdateUserPool`, `GetParameter`).
    pub action: &'static str,
    /// What went wrong.
    pub kind: ApiErrorKind,
}

impl ApiError {
    /// The IAM permission the action needs (`cognito-idp:UpdateUserPool`).
    pub fn permission(&self) -> Option<String> {
        let service = match self.action {
            "DescribeUserPool"
            | "UpdateUserPool"
            | "ListUserPoolClients"
            | "DescribeUserPoolClient"
            | "ListGroups"
            | "AdminGetUser"
            | "AdminListGroupsForUser" => "cognito-idp",
            "GetPolicy" | "AddPermission" => "lambda",
            "GetParameter"
            | "GetParameters"
            | "PutParameter"
            | "DescribeParameters"
            | "LabelParameterVersion"
            | "UnlabelParameterVersion" => "ssm",
            _ => return None,
        };
        Some(format!("{service}:{}", self.action))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, self.permission()) {
            // Said before any call was made: the action means nothing to the reader.
            (ApiErrorKind::Setup(m), _) => f.write_str(m),
            (ApiErrorKind::Denied(_), Some(permission)) => write!(
                f,
                "{}: {}; the caller needs the permission {permission}",
                self.action, self.kind
            ),
            _ => write!(f, "{}: {}", self.action, self.kind),
        }
    }
}

impl std::error::Error for ApiError {}

/// What went wrong in an AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// No such resource (pool, parameter, version, label, function, policy).
    NotFound,
    /// The caller may not do the action; the code AWS gave.
    Denied(String),
    /// AWS throttled the call.
    Throttled,
    /// The call did not finish within its time budget.
    Timeout,
    /// The endpoint could not be reached.
    Network(String),
    /// AWS refused the request, with its error code and message.
    Refused {
        /// The error code (`InvalidParameterException`).
        code: String,
        /// AWS's message.
        message: String,
    },
    /// No region or no credentials are configured where the command runs.
    Setup(&'static str),
}

impl fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiErrorKind::NotFound => f.write_str("not found"),
            ApiErrorKind::Denied(code) => write!(f, "access denied ({code})"),
            ApiErrorKind::Throttled => f.write_str("throttled"),
            ApiErrorKind::Timeout => f.write_str("timed out"),
            ApiErrorKind::Network(m) => write!(f, "network error: {m}"),
            ApiErrorKind::Refused { code, message } => write!(f, "{code}: {message}"),
            ApiErrorKind::Setup(m) => f.write_str(m),
        }
    }
}

/// The Cognito user-pool API, as the workflows use it: a pool's description exactly as
/// `DescribeUserPool` returns it (raw JSON, every member), and `UpdateUserPool` with a body built
/// from it.
pub trait UserPools {
    /// `DescribeUserPool`: the response (`{"UserPool": {...}}`).
    fn describe(&self, id: &str) -> impl Future<Output = Result<Value, ApiError>>;
    /// `UpdateUserPool` with this request body.
    fn update(&self, body: &Map<String, Value>) -> impl Future<Output = Result<(), ApiError>>;
}

/// A Lambda function's resource-based policy, as the workflows use it.
pub trait FunctionPolicies {
    /// `GetPolicy` of the qualified ARN: the policy document, `None` when there is none.
    fn policy(
        &self,
        function: &FunctionArn,
    ) -> impl Future<Output = Result<Option<Value>, ApiError>>;
    /// `AddPermission` on the qualified ARN.
    fn add_permission(
        &self,
        function: &FunctionArn,
        permission: &Permission,
    ) -> impl Future<Output = Result<(), ApiError>>;
}
