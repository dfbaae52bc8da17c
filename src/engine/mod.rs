//! The per-event engine: a compiled mapping applied to one event.
//!
//! [`apply`] reads as the path of an invocation: view the event (`event.rs`), evaluate the
//! mapping ([`evaluate`]: the overlays' plan, the group pipeline, each rule's condition, source
//! and transforms, the token size guard, suppressions and scopes), and return the [`Reply`]: the
//! event with its response written in the shape of its version (`response.rs`).
//!
//! Owns everything that happens per event; reads the compiled types of [`crate::mapping`] and
//! never parses a mapping. Must not know the Lambda runtime or the reports built on top of it.

use serde_json::Value;
use time::Date;

mod condition;
mod evaluate;
mod event;
mod failure;
mod groups;
mod items;
mod lookup;
mod note;
mod observe;
mod outcome;
mod payload;
mod response;
mod size_guard;
mod source;
mod transform;

pub use condition::Unmet;
pub use evaluate::evaluate;
pub use event::{Event, EventError, Shape};
pub use failure::{ApplyError, FailureReason, RuleFailure};
pub use groups::{GroupOverride, Stage};
pub use items::{Fetched, Items, LookupFailure};
pub use lookup::{
    KnownItem, KnownItems, LookupPlan, LookupRequest, LookupState, apply_known, plan_lookups,
};
pub use note::Note;
pub use observe::{Observer, RuleOutcome};
pub use outcome::Outcome;
pub use payload::Payload;
pub use response::{OwnedReply, Reply, ResponseView, TokenChanges, TokenView, read_response};
pub use transform::TransformError;

use crate::mapping::Mapping;

/// Applies `mapping` to `event` as of `today`, reporting what happens to `observer` (`&mut ()`
/// for nothing). The result is the event with its response filled in: the Lambda writes it
/// straight to JSON, so the response is written from the rules' values (borrowed from the event
/// and the mapping where no transform changed them) and never built as a `serde_json::Value`;
/// reports take [`Reply::into_owned`].
pub fn apply<'a>(
    mapping: &'a Mapping,
    event: &'a Value,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<Reply<'a>, ApplyError> {
    static NO_ITEMS: Items = Items::none();
    apply_with(mapping, event, &NO_ITEMS, today, observer)
}

/// [`apply`] with the items of the event's lookups ([`plan_lookups`] says which): for a mapping
/// with lookups. A rule reading a lookup without an item in `items` fails as
/// [`LookupFailure::NotFetched`].
pub fn apply_with<'a>(
    mapping: &'a Mapping,
    event: &'a Value,
    items: &'a Items,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<Reply<'a>, ApplyError> {
    let view = Event::new(event)?;
    let outcome = evaluate(mapping, &view, items, today, observer)?;
    Ok(Reply::new(view, outcome))
}
