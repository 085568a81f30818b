//! Events: what a node decided and why, for people (the page's event log, the native node's
//! logs) and for tests. They change nothing; runtimes may drop them.

use crate::text::{self, Ctx, Lang};
use crate::PeerState;
use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Why a node stopped being LEADER or CANDIDATE. Serialized as `{"kind":"<variant>",..fields}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum StepDown {
    /// It granted a vote to a candidate with a higher term.
    GrantedVote {
        /// The candidate.
        candidate: String,
        /// The candidate's term.
        term: u64,
    },
    /// It accepted a beat from a leader whose term is not lower than its own.
    AcceptedBeat {
        /// The beat's sender.
        leader: String,
        /// The beat's term.
        term: u64,
    },
    /// Hardened rules ([`Fix::StaleCandidate`](crate::Fix::StaleCandidate)): it refused a
    /// candidate whose data is older than its own but, as Raft does with any higher term, took
    /// the candidate's term, so that the old leader's beats no longer hold it.
    RefusedStaleCandidate {
        /// The candidate.
        candidate: String,
        /// The candidate's (now also its own) term.
        term: u64,
    },
    /// Hardened rules ([`Fix::TwoLeaders`](crate::Fix::TwoLeaders)): as leader it heard
    /// successful beat answers from fewer than a majority (itself included) for a leader timeout.
    LostMajority {
        /// Members heard from within the leader timeout, itself included.
        heard: usize,
        /// The majority.
        majority: usize,
    },
}

/// One decision of one node. Serialized as `{"kind":"<variant>",..fields}` (the native node's
/// event stream, docs/live.md).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Event {
    /// `leaderDueMs` ran out: it cleared its view, bumped its term and asks for votes.
    ElectionStarted {
        /// The new term.
        term: u64,
    },
    /// It granted its vote (`receivedVote`).
    VoteGranted {
        /// The candidate.
        candidate: String,
        /// The candidate's (now also its own) term.
        term: u64,
    },
    /// It refused a vote: the candidate's term is not above its own.
    VoteRefused {
        /// The candidate.
        candidate: String,
        /// The candidate's term.
        candidate_term: u64,
        /// Its own term.
        own_term: u64,
    },
    /// A vote came from an address that is not a member (`can not find peer`).
    VoteFromStranger {
        /// The unknown address.
        candidate: String,
    },
    /// A candidate received an answer to its vote request.
    VoteAnswered {
        /// The voter.
        from: String,
        /// Whom the voter says it voted for.
        vote_for: Option<String>,
        /// The voter's term.
        term: u64,
    },
    /// `decideLeader` found a majority for someone (perhaps not itself) and made it its leader.
    LeaderDecided {
        /// The node with the most votes in its local map.
        leader: String,
        /// Its vote count.
        votes: usize,
        /// The majority needed.
        majority: usize,
    },
    /// It left LEADER or CANDIDATE state.
    SteppedDown {
        /// Its state before.
        was: PeerState,
        /// Why.
        why: StepDown,
    },
    /// It sent a heartbeat to every other member.
    BeatSent {
        /// Its term.
        term: u64,
        /// Keys listed in the beat.
        keys: usize,
    },
    /// It should have sent a beat but could not build it (a key without a brief form).
    BeatNotSent {
        /// Nacos' failure.
        reason: String,
    },
    /// It accepted a beat.
    BeatAccepted {
        /// The sender.
        leader: String,
        /// The sender's term.
        term: u64,
    },
    /// It refused a beat (Nacos' 400 texts).
    BeatRejected {
        /// The sender.
        from: String,
        /// The error text.
        reason: String,
    },
    /// `makeLeader` switched it to a new leader.
    LeaderChanged {
        /// The new leader.
        leader: String,
        /// The leader it believed in before.
        previous: Option<String>,
    },
    /// A peer it still recorded as LEADER answered `/peer` with a non-200 status: marked
    /// FOLLOWER.
    PeerMarkedFollower {
        /// The peer.
        peer: String,
    },
    /// A request it sent failed.
    RequestFailed {
        /// The peer.
        to: String,
        /// What was asked (`vote`, `beat`, ...). A `Cow` so that a deserialized event owns it.
        what: Cow<'static, str>,
        /// Why.
        failure: String,
    },
    /// Beat sync: it asked the leader for keys it lacks or holds older.
    SyncFetch {
        /// The beat's sender.
        from: String,
        /// How many keys.
        keys: usize,
    },
    /// Beat sync: it applied a fetched datum.
    DatumApplied {
        /// The key.
        key: String,
        /// The new timestamp.
        timestamp: u64,
        /// Where it came from.
        from: String,
        /// Its term afterwards (the term-step rule, `Config::term_step`).
        term: u64,
    },
    /// Beat sync: a fetched datum was not newer than its own copy, or empty.
    DatumSkipped {
        /// The key.
        key: String,
        /// Why (a `Cow` so that a deserialized event owns it).
        reason: Cow<'static, str>,
    },
    /// Beat sync: the leader did not list this key, so it was deleted (the dead-key rule).
    DeadKeyDeleted {
        /// The key.
        key: String,
    },
    /// The leader applied a write and sent commits.
    PublishStarted {
        /// The key.
        key: String,
        /// Its new timestamp.
        timestamp: u64,
        /// The leader's term after the bump of `Config::term_step`.
        term: u64,
    },
    /// A majority acknowledged a write.
    Published {
        /// The key.
        key: String,
        /// Its timestamp.
        timestamp: u64,
    },
    /// A write failed; what was applied stays applied.
    PublishFailed {
        /// The key.
        key: String,
        /// Nacos' error text.
        reason: String,
    },
    /// A non-leader forwarded a write or delete to the leader it believes in.
    Forwarded {
        /// The key.
        key: String,
        /// The leader.
        to: String,
    },
    /// A follower applied a commit.
    CommitApplied {
        /// The key.
        key: String,
        /// Its timestamp.
        timestamp: u64,
        /// The leader that sent it.
        from: String,
        /// Its term afterwards.
        term: u64,
    },
    /// A follower refused a commit or delete commit.
    CommitRejected {
        /// The key.
        key: String,
        /// The sender.
        from: String,
        /// Nacos' error text.
        reason: String,
    },
    /// It deleted a key (its own delete as leader, a delete commit, or a local iplist delete).
    Deleted {
        /// The key.
        key: String,
        /// The leader in whose name it deleted.
        by: String,
    },
    /// Hardened rules ([`Fix::StaleCandidate`](crate::Fix::StaleCandidate)): it refused a vote
    /// because the candidate's data version is below its own.
    VoteRefusedStaleData {
        /// The candidate.
        candidate: String,
        /// The candidate's data version (its `dataVersion`).
        candidate_version: u64,
        /// Its own data version.
        own_version: u64,
    },
    /// Hardened rules ([`Fix::SplitVote`](crate::Fix::SplitVote)): it and `candidate` both
    /// campaign in `term` and voted for themselves; it ranks first of the two, so it campaigns
    /// again at its next tick rather than after a whole leader due.
    SplitVote {
        /// The other candidate.
        candidate: String,
        /// The split term.
        term: u64,
    },
    /// Hardened rules ([`Fix::StaleCandidate`](crate::Fix::StaleCandidate)): it refused a vote
    /// because the candidate's log position `(term, index)` is below its own.
    VoteRefusedStaleLog {
        /// The candidate.
        candidate: String,
        /// The candidate's position (its `position`).
        candidate_at: (u64, u64),
        /// Its own position.
        own_at: (u64, u64),
    },
}

/// The clause of the English catalogue ([`crate::text`]), addresses as they are.
impl fmt::Display for StepDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::step_down_reason(self, Lang::En, &Ctx::PLAIN))
    }
}

/// The English sentence of the catalogue ([`crate::text`]) without a subject (a log line names
/// the node in a field of its own), addresses and keys as they are. The run's term step is not
/// known here, so a write says "term now 301" rather than "term +100 = 301".
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::event_sentence(self, Lang::En, &Ctx::PLAIN))
    }
}
