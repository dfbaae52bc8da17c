//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses a different part

pub mod cognito_local;
pub mod dynamodb;
pub mod emf;
#[cfg(feature = "ssm")]
pub mod gate;
pub mod http;
pub mod invoke_api;
pub mod lambda;
pub mod runtime_api;
#[cfg(feature = "ssm")]
pub mod ssm;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository root.
/// A runtime to drive an AWS client of the tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixed evaluation date of the golden fixtures (for `age`).
pub const TODAY: time::Date = time::macros::date!(2026 - 11 - 26);

/// Every fixture event under `examples/events/`, sorted, with its file stem.
pub fn fixture_events() -> Vec<(String, Value)> {
    events_in("examples/events")
}

/// Every `*.json` event in `dir` (relative to the repository root), sorted, with its file stem.
pub fn events_in(dir: &str) -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            (
                stem(p),
                serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap(),
            )
        })
        .collect()
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Applies `mapping` to `event` as the dry-run does: the owned reply, or why it was refused.
pub fn apply(
    mapping: &claim_mapper::Mapping,
    event: Value,
    today: time::Date,
) -> Result<claim_mapper::engine::OwnedReply, claim_mapper::engine::ApplyError> {
    claim_mapper::engine::apply(mapping, &event, today, &mut ())
        .and_then(claim_mapper::engine::Reply::into_owned)
}

/// Compiles a mapping from YAML text, panicking with the error on failure (tests only).
pub fn mapping(yaml: &str) -> claim_mapper::Mapping {
    claim_mapper::Mapping::from_yaml(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// The error text of a mapping that must be invalid.
pub fn mapping_error(yaml: &str) -> String {
    match claim_mapper::Mapping::from_yaml(yaml, "test.yaml") {
        Ok(_) => panic!("mapping unexpectedly valid:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

/// The golden output of a fixture event with the default mapping.
pub fn expected(name: &str) -> Value {
    let path = root().join(format!("examples/expected/{name}.json"));
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|_| panic!("missing {}", path.display())),
    )
    .unwrap()
}

/// One fixture event by file stem.
pub fn fixture(name: &str) -> Value {
    let path = root().join(format!("examples/events/{name}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
