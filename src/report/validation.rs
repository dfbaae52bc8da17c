//! What `validate` says of one mapping file: valid (with its warnings), or every problem; as
//! text for people or as one JSON line for CI.

use serde_json::{Value, json};

use crate::mapping::{Mapping, MappingError, Problem};

/// One mapping file checked: the compiled mapping or why it is not one.
pub struct Validation<'a> {
    /// The file, as named on the command line.
    pub file: &'a str,
    /// The mapping, or the error that refused it.
    pub result: &'a Result<Mapping, MappingError>,
    /// Whether warnings count as problems (`--strict`).
    pub strict: bool,
}

impl Validation<'_> {
    /// Whether the file passes: valid, and under `strict` without warnings.
    pub fn passes(&self) -> bool {
        match self.result {
            Ok(mapping) => !self.strict || mapping.warnings().is_empty(),
            Err(_) => false,
        }
    }

    /// The report for people: `FILE: valid (...)` and a line per warning, or the problems.
    pub fn to_human(&self) -> String {
        let mapping = match self.result {
            Ok(mapping) => mapping,
            Err(error) => return error.to_string(),
        };
        let rules = mapping.rule_count();
        let warnings = mapping.warnings();
        let mut out = format!(
            "{}: valid ({rules} rule{}, {})",
            self.file,
            plural(rules),
            mapping.digest()
        );
        if !warnings.is_empty() {
            let count = warnings.len();
            out.push_str(&format!(", {count} warning{}", plural(count)));
            if self.strict {
                out.push_str(" (refused by --strict)");
            }
        }
        for warning in warnings {
            out.push_str(&format!("\n  warning: {}:{warning}", self.file));
        }
        out
    }

    /// The report as one JSON object: `{"file", "valid", "rules", "digest", "warnings"}` or
    /// `{"file", "valid": false, "problems"}` (or `"error"` when the file could not be read).
    pub fn to_json_line(&self) -> String {
        let line = match self.result {
            Ok(mapping) => {
                let warnings: Vec<Value> = mapping.warnings().iter().map(problem_json).collect();
                let mut line = json!({
                    "file": self.file,
                    "valid": self.passes(),
                    "rules": mapping.rule_count(),
                    "digest": mapping.digest(),
                    "warnings": warnings,
                });
                // Refused for its warnings alone (--strict): they are its problems.
                if !self.passes() {
                    line["problems"] = json!(warnings);
                }
                line
            }
            Err(MappingError::Invalid { problems, .. }) => json!({
                "file": self.file,
                "valid": false,
                "problems": problems.iter().map(problem_json).collect::<Vec<_>>(),
            }),
            Err(other) => json!({"file": self.file, "valid": false, "error": other.to_string()}),
        };
        line.to_string()
    }
}

/// A problem or warning as JSON: `line` and `column` (when known), `rule`, `claim`, `field`,
/// `message`.
pub fn problem_json(problem: &Problem) -> Value {
    json!({
        "line": problem.location.map(|l| l.line),
        "column": problem.location.map(|l| l.column),
        "rule": problem.rule.as_ref().map(ToString::to_string),
        "claim": problem.claim,
        "field": problem.field,
        "message": problem.message,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
