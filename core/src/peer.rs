//! The peer set (Nacos' `RaftPeerSet`): every member's record as this node sees it, its own
//! included, and the leader it believes in.

use crate::wire::{PeerState, RaftPeer};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// Every member's record, keyed by address, and the believed leader.
#[derive(Clone, Debug)]
pub(crate) struct PeerSet {
    me: String,
    map: BTreeMap<String, RaftPeer>,
    leader: Option<String>,
}

impl PeerSet {
    /// A set of fresh records for `members` (which contains `me`).
    pub(crate) fn new(me: String, members: impl IntoIterator<Item = RaftPeer>) -> PeerSet {
        let map = members.into_iter().map(|p| (p.ip.clone(), p)).collect();
        PeerSet {
            me,
            map,
            leader: None,
        }
    }

    pub(crate) fn me(&self) -> &str {
        &self.me
    }

    /// `peers.local()`. The own record always exists (the constructor guarantees it).
    pub(crate) fn local(&self) -> &RaftPeer {
        &self.map[&self.me]
    }

    pub(crate) fn local_mut(&mut self) -> &mut RaftPeer {
        self.map.get_mut(&self.me).expect("own record")
    }

    pub(crate) fn get(&self, ip: &str) -> Option<&RaftPeer> {
        self.map.get(ip)
    }

    pub(crate) fn get_mut(&mut self, ip: &str) -> Option<&mut RaftPeer> {
        self.map.get_mut(ip)
    }

    pub(crate) fn contains(&self, ip: &str) -> bool {
        self.map.contains_key(ip)
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &RaftPeer> {
        self.map.values()
    }

    /// `allServersWithoutMySelf`.
    pub(crate) fn others(&self) -> Vec<String> {
        self.map
            .keys()
            .filter(|k| **k != self.me)
            .cloned()
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// `majorityCount`: `n / 2 + 1` over all members, self included.
    pub(crate) fn majority(&self) -> usize {
        self.map.len() / 2 + 1
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
        if peer.ip == self.me || !self.map.contains_key(&peer.ip) {
            return false;
        }
        self.map.insert(peer.ip.clone(), peer);
        true
    }

    /// `reset()`: forget the leader and every record's vote (the start of an election).
    pub(crate) fn reset(&mut self) {
        self.leader = None;
        for p in self.map.values_mut() {
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
        for p in self.map.values() {
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
        if members.iter().all(|m| self.map.contains_key(m)) {
            return false;
        }
        let mut map = BTreeMap::new();
        for m in members {
            let rec = self.map.remove(m).unwrap_or_else(|| fresh(m));
            map.insert(m.clone(), rec);
        }
        if !map.contains_key(&self.me) {
            let own = self.map.remove(&self.me).unwrap_or_else(|| fresh(&self.me));
            map.insert(self.me.clone(), own);
        }
        self.map = map;
        true
    }

    /// Records whose state is LEADER, other than `except` and self.
    pub(crate) fn other_leaders(&self, except: &str) -> Vec<String> {
        self.map
            .values()
            .filter(|p| p.state == PeerState::Leader && p.ip != except && p.ip != self.me)
            .map(|p| p.ip.clone())
            .collect()
    }
}
