//! The peer set (Nacos' `RaftPeerSet`): every member's record as this node sees it, its own
//! included, and the leader it believes in.

use crate::wire::{PeerState, RaftPeer};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// Every member's record, sorted by address, and the believed leader. A sorted `Vec` rather than
/// a map: clusters are small, and the own record — touched on every tick — is found by index.
#[derive(Clone, Debug)]
pub(crate) struct PeerSet {
    me: String,
    list: Vec<RaftPeer>,
    own: usize,
    leader: Option<String>,
}

impl PeerSet {
    /// A set of fresh records for `members` (which contains `me`).
    pub(crate) fn new(me: String, members: impl IntoIterator<Item = RaftPeer>) -> PeerSet {
        let mut list: Vec<RaftPeer> = members.into_iter().collect();
        list.sort_by(|a, b| a.ip.cmp(&b.ip));
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
        }
    }

    fn find(&self, ip: &str) -> Option<usize> {
        self.list.binary_search_by(|p| p.ip.as_str().cmp(ip)).ok()
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
        self.leader = leader;
    }

    /// `isLeader(ip)`: is `ip` the leader this node believes in?
    pub(crate) fn is_leader(&self, ip: &str) -> bool {
        self.leader.as_deref() == Some(ip)
    }

    /// `update(peer)`: replace a member's record with what it said about itself. Unlike Nacos,
    /// a record is never added for an address that is not a member (it would change the
    /// majority) and the own record is never overwritten by someone else's answer.
    pub(crate) fn update(&mut self, peer: RaftPeer) -> bool {
        match self.find(&peer.ip) {
            Some(i) if i != self.own => {
                self.list[i] = peer;
                true
            }
            _ => false,
        }
    }

    /// `reset()`: forget the leader and every record's vote (the start of an election).
    pub(crate) fn reset(&mut self) {
        self.leader = None;
        for p in &mut self.list {
            p.vote_for = None;
        }
    }

    /// The tally of `decideLeader`: the most-voted address over every record's `voteFor`, and its
    /// count. Stale votes count too, as in Nacos (no round or term check).
    pub(crate) fn tally(&self) -> Option<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut best: Option<(&str, usize)> = None;
        // Nacos walks its HashMap and keeps the first address to reach a new maximum; with a
        // majority threshold the winner is unique, so the walk order cannot change the outcome.
        for p in &self.list {
            if let Some(v) = p.vote() {
                let c = counts.entry(v).or_insert(0);
                *c += 1;
                if best.is_none_or(|(_, b)| *c > b) {
                    best = Some((v, *c));
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
