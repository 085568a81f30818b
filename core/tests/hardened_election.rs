//! The election half of the hardened rules (issue #13) over random fault schedules: the same
//! schedules (crashes and restarts, partitions, one-way and two-way cuts, loss, latency spikes,
//! forced timeouts, writes and deletes; `sim::campaign`) run under Nacos 1.4.1 and under the five
//! election fixes. Under the fixes no two nodes lead in one term and a leader is elected within
//! the election bound after every heal; under Nacos 1.4.1 the known violations still show, in
//! the same numbers (the faithful model must not quietly change).
//!
//! `HARDENED_SEEDS=N` runs another number of seeds and prints the table (the counts pinned
//! below are for the default 1,000).
#![cfg(not(target_arch = "wasm32"))]

use nacos_raft_core::sim::campaign::{kind_index, Case, KINDS};
use nacos_raft_core::sim::{Action, Sim, TraceMode, ViolationKind};
use nacos_raft_core::{Config, Fix, Fixes, Rules};

/// The five fixes of the election half.
const ELECTION: [Fix; 5] = [
    Fix::StaleVotes,
    Fix::StaleCandidate,
    Fix::TwoLeaders,
    Fix::FirstBeat,
    Fix::TermOnRestart,
];

fn election_rules() -> Rules {
    Rules::Custom(ELECTION.iter().fold(Fixes::NONE, |f, x| f.with(*x, true)))
}

/// Virtual time per seed: short, so that 2,000 runs fit in about a minute in debug; the last
/// fifth (60 s) is the campaign's fault-free recovery window.
const UNTIL_MS: u64 = 300_000;

/// The election bound with Nacos' timings: the first leader due runs out within
/// `leader_timeout + random` (20 s) of the last beat; one split or refused round costs another
/// such wait; a vote round trip and the beat that tells the others take milliseconds.
fn election_bound_ms() -> u64 {
    let c = Config::default();
    2 * (c.leader_timeout_ms + c.random_ms) + c.heartbeat_ms
}

/// Whether the cluster is whole: every node up, no cut, no loss, the base latency.
fn healthy(sim: &Sim) -> bool {
    let net = sim.net();
    (0..sim.len()).all(|i| sim.is_up(i))
        && !net.has_faults()
        && net.loss_ppm == 0
        && net.latency_ms == sim.config().latency_ms
}

/// One node leads and every node believes in it.
fn agreed_leader(sim: &Sim) -> bool {
    let Some(l) = sim.cluster_leader() else {
        return false;
    };
    let leaders = (0..sim.len())
        .filter(|i| sim.state(*i) == Some(nacos_raft_core::PeerState::Leader))
        .count();
    leaders == 1
        && (0..sim.len()).all(|i| sim.node(i).and_then(|n| n.leader()) == Some(sim.addr(l)))
}

/// What one run showed.
struct Run {
    /// Violations per class, [`KINDS`] order (each class counted once per run).
    first: [bool; 6],
    /// For every heal after which the cluster stayed whole: how long until an agreed leader
    /// (`None`: none before the run ended or before the next fault).
    waits: Vec<(u64, Option<u64>)>,
}

/// Replays `case`, watching from every point where the cluster becomes whole until one node
/// leads with everyone's agreement (checked every 100 ms of virtual time).
fn run(case: &Case) -> Run {
    let mut sim = Sim::new(case.config(TraceMode::Off)).expect("a campaign configuration");
    let mut watch: Option<u64> = None;
    let mut waits = Vec::new();
    let mut now = 0;
    let mut advance = |sim: &mut Sim, to: u64, watch: &mut Option<u64>, now: &mut u64| {
        while let Some(since) = *watch {
            if *now >= to {
                break;
            }
            *now = (*now + 100).min(to);
            sim.run_until(*now);
            if agreed_leader(sim) {
                waits.push((since, Some(*now - since)));
                *watch = None;
            }
        }
        sim.run_until(to);
        *now = to;
    };
    for a in &case.actions {
        advance(&mut sim, a.at_ms, &mut watch, &mut now);
        sim.apply(a.action.clone())
            .expect("a campaign schedule is accepted");
        if !healthy(&sim) {
            watch = None;
        } else if matches!(a.action, Action::Timeout { .. }) || watch.is_none() {
            // A forced election restarts the clock; a heal starts it.
            if !agreed_leader(&sim) || matches!(a.action, Action::Timeout { .. }) {
                watch = Some(now);
            }
        }
    }
    advance(&mut sim, case.until_ms, &mut watch, &mut now);
    let mut waits: Vec<(u64, Option<u64>)> = waits;
    if let Some(since) = watch {
        waits.push((since, None));
    }
    let mut first = [false; 6];
    for v in sim.violations() {
        first[kind_index(v.kind)] = true;
    }
    Run { first, waits }
}

/// Totals over the seeds under one rule set.
#[derive(Debug, Default)]
struct Tally {
    runs_with: [usize; 6],
    heals: usize,
    slowest_ms: u64,
    /// `(seed, nodes, healed at, waited)` of heals with no agreed leader within the bound.
    late: Vec<(u64, usize, u64, Option<u64>)>,
}

fn campaign(seeds: u64, rules: Rules) -> Tally {
    let bound = election_bound_ms();
    let mut t = Tally::default();
    for seed in 1..=seeds {
        let nodes = if seed % 2 == 0 { 5 } else { 3 };
        let case = Case::generate(seed, nodes, UNTIL_MS).with_rules(rules);
        let r = run(&case);
        for (k, hit) in r.first.iter().enumerate() {
            t.runs_with[k] += usize::from(*hit);
        }
        for (since, waited) in r.waits {
            t.heals += 1;
            match waited {
                Some(w) => t.slowest_ms = t.slowest_ms.max(w),
                // Still watching at the end: late only if the bound had passed.
                None if case.until_ms - since < bound => continue,
                None => {}
            }
            if waited.is_none_or(|w| w > bound) {
                t.late.push((seed, nodes, since, waited));
            }
        }
    }
    t
}

fn table(name: &str, t: &Tally) -> String {
    let mut s = format!("{name:>9}:");
    for (k, kind) in KINDS.iter().enumerate() {
        s.push_str(&format!(" {}={}", kind.as_str(), t.runs_with[k]));
    }
    s.push_str(&format!(
        " heals={} slowest_election_ms={} late={}",
        t.heals,
        t.slowest_ms,
        t.late.len()
    ));
    s
}

#[test]
fn the_election_fixes_hold_on_the_schedules_where_nacos_fails() {
    let seeds: u64 = std::env::var("HARDENED_SEEDS")
        .ok()
        .map(|s| s.parse().expect("HARDENED_SEEDS is a number"))
        .unwrap_or(1_000);
    let nacos = campaign(seeds, Rules::Nacos141);
    let fixed = campaign(seeds, election_rules());
    let report = format!("{}\n{}", table("nacos", &nacos), table("election", &fixed));
    println!("{report}");

    let same_term = kind_index(ViolationKind::TwoLeadersSameTerm);
    assert_eq!(fixed.runs_with[same_term], 0, "{report}");
    assert!(
        fixed.late.is_empty(),
        "no agreed leader within {} ms of a heal: {:?}\n{report}",
        election_bound_ms(),
        fixed.late
    );
    assert!(fixed.heals >= seeds as usize, "{report}");
    if seeds == 1_000 {
        // The faithful model on the same schedules, pinned: a change here is a change of
        // Nacos 1.4.1's behaviour in the simulator, which no fix may cause.
        assert_eq!(
            table("nacos", &nacos),
            "    nacos: two_leaders_same_term=3 two_leaders=433 stale_leader=16 \
             lost_acked_write=68 not_converged=60 term_decreased=3 heals=1565 \
             slowest_election_ms=23400 late=0",
            "{report}"
        );
    }
    // What Nacos shows and the fixes remove on these schedules.
    assert!(nacos.runs_with[same_term] > 0, "{report}");
    let stale = kind_index(ViolationKind::StaleLeader);
    assert!(nacos.runs_with[stale] > 0 || seeds < 1_000, "{report}");
    assert_eq!(fixed.runs_with[stale], 0, "{report}");
}

/// The cluster of `cfg`, settled, its leader crashed, run until another node leads; and when
/// the crash was.
fn leader_crashed(cfg: nacos_raft_core::sim::SimConfig) -> (Sim, u64) {
    let mut sim = Sim::new(cfg).unwrap();
    assert!(sim.run_for(120_000, |s| s.settled_leader().is_some()));
    let old = sim.cluster_leader().unwrap();
    sim.apply(Action::Crash { node: old }).unwrap();
    let crashed_at = sim.now();
    assert!(sim.run_for(120_000, |s| s.cluster_leader().is_some()));
    (sim, crashed_at)
}

/// Failover: the leader of a settled 3-node cluster crashes; a client writes at the new leader
/// the moment it wins. Returns each write's outcome and how long after the crash it finished.
fn failover(rules: Rules, seed: u64) -> (bool, u64) {
    let (mut sim, crashed_at) = leader_crashed(nacos_raft_core::sim::SimConfig {
        nodes: 3,
        seed,
        rules,
        trace: TraceMode::Off,
        latency_ms: (10, 40),
        ..Default::default()
    });
    let new = sim.cluster_leader().unwrap();
    sim.apply(Action::Put {
        node: new,
        key: nacos_raft_core::sim::sample_key(0),
        value: r#"{"v":1}"#.into(),
    })
    .unwrap();
    assert!(sim.run_for(30_000, |s| s.ops().iter().all(|o| o.done.is_some())));
    let (at, result) = sim.ops()[0].done.clone().unwrap();
    (result.is_ok(), at - crashed_at)
}

#[test]
fn first_beat_the_first_write_after_a_failover_is_accepted() {
    let first_beat = Rules::Custom(Fixes::NONE.with(Fix::FirstBeat, true));
    let (mut refused, mut ok) = (0, 0);
    let (mut nacos_ms, mut fixed_ms) = (Vec::new(), Vec::new());
    for seed in 1..=20 {
        let (nacos_ok, a) = failover(Rules::Nacos141, seed);
        let (fixed_ok, b) = failover(first_beat, seed);
        refused += usize::from(!nacos_ok);
        ok += usize::from(fixed_ok);
        nacos_ms.push(a);
        fixed_ms.push(b);
    }
    nacos_ms.sort_unstable();
    fixed_ms.sort_unstable();
    println!(
        "crash to the first write's answer, ms, median/max of 20: nacos {}/{} (refused), first-beat {}/{} (accepted)",
        nacos_ms[10], nacos_ms[19], fixed_ms[10], fixed_ms[19]
    );
    // Nacos: the followers have not had the new leader's beat, refuse its commit as "not
    // leader", and the write fails at the publish timeout. Fixed: the beat goes first.
    assert_eq!((refused, ok), (20, 20));
}

/// The leader of a settled 3-node cluster (fast timings, 1-20 ms per message) crashes; how
/// long until a survivor leads.
fn crash_to_leader_ms(rules: Rules, seed: u64) -> u64 {
    let (sim, crashed_at) = leader_crashed(nacos_raft_core::sim::SimConfig {
        nodes: 3,
        seed,
        rules,
        timings: Config::fast(),
        trace: TraceMode::Off,
        latency_ms: (1, 20),
        ..Default::default()
    });
    sim.now() - crashed_at
}

#[test]
fn split_vote_a_failover_never_waits_a_second_leader_due() {
    let without = Rules::Custom(Fixes::ALL.with(Fix::SplitVote, false));
    let seeds = 1_000;
    let (mut before, mut after): (Vec<u64>, Vec<u64>) = (1..=seeds)
        .map(|seed| {
            (
                crash_to_leader_ms(without, seed),
                crash_to_leader_ms(Rules::Hardened, seed),
            )
        })
        .unzip();
    before.sort_unstable();
    after.sort_unstable();
    // One leader due (at most leader timeout + random after the last beat), a tick for the
    // retry of a split, two vote round trips.
    let c = Config::fast();
    let bound = c.leader_timeout_ms + c.random_ms + c.tick_ms + 4 * 20;
    let slow = |v: &[u64]| v.iter().filter(|t| **t > bound).count();
    let p = |v: &[u64], q: usize| v[v.len() * q / 100];
    println!(
        "leader crash to a new leader, ms, p50/p99/max of {seeds}: hardened without split-vote \
         {}/{}/{} ({} over {bound}), hardened {}/{}/{} ({} over)",
        p(&before, 50),
        p(&before, 99),
        before[before.len() - 1],
        slow(&before),
        p(&after, 50),
        p(&after, 99),
        after[after.len() - 1],
        slow(&after)
    );
    // Without the fix some failovers split and wait a second leader due (1.5-2.0 s more).
    assert!(slow(&before) > 0, "{before:?}");
    assert_eq!(slow(&after), 0, "{after:?}");
}

/// A cut-off leader: the leader of a settled 3-node cluster (fast timings) is isolated; a
/// client at a follower writes at once and, 100 ms after every failed answer, again at the same
/// follower. Returns how long after the cut the first write was acknowledged.
fn cut_leader_first_write(rules: Rules, seed: u64) -> u64 {
    let cfg = nacos_raft_core::sim::SimConfig {
        nodes: 3,
        seed,
        rules,
        timings: nacos_raft_core::Config::fast(),
        trace: TraceMode::Off,
        latency_ms: (1, 5),
        ..Default::default()
    };
    let mut sim = Sim::new(cfg).unwrap();
    assert!(sim.run_for(60_000, |s| s.settled_leader().is_some()));
    let old = sim.cluster_leader().unwrap();
    let follower = (old + 1) % 3;
    sim.apply(Action::Isolate { node: old }).unwrap();
    let cut_at = sim.now();
    let put = |sim: &mut Sim, n: u64| {
        sim.apply(Action::Put {
            node: follower,
            key: nacos_raft_core::sim::sample_key(0),
            value: format!(r#"{{"v":{n}}}"#),
        })
        .unwrap();
    };
    put(&mut sim, 0);
    for n in 1..=300 {
        assert!(sim.run_for(30_000, |s| s.ops().iter().all(|o| o.done.is_some())));
        let (at, result) = sim.ops().last().unwrap().done.clone().unwrap();
        if result.is_ok() {
            return at - cut_at;
        }
        // As a client does: a short pause, then the same write again.
        sim.run_for(100, |_| false);
        put(&mut sim, n);
    }
    panic!("seed {seed}: no write acknowledged after 300 tries");
}

#[test]
fn stale_forward_a_write_at_a_follower_goes_through_once_it_follows_a_new_leader() {
    let without = Rules::Custom(Fixes::ALL.with(Fix::StaleForward, false));
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for seed in 1..=20 {
        before.push(cut_leader_first_write(without, seed));
        after.push(cut_leader_first_write(Rules::Hardened, seed));
    }
    before.sort_unstable();
    after.sort_unstable();
    println!(
        "leader cut off to the first acknowledged write at a follower, ms, median/max of 20: \
         hardened without stale-forward {}/{}, hardened {}/{}",
        before[10], before[19], after[10], after[19]
    );
    // Without the fix the first forward waits out the 10 s read timeout on the cut-off leader;
    // with it, it fails when the follower turns to the election, and a retry reaches the new
    // leader (leader due 1.5-2.0 s with fast timings).
    assert!(before[0] >= 10_000, "{before:?}");
    assert!(after[19] < 5_000, "{after:?}");
}

/// The violation classes a preset story shows under `rules`, run a minute past its end (a
/// fix may move the outcome later than the story's Nacos-timed end).
fn preset_outcome(id: &str, rules: Rules) -> Vec<&'static str> {
    let p = nacos_raft_core::sim::scenario::preset(id).unwrap();
    let mut cfg = p.config.clone();
    cfg.trace = TraceMode::Off;
    cfg.rules = rules;
    let sim = Sim::replay(cfg, &p.actions, p.end_ms + 60_000).unwrap();
    assert!(sim.converged(), "{id} under {rules}");
    let mut kinds: Vec<&'static str> = sim.violations().iter().map(|v| v.kind.as_str()).collect();
    kinds.dedup();
    kinds
}

#[test]
fn the_preset_stories_under_each_fix() {
    let alone = |f: Fix| Rules::Custom(Fixes::NONE.with(f, true));
    // Two leaders (a cut-off leader keeps leading): gone with two-leaders.
    assert_eq!(
        preset_outcome("two-leaders", Rules::Nacos141),
        ["two_leaders"]
    );
    assert!(preset_outcome("two-leaders", alone(Fix::TwoLeaders)).is_empty());
    // #3652: the old leader's failed writes raise its term in the minority; stepping down
    // there keeps it from taking the healed cluster back, so the acknowledged write stays.
    assert_eq!(
        preset_outcome("dead-key-loss", Rules::Nacos141),
        ["two_leaders", "lost_acked_write"]
    );
    assert!(preset_outcome("dead-key-loss", alone(Fix::TwoLeaders)).is_empty());
    // #785: the isolated node's vote is refused for its data; a node with the data wins.
    assert_eq!(
        preset_outcome("stale-node-wins", Rules::Nacos141),
        ["two_leaders", "lost_acked_write"]
    );
    assert!(preset_outcome("stale-node-wins", alone(Fix::StaleCandidate)).is_empty());
    for id in ["two-leaders", "dead-key-loss", "stale-node-wins"] {
        assert!(preset_outcome(id, election_rules()).is_empty(), "{id}");
    }
    // The stories without a flaw stay without one.
    for id in ["first-election", "split-vote", "leader-crash", "catch-up"] {
        assert!(preset_outcome(id, election_rules()).is_empty(), "{id}");
    }
    // The split vote (two of four time out together, 2 votes each): Nacos waits 15-20 s for
    // the next round; under split-vote the first of the two asks again at its next tick.
    let p = nacos_raft_core::sim::scenario::preset("split-vote").unwrap();
    let leader_at = |rules: Rules, ms: u64| {
        let mut cfg = p.config.clone();
        cfg.trace = TraceMode::Off;
        cfg.rules = rules;
        Sim::replay(cfg, &p.actions, ms).unwrap().cluster_leader()
    };
    assert_eq!(leader_at(Rules::Nacos141, 3_000), None);
    assert_eq!(leader_at(alone(Fix::SplitVote), 3_000), Some(0));
    assert_eq!(leader_at(Rules::Hardened, 3_000), Some(0));
}

/// Every fix together (`Rules::Hardened`, the election half with the data half) on the same
/// schedules: no two leaders in one term, every run converged after its fault-free window, an
/// agreed leader within the election bound after every heal, and the story presets clean.
///
/// No acknowledged write lost either (Nacos 1.4.1: 68 runs): voters compare log positions
/// (docs/hardened/stale-candidate.md), so a node elected after a write was acknowledged holds it.
#[test]
fn the_hardened_rules_on_the_same_schedules() {
    let seeds: u64 = std::env::var("HARDENED_SEEDS")
        .ok()
        .map(|s| s.parse().expect("HARDENED_SEEDS is a number"))
        .unwrap_or(1_000);
    let hardened = campaign(seeds, Rules::Hardened);
    let report = table("hardened", &hardened);
    println!("{report}");
    for kind in [
        ViolationKind::TwoLeadersSameTerm,
        ViolationKind::LostAckedWrite,
        ViolationKind::NotConverged,
    ] {
        assert_eq!(
            hardened.runs_with[kind_index(kind)],
            0,
            "{kind:?}: {report}"
        );
    }
    assert!(hardened.late.is_empty(), "{:?}\n{report}", hardened.late);
    assert!(hardened.heals >= seeds as usize, "{report}");
    for id in ["two-leaders", "dead-key-loss", "stale-node-wins"] {
        assert!(preset_outcome(id, Rules::Hardened).is_empty(), "{id}");
        assert!(!preset_outcome(id, Rules::Nacos141).is_empty(), "{id}");
    }
}

/// An acknowledged delete counts as a write of nothing where a delete is a majority write
/// (`dead-key`): with that fix alone (no log positions) seed 9's schedule brings a deleted key
/// back at a later leader, and the observer says so; every fix together keeps it deleted.
#[test]
fn an_acknowledged_delete_that_comes_back_is_a_lost_write() {
    let back = |rules: Rules| -> Vec<String> {
        let sim = Case::generate(9, 3, UNTIL_MS)
            .with_rules(rules)
            .run(TraceMode::Off)
            .unwrap();
        sim.violations()
            .iter()
            .filter(|v| v.kind == ViolationKind::LostAckedWrite && v.detail.contains("(deleted,"))
            .map(|v| v.detail.clone())
            .collect()
    };
    let dead_key_only = back(Rules::Custom(Fixes::NONE.with(Fix::DeadKey, true)));
    assert!(
        dead_key_only
            .iter()
            .any(|d| d.contains("is back at the leader")),
        "{dead_key_only:?}"
    );
    assert_eq!(back(Rules::Hardened), Vec::<String>::new());
}

/// A leader cut off from the others and the majority's new leader each write one key once, from
/// the same copy: by Nacos' rule (timestamp + 1) both copies get the same timestamp, the cut-off
/// leader counts as in sync with the new one after the heal, its log position catches up, and
/// once it wins again its unacknowledged value replaces the acknowledged one (a lost write the
/// 1,000 random schedules never happened to show). `stale-candidate`'s timestamps by term keep
/// the two apart: the old leader takes the new leader's copy at the heal
/// (docs/hardened/stale-candidate.md, "Timestamps by term").
#[test]
fn stale_candidate_a_cut_off_leaders_write_never_passes_for_the_new_leaders() {
    use nacos_raft_core::sim::{sample_key, sample_value, SimConfig};
    let key = sample_key(0);
    let put = |node, v| Action::Put {
        node,
        key: key.clone(),
        value: sample_value(0, v),
    };
    let cfg = SimConfig {
        nodes: 3,
        seed: 1,
        rules: Rules::Hardened,
        trace: TraceMode::Off,
        ..SimConfig::default()
    };
    let mut sim = Sim::new(cfg).unwrap();
    sim.run_until(3_000);
    let old = sim.cluster_leader().expect("a leader after 3 s");
    let other = (old + 1) % 3;
    sim.apply(put(old, 1)).unwrap();
    sim.run_until(5_000);
    sim.apply(Action::Isolate { node: old }).unwrap();
    // Not acknowledged: the cut-off leader reaches no majority.
    sim.apply(put(old, 2)).unwrap();
    sim.run_until(40_000);
    let new = sim.cluster_leader().expect("a leader of the majority");
    assert_ne!(new, old);
    sim.apply(put(other, 3)).unwrap();
    sim.run_until(45_000);
    sim.apply(Action::HealAll).unwrap();
    sim.run_until(72_000);
    let acked = sim.ops().last().unwrap();
    assert!(matches!(acked.done, Some((_, Ok(())))), "{acked:?}");
    let copy = |sim: &Sim, i: usize| {
        let d = sim.node(i).unwrap().datum(&key).unwrap();
        (d.timestamp, d.value.as_ref().unwrap().as_str().to_owned())
    };
    for i in 0..3 {
        assert_eq!(copy(&sim, i), copy(&sim, new), "node {i} after the heal");
    }
    assert!(copy(&sim, new).1.contains(r#""version":"3""#));
    // The old leader wins again without the new one: it must hold the acknowledged write.
    sim.apply(Action::Crash { node: new }).unwrap();
    sim.run_until(72_100);
    sim.apply(Action::Timeout { node: old }).unwrap();
    sim.run_until(80_000);
    assert_eq!(sim.cluster_leader(), Some(old));
    assert!(copy(&sim, old).1.contains(r#""version":"3""#));
    assert_eq!(sim.violations(), &[], "{:?}", sim.violations());
}
