//! Member addresses (`docs/nacos-protocol.md` §9): Nacos identifies a node by the exact string
//! `host:port` from `cluster.conf`, so parsing here must produce the same strings Java's
//! `ServerMemberManager` / `MemberUtil` would.

use std::fmt;
use std::path::Path;

/// Nacos' default `server.port`, used when a member line has no port.
pub const DEFAULT_PORT: u16 = 8848;

/// A member address that could not be understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressError(pub String);

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressError {}

/// Normalises one `ip[:port]` entry to `host:port` (port 8848 when absent). IPv6 addresses are
/// written in brackets, as Nacos' `InetUtils` does (`[::1]:8848`).
pub fn normalize(entry: &str) -> Result<String, AddressError> {
    let e = entry.trim();
    if e.is_empty() {
        return Err(AddressError("empty member address".into()));
    }
    if e.chars()
        .any(|c| c.is_whitespace() || c == '/' || c == '?' || c == '#')
    {
        return Err(AddressError(format!(
            "member address {e:?} contains a character that cannot be part of host:port"
        )));
    }
    let (host, port) = if let Some(rest) = e.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err(AddressError(format!(
                "member address {e:?} has no closing ]"
            )));
        };
        let host = &rest[..end];
        let tail = &rest[end + 1..];
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p),
            None if tail.is_empty() => None,
            None => {
                return Err(AddressError(format!(
                    "member address {e:?}: expected :port after ]"
                )))
            }
        };
        (format!("[{host}]"), port)
    } else if e.matches(':').count() > 1 {
        // A bare IPv6 address: Java would not accept a port here either.
        (format!("[{e}]"), None)
    } else {
        match e.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (e.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(AddressError(format!("member address {e:?} has no host")));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => {
                return Err(AddressError(format!(
                    "member address {e:?} has an invalid port {p:?} (expected 1-65535)"
                )))
            }
            Ok(n) => n,
        },
    };
    Ok(format!("{host}:{port}"))
}

/// The port of a normalised `host:port`.
pub fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

/// Parses Nacos' `cluster.conf` text: one or more comma-separated `ip[:port]` entries a line,
/// `#` starts a comment (also at the end of a line), blank lines ignored.
pub fn parse_cluster_conf(text: &str) -> Result<Vec<String>, AddressError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        for entry in content.split(',') {
            if entry.trim().is_empty() {
                continue;
            }
            let addr =
                normalize(entry).map_err(|e| AddressError(format!("line {}: {}", n + 1, e.0)))?;
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    Ok(out)
}

/// Parses a comma-separated member list (the `--members` option, Nacos' `nacos.member.list`).
pub fn parse_list(list: &str) -> Result<Vec<String>, AddressError> {
    let mut out = Vec::new();
    for entry in list.split(',') {
        if entry.trim().is_empty() {
            continue;
        }
        let addr = normalize(entry)?;
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    Ok(out)
}

/// Reads a `cluster.conf` file.
pub fn read_cluster_conf(path: &Path) -> Result<Vec<String>, AddressError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AddressError(format!("cannot read {}: {e}", path.display())))?;
    parse_cluster_conf(&text).map_err(|e| AddressError(format!("{}: {}", path.display(), e.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_get_the_default_port_and_ipv6_brackets() {
        assert_eq!(normalize("10.0.0.1").unwrap(), "10.0.0.1:8848");
        assert_eq!(normalize(" 10.0.0.1:8849 ").unwrap(), "10.0.0.1:8849");
        assert_eq!(normalize("nacos-0.local:80").unwrap(), "nacos-0.local:80");
        assert_eq!(normalize("[::1]:9000").unwrap(), "[::1]:9000");
        assert_eq!(normalize("[::1]").unwrap(), "[::1]:8848");
        assert_eq!(normalize("fe80::1").unwrap(), "[fe80::1]:8848");
        for bad in [
            "", ":8848", "a:0", "a:70000", "a:b", "[::1", "[::1]x", "a b",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_conf_allows_comments_commas_and_blank_lines() {
        let text =
            "# the cluster\n10.0.0.1:8848 # first\n\n10.0.0.2,10.0.0.3:8850\n  \n10.0.0.1:8848\n";
        assert_eq!(
            parse_cluster_conf(text).unwrap(),
            ["10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8850"]
        );
        let err = parse_cluster_conf("10.0.0.1\n10.0.0.2:x\n").unwrap_err();
        assert!(err.0.starts_with("line 2:"), "{err}");
        assert_eq!(
            parse_list("a:1, b ,,a:1").unwrap(),
            ["a:1".to_string(), "b:8848".to_string()]
        );
        assert_eq!(port_of("[::1]:9000"), Some(9000));
    }
}
