//! `claim-mapper attach` and `detach`: setting or removing a pool's Pre Token Generation trigger
//! without losing any other setting of the pool.
//!
//! Each is planned from what the pool and the function's policy say before anything is written
//! ([`plan_attach`], [`plan_detach`]: pure, so `--dry-run` shows exactly what would be sent), then
//! carried out: the invoke permission first (so that no sign-in meets a trigger Cognito may not
//! call), the pool's update, and a second read of the pool to check that nothing else changed.

use serde_json::{Map, Value};

use super::permission::{self, Grant, Permission};
use super::pool::{Dropped, PoolDescription, UpdateRequest, with_trigger};
use super::trigger::{FunctionArn, LambdaVersion, Trigger};
use super::{ApiError, FunctionPolicies, UserPools};

/// What `attach` is asked to do.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// The function (alias) Cognito is to invoke.
    pub function: FunctionArn,
    /// The event version; `None` keeps the pool's current version (`V2_0` for a pool without the
    /// trigger).
    pub version: Option<LambdaVersion>,
    /// Replace another function's trigger, or lower the version.
    pub replace: bool,
    /// Add the invoke permission when it is missing.
    pub add_permission: bool,
    /// Read the function's policy (`lambda:GetPolicy`) to check the permission.
    pub check_permission: bool,
}

/// What `detach` is asked to do.
#[derive(Debug, Clone)]
pub struct DetachOptions {
    /// The function whose trigger is removed: the pool's trigger must name it.
    pub function: FunctionArn,
    /// Put back the trigger of this earlier description of the pool (none there: no trigger).
    pub restore: Option<PoolDescription>,
}

/// What a write would change, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The pool as read.
    pub pool: PoolDescription,
    /// The trigger before.
    pub before: Option<Trigger>,
    /// The trigger after.
    pub after: Option<Trigger>,
    /// The invoke permission of the trigger after (attach only).
    pub grant: Grant,
    /// The permission to add first, when asked to and missing.
    pub add: Option<Permission>,
    /// The request; `None` when the pool already has the trigger asked for.
    pub request: Option<UpdateRequest>,
}

/// Why nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// An AWS call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The description has members this release cannot send back.
    #[error(
        "user pool {pool}: DescribeUserPool returned {}, which this release of claim-mapper does \
         not know; UpdateUserPool resets every setting its request leaves out, so nothing was \
         changed. Update claim-mapper, or set the trigger in the Cognito console",
        .members.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
    )]
    UnknownMembers {
        /// The pool.
        pool: String,
        /// The members.
        members: Vec<String>,
    },
    /// The plan needs something the options do not give (`--replace`, `--add-permission`), or
    /// cannot be carried out; the message says what to do.
    #[error("{0}")]
    Plan(String),
}

/// What a write did beyond the plan: settings that differ on the second read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "user pool {pool}: the trigger was written, but these settings read back differently: {}. \
     Compare with the description read before (--save-previous) and set them again",
    .changed.join(", ")
)]
pub struct Drift {
    /// The pool.
    pub pool: String,
    /// Each setting that changed, by path.
    pub changed: Vec<String>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// Nothing was written (`--dry-run`).
    Planned,
    /// The pool already had the trigger asked for, and the permission was there.
    Unchanged,
    /// The plan was carried out and read back as planned.
    Written,
}

/// Plans setting `options.function` as `pool`'s trigger, the function's policy being `policy`
/// (`None` when it has none; not consulted when `options.check_permission` is off).
pub fn plan_attach(
    pool: PoolDescription,
    options: &AttachOptions,
    policy: Option<&Value>,
) -> Result<Plan, Refusal> {
    refuse_unknown(&pool)?;
    let id = pool.id().to_owned();
    let before = pool.trigger();
    let version = options
        .version
        .or(before.as_ref().map(|t| t.version))
        .unwrap_or(LambdaVersion::V2_0);
    if version > LambdaVersion::V1_0 && pool.tier() == Some("LITE") {
        return Err(Refusal::Plan(format!(
            "user pool {id} is on the Lite feature plan, where the trigger cannot customise \
             access tokens (event versions V2_0 and V3_0 need Essentials or Plus): change the \
             pool's plan, or attach with --trigger-version V1_0 (ID-token claims only)"
        )));
    }
    if let Some(before) = &before {
        if before.arn != options.function.arn && !options.replace {
            return Err(Refusal::Plan(format!(
                "user pool {id} already invokes {before} as its Pre Token Generation trigger: \
                 run again with --replace to replace it (save the pool's description first with \
                 --save-previous FILE; `claim-mapper detach --restore FILE` puts it back)"
            )));
        }
        if version < before.version && !options.replace {
            return Err(Refusal::Plan(format!(
                "user pool {id}: the trigger's event version is {}; {version} would stop \
                 customising {}. Run again with --replace to lower it",
                before.version,
                lowered(before.version)
            )));
        }
    }
    let after = Trigger {
        arn: options.function.arn.clone(),
        version,
    };
    let (grant, add) = match (options.check_permission, pool.arn(), pool.account()) {
        (false, ..) => (Grant::NotChecked, None),
        (true, Some(pool_arn), Some(account)) => {
            let grant = permission::grant(policy, &options.function, pool_arn);
            let add = (grant == Grant::Missing && options.add_permission)
                .then(|| Permission::for_pool(&id, pool_arn, account));
            if grant == Grant::Missing && add.is_none() {
                return Err(Refusal::Plan(format!(
                    "the resource policy of {} does not let cognito-idp.amazonaws.com invoke it \
                     for user pool {id}: every sign-in would fail. Run again with \
                     --add-permission (it needs lambda:AddPermission), or add it yourself: \
                     aws lambda add-permission --function-name {} --qualifier {} \
                     --statement-id cognito-claim-mapper-{id} --action lambda:InvokeFunction \
                     --principal cognito-idp.amazonaws.com --source-arn {pool_arn} \
                     --source-account {account}",
                    options.function, options.function.unqualified, options.function.qualifier
                )));
            }
            (grant, add)
        }
        (true, ..) => {
            return Err(Refusal::Plan(format!(
                "user pool {id}: DescribeUserPool returned no Arn, so the invoke permission \
                 cannot be checked; run again with --no-permission-check"
            )));
        }
    };
    let request = (before.as_ref() != Some(&after))
        .then(|| pool.update_request(with_trigger(&pool.lambda_config(), Some(&after))));
    Ok(Plan {
        pool,
        before,
        after: Some(after),
        grant,
        add,
        request,
    })
}

/// What a version below `version` no longer customises.
fn lowered(version: LambdaVersion) -> &'static str {
    match version {
        LambdaVersion::V3_0 => "machine-to-machine access tokens",
        _ => "access tokens",
    }
}

/// Plans removing `options.function` from `pool`'s trigger, or putting back the trigger of
/// `options.restore`.
pub fn plan_detach(pool: PoolDescription, options: &DetachOptions) -> Result<Plan, Refusal> {
    refuse_unknown(&pool)?;
    let id = pool.id().to_owned();
    let before = pool.trigger();
    match &before {
        Some(t) if t.arn == options.function.arn => {}
        Some(t) => {
            return Err(Refusal::Plan(format!(
                "user pool {id} invokes {t}, not {}: nothing of ours to detach",
                options.function
            )));
        }
        // Nothing attached: nothing to do, so that a teardown can run twice.
        None if options.restore.is_none() => {
            return Ok(Plan {
                pool,
                before: None,
                after: None,
                grant: Grant::NotChecked,
                add: None,
                request: None,
            });
        }
        None => {}
    }
    let after = match &options.restore {
        Some(earlier) if earlier.id() != id => {
            return Err(Refusal::Plan(format!(
                "the description to restore is of user pool {}, not {id}",
                earlier.id()
            )));
        }
        Some(earlier) => earlier.trigger().filter(|t| t.arn != options.function.arn),
        None => None,
    };
    let request = Some(pool.update_request(with_trigger(&pool.lambda_config(), after.as_ref())));
    Ok(Plan {
        pool,
        before,
        after,
        grant: Grant::NotChecked,
        add: None,
        request,
    })
}

fn refuse_unknown(pool: &PoolDescription) -> Result<(), Refusal> {
    let members = pool.unknown_members();
    if members.is_empty() {
        Ok(())
    } else {
        Err(Refusal::UnknownMembers {
            pool: pool.id().to_owned(),
            members,
        })
    }
}

/// Sets `options.function` as pool `id`'s trigger: plans, and unless `dry_run` carries the plan
/// out: the invoke permission first, so that no sign-in meets a trigger Cognito may not call.
/// `before_write` sees the plan before anything is written (to save the description).
pub async fn attach(
    pools: &impl UserPools,
    functions: &impl FunctionPolicies,
    id: &str,
    options: &AttachOptions,
    dry_run: bool,
    before_write: impl FnOnce(&Plan) -> Result<(), Refusal>,
) -> Result<(Plan, Result<Done, Drift>), Refusal> {
    let pool = describe(pools, id).await?;
    let policy = match options.check_permission {
        true => functions.policy(&options.function).await?,
        false => None,
    };
    let plan = plan_attach(pool, options, policy.as_ref())?;
    if dry_run {
        return Ok((plan, Ok(Done::Planned)));
    }
    if plan.request.is_none() && plan.add.is_none() {
        return Ok((plan, Ok(Done::Unchanged)));
    }
    before_write(&plan)?;
    if let Some(permission) = &plan.add {
        functions
            .add_permission(&options.function, permission)
            .await?;
    }
    let done = write_and_check(pools, &plan).await?;
    Ok((plan, done))
}

/// Removes pool `id`'s trigger (or restores an earlier one): plans, and unless `dry_run`
/// carries the plan out.
pub async fn detach(
    pools: &impl UserPools,
    id: &str,
    options: &DetachOptions,
    dry_run: bool,
    before_write: impl FnOnce(&Plan) -> Result<(), Refusal>,
) -> Result<(Plan, Result<Done, Drift>), Refusal> {
    let plan = plan_detach(describe(pools, id).await?, options)?;
    if dry_run {
        return Ok((plan, Ok(Done::Planned)));
    }
    if plan.request.is_none() {
        return Ok((plan, Ok(Done::Unchanged)));
    }
    before_write(&plan)?;
    let done = write_and_check(pools, &plan).await?;
    Ok((plan, done))
}

async fn describe(pools: &impl UserPools, id: &str) -> Result<PoolDescription, Refusal> {
    PoolDescription::from_json(pools.describe(id).await?)
        .map_err(|e| Refusal::Plan(format!("user pool {id}: {e}")))
}

/// Sends the plan's request, reads the pool again, and names every setting that differs beyond
/// the plan.
async fn write_and_check(
    pools: &impl UserPools,
    plan: &Plan,
) -> Result<Result<Done, Drift>, Refusal> {
    let Some(request) = &plan.request else {
        return Ok(Ok(Done::Written));
    };
    let id = plan.pool.id();
    pools.update(&request.body).await?;
    let after = describe(pools, id).await?;
    let mut changed = plan.pool.unexpected_changes(&after, request);
    if after.trigger() != plan.after {
        changed.insert(0, "LambdaConfig.PreTokenGenerationConfig".into());
    }
    Ok(if changed.is_empty() {
        Ok(Done::Written)
    } else {
        Err(Drift {
            pool: id.to_owned(),
            changed,
        })
    })
}

impl Plan {
    /// The plan for people.
    pub fn to_human(&self) -> String {
        let p = &self.pool;
        let mut out = format!(
            "user pool {}{} (feature plan {})\n",
            p.id(),
            p.name().map(|n| format!(" `{n}`")).unwrap_or_default(),
            p.tier().unwrap_or("not stated")
        );
        let show = |t: &Option<Trigger>| t.as_ref().map_or("none".to_owned(), Trigger::to_string);
        out.push_str(&format!(
            "  Pre Token Generation trigger: {} -> {}{}\n",
            show(&self.before),
            show(&self.after),
            if self.request.is_none() {
                " (unchanged)"
            } else {
                ""
            }
        ));
        match &self.grant {
            Grant::Granted { sid, for_this_pool_only } => out.push_str(&format!(
                "  invoke permission: present (statement `{sid}`{})\n",
                if *for_this_pool_only { "" } else { ", for any pool: not limited by AWS:SourceArn" }
            )),
            Grant::Missing if self.add.is_some() => out.push_str(
                "  invoke permission: missing; added first (lambda:AddPermission, this pool only)\n",
            ),
            Grant::Missing => out.push_str("  invoke permission: missing\n"),
            Grant::NotChecked if self.after.is_some() => {
                out.push_str("  invoke permission: not checked (--no-permission-check)\n")
            }
            Grant::NotChecked => {}
        }
        if let Some(request) = &self.request {
            out.push_str(&format!(
                "  sent back as read: {}\n",
                request.sent_back.join(", ")
            ));
            for Dropped { path, reason } in &request.dropped {
                out.push_str(&format!("  not sent: {path}: {reason}\n"));
            }
            out.push_str(&format!(
                "  not taken by UpdateUserPool, unchanged: {}\n",
                request.not_settable.join(", ")
            ));
        }
        out
    }

    /// The plan as JSON: `pool`, `before`, `after`, `permission`, `request` (the body sent).
    pub fn to_json(&self) -> Value {
        let trigger = |t: &Option<Trigger>| {
            t.as_ref().map_or(
                Value::Null,
                |t| serde_json::json!({"LambdaArn": t.arn, "LambdaVersion": t.version.name()}),
            )
        };
        let permission = match (&self.grant, &self.add) {
            (Grant::Granted { .. }, _) => "present",
            (Grant::Missing, Some(_)) => "add",
            (Grant::Missing, None) => "missing",
            (Grant::NotChecked, _) => "not checked",
        };
        serde_json::json!({
            "pool": self.pool.id(),
            "before": trigger(&self.before),
            "after": trigger(&self.after),
            "permission": permission,
            "request": self.request.as_ref().map(|r| Value::Object(r.body.clone())),
            "dropped": self.request.iter().flat_map(|r| &r.dropped).map(|d| d.path).collect::<Vec<_>>(),
        })
    }

    /// The trigger part of the pool's `LambdaConfig` before the write, as JSON (what `detach
    /// --restore` puts back).
    pub fn previous_trigger(&self) -> Map<String, Value> {
        let config = self.pool.lambda_config();
        config
            .into_iter()
            .filter(|(k, _)| k == "PreTokenGeneration" || k == "PreTokenGenerationConfig")
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POOL_ARN: &str = "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Abc";
    const OURS: &str = "arn:aws:lambda:us-east-1:111122223333:function:cm:live";

    fn pool(lambda: Value, tier: &str) -> PoolDescription {
        PoolDescription::from_json(json!({"UserPool": {
            "Id": "us-east-1_Abc", "Arn": POOL_ARN, "Name": "prod",
            "UserPoolTier": tier, "LambdaConfig": lambda
        }}))
        .unwrap()
    }

    fn options() -> AttachOptions {
        AttachOptions {
            function: FunctionArn::parse(OURS).unwrap(),
            version: None,
            replace: false,
            add_permission: false,
            check_permission: true,
        }
    }

    fn granted() -> Value {
        json!({"Statement": [{"Sid": "s", "Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": OURS,
            "Condition": {"ArnLike": {"AWS:SourceArn": POOL_ARN}}}]})
    }

    fn refusal(r: Result<Plan, Refusal>) -> String {
        match r {
            Err(e) => e.to_string(),
            Ok(p) => panic!("planned: {}", p.to_human()),
        }
    }

    #[test]
    fn a_pool_without_the_trigger_gets_v2_and_keeps_its_other_triggers() {
        let p = pool(
            json!({"PostConfirmation": "arn:aws:lambda:us-east-1:111122223333:function:c"}),
            "ESSENTIALS",
        );
        let plan = plan_attach(p, &options(), Some(&granted())).unwrap();
        assert_eq!(plan.after.as_ref().unwrap().version, LambdaVersion::V2_0);
        let body = &plan.request.as_ref().unwrap().body;
        assert_eq!(
            body["LambdaConfig"]["PostConfirmation"],
            "arn:aws:lambda:us-east-1:111122223333:function:c"
        );
        assert_eq!(
            body["LambdaConfig"]["PreTokenGenerationConfig"]["LambdaArn"],
            OURS
        );
    }

    #[test]
    fn replacing_another_trigger_or_lowering_the_version_needs_replace() {
        let other = json!({"PreTokenGenerationConfig": {"LambdaArn": "arn:aws:lambda:us-east-1:111122223333:function:old", "LambdaVersion": "V2_0"}});
        assert!(
            refusal(plan_attach(
                pool(other.clone(), "ESSENTIALS"),
                &options(),
                Some(&granted())
            ))
            .contains("--replace")
        );
        let replace = AttachOptions {
            replace: true,
            ..options()
        };
        let plan = plan_attach(pool(other, "ESSENTIALS"), &replace, Some(&granted())).unwrap();
        assert!(plan.before.unwrap().arn.ends_with(":old"));

        let v3 = json!({"PreTokenGenerationConfig": {"LambdaArn": OURS, "LambdaVersion": "V3_0"}});
        // The default keeps V3_0: already attached, nothing to send.
        let plan = plan_attach(pool(v3.clone(), "PLUS"), &options(), Some(&granted())).unwrap();
        assert_eq!(plan.after.as_ref().unwrap().version, LambdaVersion::V3_0);
        assert!(plan.request.is_none());
        let lower = AttachOptions {
            version: Some(LambdaVersion::V2_0),
            ..options()
        };
        assert!(
            refusal(plan_attach(pool(v3, "PLUS"), &lower, Some(&granted())))
                .contains("machine-to-machine")
        );
    }

    #[test]
    fn a_missing_permission_is_refused_or_added() {
        let p = || pool(json!({}), "ESSENTIALS");
        let message = refusal(plan_attach(p(), &options(), None));
        assert!(
            message.contains("--add-permission") && message.contains(POOL_ARN),
            "{message}"
        );
        let add = AttachOptions {
            add_permission: true,
            ..options()
        };
        let plan = plan_attach(p(), &add, None).unwrap();
        assert_eq!(plan.add.as_ref().unwrap().source_arn, POOL_ARN);
        assert_eq!(plan.add.as_ref().unwrap().source_account, "111122223333");
        let unchecked = AttachOptions {
            check_permission: false,
            ..options()
        };
        assert_eq!(
            plan_attach(p(), &unchecked, None).unwrap().grant,
            Grant::NotChecked
        );
    }

    #[test]
    fn lite_pools_take_version_1_only() {
        assert!(
            refusal(plan_attach(
                pool(json!({}), "LITE"),
                &options(),
                Some(&granted())
            ))
            .contains("Lite")
        );
        let v1 = AttachOptions {
            version: Some(LambdaVersion::V1_0),
            ..options()
        };
        assert!(plan_attach(pool(json!({}), "LITE"), &v1, Some(&granted())).is_ok());
    }

    #[test]
    fn detach_removes_ours_or_restores_the_earlier_trigger() {
        let ours = json!({"PreTokenGeneration": OURS, "PreTokenGenerationConfig": {"LambdaArn": OURS, "LambdaVersion": "V2_0"}, "PostConfirmation": "arn:c"});
        let options = DetachOptions {
            function: FunctionArn::parse(OURS).unwrap(),
            restore: None,
        };
        let plan = plan_detach(pool(ours.clone(), "ESSENTIALS"), &options).unwrap();
        let config = &plan.request.as_ref().unwrap().body["LambdaConfig"];
        assert_eq!(config, &json!({"PostConfirmation": "arn:c"}));
        let earlier = pool(
            json!({"PreTokenGeneration": "arn:aws:lambda:us-east-1:111122223333:function:old"}),
            "ESSENTIALS",
        );
        let restore = DetachOptions {
            restore: Some(earlier),
            ..options.clone()
        };
        let plan = plan_detach(pool(ours, "ESSENTIALS"), &restore).unwrap();
        assert_eq!(plan.after.unwrap().version, LambdaVersion::V1_0);
        let theirs =
            json!({"PreTokenGeneration": "arn:aws:lambda:us-east-1:111122223333:function:old"});
        assert!(refusal(plan_detach(pool(theirs, "ESSENTIALS"), &options)).contains("not"));
    }
}
