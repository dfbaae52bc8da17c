//! In-memory implementations of the workflows' AWS traits, and the workflows run against them:
//! their logic checked without any endpoint (the SDK's requests are checked against AWS's models
//! by the integration tests).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use serde_json::{Map, Value};

use super::parameter::{Existing, Fetched, Kind, ParameterRef, ParameterStore, Put, Selector};
use super::permission::Permission;
use super::preview::{self, Group, User};
use super::trigger::FunctionArn;
use super::{ApiError, ApiErrorKind, FunctionPolicies, UserPools};
use crate::audit::TriggerVersion;

/// Runs a future of these fakes, which never wait, to its end.
pub(crate) fn run<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the in-memory fakes never wait"),
    }
}

fn not_found(action: &'static str) -> ApiError {
    ApiError {
        action,
        kind: ApiErrorKind::NotFound,
    }
}

/// One pool's directory for `preview`: the user `jdoe` in `admins` (precedence 1, a role) and
/// `readers`; every client allows `openid` and `email`; the trigger at `version`.
pub(crate) struct Directory {
    pub(crate) version: Option<TriggerVersion>,
}

impl preview::Directory for Directory {
    async fn user(&self, _pool: &str, username: &str) -> Result<User, ApiError> {
        match username {
            "jdoe" => Ok(User {
                username: "jdoe".into(),
                status: Some("CONFIRMED".into()),
                attributes: vec![("custom:tenant_id".into(), "tenant-42".into())],
            }),
            _ => Err(not_found("AdminGetUser")),
        }
    }

    async fn groups(&self, _pool: &str, _username: &str) -> Result<Vec<Group>, ApiError> {
        Ok(vec![
            Group {
                name: "readers".into(),
                precedence: None,
                role: None,
            },
            Group {
                name: "admins".into(),
                precedence: Some(1),
                role: Some("arn:aws:iam::111122223333:role/admins".into()),
            },
        ])
    }

    async fn client_scopes(&self, _pool: &str, _client: &str) -> Result<Vec<String>, ApiError> {
        Ok(vec!["openid".into(), "email".into()])
    }

    async fn trigger_version(&self, _pool: &str) -> Result<Option<TriggerVersion>, ApiError> {
        Ok(self.version)
    }
}

/// User pools: `update` stores what it is given (with `PoolName` as `Name`) and keeps what
/// `UpdateUserPool` cannot set, then applies `drift` to the stored pool.
#[derive(Default)]
pub(crate) struct Pools {
    pub(crate) pools: RefCell<HashMap<String, Map<String, Value>>>,
    pub(crate) updates: RefCell<Vec<Map<String, Value>>>,
    pub(crate) drift: Option<fn(&mut Map<String, Value>)>,
}

impl UserPools for Pools {
    async fn describe(&self, id: &str) -> Result<Value, ApiError> {
        let pools = self.pools.borrow();
        let pool = pools.get(id).ok_or(not_found("DescribeUserPool"))?;
        Ok(serde_json::json!({ "UserPool": pool }))
    }

    async fn update(&self, body: &Map<String, Value>) -> Result<(), ApiError> {
        self.updates.borrow_mut().push(body.clone());
        let id = body["UserPoolId"].as_str().unwrap_or_default();
        let mut pools = self.pools.borrow_mut();
        let pool = pools.get_mut(id).ok_or(not_found("UpdateUserPool"))?;
        let kept = ["Id", "Arn", "SchemaAttributes", "CreationDate"];
        pool.retain(|k, _| kept.contains(&k.as_str()));
        for (k, v) in body {
            match k.as_str() {
                "UserPoolId" => {}
                "PoolName" => {
                    pool.insert("Name".into(), v.clone());
                }
                _ => {
                    pool.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(drift) = self.drift {
            drift(pool);
        }
        Ok(())
    }
}

/// Function policies, by qualified ARN.
#[derive(Default)]
pub(crate) struct Functions {
    pub(crate) added: RefCell<Vec<(String, Permission)>>,
}

impl FunctionPolicies for Functions {
    async fn policy(&self, _: &FunctionArn) -> Result<Option<Value>, ApiError> {
        Ok(None)
    }

    async fn add_permission(
        &self,
        function: &FunctionArn,
        permission: &Permission,
    ) -> Result<(), ApiError> {
        self.added
            .borrow_mut()
            .push((function.arn.clone(), permission.clone()));
        Ok(())
    }
}

/// Parameters: versions of one name, labels, and errors to answer for some references.
#[derive(Default)]
pub(crate) struct Parameters {
    pub(crate) versions: RefCell<Vec<String>>,
    pub(crate) labels: RefCell<HashMap<String, i64>>,
    /// `GetParameter` of a reference whose text is here fails with that error.
    pub(crate) failing: HashMap<String, ApiErrorKind>,
}

impl ParameterStore for Parameters {
    async fn existing(&self, _: &str) -> Result<Option<Existing>, ApiError> {
        let versions = self.versions.borrow();
        Ok((!versions.is_empty()).then(|| Existing {
            kind: Kind::String,
            key_id: None,
            version: versions.len() as i64,
        }))
    }

    async fn fetch(&self, parameter: &ParameterRef) -> Result<Fetched, ApiError> {
        if let Some(kind) = self.failing.get(&parameter.query()) {
            return Err(ApiError {
                action: "GetParameter",
                kind: kind.clone(),
            });
        }
        let versions = self.versions.borrow();
        let version = match &parameter.selector {
            None => versions.len() as i64,
            Some(Selector::Version(v)) => *v,
            Some(Selector::Label(l)) => *self
                .labels
                .borrow()
                .get(l)
                .ok_or(not_found("GetParameter"))?,
        };
        let text = versions
            .get((version - 1) as usize)
            .ok_or(not_found("GetParameter"))?;
        Ok(Fetched {
            text: text.clone(),
            version,
        })
    }

    async fn put(&self, _: &Put, value: &str) -> Result<i64, ApiError> {
        let mut versions = self.versions.borrow_mut();
        versions.push(value.to_owned());
        Ok(versions.len() as i64)
    }

    async fn label(&self, _: &str, version: i64, label: &str) -> Result<(), ApiError> {
        self.labels.borrow_mut().insert(label.to_owned(), version);
        Ok(())
    }

    async fn fetch_labels(
        &self,
        name: &str,
        labels: &[String],
    ) -> Result<Vec<(String, Fetched)>, ApiError> {
        let mut found = Vec::new();
        for label in labels {
            let at = ParameterRef {
                name: name.to_owned(),
                selector: Some(Selector::Label(label.clone())),
            };
            if let Ok(fetched) = self.fetch(&at).await {
                found.push((label.clone(), fetched));
            }
        }
        Ok(found)
    }

    async fn unlabel(&self, _: &str, version: i64, label: &str) -> Result<(), ApiError> {
        let mut labels = self.labels.borrow_mut();
        if labels.get(label) == Some(&version) {
            labels.remove(label);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::TriggerVersion;
    use crate::cognito::CLIENT_CREDENTIALS;
    use crate::workflow::attach::{AttachOptions, Done, Drift, Refusal, attach};
    use crate::workflow::parameter::{Released, regions_differing, release};
    use crate::workflow::preview::{Preview, Request, preview};
    use serde_json::json;

    const POOL_ARN: &str = "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Abc";
    const OURS: &str = "arn:aws:lambda:us-east-1:111122223333:function:cm:live";

    #[test]
    fn a_setting_that_reads_back_differently_is_named_and_the_permission_comes_first() {
        let members = json!({
            "Id": "us-east-1_Abc", "Arn": POOL_ARN, "Name": "prod", "UserPoolTier": "ESSENTIALS",
            "MfaConfiguration": "OPTIONAL", "LambdaConfig": {}
        });
        // A pool holding `members`, in `pools`.
        let seeded = |pools: Pools| {
            pools
                .pools
                .borrow_mut()
                .insert("us-east-1_Abc".into(), members.as_object().unwrap().clone());
            pools
        };
        let pools = seeded(Pools {
            // A Cognito that resets a setting it was given back.
            drift: Some(|pool| {
                pool.insert("MfaConfiguration".into(), json!("OFF"));
            }),
            ..Pools::default()
        });
        let functions = Functions::default();
        let add = AttachOptions {
            function: FunctionArn::parse(OURS).unwrap(),
            version: None,
            replace: false,
            add_permission: true,
            check_permission: true,
        };
        let attach_to = |pools: &Pools, dry_run: bool| {
            run(attach(
                pools,
                &functions,
                "us-east-1_Abc",
                &add,
                dry_run,
                |_| Ok(()),
            ))
        };
        let (plan, done) = attach_to(&pools, false).unwrap();
        assert_eq!(
            done,
            Err(Drift {
                pool: "us-east-1_Abc".into(),
                changed: vec!["MfaConfiguration".into()]
            })
        );
        assert_eq!(functions.added.borrow().len(), 1);
        assert_eq!(functions.added.borrow()[0].1, plan.add.unwrap());
        assert_eq!(pools.updates.borrow().len(), 1);
        // Without the drift, the same attach reads back as planned; a dry run writes nothing.
        let calm = seeded(Pools::default());
        let dry = attach_to(&calm, true).unwrap();
        assert_eq!(dry.1, Ok(Done::Planned));
        assert!(calm.updates.borrow().is_empty());
        let written = attach_to(&calm, false).unwrap();
        assert_eq!(written.1, Ok(Done::Written));
        // A failed save of the description stops the write.
        let unsaved = seeded(Pools::default());
        let refused = run(attach(
            &unsaved,
            &functions,
            "us-east-1_Abc",
            &add,
            false,
            |_| Err(Refusal::Plan("disk full".into())),
        ));
        assert!(refused.is_err());
        assert!(unsaved.updates.borrow().is_empty());
    }

    // preview() against the fake directory: its reads and its refusals.
    fn request(username: Option<&str>, trigger: &str, version: Option<u8>) -> Request {
        Request {
            pool: "eu-west-1_Ab12".into(),
            username: username.map(Into::into),
            client: "client1".into(),
            trigger: trigger.into(),
            version,
            scopes: None,
        }
    }

    fn previewed(version: Option<TriggerVersion>, request: &Request) -> Result<Preview, String> {
        let directory = Directory { version };
        run(preview(&directory, request)).map_err(|e| e.to_string())
    }

    #[test]
    fn a_preview_reads_the_user_and_takes_the_pool_s_version() {
        let user = request(Some("jdoe"), "TokenGeneration_HostedAuth", None);
        let done = previewed(Some(TriggerVersion::V3), &user).unwrap();
        assert_eq!(done.event["version"], "3");
        assert_eq!(
            done.version_note,
            "event version 3, the pool's trigger version"
        );
        assert_eq!(done.event["request"]["scopes"], json!(["openid", "email"]));
        assert_eq!(
            done.event["request"]["groupConfiguration"]["groupsToOverride"],
            json!(["admins", "readers"])
        );
        let asked = previewed(
            Some(TriggerVersion::V3),
            &Request {
                version: Some(1),
                ..user.clone()
            },
        )
        .unwrap();
        assert_eq!(asked.event["version"], "1");
        let unset = previewed(None, &user).unwrap();
        assert_eq!(unset.event["version"], "2");
        assert!(
            unset
                .version_note
                .contains("no Pre Token Generation trigger yet")
        );
        let scoped = Request {
            scopes: Some(vec!["orders/read".into()]),
            ..user
        };
        assert_eq!(
            previewed(None, &scoped).unwrap().event["request"]["scopes"],
            json!(["orders/read"])
        );
    }

    #[test]
    fn a_preview_refuses_what_cognito_would_not_send() {
        let v3 = Some(TriggerVersion::V3);
        let refused = |request: Request, version| previewed(version, &request).unwrap_err();
        assert!(
            refused(request(Some("jdoe"), "TokenGeneration_Nope", None), v3)
                .starts_with("unknown trigger source `TokenGeneration_Nope`")
        );
        assert!(
            refused(request(Some("jdoe"), CLIENT_CREDENTIALS, None), v3).contains("have no user")
        );
        assert!(
            refused(request(None, "TokenGeneration_Authentication", None), v3)
                .contains("a username is needed")
        );
        assert!(
            refused(
                request(None, CLIENT_CREDENTIALS, None),
                Some(TriggerVersion::V2)
            )
            .contains("only to version 3 triggers")
        );
        assert!(
            refused(request(None, CLIENT_CREDENTIALS, Some(2)), v3)
                .contains("only to version 3 triggers")
        );
        assert!(
            refused(
                request(Some("jdoe"), "TokenGeneration_HostedAuth", Some(4)),
                v3
            )
            .contains("not 4")
        );
        assert!(
            refused(
                request(Some("nobody"), "TokenGeneration_HostedAuth", None),
                v3
            )
            .contains("AdminGetUser: not found")
        );
        let bad_client = Request {
            client: "not a client!".into(),
            ..request(Some("jdoe"), "TokenGeneration_HostedAuth", None)
        };
        assert!(refused(bad_client, v3).contains("not an app client id"));
        // A machine at version 3: no user, the client's scopes.
        let machine = previewed(v3, &request(None, CLIENT_CREDENTIALS, None)).unwrap();
        assert_eq!(machine.event["userName"], "client1");
        assert_eq!(machine.event["request"]["groupConfiguration"], Value::Null);
    }

    #[test]
    fn a_release_across_regions_needs_the_same_text_everywhere() {
        let store = |texts: &[&str]| {
            let store = Parameters::default();
            store
                .versions
                .borrow_mut()
                .extend(texts.iter().map(|t| t.to_string()));
            store
        };
        let stores = [
            ("us-east-1".to_owned(), store(&["a", "b"])),
            ("eu-west-1".to_owned(), store(&["a", "c"])),
            ("ap-south-1".to_owned(), store(&["x", "b"])),
        ];
        assert_eq!(
            run(regions_differing(&stores, "/m", 2)).unwrap(),
            ["eu-west-1"]
        );
        assert_eq!(
            run(regions_differing(&stores, "/m", 1)).unwrap(),
            ["ap-south-1"]
        );
        assert!(
            run(regions_differing(&stores[..1], "/m", 2))
                .unwrap()
                .is_empty()
        );
        // A Region without that version names itself.
        let (region, error) = run(regions_differing(&stores, "/m", 3)).unwrap_err();
        assert_eq!(region, "us-east-1");
        assert_eq!(error.kind, ApiErrorKind::NotFound);
        let short = [
            ("us-east-1".to_owned(), store(&["a", "b"])),
            ("eu-west-1".to_owned(), store(&["a"])),
        ];
        let (region, _) = run(regions_differing(&short, "/m", 2)).unwrap_err();
        assert_eq!(region, "eu-west-1");
    }

    #[test]
    fn release_moves_the_label_only_after_reading_where_it_was() {
        let store = Parameters::default();
        store
            .versions
            .borrow_mut()
            .extend(["a".to_owned(), "b".to_owned()]);
        let ok = |_: &Fetched| Ok::<(), ()>(());
        let first = run(release(&store, "/m", 2, "live", ok)).unwrap();
        assert_eq!(first, Ok(Released { was: None }));
        let back = run(release(&store, "/m", 1, "live", ok)).unwrap();
        assert_eq!(back, Ok(Released { was: Some(2) }));
        // An invalid version leaves the label where it is.
        let invalid = run(release(&store, "/m", 2, "live", |_| Err("invalid"))).unwrap();
        assert_eq!(invalid, Err("invalid"));
        assert_eq!(store.labels.borrow()["live"], 1);
        // The label cannot be read (not because it is unset): nothing moves.
        let denied = Parameters {
            failing: [(
                "/m:live".to_owned(),
                ApiErrorKind::Denied("AccessDeniedException".into()),
            )]
            .into(),
            ..Parameters::default()
        };
        denied.versions.borrow_mut().push("a".to_owned());
        let error = run(release(&denied, "/m", 1, "live", ok)).unwrap_err();
        assert_eq!(
            error.kind,
            ApiErrorKind::Denied("AccessDeniedException".into())
        );
        assert!(denied.labels.borrow().is_empty());
    }

    #[test]
    fn a_candidate_replaces_the_last_and_ends_by_promotion_or_abort() {
        use crate::workflow::candidate::{Promoted, Role, Started, abort, promote, start};
        let store = Parameters::default();
        for text in ["v1", "v2", "v3", "bad"] {
            store.versions.borrow_mut().push(text.to_owned());
        }
        store.labels.borrow_mut().insert("live".into(), 1);
        let valid = |f: &Fetched| {
            if f.text == "bad" {
                Err("invalid")
            } else {
                Ok(())
            }
        };
        let labels = || {
            let mut l: Vec<_> = store
                .labels
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            l.sort();
            l
        };
        let canary = |share| Role::Canary { share };
        assert_eq!(
            run(start(&store, "/m", 4, canary(10), valid)).unwrap(),
            Err("invalid"),
            "an invalid version is never a candidate"
        );
        assert_eq!(labels(), [("live".to_owned(), 1)]);
        assert_eq!(
            run(start(&store, "/m", 2, canary(10), valid)).unwrap(),
            Ok(Started { replaced: vec![] })
        );
        // Raised to 25%: one canary label at a time.
        assert_eq!(
            run(start(&store, "/m", 2, canary(25), valid)).unwrap(),
            Ok(Started {
                replaced: vec![(canary(10), 2)]
            })
        );
        assert_eq!(
            labels(),
            [("canary-25".to_owned(), 2), ("live".to_owned(), 1)]
        );
        // Another version in shadow replaces the canary.
        run(start(&store, "/m", 3, Role::Shadow, valid))
            .unwrap()
            .unwrap();
        assert_eq!(
            labels(),
            [("candidate-shadow".to_owned(), 3), ("live".to_owned(), 1)]
        );
        assert_eq!(
            run(abort(&store, "/m")).unwrap(),
            [(Role::Shadow, 3)],
            "aborted"
        );
        assert_eq!(labels(), [("live".to_owned(), 1)]);
        assert_eq!(run(promote(&store, "/m", "live")).unwrap(), None);
        run(start(&store, "/m", 2, canary(5), valid))
            .unwrap()
            .unwrap();
        assert_eq!(
            run(promote(&store, "/m", "live")).unwrap(),
            Some(Promoted {
                role: canary(5),
                version: 2,
                was: Some(1)
            })
        );
        assert_eq!(labels(), [("live".to_owned(), 2)]);
    }
}
