//! Files as the CLI, the Lambda and the tests read them: never further than a limit, event files
//! as the Lambda reads its payload, test suites with the event files they name. The pure core
//! reads no file: these hand it text and bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::engine;
use crate::suite::{MAX_SUITE_BYTES, Suite, SuiteError};

/// Reads `path` up to `limit` bytes and one more, never further: a caller tells a file over the
/// limit by the length, without reading the rest. Bounded by the bytes actually read, not the size
/// the file claims: a FIFO or a device (`/dev/zero`) reports none and never ends.
pub fn read_at_most(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads at most `limit` bytes of `path`, refusing a larger file.
fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>, String> {
    let bytes = read_at_most(path, limit).map_err(|e| e.to_string())?;
    if bytes.len() > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}

/// Reads and compiles the test suite at `path`, with the event files it names (they and the
/// mapping resolve against its folder).
pub fn suite(path: &Path) -> Result<Suite, SuiteError> {
    let read = |reason: String| SuiteError::Read {
        file: path.display().to_string(),
        reason,
    };
    let text = read_capped(path, MAX_SUITE_BYTES).map_err(read)?;
    let text = String::from_utf8(text).map_err(|_| read("not UTF-8 text".into()))?;
    suite_text(&text, path)
}

/// Compiles suite text as the file at `path`, reading the event files it names from disk.
pub fn suite_text(text: &str, path: &Path) -> Result<Suite, SuiteError> {
    Suite::from_yaml(text, path, &|file| read_capped(file, MAX_SUITE_BYTES))
}

/// Most bytes of a `--lookup-items` file.
pub const MAX_ITEMS_BYTES: usize = 1024 * 1024;

/// Reads the known lookup items at `path` (a dry-run's `--lookup-items`): every problem of the
/// file, or why it cannot be read.
pub fn known_items(path: &Path) -> Result<engine::KnownItems, Vec<String>> {
    let origin = path.display().to_string();
    let text = read_capped(path, MAX_ITEMS_BYTES)
        .and_then(|bytes| String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into()))
        .map_err(|reason| vec![format!("cannot read {origin}: {reason}")])?;
    engine::KnownItems::from_yaml(&text, &origin)
}

/// Expands files and folders (their `*.json` files, sorted) into a list of event files.
pub fn event_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    listed_files(paths, "json")
}

/// `paths` with each folder replaced by its `*.EXTENSION` files, sorted.
pub fn listed_files(paths: &[PathBuf], extension: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == extension))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Why an event file gave no event.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read: the command cannot run (exit 2).
    #[error("cannot read event: {0}")]
    Unreadable(std::io::Error),
    /// The file is not an event the Lambda could take: as the Lambda would, that event fails.
    #[error(transparent)]
    NotAnEvent(#[from] engine::EventError),
}

/// Reads one event file as the Lambda reads its payload ([`engine::Payload::from_file`]).
pub fn event(file: &Path) -> Result<Value, ReadError> {
    let bytes = std::fs::read(file).map_err(ReadError::Unreadable)?;
    Ok(engine::Payload::from_file(&bytes)?)
}
