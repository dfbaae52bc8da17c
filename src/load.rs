//! Where a mapping comes from and loading it. Today: a file bundled with the function; the
//! loading step returns the mapping together with a description of its origin for logs, so other
//! origins (an SSM parameter) slot in beside it.

use std::path::{Path, PathBuf};

use crate::mapping::{MAX_MAPPING_BYTES, Mapping, MappingError};

/// Environment variable naming the mapping file.
pub const FILE_VAR: &str = "CLAIM_MAPPING_FILE";
/// Mapping file used when [`FILE_VAR`] is not set.
pub const DEFAULT_FILE: &str = "mappings/default.yaml";

/// A mapping and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The compiled mapping.
    pub mapping: Mapping,
    /// The origin, e.g. `file mappings/prod.yaml`.
    pub origin: String,
}

impl Loaded {
    /// `origin` plus the mapping's digest: what every log line names as live.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.origin, self.mapping.digest())
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

/// Reads, validates and compiles the mapping file at `path`.
pub fn load_file(path: &Path) -> Result<Loaded, MappingError> {
    let origin = path.display().to_string();
    let read_error = |reason: String| MappingError::Read {
        origin: origin.clone(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| read_error(e.to_string()))?
        .len();
    if size > MAX_MAPPING_BYTES as u64 {
        return Err(MappingError::TooLarge {
            origin,
            size: usize::try_from(size).unwrap_or(usize::MAX),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| read_error(e.to_string()))?;
    let mapping = Mapping::from_yaml(&text, &origin)?;
    Ok(Loaded {
        mapping,
        origin: format!("file {origin}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
