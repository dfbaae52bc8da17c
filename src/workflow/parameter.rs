//! Mappings in SSM Parameter Store, as operators publish them: parameter references, labels, and
//! the `push` and `release` workflows.
//!
//! `push` keeps what it does not own: an existing parameter keeps its type and its KMS key
//! (`PutParameter` with no `KeyId` would re-encrypt a SecureString with the account's default key:
//! "If you don't specify a key ID, the system uses the default key associated with your Amazon Web
//! Services account", AWS Systems Manager API Reference,
//! [PutParameter](https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html)),
//! and a parameter is created only when asked, so that a mistyped name fails instead of creating a
//! parameter no function reads.

use std::fmt;
use std::future::Future;

use super::{ApiError, ApiErrorKind};

/// Largest value SSM stores (an advanced-tier parameter).
pub const MAX_PARAMETER_BYTES: usize = 8 * 1024;

/// Why SSM would refuse `label`, if it would: at most 100 letters, digits, `.`, `-` or `_`, not
/// starting with a digit, `aws` or `ssm` in any case (the `LabelParameterVersion` action in the
/// AWS Systems Manager API reference).
pub fn label_restriction(label: &str) -> Option<&'static str> {
    let lower = label.to_ascii_lowercase();
    if label.is_empty() || label.len() > 100 {
        Some("a label is 1 to 100 characters")
    } else if !label
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        Some("a label holds only letters, digits, `.`, `-` and `_`")
    } else if label.starts_with(|c: char| c.is_ascii_digit())
        || lower.starts_with("aws")
        || lower.starts_with("ssm")
    {
        Some("a label cannot start with a digit, `aws` or `ssm`")
    } else {
        None
    }
}

/// A parameter name or ARN, optionally pinned to a version or label (`name:3`, `name:prod`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterRef {
    /// The name or ARN without the selector.
    pub name: String,
    /// The pin, if any.
    pub selector: Option<Selector>,
}

/// What a parameter reference is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A parameter version.
    Version(i64),
    /// A parameter label.
    Label(String),
}

impl ParameterRef {
    /// Parses `NAME`, `NAME:VERSION`, `NAME:LABEL`, or the same with an ARN.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        // In an ARN the name starts after `:parameter`; SSM names themselves contain no `:`.
        let name_start = match text.strip_prefix("arn:") {
            Some(_) => text
                .find(":parameter/")
                .map(|i| i + ":parameter".len())
                .ok_or_else(|| format!("`{text}` is not an SSM parameter ARN"))?,
            None => 0,
        };
        let (name, selector) = match text[name_start..].rfind(':') {
            Some(i) => {
                let (name, sel) = text.split_at(name_start + i);
                let sel = &sel[1..];
                if sel.is_empty() {
                    return Err(format!(
                        "`{text}` ends with `:` but names no version or label"
                    ));
                }
                let selector = match sel.parse::<i64>() {
                    Ok(v) if v > 0 => Selector::Version(v),
                    Ok(_) => return Err(format!("`{text}`: parameter versions start at 1")),
                    Err(_) => Selector::Label(sel.to_owned()),
                };
                (name, Some(selector))
            }
            None => (text, None),
        };
        if name.len() <= name_start {
            return Err("an SSM parameter name cannot be empty".into());
        }
        Ok(ParameterRef {
            name: name.to_owned(),
            selector,
        })
    }

    /// The reference to `selector` of the same parameter.
    pub fn at(&self, selector: Selector) -> ParameterRef {
        ParameterRef {
            name: self.name.clone(),
            selector: Some(selector),
        }
    }

    /// The `Name` argument of `GetParameter`: the name with its selector.
    pub fn query(&self) -> String {
        match &self.selector {
            None => self.name.clone(),
            Some(Selector::Version(v)) => format!("{}:{v}", self.name),
            Some(Selector::Label(l)) => format!("{}:{l}", self.name),
        }
    }

    /// Whether the reference names one fixed version, which a refresh can never change.
    pub fn is_pinned_to_version(&self) -> bool {
        matches!(self.selector, Some(Selector::Version(_)))
    }
}

impl fmt::Display for ParameterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.query())
    }
}

/// A parameter's type (`ParameterType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `String`.
    String,
    /// `SecureString`: encrypted with a KMS key.
    SecureString,
    /// `StringList`: not a mapping's type; `push` refuses to write over one.
    StringList,
}

impl Kind {
    /// The name the API uses.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "String",
            Kind::SecureString => "SecureString",
            Kind::StringList => "StringList",
        }
    }
}

/// What `DescribeParameters` says of an existing parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// Its type.
    pub kind: Kind,
    /// The KMS key of a SecureString.
    pub key_id: Option<String>,
    /// Its latest version.
    pub version: i64,
}

/// A parameter's value and version, as read.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The mapping text.
    pub text: String,
    /// The parameter version it came from.
    pub version: i64,
}

/// A `PutParameter` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    /// `Name`.
    pub name: String,
    /// `Type`: the existing parameter's, or the one to create.
    pub kind: Kind,
    /// `KeyId` (SecureString only): the existing key unless another is asked for.
    pub key_id: Option<String>,
    /// `Overwrite`: true to add a version to an existing parameter, false to create one.
    pub overwrite: bool,
}

/// The Parameter Store API, as the workflows use it.
pub trait ParameterStore {
    /// `DescribeParameters` filtered to `name`: `None` when there is no such parameter.
    fn existing(&self, name: &str) -> impl Future<Output = Result<Option<Existing>, ApiError>>;
    /// `GetParameter`, decrypted.
    fn fetch(&self, parameter: &ParameterRef) -> impl Future<Output = Result<Fetched, ApiError>>;
    /// `PutParameter` of `value`; the new version.
    fn put(&self, put: &Put, value: &str) -> impl Future<Output = Result<i64, ApiError>>;
    /// `LabelParameterVersion`.
    fn label(
        &self,
        name: &str,
        version: i64,
        label: &str,
    ) -> impl Future<Output = Result<(), ApiError>>;
    /// `GetParameters` of `name` at each of `labels` (at most 10), decrypted: the labels set,
    /// each with its version's text; a label on no version is left out.
    fn fetch_labels(
        &self,
        name: &str,
        labels: &[String],
    ) -> impl Future<Output = Result<Vec<(String, Fetched)>, ApiError>>;
    /// `UnlabelParameterVersion` of `label` from `version`.
    fn unlabel(
        &self,
        name: &str,
        version: i64,
        label: &str,
    ) -> impl Future<Output = Result<(), ApiError>>;
}

/// How `push` may write the parameter.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Create the parameter if it does not exist.
    pub create: bool,
    /// Created as a SecureString (an existing one must already be one).
    pub secure: bool,
    /// The KMS key of a SecureString (created, or re-encrypted with it).
    pub kms_key_id: Option<String>,
}

/// The `PutParameter` request for `name`, given what exists, or why it would be wrong.
pub fn plan_put(
    name: &str,
    existing: Option<&Existing>,
    options: &PushOptions,
) -> Result<Put, String> {
    match existing {
        None if !options.create => Err(format!(
            "there is no parameter {name}: check the name, or give --create to create it"
        )),
        None => {
            if options.kms_key_id.is_some() && !options.secure {
                return Err("--kms-key-id encrypts a SecureString: add --secure".into());
            }
            Ok(Put {
                name: name.to_owned(),
                kind: if options.secure {
                    Kind::SecureString
                } else {
                    Kind::String
                },
                key_id: options.kms_key_id.clone(),
                overwrite: false,
            })
        }
        Some(e) if e.kind == Kind::StringList => Err(format!(
            "{name} is a StringList parameter, not a mapping: give another parameter"
        )),
        Some(e) if e.kind == Kind::String && (options.secure || options.kms_key_id.is_some()) => {
            Err(format!(
                "{name} is a String parameter, and SSM cannot make an existing String a \
                 SecureString: create a new SecureString parameter (push --create --secure \
                 [--kms-key-id KEY] to a new name) and point the function at it"
            ))
        }
        Some(e) => Ok(Put {
            name: name.to_owned(),
            kind: e.kind,
            key_id: match e.kind {
                Kind::SecureString => options.kms_key_id.clone().or_else(|| e.key_id.clone()),
                _ => None,
            },
            overwrite: true,
        }),
    }
}

/// What [`release`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// The version the label was on before; `None` when the label was new.
    pub was: Option<i64>,
}

/// Moves `label` of `parameter` to `version`. `valid` checks the text of that version first
/// (the label stays where it is when it returns an error). The version the label was on is read
/// first: a label that is not set yet is `None`, any other failure to read it ends the command
/// before the label moves.
pub async fn release<E>(
    store: &impl ParameterStore,
    name: &str,
    version: i64,
    label: &str,
    valid: impl FnOnce(&Fetched) -> Result<(), E>,
) -> Result<Result<Released, E>, ApiError> {
    let parameter = ParameterRef {
        name: name.to_owned(),
        selector: None,
    };
    let fetched = store
        .fetch(&parameter.at(Selector::Version(version)))
        .await?;
    if let Err(invalid) = valid(&fetched) {
        return Ok(Err(invalid));
    }
    move_label(store, name, version, label).await.map(Ok)
}

/// Moves `label` of `name` to `version`, saying where it was: [`release`] without the check of
/// the version's text, for a version checked before (a release's candidate).
pub async fn move_label(
    store: &impl ParameterStore,
    name: &str,
    version: i64,
    label: &str,
) -> Result<Released, ApiError> {
    let at = ParameterRef {
        name: name.to_owned(),
        selector: Some(Selector::Label(label.to_owned())),
    };
    let was = match store.fetch(&at).await {
        Ok(current) => Some(current.version),
        Err(ApiError {
            kind: ApiErrorKind::NotFound,
            ..
        }) => None,
        Err(e) => return Err(e),
    };
    store.label(name, version, label).await?;
    Ok(Released { was })
}

/// Before a release in several Regions (each one's store named by its Region): the Regions where
/// version `version` of `name` holds another text than in the first. Each Region's parameter
/// numbers its versions itself, so one number can name different mappings; a release across
/// Regions moves labels only when this is empty. An error names the Region it came from.
pub async fn regions_differing<S: ParameterStore>(
    stores: &[(String, S)],
    name: &str,
    version: i64,
) -> Result<Vec<String>, (String, ApiError)> {
    let at = ParameterRef {
        name: name.to_owned(),
        selector: Some(Selector::Version(version)),
    };
    let mut first: Option<String> = None;
    let mut differing = Vec::new();
    for (region, store) in stores {
        let text = store
            .fetch(&at)
            .await
            .map_err(|e| (region.clone(), e))?
            .text;
        match &first {
            None => first = Some(text),
            Some(first) if *first != text => differing.push(region.clone()),
            Some(_) => {}
        }
    }
    Ok(differing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_arns_and_selectors() {
        let p = |s| ParameterRef::parse(s).unwrap();
        assert_eq!(
            p("/app/prod/mapping"),
            ParameterRef {
                name: "/app/prod/mapping".into(),
                selector: None
            }
        );
        assert_eq!(p("/app/m:3").selector, Some(Selector::Version(3)));
        assert_eq!(
            p("/app/m:live").selector,
            Some(Selector::Label("live".into()))
        );
        let arn = p("arn:aws:ssm:eu-west-1:111122223333:parameter/app/m:live");
        assert_eq!(
            arn.name,
            "arn:aws:ssm:eu-west-1:111122223333:parameter/app/m"
        );
        assert_eq!(
            arn.query(),
            "arn:aws:ssm:eu-west-1:111122223333:parameter/app/m:live"
        );
        assert_eq!(
            p("arn:aws:ssm:eu-west-1:111122223333:parameter/app/m").selector,
            None
        );
        assert!(p("/app/m:7").is_pinned_to_version());
        assert!(!p("/app/m:prod").is_pinned_to_version());
        for bad in ["", ":3", "/app/m:", "/app/m:0", "arn:aws:s3:::bucket"] {
            assert!(ParameterRef::parse(bad).is_err(), "{bad}");
        }
    }

    fn existing(kind: Kind, key: Option<&str>) -> Existing {
        Existing {
            kind,
            key_id: key.map(str::to_owned),
            version: 3,
        }
    }

    #[test]
    fn push_keeps_the_type_and_key_of_what_exists() {
        let put = plan_put(
            "/m",
            Some(&existing(Kind::SecureString, Some("alias/team"))),
            &PushOptions::default(),
        )
        .unwrap();
        assert_eq!(
            (put.kind, put.key_id.as_deref(), put.overwrite),
            (Kind::SecureString, Some("alias/team"), true)
        );
        let rekey = PushOptions {
            kms_key_id: Some("alias/new".into()),
            ..PushOptions::default()
        };
        assert_eq!(
            plan_put(
                "/m",
                Some(&existing(Kind::SecureString, Some("alias/team"))),
                &rekey
            )
            .unwrap()
            .key_id
            .as_deref(),
            Some("alias/new")
        );
        let plain = plan_put(
            "/m",
            Some(&existing(Kind::String, None)),
            &PushOptions::default(),
        )
        .unwrap();
        assert_eq!((plain.kind, plain.key_id), (Kind::String, None));
        let secure = PushOptions {
            secure: true,
            ..PushOptions::default()
        };
        assert!(
            plan_put("/m", Some(&existing(Kind::String, None)), &secure)
                .unwrap_err()
                .contains("cannot make an existing String")
        );
        assert!(
            plan_put(
                "/m",
                Some(&existing(Kind::StringList, None)),
                &PushOptions::default()
            )
            .is_err()
        );
    }

    #[test]
    fn push_creates_only_when_asked() {
        assert!(
            plan_put("/typo", None, &PushOptions::default())
                .unwrap_err()
                .contains("--create")
        );
        let create = PushOptions {
            create: true,
            secure: true,
            kms_key_id: Some("k".into()),
        };
        let put = plan_put("/m", None, &create).unwrap();
        assert_eq!(
            (put.kind, put.key_id.as_deref(), put.overwrite),
            (Kind::SecureString, Some("k"), false)
        );
        let key_without_secure = PushOptions {
            create: true,
            secure: false,
            kms_key_id: Some("k".into()),
        };
        assert!(plan_put("/m", None, &key_without_secure).is_err());
    }
}
