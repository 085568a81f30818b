//! Benchmarks of the naming API on real node processes (3 nodes on loopback, Nacos' timings ÷
//! 10), each compared in the same run with the raw datum path it is built on:
//!
//! 1. registrations per second through `POST /nacos/v1/ns/instance` at 1, 8 and 32 concurrent
//!    clients, p50/p99 — re-registrations into an existing service (one Raft write each, like a
//!    raw `POST /raft/datum` of the same instance list) and registrations that create their
//!    service (meta key, then instance list: two writes);
//! 2. `GET /nacos/v1/ns/instance/list` reads per second on a follower, against
//!    `GET /raft/datum?keys=` of the same instance list;
//! 3. list latency of one service with 10,000 instances on a follower.
//!
//! `cargo bench -p nacos-raft-node --bench naming` (= `make bench-naming`); `-- quick` for short
//! runs; `-- writes`, `-- reads`, `-- big` for parts. The machine is shared: medians of runs.

use nacos_raft_core::key;
use nacos_raft_node::testkit::{wait_for, Cluster, Http, FAST};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const JAVA_UA: &str = "Nacos-Java-Client:v1.0.0";

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// What one request of a load does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `POST /raft/datum` of a one-instance list (the raw write path).
    RawWrite,
    /// `POST /instance` of the same instance into an existing service (one write).
    Reregister,
    /// `POST /instance` into a new service (meta key, then list: two writes).
    NewService,
    /// `GET /raft/datum?keys=<list key>`.
    RawRead,
    /// `GET /instance/list`.
    List,
}

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::RawWrite => "raw `POST /raft/datum`",
            Op::Reregister => "API register, existing service",
            Op::NewService => "API register, new service",
            Op::RawRead => "raw `GET /raft/datum`",
            Op::List => "API `/instance/list`",
        }
    }
}

fn instances_json(svc: &str, port: u32) -> String {
    format!(
        r#"{{"instanceList":[{{"instanceId":"127.0.0.1#{port}#DEFAULT#DEFAULT_GROUP@@{svc}","ip":"127.0.0.1","port":{port},"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@{svc}","metadata":{{}},"lastBeat":1,"marked":false,"app":"DEFAULT","instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000,"instanceIdGenerator":"simple"}}]}}"#
    )
}

/// One request; whether it succeeded.
async fn request(http: &Http, to: &str, op: Op, client: usize, i: usize, run: usize) -> bool {
    let svc = format!("bench-c{client}");
    let r = match op {
        Op::RawWrite => {
            let k = key::iplist_key("public", &format!("DEFAULT_GROUP@@raw-c{client}"));
            http.put(to, &k, &instances_json(&format!("raw-c{client}"), 1))
                .await
        }
        Op::Reregister => {
            let q = format!(
                "serviceName={svc}&ip=127.0.0.1&port=1&ephemeral=false&weight={}",
                1 + i % 7
            );
            http.request(
                to,
                "POST",
                &format!("/nacos/v1/ns/instance?{q}"),
                &[],
                Vec::new(),
            )
            .await
        }
        Op::NewService => {
            let q =
                format!("serviceName=new-r{run}-c{client}-{i}&ip=127.0.0.1&port=1&ephemeral=false");
            http.request(
                to,
                "POST",
                &format!("/nacos/v1/ns/instance?{q}"),
                &[],
                Vec::new(),
            )
            .await
        }
        Op::RawRead => {
            let k = key::iplist_key("public", "DEFAULT_GROUP@@read-svc");
            http.get(
                to,
                &format!(
                    "/nacos/v1/ns/raft/datum?{}",
                    nacos_raft_node::codec::keys_query(&[k])
                ),
            )
            .await
        }
        Op::List => {
            http.request(
                to,
                "GET",
                "/nacos/v1/ns/instance/list?serviceName=read-svc",
                &[("user-agent", JAVA_UA)],
                Vec::new(),
            )
            .await
        }
    };
    matches!(r, Ok((200, _)))
}

/// `conc` clients doing `op` against `to` for `secs`: ops/s, p50 and p99 in ms, failures.
async fn load(
    http: &Http,
    to: &str,
    op: Op,
    conc: usize,
    secs: f64,
    run: usize,
) -> (f64, f64, f64, usize) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conc {
        let (http, to) = (http.clone(), to.to_string());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut fails, mut i) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                if request(&http, &to, op, c, i, run).await {
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    fails += 1;
                }
                i += 1;
            }
            (lat, fails)
        }));
    }
    let (mut lat, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (l, f) = t.await.unwrap();
        lat.extend(l);
        failed += f;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    (
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        failed,
    )
}

async fn table(http: &Http, to: &str, ops: &[Op], what: &str, secs: f64, runs: usize) {
    println!("| clients | {what:<30} | ops/s | p50 ms | p99 ms | failed |");
    println!("|--------:|{:-<32}|------:|-------:|-------:|-------:|", "");
    let mut run = 0;
    for conc in [1usize, 8, 32] {
        for op in ops {
            let (mut t, mut a, mut b, mut f) = (vec![], vec![], vec![], 0);
            for _ in 0..runs {
                run += 1;
                let (tput, p50, p99, fails) = load(http, to, *op, conc, secs, run).await;
                t.push(tput);
                a.push(p50);
                b.push(p99);
                f += fails;
            }
            println!(
                "| {conc:>7} | {:<30} | {:>5.0} | {:>6.1} | {:>6.1} | {f:>6} |",
                op.label(),
                median(t),
                median(a),
                median(b)
            );
        }
    }
}

async fn start_cluster(dir: &Path, extra: &[&'static str]) -> (Cluster, Http, String, String) {
    let mut args = FAST.to_vec();
    args.extend(["--publish-timeout-ms", "5000"]);
    args.extend(extra);
    let mut c = Cluster::new(Path::new(BIN), dir, 3, &args);
    c.start_all();
    let http = Http::new();
    let all = c.addrs();
    let leader = http.wait_leader(&all, Duration::from_secs(60)).await;
    let follower = all.iter().find(|a| **a != leader).unwrap().clone();
    // Followers learn the leader from its first beat.
    wait_for("a first registration", Duration::from_secs(30), || async {
        let q = "/nacos/v1/ns/instance?serviceName=warmup&ip=127.0.0.1&port=1&ephemeral=false";
        matches!(
            http.request(&follower, "POST", q, &[], Vec::new()).await,
            Ok((200, _))
        )
        .then_some(())
    })
    .await;
    (c, http, leader, follower)
}

async fn writes(base: &Path, quick: bool) {
    println!(
        "\n## Registrations through the API vs raw datum writes (3 nodes, sent to the leader)\n"
    );
    let (_c, http, leader, _) =
        start_cluster(&base.join("writes"), &["--health-check", "none"]).await;
    // Every client's service exists before the re-registrations are timed.
    for c in 0..32 {
        assert!(request(&http, &leader, Op::Reregister, c, 0, 0).await);
    }
    let (secs, runs) = if quick { (1.5, 1) } else { (4.0, 3) };
    println!("{runs} run(s) of {secs} s per row, medians; each write is fsync'd on the leader and a follower before it is answered\n");
    table(
        &http,
        &leader,
        &[Op::RawWrite, Op::Reregister, Op::NewService],
        "path",
        secs,
        runs,
    )
    .await;
}

async fn reads(base: &Path, quick: bool) {
    println!(
        "\n## Reads on a follower: `/instance/list` vs raw datum reads (service of 10 instances)\n"
    );
    let (_c, http, leader, follower) =
        start_cluster(&base.join("reads"), &["--health-check", "none"]).await;
    for port in 1..=10 {
        let q = format!(
            "/nacos/v1/ns/instance?serviceName=read-svc&ip=127.0.0.1&port={port}&ephemeral=false"
        );
        let (s, b) = http
            .request(&leader, "POST", &q, &[], Vec::new())
            .await
            .unwrap();
        assert_eq!(s, 200, "{b}");
    }
    wait_for(
        "10 instances on the follower",
        Duration::from_secs(30),
        || async {
            let (_, b) = http
                .request(
                    &follower,
                    "GET",
                    "/nacos/v1/ns/instance/list?serviceName=read-svc",
                    &[],
                    Vec::new(),
                )
                .await
                .ok()?;
            (b.matches("\"ip\"").count() == 10).then_some(())
        },
    )
    .await;
    let (secs, runs) = if quick { (1.5, 1) } else { (3.0, 3) };
    println!("{runs} run(s) of {secs} s per row, medians; the load generator shares the 2 cores\n");
    table(
        &http,
        &follower,
        &[Op::RawRead, Op::List],
        "path",
        secs,
        runs,
    )
    .await;
}

async fn big(base: &Path, quick: bool) {
    let n = 10_000;
    println!("\n## One service of {n} instances, listed on a follower\n");
    let (_c, http, leader, follower) =
        start_cluster(&base.join("big"), &["--health-check", "none"]).await;
    let q = "/nacos/v1/ns/instance?serviceName=big&ip=127.0.0.1&port=1&ephemeral=false";
    let (s, _) = http
        .request(&leader, "POST", q, &[], Vec::new())
        .await
        .unwrap();
    assert_eq!(s, 200);
    let list: Vec<String> = (0..n)
        .map(|i| {
            let ip = format!("127.0.{}.{}", i / 250, i % 250 + 1);
            format!(
                r#"{{"instanceId":"{ip}#8080#DEFAULT#DEFAULT_GROUP@@big","ip":"{ip}","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@big","metadata":{{"zone":"z{}"}},"lastBeat":1,"marked":false,"app":"DEFAULT"}}"#,
                i % 3
            )
        })
        .collect();
    let value = format!(r#"{{"instanceList":[{}]}}"#, list.join(","));
    let k = key::iplist_key("public", "DEFAULT_GROUP@@big");
    let (s, b) = http.put(&leader, &k, &value).await.unwrap();
    assert_eq!(s, 200, "{b}");
    let path = "/nacos/v1/ns/instance/list?serviceName=big";
    wait_for(
        "10,000 instances on the follower",
        Duration::from_secs(30),
        || async {
            let (_, b) = http
                .request(&follower, "GET", path, &[], Vec::new())
                .await
                .ok()?;
            (b.matches("\"ip\"").count() == n).then_some(())
        },
    )
    .await;
    let rounds = if quick { 50 } else { 300 };
    let mut rows = Vec::new();
    for (label, p) in [
        ("API `/instance/list`", path.to_string()),
        (
            "raw `GET /raft/datum`",
            format!(
                "/nacos/v1/ns/raft/datum?{}",
                nacos_raft_node::codec::keys_query(std::slice::from_ref(&k))
            ),
        ),
    ] {
        let mut lat = Vec::new();
        let mut bytes = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let (s, b) = http
                .request(&follower, "GET", &p, &[("user-agent", JAVA_UA)], Vec::new())
                .await
                .unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(s, 200);
            bytes = b.len();
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        rows.push((label, bytes, percentile(&lat, 0.5), percentile(&lat, 0.99)));
    }
    println!("{rounds} sequential requests each\n");
    println!("| request | answer bytes | p50 ms | p99 ms |");
    println!("|---|--:|--:|--:|");
    for (label, bytes, p50, p99) in rows {
        println!("| {label} | {bytes} | {p50:.1} | {p99:.1} |");
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let quick = args.iter().any(|a| a == "quick");
    let parts: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "quick")
        .collect();
    let want = |p: &str| parts.is_empty() || parts.contains(&p);
    let base =
        Dir(std::env::temp_dir().join(format!("nacos-raft-naming-bench-{}", std::process::id())));
    std::fs::create_dir_all(&base.0).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "# nacos-raft-node naming API benchmarks ({} cores, {})",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        if quick { "quick" } else { "full" }
    );
    rt.block_on(async {
        if want("writes") {
            writes(&base.0, quick).await;
        }
        if want("reads") {
            reads(&base.0, quick).await;
        }
        if want("big") {
            big(&base.0, quick).await;
        }
    });
}
