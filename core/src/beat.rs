//! Heartbeats: Nacos' `HeartBeat` task, `sendBeat`, `receivedBeat` (first part) and
//! `RaftPeerSet.makeLeader` with its `/peer` refresh (docs/nacos-protocol.md §4, §5.3, §2.2 (3)).

use crate::event::{Event, StepDown};
use crate::key;
use crate::message::{Failure, RaftError, Request, Response};
use crate::node::{Node, Pending};
use crate::{BeatDatum, BeatPacket, Fix, PeerState, RaftPeer};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

impl Node {
    /// `HeartBeat.run`: count the heartbeat due down; when it runs out, reset it and send a beat.
    pub(crate) fn heartbeat_tick(&mut self) {
        let tick = self.cfg.tick_ms as i64;
        let local = self.peers.local_mut();
        local.heartbeat_due_ms -= tick;
        if local.heartbeat_due_ms > 0 {
            return;
        }
        self.reset_heartbeat_due();
        self.send_beat();
    }

    /// `RaftCore.sendBeat`: only a LEADER beats. It resets its own leader due, then lists every
    /// key in brief form with its timestamp (none with `sendBeatOnly`) and sends the packet to
    /// every other member. One key without a brief form makes the whole beat fail, as in Nacos.
    pub(crate) fn send_beat(&mut self) {
        if self.state() != PeerState::Leader {
            return;
        }
        self.reset_leader_due();
        let datums = if self.send_beat_only {
            Arc::new(Vec::new())
        } else {
            match self.beat_list() {
                Ok(list) => list,
                Err(k) => {
                    self.event(Event::BeatNotSent {
                        reason: format!("key {k} has no brief form"),
                    });
                    return;
                }
            }
        };
        let mut peer = self.peers.local().clone();
        // What a follower holds once it has synced this list (`Fix::StaleCandidate`).
        peer.position = self.own_position();
        let packet = Arc::new(BeatPacket { peer, datums });
        self.event(Event::BeatSent {
            term: packet.peer.term,
            keys: packet.datums.len(),
        });
        for to in self.peers.others() {
            self.send(&to, Request::Beat(packet.clone()), Pending::Beat);
        }
    }

    /// The beat's list of every key in brief form with its timestamp, or the first key without
    /// a brief form. Rebuilt only when the map changed since the last beat: the list is a pure
    /// function of the keys and timestamps, so an unchanged map gives the same (shared) list.
    fn beat_list(&mut self) -> Result<Arc<Vec<BeatDatum>>, String> {
        if let Some((version, list)) = &self.beat_list {
            if *version == self.datums_version {
                return Ok(list.clone());
            }
        }
        let mut datums = Vec::with_capacity(self.datums.len());
        for (k, d) in &self.datums {
            if !key::is_meta(k) && !key::is_iplist(k) {
                // RaftCore 639-648: such an entry carries its timestamp and no key.
                datums.push(BeatDatum {
                    key: String::new(),
                    timestamp: d.timestamp,
                });
                continue;
            }
            match key::brief(k) {
                Some(brief) => datums.push(BeatDatum {
                    key: brief.into(),
                    timestamp: d.timestamp,
                }),
                None => return Err(k.as_str().into()),
            }
        }
        let list = Arc::new(datums);
        self.beat_list = Some((self.datums_version, list.clone()));
        Ok(list)
    }

    pub(crate) fn beat_answered(&mut self, to: &str, result: Result<Response, Failure>) {
        match result {
            // The leader replaces its record of the follower with what the follower says.
            Ok(Response::Peer(peer)) => {
                // The hardened leader lease counts successful answers (`Fix::TwoLeaders`).
                // The entry is there after the first answer: no new key (an allocation) per beat.
                match self.lease.heard_ms.get_mut(to) {
                    Some(t) => *t = self.now_ms,
                    None => {
                        self.lease.heard_ms.insert(to.into(), self.now_ms);
                    }
                }
                self.peers.update(peer);
            }
            Ok(_) => self.request_failed(to, "beat", "unexpected answer".into()),
            Err(f) => {
                let higher = match &f {
                    Failure::Status(e) => refused_for_term(&e.message),
                    _ => None,
                };
                self.request_failed(to, "beat", f.to_string());
                if let Some(term) = higher {
                    self.campaign_above(term);
                }
            }
        }
    }

    /// [`Fix::StaleCandidate`] with [`Fix::TermBump`]: a member refused this leader's beat for a higher term (a node
    /// that campaigned alone while cut off). It refuses every beat until an election at a term
    /// above its own, and its own next campaign is a leader due away and is refused for its
    /// data, so it would stay apart for one or two election timeouts. The leader, which has the
    /// data, campaigns at once above that term instead, as a Raft leader steps down on a higher
    /// term. Nacos ignores the refusal (the node catches up only after its own campaigns).
    fn campaign_above(&mut self, term: u64) {
        let local = self.peers.local();
        // Only where terms move by elections alone: under Nacos' +100 rule a member's higher
        // term may be a write's, and a campaign one above it can meet a leader already there.
        let rules = self.cfg.rules;
        if !(rules.has(Fix::StaleCandidate) && rules.has(Fix::TermBump))
            || local.state != PeerState::Leader
            || term <= local.term
        {
            return;
        }
        // `send_vote` takes the term one above.
        self.peers.local_mut().term = term;
        self.reset_leader_due();
        self.reset_heartbeat_due();
        self.send_vote();
    }

    /// `RaftCore.receivedBeat`: refuse non-LEADER senders and lower terms (equal terms are
    /// accepted), become FOLLOWER voting for the sender, reset both dues, `makeLeader`, then sync
    /// data. The follower does not adopt the leader's term here.
    pub(crate) fn received_beat(&mut self, packet: &BeatPacket) -> Result<RaftPeer, RaftError> {
        let remote = &packet.peer;
        if remote.state != PeerState::Leader {
            let reason = format!("invalid state from master, state: {}", remote.state);
            self.event(Event::BeatRejected {
                from: remote.ip.clone(),
                reason: reason.clone(),
            });
            return Err(RaftError::bad_request(reason));
        }
        let own_term = self.peers.local().term;
        if own_term > remote.term {
            let reason = format!(
                "out of date beat, beat-from-term: {}, beat-to-term: {}",
                remote.term, own_term
            );
            self.event(Event::BeatRejected {
                from: remote.ip.clone(),
                reason: reason.clone(),
            });
            return Err(RaftError::bad_request(reason));
        }
        let local = self.peers.local_mut();
        if local.state != PeerState::Follower {
            let was = local.state;
            local.state = PeerState::Follower;
            local.vote_for = Some(remote.ip.clone());
            self.event(Event::SteppedDown {
                was,
                why: StepDown::AcceptedBeat {
                    leader: remote.ip.clone(),
                    term: remote.term,
                },
            });
        }
        self.reset_leader_due();
        self.reset_heartbeat_due();
        self.make_leader(remote.clone());
        self.event(Event::BeatAccepted {
            leader: remote.ip.clone(),
            term: remote.term,
        });
        if !self.send_beat_only {
            // A failed sync fails the beat after the leader was accepted, as in Java.
            if self.sync_from_beat(packet)? {
                if let Some(at) = remote.position {
                    self.position_synced(at);
                }
            }
        }
        Ok(self.peers.local().clone())
    }

    /// [`Fix::FirstBeat`](crate::Fix::FirstBeat), follower side: a commit from a LEADER whose
    /// term is not below its own is taken as that leader's beat (the same test `receivedBeat`
    /// applies to the same record) before the commit is checked. The new leader beats when it
    /// wins, but its first commit may still overtake that beat on another connection; Nacos
    /// refuses it as "not leader" and the write fails at the publish timeout.
    pub(crate) fn commit_as_beat(&mut self, source: &RaftPeer) {
        if !self.cfg.rules.has(crate::Fix::FirstBeat)
            || self.peers.is_leader(&source.ip)
            || !self.peers.contains(&source.ip)
            || source.state != PeerState::Leader
            || source.term < self.peers.local().term
        {
            return;
        }
        let local = self.peers.local_mut();
        if local.state != PeerState::Follower {
            let was = local.state;
            local.state = PeerState::Follower;
            local.vote_for = Some(source.ip.clone());
            self.event(Event::SteppedDown {
                was,
                why: StepDown::AcceptedBeat {
                    leader: source.ip.clone(),
                    term: source.term,
                },
            });
        }
        self.reset_leader_due();
        self.reset_heartbeat_due();
        self.make_leader(source.clone());
    }

    /// `RaftPeerSet.makeLeader`: believe in the beat's sender; ask every other member still
    /// recorded as LEADER who it is now (`/peer`); store the sender's record.
    pub(crate) fn make_leader(&mut self, candidate: RaftPeer) {
        if !self.peers.is_leader(&candidate.ip) {
            let previous = self.peers.leader().map(String::from);
            self.peers.set_leader(Some(candidate.ip.clone()));
            self.event(Event::LeaderChanged {
                leader: candidate.ip.clone(),
                previous,
            });
        }
        for ip in self.peers.other_leaders(&candidate.ip) {
            self.send(&ip, Request::GetPeer, Pending::Peer);
        }
        self.peers.update(candidate);
    }

    /// The answer to a `/peer` refresh (RaftPeerSet 236-252): a record replaces the stored one;
    /// only a non-200 answer marks the peer FOLLOWER. A refused, timed-out or unreadable
    /// exchange changes nothing (Java's `onError` is empty, and a 200 it cannot parse throws
    /// inside `onReceive` before `update`), so the record of a crashed leader stays LEADER and is
    /// asked again at the next beat.
    pub(crate) fn peer_answered(&mut self, to: &str, result: Result<Response, Failure>) {
        match result {
            Ok(Response::Peer(peer)) => {
                self.peers.update(peer);
            }
            Ok(_) | Err(Failure::Timeout | Failure::Refused | Failure::Malformed(_)) => {}
            Err(Failure::Status(_)) => {
                if let Some(rec) = self.peers.get_mut(to) {
                    rec.state = PeerState::Follower;
                }
                self.event(Event::PeerMarkedFollower { peer: to.into() });
            }
        }
    }
}

/// The refusing member's term in `receivedBeat`'s "out of date beat" refusal (the message Java
/// sends too, as a 400 with the bare message, so no new field is needed).
fn refused_for_term(message: &str) -> Option<u64> {
    // Found anywhere: a 500 body would wrap it as `caused: ...;`.
    let rest = &message[message.find("out of date beat")?..];
    let at = rest.find("beat-to-term: ")? + "beat-to-term: ".len();
    let digits: &str = &rest[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}
