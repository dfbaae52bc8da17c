//! Compiling a mapping file: the orchestrator. Each feature compiles its own section; this file
//! runs them in order, checks what spans features (suppressions against rules, constant claims
//! against the size limit in every overlay combination), and numbers the claims and attributes
//! the engine indexes by.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::condition::{Condition, RawWhen, value_conditions};
use super::file::RawMapping;
use super::groups::{GroupPipeline, GroupSource};
use super::limits::{
    Costs, DEFAULT_TOKEN_CLAIM_BYTES, MAX_MAPPING_BYTES, MAX_RULES, MAX_TOKEN_CLAIM_BYTES,
};
use super::lookups::{self, DEFAULT_LOOKUP_BUDGET_MS, MAX_LOOKUP_TIMEOUT_MS, TableLookup};
use super::overlay::{self, MAX_CLIENT_OVERLAYS, Plans};
use super::problems::{self, AboutRule, MappingError, Problem, Problems, Site};
use super::rule::{self, Rule};
use super::rule_id::Overlay;
use super::source::{Lookup, Source};
use super::transform::Transform;
use super::{MAX_YAML_DEPTH, Mapping, ScopeRule};
use crate::claim_size;
use crate::cognito::{self, Token};
use crate::diagnostics::Found;
use crate::diagnostics::Written;
use crate::diagnostics::yaml::too_deep;

impl Mapping {
    /// Parses, validates and compiles a mapping. `origin` (a file path or parameter name) is used
    /// in error messages.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Mapping, MappingError> {
        // Editors on Windows save a byte order mark, which YAML's parser reads as a second
        // document.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.len() > MAX_MAPPING_BYTES {
            return Err(MappingError::TooLarge {
                origin: origin.to_owned(),
                size: text.len(),
            });
        }
        if let Some(location) = too_deep(text) {
            return Err(MappingError::Invalid {
                origin: origin.to_owned(),
                problems: vec![Problem {
                    location: Some(location),
                    rule: None,
                    claim: None,
                    field: String::new(),
                    message: format!(
                        "YAML nested deeper than {MAX_YAML_DEPTH} levels; recursion limit exceeded"
                    ),
                }],
            });
        }
        let (raw, mut found) = match serde_yaml::from_str::<RawMapping>(text) {
            Ok(raw) => (raw, Vec::new()),
            Err(e) => match problems::structure_problems::<RawMapping>(text, &e) {
                // Only unknown keys: the rest of the mapping is checked too, without them.
                (found, Some(raw)) => (raw, found),
                (found, None) => {
                    return Err(MappingError::Invalid {
                        origin: origin.to_owned(),
                        problems: found,
                    });
                }
            },
        };
        let mut problems = Problems::default();
        let written = Written::new(text);
        let mut mapping = compile(raw, &written, &mut problems);
        if found.is_empty() && problems.found.is_empty() {
            mapping.warnings = located(problems.warnings, &written);
            return Ok(mapping);
        }
        found.extend(located(problems.found, &written));
        Err(MappingError::Invalid {
            origin: origin.to_owned(),
            problems: found,
        })
    }
}

/// Problems (or warnings) with their places in the file, each once: checks run per overlay
/// combination can find the same one more than once.
fn located(found: Vec<Found<AboutRule>>, written: &Written) -> Vec<Problem> {
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|found| seen.insert(found.clone()))
        .map(|found| {
            let (rule, claim) = found.about.map_or((None, None), |a| (Some(a.id), a.claim));
            Problem {
                location: written.locate(&found.path),
                rule,
                claim,
                field: found.path,
                message: found.message,
            }
        })
        .collect()
}

fn compile(raw: RawMapping, written: &Written, problems: &mut Problems) -> Mapping {
    let text = written.text();
    if raw.version != 1 {
        problems.add(
            "version",
            format!(
                "unsupported mapping version {}; this release reads version 1",
                raw.version
            ),
        );
    }
    if raw.defaults.tokens.is_empty() {
        problems.add(
            "defaults.tokens",
            "list at least one token (`id`, `access`)",
        );
    }
    let total = raw.claims.len()
        + raw
            .clients
            .values()
            .chain(raw.triggers.values())
            .map(|o| o.claims.len())
            .sum::<usize>();
    if total > MAX_RULES {
        problems.add(
            "claims",
            format!("{total} rules (base and overlays); the limit is {MAX_RULES}"),
        );
        return empty(raw, text);
    }
    if !within_limits(&raw, problems) {
        return empty(raw, text);
    }
    let suppress_id = compile_suppressions(&raw.suppress.id, "suppress.id", problems);
    let suppress_access = compile_suppressions(&raw.suppress.access, "suppress.access", problems);
    let tokens = &raw.defaults.tokens;

    let mut rules = Vec::with_capacity(total);
    let base = rule::compile_rules(&raw.claims, None, tokens, written, &mut rules, problems);
    let base_claims: HashSet<String> = rules.iter().map(|r: &Rule| r.claim.clone()).collect();
    let mut triggers = Vec::with_capacity(raw.triggers.len());
    for (source, overlay) in &raw.triggers {
        let layer_key = Overlay::Trigger(Arc::from(source.as_str()));
        let key = layer_key.to_string();
        if !cognito::TRIGGER_SOURCES.contains(&source.as_str()) {
            problems.add(
                key.clone(),
                format!(
                    "unknown trigger source `{source}`; known: {}",
                    cognito::TRIGGER_SOURCES.join(", ")
                ),
            );
        }
        let layer = overlay::compile_layer(
            layer_key,
            overlay,
            &base_claims,
            tokens,
            written,
            &mut rules,
            problems,
        );
        triggers.push((source.clone(), layer));
    }
    if raw.clients.len() > MAX_CLIENT_OVERLAYS {
        problems.add(
            "clients",
            format!(
                "{} client overlays; the limit is {MAX_CLIENT_OVERLAYS}",
                raw.clients.len()
            ),
        );
    }
    // A client overlay may disable what the base or any trigger overlay sets.
    let earlier_claims: HashSet<String> = rules.iter().map(|r| r.claim.clone()).collect();
    let mut clients = Vec::with_capacity(raw.clients.len());
    for (client, overlay) in raw.clients.iter().take(MAX_CLIENT_OVERLAYS) {
        let layer_key = Overlay::Client(Arc::from(client.as_str()));
        let key = layer_key.to_string();
        if let Some(reason) = cognito::client_id_restriction(client) {
            problems.add(key.clone(), reason);
        }
        let layer = overlay::compile_layer(
            layer_key,
            overlay,
            &earlier_claims,
            tokens,
            written,
            &mut rules,
            problems,
        );
        clients.push((client.clone(), layer));
    }

    for rule in &rules {
        for (token, added, suppressed) in [
            (Token::Id, rule.to_id, &suppress_id),
            (Token::Access, rule.to_access, &suppress_access),
        ] {
            if added && suppressed.contains(&rule.claim) {
                problems.add_rule(
                    &rule.site(),
                    "claim",
                    format!(
                        "the claim is also in `suppress.{}`; suppression would always win",
                        token.name()
                    ),
                );
            }
        }
    }
    let limit = raw.limits.token_claim_bytes;
    if limit == 0 || limit > MAX_TOKEN_CLAIM_BYTES {
        problems.add(
            "limits.token_claim_bytes",
            format!("must be between 1 and {MAX_TOKEN_CLAIM_BYTES}"),
        );
    }
    let claim_names = number_names(rules.iter_mut().map(|r| (&*r.claim, &mut r.claim_slot)));
    let reads_date = rules
        .iter()
        .flat_map(|r| &r.transforms)
        .any(Transform::reads_date);
    let mut scopes_add = Vec::with_capacity(raw.scopes.add.len());
    for (i, add) in raw.scopes.add.iter().enumerate() {
        let path = format!("scopes.add[{i}]");
        if let Some(reason) = cognito::scope_restriction(&add.scope) {
            problems.add(format!("{path}.scope"), reason);
        }
        let when = Condition::compile(
            add.when.as_ref(),
            &format!("{path}.when"),
            written,
            problems,
        );
        scopes_add.push(ScopeRule {
            scope: add.scope.clone(),
            when,
        });
    }
    let mut lookups = lookups::compile_lookups(&raw.lookups, problems);
    warn_about_inputs(&rules, &scopes_add, &lookups, problems);
    let declared: Vec<&str> = raw.lookups.keys().map(String::as_str).collect();
    lookups::resolve_names(&mut rules, &lookups, &declared, problems);
    let budget = raw.limits.lookup_budget_ms;
    if budget == 0 || budget > MAX_LOOKUP_TIMEOUT_MS {
        problems.add(
            "limits.lookup_budget_ms",
            format!(
                "must be between 1 and {MAX_LOOKUP_TIMEOUT_MS}: Cognito gives the whole trigger \
                 5 seconds"
            ),
        );
    }
    let attribute_names = number_names(
        lookups
            .iter_mut()
            .flat_map(TableLookup::key_lookups_mut)
            .chain(rules.iter_mut().flat_map(|r| {
                r.source
                    .lookups_mut()
                    .chain(r.when.iter_mut().flat_map(Condition::lookups_mut))
            }))
            .chain(
                scopes_add
                    .iter_mut()
                    .flat_map(|s| s.when.iter_mut().flat_map(Condition::lookups_mut)),
            )
            .filter_map(Lookup::attribute_slot),
    );
    let plans = Plans::build(&rules, base, triggers, clients);
    for plan in plans.all() {
        check_constant_sizes(&rules, &plan.rules, limit, problems);
    }
    let groups = raw
        .groups
        .as_ref()
        .and_then(|g| GroupPipeline::compile(g, problems));
    if let Some(pipeline) = &groups {
        for (i, source) in pipeline.sources.iter().enumerate() {
            if let GroupSource::Attribute { name, .. } = source
                && let Some(warning) = super::source::attribute_warning(name)
            {
                problems.warn(format!("groups.from[{i}].attribute"), warning);
            }
        }
        let unreachable = |when: &Option<Condition>| {
            let names = when
                .as_ref()
                .and_then(|w| w.groups.as_deref())
                .unwrap_or_default();
            names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| Some((i, pipeline.cannot_produce(name)?)))
                .collect::<Vec<_>>()
        };
        for rule in &rules {
            for (i, reason) in unreachable(&rule.when) {
                let reason = format!("{reason}, so this rule never applies");
                problems.add_rule(&rule.site(), &format!("when.groups[{i}]"), reason);
            }
        }
        for (i, (group, _)) in pipeline.roles.iter().flatten().enumerate() {
            if let Some(reason) = pipeline.cannot_produce(group) {
                let reason = format!("{reason}, so this role is never given");
                problems.add(format!("groups.roles[{i}].group"), reason);
            }
        }
        for (n, scope) in scopes_add.iter().enumerate() {
            for (i, reason) in unreachable(&scope.when) {
                let reason = format!("{reason}, so this scope is never added");
                problems.add(format!("scopes.add[{n}].when.groups[{i}]"), reason);
            }
        }
    }
    for (i, scope) in raw.scopes.suppress.iter().enumerate() {
        if scope.is_empty() {
            problems.add(format!("scopes.suppress[{i}]"), "a scope cannot be empty");
        }
    }
    // As for a claim both added and suppressed: one of the two would never count, and Cognito
    // documents no order between adding and suppressing a scope.
    for (i, add) in raw.scopes.add.iter().enumerate() {
        if raw.scopes.suppress.contains(&add.scope) {
            problems.add(
                format!("scopes.add[{i}].scope"),
                format!(
                    "`{}` is also in `scopes.suppress`: a scope both added and suppressed is \
                     one or the other by chance; remove it from one of the two",
                    add.scope
                ),
            );
        }
    }
    Mapping {
        rules,
        plans,
        claim_names,
        attribute_names,
        lookups,
        lookup_budget_ms: budget,
        groups,
        on_error: raw.on_error,
        suppress_id,
        suppress_access,
        scopes_add,
        scopes_suppress: raw.scopes.suppress,
        token_claim_bytes: limit,
        reads_date,
        digest: digest(text),
        warnings: Vec::new(),
    }
}

/// Counts what the load-time limits bound (transforms, regular expressions, JSONPaths that are not
/// plain paths) in the mapping as written, before anything is compiled: a mapping past a limit is
/// refused without paying for it. Compiling 1,000 regexes, 64 over the limit, took 300 MB and 1.6 s
/// before it refused them, which a 128 MB function refreshing a version put into its parameter by
/// hand would not survive. Each limit is reported where it is passed.
fn within_limits(raw: &RawMapping, problems: &mut Problems) -> bool {
    let mut total = Costs::default();
    let mut within = true;
    let triggers = raw.triggers.iter().map(|(source, overlay)| {
        let key = Overlay::Trigger(Arc::from(source.as_str()));
        (Some(key), &overlay.claims)
    });
    let clients = raw.clients.iter().map(|(client, overlay)| {
        let key = Overlay::Client(Arc::from(client.as_str()));
        (Some(key), &overlay.claims)
    });
    let layers = std::iter::once((None, &raw.claims))
        .chain(triggers)
        .chain(clients);
    for (key, claims) in layers {
        for (i, rule) in claims.iter().enumerate() {
            let site = rule.site(key.as_ref(), i);
            for (field, costs) in rule.costs() {
                for passed in total.add(costs) {
                    within = false;
                    problems.add_rule(&site, field, passed);
                }
            }
        }
    }
    for (i, add) in raw.scopes.add.iter().enumerate() {
        let costs = add.when.as_ref().map(RawWhen::costs).unwrap_or_default();
        for passed in total.add(costs) {
            within = false;
            problems.add(format!("scopes.add[{i}].when"), passed);
        }
    }
    for passed in raw.groups.iter().flat_map(|g| total.add(g.costs())) {
        within = false;
        problems.add("groups.keep.patterns".to_owned(), passed);
    }
    within
}

/// Where a part of the mapping is, for its problems: a field of a rule, or a field path of a
/// `scopes.add` entry.
enum Place<'r> {
    Rule(Site<'r>, String),
    Field(String),
}

impl Place<'_> {
    fn warn(&self, problems: &mut Problems, message: String) {
        match self {
            Place::Rule(site, field) => problems.warn_rule(site, field, message),
            Place::Field(path) => problems.warn(path.clone(), message),
        }
    }
}

/// Warns about what the rules and added scopes read that is probably a mistake: attribute names
/// no pool can have, and values from `request.clientMetadata`.
fn warn_about_inputs(
    rules: &[Rule],
    scopes: &[ScopeRule],
    lookups: &[TableLookup],
    problems: &mut Problems,
) {
    let rule_places = rules.iter().flat_map(|rule| {
        let (lookups, key) = rule.source.lookups();
        let sources = lookups
            .into_iter()
            .map(move |l| (Place::Rule(rule.site(), key.to_owned()), l));
        let conditions = value_conditions(&rule.when).iter().map(move |v| {
            (
                Place::Rule(rule.site(), format!("when.{}", v.key)),
                &v.lookup,
            )
        });
        sources.chain(conditions)
    });
    let scope_places = scopes.iter().enumerate().flat_map(|(n, scope)| {
        value_conditions(&scope.when).iter().map(move |v| {
            (
                Place::Field(format!("scopes.add[{n}].when.{}", v.key)),
                &v.lookup,
            )
        })
    });
    let key_places = lookups.iter().flat_map(|lookup| {
        lookup.key_lookups().map(move |(attribute, source)| {
            let place = format!("lookups.{}.key.{attribute}", lookup.name);
            (Place::Field(place), source)
        })
    });
    for (place, lookup) in rule_places.chain(scope_places).chain(key_places) {
        match lookup {
            Lookup::Attribute { name, .. } => {
                if let Some(warning) = super::source::attribute_warning(name) {
                    place.warn(problems, warning);
                }
            }
            Lookup::Path(path) if path.may_read_client_metadata() => {
                place.warn(problems, CLIENT_INPUT.into());
            }
            Lookup::Path(_) | Lookup::Item { .. } => {}
        }
    }
}

/// The warning for a value read from `request.clientMetadata`.
/// Cognito forwards `ClientMetadata` to this trigger from some flows only (Developer Guide, "Pre
/// token generation Lambda trigger"; API Reference, `InitiateAuth` and `GetTokensFromRefreshToken`,
/// `ClientMetadata`).
const CLIENT_INPUT: &str = "this reads `request.clientMetadata`, which is whatever the app asking \
    for the tokens sends (any app that has the client id): never let it grant anything, and in a \
    claim treat it as the client's word, not the user pool's; Cognito passes it from \
    RespondToAuthChallenge, GetTokensFromRefreshToken and the token endpoint's \
    aws_client_metadata only, not from InitiateAuth or its refresh flow, so what it decides at \
    sign-in can be gone at the next refresh";

/// A mapping with no rules, returned alongside problems that stop compiling early.
fn empty(raw: RawMapping, text: &str) -> Mapping {
    Mapping {
        rules: Vec::new(),
        plans: Plans::build(&[], Vec::new(), Vec::new(), Vec::new()),
        claim_names: Vec::new(),
        attribute_names: Vec::new(),
        lookups: Vec::new(),
        lookup_budget_ms: DEFAULT_LOOKUP_BUDGET_MS,
        groups: None,
        on_error: raw.on_error,
        suppress_id: Vec::new(),
        suppress_access: Vec::new(),
        scopes_add: Vec::new(),
        scopes_suppress: Vec::new(),
        token_claim_bytes: DEFAULT_TOKEN_CLAIM_BYTES,
        reads_date: false,
        digest: digest(text),
        warnings: Vec::new(),
    }
}

/// The names of `named`, sorted and each once; sets each entry's slot to its name's index there
/// (claims: [`Rule::claim_slot`]; attributes: the slot of a [`Lookup::Attribute`]).
pub(crate) fn number_names<'n>(
    named: impl IntoIterator<Item = (&'n str, &'n mut u32)>,
) -> Vec<String> {
    let mut named: Vec<_> = named.into_iter().collect();
    let mut names: Vec<String> = named.iter().map(|(name, _)| name.to_string()).collect();
    names.sort_unstable();
    names.dedup();
    for (name, slot) in &mut named {
        // Present by construction; the mapping's size bounds the count far below u32::MAX.
        **slot = names
            .binary_search_by(|n| n.as_str().cmp(name))
            .unwrap_or_default() as u32;
    }
    names
}

/// The digest that names a mapping's text in logs ([`Mapping::digest`]): what tells two texts
/// apart where a version number does not (an SSM parameter deleted and created again starts over
/// at version 1).
pub(crate) fn digest(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    format!("sha256:{:.12x}", Sha256::digest(text.as_bytes()))
}

/// Constant claims alone must fit the token size limit: each one, and per token all those that
/// apply unconditionally in one plan (a later rule for the same claim replaces the earlier one).
fn check_constant_sizes(rules: &[Rule], plan: &[u32], limit: usize, problems: &mut Problems) {
    let mut always: [std::collections::HashMap<&str, usize>; 2] = Default::default();
    for rule in plan.iter().map(|&i| &rules[i as usize]) {
        let Source::Constant(value) = &rule.source else {
            continue;
        };
        // The ID token's claim as the larger of its two forms: typed (versions 2 and 3) and as
        // the string version 1 sends, whose quotes are escaped.
        let typed = claim_size::claim_size(&rule.claim, value);
        let sizes = [
            typed.max(claim_size::v1_claim_size(&rule.claim, value)),
            typed,
        ];
        let size = if rule.to_id { sizes[0] } else { typed };
        if size > limit {
            problems.add_rule(
                &rule.site(),
                "value",
                format!("the claim is {size} bytes of JSON; limits.token_claim_bytes is {limit}"),
            );
            continue;
        }
        if rule.when.is_some() {
            continue;
        }
        for (i, targeted) in [rule.to_id, rule.to_access].into_iter().enumerate() {
            if targeted {
                always[i].insert(&rule.claim, sizes[i]);
                let total: usize = always[i].values().sum();
                if total > limit {
                    let token = ["id", "access"][i];
                    problems.add_rule(
                        &rule.site(),
                        "value",
                        format!("constant claims for the {token} token reach {total} bytes of JSON here; limits.token_claim_bytes is {limit}"),
                    );
                }
            }
        }
    }
}

fn compile_suppressions(claims: &[String], path: &str, problems: &mut Problems) -> Vec<String> {
    for (i, claim) in claims.iter().enumerate() {
        if let Some(reason) = cognito::suppress_restriction(claim) {
            problems.add(format!("{path}[{i}]"), reason);
        }
    }
    claims.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_is_named_by_a_digest_of_its_own_text() {
        let text = "version: 1\nclaims:\n  - { claim: a, from: email }\n";
        let mapping = Mapping::from_yaml(text, "m.yaml").unwrap();
        let full = format!("{:x}", Sha256::digest(text.as_bytes()));
        assert_eq!(mapping.digest(), format!("sha256:{}", &full[..12]));
        // A byte order mark is not part of the text; any other change is.
        let with_bom = Mapping::from_yaml(&format!("\u{feff}{text}"), "m.yaml").unwrap();
        assert_eq!(with_bom.digest(), mapping.digest());
        let changed = Mapping::from_yaml(&format!("{text}# note\n"), "m.yaml").unwrap();
        assert_ne!(changed.digest(), mapping.digest());
    }
}
