//! Load-time validation: every kind of mapping error, with its message (file, line/column, rule,
//! claim, field) asserted.

use crate::support;

use support::mapping_error;

fn rule(body: &str) -> String {
    format!("version: 1\nclaims:\n  - claim: ok\n    value: 1\n{body}")
}

#[test]
fn unknown_keys_name_line_rule_claim_and_field() {
    let err = mapping_error(&rule("  - claim: department\n    frm: custom:department\n"));
    // The rule is then read without the key, so its missing source is reported in the same run.
    assert_eq!(
        err,
        "invalid mapping test.yaml: 2 problems\n  test.yaml:6:5: rule 2 (claim `department`), field `claims[1]`: \
         unknown field `frm`, expected one of `claim`, `from`, `value`, `template`, `default`, `required`, `tokens`, `transform`, `when`: did you mean `from`?\n  \
         test.yaml:5:5: rule 2 (claim `department`), field `claims[1]`: a rule needs one source: `from`, `value` or `template`"
    );
    let top = mapping_error("version: 1\nclams: []\n");
    assert!(
        top.contains("test.yaml:2:1: unknown field `clams`")
            && top.ends_with("did you mean `claims`?"),
        "{top}"
    );
}

#[test]
fn zero_or_two_sources() {
    let none = mapping_error(&rule("  - claim: a\n    tokens: [id]\n"));
    assert!(none.contains("test.yaml:5:5: rule 2 (claim `a`), field `claims[1]`: a rule needs one source: `from`, `value` or `template`"), "{none}");
    let two = mapping_error(&rule("  - claim: a\n    from: x\n    value: y\n"));
    assert!(two.contains("rule 2 (claim `a`), field `claims[1]`: a rule takes exactly one of `from`, `value`, `template`; found from and value"), "{two}");
}

#[test]
fn unknown_transforms_point_at_the_step() {
    let err = mapping_error(&rule(
        "  - claim: dept\n    from: custom:department\n    transform: [trim, lowercse]\n",
    ));
    assert!(
        err.contains("test.yaml:7:23: rule 2 (claim `dept`), field `claims[1].transform[1]`: unknown transform `lowercse`; did you mean `lowercase`? known: trim,"),
        "{err}"
    );
}

#[test]
fn bad_regexes_and_jsonpaths() {
    let regex = mapping_error(&rule(
        "  - claim: a\n    from: x\n    transform:\n      - replace: {pattern: '([a-z]', with: ''}\n",
    ));
    assert!(regex.contains("test.yaml:8:9: rule 2 (claim `a`), field `claims[1].transform[0]`: transform `replace`: invalid regular expression"), "{regex}");
    let path = mapping_error(&rule("  - claim: a\n    from: $.request[\n"));
    assert!(
        path.contains(
            "test.yaml:6:5: rule 2 (claim `a`), field `claims[1].from`: invalid JSONPath"
        ),
        "{path}"
    );
    let template = mapping_error(&rule("  - claim: a\n    template: '{$.[}'\n"));
    assert!(
        template.contains("field `claims[1].template`: template placeholder: invalid JSONPath"),
        "{template}"
    );
}

#[test]
fn claims_cognito_refuses() {
    for (claim, needle) in [
        (
            "sub",
            "`sub` is set by Cognito and cannot be added or overridden",
        ),
        ("exp", "`exp` is set by Cognito"),
        (
            "cognito:username",
            "`cognito:` claims such as `cognito:username` cannot be added",
        ),
        (
            "cognito:groups",
            "`cognito:groups` can only be changed through a group override",
        ),
        (
            "dev:secret",
            "`dev:` attributes such as `dev:secret` can only be suppressed",
        ),
        ("aud", "`aud` cannot be changed in the ID token"),
    ] {
        let err = mapping_error(&rule(&format!("  - claim: '{claim}'\n    value: x\n")));
        assert!(
            err.contains(&format!(
                "test.yaml:5:5: rule 2 (claim `{claim}`), field `claims[1].claim`: {needle}"
            )),
            "{err}"
        );
    }
    // `aud` may go to the access token.
    support::mapping(&rule(
        "  - claim: aud\n    from: $.callerContext.clientId\n    tokens: [access]\n",
    ));
}

#[test]
fn suppressions_and_scopes_follow_the_contract() {
    let err =
        mapping_error("version: 1\nsuppress:\n  id: [email, sub]\n  access: [cognito:username]\n");
    assert!(err.contains("test.yaml:3:15: field `suppress.id[1]`: `sub` is set by Cognito and cannot be suppressed"), "{err}");
    assert!(
        err.contains("field `suppress.access[0]`: `cognito:username` cannot be suppressed"),
        "{err}"
    );
    assert!(err.contains("2 problems"), "{err}");
    support::mapping("version: 1\nsuppress:\n  id: ['dev:x', cognito:groups]\n");
    let scope = mapping_error("version: 1\nscopes:\n  add:\n    - scope: 'a b'\n");
    assert!(scope.contains("test.yaml:4:7: field `scopes.add[0].scope`: a scope containing whitespace cannot be added"), "{scope}");
}

#[test]
fn added_and_suppressed_in_the_same_token_is_refused() {
    let err = mapping_error(
        "version: 1\nclaims:\n  - claim: email\n    from: email\nsuppress:\n  id: [email]\n",
    );
    assert!(
        err.contains(
            "rule 1 (claim `email`), field `claims[0].claim`: the claim is also in `suppress.id`"
        ),
        "{err}"
    );
    support::mapping(
        "version: 1\nclaims:\n  - claim: email\n    from: email\n    tokens: [access]\nsuppress:\n  id: [email]\n",
    );
}

#[test]
fn conditions_are_checked() {
    let err = mapping_error(&rule(
        "  - claim: a\n    value: 1\n    when:\n      triggers: [TokenGeneration_Login]\n      groups: []\n",
    ));
    assert!(err.contains("field `claims[1].when.triggers[0]`: unknown trigger source `TokenGeneration_Login`; known: TokenGeneration_HostedAuth"), "{err}");
    assert!(
        err.contains("field `claims[1].when.groups`: an empty list never matches"),
        "{err}"
    );
    let unknown = mapping_error(&rule(
        "  - claim: a\n    value: 1\n    when: {group: [x]}\n",
    ));
    assert!(
        unknown.contains("rule 2 (claim `a`), field `claims[1].when`: unknown field `group`"),
        "{unknown}"
    );
}

#[test]
fn wrong_types_and_values() {
    let tokens = mapping_error(&rule("  - claim: a\n    value: 1\n    tokens: [idd]\n"));
    assert!(tokens.contains("rule 2 (claim `a`), field `claims[1].tokens[0]`: unknown variant `idd`, expected `id` or `access`"), "{tokens}");
    let required = mapping_error(&rule("  - claim: a\n    from: x\n    required: maybe\n"));
    assert!(
        required.contains(
            "field `claims[1].required`: invalid type: string \"maybe\", expected a boolean"
        ),
        "{required}"
    );
    let nested = mapping_error(&rule("  - claim: a\n    value: [[1]]\n"));
    assert!(
        nested.contains(
            "field `claims[1].value`: arrays may hold only strings, numbers and booleans"
        ),
        "{nested}"
    );
    let both = mapping_error(&rule(
        "  - claim: a\n    from: x\n    required: true\n    default: 1\n",
    ));
    assert!(
        both.contains("field `claims[1].required`: `required` and `default` exclude each other"),
        "{both}"
    );
    let version = mapping_error("version: 2\n");
    assert!(
        version.contains("test.yaml:1:1: field `version`: unsupported mapping version 2"),
        "{version}"
    );
    let syntax = mapping_error("version: 1\nclaims:\n  - claim: a\n   from: x\n");
    assert!(
        syntax.starts_with("invalid mapping test.yaml: 1 problem\n  test.yaml:4:"),
        "{syntax}"
    );
}

/// YAML syntax errors come with a plain hint, at the line of the mistake.
#[test]
fn yaml_syntax_errors_have_a_plain_hint() {
    for (yaml, at, says) in [
        (
            "version: 1\nclaims:\n  - claim: a\n    from: email\n  - claim: b\n   from: email\n",
            "6:4",
            "did not find expected '-' indicator: the indentation does not match the lines above",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    from: email\n\tvalue: 1\n",
            "5:1",
            "YAML indents with spaces, not tabs",
        ),
        (
            // A tab where an item starts: not the hint about `@`.
            "version: 1\nclaims:\n\t- claim: a\n    value: 1\n",
            "3:1",
            "found character that cannot start any token: a tab: YAML indents with spaces, not tabs",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: @home\n",
            "4:12",
            "found character that cannot start any token: a value starting with `@`, a backtick or `%` must be quoted",
        ),
        (
            // No type name of ours, and what the item should be.
            "version: 1\nclaims: []\nscopes:\n  add:\n    - orders-api/read\n",
            "5:7",
            "field `scopes.add[0]`: invalid type: string \"orders-api/read\", expected a mapping (`key: value`): each `scopes.add` item names its scope: `- scope: orders-api/read`",
        ),
        (
            // The `{` left open on line 3, though the parser notices on line 4.
            "version: 1\nclaims:\n  - {claim: a, from: email\n  - claim: b\n",
            "3:5",
            "this `{ ... }` mapping is not closed: end it with `}`",
        ),
        (
            "version: 1\nclaims:\n  claim: a\n  from: email\n",
            "3:3",
            "invalid type: map, expected a sequence: a list is expected here: start each item with `- `",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    template: {given_name} {family_name}\n",
            "4:15",
            "a value starting with `{` is read as a mapping: quote it",
        ),
    ] {
        let err = mapping_error(yaml);
        assert!(
            err.contains(&format!("test.yaml:{at}: ")) && err.contains(says),
            "{at}: {err}"
        );
        assert!(
            !err.contains(" at line "),
            "the position is said once: {err}"
        );
    }
}

#[test]
fn duplicate_keys_are_refused() {
    let field = mapping_error("version: 1\nclaims:\n  - claim: a\n    claim: b\n    value: 1\n");
    assert!(
        // At the duplicate's line, not the mapping's.
        field.contains("test.yaml:4:5: rule 1, field `claims[0]`: duplicate field `claim`"),
        "{field}"
    );
    let table = mapping_error(
        "version: 1\nclaims:\n  - claim: c\n    from: x\n    transform: [{map: {a: 1, a: 2}}]\n",
    );
    assert!(table.contains("test.yaml:5:23: rule 1, field `claims[0].transform[0].map`: duplicate entry with key \"a\""), "{table}");
}

#[test]
fn every_problem_is_listed() {
    let err = mapping_error(&rule(
        "  - claim: sub\n    value: 1\n  - claim: b\n    from: x\n    transform: [nope]\n  - claim: c\n",
    ));
    assert!(err.contains("3 problems"), "{err}");
    for needle in [
        "rule 2 (claim `sub`)",
        "rule 3 (claim `b`)",
        "rule 4 (claim `c`)",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
}

#[test]
fn limits_are_enforced() {
    let huge = format!(
        "version: 1\n# {}\n",
        "x".repeat(claim_mapper::mapping::MAX_MAPPING_BYTES)
    );
    assert!(mapping_error(&huge).contains("is over 1048576 bytes"));
    let mut many = String::from("version: 1\nclaims:\n");
    for i in 0..=claim_mapper::mapping::MAX_RULES {
        many.push_str(&format!("  - {{claim: c{i}, value: 1}}\n"));
    }
    assert!(
        mapping_error(&many)
            .contains("field `claims`: 2001 rules (base and overlays); the limit is 2000")
    );
    let mut bomb = String::from(
        "version: 1\nclaims:\n  - claim: a0\n    value: &a0 [x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..8 {
        let p = format!("*a{}", i - 1);
        bomb.push_str(&format!(
            "  - claim: a{i}\n    value: &a{i} [{}]\n",
            [p.as_str(); 9].join(", ")
        ));
    }
    let err = mapping_error(&bomb);
    assert!(err.contains("repetition limit exceeded"), "{err}");
}

#[test]
fn constant_claims_must_fit_the_token_size_limit() {
    let big = mapping_error(&format!(
        "version: 1\nlimits: {{token_claim_bytes: 50}}\nclaims:\n  - claim: banner\n    value: '{}'\n",
        "z".repeat(60)
    ));
    assert!(big.contains("test.yaml:5:5: rule 1 (claim `banner`), field `claims[0].value`: the claim is 72 bytes of JSON; limits.token_claim_bytes is 50"), "{big}");
    let sum = mapping_error(
        "version: 1\nlimits: {token_claim_bytes: 50}\nclaims:\n  - {claim: a, value: '0123456789012345678901234567890', tokens: [id]}\n  - {claim: b, value: '0123456789012345678901234567890', tokens: [access]}\n  - {claim: c, value: '0123456789012345678901234567890'}\n",
    );
    assert!(sum.contains("rule 3 (claim `c`), field `claims[2].value`: constant claims for the id token reach 76 bytes"), "{sum}");
    assert!(!sum.contains("rule 2"), "{sum}");
    let bad = mapping_error("version: 1\nlimits: {token_claim_bytes: 0}\n");
    assert!(
        bad.contains("field `limits.token_claim_bytes`: must be between 1 and 65536"),
        "{bad}"
    );
}

#[test]
fn group_pipeline_errors_name_the_step() {
    let err = mapping_error(
        "version: 1\ngroups:\n  from: [cognito, {attribute: ''}]\n  keep:\n    patterns: ['(']\n  rename: {}\n  max: 0\n  roles:\n    - group: admins\n      role: admin\n",
    );
    for needle in [
        "test.yaml:3:20: field `groups.from[1].attribute`: an attribute name cannot be empty",
        "test.yaml:5:16: field `groups.keep.patterns[0]`: invalid regular expression",
        "test.yaml:6:3: field `groups.rename`: give `strip_prefix` or `table`",
        "test.yaml:7:3: field `groups.max`: must be at least 1; to remove every group, suppress `cognito:groups`",
        "test.yaml:10:7: field `groups.roles[0].role`: expected an IAM role ARN, `arn:aws:iam::123456789012:role/NAME`",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
    let empty_keep = mapping_error("version: 1\ngroups:\n  keep: {}\n");
    assert!(empty_keep.contains("test.yaml:3:3: field `groups.keep`: list `names`, `prefixes` or `patterns`; an empty allowlist would drop every group"), "{empty_keep}");
    let source = mapping_error("version: 1\ngroups:\n  from: [cognitoo]\n");
    assert!(source.contains("test.yaml:3:3: field `groups`: `from`, source 1: a group source is `cognito` or `{attribute: NAME}` (optionally with `delimiter`)"), "{source}");
    let typo = mapping_error("version: 1\ngroups:\n  from: [{atribute: x}]\n");
    assert!(typo.contains("field `groups`: `from`, source 1: unknown field `atribute`, expected `attribute` or `delimiter`"), "{typo}");
    let padded = mapping_error("version: 1\ngroups:\n  rename:\n    table: {a: ' x'}\n");
    assert!(
        padded.contains(
            "field `groups.rename.table.a`: a group name cannot start or end with whitespace"
        ),
        "{padded}"
    );
    let twice = mapping_error(
        "version: 1\ngroups:\n  roles:\n    - {group: a, role: 'arn:aws:iam::111122223333:role/a'}\n    - {group: a, role: 'arn:aws:iam::111122223333:role/b'}\n",
    );
    assert!(
        twice.contains("field `groups.roles[1].group`: `a` is listed twice"),
        "{twice}"
    );
}

#[test]
fn overlay_errors_name_the_overlay_rule_and_field() {
    let err = mapping_error(
        "version: 1\nclaims:\n  - claim: tenant\n    from: custom:tenant\nclients:\n  web:\n    claims:\n      - claim: tenant\n        from: custom:org\n        transform: [nope]\n    disable: [plan]\n  'bad id!': {}\ntriggers:\n  TokenGeneration_Login: {}\n",
    );
    for needle in [
        "test.yaml:10:21: rule clients.web.1 (claim `tenant`), field `clients.web.claims[0].transform[0]`: unknown transform `nope`",
        "test.yaml:11:15: field `clients.web.disable[0]`: no earlier rule sets `plan`, so there is nothing to disable",
        "test.yaml:12:3: field `clients.bad id!`: `bad id!` is not an app client id",
        "test.yaml:14:3: field `triggers.TokenGeneration_Login`: unknown trigger source `TokenGeneration_Login`",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
    let many: String = (0..101).map(|i| format!("  c{i}: {{}}\n")).collect();
    let many = mapping_error(&format!("version: 1\nclients:\n{many}"));
    assert!(
        many.contains("field `clients`: 101 client overlays; the limit is 100"),
        "{many}"
    );
    let serde = mapping_error(
        "version: 1\ntriggers:\n  TokenGeneration_ClientCredentials:\n    claims:\n      - claim: partner\n        frm: x\n",
    );
    assert!(serde.contains("rule triggers.TokenGeneration_ClientCredentials.1 (claim `partner`), field `triggers.TokenGeneration_ClientCredentials.claims[0]`: unknown field `frm`"), "{serde}");
    let both = mapping_error(
        "version: 1\nclaims:\n  - claim: a\n    value: 1\nclients:\n  web:\n    claims:\n      - claim: a\n        value: 2\n    disable: [a]\n",
    );
    assert!(both.contains("field `clients.web.disable[0]`: `a` is also set by this overlay, which already replaces the earlier rules"), "{both}");
    // Overlay rules meet the same contract checks as base rules, and the size limit per plan.
    let reserved = mapping_error(
        "version: 1\nclients:\n  web:\n    claims:\n      - claim: cognito:groups\n        value: x\n",
    );
    assert!(reserved.contains("rule clients.web.1 (claim `cognito:groups`), field `clients.web.claims[0].claim`: `cognito:groups` can only be changed through a group override"), "{reserved}");
    let big = format!(
        "version: 1\nlimits: {{token_claim_bytes: 100}}\nclaims:\n  - claim: a\n    value: '{}'\nclients:\n  web:\n    claims:\n      - claim: b\n        value: '{}'\n",
        "x".repeat(60),
        "y".repeat(60)
    );
    let big = mapping_error(&big);
    assert!(big.contains("rule clients.web.1 (claim `b`), field `clients.web.claims[0].value`: constant claims for the id token reach"), "{big}");
}

/// A mapping in which these mistakes pass would give claims to users it was never meant for.
mod no_silent_grants {
    use super::*;

    /// The mistake's problem, which must name `field` (and the rule, for mistakes in a rule).
    fn refused(yaml: &str, field: &str, says: &str) -> String {
        let err = mapping_error(yaml);
        assert!(
            err.contains(&format!("field `{field}`")) && err.contains(says),
            "expected `{field}`: {says}\n{err}"
        );
        err
    }

    #[test]
    fn an_empty_when_is_refused_not_read_as_always() {
        let err = refused(
            &rule("  - claim: admin\n    value: true\n    when: {}\n"),
            "claims[1].when",
            "would hold for every user",
        );
        assert!(
            err.contains("test.yaml:7:5: rule 2 (claim `admin`)"),
            "{err}"
        );
        refused(
            "version: 1\nscopes:\n  add:\n    - scope: orders-api/write\n      when: {}\n",
            "scopes.add[0].when",
            "would hold for every user",
        );
    }

    #[test]
    fn a_when_whose_lines_were_commented_out_is_refused() {
        let err = refused(
            &rule("  - claim: admin\n    value: true\n    when:\n    #  groups: [admins]\n"),
            "claims[1].when",
            "the key has no value (null)",
        );
        assert!(err.contains("rule 2 (claim `admin`)"), "{err}");
        refused(
            &rule(
                "  - claim: admin\n    value: true\n    when:\n      groups:\n      #  - admins\n",
            ),
            "claims[1].when.groups",
            "the key has no value (null)",
        );
        for key in ["clients", "triggers"] {
            refused(
                &rule(&format!(
                    "  - claim: a\n    value: 1\n    when:\n      {key}: ~\n"
                )),
                &format!("claims[1].when.{key}"),
                "the key has no value (null)",
            );
        }
        refused(
            "version: 1\nscopes:\n  add:\n    - scope: orders-api/write\n      when:\n",
            "scopes.add[0].when",
            "the key has no value (null)",
        );
    }

    #[test]
    fn a_null_or_empty_group_filter_is_refused() {
        for (section, field) in [
            ("  keep:\n", "groups.keep"),
            ("  rename:\n", "groups.rename"),
            (
                "  rename:\n    strip_prefix:\n",
                "groups.rename.strip_prefix",
            ),
            ("  roles:\n", "groups.roles"),
            ("  max:\n", "groups.max"),
        ] {
            refused(
                &format!("version: 1\ngroups:\n  from: [cognito]\n{section}"),
                field,
                "the key has no value (null)",
            );
        }
        refused(
            "version: 1\ngroups:\n",
            "groups",
            "the key has no value (null)",
        );
        refused(
            "version: 1\ngroups:\n  keep: {}\n",
            "groups.keep",
            "an empty allowlist",
        );
    }

    #[test]
    fn null_rule_keys_are_refused() {
        for key in [
            "from",
            "value",
            "template",
            "default",
            "tokens",
            "transform",
        ] {
            let source = if ["from", "value", "template"].contains(&key) {
                ""
            } else {
                "    from: x\n"
            };
            refused(
                &rule(&format!("  - claim: a\n{source}    {key}:\n")),
                &format!("claims[1].{key}"),
                "the key has no value (null)",
            );
        }
        refused(
            &rule("  - claim: a\n    from: x\n    transform: []\n"),
            "claims[1].transform",
            "an empty list applies no transform",
        );
    }

    #[test]
    fn a_malformed_template_placeholder_is_refused() {
        refused(
            &rule("  - claim: display\n    template: \"{given_name {family_name}\"\n"),
            "claims[1].template",
            "`{` inside a placeholder",
        );
    }

    #[test]
    fn when_clients_are_checked_like_overlay_client_ids() {
        let err = refused(
            &rule("  - claim: c\n    value: x\n    when:\n      clients: [orders-web]\n"),
            "claims[1].when.clients[0]",
            "`orders-web` is not an app client id",
        );
        assert!(err.contains("test.yaml:8:17"), "{err}");
    }

    /// The example as written (with the `version:` line every mapping needs): refused.
    #[test]
    fn the_reported_mapping_is_refused() {
        let err = mapping_error(
            "version: 1
claims:
  - claim: admin
    value: true
    when: {}            # or `when:` with its lines commented out: admin = true for EVERY user
  - claim: display
    template: \"{given_name {family_name}\"    # malformed placeholder: accepted
  - claim: c
    value: x
    when:
      clients: [orders-web]                  # not an app client id (overlays refuse this; `when` does not)
groups:
  from: [cognito]
  keep:                 # null: accepted (the README says an empty `keep` is refused)
",
        );
        // Every mistake, in one run, each at its line.
        for (at, field) in [
            ("5:5", "claims[0].when"),
            ("7:5", "claims[1].template"),
            ("11:17", "claims[2].when.clients[0]"),
            ("14:3", "groups.keep"),
        ] {
            assert!(
                err.contains(&format!("test.yaml:{at}:"))
                    && err.contains(&format!("field `{field}`")),
                "{at} {field}: {err}"
            );
        }
        assert!(
            err.starts_with("invalid mapping test.yaml: 4 problems"),
            "{err}"
        );
    }
}

/// Every key of the format, written with nothing after it: refused, never read as absent or
/// empty (an absent `suppress` or `when`, an empty `keep`, would widen what the mapping does).
#[test]
fn every_key_left_null_is_refused() {
    let rule_keys = "  - claim: a\n    from: x\n";
    for (yaml, field) in [
        ("version: 1\nclaims:\n", "claims"),
        ("version: 1\ndefaults:\n", "defaults"),
        ("version: 1\ndefaults:\n  tokens:\n", "defaults.tokens"),
        ("version: 1\non_error:\n", "on_error"),
        ("version: 1\nsuppress:\n", "suppress"),
        ("version: 1\nsuppress:\n  id:\n", "suppress.id"),
        ("version: 1\nsuppress:\n  access:\n", "suppress.access"),
        ("version: 1\nscopes:\n", "scopes"),
        ("version: 1\nscopes:\n  add:\n", "scopes.add"),
        ("version: 1\nscopes:\n  suppress:\n", "scopes.suppress"),
        ("version: 1\nlimits:\n", "limits"),
        (
            "version: 1\nlimits:\n  token_claim_bytes:\n",
            "limits.token_claim_bytes",
        ),
        ("version: 1\nclients:\n", "clients"),
        ("version: 1\nclients:\n  abc:\n", "clients.abc"),
        (
            "version: 1\nclients:\n  abc:\n    claims:\n",
            "clients.abc.claims",
        ),
        (
            "version: 1\nclients:\n  abc:\n    disable:\n",
            "clients.abc.disable",
        ),
        ("version: 1\ntriggers:\n", "triggers"),
        ("version: 1\ngroups:\n  from:\n", "groups.from"),
        (
            "version: 1\ngroups:\n  drop_idp_group:\n",
            "groups.drop_idp_group",
        ),
        (
            "version: 1\ngroups:\n  keep:\n    names:\n",
            "groups.keep.names",
        ),
        (
            "version: 1\ngroups:\n  keep:\n    prefixes:\n",
            "groups.keep.prefixes",
        ),
        (
            "version: 1\ngroups:\n  keep:\n    patterns:\n",
            "groups.keep.patterns",
        ),
        (
            "version: 1\ngroups:\n  rename:\n    table:\n",
            "groups.rename.table",
        ),
        (
            &format!("version: 1\nclaims:\n{rule_keys}    required:\n"),
            "claims[0].required",
        ),
        (
            "version: 1\nclaims:\n  - from: x\n    claim:\n",
            "claims[0].claim",
        ),
    ] {
        let err = mapping_error(yaml);
        assert!(err.contains(&format!("`{field}`")), "{yaml}\n{err}");
    }
}

#[test]
fn yaml_tags_and_null_table_values_are_refused() {
    let tag = mapping_error(&rule("  - claim: a\n    value: !Ref Param\n"));
    assert!(
        tag.contains("field `claims[1].value`: YAML tag `!Ref` is not supported"),
        "{tag}"
    );
    for value in ["~", ".nan"] {
        let err = mapping_error(&rule(&format!(
            "  - claim: a\n    from: x\n    transform: [{{map: {{gold: {value}}}}}]\n"
        )));
        assert!(err.contains("a value cannot be null"), "{value}: {err}");
    }
    let default = mapping_error(&rule(
        "  - claim: a\n    from: x\n    transform: [{map: {gold: 1}, default: ~}]\n",
    ));
    assert!(default.contains("a value cannot be null"), "{default}");
}

/// Mistakes that make a rule do nothing, silently: refused where the rule can never apply,
/// warned where the name may still be right for some pool.
mod no_silent_misses {
    use super::*;

    const PIPELINE: &str = "groups:\n  from: [cognito]\n  keep: {names: [app-admins, app-sales, app-support, finance]}\n  rename: {strip_prefix: app-, table: {admins: Administrators, finance: billing}}\n";

    #[test]
    fn when_groups_the_pipeline_cannot_produce_are_refused_with_the_step() {
        let yaml = format!(
            "version: 1\nclaims:\n  - {{claim: a, value: 1, when: {{groups: [admins]}}}}\n  - {{claim: b, value: 1, when: {{groups: [sales, support]}}}}\n  - {{claim: c, value: 1, when: {{groups: [billing, Administrators, support]}}}}\n{PIPELINE}scopes:\n  add:\n    - {{scope: a/b, when: {{groups: [ops]}}}}\n"
        );
        let err = mapping_error(&yaml);
        for (at, field, says) in [
            (
                "3:42",
                "claims[0].when.groups[0]",
                "the group pipeline never produces `admins`: `rename.table` renames it to `Administrators`, so this rule never applies",
            ),
            (
                "12:36",
                "scopes.add[0].when.groups[0]",
                "the group pipeline never produces `ops`: `keep` drops `app-ops`, `ops`, the only groups that would become it, so this scope is never added",
            ),
        ] {
            assert!(
                err.contains(&format!("test.yaml:{at}:"))
                    && err.contains(&format!("field `{field}`: {says}")),
                "{field}: {err}"
            );
        }
        // `sales` and `support` come from `app-sales` and `app-support`; `billing` from
        // `finance`, `Administrators` from `app-admins`: every other name is reachable.
        assert!(
            err.starts_with("invalid mapping test.yaml: 2 problems"),
            "{err}"
        );
        // Without a pipeline, the groups are the user's: any name may hold.
        support::mapping(
            "version: 1\nclaims:\n  - {claim: a, value: 1, when: {groups: [admins]}}\n",
        );
    }

    #[test]
    fn a_role_for_a_group_the_pipeline_cannot_produce_is_refused() {
        let err = mapping_error(&format!(
            "version: 1\n{PIPELINE}  roles:\n    - {{group: admins, role: 'arn:aws:iam::111122223333:role/a'}}\n"
        ));
        assert!(
            err.contains(
                "field `groups.roles[0].group`: the group pipeline never produces `admins`"
            ),
            "{err}"
        );
    }

    #[test]
    fn attribute_names_no_pool_can_have_are_warned_with_the_name_meant() {
        let m = support::mapping(
            "version: 1\nclaims:\n  - {claim: department, from: department}\n  - {claim: e, template: 'x {emial}'}\n  - {claim: t, from: [custon:tier, email]}\n  - {claim: fine, from: [custom:a, dev:b, cognito:user_status, identities, $.request.x]}\ngroups:\n  from: [{attribute: ADGroups}]\n",
        );
        let warnings: Vec<String> = m.warnings().iter().map(ToString::to_string).collect();
        let expect = [
            (
                "3:25: rule 1 (claim `department`), field `claims[0].from`",
                "`department`",
                "custom:department",
            ),
            (
                "4:16: rule 2 (claim `e`), field `claims[1].template`",
                "`emial`",
                "email",
            ),
            (
                "5:16: rule 3 (claim `t`), field `claims[2].from`",
                "`custon:tier`",
                "custom:tier",
            ),
            (
                "8:11: field `groups.from[0].attribute`",
                "`ADGroups`",
                "custom:ADGroups",
            ),
        ];
        assert_eq!(warnings.len(), expect.len(), "{warnings:#?}");
        for (warning, (at, name, meant)) in warnings.iter().zip(expect) {
            assert!(
                warning.starts_with(at)
                    && warning.contains(&format!("{name} is not an attribute Cognito defines"))
                    && warning.contains(&format!("did you mean `{meant}`?")),
                "{warning}"
            );
        }
    }

    #[test]
    fn every_unknown_key_is_reported_in_one_run_with_the_key_meant() {
        let err = mapping_error(
            "version: 1\nclaims:\n  - claim: a\n    from: email\n    tranform: lowercase\n    defualt: none\n  - claim: b\n    from: email\n    transform: lowercse\ngroup:\n  from: [cognito]\n",
        );
        for (at, says) in [
            ("5:5", "unknown field `tranform`"),
            ("6:5", "unknown field `defualt`"),
            ("10:1", "unknown field `group`"),
            (
                "9:5",
                "unknown transform `lowercse`; did you mean `lowercase`?",
            ),
        ] {
            assert!(
                err.contains(&format!("test.yaml:{at}:")) && err.contains(says),
                "{at}: {err}"
            );
        }
        for meant in ["transform", "default", "groups"] {
            assert!(
                err.contains(&format!("did you mean `{meant}`?")),
                "{meant}: {err}"
            );
        }
        assert!(
            err.starts_with("invalid mapping test.yaml: 4 problems"),
            "{err}"
        );
    }
}

/// A value of the wrong type does not hide the mistakes after it: each is reported once, and a
/// required key of the wrong type is not also reported missing.
#[test]
fn type_errors_do_not_hide_the_next_ones() {
    let err = mapping_error(
        "version: 1\nclaims:\n  - claim: a\n    value: 1\n    tokens: idd\n  - claim: b\n    from: x\n    required: maybe\n  - claim: [c]\n    value: 1\n  - claim: d\n    from: y\n    tokens: [idd]\n",
    );
    assert!(
        err.starts_with("invalid mapping test.yaml: 4 problems\n"),
        "{err}"
    );
    for needle in [
        "test.yaml:5:13: rule 1 (claim `a`), field `claims[0].tokens`: invalid type: string \"idd\", expected a sequence",
        "rule 2 (claim `b`), field `claims[1].required`: invalid type: string \"maybe\", expected a boolean",
        "rule 3, field `claims[2].claim`: invalid type: sequence, expected a string",
        "rule 4 (claim `d`), field `claims[3].tokens[0]`: unknown variant `idd`",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
    assert!(!err.contains("missing field"), "{err}");
}
