//! A user pool as `DescribeUserPool` returns it, kept as the raw JSON Cognito sent: every member,
//! also those newer than any SDK, so that what is sent back to `UpdateUserPool` is what was read.
//!
//! `UpdateUserPool` resets every setting its request leaves out ("If you don't provide a value for
//! an attribute, Amazon Cognito sets it to its default value", Amazon Cognito API Reference,
//! [UpdateUserPool](https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UpdateUserPool.html)).
//! A request built from a typed SDK carries only the members that SDK knows, so a setting added to
//! Cognito after the SDK was generated is reset without a word. Here each top-level member of the
//! description is either sent back as read, known to be one `UpdateUserPool` cannot set (and so
//! cannot reset), or unknown: then nothing is written and the member is named.

use serde_json::{Map, Value};

use super::trigger::{LambdaVersion, Trigger};

/// The members of `UserPoolType` that `UpdateUserPool` takes, by the name `DescribeUserPool` gives
/// them, with the name the request gives them (the `UserPoolType` and `UpdateUserPool` request
/// members of the Amazon Cognito API Reference; only the pool's name is called differently).
const SENT_BACK: [(&str, &str); 24] = [
    ("Policies", "Policies"),
    ("DeletionProtection", "DeletionProtection"),
    ("LambdaConfig", "LambdaConfig"),
    ("AutoVerifiedAttributes", "AutoVerifiedAttributes"),
    ("SmsVerificationMessage", "SmsVerificationMessage"),
    ("EmailVerificationMessage", "EmailVerificationMessage"),
    ("EmailVerificationSubject", "EmailVerificationSubject"),
    ("VerificationMessageTemplate", "VerificationMessageTemplate"),
    ("SmsAuthenticationMessage", "SmsAuthenticationMessage"),
    ("UserAttributeUpdateSettings", "UserAttributeUpdateSettings"),
    ("MfaConfiguration", "MfaConfiguration"),
    ("DeviceConfiguration", "DeviceConfiguration"),
    ("EmailConfiguration", "EmailConfiguration"),
    ("SmsConfiguration", "SmsConfiguration"),
    ("UserPoolTags", "UserPoolTags"),
    ("AdminCreateUserConfig", "AdminCreateUserConfig"),
    ("UserPoolAddOns", "UserPoolAddOns"),
    ("DcrConfiguration", "DcrConfiguration"),
    ("AccountRecoverySetting", "AccountRecoverySetting"),
    ("Name", "PoolName"),
    ("UserPoolTier", "UserPoolTier"),
    ("KeyConfiguration", "KeyConfiguration"),
    ("IssuerConfiguration", "IssuerConfiguration"),
    ("AcrConfiguration", "AcrConfiguration"),
];

/// The members of `UserPoolType` that `UpdateUserPool` does not take: identity, status and
/// statistics, and settings only other actions change (the schema, sign-in attributes, domains).
/// Leaving them out of the request changes nothing.
const NOT_SETTABLE: [&str; 14] = [
    "Id",
    "Arn",
    "Status",
    "CreationDate",
    "LastModifiedDate",
    "EstimatedNumberOfUsers",
    "SchemaAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "UsernameConfiguration",
    "SmsConfigurationFailure",
    "EmailConfigurationFailure",
    "Domain",
    "CustomDomain",
];

/// Members of the description that change by themselves, or with any write: never a difference.
const VOLATILE: [&str; 3] = ["LastModifiedDate", "EstimatedNumberOfUsers", "Status"];

/// A user pool's description, as `DescribeUserPool` returned it (its `UserPool` object).
#[derive(Debug, Clone, PartialEq)]
pub struct PoolDescription {
    members: Map<String, Value>,
}

/// A setting left out of a request on purpose, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Its path, `AdminCreateUserConfig.UnusedAccountValidityDays`.
    pub path: &'static str,
    /// Why it is not sent.
    pub reason: &'static str,
}

/// The `UpdateUserPool` request that changes one pool's `LambdaConfig` and sends every other
/// setting back as it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRequest {
    /// The request body, as the API reference has it.
    pub body: Map<String, Value>,
    /// The members sent back as read (request names), in the order of the description.
    pub sent_back: Vec<String>,
    /// The members `UpdateUserPool` does not take, left as they are.
    pub not_settable: Vec<String>,
    /// Settings not sent, and why.
    pub dropped: Vec<Dropped>,
}

impl PoolDescription {
    /// The description in `response`: a `DescribeUserPool` response (`{"UserPool": {...}}`, as
    /// `aws cognito-idp describe-user-pool` prints it) or its `UserPool` object.
    pub fn from_json(response: Value) -> Result<Self, String> {
        let members = match response {
            Value::Object(mut object) => match object.remove("UserPool") {
                Some(Value::Object(pool)) => pool,
                Some(_) => return Err("`UserPool` is not an object".into()),
                None => object,
            },
            _ => return Err("a user pool description is a JSON object".into()),
        };
        if !members.contains_key("Id") {
            return Err("the description has no `Id`: it is not a user pool's".into());
        }
        Ok(PoolDescription { members })
    }

    /// The raw members.
    pub fn members(&self) -> &Map<String, Value> {
        &self.members
    }

    /// The description as `DescribeUserPool` returns it: `{"UserPool": {...}}`.
    pub fn to_response(&self) -> Value {
        serde_json::json!({ "UserPool": self.members })
    }

    fn text(&self, member: &str) -> Option<&str> {
        self.members.get(member).and_then(Value::as_str)
    }

    /// The pool id.
    pub fn id(&self) -> &str {
        self.text("Id").unwrap_or_default()
    }

    /// The pool's name.
    pub fn name(&self) -> Option<&str> {
        self.text("Name")
    }

    /// The pool's ARN (`arn:aws:cognito-idp:REGION:ACCOUNT:userpool/ID`).
    pub fn arn(&self) -> Option<&str> {
        self.text("Arn")
    }

    /// The account the pool belongs to, from its ARN.
    pub fn account(&self) -> Option<&str> {
        self.arn()?.split(':').nth(4).filter(|a| !a.is_empty())
    }

    /// The feature plan (`LITE`, `ESSENTIALS`, `PLUS`), when the description says.
    pub fn tier(&self) -> Option<&str> {
        self.text("UserPoolTier")
    }

    /// The pool's `LambdaConfig`, empty when it has none.
    pub fn lambda_config(&self) -> Map<String, Value> {
        match self.members.get("LambdaConfig") {
            Some(Value::Object(config)) => config.clone(),
            _ => Map::new(),
        }
    }

    /// The Pre Token Generation trigger: `PreTokenGenerationConfig`, or the legacy
    /// `PreTokenGeneration` key, which means version 1 (Amazon Cognito API Reference,
    /// `LambdaConfigType`).
    pub fn trigger(&self) -> Option<Trigger> {
        Trigger::of(&self.lambda_config())
    }

    /// The members of the description that this release cannot place: neither sent back nor
    /// known to be out of `UpdateUserPool`'s reach. Writing would risk resetting them.
    pub fn unknown_members(&self) -> Vec<String> {
        self.members
            .keys()
            .filter(|k| {
                !SENT_BACK.iter().any(|(read, _)| read == k) && !NOT_SETTABLE.contains(&k.as_str())
            })
            .cloned()
            .collect()
    }

    /// The `UpdateUserPool` request that sets `lambda_config` and sends every other setting back
    /// as read. Call only when [`PoolDescription::unknown_members`] is empty.
    pub fn update_request(&self, lambda_config: Map<String, Value>) -> UpdateRequest {
        let mut body = Map::new();
        body.insert("UserPoolId".into(), Value::String(self.id().to_owned()));
        let (mut sent_back, mut not_settable, mut dropped) = (Vec::new(), Vec::new(), Vec::new());
        for (member, value) in &self.members {
            let Some((_, sent_as)) = SENT_BACK.iter().find(|(read, _)| read == member) else {
                not_settable.push(member.clone());
                continue;
            };
            let mut value = value.clone();
            if *member == "LambdaConfig" {
                continue;
            }
            if *member == "AdminCreateUserConfig" && self.temporary_password_days_set() {
                // "When you set TemporaryPasswordValidityDays for a user pool, you can no longer
                // set a value for the legacy UnusedAccountValidityDays parameter" (API Reference,
                // PasswordPolicyType); DescribeUserPool returns both, and sending both is refused.
                if let Some(config) = value.as_object_mut()
                    && config.remove("UnusedAccountValidityDays").is_some()
                {
                    dropped.push(Dropped {
                        path: "AdminCreateUserConfig.UnusedAccountValidityDays",
                        reason: "the legacy setting, superseded by \
                                 Policies.PasswordPolicy.TemporaryPasswordValidityDays, which \
                                 the pool has: Cognito refuses a request that sets both",
                    });
                }
            }
            body.insert((*sent_as).to_owned(), value);
            sent_back.push((*sent_as).to_owned());
        }
        if !lambda_config.is_empty() {
            body.insert("LambdaConfig".into(), Value::Object(lambda_config));
        }
        sent_back.push("LambdaConfig".to_owned());
        UpdateRequest {
            body,
            sent_back,
            not_settable,
            dropped,
        }
    }

    fn temporary_password_days_set(&self) -> bool {
        self.members
            .get("Policies")
            .and_then(|p| p.get("PasswordPolicy"))
            .and_then(|p| p.get("TemporaryPasswordValidityDays"))
            .is_some_and(|d| !d.is_null())
    }

    /// Where `after` lost or changed a setting of this description, beyond what a write of
    /// `request` was meant to change (the Pre Token Generation trigger, the settings it dropped)
    /// and what changes by itself (`LastModifiedDate`): each by its path.
    pub fn unexpected_changes(
        &self,
        after: &PoolDescription,
        request: &UpdateRequest,
    ) -> Vec<String> {
        let mut changes = Vec::new();
        let mut before = self.members.clone();
        let mut after = after.members.clone();
        for members in [&mut before, &mut after] {
            for member in VOLATILE {
                members.remove(member);
            }
            if let Some(Value::Object(config)) = members.get_mut("LambdaConfig") {
                config.remove("PreTokenGeneration");
                config.remove("PreTokenGenerationConfig");
                if config.is_empty() {
                    members.remove("LambdaConfig");
                }
            }
            for dropped in &request.dropped {
                remove_path(members, dropped.path);
            }
        }
        differences(
            "",
            &Value::Object(before),
            &Value::Object(after),
            &mut changes,
        );
        changes
    }
}

/// Removes the member at a dotted `path` of `members`, if it is there.
fn remove_path(members: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            members.remove(path);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = members.get_mut(head) {
                remove_path(inner, rest);
            }
        }
    }
}

/// Appends to `out` the paths below `at` where `b` lost or changed what `a` held: members of
/// objects one by one, anything else as a whole. A member only `b` has is not a loss: Cognito
/// describes a setting it filled with its default.
fn differences(at: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, x) in a {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match b.get(key) {
                    Some(y) => differences(&path, x, y, out),
                    None => out.push(path),
                }
            }
        }
        (a, b) if a != b => out.push(at.to_owned()),
        _ => {}
    }
}

/// The `LambdaConfig` with the Pre Token Generation trigger set to `trigger` (both keys, naming
/// the same function, as `DescribeUserPool` returns them: "If you set both, the ARNs must match",
/// API Reference, `LambdaConfigType`), or removed with `None`.
pub fn with_trigger(config: &Map<String, Value>, trigger: Option<&Trigger>) -> Map<String, Value> {
    let mut config = config.clone();
    config.remove("PreTokenGeneration");
    config.remove("PreTokenGenerationConfig");
    if let Some(trigger) = trigger {
        config.insert(
            "PreTokenGeneration".into(),
            Value::String(trigger.arn.clone()),
        );
        config.insert(
            "PreTokenGenerationConfig".into(),
            serde_json::json!({
                "LambdaArn": trigger.arn,
                "LambdaVersion": trigger.version.name(),
            }),
        );
    }
    config
}

impl Trigger {
    /// The Pre Token Generation trigger a `LambdaConfig` sets, if any.
    pub fn of(config: &Map<String, Value>) -> Option<Trigger> {
        let versioned = config.get("PreTokenGenerationConfig").and_then(|c| {
            Some(Trigger {
                arn: c.get("LambdaArn")?.as_str()?.to_owned(),
                version: LambdaVersion::parse(c.get("LambdaVersion")?.as_str()?)?,
            })
        });
        versioned.or_else(|| {
            Some(Trigger {
                arn: config.get("PreTokenGeneration")?.as_str()?.to_owned(),
                version: LambdaVersion::V1_0,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pool(extra: Value) -> PoolDescription {
        let mut members = json!({
            "Id": "us-east-1_Abc",
            "Name": "prod",
            "Arn": "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Abc",
            "LastModifiedDate": 1.7e9,
            "SchemaAttributes": [{"Name": "email"}],
            "Policies": {"PasswordPolicy": {"MinimumLength": 12, "TemporaryPasswordValidityDays": 7}},
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": true, "UnusedAccountValidityDays": 7},
            "LambdaConfig": {
                "PostConfirmation": "arn:aws:lambda:us-east-1:111122223333:function:confirm",
                "InboundFederation": {"LambdaVersion": "V1_0", "LambdaArn": "arn:aws:lambda:us-east-1:111122223333:function:fed"}
            },
            "SmsConfiguration": {"EumsSms": {"PhoneNumberArn": "arn:x"}},
            "UserPoolTier": "ESSENTIALS"
        });
        for (k, v) in extra.as_object().unwrap() {
            members[k] = v.clone();
        }
        PoolDescription::from_json(json!({ "UserPool": members })).unwrap()
    }

    #[test]
    fn every_member_read_is_sent_back_but_the_legacy_validity_days() {
        let p = pool(json!({}));
        assert!(p.unknown_members().is_empty());
        let trigger = Trigger {
            arn: "arn:aws:lambda:us-east-1:111122223333:function:cm:live".into(),
            version: LambdaVersion::V2_0,
        };
        let request = p.update_request(with_trigger(&p.lambda_config(), Some(&trigger)));
        let body = Value::Object(request.body.clone());
        assert_eq!(body["UserPoolId"], "us-east-1_Abc");
        assert_eq!(body["PoolName"], "prod");
        assert_eq!(
            body["SmsConfiguration"],
            json!({"EumsSms": {"PhoneNumberArn": "arn:x"}})
        );
        assert_eq!(
            body["LambdaConfig"]["InboundFederation"]["LambdaArn"],
            "arn:aws:lambda:us-east-1:111122223333:function:fed"
        );
        assert_eq!(body["LambdaConfig"]["PreTokenGeneration"], trigger.arn);
        assert_eq!(
            body["LambdaConfig"]["PreTokenGenerationConfig"]["LambdaVersion"],
            "V2_0"
        );
        assert_eq!(
            body["AdminCreateUserConfig"],
            json!({"AllowAdminCreateUserOnly": true})
        );
        assert_eq!(request.dropped.len(), 1);
        for read_only in ["Id", "Arn", "LastModifiedDate", "SchemaAttributes", "Name"] {
            assert!(body.get(read_only).is_none(), "{read_only}");
        }
        assert!(
            request
                .not_settable
                .contains(&"SchemaAttributes".to_owned())
        );
    }

    #[test]
    fn the_legacy_validity_days_stay_when_the_pool_has_nothing_newer() {
        let p = pool(json!({"Policies": {"PasswordPolicy": {"MinimumLength": 8}}}));
        let request = p.update_request(p.lambda_config());
        assert_eq!(
            request.body["AdminCreateUserConfig"]["UnusedAccountValidityDays"],
            7
        );
        assert!(request.dropped.is_empty());
    }

    #[test]
    fn members_this_release_does_not_know_are_named() {
        let p = pool(json!({"PasskeyConfiguration": {"x": 1}, "Zeta": 1}));
        assert_eq!(p.unknown_members(), ["PasskeyConfiguration", "Zeta"]);
    }

    #[test]
    fn only_unexpected_changes_are_reported() {
        let before = pool(json!({}));
        let trigger = Trigger {
            arn: "arn:aws:lambda:us-east-1:111122223333:function:cm:live".into(),
            version: LambdaVersion::V3_0,
        };
        let request = before.update_request(with_trigger(&before.lambda_config(), Some(&trigger)));
        let mut after = before.members.clone();
        after["LastModifiedDate"] = json!(1.8e9);
        after["LambdaConfig"] = request.body["LambdaConfig"].clone();
        after["AdminCreateUserConfig"] = json!({"AllowAdminCreateUserOnly": true});
        let after = PoolDescription { members: after };
        assert_eq!(
            before.unexpected_changes(&after, &request),
            Vec::<String>::new()
        );
        let mut lost = after.members.clone();
        lost.remove("SmsConfiguration");
        lost["LambdaConfig"]
            .as_object_mut()
            .unwrap()
            .remove("InboundFederation");
        lost["Policies"]["PasswordPolicy"]["MinimumLength"] = json!(8);
        let lost = PoolDescription { members: lost };
        assert_eq!(
            before.unexpected_changes(&lost, &request),
            [
                "LambdaConfig.InboundFederation",
                "Policies.PasswordPolicy.MinimumLength",
                "SmsConfiguration"
            ]
        );
    }

    #[test]
    fn triggers_are_read_from_either_key() {
        let legacy = json!({"PreTokenGeneration": "arn:f"});
        assert_eq!(
            Trigger::of(legacy.as_object().unwrap()),
            Some(Trigger {
                arn: "arn:f".into(),
                version: LambdaVersion::V1_0
            })
        );
        let versioned = json!({"PreTokenGeneration": "arn:f", "PreTokenGenerationConfig": {"LambdaArn": "arn:f", "LambdaVersion": "V3_0"}});
        assert_eq!(
            Trigger::of(versioned.as_object().unwrap()).unwrap().version,
            LambdaVersion::V3_0
        );
        assert_eq!(Trigger::of(&Map::new()), None);
    }
}
