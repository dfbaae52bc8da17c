//! The Lambda function's settings, read from its environment once at init.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::metrics::MetricsSettings;
use crate::load::LoadError;

/// Environment variable naming the mapping file.
pub const FILE_VAR: &str = "CLAIM_MAPPING_FILE";
/// Environment variable naming the mapping's SSM parameter.
pub const SSM_VAR: &str = "CLAIM_MAPPING_SSM_PARAMETER";
/// Environment variable: seconds between refreshes of an SSM mapping (0 = load once).
pub const REFRESH_VAR: &str = "CLAIM_MAPPING_REFRESH_SECONDS";
/// Environment variable: `apply` (default), `shadow` or `compare`.
pub const MODE_VAR: &str = "CLAIM_MAPPING_MODE";
/// Mapping file used when neither a file nor a parameter is configured.
pub const DEFAULT_FILE: &str = "mappings/default.yaml";

/// What the function does with a mapping's outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Write the outcome into the response: the tokens change.
    #[default]
    Apply,
    /// Log what would change (claim names and counts) and return the event unchanged.
    Shadow,
    /// Log where the mapping's response differs from the response the event already carries
    /// (written by another trigger, which forwards the event it returns), by name only, and
    /// return the event unchanged: for proving a mapping reproduces a hand-written trigger.
    Compare,
}

/// The mapping settings of the Lambda function, from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The mapping file: the only source, or the fallback when a parameter is set.
    pub file: Option<PathBuf>,
    /// The SSM parameter (primary source when set).
    pub parameter: Option<String>,
    /// How old a mapping may get before an invocation refreshes it; zero = never.
    pub refresh: Duration,
    /// Apply the mapping, or only log what it would do.
    pub mode: Mode,
    /// Where the per-invocation metric lines go; `None` when metrics are disabled.
    pub metrics: Option<MetricsSettings>,
}

impl Settings {
    /// Reads the settings through `var` (the process environment in the Lambda). With neither a
    /// file nor a parameter, the file is `mappings/default.yaml`. Relative files resolve against
    /// `LAMBDA_TASK_ROOT` when set.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, LoadError> {
        let metrics = MetricsSettings::from_vars(&var);
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let parameter = set(SSM_VAR);
        let root = set("LAMBDA_TASK_ROOT");
        let file = match (set(FILE_VAR), &parameter) {
            (Some(f), _) => Some(f),
            (None, None) => Some(DEFAULT_FILE.to_owned()),
            (None, Some(_)) => None,
        }
        .map(|f| resolve_file(&f, root.as_deref()));
        let refresh = match set(REFRESH_VAR) {
            None => Duration::ZERO,
            Some(s) => s
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| LoadError::Setting {
                    var: REFRESH_VAR,
                    reason: "expected a whole number of seconds".into(),
                })?,
        };
        let mode = match set(MODE_VAR)
            .map(|m| m.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("apply") => Mode::Apply,
            Some("shadow") => Mode::Shadow,
            Some("compare") => Mode::Compare,
            Some(_) => {
                return Err(LoadError::Setting {
                    var: MODE_VAR,
                    reason: "expected `apply`, `shadow` or `compare`".into(),
                });
            }
        };
        Ok(Settings {
            file,
            parameter,
            refresh,
            mode,
            metrics,
        })
    }
}

/// Resolves a mapping file path: relative paths are taken from `task_root` (the Lambda's
/// `LAMBDA_TASK_ROOT`) when given, else from the working directory.
pub fn resolve_file(path: &str, task_root: Option<&str>) -> PathBuf {
    let path = Path::new(path);
    match task_root {
        Some(root) if path.is_relative() && !root.is_empty() => Path::new(root).join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, LoadError> {
        Settings::from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn relative_paths_resolve_against_the_task_root() {
        assert_eq!(
            resolve_file("mappings/a.yaml", Some("/var/task")),
            PathBuf::from("/var/task/mappings/a.yaml")
        );
        assert_eq!(
            resolve_file("/etc/a.yaml", Some("/var/task")),
            PathBuf::from("/etc/a.yaml")
        );
        assert_eq!(
            resolve_file("mappings/a.yaml", None),
            PathBuf::from("mappings/a.yaml")
        );
    }

    #[test]
    fn settings_pick_sources() {
        let none = settings(&[]).unwrap();
        assert_eq!(none.file, Some(PathBuf::from(DEFAULT_FILE)));
        assert_eq!(none.parameter, None);
        assert_eq!(none.refresh, Duration::ZERO);
        let ssm_only = settings(&[(SSM_VAR, "/p"), (REFRESH_VAR, "30")]).unwrap();
        assert_eq!(ssm_only.file, None, "no implicit fallback");
        assert_eq!(ssm_only.refresh, Duration::from_secs(30));
        let both = settings(&[
            (SSM_VAR, "/p"),
            (FILE_VAR, "mappings/prod.yaml"),
            ("LAMBDA_TASK_ROOT", "/var/task"),
        ])
        .unwrap();
        assert_eq!(
            both.file,
            Some(PathBuf::from("/var/task/mappings/prod.yaml"))
        );
        let bad = settings(&[(REFRESH_VAR, "soon")]).unwrap_err().to_string();
        assert_eq!(
            bad,
            "invalid CLAIM_MAPPING_REFRESH_SECONDS: expected a whole number of seconds"
        );
    }
}
