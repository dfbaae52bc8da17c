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
/// Deepest nesting of YAML collections accepted: serde_yaml's own recursion limit, measured before
/// the parser runs.
pub const MAX_YAML_DEPTH: usize = 128;
/// Most `replace` transforms (each a regular expression) in one mapping. Each compiles to at
/// most [`MAX_REGEX_SIZE`] and its matching cache is held to as much: measured, 64 of the largest
/// (`\w{5}`) take 26 MB and 0.08 s at load, where 1,000 took 307 MB and 1.5 s, more than a
/// 128 MB function has.
pub const MAX_REPLACE_REGEXES: usize = 64;
/// Largest compiled size of one regex (`replace`, `groups.keep.patterns`), to bound memory and
/// matching time.
pub const MAX_REGEX_SIZE: usize = 256 * 1024;
