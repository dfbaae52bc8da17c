//! What `claim-mapper test` shows: per suite file, each case passed or failed with what differed;
//! and the JUnit XML report CI systems read (`--junit`).

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use time::Date;

use crate::mapping::Mapping;
use crate::suite::{Suite, Verdict};

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
}

impl SuiteRun<'_> {
    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.verdicts.iter().filter(|v| !v.passed()).count()
    }

    /// The report for people: each case, what differed in those that failed, the counts.
    pub fn to_human(&self) -> String {
        let mut out = format!("{}: mapping {}\n", self.suite.file.display(), self.mapping);
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

/// The JUnit XML report of `runs`, as the Jenkins JUnit schema (`junit-10.xsd`, which CI systems
/// and pytest's own reports follow) has it: a `testsuite` per file, a `testcase` per case, and per
/// failed case a `failure` listing what differed.
pub fn junit(runs: &[SuiteRun]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write_junit(&mut writer, runs);
    String::from_utf8(writer.into_inner()).unwrap_or_default() + "\n"
}

fn write_junit(w: &mut Writer<Vec<u8>>, runs: &[SuiteRun]) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests: usize = runs.iter().map(|r| r.verdicts.len()).sum();
    let failures: usize = runs.iter().map(SuiteRun::failed).sum();
    w.create_element("testsuites")
        .with_attributes([
            ("name", "claim-mapper test"),
            ("tests", &tests.to_string()),
            ("failures", &failures.to_string()),
            ("errors", "0"),
        ])
        .write_inner_content(|w| {
            for run in runs {
                let file = run.suite.file.display().to_string();
                w.create_element("testsuite")
                    .with_attributes([
                        ("name", file.as_str()),
                        ("tests", &run.verdicts.len().to_string()),
                        ("failures", &run.failed().to_string()),
                        ("errors", "0"),
                    ])
                    .write_inner_content(|w| {
                        for verdict in &run.verdicts {
                            let case = w.create_element("testcase").with_attributes([
                                ("name", verdict.case.name.as_str()),
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
                                    .write_text_content(BytesText::new(&details))?;
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
