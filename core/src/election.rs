//! Leader election: Nacos' `MasterElection` task, `sendVote`, `receivedVote` and
//! `RaftPeerSet.decideLeader` (docs/nacos-protocol.md §5.1, §5.2).

use crate::event::{Event, StepDown};
use crate::message::{Failure, RaftError, Request, Response};
use crate::node::{Node, Pending};
use crate::{PeerState, RaftPeer};
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
        self.peers.reset();
        let me = String::from(self.peers.me());
        let local = self.peers.local_mut();
        local.term += 1;
        local.vote_for = Some(me);
        local.state = PeerState::Candidate;
        let term = local.term;
        let snapshot = local.clone();
        self.event(Event::ElectionStarted { term });
        for to in self.peers.others() {
            self.send(&to, Request::Vote(snapshot.clone()), Pending::Vote);
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
            let local = self.peers.local_mut();
            if local.vote().is_none() {
                local.vote_for = Some(me);
            }
            let answer = local.clone();
            self.event(Event::VoteRefused {
                candidate: remote.ip,
                candidate_term: remote.term,
                own_term,
            });
            return Ok(answer);
        }
        self.reset_leader_due();
        let local = self.peers.local_mut();
        let was = local.state;
        local.state = PeerState::Follower;
        local.vote_for = Some(remote.ip.clone());
        local.term = remote.term;
        let answer = local.clone();
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
    pub(crate) fn decide_leader(&mut self, answer: RaftPeer) {
        self.peers.update(answer);
        let Some((winner, votes)) = self.peers.tally() else {
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
            self.peers.set_leader(Some(winner.clone()));
            self.event(Event::LeaderDecided {
                leader: winner,
                votes,
                majority,
            });
        }
    }

    pub(crate) fn request_failed(&mut self, to: &str, what: &'static str, failure: String) {
        self.event(Event::RequestFailed {
            to: to.into(),
            what: what.into(),
            failure,
        });
    }
}
