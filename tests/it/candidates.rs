//! A release's candidate beside the live mapping, against moto behind the AWS request gate: the
//! canary's split (share and stability across invocations and refreshes), its roll-back on an
//! instance, a candidate in shadow, and `promote`/`abort`. The function runs as a process on the
//! Runtime API; the CLI moves the labels.
#![cfg(feature = "ssm")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use claim_mapper::workflow::candidate::serves;
use serde_json::Value;

use crate::ssm::{access_claims, cli, lambda, mapping_text, text};
use crate::support::{self, emf, ssm::put_raw, ssm::unique};
use support::lambda::Lambda;
use support::runtime_api::Posted;

const V2: &str = "v2-authentication-custom-attrs-groups";

/// The fixture event of the user `sub`.
fn sign_in(sub: &str) -> Value {
    let mut event = support::fixture(V2);
    event["request"]["userAttributes"]["sub"] = sub.into();
    event
}

fn users(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("7d3f{i:04}-user")).collect()
}

/// `name` with version 1 (`mappings/default.yaml`) live and version 2 (`candidate`) pushed.
fn parameter(test: &str, candidate: &str) -> String {
    let name = unique(test);
    put_raw(
        &name,
        &mapping_text("mappings/default.yaml"),
        ParameterType::String,
    );
    put_raw(&name, candidate, ParameterType::String);
    let out = cli(&["release", "--ssm-parameter", &name, "--version", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    name
}

/// `release` of version 2 of `name` as the candidate `extra` says (`--canary 10`, `--shadow`).
fn candidate(name: &str, extra: &[&str]) -> String {
    let mut args = vec!["release", "--ssm-parameter", name, "--version", "2"];
    args.extend_from_slice(extra);
    run_ok(&args)
}

fn run_ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

/// Whether the production mapping (version 2) served the user: it adds `plan_level`.
fn served_by_candidate(l: &mut Lambda, sub: &str) -> bool {
    access_claims(&l.invoke(&sign_in(sub)))
        .get("plan_level")
        .is_some()
}

fn refreshing(name: &str) -> Lambda {
    lambda(
        &format!("{name}:live"),
        &[("CLAIM_MAPPING_REFRESH_SECONDS", "1".into())],
    )
}

/// Every metric `query` reads (its capitalised words) is in `line`.
fn reads_metrics_of(query: &str, line: &Value) {
    let metrics = query
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()));
    for metric in metrics {
        assert!(line.get(metric).is_some(), "{metric} of {query} in {line}");
    }
}

/// Invokes until `done` holds for `sub`, for at most 15 s (a refresh every second).
fn until(l: &mut Lambda, sub: &str, done: bool) {
    let start = Instant::now();
    while served_by_candidate(l, sub) != done {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{sub} never changed mapping"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn a_canary_serves_a_stable_share_and_ends_by_abort_or_promotion() {
    let name = parameter("canary", &mapping_text("mappings/prod.yaml"));
    let out = candidate(&name, &["--canary", "25%"]);
    assert!(
        out.contains("label canary-25 -> version 2") && out.contains("serves 25% of users"),
        "{out}"
    );
    let watch = out.lines().last().unwrap().trim().to_owned();
    assert!(watch.starts_with("filter ispresent(CanaryServed)"), "{out}");
    let mut l = refreshing(&name);
    let users = users(60);
    let expected: Vec<bool> = users.iter().map(|u| serves(u, 25)).collect();
    let canary_users = expected.iter().filter(|s| **s).count();
    assert!((5..=25).contains(&canary_users), "{canary_users} of 60");
    // From the first sign-in of a new instance, and again after refreshes: each user keeps the
    // mapping their bucket gives.
    for round in 0..2 {
        let got: Vec<bool> = users
            .iter()
            .map(|u| served_by_candidate(&mut l, u))
            .collect();
        assert_eq!(got, expected, "round {round}");
        std::thread::sleep(Duration::from_millis(1500));
    }
    let canary_user = &users[expected.iter().position(|s| *s).unwrap()];
    let live_user = &users[expected.iter().position(|s| !*s).unwrap()];

    // Aborted: every user is the live mapping's again, the live label unmoved.
    let out = run_ok(&["abort", "--ssm-parameter", &name]);
    assert!(out.contains("ended canary-25 (version 2)"), "{out}");
    until(&mut l, canary_user, false);
    assert!(!served_by_candidate(&mut l, live_user));

    // Again at 10%, then promoted: the live label moves and every user gets version 2.
    candidate(&name, &["--canary", "10"]);
    let out = run_ok(&["promote", "--ssm-parameter", &name, "--json"]);
    let promoted: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(promoted["promoted"], true, "{out}");
    assert_eq!(promoted["candidate"], "canary-10");
    assert_eq!(promoted["version"], 2);
    assert_eq!(promoted["was"], 1);
    until(&mut l, live_user, true);
    let again = run_ok(&["abort", "--ssm-parameter", &name]);
    assert!(
        again.contains("has no candidate"),
        "promotion ended the candidate: {again}"
    );

    let logs = l.stop();
    assert!(logs.contains("release candidate loaded"), "{logs}");
    assert!(logs.contains("release candidate ended"), "{logs}");
    assert!(
        logs.contains(&format!("canary=ssm {name}:canary-25 version 2")),
        "log lines name the canary that served: {logs}"
    );
    // The metric lines say which version served each sign-in.
    let lines = emf::lines(&logs);
    lines.iter().for_each(emf::validate);
    // The two rounds come first, one line per sign-in.
    let rounds = &lines[..2 * users.len()];
    assert!(rounds.iter().all(|l| l["CanaryServed"].is_u64()));
    let canary_lines: Vec<&Value> = rounds.iter().filter(|l| l["CanaryServed"] == 1).collect();
    assert_eq!(
        canary_lines.len(),
        2 * canary_users,
        "two rounds of the canary's users"
    );
    assert!(canary_lines.iter().all(|l| l["mapping_version"] == 2));
    // The query `release` printed reads metrics the lines hold.
    reads_metrics_of(&watch, canary_lines[0]);
    assert_eq!(emf::sum(&lines, "CanaryRolledBack"), 0);
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn a_canary_that_refuses_sign_ins_rolls_itself_back_on_the_instance() {
    // Every sign-in it serves is refused: a required attribute no user has.
    let refusing = "version: 1\non_error: fail\nclaims:\n  - { claim: cost_center, from: \"custom:cost_center_code\", required: true }\n";
    let name = parameter("rollback", refusing);
    candidate(&name, &["--canary", "50"]);
    let mut l = refreshing(&name);
    let mut refused = 0;
    let users = users(120);
    let mut canary_after = Vec::new();
    for user in &users {
        match l.invoke_bytes(serde_json::to_vec(&sign_in(user)).unwrap()) {
            Posted::Error { .. } => {
                assert!(serves(user, 50), "only the canary's users are refused");
                refused += 1;
            }
            Posted::Response { body, .. } => {
                if serves(user, 50) {
                    canary_after.push(body);
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        refused,
        claim_mapper::runtime::candidate::MIN_SIGN_INS,
        "rolled back at the sign-in that made the sample"
    );
    assert!(
        !canary_after.is_empty(),
        "the canary's later users were served"
    );
    let live = access_claims(&support::expected(V2));
    for body in &canary_after {
        assert_eq!(access_claims(body), live, "the live mapping served");
    }
    let logs = l.stop();
    assert_eq!(
        logs.matches("canary rolled back on this instance").count(),
        1,
        "{logs}"
    );
    let lines = emf::lines(&logs);
    assert_eq!(emf::sum(&lines, "CanaryRolledBack"), 1);
    assert_eq!(emf::sum(&lines, "InvocationsRefused"), 20);
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn a_shadow_candidate_logs_its_differences_and_changes_no_token() {
    let name = parameter("shadow", &mapping_text("mappings/prod.yaml"));
    let out = candidate(&name, &["--shadow", "--json"]);
    let released: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(released["candidate"], "shadow", "{out}");
    let watch = released["watch"].as_str().unwrap().to_owned();
    assert_eq!(released["label"], "candidate-shadow");
    let mut l = refreshing(&name);
    let expected = access_claims(&support::expected(V2));
    for user in users(5) {
        assert_eq!(
            access_claims(&l.invoke(&sign_in(&user))),
            expected,
            "never applied"
        );
    }
    let logs = l.stop();
    let differs: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("the shadow candidate's response differs from the live mapping's"))
        .collect();
    // One line per token that differs, the same tokens at every sign-in.
    assert!(
        !differs.is_empty() && differs.len().is_multiple_of(5),
        "{logs}"
    );
    assert!(
        differs.iter().any(|l| l.contains("plan_level")),
        "{differs:?}"
    );
    // Names only: the values the production mapping would write are not logged.
    assert!(
        !logs.contains("tenant-42"),
        "an attribute value in the logs: {logs}"
    );
    let lines = emf::lines(&logs);
    assert_eq!(emf::sum(&lines, "CandidateDiffers"), 5);
    assert_eq!(emf::sum(&lines, "CandidateWouldFail"), 0);
    reads_metrics_of(&watch, &lines[0]);
}

/// An SSM endpoint whose role may call `GetParameter` but not `GetParameters` (a policy written
/// before release candidates): `GetParameters` is denied as IAM denies it, `GetParameter` answers
/// version 1 of the default mapping. Counts the calls of each.
fn get_parameter_only() -> (std::net::SocketAddr, std::sync::Arc<[AtomicUsize; 2]>) {
    let calls = std::sync::Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counted = std::sync::Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let calls = std::sync::Arc::clone(&counted);
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                while let Some(request) = support::http::read_request(&mut reader) {
                    let input: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                    let (status, body) = if input.get("Names").is_some() {
                        calls[0].fetch_add(1, Ordering::SeqCst);
                        let denied = serde_json::json!({
                            "__type": "AccessDeniedException",
                            "message": "User is not authorized to perform: ssm:GetParameters"
                        });
                        ("400 Bad Request", denied)
                    } else {
                        calls[1].fetch_add(1, Ordering::SeqCst);
                        let parameter = serde_json::json!({"Parameter": {
                            "Name": input["Name"], "Type": "String", "Version": 1,
                            "Value": mapping_text("mappings/default.yaml"),
                        }});
                        ("200 OK", parameter)
                    };
                    let headers = [
                        ("Content-Type", "application/x-amz-json-1.1".to_owned()),
                        (
                            "x-amzn-RequestId",
                            "00000000-0000-0000-0000-000000000000".to_owned(),
                        ),
                    ];
                    let body = serde_json::to_vec(&body).unwrap();
                    if support::http::respond(&mut writer, status, &headers, &body).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, calls)
}

#[test]
fn a_role_without_get_parameters_serves_the_live_mapping_and_says_so_once() {
    let (addr, calls) = get_parameter_only();
    let mut env = support::ssm::aws_env(&format!("http://{addr}"));
    env.push((
        "CLAIM_MAPPING_SSM_PARAMETER",
        "/team/claim-mapping:live".into(),
    ));
    env.push(("CLAIM_MAPPING_REFRESH_SECONDS", "1".into()));
    let mut l = Lambda::start(&env);
    let expected = access_claims(&support::expected(V2));
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(3500) {
        assert_eq!(access_claims(&l.invoke(&sign_in("u-1"))), expected);
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs = l.stop();
    let [denied, read] = [0, 1].map(|i| calls[i].load(Ordering::SeqCst));
    // The cold start and at least two refreshes each tried GetParameters, then read the live
    // version with GetParameter.
    assert!(
        denied >= 3 && read == denied,
        "{denied} denied, {read} read"
    );
    assert_eq!(
        logs.matches("release candidates not read: the function's role needs ssm:GetParameters")
            .count(),
        1,
        "{logs}"
    );
    assert!(!logs.contains("mapping refresh failed"), "{logs}");
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn outside_a_release_a_refresh_is_one_call_and_two_during_one() {
    let name = parameter("calls", &mapping_text("mappings/prod.yaml"));
    let calls = || {
        let count = |operation: &str| support::gate::requests(operation, &name).len();
        [count("GetParameters"), count("GetParameter")]
    };
    // The calls made since `before` while the function serves for 3.5 s.
    let serving = |l: &mut Lambda, before: [usize; 2]| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(3500) {
            l.invoke(&sign_in("u-1"));
            std::thread::sleep(Duration::from_millis(100));
        }
        let after = calls();
        [after[0] - before[0], after[1] - before[1]]
    };
    let before = calls();
    let mut l = refreshing(&name);
    let [batched, alone] = serving(&mut l, before);
    // The cold start and refreshes about every second (0.8 to 1 s apart), each one call.
    assert!(batched >= 4, "{batched} GetParameters");
    assert_eq!(alone, 0, "no GetParameter outside a release");

    candidate(&name, &["--shadow"]);
    let [batched, alone] = serving(&mut l, calls());
    // Labels on two versions: the answers do not say which name each answers, so the live
    // reference is read alone too (a refresh may straddle the end of the count).
    assert!(
        batched >= 3 && alone.abs_diff(batched) <= 1,
        "{batched}, {alone}"
    );
    l.stop();
}

#[test]
fn release_refuses_a_share_off_the_ladder_and_a_label_beside_a_candidate() {
    // Refused before any AWS call: no endpoint is configured.
    let release = |extra: &[&str]| {
        let mut args = vec!["release", "--ssm-parameter", "/m", "--version", "2"];
        args.extend_from_slice(extra);
        crate::cli::cli(&args)
    };
    let off = release(&["--canary", "15%"]);
    assert_eq!(off.status.code(), Some(2));
    assert!(
        text(&off).contains("a canary share is one of 1, 5, 10, 25, 50 percent"),
        "{}",
        text(&off)
    );
    for extra in [
        &["--canary", "10", "--label", "prod"][..],
        &["--shadow", "--label", "prod"],
        &["--canary", "10", "--shadow"],
    ] {
        let both = release(extra);
        assert_eq!(both.status.code(), Some(2), "{extra:?}");
        assert!(
            text(&both).contains("cannot be used with"),
            "{}",
            text(&both)
        );
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn an_invalid_candidate_labelled_by_hand_is_reported_once_and_never_served() {
    // `release` refuses it; the console does not.
    let name = parameter(
        "invalid",
        "version: 1\nclaims: [{claim: s3cr3t, frm: email}]\n",
    );
    support::ssm::label(&name, 2, "canary-50");
    let mut l = refreshing(&name);
    let expected = access_claims(&support::expected(V2));
    let start = Instant::now();
    for user in users(40).iter().cycle() {
        assert_eq!(access_claims(&l.invoke(&sign_in(user))), expected, "{user}");
        if start.elapsed() > Duration::from_millis(2500) {
            break;
        }
    }
    let logs = l.stop();
    assert_eq!(logs.matches("rejected_candidate=2").count(), 1, "{logs}");
    assert!(!logs.contains("release candidate loaded"), "{logs}");
    assert!(
        !logs.contains("s3cr3t"),
        "parameter content in the logs: {logs}"
    );
    let lines = emf::lines(&logs);
    assert!(lines.iter().all(|l| l.get("CanaryServed").is_none()));
}
