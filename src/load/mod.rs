//! Where mappings, test suites and events come from, for the binaries and the tests: files (read
//! no further than a limit) and SSM parameters, through [`ParameterStore`]. Every loaded mapping
//! carries its origin, which logs name as the live source. The pure core below reads no file.

pub mod files;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::mapping::{MAX_MAPPING_BYTES, Mapping, MappingError};
use crate::workflow::parameter::{ParameterRef, ParameterStore};
use crate::workflow::{ApiError, ApiErrorKind};
use files::read_at_most;

/// Where a live mapping came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A mapping file.
    File(PathBuf),
    /// The fallback file, serving because the SSM parameter could not be read or was invalid at
    /// cold start.
    Fallback(PathBuf),
    /// An SSM parameter (as configured, with any pin) and the version that was read.
    Ssm {
        /// The parameter reference.
        parameter: String,
        /// The parameter version.
        version: i64,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Fallback(path) => write!(f, "fallback file {}", path.display()),
            Origin::Ssm { parameter, version } => write!(f, "ssm {parameter} version {version}"),
        }
    }
}

/// A mapping and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The compiled mapping.
    pub mapping: Mapping,
    /// Where it came from.
    pub origin: Origin,
}

impl Loaded {
    /// The origin plus the mapping's digest: what every log line names as live.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.origin, self.mapping.digest())
    }
}

/// Why no mapping could be loaded. Names the file or parameter and the cause.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The mapping text was unreadable or invalid.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// The SSM parameter holds an invalid mapping.
    #[error(transparent)]
    InvalidParameter(MappingError),
    /// The SSM parameter could not be read.
    #[error("cannot read SSM parameter {parameter}: {cause}")]
    Ssm {
        /// The parameter reference.
        parameter: String,
        /// The cause (not found, access denied, throttled, network, ...).
        cause: String,
    },
    /// The parameter failed and so did the fallback file.
    #[error("{primary}\nthe fallback file failed too: {fallback}")]
    FallbackFailed {
        /// Why the parameter was not used.
        primary: Box<LoadError>,
        /// Why the file was not used.
        fallback: Box<LoadError>,
    },
    /// A setting is malformed.
    #[error("invalid {var}: {reason}")]
    Setting {
        /// The environment variable.
        var: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl LoadError {
    /// The error as the function logs it: like `Display`, but problems in a parameter's mapping
    /// are located without quoting the parameter ([`MappingError::redacted`]).
    pub fn log_line(&self) -> String {
        match self {
            LoadError::InvalidParameter(e) => e.redacted(),
            LoadError::FallbackFailed { primary, fallback } => format!(
                "{}\nthe fallback file failed too: {}",
                primary.log_line(),
                fallback.log_line()
            ),
            other => other.to_string(),
        }
    }
}

/// Reads, validates and compiles the mapping file at `path`.
pub fn load_file(path: &Path) -> Result<Loaded, MappingError> {
    let origin = path.display().to_string();
    let read_error = |reason: String| MappingError::Read {
        origin: origin.clone(),
        reason,
    };
    let bytes = read_at_most(path, MAX_MAPPING_BYTES).map_err(|e| read_error(e.to_string()))?;
    if bytes.len() > MAX_MAPPING_BYTES {
        return Err(MappingError::TooLarge {
            origin,
            size: bytes.len(),
        });
    }
    let text =
        String::from_utf8(bytes).map_err(|_| read_error("the file is not UTF-8 text".into()))?;
    let mapping = Mapping::from_yaml(&text, &origin)?;
    Ok(Loaded {
        mapping,
        origin: Origin::File(path.to_path_buf()),
    })
}

/// Reads, validates and compiles the mapping in an SSM parameter.
pub async fn load_parameter(
    store: &impl ParameterStore,
    parameter: &ParameterRef,
) -> Result<Loaded, LoadError> {
    let fetched = store
        .fetch(parameter)
        .await
        .map_err(|cause| unreadable(parameter, &cause))?;
    compile_parameter(parameter, fetched)
}

/// Why `parameter` could not be loaded, from the error of the call that read it.
pub fn unreadable(parameter: &ParameterRef, cause: &ApiError) -> LoadError {
    LoadError::Ssm {
        parameter: parameter.to_string(),
        cause: ssm_cause(cause),
    }
}

/// Validates and compiles the mapping `fetched` from `parameter`.
pub fn compile_parameter(
    parameter: &ParameterRef,
    fetched: crate::workflow::parameter::Fetched,
) -> Result<Loaded, LoadError> {
    let mapping = Mapping::from_yaml(
        &fetched.text,
        &format!("{parameter} (version {})", fetched.version),
    )
    .map_err(LoadError::InvalidParameter)?;
    Ok(Loaded {
        mapping,
        origin: Origin::Ssm {
            parameter: parameter.to_string(),
            version: fetched.version,
        },
    })
}

/// Why a parameter could not be read, as the function's log and init error say it.
pub fn ssm_cause(error: &ApiError) -> String {
    match &error.kind {
        ApiErrorKind::NotFound => "not found (no such parameter, version or label)".into(),
        ApiErrorKind::Throttled => "throttled by SSM".into(),
        ApiErrorKind::Denied(code) => format!(
            "access denied: {code}; the function's role needs ssm:GetParameter on it (and \
             kms:Decrypt on the key of a SecureString encrypted with a customer managed key)"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_named() {
        let err = load_file(Path::new("/nonexistent/m.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot read mapping /nonexistent/m.yaml: "),
            "{err}"
        );
    }
}
