//! Per-event cost and load cost, over the fixture events (docs/performance.md).
//!
//! - `per_event/floor`: parse each event into the handler's input type (`serde_json::Value`) and
//!   serialise it back unchanged, both as `lambda_runtime` does it: the floor of a JSON-in/JSON-out
//!   function;
//! - `per_event/floor_output`: parse each event, but serialise it as `bench.yaml` returns it (the
//!   response filled in, built beforehand): the floor of any implementation that must write
//!   that larger output;
//! - `per_event/bench25`: the Lambda's per-event path with `mappings/bench.yaml` (parse, the
//!   handler, serialise what it returns);
//! - `per_event/rules500_apply`: 500 rules (bench.yaml twenty times over), all eligible;
//! - `per_event/rules500_when_false`: bench.yaml plus 475 rules whose `when` never holds (a
//!   client no event has);
//! - `per_event/rules500_value_false`: the same with a value condition that never holds (an
//!   `email` no user has: read and compared for every rule);
//! - `per_event/bench25_metrics`: bench25 with metrics on: one metric line formatted per event;
//! - `per_event/floor_plain`, `per_event/bench25_plain`: the floor and bench25 with the event
//!   parsed by plain `serde_json::from_slice` instead of `lambda_runtime`'s deserializer (which
//!   also tracks the path for error messages): the stricter ratio, for reference;
//! - `load/*`: reading and compiling each mapping.
//!
//! With `ENGINE_BENCH_LOOP=CASE:N` in its environment (CASE: `floor`, `bench25` or one of the
//! `rules500_*` cases), the bench binary instead runs that case's per-event path N times over the
//! fixture events and exits, for profilers (`scripts/profile-per-event` runs it under cachegrind).
//!
//! Every figure is for all fixture events together. After the run it prints the ratios the
//! budgets are stated in, from criterion's own estimates of this run; the per-event ratio also
//! from the floor and the 25 rules timed in alternating blocks (robust to the machine's speed
//! changing between criterion's measurements), with where the time goes (parsing, writing the
//! event back, evaluating, writing the reply), and the same for `mappings/default.yaml` for
//! reference; and what each rule of `bench.yaml` costs on its
//! own (evaluation only, no parsing or writing), to show where the per-event time goes.

use std::hint::black_box;

use std::sync::Arc;

use claim_mapper::engine::Event;
use claim_mapper::load::{Loaded, Origin};
use claim_mapper::runtime::lambda;
use claim_mapper::runtime::metrics::{InvocationMetrics, Metrics, MetricsSettings};
use claim_mapper::{Mapping, engine};
use criterion::Criterion;
use serde_json::Value;

const TODAY: time::Date = time::macros::date!(2026 - 11 - 26);
/// The items of a mapping without lookups.
static NO_ITEMS: engine::Items = engine::Items::none();

fn events() -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir("examples/events")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn bench25() -> String {
    std::fs::read_to_string("mappings/bench.yaml").unwrap()
}

/// bench.yaml with its 25 rules repeated `copies` more times (claims renamed `x<name>_<i>`).
fn grown(copies: usize) -> String {
    let base = bench25();
    let mut more = String::new();
    for i in 0..copies {
        for line in base.lines().filter(|l| l.starts_with("  - { claim: ")) {
            let line =
                line.replacen("claim: ", "claim: x", 1)
                    .replacen(", ", &format!("_{i}, "), 1);
            more.push_str(&line);
            more.push('\n');
        }
    }
    base.replacen("suppress:\n", &format!("{more}suppress:\n"), 1)
}

fn rules500_apply() -> String {
    grown(19)
}

/// bench.yaml plus 475 rules, each with `when` (a flow mapping's body) that no event meets.
fn rules500_false(when: &str) -> String {
    let text = grown(19);
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("  - { claim: x") {
            let body = line.trim_end().strip_suffix('}').unwrap().trim_end();
            let body = body.split(", when:").next().unwrap();
            out.push_str(&format!("{body}, when: {{ {when} }} }}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn rules500_when_false() -> String {
    // No fixture client is `nobody`.
    rules500_false("clients: [nobody]")
}

fn rules500_value_false() -> String {
    // Every user's email is read and compared; none is this one.
    rules500_false("attributes: { email: [nobody@example.com] }")
}

/// `text` compiled as the Lambda holds it.
fn loaded(name: &str, text: &str) -> Arc<Loaded> {
    Arc::new(Loaded {
        mapping: Mapping::from_yaml(text, name).unwrap_or_else(|e| panic!("{e}")),
        origin: Origin::File(name.into()),
    })
}

/// How the event is parsed into the handler's input type.
#[derive(Clone, Copy)]
enum Parse {
    /// As `lambda_runtime` 1.x does it (`deserializer.rs`): serde_json under
    /// `serde_path_to_error`, which tracks the path for its error messages, into the Lambda's
    /// input type ([`engine::Payload`], which only wraps the `Value`).
    Runtime,
    /// Plain `serde_json::from_slice`.
    Plain,
}

fn parse(how: Parse, bytes: &[u8]) -> Value {
    match how {
        Parse::Runtime => {
            let json = &mut serde_json::Deserializer::from_slice(bytes);
            let payload: engine::Payload = serde_path_to_error::deserialize(json).unwrap();
            payload.0.unwrap()
        }
        Parse::Plain => serde_json::from_slice(bytes).unwrap(),
    }
}

/// What the Lambda does per event: `lambda_runtime` parses the payload into the handler's input
/// type, the handler runs ([`lambda::handle`] as `lambda::serve` calls it, or none for the
/// floor), and `lambda_runtime` serialises what it returns (`serde_json::to_vec`). Without
/// `write`, what the handler returns is dropped unwritten (to tell the parts apart).
fn run_all(events: &[Vec<u8>], how: Parse, mapping: Option<&Arc<Loaded>>, write: bool) {
    for bytes in events {
        let event = parse(how, black_box(bytes));
        match mapping {
            Some(m) => {
                let today = lambda::today(&m.mapping);
                let reply = lambda::handle(Arc::clone(m), event, today).0.unwrap();
                if write {
                    black_box(serde_json::to_vec(&reply).unwrap());
                } else {
                    black_box(reply);
                }
            }
            None if write => {
                black_box(serde_json::to_vec(&event).unwrap());
            }
            None => {
                black_box(event);
            }
        }
    }
}

fn benches(c: &mut Criterion) {
    let events = events();
    let texts = [
        ("bench25", bench25()),
        ("rules500_apply", rules500_apply()),
        ("rules500_when_false", rules500_when_false()),
        ("rules500_value_false", rules500_value_false()),
    ];
    let mappings: Vec<(&str, Arc<Loaded>)> = texts
        .iter()
        .map(|(name, text)| (*name, loaded(name, text)))
        .collect();
    assert_eq!(mappings[1].1.mapping.rule_count(), 500);
    assert_eq!(mappings[2].1.mapping.rule_count(), 500);
    assert_eq!(mappings[3].1.mapping.rule_count(), 500);

    // The fixture events as bench.yaml returns them.
    let outputs: Vec<Value> = events
        .iter()
        .map(|bytes| {
            let event: Value = serde_json::from_slice(bytes).unwrap();
            engine::apply(&mappings[0].1.mapping, &event, TODAY, &mut ())
                .and_then(engine::Reply::into_owned)
                .unwrap()
                .event
        })
        .collect();

    let mut group = c.benchmark_group("per_event");
    group.bench_function("floor", |b| {
        b.iter(|| run_all(&events, Parse::Runtime, None, true))
    });
    group.bench_function("floor_output", |b| {
        b.iter(|| {
            for (bytes, output) in events.iter().zip(&outputs) {
                let event = parse(Parse::Runtime, black_box(bytes));
                black_box(&event);
                black_box(serde_json::to_vec(black_box(output)).unwrap());
            }
        })
    });
    for (name, mapping) in &mappings {
        group.bench_function(*name, |b| {
            b.iter(|| run_all(&events, Parse::Runtime, Some(mapping), true))
        });
    }
    // bench25 with metrics on: the Lambda writes one metric line per event as well (formatted
    // here, not written to stdout, whose cost depends on where stdout goes).
    let metrics = Metrics::stdout(MetricsSettings::from_vars(|_| None).unwrap());
    let bench25 = &mappings[0].1;
    group.bench_function("bench25_metrics", |b| {
        b.iter(|| {
            for bytes in &events {
                let event = parse(Parse::Runtime, black_box(bytes));
                let today = lambda::today(&bench25.mapping);
                let (reply, tally) = lambda::handle(Arc::clone(bench25), event, today);
                let reply = reply.unwrap();
                black_box(
                    metrics
                        .line(&InvocationMetrics {
                            cold_start: false,
                            shadow: false,
                            tally,
                            refresh: None,
                            loaded: bench25,
                        })
                        .unwrap(),
                );
                black_box(serde_json::to_vec(&reply).unwrap());
            }
        })
    });
    group.bench_function("floor_plain", |b| {
        b.iter(|| run_all(&events, Parse::Plain, None, true))
    });
    group.bench_function("bench25_plain", |b| {
        b.iter(|| run_all(&events, Parse::Plain, Some(&mappings[0].1), true))
    });
    group.finish();

    // With a canary out, each event also picks its mapping: SHA-256 of the user's sub.
    let mut group = c.benchmark_group("release");
    let sub = "a1b2c3d4-5678-90ab-cdef-111122223333";
    group.bench_function("canary_route", |b| {
        b.iter(|| claim_mapper::workflow::candidate::serves(black_box(sub), 10))
    });
    group.finish();

    let mut group = c.benchmark_group("load");
    for (name, text) in &texts[..2] {
        group.bench_function(*name, |b| {
            b.iter(|| Mapping::from_yaml(black_box(text), name).unwrap())
        });
    }
    group.finish();
}

/// Criterion's mean estimate (ns) of one benchmark in this run.
fn mean_ns(id: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let text = std::fs::read_to_string(format!("{dir}/criterion/{id}/new/estimates.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// The per-event ratio of `mapping` measured a second way: the floor and the mapping timed in
/// alternating blocks of one loop, each round's ratio taken from its own adjacent blocks, so that
/// a change in the machine's speed between criterion's two separate measurements (other tenants,
/// clock frequency) does not enter the ratio. Prints the median round and the range, and in the
/// same way where the time goes: the rounds also time parsing alone and parsing and evaluating
/// without writing, and the parts are their differences.
fn interleaved_ratio(mapping: &Arc<Loaded>) {
    const ROUNDS: usize = 31;
    const ITERATIONS: u32 = 2_000;
    let events = events();
    let time = |mapping: Option<&Arc<Loaded>>, write: bool| {
        let start = std::time::Instant::now();
        for _ in 0..ITERATIONS {
            run_all(&events, Parse::Runtime, mapping, write);
        }
        start.elapsed().as_secs_f64()
    };
    // Per round, as fractions of its floor: the whole path, parsing, writing the event back,
    // evaluating, writing the reply.
    let mut parts = [const { Vec::new() }; 5];
    // The floor, parsing alone, parsing and evaluating, the whole path.
    let blocks = [
        (None, true),
        (None, false),
        (Some(mapping), false),
        (Some(mapping), true),
    ];
    for round in 0..ROUNDS {
        let mut seconds = [0.0; 4];
        for k in 0..4 {
            // Alternate the order of the blocks.
            let i = if round % 2 == 0 { k } else { 3 - k };
            let (mapping, write) = blocks[i];
            seconds[i] = time(mapping, write);
        }
        let [floor, parse, evaluate, whole] = seconds;
        let round_parts = [
            whole,
            parse,
            floor - parse,
            evaluate - parse,
            whole - evaluate,
        ];
        for (part, value) in parts.iter_mut().zip(round_parts) {
            part.push(value / floor);
        }
    }
    for part in &mut parts {
        part.sort_by(f64::total_cmp);
    }
    let median = |i: usize| parts[i][ROUNDS / 2];
    println!(
        "  interleaved with the floor ({ROUNDS} rounds of {ITERATIONS} iterations each): median {:.2}x, range {:.2}x-{:.2}x",
        median(0),
        parts[0][0],
        parts[0][ROUNDS - 1]
    );
    println!(
        "    where the time goes, in floors (medians): parsing {:.2}, writing the event back {:.2}; evaluating {:.2}, writing the reply {:.2}",
        median(1),
        median(2),
        median(3),
        median(4)
    );
}

/// Evaluation time (ns per event, best of three rounds over the fixtures) of `mapping`.
fn evaluation_ns(events: &[Value], mapping: &Mapping) -> f64 {
    const ROUNDS: u32 = 5_000;
    (0..3)
        .map(|_| {
            let start = std::time::Instant::now();
            for _ in 0..ROUNDS {
                for event in events {
                    let view = Event::new(black_box(event)).unwrap();
                    black_box(engine::evaluate(mapping, &view, &NO_ITEMS, TODAY, &mut ()).unwrap());
                }
            }
            start.elapsed().as_nanos() as f64 / f64::from(ROUNDS) / events.len() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Prints what each rule of bench.yaml costs alone: the mapping with that one rule, less the
/// mapping with none.
fn per_rule_costs() {
    let events: Vec<Value> = events()
        .iter()
        .map(|b| serde_json::from_slice(b).unwrap())
        .collect();
    let text = bench25();
    let (head, rest) = text.split_once("claims:\n").unwrap();
    let (rules, tail) = rest.split_once("suppress:").unwrap();
    let with = |claims: &str| {
        Mapping::from_yaml(&format!("{head}claims:{claims}suppress:{tail}"), "bench").unwrap()
    };
    let none = evaluation_ns(&events, &with(" []\n"));
    println!("\n== evaluation alone, ns per event (no parsing or writing; best of 3)");
    println!("{none:>7.0}  no rules (bench.yaml's suppressions and scopes)");
    for rule in rules.lines() {
        let alone = evaluation_ns(&events, &with(&format!("\n{rule}\n"))) - none;
        println!("{alone:>7.0}  {}", rule.trim_start_matches("  - "));
    }
    let all = evaluation_ns(&events, &with(&format!("\n{rules}"))) - none;
    println!("{all:>7.0}  all 25 rules together");
}

/// Runs the per-event path `spec` (`floor:N` or `bench25:N`) N times over the fixture events.
fn profile_loop(spec: &str) {
    let usage = "ENGINE_BENCH_LOOP must be CASE:N, CASE one of floor, bench25, rules500_apply, \
                 rules500_when_false, rules500_value_false";
    let (what, iterations) = spec.split_once(':').expect(usage);
    let iterations: u32 = iterations.parse().expect(usage);
    let text = match what {
        "floor" => None,
        "bench25" => Some(bench25()),
        "rules500_apply" => Some(rules500_apply()),
        "rules500_when_false" => Some(rules500_when_false()),
        "rules500_value_false" => Some(rules500_value_false()),
        _ => panic!("{usage}"),
    };
    let mapping = text.map(|text| loaded(what, &text));
    let events = events();
    for _ in 0..iterations {
        run_all(&events, Parse::Runtime, mapping.as_ref(), true);
    }
}

fn main() {
    if let Ok(spec) = std::env::var("ENGINE_BENCH_LOOP") {
        return profile_loop(&spec);
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();

    let n = events().len() as f64;
    let get = |id: &str| mean_ns(id).unwrap_or(f64::NAN);
    let (floor, b25) = (get("per_event/floor"), get("per_event/bench25"));
    let floor_output = get("per_event/floor_output");
    let (all, none, no_value) = (
        get("per_event/rules500_apply"),
        get("per_event/rules500_when_false"),
        get("per_event/rules500_value_false"),
    );
    println!("\n== budgets (means of this run, {n} fixture events per iteration)");
    let (floor_plain, b25_plain) = (get("per_event/floor_plain"), get("per_event/bench25_plain"));
    println!(
        "floor (parse + serialise)      {:>9.2} us/event   (parsed as lambda_runtime does)",
        floor / n / 1e3
    );
    println!(
        "25 rules                       {:>9.2} us/event   ratio to floor {:.2}x (budget 2x)",
        b25 / n / 1e3,
        b25 / floor
    );
    interleaved_ratio(&loaded("bench25", &bench25()));
    let b25_metrics = get("per_event/bench25_metrics");
    println!(
        "  with metrics on (one metric line per event): {:.2} us/event = {:.2}x the floor; the line costs {:.2} us",
        b25_metrics / n / 1e3,
        b25_metrics / floor,
        (b25_metrics - b25) / n / 1e3
    );
    println!(
        "  parsed by plain serde_json::from_slice instead: floor {:.2} us/event, 25 rules {:.2} us/event, ratio {:.2}x",
        floor_plain / n / 1e3,
        b25_plain / n / 1e3,
        b25_plain / floor_plain
    );
    println!(
        "  parsing the event and writing the same reply built beforehand (floor_output): {:.2} us/event = {:.2}x the floor",
        floor_output / n / 1e3,
        floor_output / floor
    );
    let default = loaded(
        "default",
        &std::fs::read_to_string("mappings/default.yaml").unwrap(),
    );
    println!(
        "mappings/default.yaml ({} rules), for reference:",
        default.mapping.rule_count()
    );
    interleaved_ratio(&default);
    println!(
        "500 rules, all eligible        {:>9.2} us/event   mapping cost {:.1}x that of 25 rules (20x the rules)",
        all / n / 1e3,
        (all - floor) / (b25 - floor)
    );
    println!(
        "500 rules, 475 `when` false    {:>9.2} us/event   {:.2} ns per rule whose `when` fails",
        none / n / 1e3,
        (none - b25) / n / 475.0
    );
    println!(
        "500 rules, 475 value false     {:>9.2} us/event   {:.2} ns per rule whose value condition fails",
        no_value / n / 1e3,
        (no_value - b25) / n / 475.0
    );
    println!(
        "load + compile bench.yaml      {:>9.1} us",
        get("load/bench25") / 1e3
    );
    println!(
        "load + compile 500 rules       {:>9.1} us",
        get("load/rules500_apply") / 1e3
    );
    per_rule_costs();
}
