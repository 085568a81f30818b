//! Timing and protocol constants (docs/nacos-protocol.md §4), with Nacos 1.4.1's defaults.

use alloc::string::String;
use core::fmt;

use crate::Rules;

/// Every constant of the protocol. [`Config::default`] is Nacos 1.4.1; [`Config::fast`] divides
/// every timing by ten (handy for demos and tests, same shape of behaviour).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `TICK_PERIOD_MS`: how often the election and heartbeat tasks run (500).
    pub tick_ms: u64,
    /// `LEADER_TIMEOUT_MS`: base of `resetLeaderDue` and the range of the initial leader due (15000).
    pub leader_timeout_ms: u64,
    /// `RANDOM_MS`: jitter added by `resetLeaderDue`, uniform in `[0, random_ms)` (5000).
    pub random_ms: u64,
    /// `HEARTBEAT_INTERVAL_MS`: `resetHeartbeatDue` value and range of the initial due (5000).
    pub heartbeat_ms: u64,
    /// `RAFT_PUBLISH_TIMEOUT`: how long a leader waits for a majority of commit acks (5000).
    pub publish_timeout_ms: u64,
    /// Keys per datum fetch during beat-driven sync (50).
    pub sync_batch: usize,
    /// Pause after processing one datum-fetch answer; Nacos sleeps 200 ms in the HTTP callback.
    /// A follower may choose 0: the pacing is local and invisible on the wire.
    pub sync_pause_ms: u64,
    /// `PUBLISH_TERM_INCREASE_COUNT`: the term bump of every applied write (100).
    pub term_step: u64,
    /// The switch flag `sendBeatOnly` until a switch datum sets it: beats carry no datums (and
    /// receivers skip sync).
    pub send_beat_only: bool,
    /// The rule set: Nacos 1.4.1's (the default) or fixes of the hardened set (issue #13).
    pub rules: Rules,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tick_ms: 500,
            leader_timeout_ms: 15_000,
            random_ms: 5_000,
            heartbeat_ms: 5_000,
            publish_timeout_ms: 5_000,
            sync_batch: 50,
            sync_pause_ms: 200,
            term_step: 100,
            send_beat_only: false,
            rules: Rules::Nacos141,
        }
    }
}

/// A [`Config`] that cannot work, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConfigError {}

impl Config {
    /// Nacos' timings divided by ten (tick 50 ms, leader due 1.5–2.0 s, beat every 500 ms).
    pub fn fast() -> Self {
        let d = Config::default();
        Config {
            tick_ms: d.tick_ms / 10,
            leader_timeout_ms: d.leader_timeout_ms / 10,
            random_ms: d.random_ms / 10,
            heartbeat_ms: d.heartbeat_ms / 10,
            publish_timeout_ms: d.publish_timeout_ms / 10,
            sync_pause_ms: d.sync_pause_ms / 10,
            ..d
        }
    }

    /// Checks that the timers can run: a zero tick would never advance, and a heartbeat that is
    /// not shorter than the leader timeout makes every follower start elections under a healthy leader.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |m: &str| Err(ConfigError(m.into()));
        if self.tick_ms == 0 {
            return err("tick must be at least 1 ms");
        }
        if self.leader_timeout_ms == 0 {
            return err("leader timeout must be at least 1 ms");
        }
        if self.heartbeat_ms == 0 {
            return err("heartbeat interval must be at least 1 ms");
        }
        if self.heartbeat_ms >= self.leader_timeout_ms {
            return err("heartbeat interval must be shorter than the leader timeout");
        }
        if self.tick_ms > self.heartbeat_ms {
            return err("tick must not be longer than the heartbeat interval");
        }
        if self.publish_timeout_ms == 0 {
            return err("publish timeout must be at least 1 ms");
        }
        if self.sync_batch == 0 {
            return err("sync batch must hold at least one key");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_nacos_and_valid() {
        let c = Config::default();
        assert_eq!(
            (c.tick_ms, c.leader_timeout_ms, c.random_ms, c.heartbeat_ms),
            (500, 15_000, 5_000, 5_000)
        );
        assert_eq!(
            (c.publish_timeout_ms, c.sync_batch, c.term_step),
            (5_000, 50, 100)
        );
        assert!(c.validate().is_ok());
        assert!(Config::fast().validate().is_ok());
        assert_eq!(Config::fast().heartbeat_ms, 500);
    }

    #[test]
    fn validate_rejects_unworkable_timings() {
        let bad = Config {
            tick_ms: 0,
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "tick must be at least 1 ms");
        let bad = Config {
            heartbeat_ms: 20_000,
            ..Config::default()
        };
        assert!(bad.validate().is_err());
        let bad = Config {
            sync_batch: 0,
            ..Config::default()
        };
        assert!(bad.validate().is_err());
    }
}
