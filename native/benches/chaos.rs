//! `make chaos` (`ROUNDS=N`, default 100): a kill -9 campaign against three real release nodes.
//!
//! 32 writers run for the whole campaign: 16 write datums (`POST /nacos/v1/ns/raft/datum`), 16
//! register persistent instances (`POST /nacos/v1/ns/instance`, `ephemeral=false`, 127.x
//! addresses). Each round waits a random moment, SIGKILLs a node (the leader in every third
//! round, a random node otherwise), checks the dead node's files, restarts it from its data
//! directory and waits for a leader. After every round and at the end every write acknowledged
//! with 200 must be on the leader with its value (or a later one that was attempted); a loss is
//! reported with the protocol rule that caused it, and the simulator replays the schedule the
//! loss came from (which node led, which node was killed, which node won the next election) to
//! show the same loss. Exit code 1 on a loss without a rule or that the simulator does not
//! show, a torn or non-JSON file, a node that does not start, a file in `corrupt/`, or no leader
//! within 30 s.
//!
//! With `--faults cut` (`FAULTS=cut make chaos`) a round cuts the network between the nodes
//! instead: the campaign runs itself again inside a network namespace of its own (`unshare -n`;
//! the host's rules are never touched), the nodes on 127.0.0.11-13, and each round drops, with
//! nftables, one of: every packet between one node and the others, one node's requests to the
//! others (one way), the others' requests to it (the other way), every packet between two nodes,
//! or a share (10-50 %) of all packets between nodes. The cut holds 1-6 s while the writers go
//! on (they reach every node; only the nodes' links are cut), then it heals; the round measures
//! the time from the heal to a leader every node agrees on and checks every acknowledged write as
//! after a kill. `--faults both` picks a kill or a cut each round. At the end, with the writers
//! stopped, every node must hold what the leader holds (under rules other than Nacos'; under
//! Nacos' a difference is reported). Under Nacos' rules a loss after a cut is reported with the
//! rule the nodes' logs name (no simulator replay: the schedule is a cut, not a kill), and fails
//! the campaign only without one. Without nft or a namespace the campaign exits 2 with the
//! reason (0 with `CHAOS_SKIP_WITHOUT_NETNS=1`, as `make test`'s smoke run does).
//!
//! `cargo bench -p nacos-raft-node --bench chaos -- --rounds 100 [--seed N] [--rules hardened]
//! [--faults kill|cut|both]`

use nacos_raft_core::key;
use nacos_raft_core::sim::{parse_actions, Sim, SimConfig, TraceMode};
use nacos_raft_core::{Config, PeerState};
use nacos_raft_node::testkit::netns::{self, Firewall};
use nacos_raft_node::testkit::{free_ports, Http, NodeProc, FAST};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const WRITERS: usize = 32;
/// Keys (datum writers) or instances (registration writers) each writer cycles through: the
/// store and the instance lists stay small however long the campaign runs.
const SLOTS: u64 = 40;
const LIMIT: Duration = Duration::from_secs(30);
/// Set in the copy of the campaign that runs inside its network namespace.
const IN_NETNS: &str = "NACOS_RAFT_CHAOS_NETNS";
/// The nodes' addresses in cut campaigns (the namespace is the campaign's alone).
const CUT_IPS: [&str; 3] = ["127.0.0.11", "127.0.0.12", "127.0.0.13"];
const CUT_PORT: u16 = 8848;
/// A node cut off holds old copies until the beats after the heal bring it up to date (a beat
/// every 500 ms): a write acknowledged this long after a heal may still be lost to the cut.
const CUT_AFTERMATH: Duration = Duration::from_secs(2);

/// What a round does to the cluster.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Faults {
    Kill,
    Cut,
    Both,
}

/// One network cut of a round (node indices).
#[derive(Clone, Copy, Debug)]
enum Cut {
    /// Every packet between the node and the others.
    Isolate(usize),
    /// The node's requests to the others (one way: theirs to it and the answers pass).
    Out(usize),
    /// The others' requests to the node (one way).
    In(usize),
    /// Every packet between two nodes; the third reaches both.
    Sever(usize, usize),
    /// This share in percent of all packets between nodes, each packet on its own.
    Lossy(u32),
}

impl Cut {
    fn apply(self, fw: &Firewall) -> Result<(), String> {
        match self {
            Cut::Isolate(n) => fw.isolate(n),
            Cut::Out(n) => (0..3).filter(|o| *o != n).try_for_each(|o| fw.cut(n, o)),
            Cut::In(n) => (0..3).filter(|o| *o != n).try_for_each(|o| fw.cut(o, n)),
            Cut::Sever(a, b) => fw.sever(a, b),
            Cut::Lossy(p) => fw.lossy(p),
        }
    }

    fn describe(self, addrs: &[String]) -> String {
        match self {
            Cut::Isolate(n) => format!("isolated {}", addrs[n]),
            Cut::Out(n) => format!("cut {}'s requests out", addrs[n]),
            Cut::In(n) => format!("cut requests to {}", addrs[n]),
            Cut::Sever(a, b) => format!("severed {} from {}", addrs[a], addrs[b]),
            Cut::Lossy(p) => format!("dropped {p} % of packets"),
        }
    }

    /// Whether the cut stops `node` sending to the others (isolated, or its requests out).
    fn silences(self, node: usize) -> bool {
        matches!(self, Cut::Isolate(n) | Cut::Out(n) if n == node)
    }

    /// The node the cut is about, if one.
    fn node(self) -> Option<usize> {
        match self {
            Cut::Isolate(n) | Cut::Out(n) | Cut::In(n) => Some(n),
            Cut::Sever(..) | Cut::Lossy(_) => None,
        }
    }
}

/// A small xorshift generator: the campaign's random moments and victims, from `--seed`.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Datum,
    Registration,
}

/// One key or instance: the last acknowledged sequence number and the highest one sent.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// Sequence number, when, and through which node.
    acked: Option<(u64, Instant, usize)>,
    attempted: u64,
}

struct Writer {
    kind: Kind,
    slots: Vec<Slot>,
}

fn datum_key(w: usize, slot: u64) -> String {
    key::iplist_key("public", &format!("DEFAULT_GROUP@@chaos-d{w:02}-{slot:02}"))
}

fn service(w: usize) -> String {
    format!("chaos-r{w:02}")
}

/// The instance a registration writer's slot stands for: 127.1.<writer>.<slot + 1>.
fn slot_ip(w: usize, slot: u64) -> String {
    format!("127.1.{w}.{}", slot + 1)
}

/// A datum value: one instance whose metadata carries the sequence number.
fn datum_value(w: usize, slot: u64, seq: u64) -> String {
    format!(
        "{{\"instanceList\":[{{\"instanceId\":\"127.2.{w}.{s}#8080#DEFAULT#DEFAULT_GROUP@@chaos-d{w:02}-{slot:02}\",\"ip\":\"127.2.{w}.{s}\",\"port\":8080,\"weight\":1.0,\"healthy\":true,\"enabled\":true,\"ephemeral\":false,\"clusterName\":\"DEFAULT\",\"serviceName\":\"DEFAULT_GROUP@@chaos-d{w:02}-{slot:02}\",\"metadata\":{{\"seq\":\"{seq}\"}},\"lastBeat\":0,\"marked\":false}}]}}",
        s = slot + 1
    )
}

/// The `seq` of every instance of an `Instances` value, by ip.
fn seqs_by_ip(value: &str) -> BTreeMap<String, u64> {
    let v: serde_json::Value = serde_json::from_str(value).unwrap_or_default();
    let mut out = BTreeMap::new();
    for i in v["instanceList"].as_array().into_iter().flatten() {
        if let (Some(ip), Some(seq)) = (
            i["ip"].as_str(),
            i["metadata"]["seq"].as_str().and_then(|s| s.parse().ok()),
        ) {
            out.insert(ip.to_string(), seq);
        }
    }
    out
}

/// What the writers share with the campaign.
struct Shared {
    writers: Vec<Mutex<Writer>>,
    addrs: Vec<String>,
    stop: AtomicBool,
    start: Instant,
    acked: [AtomicU64; 2],
    failed: AtomicU64,
    /// The last leader kill (or cut that stopped it sending) and the time from it to the first
    /// write sent after it and acked.
    kill_mark: Mutex<Option<(Instant, Option<Duration>)>>,
}

async fn writer(sh: Arc<Shared>, w: usize) {
    let http = Http::new();
    let kind = sh.writers[w].lock().unwrap().kind;
    let mut node = w % sh.addrs.len();
    let mut seq = 0u64;
    while !sh.stop.load(Ordering::Relaxed) {
        seq += 1;
        let slot = seq % SLOTS;
        sh.writers[w].lock().unwrap().slots[slot as usize].attempted = seq;
        let addr = &sh.addrs[node];
        let sent = Instant::now();
        let r = match kind {
            Kind::Datum => http
                .put(addr, &datum_key(w, slot), &datum_value(w, slot, seq))
                .await
                .map(|(s, _)| s),
            Kind::Registration => {
                let path = format!(
                    "/nacos/v1/ns/instance?serviceName={}&ip={}&port=8080&ephemeral=false&metadata=%7B%22seq%22%3A%22{seq}%22%7D",
                    service(w),
                    slot_ip(w, slot)
                );
                http.request(addr, "POST", &path, &[], Vec::new())
                    .await
                    .map(|(s, _)| s)
            }
        };
        if r == Ok(200) {
            let now = Instant::now();
            sh.writers[w].lock().unwrap().slots[slot as usize].acked = Some((seq, now, node));
            sh.acked[kind as usize].fetch_add(1, Ordering::Relaxed);
            let mut mark = sh.kill_mark.lock().unwrap();
            if let Some((at, first @ None)) = mark.as_mut() {
                if sent >= *at {
                    *first = Some(now - *at);
                }
            }
        } else {
            // A refused or failed write: try the next node, as a client with a server list does.
            sh.failed.fetch_add(1, Ordering::Relaxed);
            node = (node + 1) % sh.addrs.len();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One round's fault: when, whom (a kill, or the cut), whether it led, and who led after (the
/// leader the round's check read).
struct Fault {
    round: u64,
    at: Instant,
    /// Until when it can lose a write acknowledged then: a cut's heal plus [`CUT_AFTERMATH`]; a
    /// kill's `at` (what it loses was acknowledged before).
    until: Instant,
    victim: usize,
    leader_before: usize,
    /// A cut's leader's term before it and the next leader's after the heal.
    terms: Option<(u64, u64)>,
    /// During a cut, a node other than the leader before it said it led.
    rival: bool,
    was_leader: bool,
    leader_after: usize,
    /// `None` for a kill.
    cut: Option<Cut>,
}

/// A write that was acknowledged and is not on the leader.
struct Loss {
    kind: Kind,
    what: String,
    acked_seq: u64,
    found: Option<u64>,
    rule: &'static str,
    sim: Option<bool>,
    /// Where and when it was acknowledged, and the fault after it.
    detail: String,
    /// The fault after it was a cut (no simulator replay for those).
    after_cut: bool,
}

const RULE_DEAD_KEY: &str =
    "dead-key deletion: the next leader never had the key, its beat deleted it everywhere";
const RULE_STALE_LEADER: &str =
    "votes ignore data: the next leader had an older version and kept it";
const RULE_STALE_LIST: &str = "instance list rewritten from a copy that missed the registration";
const RULE_TERM_JUMP: &str = "Nacos #3652: another node led while the leader was cut off; after the heal the old leader, its term raised by 100 per write, led again with its older copy";
const RULE_UNEXPLAINED: &str = "UNEXPLAINED";

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    Some(sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{} ms", d.as_millis()))
}

/// Every file of a data directory that must be whole: `meta.properties` is `term=N`, the hardened
/// rules' `position` two numbers, their `tombstones` whole lines, every datum file is JSON with a `key` and a `value`. Temporary `.tmp` siblings (a write the kill
/// interrupted before its rename) are counted, not judged: the loader deletes them.
fn check_files(dir: &Path, problems: &mut Vec<String>, temps: &mut u64) {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let rel = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        if rel.starts_with("corrupt") {
            problems.push(format!("{}: a file in corrupt/", f.display()));
            continue;
        }
        if name.starts_with('.') && name.ends_with(".tmp") {
            *temps += 1;
            continue;
        }
        // The data directory's lock (pid and address, not JSON), left behind by a kill.
        if rel == nacos_raft_node::store::LOCK_FILE {
            continue;
        }
        // The hardened rules' write-ahead log (binary records; checked by replaying it: the
        // restarted node's datums are compared with the acknowledged writes).
        if rel == nacos_raft_node::wal::WAL_FILE || rel == nacos_raft_node::wal::WAL_FILE_2 {
            continue;
        }
        // The hardened rules' spare file: the next write's content, written before the exchange
        // that names it (a kill can leave it torn); no name points at it and nothing reads it.
        if rel == nacos_raft_node::store::SPARE_FILE {
            continue;
        }
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{}: unreadable: {e}", f.display()));
                continue;
            }
        };
        if name == "meta.properties" {
            let ok = text.lines().any(|l| {
                l.strip_prefix("term=")
                    .is_some_and(|t| t.trim().parse::<u64>().is_ok())
            });
            if !ok {
                problems.push(format!("{}: no term=N line: {text:?}", f.display()));
            }
            continue;
        }
        // The hardened log position (`--rules hardened`): two numbers, whole after any kill.
        if rel == nacos_raft_node::store::POSITION_FILE {
            if let Err(e) = nacos_raft_node::store::parse_position(&text) {
                problems.push(format!("{}: {e}", f.display()));
            }
            continue;
        }
        // The hardened tombstones: appended lines, a torn last one is a delete that was never
        // acknowledged (the loader reads the whole lines).
        if rel == nacos_raft_node::store::TOMBSTONES_FILE {
            if let Err(e) = nacos_raft_node::store::parse_tombstones(&text) {
                problems.push(format!("{}: {e}", f.display()));
            }
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) if v.get("key").is_some() && v.get("value").is_some() => {}
            Ok(_) => problems.push(format!("{}: JSON without key/value", f.display())),
            Err(e) => problems.push(format!("{}: torn or not JSON: {e}", f.display())),
        }
    }
}

/// The simulator's replay of the schedule a loss came from: `leader` leads, a write reaches
/// it and `other` but not `winner` (a one-way cut, as a publish still on its way when the
/// leader died), `leader` is killed and restarted, `winner` times out first. `older` first
/// writes a version every node has (the stale-leader case). True when the simulator's final
/// leader is `winner` and it lacks the acknowledged version, as in the real run.
fn sim_reproduces(leader: usize, winner: usize, older: bool) -> Result<bool, String> {
    let k = datum_key(0, 0);
    let enc = |s: &str| {
        let mut o = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~@".contains(&b) {
                o.push(b as char);
            } else {
                o.push_str(&format!("%{b:02X}"));
            }
        }
        o
    };
    let (v1, v2) = (enc(&datum_value(0, 0, 1)), enc(&datum_value(0, 0, 2)));
    let kk = enc(&k);
    let mut acts = format!("100:timeout:{leader}");
    if older {
        acts += &format!(",2000:put:{leader}:{kk}:{v1}");
    }
    acts += &format!(
        ",3000:cut:{leader}-{winner},3010:put:{leader}:{kk}:{v2},3100:crash:{leader},3100:heal:{leader}-{winner},3110:timeout:{winner},3300:restart:{leader}"
    );
    let actions = parse_actions(&acts).map_err(|e| e.to_string())?;
    let cfg = SimConfig {
        nodes: 3,
        trace: TraceMode::Off,
        // The nodes' timings (FAST: Nacos' ÷ 10) and publish timeout.
        timings: Config {
            tick_ms: 50,
            leader_timeout_ms: 1_500,
            random_ms: 500,
            heartbeat_ms: 500,
            publish_timeout_ms: 3_000,
            ..Config::default()
        },
        ..SimConfig::default()
    };
    let sim = Sim::replay(cfg, &actions, 20_000)?;
    let Some(l) = sim.cluster_leader() else {
        return Ok(false);
    };
    let has_v2 = sim
        .node(l)
        .and_then(|n| n.datum(&k))
        .and_then(|d| d.value.as_ref())
        .is_some_and(|v| seqs_by_ip(v.as_str()).values().any(|s| *s == 2));
    Ok(l == winner && !has_v2)
}

struct Campaign {
    http: Http,
    nodes: Vec<NodeProc>,
    sh: Arc<Shared>,
    faults: Vec<Fault>,
    losses: Vec<Loss>,
    problems: Vec<String>,
    temps: u64,
    first_write: Vec<Duration>,
    /// The same after each cut that stopped the leader sending (isolated, requests dropped).
    first_write_cut: Vec<Duration>,
    /// After those cuts: from the cut until another node said it led (sampled every 200 ms).
    elected_cut: Vec<Duration>,
    /// From each heal to a leader every node agrees on.
    heal_leader: Vec<Duration>,
    /// The cut rounds' rules (`None`: a kill-only campaign, outside any namespace).
    fw: Option<Firewall>,
    /// Keys on which a node differs from the leader at the end, after the writers stopped.
    differ_at_end: Option<usize>,
    /// Slots already reported lost, with the value found then (a later loss is a new one).
    reported: BTreeMap<(usize, u64), Option<u64>>,
}

impl Campaign {
    async fn wait_up(&mut self, i: usize) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < LIMIT {
            if !self.nodes[i].running() {
                return Err(format!(
                    "node {} exited at start-up ({:?})",
                    self.sh.addrs[i],
                    self.nodes[i].exit_status()
                ));
            }
            if self.http.peer(&self.sh.addrs[i]).await.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "node {} did not answer within 30 s",
            self.sh.addrs[i]
        ))
    }

    async fn wait_leader(&self) -> Option<usize> {
        let start = Instant::now();
        while start.elapsed() < LIMIT {
            if let Some(l) = self.http.agreed_leader(&self.sh.addrs).await {
                return self.sh.addrs.iter().position(|a| *a == l);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// The first fault after `acked_at`, or a cut still holding then, that can lose a write
    /// acknowledged at that moment: a kill of the leader, or any cut.
    fn fault_after(&self, acked_at: Instant) -> Option<&Fault> {
        self.faults
            .iter()
            .find(|f| f.until >= acked_at && (f.was_leader || f.cut.is_some()))
    }

    /// The rule behind a loss of `(w, slot)` acknowledged at `acked_at`, and the schedule for
    /// the simulator to replay (kills only), from the first fault after the acknowledgement.
    fn explain(
        &self,
        kind: Kind,
        key: &str,
        acked_at: Instant,
        found: Option<u64>,
    ) -> (&'static str, Option<(usize, usize, bool)>) {
        let fault = self.fault_after(acked_at);
        // A cut's schedule is not the kill the simulator replays: the rule alone.
        let kill = fault.filter(|f| f.cut.is_none());
        if let Some(f) = fault.filter(|f| f.cut.is_some()) {
            let logged_dead = self
                .nodes
                .iter()
                .any(|n| n.log_text().contains(&format!("deletes {key}: ")));
            let new_leader = f.leader_after != f.leader_before;
            let term_jump = !new_leader && f.rival && f.terms.is_some_and(|(b, a)| a >= b + 100);
            return match (kind, found) {
                (Kind::Datum, None) if logged_dead => (RULE_DEAD_KEY, None),
                (_, Some(_)) if term_jump => (RULE_TERM_JUMP, None),
                (Kind::Datum, Some(_)) if new_leader => (RULE_STALE_LEADER, None),
                (Kind::Registration, _) if new_leader && (logged_dead || found.is_some()) => {
                    (RULE_STALE_LEADER, None)
                }
                // A registration at a node the leader's publishes did not reach builds the new
                // list from its own old copy (Nacos' `addInstance`), which the leader then
                // publishes whole.
                (Kind::Registration, _) => (RULE_STALE_LIST, None),
                _ => (RULE_UNEXPLAINED, None),
            };
        }
        let logged_dead = self
            .nodes
            .iter()
            .any(|n| n.log_text().contains(&format!("deletes {key}: ")));
        match (kind, found, kill) {
            (Kind::Datum, None, Some(k)) if logged_dead => {
                (RULE_DEAD_KEY, Some((k.victim, k.leader_after, false)))
            }
            (Kind::Datum, Some(_), Some(k)) => {
                (RULE_STALE_LEADER, Some((k.victim, k.leader_after, true)))
            }
            (Kind::Registration, _, Some(k)) if logged_dead || found.is_some() => {
                (RULE_STALE_LEADER, Some((k.victim, k.leader_after, true)))
            }
            (Kind::Registration, _, _) => (RULE_STALE_LIST, None),
            _ => (RULE_UNEXPLAINED, None),
        }
    }

    fn detail(&self, acked_at: Instant, via: usize) -> String {
        let t = |i: Instant| i.duration_since(self.sh.start).as_secs_f64();
        let kill =
            self.fault_after(acked_at)
                .map_or("no leader kill or cut after it".into(), |k| {
                    let what = match k.cut {
                        Some(cut) => format!(
                            "{} from +{:.1} s, healed at +{:.1} s",
                            cut.describe(&self.sh.addrs),
                            t(k.at),
                            t(k.until - CUT_AFTERMATH)
                        ),
                        None => format!(
                            "leader {} killed at +{:.1} s",
                            self.sh.addrs[k.victim],
                            t(k.at)
                        ),
                    };
                    format!(
                        "round {}: {what}, leader after: {}",
                        k.round, self.sh.addrs[k.leader_after]
                    )
                });
        format!(
            "acknowledged through {} at +{:.1} s; {kill}",
            self.sh.addrs[via],
            t(acked_at)
        )
    }

    /// Every key the writers write, for the check that the nodes agree.
    fn all_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for (w, writer) in self.sh.writers.iter().enumerate() {
            match writer.lock().unwrap().kind {
                Kind::Datum => keys.extend((0..SLOTS).map(|s| datum_key(w, s))),
                Kind::Registration => keys.push(key::iplist_key(
                    "public",
                    &format!("DEFAULT_GROUP@@{}", service(w)),
                )),
            }
        }
        keys
    }

    /// With the writers stopped: waits (at most 30 s) until every node holds what `leader`
    /// holds, key by key (datum and version); the number of keys on which some node still
    /// differs.
    async fn converge(&self, leader: usize) -> usize {
        let keys = self.all_keys();
        let start = Instant::now();
        loop {
            let mut differ = keys.len();
            if let Some(want) = self.http.datums(&self.sh.addrs[leader], &keys).await {
                let mut bad = vec![false; keys.len()];
                for a in &self.sh.addrs {
                    match self.http.datums(a, &keys).await {
                        Some(got) => {
                            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                                bad[i] |= g != w;
                            }
                        }
                        None => bad.iter_mut().for_each(|b| *b = true),
                    }
                }
                differ = bad.iter().filter(|b| **b).count();
            }
            if differ == 0 || start.elapsed() >= LIMIT {
                return differ;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every acknowledged write against what `leader` holds.
    async fn verify(&mut self, leader: usize) -> Result<(), String> {
        let addr = self.sh.addrs[leader].clone();
        // What was acknowledged before the read: anything acknowledged later may or may not be
        // in it.
        let snapshot: Vec<(Kind, Vec<Slot>)> = self
            .sh
            .writers
            .iter()
            .map(|w| {
                let w = w.lock().unwrap();
                (w.kind, w.slots.clone())
            })
            .collect();
        for (w, (kind, slots)) in snapshot.iter().enumerate() {
            let (key, found): (String, BTreeMap<u64, Option<u64>>) = match kind {
                Kind::Datum => {
                    let keys: Vec<String> = (0..SLOTS).map(|s| datum_key(w, s)).collect();
                    let got = self
                        .http
                        .datums(&addr, &keys)
                        .await
                        .ok_or_else(|| format!("reading datums from the leader {addr}"))?;
                    let found = got
                        .iter()
                        .enumerate()
                        .map(|(s, d)| {
                            let seq = d
                                .as_ref()
                                .and_then(|d| d.value.as_ref())
                                .and_then(|v| seqs_by_ip(v.as_str()).values().next().copied());
                            (s as u64, seq)
                        })
                        .collect();
                    (String::new(), found)
                }
                Kind::Registration => {
                    let k = key::iplist_key("public", &format!("DEFAULT_GROUP@@{}", service(w)));
                    let got = self
                        .http
                        .datums(&addr, std::slice::from_ref(&k))
                        .await
                        .ok_or_else(|| format!("reading {k} from the leader {addr}"))?;
                    let by_ip = got
                        .first()
                        .and_then(|d| d.as_ref())
                        .and_then(|d| d.value.as_ref())
                        .map(|v| seqs_by_ip(v.as_str()))
                        .unwrap_or_default();
                    let found = (0..SLOTS)
                        .map(|s| (s, by_ip.get(&slot_ip(w, s)).copied()))
                        .collect();
                    (k, found)
                }
            };
            // What was sent by now: the read may show anything sent before it answered.
            let sent: Vec<u64> = self.sh.writers[w]
                .lock()
                .unwrap()
                .slots
                .iter()
                .map(|s| s.attempted)
                .collect();
            for (s, slot) in slots.iter().enumerate() {
                let Some((acked, acked_at, via)) = slot.acked else {
                    continue;
                };
                let f = found.get(&(s as u64)).copied().flatten();
                if f.is_some_and(|f| f >= acked && f <= sent[s]) {
                    continue;
                }
                if f.is_some_and(|f| f > sent[s]) {
                    return Err(format!(
                        "writer {w} slot {s}: the leader has seq {f:?}, never sent"
                    ));
                }
                if self.reported.get(&(w, s as u64)) == Some(&f) {
                    continue;
                }
                self.reported.insert((w, s as u64), f);
                let what = match kind {
                    Kind::Datum => datum_key(w, s as u64),
                    Kind::Registration => format!("{} {}", service(w), slot_ip(w, s as u64)),
                };
                let k = if key.is_empty() {
                    what.clone()
                } else {
                    key.clone()
                };
                let (rule, schedule) = self.explain(*kind, &k, acked_at, f);
                let after_cut = self.fault_after(acked_at).is_some_and(|f| f.cut.is_some());
                let sim = match schedule {
                    Some((l, b, older)) => Some(sim_reproduces(l, b, older)?),
                    None => None,
                };
                self.losses.push(Loss {
                    kind: *kind,
                    what,
                    acked_seq: acked,
                    found: f,
                    rule,
                    sim,
                    detail: self.detail(acked_at, via),
                    after_cut,
                });
            }
        }
        Ok(())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let mut rounds = 100u64;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut rules = String::from("nacos");
    let mut faults = Faults::Kill;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> u64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("chaos: {name} needs a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--rounds" => rounds = num("--rounds").max(1),
            "--seed" => seed = num("--seed"),
            // Passed to every node as `--rules` (nacos, hardened, fix+fix); the node checks it.
            "--rules" => {
                rules = args.next().unwrap_or_else(|| {
                    eprintln!("chaos: --rules needs a rule set (nacos, hardened, fix+fix)");
                    std::process::exit(2)
                })
            }
            "--faults" => {
                faults = match args.next().as_deref() {
                    Some("kill") => Faults::Kill,
                    Some("cut") => Faults::Cut,
                    Some("both") => Faults::Both,
                    other => {
                        eprintln!("chaos: --faults takes kill, cut or both, not {other:?}");
                        std::process::exit(2)
                    }
                }
            }
            // `cargo bench` passes `--bench` to every harness=false target.
            "--bench" => {}
            other => {
                eprintln!("chaos: unknown argument {other:?} (--rounds N, --seed N, --rules R, --faults kill|cut|both)");
                std::process::exit(2)
            }
        }
    }
    if faults != Faults::Kill && std::env::var_os(IN_NETNS).is_none() {
        std::process::exit(in_a_namespace());
    }
    std::process::exit(run(rounds, seed, &rules, faults).await);
}

/// Runs this campaign again, same arguments, inside a network namespace of its own; its exit
/// code.
fn in_a_namespace() -> i32 {
    let flags = match netns::unshare_flags() {
        Ok(f) => f,
        Err(why) if std::env::var_os("CHAOS_SKIP_WITHOUT_NETNS").is_some() => {
            println!("chaos: cut campaign SKIPPED: {why}");
            return 0;
        }
        Err(why) => {
            eprintln!("chaos: cut rounds need a network namespace with nftables: {why}");
            return 2;
        }
    };
    let exe = std::env::current_exe().expect("the campaign's own binary");
    let status = std::process::Command::new("unshare")
        .args(flags)
        .arg("--")
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(IN_NETNS, "1")
        .status();
    match status {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("chaos: running unshare: {e}");
            2
        }
    }
}

async fn run(rounds: u64, seed: u64, rules: &str, faults: Faults) -> i32 {
    let base = std::env::temp_dir().join(format!("nacos-raft-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let fw = if faults == Faults::Kill {
        None
    } else {
        match netns::enter().and_then(|()| Firewall::new(&CUT_IPS, CUT_PORT)) {
            Ok(fw) => Some(fw),
            Err(e) => {
                eprintln!("chaos: {e}");
                return 2;
            }
        }
    };
    // In a namespace each node has an address of its own, which the cuts name; on the host,
    // free ports of 127.0.0.1.
    let (addrs, ips): (Vec<String>, Vec<Option<&str>>) = if fw.is_some() {
        CUT_IPS
            .iter()
            .map(|ip| (format!("{ip}:{CUT_PORT}"), Some(*ip)))
            .unzip()
    } else {
        free_ports(3)
            .iter()
            .map(|p| (format!("127.0.0.1:{p}"), None))
            .unzip()
    };
    let mut args: Vec<String> = vec!["--members".into(), addrs.join(",")];
    args.extend(FAST.iter().map(|s| s.to_string()));
    // The campaign is about the Raft: no health-check connections to the 127.x instances.
    args.extend(["--health-check", "none", "--publish-timeout-ms", "3000"].map(String::from));
    args.extend(["--rules".to_string(), rules.to_string()]);
    let nodes: Vec<NodeProc> = addrs
        .iter()
        .zip(&ips)
        .map(|(a, ip)| {
            let mut args = args.clone();
            if let Some(ip) = ip {
                // Peer requests leave from the node's own address, so that a cut names them.
                args.extend(["--listen", a, "--source-ip", ip].map(String::from));
            }
            let name = a.replace(':', "-");
            NodeProc::new(
                Path::new(BIN),
                a,
                base.join(&name),
                base.join(format!("{name}.log")),
                args,
            )
        })
        .collect();
    let sh = Arc::new(Shared {
        writers: (0..WRITERS)
            .map(|w| {
                Mutex::new(Writer {
                    kind: if w % 2 == 0 {
                        Kind::Datum
                    } else {
                        Kind::Registration
                    },
                    slots: vec![Slot::default(); SLOTS as usize],
                })
            })
            .collect(),
        addrs: addrs.clone(),
        stop: AtomicBool::new(false),
        start: Instant::now(),
        acked: [AtomicU64::new(0), AtomicU64::new(0)],
        failed: AtomicU64::new(0),
        kill_mark: Mutex::new(None),
    });
    let mut c = Campaign {
        http: Http::new(),
        nodes,
        sh: sh.clone(),
        faults: Vec::new(),
        losses: Vec::new(),
        problems: Vec::new(),
        temps: 0,
        first_write: Vec::new(),
        first_write_cut: Vec::new(),
        elected_cut: Vec::new(),
        heal_leader: Vec::new(),
        fw,
        differ_at_end: None,
        reported: BTreeMap::new(),
    };
    println!(
        "chaos: {rounds} rounds ({}), 3 release nodes ({}, rules {rules}), {WRITERS} writers, seed {seed}, data in {}",
        match faults {
            Faults::Kill => "kill -9",
            Faults::Cut => "network cuts, in a namespace of its own",
            Faults::Both => "kill -9 or a network cut, in a namespace of its own",
        },
        addrs.join(" "),
        base.display()
    );
    for n in &mut c.nodes {
        n.start();
    }
    let mut code = campaign(&mut c, rounds, seed, faults).await;
    // Under other rules than Nacos' no acknowledged write may be lost at all: a loss the
    // faithful simulator explains is still a failure of the fixes.
    if rules != "nacos" && !c.losses.is_empty() {
        eprintln!(
            "chaos: FAILED: {} acknowledged writes lost under --rules {rules}",
            c.losses.len()
        );
        code = 1;
    }
    // Nacos' followers keep a version newer than their leader's, so under its rules the nodes
    // may end apart (reported); under the fixes they must not.
    if let Some(d) = c.differ_at_end.filter(|d| *d > 0 && rules != "nacos") {
        eprintln!("chaos: FAILED: the nodes still differ on {d} keys 30 s after the writers stopped, under --rules {rules}");
        code = 1;
    }
    sh.stop.store(true, Ordering::Relaxed);
    for n in &mut c.nodes {
        n.kill();
    }
    if code == 0 && c.losses.is_empty() {
        let _ = std::fs::remove_dir_all(&base);
    } else {
        eprintln!("chaos: data and logs kept in {}", base.display());
        // NodeProc's drop would not run on exit: the logs are kept on purpose (a failure or a
        // loss to trace).
    }
    code
}

async fn campaign(c: &mut Campaign, rounds: u64, seed: u64, faults: Faults) -> i32 {
    // Xorshift needs a state other than zero.
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let started = Instant::now();
    let Some(mut leader) = c.wait_leader().await else {
        eprintln!("chaos: no first leader within 30 s\n");
        return 1;
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(c.sh.clone(), w)))
        .collect();
    // A monitor: the longest time no running node says it leads (sampled every 50 ms).
    let gap = Arc::new(Mutex::new((Duration::ZERO, None::<Instant>)));
    let monitor = {
        let (sh, gap) = (c.sh.clone(), gap.clone());
        tokio::spawn(async move {
            let http = Http::new();
            while !sh.stop.load(Ordering::Relaxed) {
                let mut leads = false;
                for a in &sh.addrs {
                    if http
                        .peer(a)
                        .await
                        .is_some_and(|p| p.state == PeerState::Leader)
                    {
                        leads = true;
                        break;
                    }
                }
                let now = Instant::now();
                {
                    let mut g = gap.lock().unwrap();
                    match (leads, g.1) {
                        (true, Some(since)) => {
                            g.0 = g.0.max(now - since);
                            g.1 = None;
                        }
                        (false, None) => g.1 = Some(now),
                        _ => {}
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut failure = None;
    for r in 1..=rounds {
        tokio::time::sleep(Duration::from_millis(500 + rng.below(2500))).await;
        let current = match c.http.agreed_leader(&c.sh.addrs).await {
            Some(l) => c.sh.addrs.iter().position(|a| *a == l).unwrap_or(leader),
            None => leader,
        };
        let victim = if r % 3 == 1 {
            current
        } else {
            rng.below(3) as usize
        };
        let cut_round = match faults {
            Faults::Kill => false,
            Faults::Cut => true,
            Faults::Both => rng.below(2) == 1,
        };
        let at = Instant::now();
        let mut until = at;
        let mut terms = None;
        // When a node other than the leader first said it led, from the cut.
        let mut rival_after = None;
        let (was_leader, cut, mut what) = if let (true, Some(fw)) = (cut_round, c.fw.as_ref()) {
            let cut = match rng.below(5) {
                0 => Cut::Isolate(victim),
                1 => Cut::Out(victim),
                2 => Cut::In(victim),
                3 => Cut::Sever(victim, (victim + 1 + rng.below(2) as usize) % 3),
                _ => Cut::Lossy(10 + rng.below(41) as u32),
            };
            let held = Duration::from_millis(1000 + rng.below(5000));
            let term_before = c.http.peer(&c.sh.addrs[current]).await.map(|p| p.term);
            if let Err(e) = cut.apply(fw) {
                failure = Some(format!("round {r}: {e}"));
                break;
            }
            // From the moment every rule is in: writes sent before it may still get through.
            let cut_at = Instant::now();
            if cut.silences(current) {
                *c.sh.kill_mark.lock().unwrap() = Some((cut_at, None));
            }
            // The writers' and this process's packets are not cut: who leads meanwhile.
            let until_heal = Instant::now() + held;
            while Instant::now() < until_heal {
                for (i, a) in c.sh.addrs.iter().enumerate() {
                    if i != current
                        && c.http
                            .peer(a)
                            .await
                            .is_some_and(|p| p.state == PeerState::Leader)
                    {
                        rival_after.get_or_insert(cut_at.elapsed());
                    }
                }
                tokio::time::sleep(
                    Duration::from_millis(200)
                        .min(until_heal.saturating_duration_since(Instant::now())),
                )
                .await;
            }
            if let Err(e) = fw.heal() {
                failure = Some(format!("round {r}: {e}"));
                break;
            }
            let healed = Instant::now();
            until = healed + CUT_AFTERMATH;
            let Some(l) = c.wait_leader().await else {
                failure = Some(format!(
                    "round {r}: no leader all nodes agree on within 30 s of the heal"
                ));
                break;
            };
            c.heal_leader.push(healed.elapsed());
            leader = l;
            let term_after = c.http.peer(&c.sh.addrs[l]).await.map(|p| p.term);
            terms = term_before.zip(term_after);
            let touches_leader = match cut {
                Cut::Sever(a, b) => a == current || b == current,
                other => other.node() == Some(current),
            };
            let mut what = format!(
                "{}{} for {:>4} ms",
                cut.describe(&c.sh.addrs),
                if touches_leader { " (leader)" } else { "" },
                held.as_millis()
            );
            if let (true, Some(e)) = (touches_leader, rival_after) {
                what += &format!(", another leader {} ms after the cut", e.as_millis());
            }
            (touches_leader, Some(cut), what)
        } else {
            let was_leader = victim == current;
            c.nodes[victim].kill();
            if was_leader {
                *c.sh.kill_mark.lock().unwrap() = Some((at, None));
            }
            // The dead node's directory is exactly what the kill left.
            let before = c.problems.len();
            check_files(&c.nodes[victim].data_dir, &mut c.problems, &mut c.temps);
            if c.problems.len() > before {
                failure = Some(format!(
                    "round {r}: files of {} after the kill",
                    c.sh.addrs[victim]
                ));
                break;
            }
            let down = Duration::from_millis(rng.below(2000));
            tokio::time::sleep(down).await;
            c.nodes[victim].start();
            if let Err(e) = c.wait_up(victim).await {
                failure = Some(format!("round {r}: {e}"));
                break;
            }
            let Some(l) = c.wait_leader().await else {
                failure = Some(format!(
                    "round {r}: no leader all nodes agree on within 30 s"
                ));
                break;
            };
            leader = l;
            let what = format!(
                "killed {}{} down {:>4} ms",
                c.sh.addrs[victim],
                if was_leader { " (leader)" } else { "         " },
                down.as_millis()
            );
            (was_leader, None, what)
        };
        c.faults.push(Fault {
            round: r,
            at,
            until,
            victim,
            leader_before: current,
            terms,
            rival: rival_after.is_some(),
            was_leader,
            leader_after: leader,
            cut,
        });
        // Two beats, so that dead-key deletions and syncs of the new term have happened.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        // A leader killed, or cut off from sending (isolated, or its requests dropped).
        let stops_leader = match cut {
            None => was_leader,
            Some(cut) => cut.silences(current),
        };
        if stops_leader {
            // Measured before the next round, however long it takes (at most 30 s).
            let mut first = None;
            let wait = Instant::now();
            while first.is_none() && wait.elapsed() < LIMIT {
                first = c.sh.kill_mark.lock().unwrap().and_then(|m| m.1);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            c.sh.kill_mark.lock().unwrap().take();
            if let Some(d) = first {
                what += &format!(", first write {} ms after", d.as_millis());
            }
            match first {
                Some(d) if cut.is_some() => {
                    c.first_write_cut.push(d);
                    if let Some(e) = rival_after {
                        c.elected_cut.push(e);
                    }
                }
                Some(d) => c.first_write.push(d),
                None => {
                    failure = Some(format!(
                        "round {r}: no write accepted within 30 s of the restart or heal"
                    ));
                    break;
                }
            }
        }
        let verified = match c.wait_leader().await {
            Some(l) => {
                // The leader the check reads from is the one that won: the first one agreed on
                // may have been the restarted node leading alone for a moment in term 1 (its
                // refused votes still name it, Nacos' `decideLeader` counts them).
                leader = l;
                if let Some(k) = c.faults.last_mut() {
                    k.leader_after = l;
                }
                c.verify(l).await
            }
            None => Err("no leader to verify against".into()),
        };
        if let Err(e) = verified {
            failure = Some(format!("round {r}: {e}"));
            break;
        }
        for n in &c.nodes {
            if n.data_dir.join("corrupt").exists() {
                c.problems
                    .push(format!("{}: corrupt/ exists", n.data_dir.display()));
            }
        }
        if !c.problems.is_empty() {
            failure = Some(format!("round {r}: files"));
            break;
        }
        println!(
            "round {r:>3}/{rounds}: {what}, leader now {} | acked {} datums {} registrations, lost {} | {:.0} s",
            c.sh.addrs[leader],
            c.sh.acked[0].load(Ordering::Relaxed),
            c.sh.acked[1].load(Ordering::Relaxed),
            c.losses.len(),
            started.elapsed().as_secs_f64()
        );
    }
    c.sh.stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    let _ = monitor.await;
    if failure.is_none() {
        // The end: settled, checked once more, then every directory after a kill of all.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        match c.wait_leader().await {
            Some(l) => {
                if let Err(e) = c.verify(l).await {
                    failure = Some(format!("final check: {e}"));
                }
                c.differ_at_end = Some(c.converge(l).await);
            }
            None => failure = Some("final check: no leader".into()),
        }
        for n in &mut c.nodes {
            n.kill();
        }
        for i in 0..c.nodes.len() {
            let dir = c.nodes[i].data_dir.clone();
            check_files(&dir, &mut c.problems, &mut c.temps);
        }
    }
    report(c, gap.lock().unwrap().0, started.elapsed());
    let unexplained = c
        .losses
        .iter()
        .filter(|l| l.rule == RULE_UNEXPLAINED)
        .count();
    // The simulator has no naming layer: a rule it cannot replay stays unconfirmed too. After a
    // cut there is no replay (the rule is the one the logs name).
    let unreproduced = c
        .losses
        .iter()
        .filter(|l| l.rule != RULE_UNEXPLAINED && !l.after_cut && l.sim != Some(true))
        .count();
    if let Some(f) = &failure {
        eprintln!("chaos: FAILED: {f}");
    }
    for p in &c.problems {
        eprintln!("chaos: {p}");
    }
    // A rule is only an explanation when the simulator, replaying the schedule, loses the
    // write too.
    if failure.is_some() || !c.problems.is_empty() || unexplained > 0 || unreproduced > 0 {
        eprintln!("chaos: FAILED ({unexplained} losses without a rule, {unreproduced} whose rule the simulator did not show)");
        return 1;
    }
    let after_cut = c.losses.iter().filter(|l| l.after_cut).count();
    if c.losses.is_empty() {
        println!("chaos: passed (no acknowledged write lost)");
    } else {
        println!(
            "chaos: passed ({} losses: {} after kills, each named and shown by the simulator; {after_cut} after cuts, each named by the nodes' logs or the kind of write)",
            c.losses.len(),
            c.losses.len() - after_cut
        );
    }
    0
}

/// A report row: the p50, p99 and max of `times`, and how many.
fn spread_row(what: &str, times: &[Duration], unit: &str) {
    let mut t = times.to_vec();
    t.sort();
    println!(
        "| {what} | p50 {}, p99 {}, max {} ({} {unit}) |",
        ms(percentile(&t, 0.5)),
        ms(percentile(&t, 0.99)),
        ms(t.last().copied()),
        t.len()
    );
}

fn report(c: &Campaign, max_gap: Duration, took: Duration) {
    let kills: Vec<&Fault> = c.faults.iter().filter(|f| f.cut.is_none()).collect();
    let cuts = c.faults.len() - kills.len();
    let leader_kills = kills.iter().filter(|k| k.was_leader).count();
    let mut fw = c.first_write.clone();
    fw.sort();
    let datums = c.sh.acked[0].load(Ordering::Relaxed);
    let regs = c.sh.acked[1].load(Ordering::Relaxed);
    println!();
    let title = match (kills.is_empty(), cuts) {
        (_, 0) => "kill -9 campaign",
        (true, _) => "network cut campaign",
        (false, _) => "kill -9 and network cut campaign",
    };
    println!("| {title} | |");
    println!("|---|---|");
    println!(
        "| rounds | {} ({} kills, {} of the leader; {cuts} cuts), {:.0} s |",
        c.faults.len(),
        kills.len(),
        leader_kills,
        took.as_secs_f64()
    );
    println!(
        "| writes acknowledged | {} ({datums} datums, {regs} registrations) |",
        datums + regs
    );
    println!(
        "| writes refused or failed (retried elsewhere) | {} |",
        c.sh.failed.load(Ordering::Relaxed)
    );
    // Per rule and kind: lost after a kill, of those shown by the simulator, lost after a cut.
    let mut by_rule: BTreeMap<(&str, Kind), (usize, usize, usize)> = BTreeMap::new();
    for l in &c.losses {
        let e = by_rule.entry((l.rule, l.kind)).or_default();
        if l.after_cut {
            e.2 += 1;
        } else {
            e.0 += 1;
            e.1 += usize::from(l.sim == Some(true));
        }
    }
    if by_rule.is_empty() {
        println!("| acknowledged writes lost | 0 |");
    }
    for ((rule, kind), (killed, sim, cut)) in &by_rule {
        let mut how = Vec::new();
        if *killed > 0 {
            how.push(format!("{killed} after kills, simulator shows it: {sim}"));
        }
        if *cut > 0 {
            how.push(format!("{cut} after cuts, the rule from the logs"));
        }
        println!(
            "| lost ({kind:?}): {rule} | {} ({}) |",
            killed + cut,
            how.join("; ")
        );
    }
    println!("| max time without a leader | {} ms |", max_gap.as_millis());
    if !kills.is_empty() {
        println!(
            "| first accepted write after a leader kill | p50 {}, p99 {} ({} kills) |",
            ms(percentile(&fw, 0.5)),
            ms(percentile(&fw, 0.99)),
            fw.len()
        );
    }
    if cuts > 0 {
        spread_row(
            "first accepted write after the leader was cut off (isolated or its requests dropped)",
            &c.first_write_cut,
            "cuts",
        );
        spread_row(
            "another node leading after the leader was cut off (polled every 200 ms)",
            &c.elected_cut,
            "cuts",
        );
        spread_row(
            "leader every node agrees on after a heal",
            &c.heal_leader,
            "heals",
        );
    }
    match c.differ_at_end {
        Some(0) => println!("| nodes holding what the leader holds at the end | all, every key |"),
        Some(d) => println!(
            "| nodes holding what the leader holds at the end | NO: {d} keys differ 30 s after the writers stopped |"
        ),
        None => {}
    }
    if !kills.is_empty() {
        println!(
            "| temporary files left by kills (removed at start) | {} |",
            c.temps
        );
    }
    println!(
        "| torn or non-JSON files, files in corrupt/ | {} |",
        c.problems.len()
    );
    // A few of each kind of loss.
    let mut shown: BTreeMap<(&str, Kind), usize> = BTreeMap::new();
    for l in &c.losses {
        let n = shown.entry((l.rule, l.kind)).or_default();
        *n += 1;
        if *n > 5 {
            continue;
        }
        println!(
            "lost: {} seq {} acknowledged, leader has {:?} — {}\n      {}",
            l.what, l.acked_seq, l.found, l.rule, l.detail
        );
    }
}
