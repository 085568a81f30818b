//! `make bench-vs-etcd` (`scripts/bench-vs-etcd.sh`): real nacos-raft nodes side by side with
//! etcd 3.4 in the same run, 3 members each on loopback, both fsync'ing every acknowledged write.
//!
//! 1. **Writes**: [wrk](https://github.com/wg/wrk) with one Lua script for both systems
//!    (`vs_etcd/writes.lua`), a new key per request (or, with `--keys N`, N keys overwritten
//!    over and over, as re-registrations of services do) and the same ~300-byte instance-list JSON,
//!    sent to the leader — nacos-raft's `POST /nacos/v1/ns/raft/datum`, etcd's JSON gateway
//!    `POST /v3/kv/put` — at 1, 8 and 32 connections, a warm-up then a fixed duration; writes/s
//!    (2xx answers only), p50, p99. Afterwards the harness counts the keys each system stored
//!    under the run's prefix: every acknowledged write must be there (with `--keys`, every key
//!    written and no other).
//! 2. **Failover**: SIGKILL of the current leader, then a new write to each survivor every
//!    `--probe-ms` until one is accepted; the time from the kill to that answer, over `--kills`
//!    kills (the killed member is restarted and the cluster healthy again before the next).
//!
//! nacos-raft runs as a list of variants (a name and extra node options); a variant whose nodes
//! reject their options (exit code 2) is reported as "not available". One Markdown table on
//! stdout, the settings, and every figure in JSON (`artifacts/bench-vs-etcd.json`). Every process
//! started is killed when the run ends, fails, panics, or gets SIGINT/SIGTERM/SIGHUP.

use clap::Parser;
use nacos_raft_node::testkit::cpu::{self, CpuTimes};
use nacos_raft_node::testkit::disk::{self, DiskCounters};
use nacos_raft_node::testkit::etcd::{self, EtcdCluster, EtcdTimings};
use nacos_raft_node::testkit::{instances_value, procnet, Cluster, Http, FAST};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const WRK_SCRIPT: &str = include_str!("vs_etcd/writes.lua");
/// Every key written, on both systems: a persistent instance-list key of namespace `public`.
const KEY_BASE: &str = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@";
/// Nacos' publish timeout, passed explicitly so that the printed settings are the ones used.
const PUBLISH_TIMEOUT_MS: &str = "5000";
/// Bound of every wait for a leader or a healthy cluster.
const READY_LIMIT: Duration = Duration::from_secs(60);
/// Bound of one failover measurement.
const FAILOVER_LIMIT: Duration = Duration::from_secs(60);
/// Probes pending per survivor at most. A write that a follower forwarded to the leader just
/// killed stays pending until the server gives up on it (etcd 3.4: 5 s + 2 election timeouts),
/// so probes are never abandoned and new ones keep going out; this only bounds a runaway.
const MAX_PROBES_IN_FLIGHT: usize = 256;

#[derive(Parser, Debug)]
#[command(
    name = "vs_etcd",
    about = "nacos-raft vs etcd 3.4: writes/s, p50, p99 and failover, side by side on loopback"
)]
struct Opts {
    /// Short run: 1 run of 2 s cells after 1 s of warm-up, 2 kills (env SMOKE=1).
    #[arg(long, env = "SMOKE", value_parser = clap::builder::BoolishValueParser::new())]
    smoke: bool,
    /// Runs of every write cell; the table shows medians [default: 3, smoke 1].
    #[arg(long, env = "RUNS")]
    runs: Option<usize>,
    /// Seconds measured per write cell [default: 10, smoke 2].
    #[arg(long, env = "SECS")]
    secs: Option<u64>,
    /// Seconds of warm-up before each cell (not measured) [default: 2, smoke 1].
    #[arg(long, env = "WARMUP")]
    warmup: Option<u64>,
    /// Leader kills per system [default: 20, smoke 2].
    #[arg(long, env = "KILLS")]
    kills: Option<usize>,
    /// Connection counts of the write cells.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    conns: Vec<usize>,
    /// Overwrites instead of new keys: each cell writes N keys over and over (split between
    /// wrk's threads, each taking its share in turn; N is rounded up to a multiple of the
    /// threads). The warm-up writes the same keys, so that the measured writes replace existing
    /// ones, as re-registrations of a service do. 0: a new key per request (env KEYS).
    #[arg(long, env = "KEYS", default_value_t = 0)]
    keys: u64,
    /// A nacos-raft variant `NAME=OPTIONS` (options split at spaces, added to every node's
    /// command line); repeat for several. Replaces the default list
    /// `faithful=` and `hardened=--rules hardened`.
    #[arg(long = "variant", value_name = "NAME=OPTIONS")]
    variants: Vec<String>,
    /// The node binary of variant NAME (`NAME=PATH`; default the one built with the harness),
    /// to compare two builds side by side in one run; repeat for several.
    #[arg(long = "variant-bin", value_name = "NAME=PATH")]
    variant_bins: Vec<String>,
    /// Parts to run.
    #[arg(long, value_delimiter = ',', default_value = "writes,failover")]
    parts: Vec<Part>,
    /// etcd's `--heartbeat-interval` (ms).
    #[arg(long, default_value_t = EtcdTimings::default().heartbeat_ms)]
    etcd_heartbeat_ms: u64,
    /// etcd's `--election-timeout` (ms); at least 5 heartbeats (etcd's rule).
    #[arg(long, default_value_t = EtcdTimings::default().election_ms)]
    etcd_election_ms: u64,
    /// Interval between failover probes to each survivor (ms).
    #[arg(long, default_value_t = 50)]
    probe_ms: u64,
    /// The etcd binary.
    #[arg(long, default_value = "etcd")]
    etcd: PathBuf,
    /// The wrk binary.
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    /// Where the JSON goes [default: <workspace>/artifacts/bench-vs-etcd.json].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Writes,
    Failover,
}

/// The settings of a run, after defaults.
struct Plan {
    runs: usize,
    secs: u64,
    warmup: u64,
    kills: usize,
    conns: Vec<usize>,
    /// Keys overwritten per cell (0: new keys).
    keys: u64,
    systems: Vec<System>,
    etcd_timings: EtcdTimings,
    probe: Duration,
    writes: bool,
    failover: bool,
}

#[derive(Clone, Debug)]
struct System {
    /// `etcd` or `nacos-raft <variant>`.
    label: String,
    /// The variant's extra node options; `None` for etcd.
    nacos_args: Option<Vec<String>>,
    /// The variant's node binary when not the one built with the harness (`--variant-bin`).
    bin: Option<PathBuf>,
}

fn parse_variant(s: &str) -> Result<(String, Vec<String>), String> {
    let (name, args) = s
        .split_once('=')
        .ok_or_else(|| format!("--variant {s:?}: expected NAME=OPTIONS"))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("--variant {s:?}: the name must be one word"));
    }
    Ok((
        name.to_string(),
        args.split_whitespace().map(str::to_string).collect(),
    ))
}

impl Plan {
    fn from(o: &Opts) -> Result<Plan, String> {
        let pick =
            |v: Option<u64>, full: u64, smoke: u64| v.unwrap_or(if o.smoke { smoke } else { full });
        let variants = if o.variants.is_empty() {
            vec![
                ("faithful".to_string(), vec![]),
                (
                    "hardened".to_string(),
                    vec!["--rules".to_string(), "hardened".to_string()],
                ),
            ]
        } else {
            o.variants
                .iter()
                .map(|s| parse_variant(s))
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut systems = vec![System {
            label: "etcd".into(),
            nacos_args: None,
            bin: None,
        }];
        let mut bins = std::collections::HashMap::new();
        for b in &o.variant_bins {
            let (name, path) = b
                .split_once('=')
                .ok_or_else(|| format!("--variant-bin {b:?}: expected NAME=PATH"))?;
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(format!("--variant-bin {b:?}: no such file"));
            }
            if bins.insert(name.trim().to_string(), path).is_some() {
                return Err(format!("--variant-bin {name} is given twice"));
            }
        }
        for (name, args) in variants {
            let label = format!("nacos-raft {name}");
            if systems.iter().any(|s| s.label == label) {
                return Err(format!("--variant {name} is given twice"));
            }
            let bin = bins.remove(&name);
            systems.push(System {
                label,
                nacos_args: Some(args),
                bin,
            });
        }
        if let Some(name) = bins.keys().next() {
            return Err(format!("--variant-bin {name}: no such variant"));
        }
        let etcd_timings = EtcdTimings {
            heartbeat_ms: o.etcd_heartbeat_ms,
            election_ms: o.etcd_election_ms,
        };
        if etcd_timings.heartbeat_ms == 0
            || etcd_timings.election_ms < 5 * etcd_timings.heartbeat_ms
        {
            return Err("--etcd-election-ms must be at least 5 × --etcd-heartbeat-ms > 0".into());
        }
        let plan = Plan {
            runs: pick(o.runs.map(|r| r as u64), 3, 1) as usize,
            secs: pick(o.secs, 10, 2),
            warmup: pick(o.warmup, 2, 1),
            kills: pick(o.kills.map(|k| k as u64), 20, 2) as usize,
            conns: o.conns.clone(),
            keys: o.keys,
            systems,
            etcd_timings,
            probe: Duration::from_millis(o.probe_ms.max(1)),
            writes: o.parts.contains(&Part::Writes),
            failover: o.parts.contains(&Part::Failover),
        };
        if plan.runs == 0 || plan.secs == 0 || plan.conns.is_empty() || plan.conns.contains(&0) {
            return Err("runs, secs and every connection count must be at least 1".into());
        }
        Ok(plan)
    }
}

// ---- one running system -----------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Etcd,
    Nacos,
}

enum Procs {
    Etcd(EtcdCluster),
    Nacos(Cluster),
}

/// A started, healthy 3-member system.
struct Running {
    kind: Kind,
    procs: Procs,
}

enum StartError {
    /// The variant's nodes rejected their options (exit code 2).
    NotAvailable(String),
    /// Anything else: a real failure, reported and counted.
    Failed(String),
}

/// The first line of `log` that reads like an error, else its last line.
fn reason(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .find(|l| l.to_ascii_lowercase().contains("error"))
        .or(lines.last())
        .map_or_else(|| "(no output)".into(), |l| l.to_string())
}

async fn put(kind: Kind, http: &Http, addr: &str, key: &str, value: &str) -> bool {
    match kind {
        Kind::Etcd => etcd::put(http, addr, key, value).await.unwrap_or(false),
        Kind::Nacos => matches!(http.put(addr, key, value).await, Ok((200, _))),
    }
}

impl Running {
    async fn start(
        sys: &System,
        plan: &Plan,
        etcd_bin: &Path,
        dir: &Path,
        http: &Http,
    ) -> Result<Running, StartError> {
        std::fs::create_dir_all(dir).map_err(|e| StartError::Failed(format!("{dir:?}: {e}")))?;
        let mut r = match &sys.nacos_args {
            None => {
                let mut c = EtcdCluster::new(etcd_bin, dir, 3, plan.etcd_timings);
                c.start_all()
                    .map_err(|e| StartError::Failed(format!("starting etcd: {e}")))?;
                Running {
                    kind: Kind::Etcd,
                    procs: Procs::Etcd(c),
                }
            }
            Some(extra) => {
                let mut args: Vec<&str> = FAST.to_vec();
                args.extend(["--publish-timeout-ms", PUBLISH_TIMEOUT_MS]);
                args.extend(extra.iter().map(String::as_str));
                let bin = sys.bin.as_deref().unwrap_or(Path::new(BIN));
                let mut c = Cluster::new(bin, dir, 3, &args);
                c.start_all();
                Running {
                    kind: Kind::Nacos,
                    procs: Procs::Nacos(c),
                }
            }
        };
        let deadline = Instant::now() + READY_LIMIT;
        let leader = loop {
            if let Some(e) = r.exited() {
                return Err(e);
            }
            if let Some(l) = r.leader(http).await {
                break l;
            }
            if Instant::now() > deadline {
                return Err(StartError::Failed(format!(
                    "no leader within {READY_LIMIT:?}\n{}",
                    r.logs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // A first write through every member: followers of nacos-raft learn the leader from its
        // first beat, and a write to a follower is forwarded.
        for (i, a) in r.addrs().iter().enumerate() {
            let key = format!("{KEY_BASE}ready-{}-{i}", std::process::id());
            if !r.wait_write(http, a, &key, deadline).await {
                return Err(StartError::Failed(format!(
                    "no write accepted through {a} (leader {leader})\n{}",
                    r.logs()
                )));
            }
        }
        r.check_loopback().map_err(StartError::Failed)?;
        Ok(r)
    }

    /// Retries a write through `addr` until it is accepted or `deadline` passes.
    async fn wait_write(&mut self, http: &Http, addr: &str, key: &str, deadline: Instant) -> bool {
        loop {
            if put(self.kind, http, addr, key, &instances_value(0)).await {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A member that exited on its own: `NotAvailable` for a nacos node that rejected its options.
    fn exited(&mut self) -> Option<StartError> {
        match &mut self.procs {
            Procs::Etcd(c) => c.members.iter_mut().find_map(|m| {
                let st = m.exit_status()?;
                let log = std::fs::read_to_string(&m.log).unwrap_or_default();
                Some(StartError::Failed(format!(
                    "etcd {} exited ({st}): {}",
                    m.name,
                    reason(&log)
                )))
            }),
            Procs::Nacos(c) => c.nodes.iter_mut().find_map(|n| {
                let st = n.exit_status()?;
                let why = reason(&n.log_text());
                Some(if st.code() == Some(2) {
                    StartError::NotAvailable(format!("the node rejects its options: {why}"))
                } else {
                    StartError::Failed(format!("node {} exited ({st}): {why}", n.addr))
                })
            }),
        }
    }

    fn addrs(&self) -> Vec<String> {
        match &self.procs {
            Procs::Etcd(c) => c.addrs(),
            Procs::Nacos(c) => c.addrs(),
        }
    }

    async fn leader(&self, http: &Http) -> Option<String> {
        let addrs = self.addrs();
        match self.kind {
            Kind::Etcd => etcd::agreed_leader(http, &addrs).await,
            Kind::Nacos => http.agreed_leader(&addrs).await,
        }
    }

    fn kill(&mut self, addr: &str) {
        match &mut self.procs {
            Procs::Etcd(c) => c.member(addr).kill(),
            Procs::Nacos(c) => c.node(addr).kill(),
        }
    }

    fn restart(&mut self, addr: &str) -> Result<(), String> {
        match &mut self.procs {
            Procs::Etcd(c) => c
                .member(addr)
                .start()
                .map_err(|e| format!("restarting etcd at {addr}: {e}")),
            Procs::Nacos(c) => {
                c.node(addr).start();
                Ok(())
            }
        }
    }

    fn pids(&self) -> Vec<u32> {
        match &self.procs {
            Procs::Etcd(c) => c.members.iter().filter_map(|m| m.pid()).collect(),
            Procs::Nacos(c) => c.nodes.iter().filter_map(|n| n.pid()).collect(),
        }
    }

    /// Every TCP socket of every member has both ends in 127.0.0.0/8.
    fn check_loopback(&self) -> Result<(), String> {
        for pid in self.pids() {
            // A process that just died has no /proc entry: nothing left to check.
            let Ok(bad) = procnet::non_loopback(pid) else {
                continue;
            };
            if !bad.is_empty() {
                return Err(format!(
                    "process {pid} has sockets outside loopback: {bad:?}"
                ));
            }
        }
        Ok(())
    }

    /// Durable flush rounds so far and the seconds they took, summed over the members: etcd's
    /// WAL fsyncs, nacos-raft's persist batches (each: the files' fsyncs, then one fsync per
    /// touched directory).
    async fn flushes(&self, http: &Http) -> Option<(f64, f64)> {
        let name = match self.kind {
            Kind::Etcd => "etcd_disk_wal_fsync_duration_seconds",
            Kind::Nacos => "nacos_raft_persist_batch_seconds",
        };
        let (mut count, mut secs) = (0.0, 0.0);
        for a in self.addrs() {
            count += http.metric(&a, &format!("{name}_count")).await?;
            secs += http.metric(&a, &format!("{name}_sum")).await?;
        }
        Some((count, secs))
    }

    /// Keys stored under `prefix` (etcd: counted; nacos-raft: the leader's datum count, which the
    /// caller diffs).
    async fn stored(&self, http: &Http, leader: &str, prefix: &str) -> Option<u64> {
        match self.kind {
            Kind::Etcd => etcd::count_prefix(http, leader, prefix).await,
            Kind::Nacos => http
                .metric(leader, "nacos_raft_datums")
                .await
                .map(|d| d as u64),
        }
    }

    fn logs(&self) -> String {
        match &self.procs {
            Procs::Etcd(c) => c
                .members
                .iter()
                .map(|m| {
                    let log = std::fs::read_to_string(&m.log).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(15).collect();
                    format!(
                        "----- etcd {} -----\n{}",
                        m.name,
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Procs::Nacos(c) => c.logs(),
        }
    }
}

// ---- writes ----------------------------------------------------------------------------------

/// What `writes.lua`'s `done()` prints.
#[derive(Deserialize, Serialize, Clone, Debug)]
struct WrkResult {
    duration_us: u64,
    requests: u64,
    connect_errors: u64,
    read_errors: u64,
    write_errors: u64,
    status_errors: u64,
    timeouts: u64,
    latency_p50_us: u64,
    latency_p99_us: u64,
    latency_mean_us: f64,
    latency_max_us: u64,
}

impl WrkResult {
    fn ok(&self) -> u64 {
        self.requests.saturating_sub(self.status_errors)
    }
    fn errors(&self) -> u64 {
        self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.status_errors
            + self.timeouts
    }
}

fn parse_wrk(stdout: &str) -> Result<WrkResult, String> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("VS_ETCD_RESULT "))
        .ok_or_else(|| format!("wrk printed no result line:\n{stdout}"))?;
    serde_json::from_str(line).map_err(|e| format!("wrk result {line:?}: {e}"))
}

struct Files {
    script: PathBuf,
    value: PathBuf,
}

/// wrk threads for `conns` connections: one per connection up to the number of cores.
fn wrk_threads(conns: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    conns.min(cores).max(1)
}

#[allow(clippy::too_many_arguments)]
async fn wrk(
    wrk_bin: &Path,
    files: &Files,
    kind: Kind,
    addr: &str,
    prefix: &str,
    conns: usize,
    secs: u64,
    keys_per_thread: u64,
) -> Result<WrkResult, String> {
    let mut cmd = tokio::process::Command::new(wrk_bin);
    cmd.arg("-t")
        .arg(wrk_threads(conns).to_string())
        .arg("-c")
        .arg(conns.to_string())
        .arg("-d")
        .arg(format!("{secs}s"))
        // wrk's default (2 s) would count slow answers as timeouts and drop their latency.
        .arg("--timeout")
        .arg("30s")
        .arg("-s")
        .arg(&files.script)
        .arg(format!("http://{addr}"))
        .arg("--")
        .arg(match kind {
            Kind::Etcd => "etcd",
            Kind::Nacos => "nacos",
        })
        .arg(prefix)
        .arg(&files.value)
        .arg(keys_per_thread.to_string())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(secs + 60), cmd.output())
        .await
        .map_err(|_| "wrk did not finish".to_string())?
        .map_err(|e| format!("running {wrk_bin:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "wrk exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

#[derive(Serialize, Clone, Debug)]
struct Cell {
    system: String,
    conns: usize,
    run: usize,
    writes_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    mean_ms: f64,
    max_ms: f64,
    errors: u64,
    /// Keys of this cell the system holds afterwards.
    stored: Option<u64>,
    /// Every acknowledged write stored, and no more than the requests in flight at the end.
    keys_ok: bool,
    /// Durable flush rounds (all members) per acknowledged write.
    flushes_per_write: Option<f64>,
    /// Mean duration of one flush round (ms).
    flush_ms: Option<f64>,
    /// Bytes the disk under the data directory wrote per acknowledged write, in KiB, and its
    /// write requests per acknowledged write (whole device: anything else writing counts too).
    disk_kib_per_write: Option<f64>,
    disk_writes_per_write: Option<f64>,
    /// The share of the machine's cores busy during the measured seconds, in percent, with wrk
    /// and everything else on the machine: near 100, the cell measured the cores as much as the
    /// system.
    cpu_busy_percent: Option<f64>,
    /// The machine's busy CPU time per acknowledged write (ms), wrk's included.
    cpu_ms_per_write: Option<f64>,
    wrk: WrkResult,
}

struct Ctx<'a> {
    plan: &'a Plan,
    opts: &'a Opts,
    files: &'a Files,
    http: Http,
    base: &'a Path,
    /// The disk counters of the data directory's device, when it is a block device.
    disk: Option<PathBuf>,
    /// Failures of the harness or of a system (not "not available"): the run exits 1.
    problems: Vec<String>,
    /// System label → why it is not available.
    unavailable: Vec<(String, String)>,
}

impl Ctx<'_> {
    fn is_unavailable(&self, label: &str) -> bool {
        self.unavailable.iter().any(|(l, _)| l == label)
    }

    async fn start(&mut self, sys: &System, dir: &str) -> Option<Running> {
        if self.is_unavailable(&sys.label) {
            return None;
        }
        let dir = self.base.join(dir);
        match Running::start(sys, self.plan, &self.opts.etcd, &dir, &self.http).await {
            Ok(r) => Some(r),
            Err(StartError::NotAvailable(why)) => {
                eprintln!("[vs-etcd] {}: not available ({why})", sys.label);
                self.unavailable.push((sys.label.clone(), why));
                None
            }
            Err(StartError::Failed(why)) => {
                eprintln!("[vs-etcd] {}: failed to start: {why}", sys.label);
                self.problems
                    .push(format!("{}: failed to start: {why}", sys.label));
                None
            }
        }
    }

    async fn cell(
        &mut self,
        r: &Running,
        sys: &System,
        leader: &str,
        conns: usize,
        run: usize,
    ) -> Result<Cell, String> {
        let (plan, http) = (self.plan, self.http.clone());
        let tag = format!("{KEY_BASE}r{run}-c{conns}-");
        let prefix = format!("{tag}m-");
        let per_thread = plan.keys.div_ceil(wrk_threads(conns) as u64);
        // Overwrites: the warm-up writes the measured keys first; the keys are counted from
        // before it.
        let first = if per_thread > 0 {
            Some(quiet(r, &http, leader, &prefix).await)
        } else {
            None
        };
        if plan.warmup > 0 {
            let warm = if per_thread > 0 {
                prefix.clone()
            } else {
                format!("{tag}w-")
            };
            wrk(
                &self.opts.wrk,
                self.files,
                r.kind,
                leader,
                &warm,
                conns,
                plan.warmup,
                per_thread,
            )
            .await?;
        }
        let before = quiet(r, &http, leader, &prefix).await;
        let disk_before = self.disk.as_deref().and_then(DiskCounters::read);
        let cpu_before = CpuTimes::read();
        let res = wrk(
            &self.opts.wrk,
            self.files,
            r.kind,
            leader,
            &prefix,
            conns,
            plan.secs,
            per_thread,
        )
        .await?;
        let disk_after = self.disk.as_deref().and_then(DiskCounters::read);
        let cpu_after = CpuTimes::read();
        let after = quiet(r, &http, leader, &prefix).await;
        let ok = res.ok();
        let counted_from = first.as_ref().unwrap_or(&before);
        let stored = match (r.kind, counted_from.1, after.1) {
            (Kind::Etcd, _, a) => a,
            (Kind::Nacos, Some(b), Some(a)) => Some(a.saturating_sub(b)),
            _ => None,
        };
        let keys_ok = if per_thread > 0 {
            // Every key written at least once, none beyond the cycle.
            let distinct = per_thread * wrk_threads(conns) as u64;
            stored.is_some_and(|s| s <= distinct && s >= distinct.min(ok))
        } else {
            // wrk stops with up to `conns` requests in flight, which the server may still apply.
            stored.is_some_and(|s| s >= ok && s <= ok + conns as u64)
        };
        let (flushes_per_write, flush_ms) = match (before.0, after.0) {
            (Some(b), Some(a)) if ok > 0 && a.0 > b.0 => (
                Some((a.0 - b.0) / ok as f64),
                Some((a.1 - b.1) / (a.0 - b.0) * 1000.0),
            ),
            _ => (None, None),
        };
        let disk = match (disk_before, disk_after) {
            (Some(b), Some(a)) => DiskCounters::per_op(b, a, ok),
            _ => None,
        };
        let cpu = match (cpu_before, cpu_after) {
            (Some(b), Some(a)) => CpuTimes::busy(b, a, ok, cpu::ticks_per_second()),
            _ => None,
        };
        let secs = res.duration_us as f64 / 1e6;
        Ok(Cell {
            system: sys.label.clone(),
            conns,
            run,
            writes_per_s: ok as f64 / secs,
            p50_ms: res.latency_p50_us as f64 / 1000.0,
            p99_ms: res.latency_p99_us as f64 / 1000.0,
            mean_ms: res.latency_mean_us / 1000.0,
            max_ms: res.latency_max_us as f64 / 1000.0,
            errors: res.errors(),
            stored,
            keys_ok,
            flushes_per_write,
            flush_ms,
            disk_kib_per_write: disk.map(|d| d.0),
            disk_writes_per_write: disk.map(|d| d.1),
            cpu_busy_percent: cpu.map(|c| c.0 * 100.0),
            cpu_ms_per_write: cpu.map(|c| c.1),
            wrk: res,
        })
    }

    async fn writes(&mut self) -> Vec<Cell> {
        let plan = self.plan;
        let mut cells = Vec::new();
        for run in 0..plan.runs {
            // A different system first in each run, so that drift of the machine's load spreads.
            let n = plan.systems.len();
            for i in 0..n {
                let sys = &plan.systems[(i + run) % n];
                let dir = format!("writes-{run}-{}", sys.label.replace(' ', "-"));
                let Some(r) = self.start(sys, &dir).await else {
                    continue;
                };
                let Some(leader) = r.leader(&self.http).await else {
                    self.problems
                        .push(format!("{}: lost its leader before the writes", sys.label));
                    continue;
                };
                for &conns in &plan.conns {
                    eprintln!(
                        "[vs-etcd] run {}/{}: {} at {conns} connection(s)",
                        run + 1,
                        plan.runs,
                        sys.label
                    );
                    match self.cell(&r, sys, &leader, conns, run).await {
                        Ok(c) => {
                            if !c.keys_ok {
                                let over = if plan.keys > 0 {
                                    format!(" (overwriting {} keys)", plan.keys)
                                } else {
                                    String::new()
                                };
                                self.problems.push(format!(
                                    "{} at {conns} connection(s): {} writes acknowledged{over} but {:?} keys stored",
                                    sys.label,
                                    c.wrk.ok(),
                                    c.stored
                                ));
                            }
                            cells.push(c);
                        }
                        Err(e) => self
                            .problems
                            .push(format!("{} at {conns} connection(s): {e}", sys.label)),
                    }
                }
                if let Err(e) = r.check_loopback() {
                    self.problems.push(format!("{}: {e}", sys.label));
                }
                // The directory stays until the whole run ends (the base is a temporary
                // directory): deleting a system's tens of thousands of files here slowed every
                // file the next system created (on ext4 without a journal, inodes freed in the
                // last 60-360 s are skipped one by one), which penalised whichever system came
                // next (issue 14, catchup14's finding).
                drop(r);
            }
        }
        cells
    }

    // ---- failover ----------------------------------------------------------------------------

    async fn failover(&mut self, sys: &System) -> Vec<Kill> {
        let plan = self.plan;
        let http = self.http.clone();
        let dir = format!("failover-{}", sys.label.replace(' ', "-"));
        let Some(mut r) = self.start(sys, &dir).await else {
            return vec![];
        };
        let mut kills = Vec::new();
        for k in 0..plan.kills {
            let Some(leader) = wait_leader(&r, &http).await else {
                self.problems.push(format!(
                    "{}: no leader before kill {}\n{}",
                    sys.label,
                    k + 1,
                    r.logs()
                ));
                break;
            };
            let survivors: Vec<String> = r.addrs().into_iter().filter(|a| *a != leader).collect();
            let t0 = Instant::now();
            r.kill(&leader);
            let took = first_write(
                r.kind,
                &http,
                &survivors,
                t0,
                plan.probe,
                &format!("{KEY_BASE}failover-{k}-"),
            )
            .await;
            if took.capped {
                self.problems.push(format!(
                    "{}: kill {}: a survivor had {MAX_PROBES_IN_FLIGHT} probes pending; the figure may be late",
                    sys.label,
                    k + 1
                ));
            }
            kills.push(took.clone());
            match took.seconds {
                Some(d) => eprintln!(
                    "[vs-etcd] {}: kill {}/{}: first write accepted after {d:.3} s ({} probes)",
                    sys.label,
                    k + 1,
                    plan.kills,
                    took.probes
                ),
                None => {
                    self.problems.push(format!(
                        "{}: no write accepted within {FAILOVER_LIMIT:?} of kill {}",
                        sys.label,
                        k + 1
                    ));
                    break;
                }
            }
            if let Err(e) = r.restart(&leader) {
                self.problems.push(format!("{}: {e}", sys.label));
                break;
            }
            if !healthy_again(&mut r, &http, &leader).await {
                self.problems.push(format!(
                    "{}: not healthy again within {READY_LIMIT:?} after restarting {leader}\n{}",
                    sys.label,
                    r.logs()
                ));
                break;
            }
        }
        if let Err(e) = r.check_loopback() {
            self.problems.push(format!("{}: {e}", sys.label));
        }
        drop(r);
        kills
    }
}

/// `(flush rounds, stored keys)` once the system is idle: wrk stops with requests in flight,
/// which the server may still carry out after wrk has closed their connections, so the figures
/// are read until two readings 150 ms apart agree (at most 10 s).
async fn quiet(
    r: &Running,
    http: &Http,
    leader: &str,
    prefix: &str,
) -> (Option<(f64, f64)>, Option<u64>) {
    let read = || async { (r.flushes(http).await, r.stored(http, leader, prefix).await) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = read().await;
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let now = read().await;
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

async fn wait_leader(r: &Running, http: &Http) -> Option<String> {
    let deadline = Instant::now() + READY_LIMIT;
    loop {
        if let Some(l) = r.leader(http).await {
            return Some(l);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// After a restart: every member agrees on a leader, a write through the restarted member is
/// accepted, then one more second for the cluster to settle.
async fn healthy_again(r: &mut Running, http: &Http, restarted: &str) -> bool {
    let deadline = Instant::now() + READY_LIMIT;
    if wait_leader(r, http).await.is_none() {
        return false;
    }
    let key = format!("{KEY_BASE}healthy-{}", std::process::id());
    if !r.wait_write(http, restarted, &key, deadline).await {
        return false;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    true
}

/// One failover measurement.
#[derive(Serialize, Clone, Debug)]
struct Kill {
    /// From the SIGKILL to the first accepted write; `None` if none within [`FAILOVER_LIMIT`].
    seconds: Option<f64>,
    /// Probes sent.
    probes: usize,
    /// Whether a survivor had [`MAX_PROBES_IN_FLIGHT`] probes pending at some point (then the
    /// figure may be late).
    capped: bool,
}

/// Sends a new write to every survivor every `every` (at most [`MAX_PROBES_IN_FLIGHT`] pending
/// per survivor) and measures the time from `t0` to the first accepted one. Probes still pending
/// then are abandoned.
async fn first_write(
    kind: Kind,
    http: &Http,
    survivors: &[String],
    t0: Instant,
    every: Duration,
    prefix: &str,
) -> Kill {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let mut probes = tokio::task::JoinSet::new();
    let in_flight: Vec<Arc<AtomicUsize>> = survivors.iter().map(|_| Arc::default()).collect();
    let mut tick = tokio::time::interval(every);
    let deadline = tokio::time::Instant::from_std(t0 + FAILOVER_LIMIT);
    let (mut n, mut capped) = (0usize, false);
    let seconds = loop {
        tokio::select! {
            Some(at) = rx.recv() => break Some((at - t0).as_secs_f64()),
            _ = tick.tick() => {
                for (i, addr) in survivors.iter().enumerate() {
                    if in_flight[i].load(Ordering::Relaxed) >= MAX_PROBES_IN_FLIGHT {
                        capped = true;
                        continue;
                    }
                    in_flight[i].fetch_add(1, Ordering::Relaxed);
                    n += 1;
                    let (http, addr, tx, count) =
                        (http.clone(), addr.clone(), tx.clone(), in_flight[i].clone());
                    let key = format!("{prefix}{i}-{n}");
                    probes.spawn(async move {
                        if put(kind, &http, &addr, &key, &instances_value(n)).await {
                            let _ = tx.send(Instant::now());
                        }
                        count.fetch_sub(1, Ordering::Relaxed);
                    });
                }
            }
            _ = tokio::time::sleep_until(deadline) => break None,
        }
    };
    Kill {
        seconds,
        probes: n,
        capped,
    }
}

// ---- figures -----------------------------------------------------------------------------------

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    v.sort_by(|a, b| a.total_cmp(b));
    (!v.is_empty()).then(|| {
        let m = v.len() / 2;
        if v.len() % 2 == 1 {
            v[m]
        } else {
            (v[m - 1] + v[m]) / 2.0
        }
    })
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples.
fn percentile(mut v: Vec<f64>, p: f64) -> Option<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x >= 1000.0 && decimals == 0 => {
            let s = format!("{x:.0}");
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(ch);
            }
            out
        }
        Some(x) => format!("{x:.decimals$}"),
        None => "–".into(),
    }
}

const FAILOVER_P50: &str = "failover p50 s";
const FAILOVER_P99: &str = "failover p99 s";

fn conn_label(c: usize) -> String {
    if c == 1 {
        "1 connection".into()
    } else {
        format!("{c} connections")
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => String::new(),
    }
}

struct Row {
    name: String,
    /// One value per system.
    values: Vec<Option<f64>>,
    decimals: usize,
}

/// The command that reproduces this run, as a shell would take it.
fn command_line() -> String {
    // Single quotes around anything a shell would split or expand.
    let quote = |a: String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=.,/:@+".contains(c))
        {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let mut words: Vec<String> = ["SMOKE", "RUNS", "SECS", "WARMUP", "KILLS", "KEYS"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={}", quote(v))))
        .collect();
    words.push("scripts/bench-vs-etcd.sh".into());
    words.extend(
        std::env::args()
            .skip(1)
            .filter(|a| a != "--bench")
            .map(quote),
    );
    words.join(" ")
}

fn sh(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn run(opts: Opts) -> i32 {
    let plan = match Plan::from(&opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("vs_etcd: {e}");
            return 2;
        }
    };
    let etcd_version = match etcd::version(&opts.etcd) {
        Ok(v) if !v.is_empty() => v,
        _ => {
            eprintln!(
                "vs_etcd: cannot run {:?} (scripts/bench-vs-etcd.sh installs Debian's etcd-server)",
                opts.etcd
            );
            return 2;
        }
    };
    // `wrk -v` prints "wrk <version> [epoll] Copyright …" (and its usage) and exits with 1.
    let wrk_version = std::process::Command::new(&opts.wrk)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .next()
        .and_then(|l| l.split(" [").next())
        .filter(|v| v.starts_with("wrk "))
        .unwrap_or_default()
        .to_string();
    if wrk_version.is_empty() {
        eprintln!(
            "vs_etcd: cannot run {:?} (scripts/bench-vs-etcd.sh installs Debian's wrk)",
            opts.wrk
        );
        return 2;
    }
    // Removed at the end (or on a signal) through `testkit::settle`, which marks the removal for
    // the next benchmark.
    let tmp = match tempfile::Builder::new().prefix("vs-etcd-").tempdir() {
        Ok(t) => nacos_raft_node::testkit::settle::Scratch(t.keep()),
        Err(e) => {
            eprintln!("vs_etcd: temporary directory: {e}");
            return 1;
        }
    };
    let files = Files {
        script: tmp.path().join("writes.lua"),
        value: tmp.path().join("value.json"),
    };
    let value = instances_value(1);
    if let Err(e) =
        std::fs::write(&files.script, WRK_SCRIPT).and_then(|_| std::fs::write(&files.value, &value))
    {
        eprintln!("vs_etcd: {e}");
        return 1;
    }
    let date = sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    // `stat -f` names ext4 by its magic, shared with ext2 and ext3; findmnt names the mount.
    let data_dir = tmp.path().display().to_string();
    let fs_type = disk::mount_field(tmp.path(), "FSTYPE")
        .unwrap_or_else(|| sh("stat", &["-f", "-c", "%T", &data_dir]));
    let load_before = loadavg();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let command = command_line();
    eprintln!("[vs-etcd] {command}");
    eprintln!(
        "[vs-etcd] {etcd_version}, {wrk_version}, data in {:?} ({fs_type})",
        tmp.path()
    );

    let mut ctx = Ctx {
        plan: &plan,
        opts: &opts,
        files: &files,
        http: Http::new(),
        base: tmp.path(),
        disk: disk::stat_file(tmp.path()),
        problems: vec![],
        unavailable: vec![],
    };
    let cells = if plan.writes {
        ctx.writes().await
    } else {
        vec![]
    };
    let mut failovers: Vec<(String, Vec<Kill>)> = vec![];
    if plan.failover {
        for sys in &plan.systems {
            if ctx.is_unavailable(&sys.label) {
                continue;
            }
            eprintln!("[vs-etcd] failover: {} ({} kills)", sys.label, plan.kills);
            let s = ctx.failover(sys).await;
            failovers.push((sys.label.clone(), s));
        }
    }
    let load_after = loadavg();

    // ---- the table ----
    let systems = &plan.systems;
    let mut rows: Vec<Row> = vec![];
    if plan.writes {
        for &c in &plan.conns {
            let per = |f: &dyn Fn(&Cell) -> Option<f64>| -> Vec<Option<f64>> {
                systems
                    .iter()
                    .map(|s| {
                        median(
                            cells
                                .iter()
                                .filter(|x| x.system == s.label && x.conns == c)
                                .filter_map(f)
                                .collect(),
                        )
                    })
                    .collect()
            };
            let conn = conn_label(c);
            type Field = fn(&Cell) -> Option<f64>;
            let mut fields: Vec<(&str, Field, usize)> = vec![
                ("writes/s", |x| Some(x.writes_per_s), 0),
                ("p50 ms", |x| Some(x.p50_ms), 2),
                ("p99 ms", |x| Some(x.p99_ms), 2),
                ("fsync rounds per write", |x| x.flushes_per_write, 2),
                ("ms per fsync round", |x| x.flush_ms, 2),
            ];
            if ctx.disk.is_some() {
                fields.push(("disk KiB written per write", |x| x.disk_kib_per_write, 1));
                fields.push((
                    "disk write requests per write",
                    |x| x.disk_writes_per_write,
                    1,
                ));
            }
            fields.push(("CPU busy %, whole machine", |x| x.cpu_busy_percent, 0));
            fields.push(("CPU ms per write, whole machine", |x| x.cpu_ms_per_write, 3));
            for (name, field, decimals) in fields {
                rows.push(Row {
                    name: format!("{name}, {conn}"),
                    values: per(&field),
                    decimals,
                });
            }
        }
    }
    if plan.failover {
        for (name, p) in [(FAILOVER_P50, 50.0), (FAILOVER_P99, 99.0)] {
            rows.push(Row {
                name: name.into(),
                values: systems
                    .iter()
                    .map(|s| {
                        failovers
                            .iter()
                            .find(|(l, _)| *l == s.label)
                            .and_then(|(_, v)| {
                                percentile(v.iter().filter_map(|k| k.seconds).collect(), p)
                            })
                    })
                    .collect(),
                decimals: 2,
            });
        }
    }
    let at = |name: &str, i: usize| {
        rows.iter()
            .find(|r| r.name == name)
            .and_then(|r| r.values[i])
    };
    println!();
    println!(
        "## nacos-raft vs etcd {} — 3 members each on loopback, fsync before every acknowledgement\n",
        etcd_version.trim_start_matches("etcd Version: ")
    );
    let mut header = "| | etcd |".to_string();
    let mut rule = "|---|--:|".to_string();
    for s in &systems[1..] {
        header.push_str(&format!(" {} | ÷ etcd |", s.label));
        rule.push_str("--:|--:|");
    }
    println!("{header}\n{rule}");
    for row in &rows {
        let mut line = format!("| {} | {} |", row.name, fmt(row.values[0], row.decimals));
        for (i, s) in systems.iter().enumerate().skip(1) {
            if ctx.is_unavailable(&s.label) {
                line.push_str(" not available | |");
            } else {
                line.push_str(&format!(
                    " {} | {} |",
                    fmt(row.values[i], row.decimals),
                    ratio(row.values[i], row.values[0])
                ));
            }
        }
        println!("{line}");
    }
    let errors: u64 = cells.iter().map(|c| c.errors).sum();
    let kills: Vec<String> = failovers
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(l, v)| format!("{l} {}", v.iter().filter(|k| k.seconds.is_some()).count()))
        .collect();
    println!();
    println!(
        "Write cells: medians of {} run(s). Failover: kills measured: {}; with fewer than 100 the p99 is the slowest. Errors (non-2xx, socket, timeout) over all write cells: {errors}.",
        plan.runs,
        if kills.is_empty() { "none".into() } else { kills.join(", ") }
    );
    for (label, why) in &ctx.unavailable {
        println!("{label}: not available — {why}");
    }

    // Targets of issues 13 and 14, for every nacos-raft variant that ran.
    let mut targets = vec![];
    println!();
    for (i, s) in systems.iter().enumerate().skip(1) {
        if ctx.is_unavailable(&s.label) {
            continue;
        }
        let mut checks: Vec<(String, Option<bool>)> = vec![];
        if plan.writes && plan.conns.contains(&1) {
            let n = format!("p50 ms, {}", conn_label(1));
            let (a, e) = (at(&n, i), at(&n, 0));
            checks.push((
                format!(
                    "issue 14, one write's cost: p50 at 1 connection ≤ 1.5 × etcd's ({} vs {} ms: {})",
                    fmt(a, 2),
                    fmt(e, 2),
                    ratio(a, e)
                ),
                a.zip(e).map(|(a, e)| a <= 1.5 * e),
            ));
        }
        if plan.writes {
            let most = plan.conns.iter().copied().max().unwrap_or(1);
            let n = format!("writes/s, {}", conn_label(most));
            let (a, e) = (at(&n, i), at(&n, 0));
            checks.push((
                format!(
                    "issue 13: writes/s at {} ≥ etcd's ({} vs {})",
                    conn_label(most),
                    fmt(a, 0),
                    fmt(e, 0)
                ),
                a.zip(e).map(|(a, e)| a >= e),
            ));
            let pairs: Option<Vec<(f64, f64)>> = plan
                .conns
                .iter()
                .map(|&c| {
                    let n = format!("p99 ms, {}", conn_label(c));
                    at(&n, i).zip(at(&n, 0))
                })
                .collect();
            let worst = pairs.as_ref().and_then(|p| {
                p.iter()
                    .copied()
                    .max_by(|x, y| (x.0 / x.1).total_cmp(&(y.0 / y.1)))
            });
            checks.push((
                format!(
                    "issue 13: p99 ≤ etcd's at every connection count (worst ratio {})",
                    ratio(worst.map(|w| w.0), worst.map(|w| w.1))
                ),
                pairs.map(|p| p.iter().all(|(a, e)| a <= e)),
            ));
        }
        if plan.failover {
            let (a, e) = (at(FAILOVER_P99, i), at(FAILOVER_P99, 0));
            checks.push((
                format!(
                    "issue 13: failover p99 ≤ etcd's ({} vs {} s)",
                    fmt(a, 2),
                    fmt(e, 2)
                ),
                a.zip(e).map(|(a, e)| a <= e),
            ));
        }
        for (what, ok) in checks {
            let verdict = match ok {
                Some(true) => "met",
                Some(false) => "NOT met",
                None => "not measured",
            };
            println!("- {}: {what}: {verdict}", s.label);
            targets.push(json!({"system": s.label, "target": what, "verdict": verdict}));
        }
    }

    // ---- settings ----
    let t = plan.etcd_timings;
    println!("\nSettings ({date}, {cores} cores, load average {load_before} before and {load_after} after; data on {fs_type}):");
    println!("- command: `{command}`");
    let keys = if plan.keys > 0 {
        format!("overwrites: {} keys per cell (rounded up to a multiple of the threads), each thread writing its share in turn, the warm-up writing the same keys first", plan.keys)
    } else {
        "a new key per request".to_string()
    };
    println!(
        "- client: {wrk_version}, one Lua script for both (native/benches/vs_etcd/writes.lua), {keys}, value {} bytes of instance-list JSON, sent to the leader; threads = min(connections, cores); {} s warm-up then {} s measured per cell; writes/s counts 2xx answers only",
        value.len(), plan.warmup, plan.secs
    );
    println!(
        "- etcd: 3 members, `--heartbeat-interval {} --election-timeout {}` (a follower campaigns {:.1}–{:.1} s after its leader's last message), WAL fsync'd before every acknowledgement (etcd 3.4.23 has no switch to turn it off), JSON gateway `POST {}`, all URLs http://127.0.0.1:<free port>, no discovery",
        t.heartbeat_ms, t.election_ms, t.election_ms as f64 / 1000.0, 2.0 * t.election_ms as f64 / 1000.0, etcd::PUT_PATH
    );
    println!(
        "- nacos-raft: 3 nodes, `{} --publish-timeout-ms {PUBLISH_TIMEOUT_MS} --loopback-only` (a follower campaigns 1.5–2.0 s after its leader's last beat; beats every 0.5 s), each write durable on a majority before the acknowledgement (faithful: the datum file and its directory fsync'd; hardened: one fdatasync'd append to the write-ahead log per batch, the files flushed at checkpoints); variants: {}",
        FAST.join(" "),
        systems[1..]
            .iter()
            .map(|s| {
                let bin = s.bin.as_ref().map(|b| format!(" (binary {})", b.display())).unwrap_or_default();
                format!("{} = `{}`{bin}", s.label, s.nacos_args.as_deref().unwrap_or_default().join(" "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "- failover: SIGKILL of the leader, then a new write to each survivor every {} ms by the harness's own HTTP client (hyper), none abandoned (≤ {MAX_PROBES_IN_FLIGHT} pending each); time from the kill to the first accepted write (200; etcd: 200 with a response header); the member is restarted and a write through it accepted, then 1 s of rest, before the next kill",
        plan.probe.as_millis()
    );
    println!("- fsync rounds per write: summed over the 3 members, and the mean time of one round, from the members' own metrics (etcd: `etcd_disk_wal_fsync_duration_seconds`, one fdatasync of the WAL; nacos-raft: `nacos_raft_persist_batch_seconds`, one batch = write, fsync and rename of each file, then one fsync per directory; with the write-ahead log: the append and its fdatasync)");
    println!("- CPU: the share of the machine's cores busy during the measured seconds (/proc/stat: all but idle and I/O wait), and that busy time per acknowledged write; the whole machine, wrk and the other members included: near 100 %, the cores were the limit and the latencies include waiting for one");
    if let Some(stat) = &ctx.disk {
        println!("- disk per write: what the block device under the data directory wrote during the measured seconds ({}: sectors written × 512 B, write requests), per acknowledged write, all 3 members together; the whole device, so anything else writing to it counts too, and writes the kernel starts after the cell ends do not", stat.display());
    }

    // ---- JSON ----
    let out = opts.out.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("artifacts")
            .join("bench-vs-etcd.json")
    });
    let doc = json!({
        "date": date,
        "command": command,
        "cores": cores,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "filesystem": fs_type,
        "etcd_version": etcd_version,
        "wrk_version": wrk_version,
        "value_bytes": value.len(),
        "runs": plan.runs,
        "secs": plan.secs,
        "warmup_secs": plan.warmup,
        "kills": plan.kills,
        "conns": plan.conns,
        "keys": plan.keys,
        "probe_ms": plan.probe.as_millis() as u64,
        "etcd": {"heartbeat_ms": t.heartbeat_ms, "election_ms": t.election_ms},
        "nacos_args": FAST.iter().copied().chain(["--publish-timeout-ms", PUBLISH_TIMEOUT_MS, "--loopback-only"]).collect::<Vec<_>>(),
        "systems": systems.iter().map(|s| json!({
            "label": s.label,
            "extra_args": s.nacos_args,
            "bin": s.bin,
            "available": !ctx.is_unavailable(&s.label),
            "not_available_because": ctx.unavailable.iter().find(|(l, _)| *l == s.label).map(|(_, w)| w),
        })).collect::<Vec<_>>(),
        "table": rows.iter().map(|r| json!({
            "figure": r.name,
            "values": systems.iter().zip(&r.values).map(|(s, v)| (s.label.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "targets": targets,
        "cells": cells,
        "failover": failovers.iter().map(|(l, s)| (l.clone(), json!(s))).collect::<serde_json::Map<_, _>>(),
        "problems": ctx.problems,
    });
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match serde_json::to_string_pretty(&doc).map(|s| std::fs::write(&out, s + "\n")) {
        Ok(Ok(())) => println!(
            "\nJSON: {}",
            out.canonicalize().unwrap_or_else(|_| out.clone()).display()
        ),
        Ok(Err(e)) => ctx.problems.push(format!("writing {}: {e}", out.display())),
        Err(e) => ctx.problems.push(format!("JSON: {e}")),
    }
    if ctx.problems.is_empty() {
        0
    } else {
        eprintln!("\n[vs-etcd] {} problem(s):", ctx.problems.len());
        for p in &ctx.problems {
            eprintln!("- {p}");
        }
        1
    }
}

fn main() {
    let opts = Opts::parse();
    nacos_raft_node::testkit::settle::wait_until_settled("vs-etcd");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let code = rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            eprintln!("vs_etcd: cannot install signal handlers");
            return 1;
        };
        // Leaving `run` early drops it, and with it every process it started (their `Drop` kills
        // them), every wrk child (`kill_on_drop`) and the temporary directory.
        let stop = |why: &str, code: i32| {
            eprintln!("\n[vs-etcd] {why}: every process started is stopped");
            code
        };
        tokio::select! {
            code = run(opts) => code,
            _ = tokio::signal::ctrl_c() => stop("interrupted", 130),
            _ = term.recv() => stop("terminated", 143),
            _ = hup.recv() => stop("hung up", 129),
        }
    });
    drop(rt);
    std::process::exit(code);
}
