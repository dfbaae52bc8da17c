//! Every Markdown file in the repository, read with a CommonMark parser, as a reader's browser
//! would render it: no code fence left open or closed by a line that is not a fence, every
//! relative link and anchor resolves, every ```yaml block is a valid mapping, and every CLI
//! command shown in a ```sh block runs with the exit code the page gives it.

use crate::support;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// Folders that hold no documentation of ours (build output, installed tools, fuzzing output).
const NOT_OURS: [&str; 6] = [
    ".git",
    "target",
    ".venv",
    ".tools",
    "node_modules",
    "artifacts",
];

fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() {
                if !NOT_OURS.contains(&name.as_ref()) {
                    walk(&path, out);
                }
            } else if name.ends_with(".md") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&support::root(), &mut files);
    files.sort();
    files
}

/// One Markdown file as the parser sees it.
pub(crate) struct Page {
    path: PathBuf,
    text: String,
    /// Each fenced code block: its info string, its content, and its source text with the fences.
    pub(crate) blocks: Vec<Block>,
    /// Relative link destinations, as written.
    links: Vec<String>,
    /// The anchors GitHub gives the headings.
    anchors: HashSet<String>,
}

pub(crate) struct Block {
    pub(crate) info: String,
    pub(crate) content: String,
    source: String,
    line: usize,
}

impl Page {
    pub(crate) fn read(path: &Path) -> Page {
        let text = std::fs::read_to_string(path).unwrap();
        let mut page = Page {
            path: path.to_owned(),
            text: text.clone(),
            blocks: Vec::new(),
            links: Vec::new(),
            anchors: HashSet::new(),
        };
        let mut heading: Option<String> = None;
        let mut block: Option<Block> = None;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (event, range) in Parser::new_ext(&text, Options::ENABLE_TABLES).into_offset_iter() {
            match event {
                Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
                Event::End(TagEnd::Heading(_)) => {
                    let slug = slug(&heading.take().unwrap());
                    let n = seen.entry(slug.clone()).or_insert(0);
                    page.anchors.insert(match *n {
                        0 => slug,
                        k => format!("{slug}-{k}"),
                    });
                    *n += 1;
                }
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                    block = Some(Block {
                        info: info.trim().to_owned(),
                        content: String::new(),
                        source: text[range.clone()].to_owned(),
                        line: text[..range.start].lines().count() + 1,
                    })
                }
                Event::End(TagEnd::CodeBlock) => page.blocks.extend(block.take()),
                Event::Text(t) | Event::Code(t) => {
                    if let Some(h) = heading.as_mut() {
                        h.push_str(&t);
                    }
                    if let Some(b) = block.as_mut() {
                        b.content.push_str(&t);
                    }
                }
                Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. })
                    if !dest_url.contains("://") && !dest_url.starts_with("mailto:") =>
                {
                    page.links.push(dest_url.into_string());
                }
                _ => {}
            }
        }
        page
    }

    fn name(&self) -> String {
        self.path
            .strip_prefix(support::root())
            .unwrap_or(&self.path)
            .display()
            .to_string()
    }
}

/// GitHub's heading anchor: lowercase, only letters, digits, spaces, `-` and `_` kept, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn the_slug_is_githubs() {
    assert_eq!(
        slug("Groups: the groups: section"),
        "groups-the-groups-section"
    );
    assert_eq!(slug("Two commands"), "two-commands");
    assert_eq!(
        slug("What `validate` checks (1.x)"),
        "what-validate-checks-1x"
    );
}

fn pages() -> Vec<Page> {
    let pages: Vec<Page> = markdown_files().iter().map(|p| Page::read(p)).collect();
    for expected in ["README.md", "docs/mapping-format.md", "docs/operations.md"] {
        assert!(
            pages.iter().any(|p| p.name() == expected),
            "{expected} is missing"
        );
    }
    pages
}

/// A fence left open runs to the end of the file; a fence "closed" by a line with text after the
/// backticks is not closed at all and swallows what follows up to the next bare fence. Both show
/// as a block whose source does not end in a bare fence, or a fence-like line inside a block.
fn fence_problems(page: &Page) -> Vec<String> {
    let mut problems = Vec::new();
    for block in &page.blocks {
        let fence: String = block
            .source
            .trim_start()
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        let lines: Vec<&str> = block.source.trim_end().lines().collect();
        let last = lines.last().unwrap().trim();
        let closed = lines.len() >= 2
            && last.starts_with(&fence)
            && last.chars().all(|c| c == '`' || c == '~');
        let inner_fence = lines[1..lines.len().saturating_sub(1)]
            .iter()
            .find(|l| l.trim_start().starts_with(&fence));
        if !closed {
            problems.push(format!(
                "{}:{}: code fence never closed",
                page.name(),
                block.line
            ));
        } else if let Some(l) = inner_fence {
            problems.push(format!(
                "{}:{}: code block holds the fence-like line {l:?} (a closing fence stands alone)",
                page.name(),
                block.line
            ));
        }
    }
    problems
}

#[test]
fn every_code_fence_is_closed_where_the_author_meant() {
    let problems: Vec<String> = pages().iter().flat_map(fence_problems).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_fence_check_catches_open_fences_and_fences_closed_with_text() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap();
        fence_problems(&Page::read(&dir.path().join(name)))
    };
    let closed_with_text = "```text\nout\n``` The SSM commands\n\n## After\n\n```sh\nx\n```\n";
    assert_eq!(check("a.md", closed_with_text).len(), 1);
    assert_eq!(check("b.md", "intro\n\n```sh\nx\n").len(), 1);
    assert!(check("c.md", "```sh\nx\n```\n\n````text\n```\n````\n").is_empty());
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let pages = pages();
    let by_path: BTreeMap<PathBuf, &Page> = pages.iter().map(|p| (p.path.clone(), p)).collect();
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in &pages {
        for link in &page.links {
            checked += 1;
            let (file, anchor) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if file.is_empty() {
                page.path.clone()
            } else {
                page.path.parent().unwrap().join(file)
            };
            if !target.exists() {
                problems.push(format!("{}: link {link}: no such file", page.name()));
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            let canonical = target.canonicalize().unwrap();
            let found = by_path
                .iter()
                .find(|(p, _)| p.canonicalize().unwrap() == canonical)
                .map(|(_, page)| page);
            match found {
                Some(t) if t.anchors.contains(anchor) => {}
                Some(_) => problems.push(format!("{}: link {link}: no such heading", page.name())),
                None => problems.push(format!(
                    "{}: link {link}: anchor into a non-Markdown file",
                    page.name()
                )),
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} relative links: the parser finds none?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_yaml_block_is_a_valid_mapping() {
    let mut loaded = 0;
    for page in pages() {
        for block in page.blocks.iter().filter(|b| b.info == "yaml") {
            let origin = format!("{}:{}", page.name(), block.line);
            claim_mapper::Mapping::from_yaml(&block.content, &origin)
                .unwrap_or_else(|e| panic!("{e}\n{}", block.content));
            loaded += 1;
        }
    }
    assert!(loaded >= 5, "only {loaded} mapping examples in the docs");
}

#[test]
fn every_yaml_suite_block_is_a_valid_test_suite_whose_cases_pass() {
    let mut checked = 0;
    for page in pages() {
        for block in page.blocks.iter().filter(|b| b.info == "yaml suite") {
            // As if it were a file of mappings/tests/, where its relative paths lead.
            let path = support::root().join("mappings/tests/docs.yaml");
            let suite = claim_mapper::load::files::suite_text(&block.content, &path)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", page.name(), block.line));
            let mapping = claim_mapper::load::load_file(suite.mapping.as_ref().unwrap())
                .unwrap_or_else(|e| panic!("{e}"));
            for case in &suite.cases {
                let verdict = case.run(&mapping.mapping, suite.today.unwrap_or(support::TODAY));
                assert!(
                    verdict.passed(),
                    "{}:{}: {}: {:?}",
                    page.name(),
                    block.line,
                    case.name,
                    verdict.mismatches
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 1, "no test suite example in the docs");
}

/// A shown command that needs AWS (SSM, Cognito, DynamoDB) is not run here; `tests/it/ssm.rs` and
/// `tests/it/audit.rs` run those against moto.
fn needs_aws(command: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    matches!(
        words.first(),
        Some(
            &"push"
                | &"diff"
                | &"audit"
                | &"attach"
                | &"release"
                | &"promote"
                | &"abort"
                | &"preview"
        )
    ) || words.contains(&"--ssm-parameter")
        || words.contains(&"--live-lookups")
}

#[test]
fn every_cli_command_in_a_shell_block_runs() {
    // A copy of what the commands read, so that a command that writes cannot change the repository.
    let dir = tempfile::tempdir().unwrap();
    for folder in ["mappings", "examples"] {
        copy_tree(&support::root().join(folder), &dir.path().join(folder));
    }
    let binary = env!("CARGO_BIN_EXE_claim-mapper");
    let (mut ran, mut skipped) = (0, Vec::new());
    let mut problems = Vec::new();
    for page in pages() {
        for block in page.blocks.iter().filter(|b| b.info == "sh") {
            for line in block.content.replace("\\\n", " ").lines() {
                let line = line.trim();
                let Some(args) = line
                    .strip_prefix("cargo run -- ")
                    .or_else(|| line.strip_prefix("claim-mapper "))
                else {
                    continue;
                };
                if needs_aws(args) {
                    skipped.push(line.to_owned());
                    continue;
                }
                let want = if line.contains("# exits 1") { 1 } else { 0 };
                let out = Command::new("sh")
                    .arg("-c")
                    .arg(format!("{binary} {args}"))
                    .current_dir(dir.path())
                    .output()
                    .unwrap();
                ran += 1;
                if out.status.code() != Some(want) {
                    problems.push(format!(
                        "{}:{}: `{line}` exited {:?}, the page implies {want}\n{}",
                        page.name(),
                        block.line,
                        out.status.code(),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    }
    println!(
        "ran {ran} commands; not run here (they need AWS): {}",
        skipped.join("; ")
    );
    assert!(ran >= 5, "only {ran} CLI commands found in the docs");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

#[test]
fn the_readme_stays_a_page_for_users() {
    let readme = Page::read(&support::root().join("README.md"));
    assert!(
        readme.text.len() <= 16 * 1024,
        "README.md is {} bytes: reference belongs in docs/",
        readme.text.len()
    );
    let commands = readme
        .blocks
        .iter()
        .find(|b| b.info == "sh")
        .expect("the README shows its commands");
    assert!(
        commands.content.contains("cargo run -- dry-run")
            && commands.content.contains("scripts/test"),
        "the README's first commands are the two commands"
    );
}

#[test]
fn every_transform_is_documented() {
    let format = Page::read(&support::root().join("docs/mapping-format.md"));
    let readme = Page::read(&support::root().join("README.md"));
    for name in claim_mapper::mapping::transform::names() {
        for page in [&format, &readme] {
            assert!(
                page.text.contains(&format!("`{name}`"))
                    || page.text.contains(&format!("`{{{name}:")),
                "{} does not mention the transform `{name}`",
                page.name()
            );
        }
    }
}
