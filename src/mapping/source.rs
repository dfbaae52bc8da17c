//! Where a claim's value comes from: user attributes, JSONPath into the event, templates,
//! constants. Compiled here, at load time; resolving a source per event
//! ([`crate::engine`]) parses nothing.

use jsonpath_rust::parser::model::{self, JpQuery};
use serde_json::Value;

use crate::cognito::{self, Field};
use crate::diagnostics::errors::did_you_mean;

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

/// Why `name` cannot be an attribute's name, if it cannot. Attribute names hold no whitespace
/// (custom attribute names are letters, marks, symbols, numbers and punctuation: the
/// `CustomAttributeNameType` pattern of the Amazon Cognito API Reference), so a name with a space
/// (`custom:blocked `, a stray space in quotes) would never be present, and `{present: false}` on
/// it would hold for every user.
pub(crate) fn attribute_name_restriction(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an attribute name cannot be empty".into());
    }
    if !name.contains(char::is_whitespace) {
        return None;
    }
    let trimmed = name.trim();
    let hint = if trimmed.is_empty() || trimmed.contains(char::is_whitespace) {
        String::new()
    } else {
        format!(": did you mean `{trimmed}`?")
    };
    Some(format!(
        "`{name}` holds whitespace, which no attribute name does, so it would never be read{hint}"
    ))
}

/// A compiled JSONPath expression over the whole event.
#[derive(Debug, Clone)]
pub enum JsonPath {
    /// A path of plain member names and indexes (`$.a.b['c:d'][0]`), looked up directly: the
    /// common case, with no allocation per event.
    Direct(Vec<Step>),
    /// Any other RFC 9535 query (wildcards, descendants, filters, slices), with its text as
    /// written (for reports: the crate's own rendering drops the dots between names).
    Query(JpQuery, String),
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
            return Ok(JsonPath::Direct(steps));
        }
        let query = jsonpath_rust::parser::parse_json_path(text)
            .map_err(|e| format!("invalid JSONPath: {e}"))?;
        QueryCost::of(&query).check()?;
        Ok(JsonPath::Query(query, text.to_owned()))
    }
}

/// What a path selects at one level of the event, for telling what it may read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    /// The member of this name.
    Name(String),
    /// Some members or elements, by wildcard, index, slice or filter: any of them.
    Any,
    /// Every node at this level and below it: a descendant segment, or a path that ends above
    /// this level (its value holds everything below).
    All,
}

impl Level {
    fn allows(&self, name: &str) -> bool {
        match self {
            Level::Name(n) => n == name,
            Level::Any | Level::All => true,
        }
    }
}

/// Which user attributes a path may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeReach {
    /// One, by name: `$.request.userAttributes['custom:role']`.
    Named(String),
    /// Any of them: `$.request.userAttributes.*`, `$..role`, `$.request`.
    Any,
}

impl JsonPath {
    /// What the path selects at the event's top three levels (`request`, `userAttributes`, the
    /// attribute), as its compiled form says: not by its text, which writes the same path many
    /// ways (`$['request']`, `$[ 'request' ]`).
    fn levels(&self) -> [Level; 3] {
        let mut levels: Vec<Level> = match self {
            JsonPath::Direct(steps) => steps.iter().map(step_level).collect(),
            JsonPath::Query(query, _) => {
                let mut levels = Vec::new();
                for segment in &query.segments {
                    match segment {
                        model::Segment::Descendant(_) => {
                            levels.push(Level::All);
                            break;
                        }
                        model::Segment::Selector(model::Selector::Name(name)) => {
                            levels.push(Level::Name(name.clone()))
                        }
                        model::Segment::Selector(_) | model::Segment::Selectors(_) => {
                            levels.push(Level::Any)
                        }
                    }
                }
                levels
            }
        };
        // Past a descendant segment, or below where the path ends, everything is read.
        if let Some(at) = levels.iter().position(|l| *l == Level::All) {
            levels.truncate(at);
        }
        levels.resize(3, Level::All);
        [levels[0].clone(), levels[1].clone(), levels[2].clone()]
    }

    /// Whether the path starts at the envelope's `field` (`$.response.x`, `$[ 'response' ]`).
    pub(crate) fn starts_at(&self, field: Field) -> bool {
        matches!(&self.levels()[0], Level::Name(name) if name == field.name())
    }

    /// Whether the path may read `request.clientMetadata`: what the app asking for tokens sends,
    /// not the user pool.
    pub(crate) fn may_read_client_metadata(&self) -> bool {
        let [top, request, _] = self.levels();
        top.allows("request") && request.allows("clientMetadata")
    }

    /// Which user attributes (`request.userAttributes`) the path may read, if any.
    pub fn user_attributes(&self) -> Option<AttributeReach> {
        let [top, request, attribute] = self.levels();
        if !(top.allows("request") && request.allows("userAttributes")) {
            return None;
        }
        Some(match attribute {
            Level::Name(name) => AttributeReach::Named(name),
            Level::Any | Level::All => AttributeReach::Any,
        })
    }
}

fn step_level(step: &Step) -> Level {
    match step {
        Step::Member(name) => Level::Name(name.clone()),
        Step::Index(_) | Step::Elements => Level::Any,
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
            JsonPath::Query(_, text) => f.write_str(text),
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
    const MAX_INDEX: u64 = (1 << 53) - 1;
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
                    let index = inner.parse::<u64>().ok().filter(|&i| i <= MAX_INDEX)?;
                    // Past a 32-bit target's `usize`: left to the crate's parser.
                    steps.push(Step::Index(usize::try_from(index).ok()?));
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
    /// A lookup's item (`lookup.NAME`), or a JSONPath's steps into it
    /// (`lookup.NAME.plan`, `lookup.NAME.entitlements[*]`).
    Item {
        /// The lookup's name as written.
        name: String,
        /// Its index in [`Mapping::lookups`](crate::Mapping). Set once the lookups are compiled.
        lookup: u32,
        /// The path into the item (`$` for the whole item).
        path: JsonPath,
    },
}

/// What starts a source that reads a lookup's item.
pub(crate) const ITEM_PREFIX: &str = "lookup.";

/// An item source as a mapping writes it: `lookup.tenant.plan`.
pub(crate) fn item_text(name: &str, path: &JsonPath) -> String {
    let path = path.to_string();
    format!(
        "{ITEM_PREFIX}{name}{}",
        path.strip_prefix('$').unwrap_or(&path)
    )
}

impl Lookup {
    /// An attribute lookup's name and slot, for numbering the mapping's attributes.
    pub(crate) fn attribute_slot(&mut self) -> Option<(&str, &mut u32)> {
        match self {
            Lookup::Attribute { name, slot } => Some((name, slot)),
            Lookup::Path(_) | Lookup::Item { .. } => None,
        }
    }

    /// Parses a `from:` entry: a JSONPath when it starts with `$`, a lookup's item when it starts
    /// with `lookup.`, else an attribute name (no attribute Cognito sends is named `lookup.…`).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with('$') {
            JsonPath::compile(text).map(Lookup::Path)
        } else if let Some(rest) = text.strip_prefix(ITEM_PREFIX) {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let (name, steps) = rest.split_at(end);
            if name.is_empty() {
                return Err(format!(
                    "`{text}`: name the lookup after `{ITEM_PREFIX}` (`lookup.tenant.plan`)"
                ));
            }
            let path = JsonPath::compile(&format!("${steps}"))
                .map_err(|e| format!("`{text}`: the path into the item: {e}"))?;
            Ok(Lookup::Item {
                name: name.to_owned(),
                lookup: 0,
                path,
            })
        } else if let Some(why) = attribute_name_restriction(text) {
            Err(why)
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

/// A piece of a template as written: literal text, or a placeholder's attribute name or path.
enum Piece {
    Text(String),
    Placeholder(String),
}

/// Splits `text` into literal text and placeholders (`{attribute}`, `{$.json.path}`); `{{` and
/// `}}` are literal braces.
fn pieces(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
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
                            return Err("`{` inside a placeholder: close the placeholder before \
                                 it with `}` (write `{{` for a literal brace)"
                                .into());
                        }
                        Some(c) => name.push(c),
                        None => {
                            return Err(
                                "unclosed `{` in template (write `{{` for a literal brace)".into(),
                            );
                        }
                    }
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Placeholder(name.trim().to_owned()));
            }
            '}' => {
                return Err("unmatched `}` in template (write `}}` for a literal brace)".into());
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

/// Whether `text`, a `from:` entry or placeholder, is a JSONPath that is not a plain path: what
/// [`MAX_QUERY_PATHS`](super::MAX_QUERY_PATHS) counts, told without the JSONPath parser.
pub(crate) fn is_query(text: &str) -> bool {
    let path = match text.strip_prefix(ITEM_PREFIX) {
        Some(rest) => format!("${}", &rest[rest.find(['.', '[']).unwrap_or(rest.len())..]),
        None if text.starts_with('$') => text.to_owned(),
        None => return false,
    };
    direct_steps(&path).is_none()
}

/// How many JSONPaths of `template` are not plain paths (an unreadable template counts none; it
/// is refused when compiled).
pub(crate) fn template_queries(template: &str) -> usize {
    pieces(template).map_or(0, |pieces| {
        pieces
            .iter()
            .filter(|p| matches!(p, Piece::Placeholder(name) if is_query(name)))
            .count()
    })
}

impl Template {
    /// The template's placeholders' sources.
    pub(crate) fn lookups(&self) -> impl Iterator<Item = &Lookup> {
        self.parts.iter().filter_map(|part| match part {
            Part::Value(lookup) => Some(lookup),
            Part::Text(_) => None,
        })
    }

    /// The template's placeholders' sources, for numbering.
    pub(crate) fn lookups_mut(&mut self) -> impl Iterator<Item = &mut Lookup> {
        self.parts.iter_mut().filter_map(|part| match part {
            Part::Value(lookup) => Some(lookup),
            Part::Text(_) => None,
        })
    }

    /// Parses `{attribute}` and `{$.json.path}` placeholders; `{{` and `}}` are literal braces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        for piece in pieces(text)? {
            parts.push(match piece {
                Piece::Text(text) => Part::Text(text),
                Piece::Placeholder(name) => Part::Value(
                    Lookup::parse(&name).map_err(|e| format!("template placeholder: {e}"))?,
                ),
            });
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
            Source::Template(t) => (t.lookups().collect(), "template"),
        }
    }

    /// The source's lookups, for numbering the mapping's attributes.
    pub(crate) fn lookups_mut(&mut self) -> impl Iterator<Item = &mut Lookup> {
        let (from, template): (&mut [Lookup], Option<&mut Template>) = match self {
            Source::From(lookups) => (lookups, None),
            Source::Constant(_) => (&mut [], None),
            Source::Template(t) => (&mut [], Some(t)),
        };
        from.iter_mut()
            .chain(template.into_iter().flat_map(Template::lookups_mut))
    }
}
