//! What `claim-mapper audit` shows: the findings of a mapping against a user pool, for people or
//! (`--json`) for machines.

use serde_json::{Value, json};

use crate::audit::{Finding, Pool, Severity};

/// An audit's result: the pool, the mapping as loading describes it, and the findings.
#[derive(Debug)]
pub struct AuditReport {
    /// The pool audited against.
    pub pool: Pool,
    /// The mapping (`file mappings/prod.yaml (sha256:…)`).
    pub mapping: String,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
}

impl AuditReport {
    /// Whether a finding is high: the audit fails (exit 1) and `push` refuses.
    pub fn has_high(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::High)
    }

    /// The report for people: each finding with where, what, who and how to fix it; then counts.
    pub fn to_human(&self) -> String {
        let clients = self.pool.clients.len();
        let mut out = format!(
            "audit of mapping {} against user pool {} ({clients} app client{})\n",
            self.mapping,
            self.pool.id,
            if clients == 1 { "" } else { "s" }
        );
        for f in &self.findings {
            out.push_str(&format!(
                "\n{} [{}] {}, field `{}`{}\n  {}\n",
                f.severity.name().to_uppercase(),
                f.kind.name(),
                f.place,
                f.field,
                if f.source.is_empty() {
                    String::new()
                } else {
                    format!(": `{}`", f.source)
                },
                f.message
            ));
            if !f.clients.is_empty() {
                out.push_str(&format!("  app clients: {}\n", f.clients.join(", ")));
            }
            out.push_str(&format!("  fix: {}\n", f.fix));
        }
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        out.push_str(&format!(
            "\n{} findings: {} high, {} medium, {} low\n",
            self.findings.len(),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low)
        ));
        out
    }

    /// One JSON object: `{"pool", "mapping", "findings": [{"severity", "kind", "place", "field",
    /// "source", "clients", "message", "fix"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "pool": self.pool.id,
            "mapping": self.mapping,
            "findings": self.findings.iter().map(|f| json!({
                "severity": f.severity.name(),
                "kind": f.kind.name(),
                "place": f.place,
                "field": f.field,
                "source": f.source,
                "clients": f.clients,
                "message": f.message,
                "fix": f.fix,
            })).collect::<Vec<_>>(),
        })
    }
}
