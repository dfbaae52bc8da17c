//! Where a claim's value comes from: user attributes, JSONPath into the event, templates,
//! constants. Compiled here, at load time; resolving a source per event
//! ([`crate::engine`]) parses nothing.

use jsonpath_rust::parser::model::{self, JpQuery};
use serde_json::Value;

use super::problems::did_you_mean;
use crate::cognito::{self, Field};

/// Longest JSONPath expression accepted, to bound parsing work on hostile mappings.
pub const MAX_JSONPATH_LEN: usize = 1024;

/// Most descendant segments (`..`) in one JSONPath: one visits every node of the event once, each
/// more multiplies the work by the event's size.
pub const MAX_DESCENDANT_SEGMENTS: usize = 1;

/// Most filters nested in one another in one JSONPath: each level multiplies the work by the
/// event's size.
pub const MAX_FILTER_DEPTH: usize = 1;

/// A warning for an attribute name no user pool can have: neither one Cognito defines nor
/// prefixed as custom, developer-only or Cognito's own attributes are (`department` is surely
/// `custom:department`), with the name most likely meant.
pub(crate) fn attribute_warning(name: &str) -> Option<String> {
    if cognito::STANDARD_ATTRIBUTES.contains(&name)
        || cognito::ATTRIBUTE_PREFIXES
            .iter()
            .any(|p| name.starts_with(p))
    {
        return None;
    }
    let meant = match did_you_mean(name, cognito::STANDARD_ATTRIBUTES) {
        Some(standard) => standard.to_owned(),
        // `custon:dept`, `Custom:dept`: a misspelt prefix.
        None => match name.split_once(':') {
            Some((_, rest)) => format!("custom:{rest}"),
            None => format!("custom:{name}"),
        },
    };
    Some(format!(
        "`{name}` is not an attribute Cognito defines, and a pool's own attributes are named \
         `custom:…`: did you mean `{meant}`? Until it matches, nothing is read from it."
    ))
}

/// A compiled JSONPath expression over the whole event.
#[derive(Debug, Clone)]
pub enum JsonPath {
    /// A path of plain member names and indexes (`$.a.b['c:d'][0]`), looked up directly: the
    /// common case, with no allocation per event.
    Direct(Vec<Step>),
    /// A direct path into a top-level field of the envelope (`$.request.clientMetadata.x`,
    /// `$.userPoolId`), with the steps after that field: looked up from the field the event view
    /// found, not by searching the top of the event again.
    Field(Field, Vec<Step>),
    /// Any other RFC 9535 query (wildcards, descendants, filters, slices).
    Query(JpQuery),
}

/// One step of a direct path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object member.
    Member(String),
    /// An array element.
    Index(usize),
    /// Every element of an array or member of an object (`[*]`), as the last step.
    Elements,
}

impl JsonPath {
    /// Compiles `text` (RFC 9535 syntax, starting with `$`). Paths of plain steps (a strict
    /// subset of the RFC's syntax) become direct lookups without the crate's parser, which would
    /// cost a cold start its stack-limit probe (it reads `/proc/self/maps`); the crate parses and
    /// validates every other path.
    pub fn compile(text: &str) -> Result<Self, String> {
        if text.len() > MAX_JSONPATH_LEN {
            return Err(format!("JSONPath longer than {MAX_JSONPATH_LEN} bytes"));
        }
        if let Some(steps) = direct_steps(text) {
            if let Some((Step::Member(name), rest)) = steps.split_first()
                && let Some(field) = Field::named(name)
            {
                return Ok(JsonPath::Field(field, rest.to_vec()));
            }
            return Ok(JsonPath::Direct(steps));
        }
        let query = jsonpath_rust::parser::parse_json_path(text)
            .map_err(|e| format!("invalid JSONPath: {e}"))?;
        QueryCost::of(&query).check()?;
        Ok(JsonPath::Query(query))
    }
}

impl JsonPath {
    /// Whether the path reads `request.clientMetadata` or, searching the event (a descendant
    /// segment, a wildcard over the request), may read it.
    pub(crate) fn may_read_client_metadata(&self) -> bool {
        let member =
            |step: Option<&Step>, name: &str| matches!(step, Some(Step::Member(m)) if m == name);
        let wide = |step: Option<&Step>| matches!(step, Some(Step::Elements));
        match self {
            JsonPath::Field(Field::Request, steps) => {
                member(steps.first(), "clientMetadata") || wide(steps.first())
            }
            JsonPath::Field(..) => false,
            JsonPath::Direct(steps) => {
                wide(steps.first())
                    || (member(steps.first(), "request")
                        && (member(steps.get(1), "clientMetadata") || wide(steps.get(1))))
            }
            JsonPath::Query(query) => {
                let text = query.to_string();
                text.contains("clientMetadata") || text.contains("..") || text.contains('*')
            }
        }
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps = |f: &mut std::fmt::Formatter<'_>, steps: &[Step]| {
            for step in steps {
                match step {
                    Step::Member(m) if m.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                        write!(f, ".{m}")?
                    }
                    Step::Member(m) => write!(f, "['{m}']")?,
                    Step::Index(i) => write!(f, "[{i}]")?,
                    Step::Elements => write!(f, "[*]")?,
                }
            }
            Ok(())
        };
        match self {
            JsonPath::Direct(s) => {
                f.write_str("$")?;
                steps(f, s)
            }
            JsonPath::Field(field, s) => {
                write!(f, "$.{}", field.name())?;
                steps(f, s)
            }
            JsonPath::Query(query) => write!(f, "{query}"),
        }
    }
}

/// What a query's syntax makes it cost per event: the parts whose work grows faster than the
/// event's size. Counted once, at load, over the whole tree (queries inside filters included).
#[derive(Debug, Default, PartialEq, Eq)]
struct QueryCost {
    /// Descendant segments (`..`). One visits every node of the event once; each more multiplies
    /// the work by the event's size (`$..a..a..a..a` took seconds on a 2.6 KB event).
    descendants: usize,
    /// `match()` and `search()` calls: the crate compiles their regular expression again for
    /// every node, on every event, with no size limit.
    regex_functions: usize,
    /// How deep filters nest (a filter whose query holds a filter): each level multiplies the work
    /// by the event's size.
    filter_depth: usize,
    /// Queries from the root (`$...`) inside a filter that can select more than one node
    /// (`[?$.request.clientMetadata.*]`): evaluated again for every node the filter looks at, so
    /// the work grows with the square of the event's size.
    wide_root_queries: usize,
}

impl QueryCost {
    fn of(query: &model::JpQuery) -> QueryCost {
        let mut cost = QueryCost::default();
        cost.segments(&query.segments, 0);
        cost
    }

    /// `Ok` when the query's work per event grows at most with the event's size.
    fn check(&self) -> Result<(), String> {
        if self.regex_functions > 0 {
            return Err(
                "`match()` and `search()` are not allowed in a JSONPath: their regular \
                        expression would be compiled again for every node of every event; select \
                        the value with a plain path and use a `replace` transform, or compare \
                        values (`@ == 'a' || @ == 'b'`)"
                    .into(),
            );
        }
        if self.descendants > MAX_DESCENDANT_SEGMENTS {
            return Err(format!(
                "{} descendant segments (`..`); at most {MAX_DESCENDANT_SEGMENTS} per JSONPath, \
                 as each more multiplies the work per event by the size of the event",
                self.descendants
            ));
        }
        if self.wide_root_queries > 0 {
            return Err(
                "a query from the root (`$`) inside a filter must select one node (names and \
                 indexes only): it is evaluated again for every node the filter looks at"
                    .into(),
            );
        }
        if self.filter_depth > MAX_FILTER_DEPTH {
            return Err(
                "a filter inside a filter's query multiplies the work per event by the \
                        size of the event; use one filter"
                    .into(),
            );
        }
        Ok(())
    }

    fn segments(&mut self, segments: &[model::Segment], depth: usize) {
        for segment in segments {
            self.segment(segment, depth);
        }
    }

    fn segment(&mut self, segment: &model::Segment, depth: usize) {
        match segment {
            model::Segment::Descendant(inner) => {
                self.descendants += 1;
                self.segment(inner, depth);
            }
            model::Segment::Selector(selector) => self.selector(selector, depth),
            model::Segment::Selectors(selectors) => {
                for selector in selectors {
                    self.selector(selector, depth);
                }
            }
        }
    }

    fn selector(&mut self, selector: &model::Selector, depth: usize) {
        if let model::Selector::Filter(filter) = selector {
            self.filter_depth = self.filter_depth.max(depth + 1);
            self.filter(filter, depth + 1);
        }
    }

    fn filter(&mut self, filter: &model::Filter, depth: usize) {
        match filter {
            model::Filter::Or(filters) | model::Filter::And(filters) => {
                for filter in filters {
                    self.filter(filter, depth);
                }
            }
            model::Filter::Atom(model::FilterAtom::Filter { expr, .. }) => self.filter(expr, depth),
            model::Filter::Atom(model::FilterAtom::Test { expr, .. }) => self.test(expr, depth),
            model::Filter::Atom(model::FilterAtom::Comparison(comparison)) => {
                let (left, right) = comparison.vals();
                for side in [left, right] {
                    if let model::Comparable::Function(function) = side {
                        self.function(function, depth);
                    }
                }
            }
        }
    }

    fn test(&mut self, test: &model::Test, depth: usize) {
        match test {
            model::Test::RelQuery(segments) => self.segments(segments, depth),
            model::Test::AbsQuery(query) => {
                let singular = query.segments.iter().all(|segment| {
                    matches!(
                        segment,
                        model::Segment::Selector(
                            model::Selector::Name(_) | model::Selector::Index(_)
                        )
                    )
                });
                if !singular {
                    self.wide_root_queries += 1;
                }
                self.segments(&query.segments, depth)
            }
            model::Test::Function(function) => self.function(function, depth),
        }
    }

    fn function(&mut self, function: &model::TestFunction, depth: usize) {
        let args: Vec<&model::FnArg> = match function {
            model::TestFunction::Search(a, b) | model::TestFunction::Match(a, b) => {
                self.regex_functions += 1;
                vec![a, b]
            }
            model::TestFunction::Length(a) => vec![a.as_ref()],
            model::TestFunction::Value(a) | model::TestFunction::Count(a) => vec![a],
            model::TestFunction::Custom(_, args) => args.iter().collect(),
        };
        for arg in args {
            match arg {
                model::FnArg::Literal(_) => {}
                model::FnArg::Test(test) => self.test(test, depth),
                model::FnArg::Filter(filter) => self.filter(filter, depth),
            }
        }
    }
}

/// The steps of a path made only of `.name`, `['name']`/`["name"]` and `[N]` after `$`,
/// optionally ending in `[*]`, or `None` for anything else (left to the crate's parser). Every
/// path accepted here is valid RFC 9535: shorthand names of letters, digits and `_` not starting
/// with a digit; quoted names without quotes, backslashes or control characters; indexes without
/// leading zeros within I-JSON's exact integers.
pub(crate) fn direct_steps(text: &str) -> Option<Vec<Step>> {
    /// Largest array index RFC 9535 allows (2^53 - 1).
    const MAX_INDEX: usize = (1 << 53) - 1;
    let mut rest = text.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            let plain = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !plain {
                return None;
            }
            steps.push(Step::Member(name.to_owned()));
            rest = &after[end..];
        } else if rest == "[*]" {
            steps.push(Step::Elements);
            rest = "";
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inner = &after[..end];
            let quoted = [('\'', '\''), ('"', '"')]
                .iter()
                .find_map(|(open, close)| inner.strip_prefix(*open)?.strip_suffix(*close));
            match quoted {
                Some(name)
                    if !name
                        .contains(|c: char| matches!(c, '\\' | '\'' | '"') || c.is_control()) =>
                {
                    steps.push(Step::Member(name.to_owned()))
                }
                Some(_) => return None,
                None if inner == "0"
                    || (!inner.starts_with('0')
                        && !inner.is_empty()
                        && inner.bytes().all(|b| b.is_ascii_digit())) =>
                {
                    steps.push(Step::Index(inner.parse().ok().filter(|&i| i <= MAX_INDEX)?));
                }
                None => return None,
            }
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// One place to read a value from.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// `request.userAttributes[name]`.
    Attribute {
        /// The attribute's name.
        name: String,
        /// Its index in [`Mapping::attribute_names`](crate::Mapping): each event's attributes are
        /// found once, together, and read by this slot. Set once all rules are compiled.
        slot: u32,
    },
    /// A JSONPath into the whole event.
    Path(JsonPath),
}

impl Lookup {
    /// An attribute lookup's name and slot, for numbering the mapping's attributes.
    pub(crate) fn attribute_slot(&mut self) -> Option<(&str, &mut u32)> {
        match self {
            Lookup::Attribute { name, slot } => Some((name, slot)),
            Lookup::Path(_) => None,
        }
    }

    /// Parses a `from:` entry: a JSONPath when it starts with `$`, else an attribute name.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with('$') {
            JsonPath::compile(text).map(Lookup::Path)
        } else if text.is_empty() {
            Err("an attribute name cannot be empty".into())
        } else {
            Ok(Lookup::Attribute {
                name: text.to_owned(),
                slot: 0,
            })
        }
    }
}

/// Bytes [`Template`] reserves per placeholder: a name, a locale, an id.
const PLACEHOLDER_BYTES: usize = 24;

/// A `template:` string, split into literal text and placeholders at load time.
#[derive(Debug, Clone)]
pub struct Template {
    pub(crate) parts: Vec<Part>,
    /// Bytes to reserve for a rendering: the literal text and room for typical values, so that
    /// rendering allocates once.
    pub(crate) capacity: usize,
}

/// A piece of a template.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    Text(String),
    Value(Lookup),
}

impl Template {
    /// Parses `{attribute}` and `{$.json.path}` placeholders; `{{` and `}}` are literal braces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') => {
                                return Err("`{` inside a placeholder: close the placeholder \
                                     before it with `}` (write `{{` for a literal brace)"
                                    .into());
                            }
                            Some(c) => name.push(c),
                            None => {
                                return Err(
                                    "unclosed `{` in template (write `{{` for a literal brace)"
                                        .into(),
                                );
                            }
                        }
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    let lookup = Lookup::parse(name.trim())
                        .map_err(|e| format!("template placeholder: {e}"))?;
                    parts.push(Part::Value(lookup));
                }
                '}' => {
                    return Err("unmatched `}` in template (write `}}` for a literal brace)".into());
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        if !parts.iter().any(|p| matches!(p, Part::Value(_))) {
            return Err("template has no `{placeholder}`; use `value:` for a constant".into());
        }
        let capacity = parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.len(),
                Part::Value(_) => PLACEHOLDER_BYTES,
            })
            .sum();
        Ok(Template { parts, capacity })
    }
}

/// A rule's value source.
#[derive(Debug, Clone)]
pub enum Source {
    /// `from:`: the first lookup that finds a value wins.
    From(Vec<Lookup>),
    /// `value:`: a constant.
    Constant(Value),
    /// `template:`: attributes interpolated into a string.
    Template(Template),
}

impl Source {
    /// Compiles a `from:` entry: one attribute or JSONPath, or a non-empty list of them.
    pub(crate) fn compile_from(from: &serde_yaml::Value) -> Result<Source, String> {
        const SHAPE: &str =
            "`from` is an attribute name, a JSONPath starting with `$`, or a list of them";
        let lookups = match from {
            serde_yaml::Value::String(s) => vec![Lookup::parse(s)?],
            serde_yaml::Value::Sequence(items) if !items.is_empty() => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .ok_or_else(|| SHAPE.to_string())
                        .and_then(Lookup::parse)
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(SHAPE.into()),
        };
        Ok(Source::From(lookups))
    }

    /// The source's lookups, with the key that holds them (`from`, `template`; `value` has
    /// none).
    pub(crate) fn lookups(&self) -> (Vec<&Lookup>, &'static str) {
        match self {
            Source::From(lookups) => (lookups.iter().collect(), "from"),
            Source::Constant(_) => (Vec::new(), "value"),
            Source::Template(t) => (
                t.parts
                    .iter()
                    .filter_map(|part| match part {
                        Part::Value(lookup) => Some(lookup),
                        Part::Text(_) => None,
                    })
                    .collect(),
                "template",
            ),
        }
    }

    /// The source's lookups, for numbering the mapping's attributes.
    pub(crate) fn lookups_mut(&mut self) -> impl Iterator<Item = &mut Lookup> {
        let (from, template): (&mut [Lookup], &mut [Part]) = match self {
            Source::From(lookups) => (lookups, &mut []),
            Source::Constant(_) => (&mut [], &mut []),
            Source::Template(t) => (&mut [], &mut t.parts),
        };
        from.iter_mut()
            .chain(template.iter_mut().filter_map(|part| match part {
                Part::Value(lookup) => Some(lookup),
                Part::Text(_) => None,
            }))
    }
}
