//! What `claim-mapper test` shows: per suite file, each case passed or failed with what differed;
//! and the JUnit XML report CI systems read (`--junit`).

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use time::Date;

use serde_json::{Value, json};

use crate::mapping::Mapping;
use crate::suite::{Coverage, State, Suite, Verdict};

/// Where `claim-mapper test` looks for suite files when given none.
pub const DEFAULT_FOLDER: &str = "mappings/tests";

/// Runs every case of `suite` against `mapping` (described as `described` in reports), with `age`
/// counting from `today`.
pub fn run<'s>(
    suite: &'s Suite,
    mapping: &Mapping,
    described: String,
    today: Date,
) -> SuiteRun<'s> {
    SuiteRun {
        suite,
        mapping: described,
        verdicts: suite.cases.iter().map(|c| c.run(mapping, today)).collect(),
        not_run: None,
    }
}

/// One suite file run against one mapping.
#[derive(Debug)]
pub struct SuiteRun<'s> {
    /// The suite.
    pub suite: &'s Suite,
    /// The mapping, as loading describes it (`file mappings/prod.yaml (sha256:…)`).
    pub mapping: String,
    /// One verdict per case, in file order.
    pub verdicts: Vec<Verdict<'s>>,
    /// Why no case ran (the mapping under test is invalid), if none did.
    pub not_run: Option<String>,
}

impl<'s> SuiteRun<'s> {
    /// A suite none of whose cases could run, and why (the mapping under test is invalid): a
    /// failure, and in the JUnit report an error.
    pub fn not_run(suite: &'s Suite, mapping: String, why: String) -> SuiteRun<'s> {
        SuiteRun {
            suite,
            mapping,
            verdicts: Vec::new(),
            not_run: Some(why),
        }
    }

    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.verdicts.iter().filter(|v| !v.passed()).count()
    }

    /// Whether every case ran and passed.
    pub fn passed(&self) -> bool {
        self.not_run.is_none() && self.failed() == 0
    }

    /// The report for people: each case, what differed in those that failed, the counts.
    pub fn to_human(&self) -> String {
        let mut out = format!("{}: mapping {}\n", self.suite.file.display(), self.mapping);
        if let Some(why) = &self.not_run {
            out.push_str(&format!(
                "  not tested: the mapping is invalid, so none of the {} cases ran\n",
                self.suite.cases.len()
            ));
            for line in why.lines() {
                out.push_str(&format!("    {line}\n"));
            }
            return out;
        }
        for verdict in &self.verdicts {
            let mark = if verdict.passed() { "pass" } else { "FAIL" };
            out.push_str(&format!("  {mark}  {}\n", verdict.case.name));
            for m in &verdict.mismatches {
                out.push_str(&format!(
                    "        {}: expected {}, got {}\n",
                    m.what, m.expected, m.actual
                ));
            }
        }
        let failed = self.failed();
        out.push_str(&format!(
            "  {} passed, {failed} failed\n",
            self.verdicts.len() - failed
        ));
        out
    }
}

impl SuiteRun<'_> {
    /// The run as JSON: `{"file", "mapping", "not_run", "cases": [{"name", "passed",
    /// "mismatches": [{"what", "expected", "actual"}]}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "file": self.suite.file.display().to_string(),
            "mapping": self.mapping,
            "not_run": self.not_run,
            "cases": self.verdicts.iter().map(|v| json!({
                "name": v.case.name,
                "passed": v.passed(),
                "mismatches": v.mismatches.iter().map(|m| json!({
                    "what": m.what,
                    "expected": m.expected,
                    "actual": m.actual,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The coverage of one mapping by the suites run against it (`test --coverage`).
#[derive(Debug)]
pub struct CoverageRun {
    /// The mapping, as loading describes it (`file mappings/prod.yaml (sha256:…)`).
    pub mapping: String,
    /// Which of its parts the cases pin down.
    pub coverage: Coverage,
}

/// How a report says why a part is not covered.
fn why_not(state: State) -> &'static str {
    match state {
        State::Covered => "covered",
        State::NotAsserted => "applied, but no case fails without it",
        State::NeverApplied => "no case makes it apply",
    }
}

impl CoverageRun {
    /// The covered share, to one decimal, as reports write it.
    pub fn percent(&self) -> String {
        format!("{:.1}", self.coverage.percent())
    }

    /// The report for people: the share covered, then each part that is not, and why.
    pub fn to_human(&self) -> String {
        let c = &self.coverage;
        let mut out = format!(
            "coverage of mapping {}: {} of {} parts ({}%), {} cases run {} times\n",
            self.mapping,
            c.covered(),
            c.parts.len(),
            self.percent(),
            c.passing,
            c.runs
        );
        for part in c.parts.iter().filter(|p| p.state != State::Covered) {
            out.push_str(&format!("  {}: {}\n", part.name, why_not(part.state)));
        }
        out
    }

    /// The coverage as JSON: `{"mapping", "parts", "covered", "percent", "uncovered": [{"part",
    /// "why"}]}`.
    pub fn to_json(&self) -> Value {
        let c = &self.coverage;
        json!({
            "mapping": self.mapping,
            "parts": c.parts.len(),
            "covered": c.covered(),
            "percent": c.percent(),
            "uncovered": c.parts.iter().filter(|p| p.state != State::Covered).map(|p| json!({
                "part": p.name,
                "why": why_not(p.state),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The JUnit XML report of `runs`, as the Jenkins JUnit schema (`junit-10.xsd`, which CI systems
/// and pytest's own reports follow) has it: a `testsuite` per file, a `testcase` per case, and per
/// failed case a `failure` listing what differed; with `coverage`, each suite's mapping's coverage
/// as `properties` (`coverage`, and an `uncovered` per part not covered).
pub fn junit(runs: &[SuiteRun], coverage: &[CoverageRun]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write_junit(&mut writer, runs, coverage);
    String::from_utf8(writer.into_inner()).unwrap_or_default() + "\n"
}

fn write_junit(
    w: &mut Writer<Vec<u8>>,
    runs: &[SuiteRun],
    coverage: &[CoverageRun],
) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    // A suite that did not run is one test in error.
    let tests: usize = runs.iter().map(|r| r.verdicts.len().max(1)).sum();
    let failures: usize = runs.iter().map(SuiteRun::failed).sum();
    let errors = runs.iter().filter(|r| r.not_run.is_some()).count();
    w.create_element("testsuites")
        .with_attributes([
            ("name", "claim-mapper test"),
            ("tests", tests.to_string().as_str()),
            ("failures", &failures.to_string()),
            ("errors", &errors.to_string()),
        ])
        .write_inner_content(|w| {
            for run in runs {
                let file = xml_text(&run.suite.file.display().to_string());
                w.create_element("testsuite")
                    .with_attributes([
                        ("name", file.as_str()),
                        ("tests", &run.verdicts.len().max(1).to_string()),
                        ("failures", &run.failed().to_string()),
                        ("errors", if run.not_run.is_some() { "1" } else { "0" }),
                    ])
                    .write_inner_content(|w| {
                        if let Some(c) = coverage.iter().find(|c| c.mapping == run.mapping) {
                            w.create_element("properties").write_inner_content(|w| {
                                w.create_element("property")
                                    .with_attributes([
                                        ("name", "coverage"),
                                        ("value", c.percent().as_str()),
                                    ])
                                    .write_empty()?;
                                for part in c
                                    .coverage
                                    .parts
                                    .iter()
                                    .filter(|p| p.state != State::Covered)
                                {
                                    let value = xml_text(&format!(
                                        "{}: {}",
                                        part.name,
                                        why_not(part.state)
                                    ));
                                    w.create_element("property")
                                        .with_attributes([
                                            ("name", "uncovered"),
                                            ("value", value.as_str()),
                                        ])
                                        .write_empty()?;
                                }
                                Ok(())
                            })?;
                        }
                        if let Some(why) = &run.not_run {
                            w.create_element("testcase")
                                .with_attributes([
                                    ("name", "the mapping under test"),
                                    ("classname", file.as_str()),
                                ])
                                .write_inner_content(|w| {
                                    w.create_element("error")
                                        .with_attributes([
                                            ("type", "invalid mapping"),
                                            (
                                                "message",
                                                "the mapping under test is invalid: no case ran",
                                            ),
                                        ])
                                        .write_text_content(BytesText::new(&xml_text(why)))?;
                                    Ok(())
                                })?;
                        }
                        for verdict in &run.verdicts {
                            let name = xml_text(&verdict.case.name);
                            let case = w.create_element("testcase").with_attributes([
                                ("name", name.as_str()),
                                ("classname", file.as_str()),
                            ]);
                            if verdict.passed() {
                                case.write_empty()?;
                                continue;
                            }
                            let n = verdict.mismatches.len();
                            let message = format!(
                                "{n} expectation{} did not hold",
                                if n == 1 { "" } else { "s" }
                            );
                            let details = verdict
                                .mismatches
                                .iter()
                                .map(|m| {
                                    format!("{}: expected {}, got {}", m.what, m.expected, m.actual)
                                })
                                .collect::<Vec<_>>()
                                .join("\n");
                            case.write_inner_content(|w| {
                                w.create_element("failure")
                                    .with_attributes([
                                        ("type", "expectation"),
                                        ("message", message.as_str()),
                                    ])
                                    .write_text_content(BytesText::new(&xml_text(&details)))?;
                                Ok(())
                            })?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    Ok(())
}

/// `text` with what XML 1.0 cannot hold (most control characters, even escaped) replaced by
/// U+FFFD, so that a report is always readable.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => '\u{FFFD}',
            c => c,
        })
        .collect()
}
