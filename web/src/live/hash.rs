//! The live-mode hash: `#live=127.0.0.1:8848,127.0.0.1:8849` (the node addresses the page
//! connects to). `#live=` alone opens the Connect dialog.

/// At most this many nodes are watched at once (the simulator's cap too).
pub const MAX_LIVE_NODES: usize = 15;

/// The addresses the dialog proposes when nothing is remembered (`make live`'s cluster).
pub const DEFAULT_ADDRS: &str = "127.0.0.1:8848,127.0.0.1:8849,127.0.0.1:8850";

/// Whether `hash` (without `#`) asks for live mode.
pub fn is_live(hash: &str) -> bool {
    let h = hash.strip_prefix('#').unwrap_or(hash);
    h == "live" || h.starts_with("live=")
}

/// The addresses of a live hash (empty for `live=`: the dialog asks), or why they cannot be used.
pub fn addresses(hash: &str) -> Result<Vec<String>, String> {
    let h = hash.strip_prefix('#').unwrap_or(hash);
    let list = h
        .strip_prefix("live=")
        .or_else(|| (h == "live").then_some(""))
        .ok_or_else(|| "not a live-mode link (it starts with live=)".to_string())?;
    parse_list(list)
}

/// A comma- or space-separated list of `host:port` addresses, checked.
pub fn parse_list(list: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for a in list
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|a| !a.is_empty())
    {
        let a = a.trim_start_matches("http://");
        let (host, port) = a
            .rsplit_once(':')
            .ok_or_else(|| format!("{a:?} is not host:port"))?;
        let ok_host = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok_host {
            return Err(format!(
                "{a:?}: {host:?} is not a host name or IPv4 address"
            ));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(format!("{a:?}: {port:?} is not a port (1-65535)")),
        }
        if out.iter().any(|o| o == a) {
            return Err(format!("{a} is listed twice"));
        }
        out.push(a.to_string());
    }
    if out.len() > MAX_LIVE_NODES {
        return Err(format!("at most {MAX_LIVE_NODES} nodes, not {}", out.len()));
    }
    Ok(out)
}

/// The hash of a list of addresses.
pub fn hash_of(addrs: &[String]) -> String {
    format!("live={}", addrs.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_hashes_are_recognized_and_read() {
        assert!(is_live("live=127.0.0.1:8848"));
        assert!(is_live("#live="));
        assert!(is_live("live"));
        assert!(!is_live("seed=3&nodes=5"));
        assert!(!is_live("lively=1"));
        assert_eq!(
            addresses("#live=127.0.0.1:8848,127.0.0.1:8849").unwrap(),
            ["127.0.0.1:8848", "127.0.0.1:8849"]
        );
        assert_eq!(addresses("live=").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_list(" 127.0.0.1:8848  localhost:9000,http://127.0.0.2:1 ").unwrap(),
            ["127.0.0.1:8848", "localhost:9000", "127.0.0.2:1"]
        );
        let addrs = addresses(&hash_of(&["a:1".into(), "b:2".into()])).unwrap();
        assert_eq!(addrs, ["a:1", "b:2"]);
    }

    #[test]
    fn bad_addresses_say_why() {
        assert!(addresses("seed=1").is_err());
        let e = parse_list("127.0.0.1").unwrap_err();
        assert!(e.contains("not host:port"), "{e}");
        let e = parse_list("127.0.0.1:0").unwrap_err();
        assert!(e.contains("not a port"), "{e}");
        let e = parse_list("127.0.0.1:70000").unwrap_err();
        assert!(e.contains("not a port"), "{e}");
        let e = parse_list("ev/il:80").unwrap_err();
        assert!(e.contains("not a host"), "{e}");
        let e = parse_list("a:1,a:1").unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let many: Vec<String> = (1..=16).map(|p| format!("127.0.0.1:{p}")).collect();
        assert!(parse_list(&many.join(","))
            .unwrap_err()
            .contains("at most 15"));
    }
}
