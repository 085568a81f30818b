//! [`Fix::StaleCandidate`]'s log position (docs/hardened/stale-candidate.md): Raft's election
//! restriction (§5.4.1) on Nacos' wire, without a log.
//!
//! A hardened leader numbers its writes `(term, index)`: `term` is the term it was elected in,
//! `index` counts its writes from 1. The number rides on the commit's `source` (an extra
//! property Java ignores). A follower's *position* is the highest `(term, index)` up to which
//! it holds every write of that leader and everything that leader held when it was elected: it
//! moves by one for a commit numbered one above it, or to a beat's position once the follower
//! holds every key of that beat as new as listed (at once, or when the beat's fetches are
//! applied). A follower acknowledges a commit only once its position
//! covers it; a commit that arrives out of order (parallel writes to different keys travel on
//! different connections) is applied at once and answered when the gap closes. A voter refuses a
//! candidate whose position is below its own, so that — as in Raft — a node elected after a
//! write was acknowledged by a majority holds it. The position is persisted before the answer
//! that depends on it ([`Persist::Position`]).

use crate::key::MapKey;
use crate::message::RaftError;
use crate::node::Node;
use crate::output::{InboundId, Output, Persist};
use crate::Fix;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Commits answered later, at most (beyond, a commit out of order is refused at once).
const MAX_HELD: usize = 4_096;

/// Commits remembered for [`Node::position_listed_later`] at most (beyond, a commit is not
/// remembered and its key is repaired as before: more requests, same outcome).
const MAX_RECENT: usize = 65_536;

/// The refusal of a commit this follower cannot count (a leader of an older position term).
pub const COMMIT_OUT_OF_ORDER: &str = "commit refused: not in log order";

/// A node's position and what it has applied beyond it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Position {
    /// `(term, index)`: every write of that leader up to `index` is held here.
    pub(crate) at: (u64, u64),
    /// The leader term the two sets below are about (above `at.0` until a beat is adopted).
    pub(crate) term: u64,
    /// Indexes of that term applied above `at.1` (sorted, see [`crate::sort::set_insert`]).
    pub(crate) applied: Vec<u64>,
    /// Commits of that term waiting for the position to reach their index: (index, commit),
    /// sorted by index, each index's in the order they came. A sorted `Vec` rather than a map
    /// of its own: each B-tree layout adds its copy of the map code to the page (issue 14).
    pub(crate) held: Vec<(u64, InboundId)>,
    /// Number of held commits.
    pub(crate) held_count: usize,
    /// Beats numbered for their fetches.
    pub(crate) beats: u64,
    /// The last beat that had keys to fetch: its number, position and fetches not yet applied.
    pub(crate) adopting: Option<(u64, (u64, u64), usize)>,
    /// The leader term of `recent`.
    pub(crate) recent_term: u64,
    /// Keys written here by a commit of that term, with the commit's index, until a beat at or
    /// above that index: a beat built before the commit cannot list it (issue 13).
    /// `MapKey -> u64`, the layout of the lease's map: no new copy of the map code in the page.
    pub(crate) recent: BTreeMap<MapKey, u64>,
}

impl Node {
    fn positions_on(&self) -> bool {
        self.cfg.rules.has(Fix::StaleCandidate)
    }

    /// This node's position, when the fix is on (what its votes and beats carry).
    pub(crate) fn own_position(&self) -> Option<(u64, u64)> {
        self.positions_on().then_some(self.position.at)
    }

    /// A new leader starts its own numbering: everything it holds is below `(term, 0)`.
    pub(crate) fn position_elected(&mut self, term: u64) {
        if !self.positions_on() {
            return;
        }
        self.drop_held(term);
        self.set_position((term, 0));
    }

    /// The leader numbers its next write.
    pub(crate) fn position_next_write(&mut self) -> Option<(u64, u64)> {
        if !self.positions_on() {
            return None;
        }
        let (term, index) = self.position.at;
        self.set_position((term, index + 1));
        Some(self.position.at)
    }

    /// A commit numbered `at` was applied here (request `id`): `Some(answer)` now, or `None`
    /// when the answer waits for the position to reach it.
    pub(crate) fn position_committed(
        &mut self,
        id: InboundId,
        at: (u64, u64),
    ) -> Option<Result<(), RaftError>> {
        let (term, index) = at;
        let own = self.position.at;
        if term < own.0 {
            // A leader of an older term: counting the write could let a node that holds this
            // position without it win (it is not below this position, nor inside it).
            return Some(Err(RaftError::server(COMMIT_OUT_OF_ORDER)));
        }
        if term == own.0 && index <= own.1 {
            return Some(Ok(()));
        }
        if term != self.position.term {
            self.drop_held(term);
        }
        if term == own.0 && index == own.1 + 1 {
            self.set_position(at);
            self.advance();
            return Some(Ok(()));
        }
        crate::sort::set_insert(&mut self.position.applied, index);
        if self.position.held_count >= MAX_HELD {
            return Some(Err(RaftError::server(COMMIT_OUT_OF_ORDER)));
        }
        let at = self.position.held.partition_point(|&(i, _)| i <= index);
        self.position.held.insert(at, (index, id));
        self.position.held_count += 1;
        None
    }

    /// The beat of a leader at `at` found nothing to fetch and nothing held newer here: this
    /// node holds what that leader held when it beat, so it takes the position if higher.
    pub(crate) fn position_synced(&mut self, at: (u64, u64)) {
        if !self.positions_on() || at <= self.position.at {
            return;
        }
        if at.0 != self.position.term {
            self.drop_held(at.0);
        }
        self.set_position(at);
        self.advance();
    }

    /// A beat of a leader at `at` sends `fetches` fetches (`blocked`: it keeps or holds keys
    /// newer than listed, so fetching does not bring this node to the beat). Returns the beat's
    /// number for its fetches; a later beat replaces an earlier one's wait.
    pub(crate) fn position_fetching(
        &mut self,
        at: Option<(u64, u64)>,
        fetches: usize,
        blocked: bool,
    ) -> u64 {
        self.position.beats += 1;
        let beat = self.position.beats;
        self.position.adopting = match at {
            Some(at) if self.positions_on() && fetches > 0 && !blocked => Some((beat, at, fetches)),
            _ => None,
        };
        beat
    }

    /// One fetch of beat `beat` was applied (`whole`: every datum is held at least as new) or
    /// failed: after the last one this node holds what the leader held at that beat.
    pub(crate) fn position_fetched(&mut self, beat: u64, whole: bool) {
        let Some((b, at, left)) = self.position.adopting else {
            return;
        };
        if b != beat {
            return;
        }
        if !whole {
            self.position.adopting = None;
        } else if left > 1 {
            self.position.adopting = Some((b, at, left - 1));
        } else {
            self.position.adopting = None;
            self.position_synced(at);
        }
    }

    /// Moves the position over the indexes applied just above it, then answers the commits it
    /// now covers.
    fn advance(&mut self) {
        let (term, mut index) = self.position.at;
        while crate::sort::set_remove(&mut self.position.applied, index + 1) {
            index += 1;
        }
        self.position.applied.retain(|i| *i > index);
        self.set_position((term, index));
        let due = self.position.held.partition_point(|&(i, _)| i <= index);
        let later = self.position.held.split_off(due);
        let due = core::mem::replace(&mut self.position.held, later);
        for (_, id) in due {
            self.position.held_count -= 1;
            self.out.push(Output::Reply {
                to: id,
                result: Ok(crate::Response::Ok),
            });
        }
    }

    /// Starts tracking the leader term `term`: commits held for another term are refused.
    fn drop_held(&mut self, term: u64) {
        self.position.term = term;
        self.position.applied.clear();
        self.position.held_count = 0;
        for (_, id) in core::mem::take(&mut self.position.held) {
            self.out.push(Output::Reply {
                to: id,
                result: Err(RaftError::server(COMMIT_OUT_OF_ORDER)),
            });
        }
    }

    fn set_position(&mut self, at: (u64, u64)) {
        if self.position.at == at {
            return;
        }
        self.position.at = at;
        self.position.term = at.0;
        self.persist(Persist::Position {
            term: at.0,
            index: at.1,
        });
    }

    /// A commit numbered `at` wrote `key` here.
    pub(crate) fn position_note_commit(&mut self, key: &str, at: (u64, u64)) {
        if !self.positions_on() {
            return;
        }
        let p = &mut self.position;
        if at.0 < p.recent_term {
            // A late commit of an older leader wrote this copy: repaired as before.
            p.recent.remove(key);
            return;
        }
        if at.0 > p.recent_term {
            p.recent_term = at.0;
            p.recent.clear();
        }
        if p.recent.len() < MAX_RECENT || p.recent.contains_key(key) {
            p.recent.insert(MapKey::from(key), at.1);
        }
    }

    /// Whether this node's copy of `key` came from a commit of the leader that beat at `beat`,
    /// numbered above the beat: the leader held it then at once (it applies a write before
    /// committing it), but built the beat's list before it, so the list cannot name it or
    /// names an older copy. Not a key to repair ([`Fix::DeadKey`]): the leader holds it.
    pub(crate) fn position_listed_later(&self, key: &str, beat: Option<(u64, u64)>) -> bool {
        let p = &self.position;
        beat.is_some_and(|(term, index)| {
            term == p.recent_term && p.recent.get(key).is_some_and(|i| *i > index)
        })
    }

    /// A beat at `beat` was walked: the commits it covers are no longer needed.
    pub(crate) fn position_beat_walked(&mut self, beat: Option<(u64, u64)>) {
        let p = &mut self.position;
        match beat {
            Some((term, index)) if term == p.recent_term => p.recent.retain(|_, i| *i > index),
            _ => p.recent.clear(),
        }
    }

    /// After a restart: the persisted position.
    pub(crate) fn restore_position(&mut self, at: (u64, u64)) {
        self.position.at = at;
        self.position.term = at.0;
    }
}
