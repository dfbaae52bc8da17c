//! `claim-mapper init`: a first mapping and its test suite, in the layout the other commands
//! default to, for a team starting in its own repository.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Status, say};

/// Write a first mapping (`mappings/NAME.yaml`), its test suite (`mappings/tests/NAME.yaml`) and
/// the JSON Schemas editors read, to edit from there. Writes nothing if any of them exists.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper init                   # mappings/default.yaml, mappings/tests/default.yaml
  claim-mapper init --name prod       # mappings/prod.yaml, mappings/tests/prod.yaml

Then: claim-mapper validate mappings/*.yaml; claim-mapper test.

Exit codes: 0 written; 2 a file exists already (nothing written) or cannot be written.")]
pub struct Args {
    /// The mapping's name: one per environment (`dev`, `prod`); `default` is what `dry-run`,
    /// `explain` and `test` read when not told.
    #[arg(long, default_value = "default", value_parser = name)]
    name: String,
    /// The repository's root, where `mappings/` goes.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

/// The first mapping: one claim, for the team to change.
const MAPPING: &str = "\
# yaml-language-server: $schema=schema.json
# The claims your user pool's tokens get. Edit, then check what tokens will hold:
#   claim-mapper validate mappings/*.yaml     every problem, with line and column
#   claim-mapper test                         the cases in mappings/tests/
#   claim-mapper preview --user-pool-id POOL --username USER --client-id CLIENT --mapping THIS
# `claim-mapper schema` prints the format's JSON Schema; editors read schema.json beside this file.
version: 1
claims:
  # The user's department (a custom attribute of the pool) in both tokens, when the user has one.
  - claim: department
    from: custom:department
    tokens: [id, access]
";

/// Its test suite: what the mapping must do, and must not.
const SUITE: &str = "\
# yaml-language-server: $schema=schema.json
# What the mapping must do (`claim-mapper test`): each case an event described by what the
# mapping reads, and what the tokens must (and must not) get. Keep a case for every claim.
version: 1
mapping: ../NAME.yaml
cases:
  - name: the department reaches both tokens
    event: { attributes: { custom:department: sales } }
    expect:
      id: { claims: { department: sales } }
      access: { claims: { department: sales } }
  - name: no department, no claim
    event: { attributes: { email: jane@example.com } }
    expect:
      id: { absent: [department] }
      access: { absent: [department] }
";

pub fn run(args: Args) -> anyhow::Result<Status> {
    let mappings = args.dir.join("mappings");
    let tests = mappings.join("tests");
    let file = format!("{}.yaml", args.name);
    let owned = [
        (mappings.join(&file), MAPPING.to_owned()),
        (tests.join(&file), SUITE.replace("NAME", &args.name)),
    ];
    if let Some((existing, _)) = owned.iter().find(|(path, _)| path.exists()) {
        anyhow::bail!(
            "{} exists already: nothing written (choose another --name, or edit it)",
            existing.display()
        );
    }
    // The schemas are the same for every mapping: one already there is kept.
    let schemas = [
        (
            mappings.join("schema.json"),
            claim_mapper::mapping::schema::mapping_schema(),
        ),
        (
            tests.join("schema.json"),
            claim_mapper::suite::suite_schema(),
        ),
    ];
    let schemas = schemas.into_iter().filter(|(path, _)| !path.exists());
    for (path, text) in owned.into_iter().chain(schemas) {
        write(&path, &text)?;
        say!("wrote {}", path.display())?;
    }
    say!(
        "next: edit mappings/{0}.yaml and mappings/tests/{0}.yaml, then `claim-mapper validate \
         mappings/{0}.yaml` and `claim-mapper test mappings/tests/{0}.yaml`",
        args.name
    )?;
    Ok(Status::Success)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let text = format!("{}\n", text.trim_end());
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// A mapping name: letters, digits, `-` and `_` (it names files).
fn name(s: &str) -> Result<String, String> {
    let valid = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid
        .then(|| s.to_owned())
        .ok_or_else(|| format!("`{s}`: a name of letters, digits, `-` and `_`"))
}
