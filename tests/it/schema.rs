//! The editor schema (`mappings/schema.json`): generated from the loader's types, committed, and
//! referenced by every mapping file through a `yaml-language-server` comment. These tests keep
//! the three in step and check that the schema agrees with the loader on real mappings.

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::Value;

const SCHEMA: &str = "mappings/schema.json";

fn mapping_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["mappings", "examples/features"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(support::root().join(dir)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "mapping files missing");
    files
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let committed = std::fs::read_to_string(support::root().join(SCHEMA)).unwrap();
    assert!(
        committed == claim_mapper::mapping::schema::mapping_schema(),
        "{SCHEMA} is stale: run `cargo run -- schema > {SCHEMA}`"
    );
}

#[test]
fn every_mapping_file_points_editors_at_the_schema() {
    let schema = support::root().join(SCHEMA).canonicalize().unwrap();
    for file in mapping_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} does not start with the schema comment", file.display()));
        let resolved = file.parent().unwrap().join(target).canonicalize();
        assert_eq!(
            resolved.ok().as_deref(),
            Some(schema.as_path()),
            "{}: `$schema={target}` does not lead to {SCHEMA}",
            file.display()
        );
    }
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(support::root().join(SCHEMA)).unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).unwrap()
}

#[test]
fn the_schema_accepts_every_mapping_the_loader_accepts() {
    let validator = validator();
    let mut texts: Vec<(String, String)> = mapping_files()
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
        .collect();
    // The README's examples too.
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    for (i, block) in readme.split("```yaml\n").skip(1).enumerate() {
        let block = block.split("```").next().unwrap();
        if claim_mapper::Mapping::from_yaml(block, "README").is_ok() {
            texts.push((format!("README yaml block {i}"), block.to_owned()));
        }
    }
    for (name, text) in texts {
        claim_mapper::Mapping::from_yaml(&text, &name).unwrap_or_else(|e| panic!("{e}"));
        let errors: Vec<String> = validator
            .iter_errors(&as_json(&text))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn the_schema_flags_what_an_editor_should() {
    let validator = validator();
    for (yaml, why) in [
        ("version: 1\nclaim: []\n", "unknown top-level key"),
        (
            "version: 1\nclaims:\n  - claim: a\n    form: x\n",
            "misspelt rule key",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    from: x\n    tokens: [idd]\n",
            "unknown token",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    from: x\n    transform: [lowercse]\n",
            "unknown transform",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    from: x\n    transform: [{truncate: 0}]\n",
            "bad transform argument",
        ),
        ("version: 1\non_error: ignore\n", "unknown on_error"),
        (
            "version: 1\ntriggers:\n  TokenGeneration_Login: {}\n",
            "unknown trigger source",
        ),
        (
            "version: 1\ngroups:\n  from: [cognitoo]\n",
            "unknown group source",
        ),
        (
            "version: 1\ngroups:\n  keep: {name: [a]}\n",
            "misspelt keep key",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: true\n    when:\n",
            "a `when` with its lines commented out",
        ),
        (
            "version: 1\ngroups:\n  keep:\n",
            "a `keep` with its lines commented out",
        ),
        (
            "version: 1\nsuppress:\n  id:\n",
            "a suppression list with its lines commented out",
        ),
    ] {
        let value = as_json(yaml);
        assert!(!validator.is_valid(&value), "schema accepts {why}: {yaml}");
        assert!(
            claim_mapper::Mapping::from_yaml(yaml, "t").is_err(),
            "loader accepts {why}"
        );
    }
}

#[test]
fn the_cli_prints_the_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(Path::new(&support::root()).join(SCHEMA)).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "`claim-mapper schema` differs from {SCHEMA}"
    );
}
