//! The limits a mapping is held to at load, and their defaults.

/// Largest mapping accepted, in bytes.
pub const MAX_MAPPING_BYTES: usize = 1024 * 1024;
/// Most claim rules accepted in one mapping, base and overlays together.
pub const MAX_RULES: usize = 2000;
/// Default of `limits.token_claim_bytes`: the JSON bytes of claims a mapping may add to one
/// token. Tokens travel in headers and cookies, often capped at 8 KB; 4 KB of claims, base64url
/// encoded, still leaves room for Cognito's own claims and the signature.
pub const DEFAULT_TOKEN_CLAIM_BYTES: usize = 4096;
/// Largest `limits.token_claim_bytes` accepted.
pub const MAX_TOKEN_CLAIM_BYTES: usize = 64 * 1024;
/// Largest value a rule works on per event, in value bytes (a string's length in bytes; 8 for a
/// number, boolean or null; an array or object: its members, keys by their length, plus one byte
/// each). A source value, a placeholder's value or a transform's result over it is a rule
/// failure. It bounds what one rule can cost per event whatever the event holds (Lambda accepts
/// events of up to 6 MB; `clientMetadata` is whatever the caller sent), and it is the largest
/// `limits.token_claim_bytes`, so no claim that could be sent is refused by it. Checking it costs
/// a comparison for a string and at most this many steps for an array or object.
pub const MAX_VALUE_BYTES: usize = MAX_TOKEN_CLAIM_BYTES;
/// What a rule failing on [`MAX_VALUE_BYTES`] says.
pub const OVER_VALUE_CAP: &str = "the value is over the 64 KiB a rule works on";
const _: () = assert!(
    MAX_VALUE_BYTES == 64 * 1024,
    "OVER_VALUE_CAP names the limit"
);
/// Most transforms in one mapping, base and overlays together: with [`MAX_VALUE_BYTES`], it bounds
/// the transform work per event (docs/performance.md, "Worst case").
pub const MAX_TRANSFORMS: usize = 2000;
/// Most JSONPaths in one mapping that are not plain paths (wildcards, descendants, filters,
/// slices): each may visit every node of the event, every event.
pub const MAX_QUERY_PATHS: usize = 8;
/// Most regular expressions (`replace` transforms and `matches` conditions) in one mapping. Each
/// compiles to at most [`MAX_REGEX_SIZE`] and its matching cache is held to as much, so that the
/// largest allowed set fits a 128 MB function at load (docs/performance.md, "Limits").
pub const MAX_REGEXES: usize = 64;
/// Largest compiled size of one regex (`replace`, `matches`, `groups.keep.patterns`), to bound memory and
/// matching time.
pub const MAX_REGEX_SIZE: usize = 256 * 1024;
/// Most positions one regular expression may spell out, counted from its syntax with every counted
/// repetition written out (`a{10}` is 10, `(ab){5}` 10, a class one, `x*` one and `x+` two). What
/// a regex costs on a value grows with it, faster than in proportion: past some tens of positions
/// a pattern can need more states than the regex engine's lazy DFA keeps, and the engine then
/// falls back to one that pays for every position at every byte; see
/// [`MAX_MAPPING_REGEX_POSITIONS`] for the total (docs/performance.md, "Limits").
pub const MAX_REGEX_POSITIONS: u64 = 50;
/// Most positions all the regular expressions of a mapping spell out together (`replace`,
/// `matches`, `groups.keep.patterns`), base and overlays, as [`MAX_REGEX_POSITIONS`] counts them.
/// `replace` looks for every match, and finding each may read the rest of the value, so its cost
/// grows with the square of the value's length times the pattern's positions: this total keeps
/// the costliest mapping within the worst-case budget (docs/performance.md, "Limits").
pub const MAX_MAPPING_REGEX_POSITIONS: u64 = 500;
/// Longest value a regular expression reads, in bytes: a `replace` on a longer value fails the
/// rule, a `matches` on one does not hold, and `groups.keep.patterns` do not keep a longer group
/// name. Cognito's attribute values (at most 2,048 characters) and group names (at most 128) are
/// rarely near it; the cap is what keeps a `replace`, whose cost grows with the square of the
/// value, within the worst case (docs/performance.md, "Limits").
pub const MAX_REGEX_INPUT_BYTES: usize = 1024;
/// What a rule failing on [`MAX_REGEX_INPUT_BYTES`] says.
pub const OVER_REGEX_INPUT: &str = "the value is over the 1 KiB a regular expression reads";
const _: () = assert!(
    MAX_REGEX_INPUT_BYTES == 1024,
    "OVER_REGEX_INPUT names the limit"
);
/// Most bytes of group names `groups.keep.patterns` read per event, all names together: beyond
/// them the patterns keep no further group (names and prefixes still do). Cognito sends a user's
/// groups, far fewer; an event can hold megabytes of them, which the patterns would read at a
/// cost per byte that grows with their positions.
pub const MAX_KEEP_PATTERN_BYTES: usize = MAX_VALUE_BYTES;

/// The positions `hir` spells out, as [`MAX_REGEX_POSITIONS`] counts them.
fn positions(hir: &regex_syntax::hir::Hir) -> u64 {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(literal) => literal.0.len() as u64,
        HirKind::Class(_) => 1,
        HirKind::Repetition(repetition) => {
            let copies = repetition
                .max
                .unwrap_or_else(|| repetition.min.saturating_add(1))
                .max(1);
            positions(&repetition.sub).saturating_mul(u64::from(copies))
        }
        HirKind::Capture(capture) => positions(&capture.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            parts.iter().map(positions).fold(0, u64::saturating_add)
        }
    }
}

/// `pattern` compiled as every regex of a mapping is: refused when it spells out more than
/// [`MAX_REGEX_POSITIONS`] positions (before anything is compiled) or compiles past
/// [`MAX_REGEX_SIZE`].
pub(crate) fn regex(pattern: &str) -> Result<regex::Regex, String> {
    check_regex(pattern)?;
    regex::RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_SIZE)
        .dfa_size_limit(MAX_REGEX_SIZE)
        .build()
        .map_err(|e| format!("invalid regular expression: {e}"))
}

/// Why `pattern` is refused before it is compiled, if it is: it does not parse, or it spells out
/// more than [`MAX_REGEX_POSITIONS`] positions.
pub(crate) fn check_regex(pattern: &str) -> Result<(), String> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| format!("invalid regular expression: {e}"))?;
    let count = positions(&hir);
    if count > MAX_REGEX_POSITIONS {
        return Err(format!(
            "the regular expression spells out {count} positions (counted repetitions written \
             out); at most {MAX_REGEX_POSITIONS}, as matching grows costly past that on long values: \
             use a shorter repetition (`{{1,20}}`), or `+`/`*` where the count does not matter"
        ));
    }
    Ok(())
}

/// The positions `pattern` adds to a mapping's total ([`MAX_MAPPING_REGEX_POSITIONS`]): those it
/// spells out, at most [`MAX_REGEX_POSITIONS`] and one, so that a pattern refused on its own is
/// reported as that; 0 when it does not parse (compiling it reports that).
pub(crate) fn pattern_positions(pattern: &str) -> u64 {
    regex_positions(pattern).map_or(0, |n| n.min(MAX_REGEX_POSITIONS + 1))
}

/// The positions `pattern` spells out, as [`MAX_REGEX_POSITIONS`] counts them, or `None` when it
/// is not a regular expression.
pub fn regex_positions(pattern: &str) -> Option<u64> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    Some(positions(&hir))
}

/// What the load-time limits count, in a part of a mapping or in all of it so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Costs {
    /// Transforms ([`MAX_TRANSFORMS`]).
    pub(crate) transforms: usize,
    /// Regular expressions: `replace` transforms and `matches` conditions ([`MAX_REGEXES`]).
    pub(crate) regexes: usize,
    /// JSONPaths that are not plain paths ([`MAX_QUERY_PATHS`]).
    pub(crate) queries: usize,
    /// Positions the regular expressions spell out ([`MAX_MAPPING_REGEX_POSITIONS`]).
    pub(crate) regex_positions: u64,
}

impl Costs {
    /// Adds `part`, and says which limits it passes (each limit once, where it is passed).
    pub(crate) fn add(&mut self, part: Costs) -> Vec<String> {
        let before = *self;
        self.transforms += part.transforms;
        self.regexes += part.regexes;
        self.queries += part.queries;
        self.regex_positions = self.regex_positions.saturating_add(part.regex_positions);
        fn passed<T: PartialOrd>(before: T, after: T, max: T) -> bool {
            before <= max && after > max
        }
        let mut problems = Vec::new();
        if passed(before.transforms, self.transforms, MAX_TRANSFORMS) {
            problems.push(format!(
                "more than {MAX_TRANSFORMS} transforms in the mapping; each may work on up to \
                 64 KiB per event"
            ));
        }
        if passed(before.regexes, self.regexes, MAX_REGEXES) {
            problems.push(format!(
                "more than {MAX_REGEXES} regular expressions (`replace` transforms and `matches` \
                 conditions) in the mapping; each costs memory at every cold start"
            ));
        }
        if passed(before.queries, self.queries, MAX_QUERY_PATHS) {
            problems.push(format!(
                "more than {MAX_QUERY_PATHS} JSONPaths with wildcards, descendants, filters or \
                 slices in the mapping; each may visit every node of every event: use plain \
                 paths (`$.a.b`, `$['c:d'][0]`) where they do"
            ));
        }
        if passed(
            before.regex_positions,
            self.regex_positions,
            MAX_MAPPING_REGEX_POSITIONS,
        ) {
            problems.push(format!(
                "the regular expressions of the mapping spell out more than \
                 {MAX_MAPPING_REGEX_POSITIONS} positions together ({} so far); a regex may cost \
                 per event up to its positions times the square of the value it reads: use \
                 fewer or shorter patterns",
                self.regex_positions
            ));
        }
        problems
    }
}
