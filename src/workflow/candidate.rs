//! A candidate mapping beside the live one: served to a stable share of users (a canary) or
//! evaluated in shadow, never applied. The release is told by labels on the parameter's versions,
//! so that it needs nothing but the parameter itself: `canary-N` on the version served to N% of
//! users, `candidate-shadow` on the version evaluated in shadow. The function reads them at every
//! refresh (`GetParameters`); `release --canary`, `--shadow`, `promote` and `abort` move them.
//!
//! Shares come from a fixed ladder ([`SHARES`]): the function reads every candidate label in one
//! `GetParameters` call, which takes at most 10 names ("Names ... Maximum number of 10 items",
//! GetParameters in the AWS Systems Manager API Reference,
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html>).
//! One version at a time holds a candidate label: a new candidate replaces the last one.

use sha2::{Digest, Sha256};

use super::ApiError;
use super::parameter::{Fetched, ParameterRef, ParameterStore, Selector, move_label};

/// The shares (percent of users) a canary may be served to.
pub const SHARES: [u8; 5] = [1, 5, 10, 25, 50];

/// The label of the version evaluated in shadow beside the live one.
pub const SHADOW_LABEL: &str = "candidate-shadow";

/// What a candidate version is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Served to `share` percent of users, chosen by [`bucket`].
    Canary {
        /// Percent of users, one of [`SHARES`].
        share: u8,
    },
    /// Evaluated beside the live mapping; its differences are logged, it is never applied.
    Shadow,
}

impl Role {
    /// The label that marks a version for this role.
    pub fn label(self) -> String {
        match self {
            Role::Canary { share } => format!("canary-{share}"),
            Role::Shadow => SHADOW_LABEL.to_owned(),
        }
    }

    /// Every role, in the order the function prefers them when a parameter holds several (the
    /// largest canary first: the release in progress).
    pub fn all() -> impl Iterator<Item = Role> {
        SHARES
            .iter()
            .rev()
            .map(|&share| Role::Canary { share })
            .chain([Role::Shadow])
    }

    /// How logs and metric properties name it: `canary` or `shadow`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Canary { .. } => "canary",
            Role::Shadow => "shadow",
        }
    }
}

/// Every candidate label, for one `GetParameters` call.
pub fn labels() -> Vec<String> {
    Role::all().map(Role::label).collect()
}

/// Parses a canary share as the CLI takes it (`10`, `10%`): one of [`SHARES`].
pub fn parse_share(text: &str) -> Result<u8, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<u8>() {
        Ok(share) if SHARES.contains(&share) => Ok(share),
        _ => Err(format!(
            "a canary share is one of {} percent (the function reads every share's label in one \
             call)",
            SHARES.map(|s| s.to_string()).join(", ")
        )),
    }
}

/// A user's bucket, 0 to 99: the first eight bytes of SHA-256 of `user` (the `sub`, or the app
/// client's id for a client-credentials grant), modulo 100. Stable across processes, releases and
/// Rust versions, so a user is served one mapping across refreshes and instances; independent of
/// the candidate, so raising a share from 10 to 25 keeps the first 10% in.
pub fn bucket(user: &str) -> u8 {
    let digest = Sha256::digest(user.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 100) as u8
}

/// Whether a canary at `share` percent serves `user`.
pub fn serves(user: &str, share: u8) -> bool {
    bucket(user) < share
}

/// A candidate version as read: its role and text.
#[derive(Debug, Clone)]
pub struct Found {
    /// What it is for.
    pub role: Role,
    /// Its text and version.
    pub fetched: Fetched,
}

/// The candidates `name` holds, in [`Role::all`]'s order (one `GetParameters` call, decrypted).
pub async fn read(store: &impl ParameterStore, name: &str) -> Result<Vec<Found>, ApiError> {
    let labels = labels();
    let found = store.fetch_labels(name, &labels).await?;
    Ok(Role::all()
        .filter_map(|role| {
            let label = role.label();
            let (_, fetched) = found.iter().find(|(l, _)| *l == label)?;
            Some(Found {
                role,
                fetched: fetched.clone(),
            })
        })
        .collect())
}

/// What [`start`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The candidates it replaced (role and version).
    pub replaced: Vec<(Role, i64)>,
}

/// Makes `version` of `name` the candidate in `role`, replacing any other candidate. `valid`
/// checks its text first (nothing moves when it returns an error).
pub async fn start<E>(
    store: &impl ParameterStore,
    name: &str,
    version: i64,
    role: Role,
    valid: impl FnOnce(&Fetched) -> Result<(), E>,
) -> Result<Result<Started, E>, ApiError> {
    let at = ParameterRef {
        name: name.to_owned(),
        selector: Some(Selector::Version(version)),
    };
    let fetched = store.fetch(&at).await?;
    if let Err(invalid) = valid(&fetched) {
        return Ok(Err(invalid));
    }
    let before = read(store, name).await?;
    // Labelled first, then the others removed: in between the function serves the larger
    // canary, never none.
    store.label(name, version, &role.label()).await?;
    let mut replaced = Vec::new();
    for other in before.iter().filter(|f| f.role != role) {
        store
            .unlabel(name, other.fetched.version, &other.role.label())
            .await?;
        replaced.push((other.role, other.fetched.version));
    }
    Ok(Ok(Started { replaced }))
}

/// What [`promote`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoted {
    /// The candidate promoted.
    pub role: Role,
    /// Its version, which `live_label` now marks.
    pub version: i64,
    /// The version `live_label` was on before; `None` when it was new.
    pub was: Option<i64>,
}

/// Moves `live_label` to the candidate's version (the canary, else the shadow candidate) and
/// ends the candidate. `Ok(None)`: there was no candidate, nothing moved.
pub async fn promote(
    store: &impl ParameterStore,
    name: &str,
    live_label: &str,
) -> Result<Option<Promoted>, ApiError> {
    let before = read(store, name).await?;
    let Some(chosen) = before.first() else {
        return Ok(None);
    };
    let was = move_label(store, name, chosen.fetched.version, live_label)
        .await?
        .was;
    for found in &before {
        store
            .unlabel(name, found.fetched.version, &found.role.label())
            .await?;
    }
    Ok(Some(Promoted {
        role: chosen.role,
        version: chosen.fetched.version,
        was,
    }))
}

/// Ends every candidate of `name` (the live label stays where it is); the candidates it ended.
pub async fn abort(store: &impl ParameterStore, name: &str) -> Result<Vec<(Role, i64)>, ApiError> {
    let before = read(store, name).await?;
    for found in &before {
        store
            .unlabel(name, found.fetched.version, &found.role.label())
            .await?;
    }
    Ok(before.iter().map(|f| (f.role, f.fetched.version)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_pass_ssm_rules() {
        let labels = labels();
        assert_eq!(labels.len(), SHARES.len() + 1);
        // One GetParameters call takes at most 10 names.
        assert!(labels.len() <= 10);
        for label in &labels {
            assert_eq!(
                super::super::parameter::label_restriction(label),
                None,
                "{label}"
            );
        }
        assert_eq!(labels[0], "canary-50");
        assert!(!labels.contains(&"live".to_owned()));
        // What logs, metric queries and `--json` call them.
        assert_eq!(Role::Canary { share: 5 }.name(), "canary");
        assert_eq!(Role::Shadow.name(), "shadow");
    }

    #[test]
    fn shares_parse_from_the_ladder_only() {
        assert_eq!(parse_share("10%"), Ok(10));
        assert_eq!(parse_share(" 25 "), Ok(25));
        assert!(parse_share("15").unwrap_err().contains("1, 5, 10, 25, 50"));
        assert!(parse_share("100%").is_err());
        assert!(parse_share("ten").is_err());
    }

    #[test]
    fn buckets_are_stable_spread_and_nested() {
        // Pinned to SHA-256 itself (sha256("a") starts ca978112ca1bbdca, sha256("b")
        // 3e23e8160039594a): a change here would move users between mappings mid-release.
        assert_eq!(u64::from(bucket("a")), 0xca97_8112_ca1b_bdca % 100);
        assert_eq!(u64::from(bucket("b")), 0x3e23_e816_0039_594a % 100);
        let users: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
        for share in SHARES {
            let served = users.iter().filter(|u| serves(u, share)).count();
            let want = 100 * usize::from(share);
            assert!(
                served.abs_diff(want) <= want / 5 + 30,
                "{share}%: {served} of 10000"
            );
        }
        // A user in a smaller share is in every larger one.
        for user in &users {
            for pair in SHARES.windows(2) {
                assert!(!serves(user, pair[0]) || serves(user, pair[1]));
            }
        }
    }
}
