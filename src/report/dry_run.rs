//! The dry-run: the Lambda's own code path ([`engine::apply`]) over event files, with a report
//! of what each token will carry.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use time::Date;

use super::preview;
use crate::engine::TokenView;
use crate::engine::{self, KnownItems, OwnedReply, Shape};
use crate::mapping::Mapping;

/// One event file and what the mapping made of it.
#[derive(Debug)]
pub struct EventRun {
    /// The event file.
    pub file: PathBuf,
    /// The processed event, or why it failed (the text the Lambda would return as its error).
    pub result: Result<OwnedReply, String>,
}

/// Runs `mapping` over one event, read from `file`, its lookups finding the `items` given.
pub fn run_event(
    mapping: &Mapping,
    file: &Path,
    event: &Value,
    items: &KnownItems,
    today: Date,
) -> EventRun {
    EventRun {
        file: file.to_path_buf(),
        result: engine::apply_known(mapping, event, items, today, &mut ())
            .map_err(|e| e.to_string()),
    }
}

impl EventRun {
    /// One JSON line: `{"file", "output", "warnings"}` (with `tokens`, also `"tokens"`: the
    /// token payloads), or `{"file", "error"}`. `output` is the Lambda's reply byte for byte.
    pub fn to_json_line(&self, tokens: bool) -> String {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            file: String,
            output: &'a serde_json::value::RawValue,
            warnings: Vec<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tokens: Option<Value>,
        }
        let file = self.file.display().to_string();
        match &self.result {
            Ok(done) => serde_json::to_string(&Line {
                file,
                output: &done.written,
                warnings: done.warnings(),
                tokens: tokens.then(|| preview::to_json(&preview::preview(done))),
            })
            // A line of strings and JSON already written cannot fail to serialise.
            .unwrap_or_default(),
            Err(error) => json!({ "file": file, "error": error }).to_string(),
        }
    }

    /// The human report: trigger, version and client, then per token what changed (with
    /// `tokens`, the whole token payloads with the changes marked).
    pub fn to_human(&self, tokens: bool) -> String {
        let mut out = format!("{}\n", self.file.display());
        let done = match &self.result {
            Ok(done) => done,
            Err(error) => {
                let _ = writeln!(out, "  ERROR {error}");
                return out;
            }
        };
        let field = |k: &str| {
            done.event
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_owned()
        };
        let client = done
            .event
            .get("callerContext")
            .and_then(|c| c.get("clientId"))
            .and_then(Value::as_str)
            .unwrap_or("-");
        let _ = writeln!(
            out,
            "  trigger {}  version {}  client {client}",
            field("triggerSource"),
            field("version")
        );
        if tokens {
            out.push_str(&preview::render(&preview::preview(done)));
        } else {
            render_changes(&mut out, done);
        }
        for warning in done.warnings() {
            let _ = writeln!(out, "  warning: {warning}");
        }
        out
    }
}

fn render_changes(out: &mut String, done: &OwnedReply) {
    let view = done.response();
    render_token(out, "id token", &view.id);
    match done.shape {
        Shape::V1 => out.push_str("  access token: not customisable with a version 1 trigger\n"),
        Shape::V2AndV3 => render_token(out, "access token", &view.access),
    }
    if let Some(groups) = &view.groups {
        let _ = writeln!(out, "  groups (both tokens): {:?}", groups.groups);
        if !groups.roles.is_empty() {
            let _ = writeln!(out, "  roles (id token): {:?}", groups.roles);
        }
    }
}

fn render_token(out: &mut String, title: &str, token: &TokenView) {
    let c = &token.changes;
    if c.add.is_empty()
        && c.suppress.is_empty()
        && token.scopes_add.is_empty()
        && token.scopes_suppress.is_empty()
    {
        let _ = writeln!(out, "  {title}: no changes");
        return;
    }
    let _ = writeln!(out, "  {title}:");
    for (claim, value) in &c.add {
        let _ = writeln!(out, "    + {claim} = {value}");
    }
    for claim in &c.suppress {
        let _ = writeln!(out, "    - {claim} (suppressed)");
    }
    for scope in &token.scopes_add {
        let _ = writeln!(out, "    + scope {scope}");
    }
    for scope in &token.scopes_suppress {
        let _ = writeln!(out, "    - scope {scope} (suppressed)");
    }
}
