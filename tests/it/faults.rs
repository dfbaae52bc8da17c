//! SSM faults at cold start and at refresh, against local endpoints that stall, reset or answer
//! garbage (and moto behind a switchable proxy): each gives the documented behaviour, and an
//! invocation never waits for SSM.
#![cfg(feature = "ssm")]

use crate::support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::lambda::Lambda;
use support::ssm::{aws_env, endpoint, put_raw, unique};

const V2: &str = "v2-authentication-custom-attrs-groups";

/// A loopback endpoint that treats every connection with `behave`.
pub(crate) fn endpoint_that(behave: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behave(stream));
        }
    });
    addr
}

pub(crate) fn stall(mut s: TcpStream) {
    let mut buf = [0; 4096];
    let _ = s.read(&mut buf);
    std::thread::sleep(Duration::from_secs(60));
}

fn reset(s: TcpStream) {
    drop(s);
}

fn garbage(mut s: TcpStream) {
    let mut buf = [0; 4096];
    let _ = s.read(&mut buf);
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 9\r\n\r\nnot json!");
}

fn start_with(addr: SocketAddr, fallback: bool) -> (Lambda, Instant) {
    let mut env = aws_env(&format!("http://{addr}"));
    env.push(("CLAIM_MAPPING_SSM_PARAMETER", "/faulty".into()));
    if fallback {
        env.push(("CLAIM_MAPPING_FILE", "mappings/default.yaml".into()));
    }
    (Lambda::start(&env), Instant::now())
}

#[test]
fn cold_start_faults_fail_the_init_within_the_budget_or_fall_back() {
    for (behave, cause) in [
        (stall as fn(TcpStream), "timed out"),
        (reset, "cannot read SSM parameter /faulty"),
        (garbage, "cannot read SSM parameter /faulty"),
    ] {
        let addr = endpoint_that(behave);
        let (lambda, started) = start_with(addr, false);
        let (status, logs) = lambda.wait();
        let waited = started.elapsed();
        assert!(!status.success());
        assert!(logs.contains(cause), "{cause}: {logs}");
        // The SSM budget is 1.5 s; 4 s leaves Cognito's 5 s intact even on a slow machine.
        assert!(
            waited < Duration::from_secs(4),
            "{cause}: init took {waited:?}"
        );

        let (mut lambda, _) = start_with(addr, true);
        assert_eq!(lambda.invoke(&support::fixture(V2)), support::expected(V2));
        assert!(lambda.stop().contains("serving the fallback file"));
    }
}

/// Forwards to moto, or (when `stalled`) accepts and never answers.
pub(crate) fn switchable_proxy(stalled: Arc<AtomicBool>) -> SocketAddr {
    let target: SocketAddr = endpoint().trim_start_matches("http://").parse().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            if stalled.load(Ordering::SeqCst) {
                std::thread::spawn(move || stall(client));
                continue;
            }
            let Ok(server) = TcpStream::connect(target) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let up = Arc::clone(&stalled);
            let down = Arc::clone(&stalled);
            std::thread::spawn(move || relay(client, s2, &up));
            std::thread::spawn(move || relay(server, c2, &down));
        }
    });
    addr
}

/// Copies `from` to `to` until the endpoint stalls: then nothing more gets through, also on a
/// connection the client keeps alive and reuses.
fn relay(mut from: TcpStream, mut to: TcpStream, stalled: &AtomicBool) {
    let mut buf = [0; 4096];
    while let Ok(n @ 1..) = from.read(&mut buf) {
        if stalled.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn a_stalled_refresh_never_delays_an_invocation() {
    let name = unique("stall");
    let mapping = std::fs::read_to_string(support::root().join("mappings/default.yaml")).unwrap();
    put_raw(&name, &mapping, aws_sdk_ssm::types::ParameterType::String);
    let stalled = Arc::new(AtomicBool::new(false));
    let proxy = switchable_proxy(Arc::clone(&stalled));
    let mut env = aws_env(&format!("http://{proxy}"));
    env.push(("CLAIM_MAPPING_SSM_PARAMETER", name.clone()));
    env.push(("CLAIM_MAPPING_REFRESH_SECONDS", "1".into()));
    let mut lambda = Lambda::start(&env);
    let event = support::fixture(V2);
    assert_eq!(lambda.invoke(&event), support::expected(V2));

    stalled.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut slowest = Duration::ZERO;
    while Instant::now() < deadline {
        let start = Instant::now();
        assert_eq!(
            lambda.invoke(&event),
            support::expected(V2),
            "the live mapping keeps serving"
        );
        slowest = slowest.max(start.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    // A refresh that blocked the invocation would take the SSM budget (1.5 s) at least.
    assert!(
        slowest < Duration::from_secs(1),
        "an invocation waited {slowest:?}"
    );
    let logs = lambda.stop();
    assert!(
        logs.contains("mapping refresh failed; the live mapping stays"),
        "{logs}"
    );
    assert!(logs.contains("timed out"), "{logs}");
}

/// An SSM endpoint that throttles every call as SSM does past its quota (HTTP 400, AWS JSON 1.1
/// error `ThrottlingException`, "Rate exceeded"), counting the calls.
fn throttling_endpoint() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::AtomicUsize;
    let calls = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counted = Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let calls = Arc::clone(&counted);
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                while support::http::read_request(&mut reader).is_some() {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let headers = [
                        ("Content-Type", "application/x-amz-json-1.1".to_owned()),
                        (
                            "x-amzn-RequestId",
                            "00000000-0000-0000-0000-000000000000".to_owned(),
                        ),
                    ];
                    let body = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
                    if support::http::respond(&mut writer, "400 Bad Request", &headers, body)
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (addr, calls)
}

#[test]
fn a_throttled_cold_start_retries_with_backoff_within_its_budget_then_falls_back_or_fails() {
    // Without a fallback file a failed read fails the init: six attempts within 2 s.
    let (addr, calls) = throttling_endpoint();
    let (lambda, started) = start_with(addr, false);
    let (status, logs) = lambda.wait();
    let waited = started.elapsed();
    assert!(!status.success());
    assert!(logs.contains("throttled by SSM"), "{logs}");
    assert_eq!(calls.load(Ordering::SeqCst), 6, "{logs}");
    // Backoff between the attempts (each throttled answer is immediate): at most 2.1 s in all,
    // and the budget is 2 s; 4 s leaves Cognito's 5 s intact even on a slow machine.
    assert!(waited < Duration::from_secs(4), "init took {waited:?}");

    // With one, three attempts, then the file serves, counted as the fallback.
    let (addr, calls) = throttling_endpoint();
    let (mut lambda, _) = start_with(addr, true);
    assert_eq!(lambda.invoke(&support::fixture(V2)), support::expected(V2));
    let logs = lambda.stop();
    assert!(logs.contains("serving the fallback file"), "{logs}");
    assert!(logs.contains("throttled by SSM"), "{logs}");
    assert_eq!(calls.load(Ordering::SeqCst), 3, "{logs}");
    let lines = support::emf::lines(&logs);
    assert_eq!(lines[0]["FallbackServed"], 1);
}
