//! A member's record (Nacos' `RaftPeer`) and the peer set (`RaftPeerSet`): every member's record
//! as this node sees it, its own included, and the leader it believes in.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// `RaftPeer.State`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PeerState {
    /// Sends beats and accepts writes.
    Leader,
    /// The initial state.
    #[default]
    Follower,
    /// Asked for votes in its current term.
    Candidate,
}

impl PeerState {
    /// The Java enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerState::Leader => "LEADER",
            PeerState::Follower => "FOLLOWER",
            PeerState::Candidate => "CANDIDATE",
        }
    }
}

impl fmt::Display for PeerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `RaftPeer`: a node as one node sees it. Every field is what Nacos puts on the wire, in its
/// order; `voteFor` is omitted when null (Jackson `NON_NULL`). Parsing is lenient (missing fields
/// take defaults) as for vote, peer and commit sources; beats use [`BeatPacket::from_json`](crate::BeatPacket::from_json).
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RaftPeer {
    /// Identity: exactly the member address `host:port`.
    pub ip: String,
    /// Whom this peer voted for in its current round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vote_for: Option<String>,
    /// Current term.
    pub term: u64,
    /// Milliseconds left before this peer starts an election.
    pub leader_due_ms: i64,
    /// Milliseconds left before this peer's next heartbeat.
    pub heartbeat_due_ms: i64,
    /// LEADER, FOLLOWER or CANDIDATE.
    pub state: PeerState,
    /// Not Nacos': how much data the sender holds, sent by a candidate of the hardened rules in
    /// its vote request ([`Fix::StaleCandidate`](crate::Fix::StaleCandidate),
    /// `docs/hardened/stale-candidate.md`). Written last and only when set, so a Nacos 1.4.1
    /// body is unchanged; Java's Jackson ignores it, and a body without it reads as `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_version: Option<u64>,
    /// Not Nacos': the sender's log position `[term, index]` under the hardened rules
    /// ([`Fix::StaleCandidate`](crate::Fix::StaleCandidate), `docs/hardened/stale-candidate.md`):
    /// on a vote the candidate's, on a commit's source the write's, on a beat the leader's.
    /// Written last and only when set, like `dataVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<(u64, u64)>,
}

/// By hand for [`Clone::clone_from`]: a follower copies its leader's record from every beat,
/// and field by field the two address texts reuse the stored ones' buffers instead of being
/// allocated and freed again (the derived `clone_from` clones whole).
impl Clone for RaftPeer {
    fn clone(&self) -> Self {
        RaftPeer {
            ip: self.ip.clone(),
            vote_for: self.vote_for.clone(),
            term: self.term,
            leader_due_ms: self.leader_due_ms,
            heartbeat_due_ms: self.heartbeat_due_ms,
            state: self.state,
            data_version: self.data_version,
            position: self.position,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        // Destructured whole, so that a new field cannot be forgotten here.
        let RaftPeer {
            ip,
            vote_for,
            term,
            leader_due_ms,
            heartbeat_due_ms,
            state,
            data_version,
            position,
        } = source;
        self.ip.clone_from(ip);
        self.vote_for.clone_from(vote_for);
        self.term = *term;
        self.leader_due_ms = *leader_due_ms;
        self.heartbeat_due_ms = *heartbeat_due_ms;
        self.state = *state;
        self.data_version = *data_version;
        self.position = *position;
    }
}

impl RaftPeer {
    /// A fresh peer record: term 0, no vote, FOLLOWER.
    pub fn new(ip: impl Into<String>) -> RaftPeer {
        RaftPeer {
            ip: ip.into(),
            ..RaftPeer::default()
        }
    }

    /// `voteFor`, treating `""` like null as Nacos' `StringUtils.isEmpty` does.
    pub fn vote(&self) -> Option<&str> {
        self.vote_for.as_deref().filter(|v| !v.is_empty())
    }
}

/// Every member's record, sorted by address, and the believed leader. A sorted `Vec` rather than
/// a map: clusters are small, and the own record — touched on every tick — is found by index.
#[derive(Clone, Debug)]
pub(crate) struct PeerSet {
    me: String,
    list: Vec<RaftPeer>,
    own: usize,
    leader: Option<String>,
    /// The record of a believed leader that is not a member: Java's `update` puts it in the map
    /// (so `/leader` shows it); here it is kept aside so the member list does not change.
    outside_leader: Option<RaftPeer>,
}

impl PeerSet {
    /// A set of fresh records for `members` (which contains `me`).
    pub(crate) fn new(me: String, members: impl IntoIterator<Item = RaftPeer>) -> PeerSet {
        let mut list: Vec<RaftPeer> = members.into_iter().collect();
        crate::sort::sort_by(&mut list, |a, b| a.ip.cmp(&b.ip));
        list.dedup_by(|a, b| a.ip == b.ip);
        let own = list
            .iter()
            .position(|p| p.ip == me)
            .expect("members contain me");
        PeerSet {
            me,
            list,
            own,
            leader: None,
            outside_leader: None,
        }
    }

    fn find(&self, ip: &str) -> Option<usize> {
        self.list
            .binary_search_by(|p| crate::key::cmp_str(&p.ip, ip))
            .ok()
    }

    pub(crate) fn me(&self) -> &str {
        &self.me
    }

    /// `peers.local()`. The own record always exists (the constructor guarantees it).
    pub(crate) fn local(&self) -> &RaftPeer {
        &self.list[self.own]
    }

    pub(crate) fn local_mut(&mut self) -> &mut RaftPeer {
        &mut self.list[self.own]
    }

    pub(crate) fn get(&self, ip: &str) -> Option<&RaftPeer> {
        self.find(ip).map(|i| &self.list[i])
    }

    pub(crate) fn get_mut(&mut self, ip: &str) -> Option<&mut RaftPeer> {
        self.find(ip).map(|i| &mut self.list[i])
    }

    pub(crate) fn contains(&self, ip: &str) -> bool {
        self.find(ip).is_some()
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &RaftPeer> {
        self.list.iter()
    }

    /// `allServersWithoutMySelf`.
    pub(crate) fn others(&self) -> Vec<String> {
        let own = self.own;
        self.list
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != own)
            .map(|(_, p)| p.ip.clone())
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// `majorityCount`: `n / 2 + 1` over all members, self included.
    pub(crate) fn majority(&self) -> usize {
        self.list.len() / 2 + 1
    }

    pub(crate) fn leader(&self) -> Option<&str> {
        self.leader.as_deref()
    }

    pub(crate) fn set_leader(&mut self, leader: Option<String>) {
        if self.outside_leader.as_ref().map(|p| &p.ip) != leader.as_ref() {
            self.outside_leader = None;
        }
        self.leader = leader;
    }

    /// The believed leader's record (`getLeader()`): a member's, or the one a non-member leader
    /// sent.
    pub(crate) fn leader_record(&self) -> Option<&RaftPeer> {
        let l = self.leader.as_deref()?;
        self.get(l)
            .or_else(|| self.outside_leader.as_ref().filter(|p| p.ip == l))
    }

    /// `isLeader(ip)`: is `ip` the leader this node believes in?
    pub(crate) fn is_leader(&self, ip: &str) -> bool {
        self.leader
            .as_deref()
            .is_some_and(|l| crate::key::same(l, ip))
    }

    /// `update(peer)`: replace a member's record with what it said about itself. Unlike Nacos,
    /// a record is never added for an address that is not a member (it would change the
    /// majority) and the own record is never overwritten by someone else's answer.
    /// [`PeerSet::update`] from a borrowed record, copied into the stored one in place.
    pub(crate) fn update_from(&mut self, peer: &RaftPeer) -> bool {
        match self.find(&peer.ip) {
            Some(i) if i != self.own => {
                self.list[i].clone_from(peer);
                true
            }
            Some(_) => false,
            None => {
                if self.is_leader(&peer.ip) {
                    self.outside_leader = Some(peer.clone());
                }
                false
            }
        }
    }

    pub(crate) fn update(&mut self, peer: RaftPeer) -> bool {
        match self.find(&peer.ip) {
            Some(i) if i != self.own => {
                self.list[i] = peer;
                true
            }
            Some(_) => false,
            None => {
                if self.is_leader(&peer.ip) {
                    self.outside_leader = Some(peer);
                }
                false
            }
        }
    }

    /// `reset()`: forget the leader and every record's vote (the start of an election).
    pub(crate) fn reset(&mut self) {
        self.leader = None;
        self.outside_leader = None;
        for p in &mut self.list {
            p.vote_for = None;
        }
    }

    /// Addresses of the records whose `voteFor` is `candidate`.
    pub(crate) fn voters_for<'a>(
        &'a self,
        candidate: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.list
            .iter()
            .filter(move |p| p.vote() == Some(candidate))
            .map(|p| p.ip.as_str())
    }

    /// The tally of `decideLeader`: the most-voted address over every record's `voteFor`, and its
    /// count. Stale votes count too, as in Nacos (no round or term check).
    pub(crate) fn tally(&self) -> Option<(String, usize)> {
        self.tally_where(|_| true)
    }

    /// The tally over the records in `term` only (the hardened [`Fix::StaleVotes`](crate::Fix)).
    pub(crate) fn tally_in(&self, term: u64) -> Option<(String, usize)> {
        self.tally_where(|p| p.term == term)
    }

    fn tally_where(&self, counts_in: impl Fn(&RaftPeer) -> bool) -> Option<(String, usize)> {
        // A list, not a map: at most one entry per member (64), and a map of its own would add
        // its copy of the B-tree code to the page (issue 14).
        let mut counts: Vec<(&str, usize)> = Vec::new();
        let mut best: Option<(&str, usize)> = None;
        // Nacos walks its HashMap and keeps the first address to reach a new maximum; with a
        // majority threshold the winner is unique, so the walk order cannot change the outcome.
        for p in self.list.iter().filter(|p| counts_in(p)) {
            if let Some(v) = p.vote() {
                let k = counts.iter().position(|&(a, _)| a == v).unwrap_or_else(|| {
                    counts.push((v, 0));
                    counts.len() - 1
                });
                counts[k].1 += 1;
                let c = counts[k].1;
                if best.is_none_or(|(_, b)| c > b) {
                    best = Some((v, c));
                }
            }
        }
        best.map(|(ip, c)| (String::from(ip), c))
    }

    /// Rebuilds the set when the member list names an address not seen before (Nacos 1.4
    /// `changePeers`): listed records are kept, new ones created with `fresh`, others dropped.
    pub(crate) fn change_members(
        &mut self,
        members: &[String],
        mut fresh: impl FnMut(&str) -> RaftPeer,
    ) -> bool {
        if members.iter().all(|m| self.contains(m)) {
            return false;
        }
        let mut keep: Vec<RaftPeer> = Vec::with_capacity(members.len() + 1);
        for m in members.iter().chain(core::iter::once(&self.me)) {
            if keep.iter().any(|p| p.ip == *m) {
                continue;
            }
            keep.push(self.get(m).cloned().unwrap_or_else(|| fresh(m)));
        }
        *self = PeerSet::new(core::mem::take(&mut self.me), keep).with_leader(self.leader.take());
        true
    }

    fn with_leader(mut self, leader: Option<String>) -> PeerSet {
        self.leader = leader;
        self
    }

    /// Records whose state is LEADER, other than `except` and self.
    pub(crate) fn other_leaders(&self, except: &str) -> Vec<String> {
        self.list
            .iter()
            .filter(|p| p.state == PeerState::Leader && p.ip != except && p.ip != self.me)
            .map(|p| p.ip.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ip: &str, vote_for: Option<&str>, term: u64) -> RaftPeer {
        RaftPeer {
            ip: ip.into(),
            vote_for: vote_for.map(String::from),
            term,
            leader_due_ms: -3,
            heartbeat_due_ms: 9,
            state: PeerState::Leader,
            data_version: Some(4),
            position: Some((2, 5)),
        }
    }

    #[test]
    fn clone_from_gives_what_clone_gives() {
        let full = record("127.0.0.1:8849", Some("127.0.0.1:8849"), 7);
        let bare = RaftPeer::new("127.0.0.1:8848");
        for (from, into) in [(&full, &bare), (&bare, &full), (&full, &full)] {
            let mut r = into.clone();
            r.clone_from(from);
            assert_eq!(&r, from);
        }
    }

    #[test]
    fn update_from_stores_what_update_stores() {
        let members = ["127.0.0.1:8848", "127.0.0.1:8849", "127.0.0.1:8850"];
        let set = || {
            let mut s = PeerSet::new(members[0].into(), members.map(RaftPeer::new));
            s.set_leader(Some("127.0.0.1:9999".into()));
            s
        };
        // A member, the own record (never replaced), a stranger believed to lead, another.
        for peer in [
            record(members[1], Some(members[1]), 7),
            record(members[0], None, 3),
            record("127.0.0.1:9999", None, 5),
            record("127.0.0.1:7777", None, 5),
        ] {
            let (mut by_value, mut by_ref) = (set(), set());
            assert_eq!(by_value.update(peer.clone()), by_ref.update_from(&peer));
            assert_eq!(
                by_value.all().collect::<Vec<_>>(),
                by_ref.all().collect::<Vec<_>>()
            );
            assert_eq!(by_value.leader_record(), by_ref.leader_record());
        }
    }
}
