//! The one gate every outgoing connection of a node passes: peer requests today, health checks
//! and anything else later. With `--loopback-only` it refuses any destination outside
//! 127.0.0.0/8, logs one clear line per refusal and counts it, so that tests, benchmarks and
//! demos can prove that a node never leaves loopback.

use prometheus_client::metrics::counter::Counter;
use std::net::{IpAddr, SocketAddr};

/// The words every refusal's log line starts with; test harnesses look for them.
pub const REFUSAL_LOG: &str = "loopback-only: refused an outgoing connection";

/// Decides whether a node may connect to an address.
#[derive(Clone, Debug, Default)]
pub struct Egress {
    loopback_only: bool,
    refused: Counter,
}

impl Egress {
    /// A gate; `loopback_only` refuses everything outside 127.0.0.0/8 and counts each refusal
    /// in `refused` (the node passes its `/metrics` counter).
    pub fn new(loopback_only: bool, refused: Counter) -> Egress {
        Egress {
            loopback_only,
            refused,
        }
    }

    /// Whether only loopback destinations are allowed.
    pub fn loopback_only(&self) -> bool {
        self.loopback_only
    }

    /// The number of refusals so far (exported as `nacos_raft_loopback_refusals_total`).
    pub fn refusals(&self) -> &Counter {
        &self.refused
    }

    /// Checks `to` (`host:port`, as members and instances are written) before a connection is
    /// opened for `purpose`. Under `--loopback-only` a host must be an IPv4 literal in
    /// 127.0.0.0/8: names are refused rather than resolved, because what a name resolves to can
    /// change between this check and the connect.
    pub fn check(&self, to: &str, purpose: &str) -> Result<(), String> {
        if !self.loopback_only {
            return Ok(());
        }
        match loopback_reason(to) {
            None => Ok(()),
            Some(why) => {
                self.refused.inc();
                tracing::error!("{REFUSAL_LOG} to {to} ({purpose}): {why}");
                Err(format!("--loopback-only refuses {to}: {why}"))
            }
        }
    }
}

/// Why `to` is not a 127.0.0.0/8 destination, or `None` when it is.
fn loopback_reason(to: &str) -> Option<String> {
    let ip = match to.parse::<SocketAddr>() {
        Ok(sa) => sa.ip(),
        Err(_) => {
            let host = to.rsplit_once(':').map_or(to, |(h, _)| h);
            match host.parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => {
                    return Some(format!(
                        "{host} is a name, not an address in 127.0.0.0/8 (names are not resolved)"
                    ))
                }
            }
        }
    };
    match ip {
        IpAddr::V4(v4) if v4.octets()[0] == 127 => None,
        other => Some(format!("{other} is outside 127.0.0.0/8")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_127_slash_8_passes_when_loopback_only() {
        let g = Egress::new(true, Counter::default());
        for ok in ["127.0.0.1:8848", "127.255.0.9:1", "127.0.0.11:80"] {
            assert_eq!(g.check(ok, "test"), Ok(()), "{ok}");
        }
        for bad in [
            "10.0.0.9:8848",
            "192.168.1.1:8848",
            "8.8.8.8:53",
            "[::1]:8848",
            "localhost:8848",
            "128.0.0.1:1",
            "nacos.example:8848",
        ] {
            let err = g.check(bad, "test").unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
        assert_eq!(g.refusals().get(), 7);
    }

    #[test]
    fn everything_passes_without_the_option() {
        let g = Egress::new(false, Counter::default());
        assert_eq!(g.check("10.0.0.9:8848", "test"), Ok(()));
        assert_eq!(g.refusals().get(), 0);
    }
}
