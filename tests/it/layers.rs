//! The folders under `src/` are the architecture: each layer imports only the layers below it,
//! and no two files of one folder import each other in a loop. Read from the source text, so
//! that a new import that breaks the design fails here, not in a reviewer's head.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support;

/// The layers, bottom first: each may use those before it, never those after. The first
/// [`CORE`] are the pure core, which builds for WebAssembly (`scripts/test`).
const LAYERS: [(&str, &[&str]); 11] = [
    ("contract", &["cognito", "claim_size"]),
    ("diagnostics", &["diagnostics"]),
    ("mapping", &["mapping"]),
    ("engine", &["engine"]),
    ("suite", &["suite"]),
    ("audit", &["audit"]),
    ("report", &["report"]),
    ("workflow", &["workflow"]),
    ("load", &["load"]),
    ("aws", &["aws"]),
    ("runtime", &["runtime"]),
];

/// How many of [`LAYERS`] are the pure core.
const CORE: usize = 8;

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

/// A source file's code, without comment lines (doc links name other layers freely).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every path that follows `prefix` (`prefix::a::B`, `prefix::{a::B, C}`).
fn segments_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let rest = &code[at + prefix.len()..];
        let parts: Vec<&str> = match rest.strip_prefix('{') {
            Some(inner) => inner
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .collect(),
            None => vec![rest],
        };
        for part in parts {
            let first: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !first.is_empty() && first != "self" {
                found.insert(first);
            }
        }
    }
    found
}

/// The `.rs` files under `folder`, its subfolders' included.
fn rust_files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
    files
}

/// `(folder or file module name, path)` of every library source file.
fn sources() -> Vec<(String, std::path::PathBuf)> {
    let src = support::root().join("src");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && name != "bin" {
            for file in rust_files(&path) {
                files.push((name.clone(), file));
            }
        } else if path.extension().is_some_and(|x| x == "rs") && name != "lib" {
            files.push((name, path));
        }
    }
    files.sort();
    files
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    let mut problems = Vec::new();
    let files = sources();
    assert!(files.len() > 20, "found only {} source files", files.len());
    for (module, path) in &files {
        let own = layer_of(module).unwrap_or_else(|| panic!("{module} is in no layer"));
        for used in segments_after(&code(path), "crate::") {
            if let Some(other) = layer_of(&used)
                && other > own
            {
                problems.push(format!(
                    "{}: the {} layer imports crate::{used} ({} layer, above it)",
                    path.strip_prefix(support::root()).unwrap().display(),
                    LAYERS[own].0,
                    LAYERS[other].0
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The pure core reads no file and no clock of its own: the shells hand it text, bytes and the
/// date. (Its dependencies are held by the WebAssembly build, which has no Lambda runtime, SDK
/// or async runtime to link.)
#[test]
fn the_core_reads_no_file_and_no_clock() {
    const FORBIDDEN: [&str; 7] = [
        "std::fs",
        "File::open",
        "read_dir",
        "now_utc",
        "SystemTime",
        "Instant::now",
        "std::env::var",
    ];
    let mut problems = Vec::new();
    for (module, path) in sources() {
        let layer = layer_of(&module).unwrap_or_else(|| panic!("{module} is in no layer"));
        if layer >= CORE {
            continue;
        }
        // Unit tests may read fixtures.
        let text = code(&path);
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for word in FORBIDDEN.iter().filter(|w| text.contains(**w)) {
            problems.push(format!(
                "{}: the core uses `{word}`",
                path.strip_prefix(support::root()).unwrap().display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(LAYERS[CORE].0, "load", "the first layer past the core");
}

/// Edges between the files of one folder: a file uses a sibling (`super::sibling::..`,
/// `crate::folder::sibling::..`) or an item of `mod.rs` (resolved to the child it re-exports
/// from); `mod.rs` uses a child in its own code (declaring or re-exporting it is not a use).
fn folder_edges(folder: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    let children: BTreeSet<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n != "mod")
        .collect();
    let mod_code = code(&folder.join("mod.rs"));
    // Items that mod.rs re-exports, and the child each comes from.
    let mut reexported = BTreeMap::new();
    for line in mod_code.lines().filter(|l| l.starts_with("pub use ")) {
        let rest = line.trim_start_matches("pub use ").trim_end_matches(';');
        if let Some((child, items)) = rest.split_once("::") {
            for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
                let item = item.trim().rsplit(' ').next().unwrap_or_default();
                reexported.insert(item.to_owned(), child.to_owned());
            }
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for child in &children {
        // A child that grew into a folder is one node here, all its files together (its own
        // files are checked as a folder of their own).
        let as_folder = folder.join(child);
        let text = if as_folder.is_dir() {
            rust_files(&as_folder)
                .iter()
                .map(|f| code(f))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            code(&folder.join(format!("{child}.rs")))
        };
        let mut used = segments_after(&text, "super::");
        used.extend(segments_after(&text, &format!("crate::{name}::")));
        for u in used {
            let target = if children.contains(&u) {
                u
            } else {
                reexported.get(&u).cloned().unwrap_or_else(|| "mod".into())
            };
            if &target != child {
                edges.entry(child.clone()).or_default().insert(target);
            }
        }
    }
    let own_code: String = mod_code
        .lines()
        .filter(|l| !(l.starts_with("pub use ") || l.contains("mod ")))
        .collect::<Vec<_>>()
        .join("\n");
    for child in &children {
        if own_code.contains(&format!("{child}::")) {
            edges.entry("mod".into()).or_default().insert(child.clone());
        }
    }
    edges
}

/// A cycle in `edges`, if there is one, as the files along it.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_files_of_a_folder_import_each_other_in_a_loop() {
    let mut problems = Vec::new();
    let src = support::root().join("src");
    let mut folders: Vec<std::path::PathBuf> = LAYERS
        .iter()
        .skip(1)
        .map(|(folder, _)| src.join(folder))
        .collect();
    // Children that grew into folders, checked as folders of their own.
    let mut i = 0;
    while i < folders.len() {
        for entry in std::fs::read_dir(&folders[i]).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            }
        }
        i += 1;
    }
    for folder in folders {
        let edges = folder_edges(&folder);
        if let Some(files) = cycle(&edges) {
            let name = folder.strip_prefix(support::root()).unwrap().display();
            problems.push(format!("{name}: {}", files.join(" -> ")));
        }
    }
    assert!(
        problems.is_empty(),
        "import cycles:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_loop() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
    let mut acyclic = edges.clone();
    acyclic.remove("c");
    assert_eq!(cycle(&acyclic), None);
}
