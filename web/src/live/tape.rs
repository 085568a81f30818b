//! The recorded live session: every input the [`LiveModel`] took (stream records, and the page's
//! own observations of its streams: opened, dropped, reconnecting, pruned), in the order the page
//! received them, bounded by count and bytes. It lets the paused page show the cluster at any
//! recorded instant ([`Session::at`]) and exports the session as a trace ([`Session::export`]).
//!
//! The instant is the page's time of arrival: what the page knew at that moment, drawn as it was
//! drawn then. Arrival order is causal per stream, and across streams the model orders a request
//! and its answer by their pairing (`rid`), so skewed node clocks never put an answer before its
//! request, scrubbed or live.
//!
//! Replaying from the beginning would cost the whole recording per scrub step; the tape is cut
//! into chunks that each start with a copy of the model as it stood before the chunk's first
//! input, so a scrub replays at most one chunk. The bound drops whole chunks, oldest first, and
//! says how much it dropped (the page tells the user where the recording now starts).

use super::model::{After, LiveModel};
use std::collections::VecDeque;

/// Inputs per chunk (a scrub replays at most this many).
pub const CHUNK: usize = 2_000;
/// At most this many inputs are kept...
pub const KEEP_INPUTS: usize = 100_000;
/// ...and at most this many bytes of record text.
pub const KEEP_BYTES: usize = 32 << 20;

/// One input of the model.
#[derive(Clone, Debug)]
enum Input {
    Opened(usize),
    Dropped(usize),
    Connecting(usize),
    Prune,
    Record(usize, String),
}

#[derive(Clone, Debug)]
struct Chunk {
    /// The model before the first input.
    start: LiveModel,
    /// Page time of each input, and the input.
    inputs: Vec<(f64, Input)>,
    /// Bytes of record text.
    bytes: usize,
}

/// The live model and the tape of what built it.
pub struct Session {
    /// The model now.
    pub live: LiveModel,
    chunks: VecDeque<Chunk>,
    inputs: usize,
    bytes: usize,
    limits: (usize, usize, usize),
    /// Inputs dropped from the oldest end by the bound (0: the tape starts at the beginning).
    pub dropped: u64,
    /// Records among them.
    pub dropped_records: u64,
}

impl Session {
    /// A session on these addresses, with the default bounds.
    pub fn new(addrs: &[String]) -> Session {
        Session::with_limits(addrs, CHUNK, KEEP_INPUTS, KEEP_BYTES)
    }

    /// A session whose tape has chunks of `chunk` inputs and keeps at most `max_inputs` inputs
    /// and `max_bytes` bytes of records (never less than the newest chunk).
    pub fn with_limits(
        addrs: &[String],
        chunk: usize,
        max_inputs: usize,
        max_bytes: usize,
    ) -> Session {
        Session {
            live: LiveModel::new(addrs),
            chunks: VecDeque::new(),
            inputs: 0,
            bytes: 0,
            limits: (chunk.max(1), max_inputs, max_bytes),
            dropped: 0,
            dropped_records: 0,
        }
    }

    fn push(&mut self, now: f64, input: Input) {
        let (chunk, max_inputs, max_bytes) = self.limits;
        // Arrival times come from the wall clock, which may step back: the tape stays ordered.
        let now = self.end().map_or(now, |e| now.max(e));
        if self.chunks.back().is_none_or(|c| c.inputs.len() >= chunk) {
            self.chunks.push_back(Chunk {
                start: self.live.clone(),
                inputs: Vec::with_capacity(chunk),
                bytes: 0,
            });
        }
        let size = match &input {
            Input::Record(_, json) => json.len(),
            _ => 0,
        };
        if let Some(c) = self.chunks.back_mut() {
            c.inputs.push((now, input));
            c.bytes += size;
        }
        self.inputs += 1;
        self.bytes += size;
        while self.chunks.len() > 1 && (self.inputs > max_inputs || self.bytes > max_bytes) {
            if let Some(old) = self.chunks.pop_front() {
                self.inputs -= old.inputs.len();
                self.bytes -= old.bytes;
                self.dropped += old.inputs.len() as u64;
                self.dropped_records += old
                    .inputs
                    .iter()
                    .filter(|(_, i)| matches!(i, Input::Record(..)))
                    .count() as u64;
            }
        }
    }

    /// Node `i`'s stream opened.
    pub fn opened(&mut self, i: usize, now: f64) {
        self.push(now, Input::Opened(i));
        self.live.opened(i, now);
    }

    /// Node `i`'s stream dropped; the attempt number.
    pub fn dropped(&mut self, i: usize, now: f64) -> u32 {
        self.push(now, Input::Dropped(i));
        self.live.dropped(i, now)
    }

    /// Node `i`'s stream is being opened again.
    pub fn connecting(&mut self, i: usize, now: f64) {
        self.push(now, Input::Connecting(i));
        self.live.connecting(i);
    }

    /// Drops stale flights.
    pub fn prune(&mut self, now: f64) {
        self.push(now, Input::Prune);
        self.live.prune(now);
    }

    /// One record of node `i`'s stream.
    pub fn apply(&mut self, i: usize, json: &str, now: f64) -> After {
        self.push(now, Input::Record(i, json.to_string()));
        self.live.apply(i, json, now)
    }

    /// One message of node `i`'s stream: its records, one per line (the node's `?batch=1`; a
    /// message of an unbatched stream is one record), applied in order. A re-sync if any asks.
    pub fn apply_message(&mut self, i: usize, msg: &str, now: f64) -> After {
        let mut after = After::Nothing;
        for rec in msg.split('\n') {
            if self.apply(i, rec, now) == After::Resync {
                after = After::Resync;
            }
        }
        after
    }

    /// Page time of the oldest input kept.
    pub fn start(&self) -> Option<f64> {
        self.chunks.front()?.inputs.first().map(|x| x.0)
    }

    /// Page time of the newest input.
    pub fn end(&self) -> Option<f64> {
        self.chunks.back()?.inputs.last().map(|x| x.0)
    }

    /// Inputs kept.
    pub fn len(&self) -> usize {
        self.inputs
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.inputs == 0
    }

    /// The model as it stood at page time `t`: every input that arrived at or before `t`
    /// applied (before the oldest kept input: the model as the tape starts).
    pub fn at(&self, t: f64) -> LiveModel {
        let Some(k) = self
            .chunks
            .iter()
            .rposition(|c| c.inputs.first().is_some_and(|x| x.0 <= t))
            .or(if self.chunks.is_empty() {
                None
            } else {
                Some(0)
            })
        else {
            return self.live.clone();
        };
        let c = &self.chunks[k];
        let mut m = c.start.clone();
        for (at, input) in c.inputs.iter().take_while(|x| x.0 <= t) {
            match input {
                Input::Opened(i) => m.opened(*i, *at),
                Input::Dropped(i) => {
                    m.dropped(*i, *at);
                }
                Input::Connecting(i) => m.connecting(*i),
                Input::Prune => m.prune(*at),
                Input::Record(i, json) => {
                    m.apply(*i, json, *at);
                }
            }
        }
        m
    }

    /// The recorded session as a JSON document (the export): the nodes, what was dropped from
    /// the oldest end, then every record kept as its node wrote it, with the page time it
    /// arrived.
    pub fn export(&self, page: &str) -> String {
        let m = &self.live;
        let mut s = String::from("{\n  \"format\": \"nacos-raft-live-session/1\",\n");
        s.push_str(&format!(
            "  \"page\": {},\n  \"nodes\": {},\n  \"messages\": {},\n  \"dropped_records\": {},\n  \"violations\": {},\n  \"records\": [",
            crate::jsonfmt::quote(page),
            serde_json::to_string(&m.nodes.iter().map(|n| n.addr.clone()).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into()),
            m.msg_count,
            self.dropped_records,
            serde_json::to_string(&m.violations).unwrap_or_else(|_| "[]".into()),
        ));
        let records = self
            .chunks
            .iter()
            .flat_map(|c| &c.inputs)
            .filter_map(|(t, i)| match i {
                Input::Record(n, json) => Some((*n, *t, json)),
                _ => None,
            });
        for (k, (i, t, json)) in records.enumerate() {
            s.push_str(if k == 0 { "\n    " } else { ",\n    " });
            let addr = m.nodes.get(i).map_or("", |n| n.addr.as_str());
            // A record that is not JSON (counted as bad when it came) is kept as a string, so
            // the export stays JSON.
            let record = match serde_json::from_str::<serde_json::Value>(json) {
                Ok(_) => json.clone(),
                Err(_) => crate::jsonfmt::quote(json),
            };
            s.push_str(&format!(
                "{{\"node\": {}, \"page_ms\": {}, \"record\": {}}}",
                crate::jsonfmt::quote(addr),
                crate::layout::d0(t),
                record
            ));
        }
        s.push_str("\n  ]\n}\n");
        s
    }
}

/// One message of a node's stream waiting to be applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    /// The node.
    pub node: usize,
    /// Its stream's generation (records of a replaced stream are ignored).
    pub gen: u32,
    /// The message's records, one per line.
    pub records: String,
    /// Page time of arrival.
    pub at: f64,
}

/// Stream messages as they arrive, applied later in arrival order: the page applies them once
/// per animation frame, within a time budget, so one frame does not pay for both a burst of
/// records and a redraw. Deferring keeps each message's arrival time, so the model and the tape
/// end up as if every message had been applied when it arrived.
pub type Inbox = VecDeque<Waiting>;

/// Applies the messages waiting in `inbox`, oldest first, until none waits or `more` (asked after
/// each message, so one always goes when any waits) says the time is up; the number applied.
/// The inbox is borrowed one message at a time: `apply` may run code that queues more.
pub fn drain(
    inbox: &std::cell::RefCell<Inbox>,
    mut more: impl FnMut() -> bool,
    mut apply: impl FnMut(Waiting),
) -> usize {
    let mut n = 0;
    loop {
        let Some(w) = inbox.borrow_mut().pop_front() else {
            return n;
        };
        apply(w);
        n += 1;
        if !more() {
            return n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::PeerState;

    const A: &str = "127.0.0.1:8848";
    const B: &str = "127.0.0.1:8849";

    fn addrs() -> Vec<String> {
        vec![A.into(), B.into()]
    }

    fn state(ip: &str, st: &str, term: u64, at: u64) -> String {
        format!(
            r#"{{"type":"state","at_ms":{at},"peer":{{"ip":"{ip}","term":{term},"leaderDueMs":900,"heartbeatDueMs":500,"state":"{st}"}},"leader":null}}"#
        )
    }

    fn msg(phase: &str, at: u64, rid: &str, kind: &str, from: &str, to: &str) -> String {
        format!(
            r#"{{"type":"msg","at_ms":{at},"phase":"{phase}","rid":"{rid}","kind":"{kind}","from":"{from}","to":"{to}","payload":"","outcome":"ok"}}"#
        )
    }

    /// What a view shows, enough to tell two instants apart.
    fn seen(m: &LiveModel, t: f64) -> String {
        let nodes: Vec<String> = m
            .nodes
            .iter()
            .map(|n| format!("{}:{:?}:{}", n.conn.as_str(), n.state(), n.term()))
            .collect();
        let shown: Vec<String> = m
            .shown(t)
            .iter()
            .map(|s| format!("{}{}>{}@{:.2}", s.kind.as_str(), s.from, s.to, s.progress))
            .collect();
        format!(
            "{nodes:?} msgs={} log={} viol={} keys={:?} shown={shown:?}",
            m.msg_count,
            m.log.len(),
            m.violations.len(),
            m.keys()
        )
    }

    /// A batched message (records joined by line breaks) is the same as its records one by one.
    #[test]
    fn a_batched_message_is_its_records_in_order() {
        let recs = [
            state(A, "CANDIDATE", 2, 10_100),
            msg("sent", 10_100, "a/1", "vote", A, B),
            msg("answered", 10_103, "a/1", "vote-reply", B, A),
            state(A, "LEADER", 2, 10_104),
        ];
        let (mut one, mut batched) = (Session::new(&addrs()), Session::new(&addrs()));
        for s in [&mut one, &mut batched] {
            s.opened(0, 1_000.0);
        }
        for r in &recs {
            assert_eq!(one.apply(0, r, 1_100.0), After::Nothing);
        }
        assert_eq!(
            batched.apply_message(0, &recs.join("\n"), 1_100.0),
            After::Nothing
        );
        assert_eq!(seen(&one.live, 1_120.0), seen(&batched.live, 1_120.0));
        assert_eq!(batched.live.nodes[0].state(), Some(PeerState::Leader));
        assert_eq!(batched.len(), one.len());
        assert_eq!(batched.live.bad_records, 0);
    }

    /// A session of two nodes: streams open, states, an election's exchange with B's clock
    /// 300 ms behind A's (its `received` arrives stamped before A's `sent`), a datum, a drop.
    fn feed(s: &mut Session) -> Vec<f64> {
        let mut times = Vec::new();
        let mut at = |t: f64| {
            times.push(t);
            t
        };
        s.opened(0, at(1_000.0));
        s.opened(1, at(1_000.0));
        s.apply(0, &state(A, "FOLLOWER", 1, 10_000), at(1_010.0));
        s.apply(1, &state(B, "FOLLOWER", 1, 9_700), at(1_010.0));
        s.apply(0, &state(A, "CANDIDATE", 2, 10_100), at(1_110.0));
        s.apply(0, &msg("sent", 10_100, "a/1", "vote", A, B), at(1_111.0));
        s.apply(1, &msg("received", 9_801, "a/1", "vote", A, B), at(1_112.0));
        s.apply(
            1,
            &msg("replied", 9_802, "a/1", "vote-reply", B, A),
            at(1_113.0),
        );
        s.apply(
            0,
            &msg("answered", 10_103, "a/1", "vote-reply", B, A),
            at(1_114.0),
        );
        s.apply(0, &state(A, "LEADER", 2, 10_104), at(1_115.0));
        s.apply(
            1,
            r#"{"type":"datum","op":"put","key":"k","timestamp":3}"#,
            at(1_400.0),
        );
        s.prune(at(1_500.0));
        s.dropped(1, at(2_000.0));
        s.connecting(1, at(2_500.0));
        times
    }

    /// Scrubbing to any recorded instant shows exactly what the live page showed then, whatever
    /// chunk the instant falls in; and an answer is never drawn before its request although
    /// B's clock says it was received before it was sent.
    #[test]
    fn the_view_at_an_instant_is_the_live_view_of_that_instant() {
        for chunk in [1, 3, 1_000] {
            let mut s = Session::with_limits(&addrs(), chunk, 10_000, 1 << 20);
            feed(&mut s);
            // After the exchange: A leads, the vote went first, then its answer.
            let m = s.at(1_115.0);
            assert_eq!(m.nodes[0].state(), Some(PeerState::Leader));
            assert_eq!(m.msg_count, 1);
            let rq = m.request_of("a/1").unwrap();
            let an = m.answer_of("a/1").unwrap();
            assert!(rq.end.unwrap() >= rq.start, "{rq:?}");
            assert!(an.start >= rq.start, "answer {an:?} before request {rq:?}");
            let first = |t: f64| s.at(1_115.0).shown(t).first().map(|x| x.kind.as_str());
            assert_eq!(first(1_120.0), Some("vote"));
            assert_eq!(
                first(1_111.0 + super::super::model::MIN_FLIGHT_MS + 50.0),
                Some("vote-reply")
            );
            // Before anything: the empty start; between: not yet the datum; at the end: live.
            assert_eq!(seen(&s.at(0.0), 0.0), seen(&LiveModel::new(&addrs()), 0.0));
            assert!(s.at(1_300.0).keys().is_empty());
            assert_eq!(s.at(1_400.0).keys(), ["k"]);
            assert_eq!(seen(&s.at(1e12), 3_000.0), seen(&s.live, 3_000.0));
            assert_eq!(s.at(2_000.0).nodes[1].conn.as_str(), "unreachable");
            assert_eq!(s.at(1_999.0).nodes[1].conn.as_str(), "open");
        }
    }

    /// Every instant's view, input by input, against the live model at that moment.
    #[test]
    fn every_recorded_instant_replays_exactly() {
        let mut s = Session::with_limits(&addrs(), 4, 10_000, 1 << 20);
        let times = feed(&mut s);
        // Per instant, a fresh session fed what had arrived by then is the reference.
        for t in &times {
            let mut prefix = Session::with_limits(&addrs(), 1_000, 10_000, 1 << 20);
            // The prefix is what the live model had seen by `t`.
            let cut = times.iter().filter(|x| **x <= *t).count();
            let whole = feed_n(&mut prefix, cut);
            assert_eq!(whole, cut);
            assert_eq!(seen(&s.at(*t), *t), seen(&prefix.live, *t), "at {t}");
        }
    }

    /// Feeds the first `n` inputs of [`feed`]'s session.
    fn feed_n(s: &mut Session, n: usize) -> usize {
        let mut full = Session::with_limits(&addrs(), 1_000, 10_000, 1 << 20);
        feed(&mut full);
        let c = &full.chunks[0];
        for (t, input) in c.inputs.iter().take(n) {
            match input {
                Input::Opened(i) => s.opened(*i, *t),
                Input::Dropped(i) => {
                    s.dropped(*i, *t);
                }
                Input::Connecting(i) => s.connecting(*i, *t),
                Input::Prune => s.prune(*t),
                Input::Record(i, j) => {
                    s.apply(*i, j, *t);
                }
            }
        }
        n.min(c.inputs.len())
    }

    /// The bound drops whole chunks, oldest first, by count and by bytes, says how much, and
    /// the tape then starts at the first kept instant; the export holds what is kept.
    #[test]
    fn the_bound_drops_the_oldest_chunks_and_says_so() {
        let mut s = Session::with_limits(&addrs(), 4, 8, 1 << 20);
        let times = feed(&mut s);
        assert_eq!(times.len(), 14);
        // 14 inputs in chunks of 4: keeping at most 8 leaves the last two chunks (4 + 2).
        assert_eq!((s.len(), s.dropped), (6, 8));
        assert_eq!(s.dropped_records, 6);
        assert_eq!(s.start(), Some(times[8]));
        // Before the kept start: the model as it stood when the tape starts, not the empty one.
        let m = s.at(0.0);
        assert_eq!(m.nodes[0].state(), Some(PeerState::Candidate));
        assert_eq!(seen(&s.at(1e12), 3_000.0), seen(&s.live, 3_000.0));
        let doc: serde_json::Value = serde_json::from_str(&s.export("p")).unwrap();
        assert_eq!(doc["dropped_records"], 6);
        assert_eq!(doc["records"].as_array().unwrap().len(), 3);
        assert_eq!(doc["records"][0]["record"]["phase"], "answered");
        // By bytes: one big record pushes the older chunks out.
        let mut s = Session::with_limits(&addrs(), 2, 1_000, 600);
        feed(&mut s);
        assert!(s.bytes <= 600 || s.chunks.len() == 1, "{}", s.bytes);
        assert!(s.dropped > 0);
        // A record that is not JSON is exported as a string.
        let mut s = Session::new(&addrs());
        s.apply(0, "{nope", 1.0);
        let doc: serde_json::Value = serde_json::from_str(&s.export("p")).unwrap();
        assert_eq!(doc["records"][0]["record"], "{nope");
        assert_eq!(s.live.bad_records, 1);
    }

    /// Stream messages of two nodes as the page receives them: batches of an election's
    /// exchange each, with datums, in arrival order.
    fn arrivals() -> Vec<Waiting> {
        let mut out = Vec::new();
        for k in 0..30u64 {
            let term = k + 2;
            let at = 10_000 + k * 20;
            let rid = format!("a/{k}");
            let w = |node: usize, records: Vec<String>, dt: f64| Waiting {
                node,
                gen: 1,
                records: records.join("\n"),
                at: 1_000.0 + (k * 20) as f64 + dt,
            };
            out.push(w(
                0,
                vec![
                    state(A, "CANDIDATE", term, at),
                    msg("sent", at, &rid, "vote", A, B),
                ],
                0.0,
            ));
            out.push(w(
                1,
                vec![
                    msg("received", at + 1, &rid, "vote", A, B),
                    msg("replied", at + 2, &rid, "vote-reply", B, A),
                    format!(r#"{{"type":"datum","op":"put","key":"k{k}","timestamp":{k}}}"#),
                ],
                1.0,
            ));
            out.push(w(
                0,
                vec![
                    msg("answered", at + 3, &rid, "vote-reply", B, A),
                    state(A, "LEADER", term, at + 4),
                ],
                2.0,
            ));
        }
        out
    }

    /// Records deferred by the frame budget are applied later, in the order and number they
    /// arrived, with their arrival times: the model and the tape (its export: every input, its
    /// time and text) are those of applying each message as it arrived.
    #[test]
    fn a_budget_defers_records_but_never_reorders_or_drops_them() {
        let all = arrivals();
        let mut reference = Session::new(&addrs());
        reference.opened(0, 900.0);
        reference.opened(1, 900.0);
        for w in &all {
            reference.apply_message(w.node, &w.records, w.at);
        }
        // Frames between arrivals of 1-4 messages, each applying at most `per_frame` of the
        // waiting ones (the time budget running out after that many).
        for per_frame in 1..=3 {
            let mut s = Session::new(&addrs());
            s.opened(0, 900.0);
            s.opened(1, 900.0);
            let inbox = std::cell::RefCell::new(Inbox::default());
            let mut order = Vec::new();
            let mut deferred = false;
            for (j, w) in all.iter().enumerate() {
                inbox.borrow_mut().push_back(w.clone());
                if j % 4 == 3 {
                    let mut left = per_frame;
                    let n = drain(
                        &inbox,
                        || {
                            left -= 1;
                            left > 0
                        },
                        |w| {
                            order.push(w.at);
                            s.apply_message(w.node, &w.records, w.at);
                        },
                    );
                    assert!(n <= per_frame && n > 0, "{n} applied of {per_frame}");
                    deferred |= !inbox.borrow().is_empty();
                }
            }
            assert!(deferred, "the budget never deferred a record ({per_frame})");
            // The frames after the last arrival apply the rest.
            drain(
                &inbox,
                || true,
                |w| {
                    order.push(w.at);
                    s.apply_message(w.node, &w.records, w.at);
                },
            );
            assert!(inbox.borrow().is_empty());
            let arrived: Vec<f64> = all.iter().map(|w| w.at).collect();
            assert_eq!(order, arrived, "applied in another order ({per_frame})");
            assert_eq!(s.len(), reference.len());
            assert_eq!(s.export("p"), reference.export("p"));
            assert_eq!(seen(&s.live, 2_000.0), seen(&reference.live, 2_000.0));
            assert_eq!(s.live.msg_count, 30);
            assert_eq!(s.live.bad_records, 0);
        }
    }
}
