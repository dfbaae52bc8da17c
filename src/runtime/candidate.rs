//! A candidate mapping beside the live one, as an instance serves it: a canary served to the
//! users whose bucket falls in its share, or a shadow evaluated beside the live mapping
//! ([`crate::workflow::candidate`] says how releases mark them).
//!
//! A canary rolls itself back: each instance counts, per sign-in, whether the mapping that served
//! it refused it or skipped a rule, for the live mapping and the canary apart. Once the canary has
//! served [`MIN_SIGN_INS`] sign-ins and its share of failed ones exceeds the live mapping's by
//! more than [`TOLERANCE`], the instance stops serving it, logs why and counts
//! `CanaryRolledBack` once. No new moving part: no alarm action, no function writing its own
//! parameter; each instance judges on its own sign-ins, and `abort` (or the alarm on
//! `CanaryRolledBack`) ends the release for the fleet.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use serde_json::Value;

use crate::load::Loaded;
use crate::workflow::candidate::{Role, serves};

/// Candidate sign-ins an instance counts before it judges a canary.
pub const MIN_SIGN_INS: u32 = 20;
/// How much larger (in points of share) the canary's failed share may be than the live
/// mapping's before it is rolled back: 0.05 = five percentage points.
pub const TOLERANCE: f64 = 0.05;

/// A candidate version, compiled, with this instance's count of how it does.
#[derive(Debug)]
pub struct Candidate {
    /// The compiled candidate and where it came from.
    pub loaded: Arc<Loaded>,
    /// Canary or shadow.
    pub role: Role,
    live: Counts,
    candidate: Counts,
    /// Set once, when the canary is rolled back on this instance.
    rolled_back: AtomicBool,
}

/// Sign-ins served, and those refused or with a rule skipped.
#[derive(Debug, Default)]
struct Counts {
    sign_ins: AtomicU32,
    failed: AtomicU32,
}

impl Counts {
    fn add(&self, failed: bool) -> (u32, u32) {
        let sign_ins = self.sign_ins.fetch_add(1, Ordering::Relaxed) + 1;
        let failed =
            self.failed.fetch_add(u32::from(failed), Ordering::Relaxed) + u32::from(failed);
        (sign_ins, failed)
    }

    fn get(&self) -> (u32, u32) {
        (
            self.sign_ins.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// Why a canary was rolled back on this instance: the counts that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolledBack {
    /// Sign-ins the canary served.
    pub canary_sign_ins: u32,
    /// Of those, refused or with a rule skipped.
    pub canary_failed: u32,
    /// Sign-ins the live mapping served meanwhile.
    pub live_sign_ins: u32,
    /// Of those, refused or with a rule skipped.
    pub live_failed: u32,
}

/// Who a sign-in is, for the canary's split: the user's `sub`, or for a client-credentials grant
/// (no user) the app client's id. `None`: neither, and the live mapping serves it.
pub fn user_of(event: &Value) -> Option<&str> {
    event
        .pointer("/request/userAttributes/sub")
        .or_else(|| event.pointer("/callerContext/clientId"))
        .and_then(Value::as_str)
}

impl Candidate {
    /// A candidate in `role`, counted from nothing.
    pub fn new(loaded: Loaded, role: Role) -> Self {
        Candidate {
            loaded: Arc::new(loaded),
            role,
            live: Counts::default(),
            candidate: Counts::default(),
            rolled_back: AtomicBool::new(false),
        }
    }

    /// Whether this canary serves `event` (never a shadow candidate, nor a canary rolled back).
    pub fn serves(&self, event: &Value) -> bool {
        match self.role {
            Role::Canary { share } => {
                !self.rolled_back.load(Ordering::Relaxed)
                    && user_of(event).is_some_and(|user| serves(user, share))
            }
            Role::Shadow => false,
        }
    }

    /// Counts a sign-in served by the canary (`canary`) or the live mapping, and whether it was
    /// refused or had a rule skipped. Returns the counts the first time they roll the canary back.
    pub fn record(&self, canary: bool, failed: bool) -> Option<RolledBack> {
        if !matches!(self.role, Role::Canary { .. }) {
            return None;
        }
        if !canary {
            self.live.add(failed);
            return None;
        }
        let (canary_sign_ins, canary_failed) = self.candidate.add(failed);
        let (live_sign_ins, live_failed) = self.live.get();
        let share = |failed: u32, of: u32| f64::from(failed) / f64::from(of.max(1));
        let worse = canary_sign_ins >= MIN_SIGN_INS
            && share(canary_failed, canary_sign_ins)
                > share(live_failed, live_sign_ins) + TOLERANCE;
        // Only the first invocation to see it reports it.
        (worse && !self.rolled_back.swap(true, Ordering::Relaxed)).then_some(RolledBack {
            canary_sign_ins,
            canary_failed,
            live_sign_ins,
            live_failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;
    use serde_json::json;

    fn canary(share: u8) -> Candidate {
        let mapping = crate::Mapping::from_yaml("version: 1\nclaims: []\n", "c.yaml").unwrap();
        let origin = Origin::Ssm {
            parameter: "/m".into(),
            version: 2,
        };
        Candidate::new(Loaded { mapping, origin }, Role::Canary { share })
    }

    #[test]
    fn the_split_follows_the_users_bucket() {
        let c = canary(50);
        let event = |sub: &str| json!({"request": {"userAttributes": {"sub": sub}}});
        let users: Vec<String> = (0..200).map(|i| format!("u{i}")).collect();
        for user in &users {
            assert_eq!(c.serves(&event(user)), serves(user, 50), "{user}");
        }
        assert!(users.iter().any(|u| c.serves(&event(u))));
        assert!(users.iter().any(|u| !c.serves(&event(u))));
        // A client-credentials grant splits by app client; an event with neither is live's.
        let m2m = |id: &str| json!({"callerContext": {"clientId": id}, "request": {}});
        assert_eq!(c.serves(&m2m("app-1")), serves("app-1", 50));
        assert!(!c.serves(&json!({"request": {}})));
        let shadow = Candidate {
            role: Role::Shadow,
            ..canary(50)
        };
        assert!(users.iter().all(|u| !shadow.serves(&event(u))));
    }

    #[test]
    fn a_canary_failing_more_than_live_rolls_back_once() {
        let c = canary(10);
        for _ in 0..100 {
            assert_eq!(c.record(false, false), None);
        }
        // Below the sample size, nothing is judged.
        for _ in 0..MIN_SIGN_INS - 1 {
            assert_eq!(c.record(true, true), None);
        }
        let rolled = c.record(true, true).expect("rolled back at the 20th");
        assert_eq!(
            rolled,
            RolledBack {
                canary_sign_ins: 20,
                canary_failed: 20,
                live_sign_ins: 100,
                live_failed: 0
            }
        );
        assert_eq!(c.record(true, true), None, "reported once");
        let user = (0..)
            .map(|i| format!("u{i}"))
            .find(|u| serves(u, 10))
            .unwrap();
        assert!(!c.serves(&json!({"request": {"userAttributes": {"sub": user}}})));
    }

    #[test]
    fn a_canary_failing_as_often_as_live_stays() {
        let c = canary(10);
        // Live skips a rule for one sign-in in five (a missing attribute, say); so does the canary.
        for i in 0..100 {
            c.record(false, i % 5 == 0);
        }
        for i in 0..100 {
            assert_eq!(c.record(true, i % 5 == 0), None);
        }
        // Three times the live mapping's share is not within the tolerance.
        let c = canary(10);
        for i in 0..100 {
            c.record(false, i % 10 == 0);
        }
        let mut rolled = None;
        for i in 0..100 {
            rolled = rolled.or(c.record(true, i % 10 == 0 || i % 10 == 5 || i % 10 == 7));
        }
        assert!(rolled.is_some(), "30% against 10%");
        // Exactly the tolerance over the live mapping's share stays: one failed in 20 against none.
        let c = canary(10);
        for _ in 0..100 {
            c.record(false, false);
        }
        assert!((0..20).all(|i| c.record(true, i == 0).is_none()));
        // A shadow candidate is never counted.
        let shadow = Candidate {
            role: Role::Shadow,
            ..canary(10)
        };
        assert!((0..100).all(|_| shadow.record(true, true).is_none()));
    }
}
