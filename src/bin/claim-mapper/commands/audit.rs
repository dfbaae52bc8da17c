//! `claim-mapper audit`: a mapping against the user pool it serves (read only); and the audit
//! before a push (`push --audit-user-pool-id`).

use claim_mapper::Mapping;
use claim_mapper::aws::cognito::Cognito;
use claim_mapper::report::audit::AuditReport;

use super::{MappingSource, Status, say};

/// Check a mapping against the user pool it serves: values users can write for themselves or
/// callers send that decide what a token grants, claims that show apps attributes they may
/// not read, and what the mapping names that the pool does not have. Reads the pool only.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper audit --user-pool-id us-east-1_Zx98Yw76V --mapping mappings/prod.yaml
  claim-mapper audit --user-pool-id us-east-1_Zx98Yw76V --ssm-parameter /myapp/prod/claim-mapping:live --json

Exit codes: 0 no high finding; 1 a high finding; 2 the audit could not run (no such pool, access
denied: the permission refused is named; unreadable or invalid mapping; no AWS region or
credentials).")]
pub struct Args {
    /// The user pool (`us-east-1_Zx98Yw76V`).
    #[arg(long, value_name = "POOL")]
    user_pool_id: String,
    #[command(flatten)]
    mapping: MappingSource,
    /// One JSON object: {"pool", "mapping", "findings": [{"severity", "kind", "place",
    /// "field", "source", "clients", "message", "fix"}]}.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let loaded = args.mapping.load().await?;
    let report = against(&loaded.mapping, loaded.describe(), &args.user_pool_id).await?;
    if args.json {
        say!("{}", report.to_json())?;
    } else {
        say!("{}", report.to_human().trim_end())?;
    }
    Ok(Status::of(!report.has_high()))
}

/// Reads `pool` and audits `mapping` (described as `described`) against it.
pub async fn against(
    mapping: &Mapping,
    described: String,
    pool: &str,
) -> anyhow::Result<AuditReport> {
    let cognito = Cognito::operator().await?;
    let pool = cognito
        .read_pool(pool)
        .await
        .map_err(|e| denied_or(e, pool))?;
    let findings = claim_mapper::audit::audit(mapping, &pool);
    Ok(AuditReport {
        pool,
        mapping: described,
        findings,
    })
}

/// An audit's AWS error, naming the pool (and, when access was denied, the permission).
fn denied_or(error: claim_mapper::workflow::ApiError, pool: &str) -> anyhow::Error {
    match error.kind {
        claim_mapper::workflow::ApiErrorKind::NotFound => {
            anyhow::anyhow!("user pool {pool} was not found in this account and region")
        }
        _ => anyhow::anyhow!("user pool {pool}: {error}"),
    }
}
