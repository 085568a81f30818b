//! Leader election: Nacos' `MasterElection` task, `sendVote`, `receivedVote` and
//! `RaftPeerSet.decideLeader` (docs/nacos-protocol.md §5.1, §5.2).

use crate::event::{Event, StepDown};
use crate::message::{Failure, RaftError, Request, Response};
use crate::node::{Lease, Node, Pending};
use crate::output::Persist;
use crate::{Fix, PeerState, RaftPeer};
use alloc::format;
use alloc::string::{String, ToString};

impl Node {
    /// `MasterElection.run`: count the leader due down by one tick; when it runs out, reset both
    /// dues and start an election. Runs on the leader too, which never gets there because every
    /// beat it sends resets its due.
    pub(crate) fn election_tick(&mut self) {
        let tick = self.cfg.tick_ms as i64;
        let local = self.peers.local_mut();
        local.leader_due_ms -= tick;
        if local.leader_due_ms > 0 {
            return;
        }
        self.reset_leader_due();
        self.reset_heartbeat_due();
        self.send_vote();
    }

    /// `MasterElection.sendVote`: forget the leader and every recorded vote, term + 1 (not
    /// persisted), vote for itself, become CANDIDATE and ask every other member.
    pub(crate) fn send_vote(&mut self) {
        let before = self.peers.leader().map(String::from);
        self.peers.reset();
        self.left_leader(before);
        let me = String::from(self.peers.me());
        let local = self.peers.local_mut();
        local.term += 1;
        local.vote_for = Some(me);
        local.state = PeerState::Candidate;
        let term = local.term;
        let mut snapshot = local.clone();
        self.persist_term_change();
        if self.cfg.rules.has(Fix::StaleCandidate) || self.cfg.rules.has(Fix::SplitVote) {
            snapshot.data_version = Some(self.data_version());
            snapshot.position = self.own_position();
        }
        self.event(Event::ElectionStarted { term });
        for to in self.peers.others() {
            self.send_to(to, Request::Vote(snapshot.clone()), Pending::Vote);
        }
    }

    /// `RaftCore.receivedVote`: grant only to a strictly higher term; a refusal answers with the
    /// own record, whose `voteFor` becomes itself if it was empty.
    pub(crate) fn received_vote(&mut self, remote: RaftPeer) -> Result<RaftPeer, RaftError> {
        if !self.peers.contains(&remote.ip) {
            self.event(Event::VoteFromStranger {
                candidate: remote.ip.clone(),
            });
            return Err(RaftError::server(format!(
                "can not find peer: {}",
                remote.ip
            )));
        }
        let me = String::from(self.peers.me());
        let own_term = self.peers.local().term;
        if remote.term <= own_term {
            let retry = remote.term == own_term && self.first_after_split(&remote);
            let local = self.peers.local_mut();
            if local.vote().is_none() {
                local.vote_for = Some(me);
            }
            let answer = local.clone();
            self.event(Event::VoteRefused {
                candidate: remote.ip.clone(),
                candidate_term: remote.term,
                own_term,
            });
            if retry {
                // Neither can win this term: Nacos has both wait a whole leader due and
                // maybe split again. The next tick starts the next term, which the other
                // candidate grants (it is at least as up to date by the order below).
                self.peers.local_mut().leader_due_ms = 0;
                self.event(Event::SplitVote {
                    candidate: remote.ip,
                    term: own_term,
                });
            }
            return Ok(answer);
        }
        if let Some(answer) = self.refuse_stale_candidate(&remote) {
            return Ok(answer);
        }
        self.reset_leader_due();
        let local = self.peers.local_mut();
        let was = local.state;
        local.state = PeerState::Follower;
        local.vote_for = Some(remote.ip.clone());
        local.term = remote.term;
        let answer = local.clone();
        self.persist_term_change();
        if self.cfg.rules.has(Fix::TwoLeaders) {
            // Raft's reading of a vote: the term of the leader it believed in is over. Nacos
            // keeps believing in it, and a minority candidate that keeps asking keeps this
            // node's leader due reset, so the belief outlives a leader that stepped down.
            self.follow(None);
        }
        self.event(Event::VoteGranted {
            candidate: remote.ip.clone(),
            term: remote.term,
        });
        if was != PeerState::Follower {
            self.event(Event::SteppedDown {
                was,
                why: StepDown::GrantedVote {
                    candidate: remote.ip,
                    term: remote.term,
                },
            });
        }
        Ok(answer)
    }

    pub(crate) fn vote_answered(&mut self, to: &str, result: Result<Response, Failure>) {
        match result {
            Ok(Response::Peer(peer)) => {
                self.event(Event::VoteAnswered {
                    from: peer.ip.clone(),
                    vote_for: peer.vote().map(String::from),
                    term: peer.term,
                });
                self.decide_leader(peer);
            }
            Ok(_) => self.request_failed(to, "vote", "unexpected answer".into()),
            Err(f) => self.request_failed(to, "vote", f.to_string()),
        }
    }

    /// `RaftPeerSet.decideLeader`: store the answer as that member's record, tally `voteFor` over
    /// every record (stale ones included), and if someone — not necessarily this node — has a
    /// majority, mark that record LEADER and believe in it.
    ///
    /// Hardened: [`Fix::StaleVotes`] tallies only the records in this node's current term (a
    /// member votes once per term, so a majority there elects one node only);
    /// [`Fix::FirstBeat`] makes a node that elects itself beat at once.
    pub(crate) fn decide_leader(&mut self, answer: RaftPeer) {
        self.peers.update(answer);
        let tally = if self.cfg.rules.has(Fix::StaleVotes) {
            self.peers.tally_in(self.peers.local().term)
        } else {
            self.peers.tally()
        };
        let Some((winner, votes)) = tally else {
            return;
        };
        let majority = self.peers.majority();
        if votes < majority {
            return;
        }
        // Nacos dereferences the winner's record; a vote for a non-member would throw there.
        let Some(rec) = self.peers.get_mut(&winner) else {
            return;
        };
        rec.state = PeerState::Leader;
        if !self.peers.is_leader(&winner) {
            let me = winner == self.peers.me();
            self.follow(Some(winner.clone()));
            self.event(Event::LeaderDecided {
                leader: winner,
                votes,
                majority,
            });
            if me {
                if self.cfg.rules.has(Fix::SplitVote) {
                    // A split may have set the due to the next tick; a leader does not campaign.
                    self.reset_leader_due();
                }
                let term = self.peers.local().term;
                self.position_elected(term);
                self.lease = Lease {
                    since_ms: self.now_ms,
                    ..Lease::default()
                };
                if self.cfg.rules.has(Fix::FirstBeat) {
                    // Nacos waits for the heartbeat due (up to a whole interval), so followers
                    // refuse the new leader's first publish as "not leader" until its first beat.
                    self.reset_heartbeat_due();
                    self.send_beat();
                }
            }
        }
    }

    /// [`Fix::SplitVote`]: whether this node and `remote`, both candidates that voted for
    /// themselves in the same term, split the vote and this node is the one to try again
    /// first. Both sides rank the two the same way, by what each vote request carries: log
    /// position, then data version, then the lower address. The first of the order is never
    /// stale to the other under [`Fix::StaleCandidate`], so the other grants its next term.
    fn first_after_split(&self, remote: &RaftPeer) -> bool {
        if !self.cfg.rules.has(Fix::SplitVote) {
            return false;
        }
        let local = self.peers.local();
        if local.state != PeerState::Candidate
            || local.vote() != Some(self.peers.me())
            || remote.vote() != Some(remote.ip.as_str())
        {
            return false;
        }
        let own = (self.own_position(), Some(self.data_version()));
        let theirs = (remote.position, remote.data_version);
        match own.cmp(&theirs) {
            core::cmp::Ordering::Greater => true,
            core::cmp::Ordering::Less => false,
            core::cmp::Ordering::Equal => self.peers.me() < remote.ip.as_str(),
        }
    }

    /// How much data this node holds, for [`Fix::StaleCandidate`]: the sum of its datums'
    /// timestamps. A key's timestamp counts the writes to that key (the leader sets it one above
    /// its own copy's), so the sum counts the writes this node has applied; a node that missed
    /// writes has a smaller sum (docs/hardened/stale-candidate.md says what it does not prove).
    pub(crate) fn data_version(&self) -> u64 {
        self.datums
            .values()
            .fold(0u64, |sum, d| sum.saturating_add(d.timestamp))
    }

    /// [`Fix::StaleCandidate`] (alibaba/nacos#785): a candidate with a higher term but less data
    /// than this node is refused. The voter still takes the candidate's term, as Raft does with
    /// any higher term, and steps down if it led or campaigned: otherwise the stale node, whose
    /// term is above the leader's, would refuse that leader's beats forever and never catch up.
    /// A candidate that sends no `dataVersion` (a Java node) is judged by term alone.
    fn refuse_stale_candidate(&mut self, remote: &RaftPeer) -> Option<RaftPeer> {
        if !self.cfg.rules.has(Fix::StaleCandidate) {
            return None;
        }
        let own_at = self.position.at;
        match remote.position.map(|at| at.cmp(&own_at)) {
            // Raft's election restriction: a candidate whose log position is below this
            // node's may lack a write this node acknowledged.
            Some(core::cmp::Ordering::Less) => {
                let at = remote.position.unwrap_or_default();
                self.event(Event::VoteRefusedStaleLog {
                    candidate: remote.ip.clone(),
                    candidate_at: at,
                    own_at,
                });
            }
            // Holds every write this node counted: the sum below is no order between logs.
            Some(core::cmp::Ordering::Greater) => return None,
            // The same position (or a candidate without one): the candidate with more data.
            _ => {
                let theirs = remote.data_version?;
                let own = self.data_version();
                if theirs >= own {
                    return None;
                }
                self.event(Event::VoteRefusedStaleData {
                    candidate: remote.ip.clone(),
                    candidate_version: theirs,
                    own_version: own,
                });
            }
        }
        let local = self.peers.local_mut();
        let was = local.state;
        local.state = PeerState::Follower;
        local.vote_for = None;
        local.term = remote.term;
        let answer = local.clone();
        if was == PeerState::Leader {
            self.follow(None);
        }
        self.persist_term_change();
        if was != PeerState::Follower {
            self.event(Event::SteppedDown {
                was,
                why: StepDown::RefusedStaleCandidate {
                    candidate: remote.ip.clone(),
                    term: remote.term,
                },
            });
        }
        Some(answer)
    }

    /// [`Fix::TermOnRestart`]: every change of the own term (and so of the vote, which Nacos
    /// grants only to a strictly higher term) is written, so that [`Node::restore`] can take it
    /// back. Nacos writes the term only after data writes.
    fn persist_term_change(&mut self) {
        if self.cfg.rules.has(Fix::TermOnRestart) {
            let term = self.peers.local().term;
            self.persist(Persist::Term(term));
        }
    }

    /// [`Fix::TwoLeaders`], run every tick: a leader that has not had a successful beat answer
    /// from a majority (itself included) within a leader timeout steps down, forgets that it
    /// leads and waits a leader due before it campaigns. A new leader gets a leader timeout to
    /// hear from its followers first.
    pub(crate) fn lease_tick(&mut self) {
        if !self.cfg.rules.has(Fix::TwoLeaders) || self.state() != PeerState::Leader {
            return;
        }
        let window = self.cfg.leader_timeout_ms;
        let now = self.now_ms;
        if now - self.lease.since_ms < window {
            return;
        }
        let heard = 1 + self
            .peers
            .others()
            .iter()
            .filter(|ip| {
                self.lease
                    .heard_ms
                    .get(ip.as_str())
                    .is_some_and(|t| now - t <= window)
            })
            .count();
        let majority = self.peers.majority();
        if heard >= majority {
            return;
        }
        self.peers.local_mut().state = PeerState::Follower;
        self.follow(None);
        self.reset_leader_due();
        self.event(Event::SteppedDown {
            was: PeerState::Leader,
            why: StepDown::LostMajority { heard, majority },
        });
    }

    pub(crate) fn request_failed(&mut self, to: &str, what: &'static str, failure: String) {
        self.event(Event::RequestFailed {
            to: to.into(),
            what: what.into(),
            failure,
        });
    }
}
