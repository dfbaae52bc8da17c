//! SSM Parameter Store through the AWS SDK: reading a mapping (String or SecureString, always
//! decrypted), and the calls `push` and `release` make.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType};

use super::config::{Budget, operator_client_config, sdk_config};
use super::error::api_error;
use crate::workflow::parameter::{
    Existing, Fetched, Kind, ParameterRef, ParameterStore, Put, Selector,
};
use crate::workflow::{ApiError, ApiErrorKind};

/// A parameter read at its live reference and at the labels of a release's candidates.
#[derive(Debug, Clone)]
pub struct WithLabels {
    /// The live reference's version.
    pub live: Fetched,
    /// Each label set, with the version it marks.
    pub labels: Vec<(String, Fetched)>,
    /// The role may not call `GetParameters`: the labels were not read.
    pub labels_denied: bool,
}

/// An SSM client set up once with the time limits and retries of a [`Budget`].
#[derive(Debug, Clone)]
pub struct Ssm {
    client: Client,
    budget: Budget,
}

impl Ssm {
    /// Builds the client with `budget`. Costs no network call.
    pub async fn new(budget: Budget) -> Self {
        Ssm {
            client: Client::new(&sdk_config(budget).await),
            budget,
        }
    }

    /// The client the CLI uses ([`Budget::OPERATOR`]), once a region and credentials are known to
    /// be configured: a missing one is said in one sentence, not as the SDK's chain of errors.
    pub async fn operator() -> Result<Self, ApiError> {
        Self::operator_in(None).await
    }

    /// [`Ssm::operator`] in `region` when given (`push` and `release` to several Regions), else
    /// in the configured one.
    pub async fn operator_in(region: Option<&str>) -> Result<Self, ApiError> {
        let config = operator_client_config(region).await?;
        Ok(Ssm {
            client: Client::new(&config),
            budget: Budget::OPERATOR,
        })
    }

    /// Reads a parameter once, without retrying: for refreshes, which wait far longer than any
    /// retry would before they try again, and which must not add to the load that throttled them.
    pub async fn fetch_once(&self, parameter: &ParameterRef) -> Result<Fetched, ApiError> {
        self.get(parameter, Some(self.once())).await
    }

    /// Reads `live` and the versions `labels` of the same parameter mark, in one `GetParameters`
    /// call while one version answers them all (no release in progress), in two while a label
    /// marks another version (the call's answers do not say which name each answers; the live
    /// reference is then read alone). `once`: without retrying, as [`Ssm::fetch_once`]. A role
    /// without `ssm:GetParameters` (a policy written before release candidates) reads `live`
    /// alone, with `GetParameter`, and says so in [`WithLabels::labels_denied`].
    pub async fn fetch_with_labels(
        &self,
        live: &ParameterRef,
        labels: &[String],
        once: bool,
    ) -> Result<WithLabels, ApiError> {
        let config = once.then(|| self.once());
        let read = match labels {
            [] => Ok((None, Vec::new())),
            _ => {
                let at = config.clone();
                self.read_labels(&live.name, Some(live), labels, at).await
            }
        };
        let (fetched, labels, labels_denied) = match read {
            Ok((fetched, labels)) => (fetched, labels, false),
            Err(ApiError {
                action: "GetParameters",
                kind: ApiErrorKind::Denied(_),
            }) => (None, Vec::new(), true),
            Err(e) => return Err(e),
        };
        // Without labels, or without the right to read them: the live reference alone.
        let live = match fetched {
            Some(fetched) => fetched,
            None => self.get(live, config).await?,
        };
        Ok(WithLabels {
            live,
            labels,
            labels_denied,
        })
    }

    /// A client configuration that does not retry, with the budget's timeouts (the override
    /// replaces the client's timeouts too: they are given again).
    fn once(&self) -> aws_sdk_ssm::config::Builder {
        aws_sdk_ssm::config::Builder::default()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(self.budget.timeouts())
    }

    /// `GetParameters` of `live` (when given) and of `name` at each of `labels`: the live
    /// version, and each label set with its version. A label on no version, like a missing
    /// name, comes back among the invalid names, not as an error; a live reference that is not
    /// set is read alone, for the error that says why.
    async fn read_labels(
        &self,
        name: &str,
        live: Option<&ParameterRef>,
        labels: &[String],
        config: Option<aws_sdk_ssm::config::Builder>,
    ) -> Result<(Option<Fetched>, Vec<(String, Fetched)>), ApiError> {
        let at = |label: &str| format!("{name}:{label}");
        let names = live
            .map(ParameterRef::query)
            .into_iter()
            .chain(labels.iter().map(|l| at(l)))
            .collect();
        let request = self
            .client
            .get_parameters()
            .set_names(Some(names))
            .with_decryption(true);
        let out = match config.clone() {
            Some(config) => request.customize().config_override(config).send().await,
            None => request.send().await,
        }
        .map_err(|e| api_error("GetParameters", e))?;
        let invalid = out.invalid_parameters();
        let is_set = |query: &str| !invalid.iter().any(|i| i == query);
        let set: Vec<&String> = labels.iter().filter(|l| is_set(&at(l))).collect();
        let answers: Vec<Fetched> = out
            .parameters()
            .iter()
            .filter_map(|p| {
                Some(Fetched {
                    text: p.value()?.to_owned(),
                    version: p.version(),
                })
            })
            .collect();
        let one_version = answers.windows(2).all(|w| w[0].version == w[1].version);
        let live = match live {
            None => None,
            Some(live) if one_version && is_set(&live.query()) => answers.first().cloned(),
            Some(live) => Some(self.get(live, config.clone()).await?),
        };
        if one_version {
            let first = answers.first();
            let found = set
                .iter()
                .filter_map(|l| Some(((*l).clone(), first?.clone())));
            return Ok((live, found.collect()));
        }
        let others: Vec<&Fetched> = answers
            .iter()
            .filter(|a| live.as_ref().is_some_and(|l| a.version != l.version))
            .collect();
        let found = match (set.as_slice(), others.as_slice()) {
            // The one label set marks the one version that is not the live one.
            ([label], [other]) => vec![((*label).clone(), (*other).clone())],
            _ => {
                let mut found = Vec::new();
                for label in set {
                    let at = ParameterRef {
                        name: name.to_owned(),
                        selector: Some(Selector::Label(label.clone())),
                    };
                    match self.get(&at, config.clone()).await {
                        Ok(fetched) => found.push((label.clone(), fetched)),
                        // Moved off between the two calls.
                        Err(ApiError {
                            kind: ApiErrorKind::NotFound,
                            ..
                        }) => {}
                        Err(e) => return Err(e),
                    }
                }
                found
            }
        };
        Ok((live, found))
    }

    async fn get(
        &self,
        parameter: &ParameterRef,
        config: Option<aws_sdk_ssm::config::Builder>,
    ) -> Result<Fetched, ApiError> {
        const ACTION: &str = "GetParameter";
        let request = self
            .client
            .get_parameter()
            .name(parameter.query())
            .with_decryption(true);
        let out = match config {
            Some(config) => request.customize().config_override(config).send().await,
            None => request.send().await,
        }
        .map_err(|e| api_error(ACTION, e))?;
        let empty = || ApiError {
            action: ACTION,
            kind: ApiErrorKind::Refused {
                code: "(empty)".into(),
                message: "the parameter has no value".into(),
            },
        };
        let p = out.parameter.ok_or_else(empty)?;
        Ok(Fetched {
            text: p.value.ok_or_else(empty)?,
            version: p.version,
        })
    }
}

impl ParameterStore for Ssm {
    async fn existing(&self, name: &str) -> Result<Option<Existing>, ApiError> {
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(name)
            .build()
            .map_err(|e| ApiError {
                action: "DescribeParameters",
                kind: ApiErrorKind::Refused {
                    code: "(request)".into(),
                    message: e.to_string(),
                },
            })?;
        let out = self
            .client
            .describe_parameters()
            .parameter_filters(filter)
            .send()
            .await
            .map_err(|e| api_error("DescribeParameters", e))?;
        Ok(out.parameters().first().map(|p| Existing {
            kind: match p.r#type() {
                Some(ParameterType::SecureString) => Kind::SecureString,
                Some(ParameterType::StringList) => Kind::StringList,
                _ => Kind::String,
            },
            key_id: p.key_id().map(str::to_owned),
            version: p.version(),
        }))
    }

    async fn fetch(&self, parameter: &ParameterRef) -> Result<Fetched, ApiError> {
        self.get(parameter, None).await
    }

    async fn put(&self, put: &Put, value: &str) -> Result<i64, ApiError> {
        let out = self
            .client
            .put_parameter()
            .name(&put.name)
            .value(value)
            .r#type(ParameterType::from(put.kind.name()))
            .set_key_id(put.key_id.clone())
            .overwrite(put.overwrite)
            // The advanced tier (a charge) only for values over 4 KB, which it needs.
            .tier(ParameterTier::IntelligentTiering)
            .send()
            .await
            .map_err(|e| api_error("PutParameter", e))?;
        Ok(out.version)
    }

    async fn label(&self, name: &str, version: i64, label: &str) -> Result<(), ApiError> {
        let out = self
            .client
            .label_parameter_version()
            .name(name)
            .parameter_version(version)
            .labels(label)
            .send()
            .await
            .map_err(|e| api_error("LabelParameterVersion", e))?;
        match out.invalid_labels() {
            [] => Ok(()),
            invalid => Err(ApiError {
                action: "LabelParameterVersion",
                kind: ApiErrorKind::Refused {
                    code: "InvalidLabels".into(),
                    message: format!("SSM refused the label(s) {invalid:?}"),
                },
            }),
        }
    }

    async fn fetch_labels(
        &self,
        name: &str,
        labels: &[String],
    ) -> Result<Vec<(String, Fetched)>, ApiError> {
        Ok(self.read_labels(name, None, labels, None).await?.1)
    }

    async fn unlabel(&self, name: &str, version: i64, label: &str) -> Result<(), ApiError> {
        self.client
            .unlabel_parameter_version()
            .name(name)
            .parameter_version(version)
            .labels(label)
            .send()
            .await
            .map_err(|e| api_error("UnlabelParameterVersion", e))?;
        Ok(())
    }
}
