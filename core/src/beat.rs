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
use core::cmp::Ordering;

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
            self.send_to(to, Request::Beat(packet.clone()), Pending::Beat);
        }
    }

    /// The beat's list of every key in brief form with its timestamp, or the first key without
    /// a brief form. Rebuilt only when the map changed since the last beat: the list is a pure
    /// function of the keys and timestamps, so an unchanged map gives the same (shared) list.
    /// After a few changes the last list is patched at the changed keys instead of rebuilt: the
    /// same list, without a new entry (an allocation) per unchanged key.
    fn beat_list(&mut self) -> Result<Arc<Vec<BeatDatum>>, String> {
        let Some(last) = self.beat_list.take() else {
            return self.build_beat_list();
        };
        if last.version == self.datums_version {
            let list = last.list.clone();
            self.beat_list = Some(last);
            return Ok(list);
        }
        if !INCREMENTAL
            || !last.patchable
            || self.beat_changes.len() > last.list.len() / PATCH_SHARE
        {
            return self.build_beat_list();
        }
        match self.patch_beat_list(last) {
            Ok(Some(list)) => Ok(list),
            // A changed key breaks the condition for patching: the whole list is built.
            Ok(None) => self.build_beat_list(),
            Err(e) => Err(e),
        }
    }

    /// Every key's entry, in the map's order; remembered with whether it can be patched.
    fn build_beat_list(&mut self) -> Result<Arc<Vec<BeatDatum>>, String> {
        let mut datums = Vec::with_capacity(self.datums.len());
        let mut patchable = true;
        for (k, d) in &self.datums {
            let entry = beat_entry(k, d.timestamp)?;
            patchable &= rebuilds_to(&entry, k);
            datums.push(entry);
        }
        let list = Arc::new(datums);
        self.remember_beat_list(list.clone(), patchable);
        Ok(list)
    }

    /// `last` with the entry of every key in `beat_changes` replaced, inserted or removed, so
    /// that it is what [`build_beat_list`](Self::build_beat_list) would give now. `Ok(None)`
    /// (and `last` dropped) when a changed key's entry does not name its key. On `Err` the last
    /// list and the changes are kept, as a failed build keeps them.
    ///
    /// Why it is the same list: `last` is exactly the entries of the map it was built from, in
    /// that map's order, and each of its entries names its key (`patchable`: the key the beat's
    /// receiver rebuilds from it is the key itself), so a changed key's place in it is found by
    /// comparing with those rebuilt keys. Every key that changed since is in `beat_changes`;
    /// every other key has the entry it had.
    fn patch_beat_list(
        &mut self,
        mut last: BeatList,
    ) -> Result<Option<Arc<Vec<BeatDatum>>>, String> {
        // The new entries first: one without a brief form fails the beat before anything moves,
        // and it is the first such key in the map's order (every other key had one).
        let mut fresh: Vec<(&str, Option<BeatDatum>)> = Vec::with_capacity(self.beat_changes.len());
        for k in &self.beat_changes {
            let entry = match self.datums.get(k) {
                Some(d) => match beat_entry(k, d.timestamp) {
                    Ok(entry) if rebuilds_to(&entry, k) => Some(entry),
                    Ok(_) => return Ok(None),
                    Err(e) => {
                        self.beat_list = Some(last);
                        return Err(e);
                    }
                },
                None => None,
            };
            fresh.push((k.as_str(), entry));
        }
        // Where each changed key goes in the last list (a binary search from the previous
        // one), and whether it had an entry there.
        let mut at = Vec::with_capacity(fresh.len());
        let mut from = 0;
        for (k, _) in &fresh {
            let j = from
                + last.list[from..].partition_point(|e| rebuilt_cmp(k, e) == Ordering::Greater);
            let had = last
                .list
                .get(j)
                .is_some_and(|e| rebuilt_cmp(k, e) == Ordering::Equal);
            at.push((j, had));
            from = j + had as usize;
        }
        let mut datums = Vec::with_capacity(self.datums.len());
        let mut pos = 0;
        // The old entries are moved when no sent beat still holds the list, cloned otherwise.
        match Arc::get_mut(&mut last.list) {
            Some(v) => {
                let mut old = core::mem::take(v).into_iter();
                for ((j, had), (_, entry)) in at.into_iter().zip(fresh) {
                    datums.extend(old.by_ref().take(j - pos));
                    if had {
                        old.next();
                    }
                    pos = j + had as usize;
                    datums.extend(entry);
                }
                datums.extend(old);
            }
            None => {
                for ((j, had), (_, entry)) in at.into_iter().zip(fresh) {
                    datums.extend_from_slice(&last.list[pos..j]);
                    pos = j + had as usize;
                    datums.extend(entry);
                }
                datums.extend_from_slice(&last.list[pos..]);
            }
        }
        let list = Arc::new(datums);
        self.remember_beat_list(list.clone(), true);
        Ok(Some(list))
    }

    fn remember_beat_list(&mut self, list: Arc<Vec<BeatDatum>>, patchable: bool) {
        self.beat_changes.clear();
        self.beat_list = Some(BeatList {
            version: self.datums_version,
            patchable: patchable && list.len() >= PATCH_MIN_KEYS,
            list,
        });
    }

    /// Every change to `datums` goes through here: it moves `datums_version` and, while a
    /// patchable beat list is remembered, records the key for the next patch. A node that
    /// stopped beating (a follower now) forgets the list once patching it would cost more than
    /// a rebuild, so the record stays bounded by the number of keys.
    pub(crate) fn touch(&mut self, k: &str) {
        self.datums_version += 1;
        if !INCREMENTAL {
            return;
        }
        if let Some(last) = self.beat_list.as_ref().filter(|l| l.patchable) {
            if self.beat_changes.len() > last.list.len() / PATCH_SHARE {
                self.beat_list = None;
                self.beat_changes.clear();
            } else if !self.beat_changes.contains(k) {
                self.beat_changes.insert(String::from(k).into());
            }
        }
        // The same for a follower's last pass (`Node::delta_walk`): past a share of the keys
        // the full walk costs no more.
        if let Some(last) = &self.sync_state {
            if self.sync_changes.len() > last.len() / PATCH_SHARE {
                self.sync_state = None;
                self.sync_changes.clear();
            } else if !self.sync_changes.contains(k) {
                self.sync_changes.insert(String::from(k).into());
            }
        }
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
        self.make_leader(remote);
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
        self.make_leader(source);
    }

    /// `RaftPeerSet.makeLeader`: believe in the beat's sender; ask every other member still
    /// recorded as LEADER who it is now (`/peer`); store the sender's record.
    pub(crate) fn make_leader(&mut self, candidate: &RaftPeer) {
        if !self.peers.is_leader(&candidate.ip) {
            let previous = self.peers.leader().map(String::from);
            self.peers.set_leader(Some(candidate.ip.clone()));
            self.event(Event::LeaderChanged {
                leader: candidate.ip.clone(),
                previous: previous.clone(),
            });
            self.left_leader(previous);
        }
        for ip in self.peers.other_leaders(&candidate.ip) {
            self.send_to(ip, Request::GetPeer, Pending::Peer);
        }
        self.peers.update_from(candidate);
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

/// The leader's last beat list (see [`Node::beat_list`]).
#[derive(Clone, Debug)]
pub(crate) struct BeatList {
    /// The `datums_version` it was made at.
    version: u64,
    list: Arc<Vec<BeatDatum>>,
    /// Whether the list is patched at the next change: it has [`PATCH_MIN_KEYS`] entries or
    /// more and every one names its key ([`rebuilds_to`]). Changes are recorded only then.
    patchable: bool,
}

/// A list is patched while fewer than one key in this many changed; above, building it anew
/// costs no more.
const PATCH_SHARE: usize = 4;

/// Lists shorter than this are built (and walked, `Node::delta_walk`) in full: that costs a few
/// microseconds per hundred keys, less than recording every change (the simulator's 1,000 keys
/// ran 6 % slower with the record). The unit tests patch every list but an empty one.
pub(crate) const PATCH_MIN_KEYS: usize = if cfg!(test) { 1 } else { 2_000 };

/// Whether beats are patched and walked by what changed at all (feature `incremental-beats`, on
/// by default and in the real node). The page's simulator holds at most a few thousand keys and
/// leaves it off: the same outcome (the incremental paths give exactly what the full ones give),
/// ~11 KB less code in the page (issue 14).
pub(crate) const INCREMENTAL: bool = cfg!(feature = "incremental-beats");

/// A key's beat entry (RaftCore 639-648), or the key itself when it has no brief form.
fn beat_entry(k: &str, timestamp: u64) -> Result<BeatDatum, String> {
    if !key::is_meta(k) && !key::is_iplist(k) {
        // Such an entry carries its timestamp and no key.
        return Ok(BeatDatum {
            key: String::new(),
            timestamp,
        });
    }
    match key::brief(k) {
        Some(brief) => Ok(BeatDatum {
            key: brief.into(),
            timestamp,
        }),
        None => Err(k.into()),
    }
}

/// Whether a receiver of `entry` rebuilds exactly `k` from it (`KeyBuilder.detailServiceName`).
fn rebuilds_to(entry: &BeatDatum, k: &str) -> bool {
    key::detail_head(&entry.key).is_some_and(|head| key::is_joined(k, head, &entry.key))
}

/// `k` against the key an entry of a patchable list rebuilds to, in the map's order.
fn rebuilt_cmp(k: &str, entry: &BeatDatum) -> Ordering {
    match key::detail_head(&entry.key) {
        Some(head) => key::cmp_joined(k, head, &entry.key),
        // Never in a patchable list; placed first so that nothing is lost if it were.
        None => Ordering::Greater,
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
