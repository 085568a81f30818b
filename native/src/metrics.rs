//! `GET /metrics`: the node's counters in the Prometheus / OpenMetrics text format.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

const STATES: [&str; 3] = ["LEADER", "FOLLOWER", "CANDIDATE"];

/// Label set `{state="LEADER"}` etc.
pub type StateLabels = Vec<(&'static str, &'static str)>;

/// Every metric this node exports. Cheap to clone: each metric is shared.
#[derive(Clone)]
pub struct Metrics {
    /// Current term.
    pub term: Gauge,
    /// 1 for the current state, 0 for the others.
    pub state: Family<StateLabels, Gauge>,
    /// Times this node switched to another leader (`makeLeader`, `decideLeader`).
    pub leader_changes: Counter,
    /// Elections this node started.
    pub elections: Counter,
    /// Beat requests sent (one per follower per beat).
    pub beats_sent: Counter,
    /// Beat requests that did not get a 200.
    pub beats_failed: Counter,
    /// Beats sent as a difference from a list the follower holds (hardened, `beat_list`).
    pub beats_by_difference: Counter,
    /// Differences a follower refused for want of their base list (the whole list followed).
    pub beats_not_held: Counter,
    /// Beats received and accepted.
    pub beats_received: Counter,
    /// Datums held.
    pub datums: Gauge,
    /// Datum-fetch requests sent during beat sync.
    pub sync_fetches: Counter,
    /// Keys asked for by those requests.
    pub sync_fetch_keys: Counter,
    /// Datums applied from beat sync.
    pub sync_applied: Counter,
    /// Batches of commits sent (hardened leader, to members that take them).
    pub commit_batches: Counter,
    /// Commits sent in those batches.
    pub commit_batch_items: Counter,
    /// Latency of the client writes (`POST /datum`) this node answered, failed ones included.
    pub publish_latency: Histogram,
    /// Client writes that failed.
    pub publish_failures: Counter,
    /// Commits applied as a follower.
    pub commits_applied: Counter,
    /// Batches written to disk and how long each took (write, fsync, rename, directory fsync).
    pub persist_latency: Histogram,
    /// Files written.
    pub files_written: Counter,
    /// Background write-backs of the datum files between log checkpoints (one `syncfs` each)
    /// and how long each took.
    pub writeback_latency: Histogram,
    /// Outgoing connections refused by `--loopback-only`.
    pub loopback_refusals: Counter,
    /// The HTTP server's connections: open, refused over the cap, timed out.
    pub http: HttpMetrics,
    /// Viewers connected to the event stream.
    pub live_viewers: Gauge,
    /// Records dropped for viewers that fell behind.
    pub live_dropped: Counter,
    /// The three members of `state`, looked up once (the actor sets them after every round).
    states: [Gauge; 3],
    registry: std::sync::Arc<Registry>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh set, registered under the prefix `nacos_raft`.
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("nacos_raft");
        let m = Metrics {
            term: Gauge::default(),
            state: Family::default(),
            leader_changes: Counter::default(),
            elections: Counter::default(),
            beats_sent: Counter::default(),
            beats_failed: Counter::default(),
            beats_by_difference: Counter::default(),
            beats_not_held: Counter::default(),
            beats_received: Counter::default(),
            datums: Gauge::default(),
            sync_fetches: Counter::default(),
            sync_fetch_keys: Counter::default(),
            commit_batches: Counter::default(),
            commit_batch_items: Counter::default(),
            sync_applied: Counter::default(),
            publish_latency: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            publish_failures: Counter::default(),
            commits_applied: Counter::default(),
            persist_latency: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
            files_written: Counter::default(),
            writeback_latency: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
            loopback_refusals: Counter::default(),
            http: HttpMetrics::default(),
            live_viewers: Gauge::default(),
            live_dropped: Counter::default(),
            states: Default::default(),
            registry: Default::default(),
        };
        r.register("term", "Current Raft term", m.term.clone());
        r.register(
            "state",
            "1 for the node's current state (LEADER, FOLLOWER, CANDIDATE)",
            m.state.clone(),
        );
        r.register(
            "leader_changes",
            "Times the node switched to a new leader",
            m.leader_changes.clone(),
        );
        r.register("elections", "Elections started", m.elections.clone());
        r.register("beats_sent", "Beat requests sent", m.beats_sent.clone());
        r.register(
            "beats_failed",
            "Beat requests without a 200 answer",
            m.beats_failed.clone(),
        );
        r.register(
            "beats_by_difference",
            "Beats sent as the difference from a key list the follower holds (hardened)",
            m.beats_by_difference.clone(),
        );
        r.register(
            "beats_not_held",
            "Beat differences refused for want of their base list, sent again in full",
            m.beats_not_held.clone(),
        );
        r.register(
            "beats_received",
            "Beats accepted from a leader",
            m.beats_received.clone(),
        );
        r.register("datums", "Datums held", m.datums.clone());
        r.register(
            "sync_fetches",
            "Datum-fetch requests sent during beat sync",
            m.sync_fetches.clone(),
        );
        r.register(
            "sync_fetch_keys",
            "Keys requested during beat sync",
            m.sync_fetch_keys.clone(),
        );
        r.register(
            "commit_batches",
            "Batches of commits sent to followers that take them",
            m.commit_batches.clone(),
        );
        r.register(
            "commit_batch_items",
            "Commits sent in batches",
            m.commit_batch_items.clone(),
        );
        r.register(
            "sync_applied",
            "Datums applied from beat sync",
            m.sync_applied.clone(),
        );
        r.register(
            "publish_latency_seconds",
            "Latency of client writes (POST /datum) on this node",
            m.publish_latency.clone(),
        );
        r.register(
            "publish_failures",
            "Client writes that failed",
            m.publish_failures.clone(),
        );
        r.register(
            "commits_applied",
            "Commits applied from the leader",
            m.commits_applied.clone(),
        );
        r.register(
            "persist_batch_seconds",
            "Time to make one batch of writes durable",
            m.persist_latency.clone(),
        );
        r.register(
            "files_written",
            "Datum files written",
            m.files_written.clone(),
        );
        r.register(
            "log_writeback_seconds",
            "Background write-backs of the logged datum files between checkpoints (one syncfs each)",
            m.writeback_latency.clone(),
        );
        r.register(
            "loopback_refusals",
            "Outgoing connections refused because --loopback-only is on",
            m.loopback_refusals.clone(),
        );
        m.http.register(&mut r);
        r.register(
            "live_viewers",
            "Viewers connected to /nacos-raft/v1/events",
            m.live_viewers.clone(),
        );
        r.register(
            "live_dropped",
            "Event-stream records dropped for viewers that fell behind",
            m.live_dropped.clone(),
        );
        let states = STATES.map(|s| m.state.get_or_create(&vec![("state", s)]).clone());
        Metrics {
            states,
            registry: std::sync::Arc::new(r),
            ..m
        }
    }

    /// Sets the state gauges so exactly one is 1.
    pub fn set_state(&self, state: &str) {
        for (name, g) in STATES.iter().zip(&self.states) {
            g.set(i64::from(*name == state));
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Why the server closed a connection on its own (label `phase` of
/// `nacos_raft_http_connection_timeouts_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// The request head did not arrive in full within `--header-timeout-ms`.
    Head,
    /// Nothing arrived within `--idle-timeout-ms` after the previous answer (keep-alive).
    Idle,
    /// The client took none of the answer's bytes for `--idle-timeout-ms`.
    Write,
}

impl TimeoutPhase {
    const ALL: [TimeoutPhase; 3] = [TimeoutPhase::Head, TimeoutPhase::Idle, TimeoutPhase::Write];

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            TimeoutPhase::Head => "head",
            TimeoutPhase::Idle => "idle",
            TimeoutPhase::Write => "write",
        }
    }
}

/// The HTTP server's connection metrics (see [`crate::conn`]).
#[derive(Clone, Debug, Default)]
pub struct HttpMetrics {
    /// Connections open now (each holds one slot of `--max-connections`).
    pub open: Gauge,
    /// The connection cap in force (`--max-connections`, lowered to fit the open-files limit).
    pub max: Gauge,
    /// Connections accepted and served.
    pub accepted: Counter,
    /// Connections refused because the cap was reached (accepted, answered 503, closed).
    pub refused: Counter,
    /// `accept` failures (e.g. the open-files limit reached).
    pub accept_errors: Counter,
    /// Connections the server closed by a timeout, by phase.
    pub timeouts: Family<StateLabels, Counter>,
    /// Requests answered 503 because the handler did not finish within `--handler-timeout-ms`.
    pub handler_timeouts: Counter,
    /// Long-lived streams (event viewers) open now.
    pub streams_open: Gauge,
    /// Long-lived streams refused because they would take more than their share of the cap.
    pub streams_refused: Counter,
}

impl HttpMetrics {
    /// The timeout counter of `phase`.
    pub fn timeout(&self, phase: TimeoutPhase) -> Counter {
        self.timeouts
            .get_or_create(&vec![("phase", phase.label())])
            .clone()
    }

    fn register(&self, r: &mut Registry) {
        // Every phase shows from the start, at 0.
        for p in TimeoutPhase::ALL {
            self.timeout(p);
        }
        r.register(
            "http_connections_open",
            "HTTP connections open now",
            self.open.clone(),
        );
        r.register(
            "http_connections_max",
            "The cap on open HTTP connections in force",
            self.max.clone(),
        );
        r.register(
            "http_connections_accepted",
            "HTTP connections accepted and served",
            self.accepted.clone(),
        );
        r.register(
            "http_connections_refused",
            "HTTP connections refused because --max-connections were open",
            self.refused.clone(),
        );
        r.register(
            "http_accept_errors",
            "Failed accepts (e.g. the open-files limit reached)",
            self.accept_errors.clone(),
        );
        r.register(
            "http_connection_timeouts",
            "HTTP connections closed by the server's header, idle or write timeout",
            self.timeouts.clone(),
        );
        r.register(
            "http_handler_timeouts",
            "Requests answered 503 because they did not finish within --handler-timeout-ms",
            self.handler_timeouts.clone(),
        );
        r.register(
            "http_streams_open",
            "Long-lived HTTP streams (event viewers) open now",
            self.streams_open.clone(),
        );
        r.register(
            "http_streams_refused",
            "Long-lived HTTP streams refused to keep connection slots for the protocol",
            self.streams_refused.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_exported_names() {
        let m = Metrics::new();
        m.term.set(305);
        m.set_state("LEADER");
        m.beats_sent.inc();
        m.publish_latency.observe(0.003);
        let text = m.render();
        for needle in [
            "nacos_raft_term 305",
            "nacos_raft_state{state=\"LEADER\"} 1",
            "nacos_raft_state{state=\"FOLLOWER\"} 0",
            "nacos_raft_beats_sent_total 1",
            "nacos_raft_publish_latency_seconds_count 1",
            "nacos_raft_http_connections_refused_total 0",
            "nacos_raft_http_connection_timeouts_total{phase=\"head\"} 0",
            "nacos_raft_http_connection_timeouts_total{phase=\"write\"} 0",
            "nacos_raft_http_connections_open 0",
            "# EOF",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
    }
}
