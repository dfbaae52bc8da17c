//! Cold-start and memory harness behind `scripts/bench-cold-start` (docs/performance.md).
//!
//! Starts each case's binary again and again against a local Lambda Runtime API and reports the
//! median time from `exec` to its first `GET /next` (ready for an event) and to its first
//! response, its peak RSS, and (with `--soak N`) its RSS after N invocations. Runs of the cases
//! are interleaved so machine noise falls on all alike; ratios are against the first case.

#[path = "../tests/it/support/http.rs"]
mod http;
#[path = "../tests/it/support/runtime_api.rs"]
mod runtime_api;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use runtime_api::{Posted, RuntimeApi, status_kb};

#[derive(Parser)]
struct Args {
    /// Starts per case.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Invocations of the memory soak per case (0 = none).
    #[arg(long, default_value_t = 0)]
    soak: usize,
    /// Event files to invoke with (mixed round-robin in the soak).
    #[arg(long, required = true)]
    event: Vec<std::path::PathBuf>,
    /// `NAME=BINARY [KEY=VALUE ...]`; the first case is the baseline.
    #[arg(long, required = true)]
    case: Vec<String>,
}

struct Case {
    name: String,
    binary: String,
    env: Vec<(String, String)>,
}

#[derive(Default)]
struct Samples {
    ready_ms: Vec<f64>,
    first_response_ms: Vec<f64>,
    peak_rss_kb: Vec<f64>,
}

fn main() {
    let args = Args::parse();
    let events: Vec<Vec<u8>> = args
        .event
        .iter()
        .map(|p| std::fs::read(p).expect("read event"))
        .collect();
    let cases: Vec<Case> = args
        .case
        .iter()
        .map(|spec| {
            let mut words = spec.split_whitespace();
            let (name, binary) = words
                .next()
                .and_then(|w| w.split_once('='))
                .expect("NAME=BINARY");
            let env = words
                .map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .expect("KEY=VALUE")
                })
                .collect();
            Case {
                name: name.to_owned(),
                binary: binary.to_owned(),
                env,
            }
        })
        .collect();

    let mut samples: Vec<Samples> = cases.iter().map(|_| Samples::default()).collect();
    for _ in 0..args.runs {
        for (case, s) in cases.iter().zip(&mut samples) {
            let (ready, first, rss) = cold_start(case, &events[0]);
            s.ready_ms.push(ready.as_secs_f64() * 1e3);
            s.first_response_ms.push(first.as_secs_f64() * 1e3);
            s.peak_rss_kb.push(rss as f64);
        }
    }

    println!("{} starts per case; medians (p10-p90)", args.runs);
    println!(
        "{:<14} {:>24} {:>24} {:>16}",
        "case", "exec->ready (ms)", "exec->1st response (ms)", "peak RSS (KB)"
    );
    let base = &samples[0];
    for (case, s) in cases.iter().zip(&samples) {
        println!(
            "{:<14} {:>24} {:>24} {:>16}",
            case.name,
            spread(&s.ready_ms),
            spread(&s.first_response_ms),
            spread(&s.peak_rss_kb)
        );
    }
    println!("\nratios to {} (median / median)", cases[0].name);
    for (case, s) in cases.iter().zip(&samples).skip(1) {
        println!(
            "{:<14} ready {:.2}x   first response {:.2}x   peak RSS {:.2}x",
            case.name,
            median(&s.ready_ms) / median(&base.ready_ms),
            median(&s.first_response_ms) / median(&base.first_response_ms),
            median(&s.peak_rss_kb) / median(&base.peak_rss_kb)
        );
    }
    if args.soak > 0 {
        println!("\nmemory over {} invocations (mixed events)", args.soak);
        for case in &cases {
            let (after_1k, after_all, hwm, errors, each) = soak(case, &events, args.soak);
            let early = if args.soak > 1000 {
                format!("RSS after 1,000: {after_1k} KB   ")
            } else {
                String::new()
            };
            println!(
                "{:<14} {early}RSS after {}: {after_all} KB   peak {hwm} KB   errors {errors}   {:.3} ms per invocation",
                case.name,
                args.soak,
                each.as_secs_f64() * 1e3
            );
        }
    }
}

fn spawn(case: &Case, api: &RuntimeApi) -> std::process::Child {
    Command::new(&case.binary)
        .env_clear()
        .envs(api.env())
        .envs(case.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", case.binary))
}

/// One cold start: time to the first `/next`, to the first response, and the peak RSS.
fn cold_start(case: &Case, event: &[u8]) -> (Duration, Duration, u64) {
    let api = RuntimeApi::start();
    api.push("cold", event.to_vec());
    let start = Instant::now();
    let mut child = spawn(case, &api);
    let posted = api
        .posted
        .recv_timeout(Duration::from_secs(30))
        .expect("a response");
    let answered = start.elapsed();
    assert!(
        matches!(posted, Posted::Response { .. }),
        "{}: {posted:?}",
        case.name
    );
    let ready = api.next_arrivals.lock().unwrap()[0] - start;
    let rss = status_kb(child.id(), "VmHWM");
    let _ = child.kill();
    let _ = child.wait();
    (ready, answered, rss)
}

/// RSS after 1,000 invocations and after all, peak RSS, the number of invocation errors, and the
/// mean time per invocation (from the process's start to the last answer, so its start-up and the
/// local Runtime API's own work are included).
fn soak(case: &Case, events: &[Vec<u8>], count: usize) -> (u64, u64, u64, usize, Duration) {
    let api = RuntimeApi::start();
    let mut child = spawn(case, &api);
    let start = Instant::now();
    let (mut errors, mut after_1k) = (0, 0);
    let mut sent = 0;
    for done in 1..=count {
        while sent < count && api.queued() < 64 {
            api.push(&sent.to_string(), events[sent % events.len()].clone());
            sent += 1;
        }
        match api
            .posted
            .recv_timeout(Duration::from_secs(30))
            .expect("a response")
        {
            Posted::Response { .. } => {}
            _ => errors += 1,
        }
        if done == 1000 {
            after_1k = status_kb(child.id(), "VmRSS");
        }
    }
    let each = start.elapsed().div_f64(count as f64);
    let result = (
        after_1k,
        status_kb(child.id(), "VmRSS"),
        status_kb(child.id(), "VmHWM"),
        errors,
        each,
    );
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn spread(v: &[f64]) -> String {
    format!(
        "{:.2} ({:.2}-{:.2})",
        median(v),
        percentile(v, 0.1),
        percentile(v, 0.9)
    )
}
