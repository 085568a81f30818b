//! Real partitions (`make partition-test`): three node processes inside a network namespace this
//! test creates (`unshare -n`, gone when its last process exits; the host's namespace and its
//! rules are never touched), on 127.0.0.11, .12 and .13, each sending its peer requests from its
//! own address (`--source-ip`), cut apart with nftables drop rules inside that namespace. Each
//! story runs the same steps in the simulator; the test prints both outcomes side by side and
//! checks that they agree with each other and with the story:
//!
//! 1. an isolated old leader steps down on heal (its term is lower);
//! 2. Nacos #3652: the isolated old leader's failed writes (+100 each) lift its term above the
//!    new leader's; on heal it takes the cluster back and the new side's acknowledged write is
//!    deleted everywhere (dead-key rule);
//! 3. Nacos #785: an isolated follower's term creeps up by one per election until it passes the
//!    cluster's; on heal it wins and its beat deletes the write it never had;
//! 4. a one-way cut (the leader's packets to both followers dropped, theirs to it delivered):
//!    the followers elect a new leader whose beats reach the old one, which steps down at once.
//!
//! `partition_stories_hardened` runs the same four stories with `--rules hardened` on the nodes
//! and `Rules::Hardened` in the simulator, and asserts the outcomes issue 13 promises: the
//! isolated old leader steps down while cut (it lost its majority), its writes are refused and
//! lift no term, the isolated follower's higher term does not make it leader with stale data, and
//! no acknowledged write is lost in any story.
//!
//! Skipped, with the reason printed, where the machine cannot create a network namespace or has
//! no `nft`.

use nacos_raft_core::sim::{format_actions, Action, Sim, SimConfig, TraceMode};
use nacos_raft_core::{Config, PeerState, Rules};
use nacos_raft_node::testkit::netns::{self, Firewall};
use nacos_raft_node::testkit::{Http, NodeProc};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const IN_NETNS: &str = "NACOS_RAFT_PARTITION_TEST_NETNS";
const IPS: [&str; 3] = ["127.0.0.11", "127.0.0.12", "127.0.0.13"];
/// Every node listens on this port of its own address (the namespace is the test's alone).
const PORT: u16 = 8848;
const LIMIT: Duration = Duration::from_secs(30);
const PUBLISH_TIMEOUT_MS: u64 = 3_000;
/// Peers give up on a request after 10 s (Java's read timeout, the node's default): waiting this
/// long after the last write before healing means no request sent across the cut is still
/// waiting to be retransmitted, as in the simulator, where a dropped message is gone.
const DRAIN: Duration = Duration::from_millis(11_000);

#[test]
fn partition_stories_in_a_network_namespace() {
    in_a_namespace("partition_stories_in_a_network_namespace", Rules::Nacos141);
}

#[test]
fn partition_stories_hardened() {
    in_a_namespace("partition_stories_hardened", Rules::Hardened);
}

/// Runs the test named `name` again inside a network namespace of its own, where it runs the
/// stories under `rules`.
fn in_a_namespace(name: &str, rules: Rules) {
    if std::env::var_os(IN_NETNS).is_some() {
        inside(rules);
        return;
    }
    // The stories' timings assume the machine is not also running the other rule set's six nodes.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let flags = match netns::unshare_flags() {
        Ok(flags) => flags,
        Err(why) => {
            println!("partition test SKIPPED: {why}");
            return;
        }
    };
    let exe = std::env::current_exe().expect("the test binary");
    let status = Command::new("unshare")
        .args(flags)
        .arg("--")
        .arg(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(IN_NETNS, "1")
        .status()
        .expect("running unshare");
    assert!(
        status.success(),
        "the stories failed inside the namespace: {status}"
    );
}

fn addr(i: usize) -> String {
    format!("{}:{PORT}", IPS[i])
}

fn addrs() -> Vec<String> {
    (0..3).map(addr).collect()
}

/// A short value (the printed `simulate --actions` line stays readable): an instance list whose
/// one instance is 127.0.0.<i>.
fn value(i: usize) -> String {
    format!("{{\"instanceList\":[{{\"ip\":\"127.0.0.{i}\",\"port\":8080}}]}}")
}

fn key(name: &str) -> String {
    nacos_raft_core::key::iplist_key("public", &format!("DEFAULT_GROUP@@{name}"))
}

/// The timings of a story, on the real nodes and in the simulator alike.
#[derive(Clone, Copy)]
struct Timings {
    tick: u64,
    leader: u64,
    random: u64,
    beat: u64,
}

/// Nacos' timings divided by ten (the testkit's FAST).
const FAST: Timings = Timings {
    tick: 50,
    leader: 1_500,
    random: 500,
    beat: 500,
};
/// Elections every ~0.35 s, so that an isolated node's term passes +100 in about 40 s.
const QUICK: Timings = Timings {
    tick: 10,
    leader: 300,
    random: 100,
    beat: 50,
};

impl Timings {
    fn config(self) -> Config {
        Config {
            tick_ms: self.tick,
            leader_timeout_ms: self.leader,
            random_ms: self.random,
            heartbeat_ms: self.beat,
            publish_timeout_ms: PUBLISH_TIMEOUT_MS,
            ..Config::default()
        }
    }
}

/// Who leads after the heal and which story keys each node holds.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    leader: Option<usize>,
    /// For each key: on which nodes it is.
    keys: Vec<(String, [bool; 3])>,
}

struct Real {
    http: Http,
    nodes: Vec<NodeProc>,
    fw: Firewall,
    start: Instant,
    _dir: tempfile::TempDir,
}

impl Real {
    fn new(t: Timings, rules: Rules) -> Real {
        let dir = tempfile::tempdir().unwrap();
        let members = addrs().join(",");
        let nodes = (0..3)
            .map(|i| {
                let mut n = NodeProc::new(
                    Path::new(BIN),
                    &addr(i),
                    dir.path().join(format!("n{i}")),
                    dir.path().join(format!("n{i}.log")),
                    [
                        "--members",
                        &members,
                        "--listen",
                        &addr(i),
                        "--source-ip",
                        IPS[i],
                        "--tick-ms",
                        &t.tick.to_string(),
                        "--leader-timeout-ms",
                        &t.leader.to_string(),
                        "--random-ms",
                        &t.random.to_string(),
                        "--heartbeat-ms",
                        &t.beat.to_string(),
                        "--publish-timeout-ms",
                        &PUBLISH_TIMEOUT_MS.to_string(),
                        "--health-check",
                        "none",
                        "--rules",
                        &rules.to_string(),
                    ]
                    .map(String::from)
                    .to_vec(),
                );
                n.start();
                n
            })
            .collect();
        Real {
            http: Http::new(),
            nodes,
            fw: Firewall::new(&IPS, PORT).unwrap(),
            start: Instant::now(),
            _dir: dir,
        }
    }

    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                let t = n.log_text();
                let lines: Vec<&str> = t.lines().collect();
                format!(
                    "----- {} -----\n{}",
                    n.addr,
                    lines[lines.len().saturating_sub(40)..].join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn state(&self, i: usize) -> Option<(PeerState, u64)> {
        self.http.peer(&addr(i)).await.map(|p| (p.state, p.term))
    }

    /// Waits until `among` agree on a leader; its index.
    async fn leader(&self, among: &[usize]) -> usize {
        let list: Vec<String> = among.iter().map(|i| addr(*i)).collect();
        let start = Instant::now();
        while start.elapsed() < LIMIT {
            if let Some(l) = self.http.agreed_leader(&list).await {
                return (0..3).find(|i| addr(*i) == l).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no leader among {list:?} within {LIMIT:?}\n{}", self.logs());
    }

    async fn until(&self, what: &str, limit: Duration, mut f: impl AsyncFnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if f().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}\n{}", self.logs());
    }

    async fn put(&self, at: usize, name: &str, i: usize) -> u16 {
        self.http
            .put(&addr(at), &key(name), &value(i))
            .await
            .map_or(0, |(s, _)| s)
    }

    /// A write the story needs acknowledged, tried up to three times. Under the Nacos rules a
    /// fresh write can fail by a race of Nacos 1.4.1 itself: `signalPublish` builds the request
    /// with the leader's term before `onPublish` adds 100 to it, so a beat sent in between can
    /// raise a follower to the new term before the publish arrives, and the follower refuses
    /// it as "out of date publish"; with the other follower cut off that leaves no majority
    /// (seen once in CI, 2026-12-06). A client retries; so does the story.
    async fn put_acked(&self, at: usize, name: &str, i: usize) {
        let mut status = 0;
        for _ in 0..3 {
            status = self.put(at, name, i).await;
            if status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "writing {name} through {} failed three times (last status {status})\n{}",
            addr(at),
            self.logs()
        );
    }

    async fn outcome(&self, names: &[&str]) -> Outcome {
        let leader = Some(self.leader(&[0, 1, 2]).await);
        // Three beats: dead-key deletions and syncs of the healed cluster are done.
        tokio::time::sleep(Duration::from_millis(3 * 500 + 500)).await;
        let keys: Vec<String> = names.iter().map(|n| key(n)).collect();
        let mut on = vec![[false; 3]; names.len()];
        for node in [0usize, 1, 2] {
            let got = self
                .http
                .datums(&addr(node), &keys)
                .await
                .unwrap_or_else(|| panic!("reading {} failed\n{}", addr(node), self.logs()));
            for (k, d) in got.iter().enumerate() {
                on[k][node] = d.is_some();
            }
        }
        Outcome {
            leader,
            keys: names.iter().map(|n| n.to_string()).zip(on).collect(),
        }
    }

    /// Hardened: an isolated leader steps down once it has not heard from a majority for a
    /// leader timeout.
    async fn old_leader_steps_down(&self, old: usize) {
        self.until("the isolated old leader to step down", LIMIT, async || {
            self.state(old)
                .await
                .is_some_and(|s| s.0 != PeerState::Leader)
        })
        .await;
    }

    fn ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
}

/// The simulator, driven step by step as the real run was.
struct Model(Sim);

impl Model {
    fn new(t: Timings, rules: Rules) -> Model {
        Model(
            Sim::new(SimConfig {
                nodes: 3,
                seed: 12,
                timings: t.config(),
                rules,
                trace: TraceMode::Off,
                ..SimConfig::default()
            })
            .unwrap(),
        )
    }

    fn act(&mut self, a: Action) {
        self.0.apply(a).unwrap();
    }

    /// Runs until `f` holds (at most `limit_ms` of virtual time); panics with `what` otherwise.
    fn until(&mut self, what: &str, limit_ms: u64, f: impl FnMut(&Sim) -> bool) {
        assert!(self.0.run_for(limit_ms, f), "simulator: no {what}");
    }

    fn leads(&self, i: usize) -> bool {
        self.0.state(i) == Some(PeerState::Leader)
    }

    fn put(&mut self, at: usize, name: &str, i: usize) {
        self.act(Action::Put {
            node: at,
            key: key(name),
            value: value(i),
        });
        self.until("answer to the write", 60_000, |s| {
            s.ops().iter().all(|o| o.done.is_some())
        });
    }

    /// Runs until every node follows `leader`, as `Real::leader` waits for the processes to agree
    /// (a campaign forced before a node has heard of the first election would run in the term
    /// that election already won).
    fn first_leader(&mut self, leader: usize) {
        self.act(Action::Timeout { node: leader });
        self.until("first leader", 10_000, |s| {
            (0..3).all(|i| s.node(i).and_then(|n| n.leader()) == Some(s.addr(leader)))
        });
    }

    fn old_leader_steps_down(&mut self, old: usize) {
        self.until("the isolated old leader to step down", 30_000, |s| {
            s.state(old) != Some(PeerState::Leader)
        });
    }

    fn wait(&mut self, d: Duration) {
        let t = self.0.now() + d.as_millis() as u64;
        self.0.run_until(t);
    }

    fn outcome(&mut self, names: &[&str], beat: u64) -> Outcome {
        self.until("leader after the heal", 60_000, |s| {
            s.cluster_leader().is_some() && (0..3).all(|i| s.state(i) != Some(PeerState::Candidate))
        });
        self.wait(Duration::from_millis(4 * beat.max(500)));
        let keys = names
            .iter()
            .map(|n| {
                let k = key(n);
                let on = [0, 1, 2].map(|i| self.0.node(i).is_some_and(|x| x.datum(&k).is_some()));
                (n.to_string(), on)
            })
            .collect();
        Outcome {
            leader: self.0.cluster_leader(),
            keys,
        }
    }
}

fn show(story: &str, real: &Outcome, sim: &Outcome, sim_actions: &str) {
    let leader = |o: &Outcome| o.leader.map_or("none".into(), addr);
    let on = |b: &[bool; 3]| {
        let nodes: Vec<String> = (0..3)
            .filter(|i| b[*i])
            .map(|i| IPS[i].to_string())
            .collect();
        if nodes.is_empty() {
            "nowhere".into()
        } else {
            nodes.join(" ")
        }
    };
    println!("\n{story}");
    println!("| | real processes | simulator |");
    println!("|---|---|---|");
    println!("| leader after heal | {} | {} |", leader(real), leader(sim));
    for ((name, r), (_, s)) in real.keys.iter().zip(&sim.keys) {
        println!("| key {name} on | {} | {} |", on(r), on(s));
    }
    println!("simulator actions (simulate --actions syntax; the story's timings): {sim_actions}");
}

fn check(story: &str, real: &Outcome, sim: &Outcome, expected: &Outcome, sim_actions: &str) {
    show(story, real, sim, sim_actions);
    assert_eq!(real, expected, "{story}: the real run");
    assert_eq!(sim, expected, "{story}: the simulator");
}

/// As `check`, where any node but `not` may lead after the heal (the hardened stories in which the
/// two survivors' election is a race the story does not fix).
fn check_led_by_other(
    story: &str,
    real: &Outcome,
    sim: &Outcome,
    not: usize,
    keys: &[(String, [bool; 3])],
    sim_actions: &str,
) {
    show(story, real, sim, sim_actions);
    for (side, o) in [("the real run", real), ("the simulator", sim)] {
        assert!(
            o.leader.is_some_and(|l| l != not),
            "{story}: {side}: the leader after the heal must be a node that was not cut off, got {:?}",
            o.leader
        );
        assert_eq!(o.keys, keys, "{story}: {side}");
    }
}

const ALL: [bool; 3] = [true; 3];
const NONE: [bool; 3] = [false; 3];

/// Story 1: the old leader, isolated, keeps leading alone; the others elect a new leader, which
/// acknowledges a write (+100); on heal the old leader's term is lower and it steps down.
///
/// Hardened: the old leader steps down while isolated (it hears from no majority), not on heal.
async fn isolated_leader_steps_down(rules: Rules) {
    let real = Real::new(FAST, rules);
    let mut sim = Model::new(FAST, rules);
    let old = real.leader(&[0, 1, 2]).await;
    sim.first_leader(old);

    real.fw.isolate(old).unwrap();
    sim.act(Action::Isolate { node: old });
    let others: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    let new = real.leader(&others).await;
    sim.act(Action::Timeout { node: new });
    sim.until("new leader", 10_000, |s| {
        s.state(new) == Some(PeerState::Leader)
    });
    if rules == Rules::Nacos141 {
        assert_eq!(
            real.state(old).await.map(|s| s.0),
            Some(PeerState::Leader),
            "the isolated old leader still leads alone"
        );
        assert!(sim.leads(old));
    } else {
        real.old_leader_steps_down(old).await;
        sim.old_leader_steps_down(old);
    }

    real.put_acked(new, "new-side", 1).await;
    sim.put(new, "new-side", 1);

    real.fw.heal().unwrap();
    sim.act(Action::HealAll);
    let r = real.outcome(&["new-side"]).await;
    let s = sim.outcome(&["new-side"], FAST.beat);
    check(
        &format!(
            "1. [{rules}] isolated old leader {} steps down {} (new leader {}), {} ms",
            IPS[old],
            if rules == Rules::Nacos141 {
                "on heal"
            } else {
                "while cut"
            },
            IPS[new],
            real.ms()
        ),
        &r,
        &s,
        &Outcome {
            leader: Some(new),
            keys: vec![("new-side".into(), ALL)],
        },
        &format_actions(sim.0.actions()),
    );
}

/// Story 2 (Nacos #3652): as story 1, but the isolated old leader is sent two writes; they fail
/// (no majority) yet stay applied, and each adds 100 to its term.
///
/// Hardened: the old leader has stepped down before the writes reach it; they are refused, change
/// nothing and lift no term; after the heal a node that holds the acknowledged write leads and the
/// write is everywhere.
async fn dead_key_after_term_jumps(rules: Rules) {
    let real = Real::new(FAST, rules);
    let mut sim = Model::new(FAST, rules);
    let old = real.leader(&[0, 1, 2]).await;
    sim.first_leader(old);

    real.fw.isolate(old).unwrap();
    sim.act(Action::Isolate { node: old });
    let others: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    let new = real.leader(&others).await;
    sim.act(Action::Timeout { node: new });
    sim.until("new leader", 10_000, |s| {
        s.state(new) == Some(PeerState::Leader)
    });

    real.put_acked(new, "new-side", 1).await;
    sim.put(new, "new-side", 1);
    if rules != Rules::Nacos141 {
        real.old_leader_steps_down(old).await;
        sim.old_leader_steps_down(old);
    }
    let term_before = real.state(old).await.unwrap().1;
    for (name, i) in [("old-side-a", 2), ("old-side-b", 3)] {
        let status = real.put(old, name, i).await;
        assert_ne!(
            status, 200,
            "a write to the isolated leader cannot reach a majority"
        );
        sim.put(old, name, i);
    }
    let (told, tnew) = (
        real.state(old).await.unwrap().1,
        real.state(new).await.unwrap().1,
    );
    if rules == Rules::Nacos141 {
        assert!(
            told > tnew,
            "old leader's term {told} is above the new leader's {tnew}"
        );
    } else {
        // Alone, it still campaigns (one term per election); two writes under Nacos add 200.
        assert!(
            told < term_before + 100,
            "refused writes lift no term: the old leader's term went from {term_before} to {told}"
        );
    }

    tokio::time::sleep(DRAIN).await;
    sim.wait(DRAIN);
    real.fw.heal().unwrap();
    sim.act(Action::HealAll);
    let names = ["new-side", "old-side-a", "old-side-b"];
    let r = real.outcome(&names).await;
    let s = sim.outcome(&names, FAST.beat);
    if rules != Rules::Nacos141 {
        check_led_by_other(
            &format!(
                "2. [{rules}] Nacos #3652 fixed: old leader {} (term {told}) stepped down while cut; its writes refused; the acknowledged write at {} (term {tnew}) kept, {} ms",
                IPS[old],
                IPS[new],
                real.ms()
            ),
            &r,
            &s,
            old,
            &[
                ("new-side".into(), ALL),
                ("old-side-a".into(), NONE),
                ("old-side-b".into(), NONE),
            ],
            &format_actions(sim.0.actions()),
        );
        return;
    }
    check(
        &format!(
            "2. Nacos #3652: old leader {} (term {told}) takes the cluster back from {} (term {tnew}); the acknowledged write is deleted, {} ms",
            IPS[old],
            IPS[new],
            real.ms()
        ),
        &r,
        &s,
        &Outcome {
            leader: Some(old),
            keys: vec![
                ("new-side".into(), NONE),
                ("old-side-a".into(), ALL),
                ("old-side-b".into(), ALL),
            ],
        },
        &format_actions(sim.0.actions()),
    );
}

/// Story 3 (Nacos #785): a follower is isolated, the leader acknowledges a write (+100); alone,
/// the follower's term rises by one per election until it passes the cluster's; healed, it wins
/// and its beat deletes the write everywhere.
///
/// Hardened: its higher term does not make it leader (the others hold a newer write and refuse
/// it); a node that holds the write leads and the write is everywhere.
async fn stale_node_wins(rules: Rules) {
    let real = Real::new(QUICK, rules);
    let mut sim = Model::new(QUICK, rules);
    let leader = real.leader(&[0, 1, 2]).await;
    sim.first_leader(leader);
    let x = (leader + 1) % 3;
    real.fw.isolate(x).unwrap();
    sim.act(Action::Isolate { node: x });
    real.put_acked(leader, "written", 1).await;
    sim.put(leader, "written", 1);

    // Heal once the isolated node's term passes every other node's (by two elections, so that
    // the vote request it sends after the heal still carries the highest term).
    let others: Vec<usize> = (0..3).filter(|i| *i != x).collect();
    real.until(
        "the isolated node's term to pass the cluster's",
        Duration::from_secs(120),
        async || {
            let mut top = 0;
            for o in &others {
                top = top.max(real.state(*o).await.map_or(u64::MAX, |s| s.1));
            }
            real.state(x)
                .await
                .is_some_and(|s| s.1 > top.saturating_add(1))
        },
    )
    .await;
    sim.until(
        "the isolated node's term to pass the cluster's",
        600_000,
        |s| {
            let top = others
                .iter()
                .filter_map(|o| s.node(*o).map(|n| n.local().term))
                .max()
                .unwrap_or(0);
            s.node(x).is_some_and(|n| n.local().term > top + 1)
        },
    );
    let term_x = real.state(x).await.unwrap().1;
    real.fw.heal().unwrap();
    sim.act(Action::HealAll);
    let r = real.outcome(&["written"]).await;
    let s = sim.outcome(&["written"], QUICK.beat);
    if rules != Rules::Nacos141 {
        check_led_by_other(
            &format!(
                "3. [{rules}] Nacos #785 fixed: isolated follower {} reaches term {term_x} alone and does not win with stale data, {} ms",
                IPS[x],
                real.ms()
            ),
            &r,
            &s,
            x,
            &[("written".into(), ALL)],
            &format_actions(sim.0.actions()),
        );
        return;
    }
    check(
        &format!(
            "3. Nacos #785: isolated follower {} reaches term {term_x} alone and wins with stale data, {} ms",
            IPS[x],
            real.ms()
        ),
        &r,
        &s,
        &Outcome {
            leader: Some(x),
            keys: vec![("written".into(), NONE)],
        },
        &format_actions(sim.0.actions()),
    );
}

/// Story 4: one-way cuts. The leader's requests to both followers are dropped, theirs to it
/// pass: the followers stop hearing beats and elect a new leader (its term is higher: nothing was
/// written before), whose beats reach the old one, which steps down before any heal. The new
/// leader's write reaches the old one only after the heal (its fetch is a request it sends).
///
/// Hardened: the same outcome (the old leader steps down even earlier, when it stops hearing from
/// a majority).
async fn one_way_cut(rules: Rules) {
    let real = Real::new(FAST, rules);
    let mut sim = Model::new(FAST, rules);
    let old = real.leader(&[0, 1, 2]).await;
    sim.first_leader(old);
    for o in (0..3).filter(|o| *o != old) {
        real.fw.cut(old, o).unwrap();
        sim.act(Action::Cut {
            from: old,
            to: o,
            both: false,
        });
    }
    let others: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    let new = real.leader(&others).await;
    sim.act(Action::Timeout { node: new });
    sim.until("new leader", 10_000, |s| {
        s.state(new) == Some(PeerState::Leader)
    });
    real.until("the old leader to step down while cut", LIMIT, async || {
        real.state(old)
            .await
            .is_some_and(|s| s.0 != PeerState::Leader)
    })
    .await;
    sim.until("the old leader to step down while cut", 30_000, |s| {
        s.state(old) != Some(PeerState::Leader)
    });
    real.put_acked(new, "after", 1).await;
    sim.put(new, "after", 1);
    real.fw.heal().unwrap();
    sim.act(Action::HealAll);
    let r = real.outcome(&["after"]).await;
    let s = sim.outcome(&["after"], FAST.beat);
    check(
        &format!(
            "4. [{rules}] one-way cut {} -> others: {} elected, the old leader steps down before the heal, {} ms",
            IPS[old],
            IPS[new],
            real.ms()
        ),
        &r,
        &s,
        &Outcome {
            leader: Some(new),
            keys: vec![("after".into(), ALL)],
        },
        &format_actions(sim.0.actions()),
    );
}

fn inside(rules: Rules) {
    // Never touch the host: this must be a namespace of its own.
    netns::enter().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        isolated_leader_steps_down(rules).await;
        dead_key_after_term_jumps(rules).await;
        stale_node_wins(rules).await;
        one_way_cut(rules).await;
    });
}
