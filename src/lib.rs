//! cognito-claim-mapper: a configuration-driven Amazon Cognito Pre Token Generation trigger.
//!
//! A YAML mapping ([`mapping`]) is parsed, validated and compiled once; [`engine::process`] applies
//! it to each event and fills in the response in the shape of the event's version. The Lambda
//! function ([`lambda`]) and the `claim-mapper` CLI ([`dry_run`]) are thin shells over that path.

pub mod cognito;
pub mod condition;
pub mod diff;
pub mod dry_run;
pub mod engine;
pub mod event;
pub mod explain;
pub mod groups;
pub mod lambda;
pub mod live;
pub mod load;
mod location;
pub mod logging;
pub mod mapping;
pub mod overlay;
pub mod preview;
pub mod response;
pub mod schema;
pub mod source;
#[cfg(feature = "ssm")]
pub mod ssm;
pub mod transform;

pub use engine::{ProcessError, Processed, process};
pub use location::Location;
pub use mapping::{Mapping, MappingError};
