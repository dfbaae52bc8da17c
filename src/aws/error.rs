//! An SDK error as the workflows see it: [`ApiError`], named by its action.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::workflow::{ApiError, ApiErrorKind};

/// `error`, returned by the call `action`, as an [`ApiError`].
pub fn api_error<E, R>(action: &'static str, error: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let kind = match &error {
        SdkError::TimeoutError(_) => ApiErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => ApiErrorKind::Timeout,
        SdkError::DispatchFailure(_) => ApiErrorKind::Network(
            aws_smithy_types::error::display::DisplayErrorContext(&error).to_string(),
        ),
        _ => {
            let code = error.code().unwrap_or_default();
            let message = error.message().unwrap_or_default().to_owned();
            match code {
                "ParameterNotFound"
                | "ParameterVersionNotFound"
                | "ResourceNotFoundException"
                | "UserNotFoundException" => ApiErrorKind::NotFound,
                "AccessDeniedException"
                | "AccessDenied"
                | "NotAuthorizedException"
                | "UnrecognizedClientException"
                | "InvalidKeyId"
                | "KMSAccessDeniedException" => ApiErrorKind::Denied(if message.is_empty() {
                    code.to_owned()
                } else {
                    format!("{code}: {message}")
                }),
                "ThrottlingException"
                | "TooManyUpdates"
                | "TooManyRequestsException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded" => ApiErrorKind::Throttled,
                "" => ApiErrorKind::Refused {
                    code: "(no code)".into(),
                    message: aws_smithy_types::error::display::DisplayErrorContext(&error)
                        .to_string(),
                },
                code => ApiErrorKind::Refused {
                    code: code.to_owned(),
                    message,
                },
            }
        }
    };
    ApiError { action, kind }
}
