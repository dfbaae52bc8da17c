//! What `serde_yaml` does not keep of a YAML document, by path (`claims[2].transform[1]`): where
//! each node starts (line and column), and how each unquoted scalar was written.
//!
//! `serde_yaml` reports positions only for errors raised while it deserialises, and not precisely
//! for errors found while compiling the typed rules. And its values hold a scalar as YAML reads it:
//! `+44` is the number 44, `0x1A` is 26, `True` is `true`. Where a value is compared as text, what
//! was written matters. This index walks the document's parse events once, only when asked (on the
//! error path, or for a scalar whose written form is needed), and records both.

use std::cell::OnceCell;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A 1-based line and column in a mapping file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Where each node of a YAML document starts, and how each unquoted scalar was written, by path.
pub(crate) struct LocationIndex {
    nodes: HashMap<String, Location>,
    /// The text of each scalar written without quotes, by its path; for a mapping's keys, by the
    /// mapping's path, in order.
    plain: HashMap<String, String>,
    keys: HashMap<String, Vec<String>>,
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
        let (mut nodes, mut plain) = (HashMap::new(), HashMap::new());
        let mut keys: HashMap<String, Vec<String>> = HashMap::new();
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
                        keys.entry(path.clone())
                            .or_default()
                            .push(value.to_string());
                        *key = Some(value.into_owned());
                    }
                }
                Event::Scalar(value, style, ..) => {
                    if style == ScalarStyle::Plain {
                        plain
                            .entry(path.clone())
                            .or_insert_with(|| value.into_owned());
                    }
                    nodes.entry(path).or_insert(here);
                }
                Event::Alias(_) => {
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
        LocationIndex { nodes, plain, keys }
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

/// A YAML document's text, and (indexed on first use, at most once) where each node is and how
/// each of its unquoted scalars was written: for problems and warnings, and for values compared as
/// text, where `+44` must not become `44`. A document read with neither is never indexed.
pub(crate) struct Written<'t> {
    text: &'t str,
    index: OnceCell<LocationIndex>,
}

impl<'t> Written<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Written {
            text,
            index: OnceCell::new(),
        }
    }

    /// The document's text.
    pub(crate) fn text(&self) -> &'t str {
        self.text
    }

    fn index(&self) -> &LocationIndex {
        self.index.get_or_init(|| LocationIndex::new(self.text))
    }

    /// The location of `path`, or of its nearest indexed ancestor ([`LocationIndex::locate`]).
    pub(crate) fn locate(&self, path: &str) -> Option<Location> {
        self.index().locate(path)
    }

    /// How the scalar at `path` was written, when it was written without quotes.
    pub(crate) fn plain(&self, path: &str) -> Option<&str> {
        self.index().plain.get(path).map(String::as_str)
    }

    /// The keys of the mapping at `path`, as written, in order.
    pub(crate) fn keys(&self, path: &str) -> &[String] {
        self.index().keys.get(path).map_or(&[], Vec::as_slice)
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
    fn unquoted_scalars_are_kept_as_written() {
        let written = Written::new("a: [+44, '+44', 0x1A]\nm: {True: 1, 'x': 2}\n");
        assert_eq!(written.plain("a[0]"), Some("+44"));
        assert_eq!(written.plain("a[1]"), None, "quoted");
        assert_eq!(written.plain("a[2]"), Some("0x1A"));
        assert_eq!(written.keys("m"), ["True", "x"]);
        assert_eq!(written.keys("nope"), Vec::<String>::new());
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        let index = LocationIndex::new(DOC);
        assert_eq!(index.locate("claims[1].nope[3]").map(|l| l.line), Some(5));
        assert_eq!(index.locate("elsewhere"), None);
    }
}
