//! Line/column lookup for a path such as `claims[2].transform[1]` in a YAML document.
//!
//! `serde_yaml` reports positions only for errors raised while it deserialises, and not precisely
//! for errors found while compiling the typed rules. This index walks the document's parse events
//! once, on the error path only, and records where every node starts.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// A 1-based line and column in a mapping file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Where each node of a YAML document starts, by path.
pub(crate) struct LocationIndex {
    nodes: HashMap<String, Location>,
}

enum Frame {
    Sequence {
        path: String,
        next: usize,
    },
    /// `key` is `Some` while the value of that key is awaited.
    Mapping {
        path: String,
        key: Option<String>,
    },
}

impl LocationIndex {
    /// Indexes `text`; a document the parser refuses yields an index of what came before the error.
    pub(crate) fn new(text: &str) -> Self {
        let mut nodes = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let here = Location {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            // The path of the node this event starts, and whether it is a mapping key.
            let (path, is_key) = match stack.last_mut() {
                None => (String::new(), false),
                Some(Frame::Sequence { path, next }) => {
                    *next += 1;
                    (format!("{path}[{}]", *next - 1), false)
                }
                Some(Frame::Mapping { path, key }) => match key.take() {
                    Some(k) => (join(path, &k), false),
                    None => (String::new(), true),
                },
            };
            match event {
                Event::Scalar(value, ..) if is_key => {
                    if let Some(Frame::Mapping { path, key }) = stack.last_mut() {
                        // Errors about a field point at its key, which is what an editor jumps to.
                        nodes.entry(join(path, &value)).or_insert(here);
                        *key = Some(value.into_owned());
                    }
                }
                Event::Scalar(..) | Event::Alias(_) => {
                    nodes.entry(path).or_insert(here);
                }
                Event::SequenceStart(..) => {
                    nodes.entry(path.clone()).or_insert(here);
                    stack.push(Frame::Sequence { path, next: 0 });
                }
                Event::MappingStart(..) => {
                    nodes.entry(path.clone()).or_insert(here);
                    stack.push(Frame::Mapping { path, key: None });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        LocationIndex { nodes }
    }

    /// The location of `path`, or of its nearest indexed ancestor.
    pub(crate) fn locate(&self, path: &str) -> Option<Location> {
        let mut path = path;
        loop {
            if let Some(loc) = self.nodes.get(path) {
                return Some(*loc);
            }
            path = &path[..path.rfind(['.', '['])?];
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "version: 1\nclaims:\n  - claim: a\n    from: x\n  - claim: b\n    transform: [trim, {prefix: p}]\n";

    #[test]
    fn finds_keys_items_and_flow_items() {
        let index = LocationIndex::new(DOC);
        let at = |p| index.locate(p).map(|l| (l.line, l.column));
        assert_eq!(at("version"), Some((1, 1)));
        assert_eq!(at("claims[0]"), Some((3, 5)));
        assert_eq!(at("claims[1].claim"), Some((5, 5)));
        assert_eq!(at("claims[1].transform"), Some((6, 5)));
        assert_eq!(at("claims[1].transform[1]"), Some((6, 23)));
        assert_eq!(at("claims[1].transform[1].prefix"), Some((6, 24)));
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        let index = LocationIndex::new(DOC);
        assert_eq!(index.locate("claims[1].nope[3]").map(|l| l.line), Some(5));
        assert_eq!(index.locate("elsewhere"), None);
    }
}
