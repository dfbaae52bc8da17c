//! What a lookup costs per event (docs/performance.md, "Lookups"), the Lambda's whole path each
//! time (parse, lookups, the handler, serialise):
//!
//! - `lookups/bench25`: `mappings/bench.yaml`, no lookups: today's per-event figure, for reference;
//! - `lookups/hit`: `examples/lookups/mapping.yaml`, its item in the instance's cache;
//! - `lookups/miss`: the same with `ttl_seconds: 0`: one `BatchGetItem` per event, answered by a
//!   local endpoint on loopback (a canned DynamoDB answer: the client's own cost and one HTTP
//!   round trip, not DynamoDB's); with `LOOKUP_BENCH_ENDPOINT` set (`scripts/bench-lookups` sets
//!   it to moto's DynamoDB, with the table made), that endpoint instead.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use claim_mapper::engine::Payload;
use claim_mapper::load::{Loaded, Origin};
use claim_mapper::runtime::lambda;
use claim_mapper::runtime::lookups::Lookups;
use claim_mapper::{Mapping, engine};
use criterion::Criterion;
use serde_json::Value;

const TODAY: time::Date = time::macros::date!(2026 - 12 - 07);

/// The table's answer for `TENANT#acme`, as DynamoDB writes a `BatchGetItem` response.
const ANSWER: &str = r#"{"Responses":{"tenants":[{"pk":{"S":"TENANT#acme"},"plan":{"S":"enterprise"},"entitlements":{"L":[{"S":"reports"},{"S":"export"},{"S":"sso"}]},"seats":{"N":"250"}}]},"UnprocessedKeys":{}}"#;

/// A loopback endpoint answering every request with [`ANSWER`], over kept-alive connections.
fn canned_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(n) = lower.strip_prefix("content-length:") {
                            length = n.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{ANSWER}",
                        ANSWER.len()
                    );
                    if writer.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn loaded(name: &str, text: &str) -> Arc<Loaded> {
    Arc::new(Loaded {
        mapping: Mapping::from_yaml(text, name).unwrap_or_else(|e| panic!("{e}")),
        origin: Origin::File(name.into()),
    })
}

/// One event the Lambda's way: parse, the lookups, the handler, serialise.
fn per_event(
    runtime: &tokio::runtime::Runtime,
    lookups: &Lookups,
    mapping: &Arc<Loaded>,
    bytes: &[u8],
) {
    let event = Payload::<Value>::from_slice(bytes).unwrap();
    let (items, _) = runtime.block_on(lookups.items(&mapping.mapping, &event));
    let (reply, _) = lambda::handle_with(Arc::clone(mapping), event, items, TODAY);
    black_box(serde_json::to_vec(&reply.unwrap()).unwrap());
}

fn main() {
    let endpoint = std::env::var("LOOKUP_BENCH_ENDPOINT").unwrap_or_else(|_| canned_endpoint());
    // SAFETY: set before any thread reads the environment (the endpoint's threads do not).
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
        std::env::set_var("AWS_ACCESS_KEY_ID", "bench");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "bench");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let lookups = runtime.block_on(Lookups::new());
    let text = std::fs::read_to_string("examples/lookups/mapping.yaml").unwrap();
    let hit = loaded("hit", &text);
    let miss = loaded("miss", &text.replace("ttl_seconds: 300", "ttl_seconds: 0"));
    let bench25 = loaded(
        "bench25",
        &std::fs::read_to_string("mappings/bench.yaml").unwrap(),
    );
    let acme = std::fs::read("examples/lookups/events/v2-acme.json").unwrap();
    let plain =
        std::fs::read("examples/events/v2-authentication-custom-attrs-groups.json").unwrap();

    // The item reaches the claims, from the endpoint and then from the cache.
    for mapping in [&hit, &miss] {
        let event = Payload::<Value>::from_slice(&acme).unwrap();
        let (items, counts) = runtime.block_on(lookups.items(&mapping.mapping, &event));
        assert!(counts[0].is_some(), "the lookup ran");
        let reply = engine::apply_with(&mapping.mapping, &event, &items, TODAY, &mut ())
            .and_then(engine::Reply::into_owned)
            .unwrap();
        let claims = &reply.event["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
            ["claimsToAddOrOverride"];
        assert_eq!(claims["plan"], "enterprise", "{claims}");
    }

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("lookups");
    group.bench_function("bench25", |b| {
        b.iter(|| per_event(&runtime, &lookups, &bench25, &plain))
    });
    group.bench_function("hit", |b| {
        b.iter(|| per_event(&runtime, &lookups, &hit, &acme))
    });
    group.bench_function("miss", |b| {
        b.iter(|| per_event(&runtime, &lookups, &miss, &acme))
    });
    group.finish();
    c.final_summary();
}
