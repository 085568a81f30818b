//! The transport: requests and answers on the simulated links, with their latency, loss, cuts,
//! refusals by nodes that are down, and the read timeout of a sender whose message died.

use super::queue::Ev;
use super::{Fate, MsgId, MsgRecord, Payload, Sim, TraceMode};
use crate::{Failure, MsgKind, RaftError, Request, RequestId, Response};
use alloc::collections::VecDeque;

#[derive(Clone, Debug)]
pub(super) struct Inbound {
    pub(super) from: usize,
    pub(super) waiter: Waiter,
    pub(super) kind: MsgKind,
}

/// The node waiting for an answer: index, incarnation, request id, and when it sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Waiter {
    pub(super) node: usize,
    pub(super) inc: u32,
    pub(super) req: RequestId,
    pub(super) sent_ms: u64,
}

#[derive(Clone, Debug)]
pub(super) enum Body {
    Request(Request),
    Reply(Result<Response, RaftError>),
}

#[derive(Clone, Debug)]
pub(super) struct Flight {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) kind: MsgKind,
    pub(super) body: Body,
    pub(super) waiter: Waiter,
    pub(super) dropped: bool,
}

/// The messages in flight, by id. Ids are handed out in increasing order and a message leaves
/// at its arrival, within the latency bound, so they sit in a ring from the oldest id still in
/// flight (ids never in flight — lost, cut — are empty slots). A `BTreeMap` moved the
/// ~250-byte entries after the one removed, on every arrival: most of the simulator's copying.
#[derive(Clone, Debug, Default)]
pub(super) struct Flights {
    /// The id of `slots[0]`.
    first: MsgId,
    slots: VecDeque<Option<Flight>>,
}

impl Flights {
    /// Adds message `id`, above every id added before.
    pub(super) fn insert(&mut self, id: MsgId, f: Flight) {
        if self.slots.is_empty() {
            self.first = id;
        }
        let at = usize::try_from(id - self.first).expect("ids in flight span less than usize");
        assert!(at >= self.slots.len(), "ids are added in increasing order");
        self.slots.resize(at, None);
        self.slots.push_back(Some(f));
    }

    fn slot(&self, id: MsgId) -> Option<usize> {
        id.checked_sub(self.first)
            .and_then(|d| usize::try_from(d).ok())
            .filter(|&i| i < self.slots.len())
    }

    pub(super) fn contains_key(&self, id: &MsgId) -> bool {
        self.slot(*id).is_some_and(|i| self.slots[i].is_some())
    }

    pub(super) fn get_mut(&mut self, id: &MsgId) -> Option<&mut Flight> {
        let i = self.slot(*id)?;
        self.slots[i].as_mut()
    }

    pub(super) fn remove(&mut self, id: &MsgId) -> Option<Flight> {
        let i = self.slot(*id)?;
        let f = self.slots[i].take();
        while self.slots.front().is_some_and(|s| s.is_none()) {
            self.slots.pop_front();
            self.first += 1;
        }
        f
    }
}

impl Sim {
    pub(super) fn on_fail(&mut self, w: Waiter, failure: Failure) -> (Option<usize>, bool) {
        if self.nodes[w.node].incarnation != w.inc || self.nodes[w.node].node.is_none() {
            return (None, false);
        }
        self.with_node(w.node, |n| n.on_response(w.req, Err(failure)))
    }

    pub(super) fn on_arrive(&mut self, id: MsgId) -> (Option<usize>, bool) {
        let Some(f) = self.flights.remove(&id) else {
            return (None, false);
        };
        if f.dropped {
            return (None, false);
        }
        match f.body {
            Body::Request(req) => {
                if self.nodes[f.to].node.is_none() {
                    self.set_fate(id, Fate::Refused, self.now);
                    self.stats.messages_dropped += 1;
                    self.fail_later(f.waiter, f.to, f.from, Failure::Refused);
                    return (None, false);
                }
                self.set_fate(id, Fate::Delivered, self.now);
                self.nodes[f.to].inbound.insert(
                    id,
                    Inbound {
                        from: f.from,
                        waiter: f.waiter,
                        kind: f.kind,
                    },
                );
                self.with_node(f.to, |n| n.on_request(id, req))
            }
            Body::Reply(result) => {
                let w = f.waiter;
                if self.nodes[w.node].incarnation != w.inc || self.nodes[w.node].node.is_none() {
                    self.set_fate(id, Fate::Discarded, self.now);
                    self.stats.messages_dropped += 1;
                    return (None, false);
                }
                self.set_fate(id, Fate::Delivered, self.now);
                let result = result.map_err(Failure::Status);
                self.with_node(w.node, |n| n.on_response(w.req, result))
            }
        }
    }

    /// A failure the sender learns after the answer's way back (connection refused), or after
    /// its read timeout when that way is cut.
    pub(super) fn fail_later(&mut self, w: Waiter, at: usize, back_to: usize, failure: Failure) {
        let when = if self.net.is_cut(at, back_to) {
            (w.sent_ms + self.cfg.read_timeout_ms).max(self.now)
        } else {
            self.now + self.latency()
        };
        self.schedule(when, Ev::Fail { waiter: w, failure });
    }

    pub(super) fn latency(&mut self) -> u64 {
        let (lo, hi) = self.net.latency_ms;
        self.rng.range_inclusive(lo, hi)
    }

    pub(super) fn send_request(&mut self, from: usize, to: &str, req: RequestId, request: Request) {
        let inc = self.nodes[from].incarnation;
        let waiter = Waiter {
            node: from,
            inc,
            req,
            sent_ms: self.now,
        };
        let Some(to) = self.index_of(to) else {
            self.schedule(
                self.now,
                Ev::Fail {
                    waiter,
                    failure: Failure::Refused,
                },
            );
            return;
        };
        let kind = request.kind();
        self.launch(from, to, kind, Body::Request(request), waiter, None);
    }

    pub(super) fn send_reply(
        &mut self,
        from: usize,
        inbound: MsgId,
        result: Result<Response, RaftError>,
    ) {
        let Some(ib) = self.nodes[from].inbound.remove(&inbound) else {
            return;
        };
        let kind = ib.kind.reply();
        self.launch(
            from,
            ib.from,
            kind,
            Body::Reply(result),
            ib.waiter,
            Some(inbound),
        );
    }

    /// Puts a message on the wire: it arrives after a latency, or dies on the way (loss, cut),
    /// in which case its waiter times out.
    pub(super) fn launch(
        &mut self,
        from: usize,
        to: usize,
        kind: MsgKind,
        body: Body,
        waiter: Waiter,
        reply_to: Option<MsgId>,
    ) {
        let id = self.next_msg;
        self.next_msg += 1;
        self.stats.messages_sent += 1;
        let latency = self.latency();
        let fate = if self.net.is_cut(from, to) {
            Fate::Cut
        } else if self.rng.chance_ppm(self.net.loss_ppm) {
            Fate::Lost
        } else {
            Fate::InFlight
        };
        let arrive_ms = self.now + latency / fate.failure_divisor();
        self.hash
            .add((self.now, id, from, to, kind, fate, arrive_ms));
        if self.cfg.trace != TraceMode::Off {
            let (status, granted) = match &body {
                Body::Request(_) => (0, None),
                Body::Reply(Ok(Response::Peer(p))) if kind == MsgKind::VoteReply => {
                    (200, Some(p.vote() == Some(self.nodes[to].addr.as_str())))
                }
                Body::Reply(Ok(_)) => (200, None),
                Body::Reply(Err(e)) => (e.status, None),
            };
            let payload = (self.cfg.trace == TraceMode::Full).then(|| match &body {
                Body::Request(r) => Payload::Request(r.clone()),
                Body::Reply(r) => Payload::Reply(r.clone()),
            });
            self.messages.push(MsgRecord {
                id,
                kind,
                from,
                to,
                sent_ms: self.now,
                arrive_ms,
                fate,
                reply_to,
                status,
                granted,
                payload,
            });
        }
        if fate == Fate::InFlight {
            self.flights.insert(
                id,
                Flight {
                    from,
                    to,
                    kind,
                    body,
                    waiter,
                    dropped: false,
                },
            );
            self.schedule(arrive_ms, Ev::Arrive(id));
        } else {
            self.stats.messages_dropped += 1;
            self.time_out(waiter);
        }
    }

    pub(super) fn set_fate(&mut self, id: MsgId, fate: Fate, at: u64) {
        if let Some(m) = self.messages.get_mut(id as usize) {
            debug_assert_eq!(m.id, id);
            m.fate = fate;
            m.arrive_ms = at;
        }
    }

    pub(super) fn drop_message(&mut self, id: MsgId) {
        let Some(f) = self.flights.get_mut(&id) else {
            return;
        };
        f.dropped = true;
        let waiter = f.waiter;
        self.stats.messages_dropped += 1;
        self.set_fate(id, Fate::Dropped, self.now);
        self.time_out(waiter);
    }

    /// A request or its answer died on the way: the sender gives up at its read timeout.
    pub(super) fn time_out(&mut self, waiter: Waiter) {
        let when = (waiter.sent_ms + self.cfg.read_timeout_ms).max(self.now);
        let failure = Failure::Timeout;
        self.schedule(when, Ev::Fail { waiter, failure });
    }
}
