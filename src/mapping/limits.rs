//! The limits a mapping is held to at load, and their defaults; and reading a file no further
//! than a limit.

/// Reads `path` up to `limit` bytes and one more, never further: a caller tells a file over the
/// limit by the length, without reading the rest. Bounded by the bytes actually read, not the size
/// the file claims: a FIFO or a device (`/dev/zero`) reports none and never ends.
pub(crate) fn read_at_most(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

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
/// the transform work per event (the costliest, `sha256` of the largest value, is about 0.1 ms).
pub const MAX_TRANSFORMS: usize = 2000;
/// Most JSONPaths in one mapping that are not plain paths (wildcards, descendants, filters,
/// slices): each may visit every node of the event, every event.
pub const MAX_QUERY_PATHS: usize = 8;
/// Deepest nesting of YAML collections accepted: serde_yaml's own recursion limit, measured before
/// the parser runs.
pub const MAX_YAML_DEPTH: usize = 128;
/// Most regular expressions (`replace` transforms and `matches` conditions) in one mapping. Each
/// compiles to at most [`MAX_REGEX_SIZE`] and its matching cache is held to as much: measured, 64 of the largest
/// (`\w{5}`) take 26 MB and 0.08 s at load, where 1,000 took 307 MB and 1.5 s, more than a
/// 128 MB function has.
pub const MAX_REGEXES: usize = 64;
/// Largest compiled size of one regex (`replace`, `matches`, `groups.keep.patterns`), to bound memory and
/// matching time.
pub const MAX_REGEX_SIZE: usize = 256 * 1024;
