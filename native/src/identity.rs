//! Peer identity: Nacos 1.4.1's `nacos.core.auth.server.identity.key` / `.value`, a header the
//! members send each other. This node sends it on every request to a peer and refuses every
//! request under `/nacos/v1/ns/raft/` that does not carry it, with 403 and Nacos' text, before
//! the request is decoded. Java 1.4.1 only checks it in its auth filter, where a mismatch still
//! reaches the (unannotated) raft methods; here it closes them, which is the point of the option.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::path::Path;

/// Nacos' property names, as read from `application.properties` (`--nacos-conf`).
pub const KEY_PROPERTY: &str = "nacos.core.auth.server.identity.key";
/// See [`KEY_PROPERTY`].
pub const VALUE_PROPERTY: &str = "nacos.core.auth.server.identity.value";

/// The 403 text of Nacos 1.4.1's `AuthFilter` (core/.../auth/AuthFilter.java:92-94).
pub const REFUSED: &str = "Invalid server identity key or value, Please make sure set \
     `nacos.core.auth.server.identity.key` and `nacos.core.auth.server.identity.value`, or open \
     `nacos.core.auth.enable.userAgentAuthWhite`";

/// The header members send each other, and expect.
#[derive(Clone)]
pub struct Identity {
    name: HeaderName,
    value: HeaderValue,
}

impl std::fmt::Debug for Identity {
    // The value is a shared secret: it stays out of logs and debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({}: <hidden>)", self.name)
    }
}

impl Identity {
    /// The identity from a key and a value; both must be non-blank (Java's `isNotBlank`) and
    /// usable in an HTTP header. The error is a message for people.
    pub fn new(key: &str, value: &str) -> Result<Identity, String> {
        if key.trim().is_empty() || value.trim().is_empty() {
            return Err("the identity key and value must both be set and not blank".into());
        }
        let name = HeaderName::try_from(key)
            .map_err(|_| format!("identity key {key:?} is not a valid HTTP header name"))?;
        let value = HeaderValue::try_from(value)
            .map_err(|_| "the identity value cannot be sent in an HTTP header".to_string())?;
        Ok(Identity { name, value })
    }

    /// The header's name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The header's value.
    pub fn value(&self) -> &HeaderValue {
        &self.value
    }

    /// Whether `headers` carry the identity. Every header of that name is looked at, in time
    /// that depends on the lengths only, so that a stranger cannot find the value byte by byte.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let mut ok = false;
        for v in headers.get_all(&self.name) {
            ok |= constant_time_eq(v.as_bytes(), self.value.as_bytes());
        }
        ok
    }

    /// The middleware of the raft routes: a request without the identity is answered 403 with
    /// Nacos' text and never reaches the handler (nor the node).
    pub async fn guard(self, req: Request, next: Next) -> Response {
        if self.admits(req.headers()) {
            return next.run(req).await;
        }
        tracing::warn!(
            path = %req.uri().path(),
            "refused a raft request without the right {} header",
            self.name
        );
        let mut r = (StatusCode::FORBIDDEN, REFUSED).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        r
    }
}

/// Equality of two byte strings whose time depends on their lengths, not on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Read through `black_box` so the compiler cannot stop at the first difference.
    std::hint::black_box(diff) == 0
}

/// Reads a Java `.properties` file (Nacos' `application.properties`): `key=value`, `key: value`
/// or `key value`; `#` and `!` comments; a trailing backslash continues a line; `\t`, `\n`,
/// `\r`, `\f`, `\uXXXX` and `\<char>` escapes. Later keys win, as in `java.util.Properties`.
pub fn read_properties(path: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(parse_properties(&text))
}

/// See [`read_properties`].
pub fn parse_properties(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let mut logical = first.trim_start().to_string();
        if logical.is_empty() || logical.starts_with('#') || logical.starts_with('!') {
            continue;
        }
        // A line ending in an odd number of backslashes continues on the next one, whose
        // leading white space is dropped.
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (k, v) = split_key(&logical);
        out.insert(unescape(k), unescape(v));
    }
    out
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits a logical line at the first unescaped `=`, `:` or white space; the separator and the
/// white space around it are dropped.
fn split_key(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let i = i.min(bytes.len());
    let key = &line[..i];
    let mut rest = line[i..].trim_start_matches([' ', '\t', '\x0c']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t', '\x0c']);
    }
    (key, rest)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => out.push(ch),
                    // Java throws on a malformed escape; keeping the text is the safe reading.
                    _ => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_read_as_java_reads_them() {
        let p = parse_properties(
            "# comment\n! other comment\n  a=1\nb : 2\nc 3\nd=x\\\n    y\ne=\\u0041\\tz\n\
             f\\=g=h\nempty=\na=last\n",
        );
        assert_eq!(p["a"], "last");
        assert_eq!(p["b"], "2");
        assert_eq!(p["c"], "3");
        assert_eq!(p["d"], "xy");
        assert_eq!(p["e"], "A\tz");
        assert_eq!(p["f=g"], "h");
        assert_eq!(p["empty"], "");
        assert!(!p.contains_key("# comment"));
    }

    #[test]
    fn identities_are_checked_and_compared_whole() {
        assert!(Identity::new("", "v").is_err());
        assert!(Identity::new("k", "  ").is_err());
        assert!(Identity::new("bad key", "v").is_err());
        assert!(Identity::new("k", "line\nbreak").is_err());
        let id = Identity::new("X-Peer", "s3cret").unwrap();
        assert!(!format!("{id:?}").contains("s3cret"));
        let mut h = HeaderMap::new();
        assert!(!id.admits(&h));
        h.insert("x-peer", HeaderValue::from_static("s3cre"));
        assert!(!id.admits(&h));
        h.insert("x-peer", HeaderValue::from_static("s3cret!"));
        assert!(!id.admits(&h));
        h.insert("x-peer", HeaderValue::from_static("S3cret"));
        assert!(!id.admits(&h));
        h.insert("x-peer", HeaderValue::from_static("s3cret"));
        assert!(id.admits(&h));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"a", b"b"));
    }
}
