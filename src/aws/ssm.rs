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
        // The override replaces the client's timeouts too: they are given again.
        self.get(parameter, Some(self.once())).await
    }

    /// [`ParameterStore::fetch_labels`] once, without retrying, as [`Ssm::fetch_once`].
    pub async fn fetch_labels_once(
        &self,
        name: &str,
        labels: &[String],
    ) -> Result<Vec<(String, Fetched)>, ApiError> {
        self.get_labels(name, labels, Some(self.once())).await
    }

    fn once(&self) -> aws_sdk_ssm::config::Builder {
        aws_sdk_ssm::config::Builder::default()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(self.budget.timeouts())
    }

    async fn get_labels(
        &self,
        name: &str,
        labels: &[String],
        config: Option<aws_sdk_ssm::config::Builder>,
    ) -> Result<Vec<(String, Fetched)>, ApiError> {
        let request = self
            .client
            .get_parameters()
            .set_names(Some(labels.iter().map(|l| format!("{name}:{l}")).collect()))
            .with_decryption(true);
        let out = match config.clone() {
            Some(config) => request.customize().config_override(config).send().await,
            None => request.send().await,
        }
        .map_err(|e| api_error("GetParameters", e))?;
        // A label on no version comes back among the invalid names, not as an error.
        let invalid = out.invalid_parameters();
        let set: Vec<&String> = labels
            .iter()
            .filter(|l| !invalid.iter().any(|i| *i == format!("{name}:{l}")))
            .collect();
        let fetched = |p: &aws_sdk_ssm::types::Parameter| {
            p.value().map(|text| Fetched {
                text: text.to_owned(),
                version: p.version(),
            })
        };
        let parameters = out.parameters();
        // Each answer names the label it was read at (`Selector`); without it, a single label set
        // is matched to the single answer, and several are read one by one.
        let by_selector: Option<Vec<(String, Fetched)>> = parameters
            .iter()
            .map(|p| {
                let label = p.selector()?.rsplit(':').next()?;
                Some((label.to_owned(), fetched(p)?))
            })
            .collect();
        match (by_selector, set.as_slice(), parameters) {
            (Some(found), _, _) if found.len() == set.len() => Ok(found),
            (_, [label], [parameter]) => Ok(fetched(parameter)
                .map(|f| ((*label).clone(), f))
                .into_iter()
                .collect()),
            _ => {
                let mut found = Vec::new();
                for label in set {
                    let at = ParameterRef {
                        name: name.to_owned(),
                        selector: Some(Selector::Label(label.clone())),
                    };
                    match self.get(&at, config.clone()).await {
                        Ok(f) => found.push((label.clone(), f)),
                        // Moved off between the two calls.
                        Err(ApiError {
                            kind: ApiErrorKind::NotFound,
                            ..
                        }) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(found)
            }
        }
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
        self.get_labels(name, labels, None).await
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
