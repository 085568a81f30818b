//! The official Nacos clients, which nobody here wrote, against a 3-node cluster of real
//! processes on loopback: npm `nacos` 2.6.3 (its `NacosNamingClient`) and PyPI
//! `nacos-sdk-python` 1.0.0, driven by `sdk-tests/node-naming.js` and
//! `sdk-tests/python_naming.py` (one command per process, JSON lines on stdout).
//!
//! Both SDKs must be installed first (`make tools`: `sdk-tests/node_modules`, `.venv-sdk/`), so
//! this test is `#[ignore]`d in a plain `cargo test` and run by `make test-sdk` (part of
//! `make test`): `cargo test -p nacos-raft-node --test sdk -- --ignored`.

use nacos_raft_node::testkit::{Acceptor, Cluster, Http, FAST};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const LIMIT: Duration = Duration::from_secs(30);
/// One SDK command may take this long (process start included).
const COMMAND_LIMIT: Duration = Duration::from_secs(45);
const INTERVAL_MS: u64 = 300;
/// The Node client polls every `cacheMillis` (3,000 ms, the switch's default).
const NODE_POLL: Duration = Duration::from_millis(3_000);
/// The Python subscriber's `listener_interval` in these tests.
const PY_POLL_S: u64 = 1;
const SLACK: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sdk {
    Node,
    Python,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

impl Sdk {
    fn command(self, log_dir: &Path) -> Command {
        let root = root();
        let mut c = match self {
            Sdk::Node => {
                let script = root.join("sdk-tests/node-naming.js");
                assert!(
                    root.join("sdk-tests/node_modules/nacos/package.json").exists(),
                    "the Node client is not installed: run `make tools` (npm ci --prefix sdk-tests)"
                );
                let mut c = Command::new("node");
                c.arg(script);
                c
            }
            Sdk::Python => {
                let py = root.join(".venv-sdk/bin/python");
                assert!(
                    py.exists(),
                    "the Python client is not installed: run `make tools` (.venv-sdk)"
                );
                let mut c = Command::new(py);
                c.arg(root.join("sdk-tests/python_naming.py"));
                c
            }
        };
        // Requests go straight to loopback: no proxy, no cloud credential lookups.
        for v in [
            "http_proxy",
            "https_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
            "ALIBABA_CLOUD_CREDENTIALS_URI",
        ] {
            c.env_remove(v);
        }
        c.env("NO_PROXY", "*")
            .env("no_proxy", "*")
            .env("SDK_LOG_DIR", log_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }
}

/// Runs one SDK command; its last stdout line as JSON, or what went wrong.
fn run(sdk: Sdk, log_dir: &Path, cmd: &str, server: &str, args: &Value) -> Result<Value, String> {
    let mut child = sdk
        .command(log_dir)
        .arg(cmd)
        .arg(server)
        .arg(args.to_string())
        .spawn()
        .map_err(|e| format!("cannot start the {sdk:?} client: {e}"))?;
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = read(Box::new(child.stdout.take().expect("stdout")));
    let err = read(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > COMMAND_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{sdk:?} {cmd} {server} timed out"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    let last = out.lines().last().unwrap_or("").to_string();
    if !status.success() {
        return Err(format!(
            "{sdk:?} {cmd} {server} {args} failed ({status}): {last}\n{}",
            tail(&err, 15)
        ));
    }
    serde_json::from_str(&last).map_err(|e| format!("{sdk:?} {cmd}: {e}: {out}"))
}

fn tail(s: &str, n: usize) -> String {
    let l: Vec<&str> = s.lines().collect();
    l[l.len().saturating_sub(n)..].join("\n")
}

/// Runs `cmd` until it succeeds (a cluster that just elected a leader refuses writes until the
/// followers have heard from it).
async fn run_ok(sdk: Sdk, log_dir: &Path, cmd: &str, server: &str, args: Value) -> Value {
    let mut last = String::new();
    let start = Instant::now();
    for _ in 0..60 {
        let (d, c, s, a) = (
            log_dir.to_path_buf(),
            cmd.to_string(),
            server.to_string(),
            args.clone(),
        );
        match tokio::task::spawn_blocking(move || run(sdk, &d, &c, &s, &a))
            .await
            .expect("the client thread")
        {
            Ok(v) if v.get("error").is_none() => return v,
            Ok(v) => last = v.to_string(),
            Err(e) => last = e,
        }
        if start.elapsed() > LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("{sdk:?} {cmd} via {server} never succeeded: {last}");
}

/// `(ip:port, healthy)` of every host an SDK listed.
fn hosts(v: &Value) -> Vec<(String, bool)> {
    let mut h: Vec<(String, bool)> = v["hosts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    (
                        format!("{}:{}", h["ip"].as_str().unwrap_or(""), h["port"]),
                        h["healthy"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    h.sort();
    h
}

/// Lists `svc` with `sdk` through `server` until `ok` holds for the hosts (bounded by `limit`).
async fn list_until(
    sdk: Sdk,
    log_dir: &Path,
    server: &str,
    svc: &str,
    limit: Duration,
    what: &str,
    ok: impl Fn(&[(String, bool)]) -> bool,
) -> Vec<(String, bool)> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < limit {
        let (d, s, a) = (
            log_dir.to_path_buf(),
            server.to_string(),
            json!({ "service": svc }),
        );
        let r = tokio::task::spawn_blocking(move || run(sdk, &d, "list", &s, &a))
            .await
            .expect("the client thread");
        if let Ok(v) = r {
            seen = hosts(&v);
            if ok(&seen) {
                return seen;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{sdk:?} listing {svc} via {server}: {what} not seen within {limit:?}; last: {seen:?}");
}

/// A long-running subscriber; killed on drop.
struct Subscriber {
    child: Child,
    lines: mpsc::Receiver<(Instant, Value)>,
}

impl Subscriber {
    fn start(sdk: Sdk, log_dir: &Path, server: &str, args: Value) -> Subscriber {
        let mut child = sdk
            .command(log_dir)
            .arg("subscribe")
            .arg(server)
            .arg(args.to_string())
            .spawn()
            .expect("starting a subscriber");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send((Instant::now(), v)).is_err() {
                        break;
                    }
                }
            }
        });
        Subscriber { child, lines }
    }

    /// The first line (from now on) for which `f` holds, and when it arrived.
    fn wait(&self, limit: Duration, what: &str, f: impl Fn(&Value) -> bool) -> (Instant, Value) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((t, v)) if f(&v) => return (t, v),
                Ok(_) => {}
                Err(_) => panic!("subscriber: {what} not seen within {limit:?}"),
            }
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prints the tail of every node log of `dir` when the test fails.
struct DumpLogsOnPanic(PathBuf);

impl Drop for DumpLogsOnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.0) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "log") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                eprintln!("----- {} -----\n{}", p.display(), tail(&text, 80));
            }
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the official SDKs from `make tools`; run by `make test-sdk`"]
async fn the_official_node_and_python_clients_on_three_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let _dump = DumpLogsOnPanic(dir.path().to_path_buf());
    let logs = dir.path().join("sdk-logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut args = FAST.to_vec();
    args.extend([
        "--publish-timeout-ms",
        "3000",
        "--health-check-interval-ms",
        "300",
    ]);
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &args);
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let (n1, n2, n3) = (addrs[0].clone(), addrs[1].clone(), addrs[2].clone());
    http.wait_leader(&addrs, LIMIT).await;
    let started = Instant::now();

    let l1 = Acceptor::bind(0).unwrap();
    let p1 = l1.port;
    let l2 = Acceptor::bind(0).unwrap();
    let p2 = l2.port;
    let p3 = free_port();
    let host = |p: u16| format!("127.0.0.1:{p}");
    let inst = |svc: &str, p: u16| json!({"service": svc, "ip": "127.0.0.1", "port": p});
    let services = [(Sdk::Node, "node-svc"), (Sdk::Python, "py-svc")];

    // 1. Each SDK registers a persistent instance through node 1.
    for (sdk, svc) in services {
        let r = run_ok(sdk, &logs, "register", &n1, inst(svc, p1)).await;
        assert_eq!(r["ok"], true, "{sdk:?}: {r}");
    }
    // 2. Both SDKs list both services from nodes 2 and 3.
    for server in [&n2, &n3] {
        for sdk in [Sdk::Node, Sdk::Python] {
            for (_, svc) in services {
                list_until(sdk, &logs, server, svc, LIMIT, "the first instance", |h| {
                    h == [(host(p1), true)]
                })
                .await;
            }
        }
    }
    eprintln!(
        "[{:?}] registered through node 1, listed from nodes 2 and 3",
        started.elapsed()
    );

    // 3. Subscribers see a second instance within their poll interval.
    let node_sub = Subscriber::start(
        Sdk::Node,
        &logs,
        &n2,
        json!({"service": "node-svc", "seconds": 60}),
    );
    node_sub.wait(LIMIT, "the Node subscriber's first state", |v| {
        hosts(v).len() == 1
    });
    let py_sub = Subscriber::start(
        Sdk::Python,
        &logs,
        &n3,
        json!({"service": "py-svc", "seconds": 60, "interval": PY_POLL_S}),
    );
    py_sub.wait(LIMIT, "the Python subscriber's start", |v| {
        v["subscribed"] == true
    });
    // The Python client reports nothing for what it finds on its first poll; let it poll.
    tokio::time::sleep(Duration::from_millis(PY_POLL_S * 1000 * 2 + 500)).await;
    for (sdk, svc) in services {
        run_ok(sdk, &logs, "register", &n1, inst(svc, p2)).await;
    }
    let registered = Instant::now();
    let (t, _) = node_sub.wait(NODE_POLL + SLACK, "two instances (Node)", |v| {
        hosts(v).len() == 2
    });
    eprintln!(
        "Node subscriber saw the second instance {:?} after its registration",
        t - registered
    );
    let (t, v) = py_sub.wait(
        Duration::from_secs(PY_POLL_S) + SLACK,
        "the ADDED event (Python)",
        |v| v["event"] == "ADDED" && v["instance"]["port"] == p2,
    );
    eprintln!(
        "Python subscriber saw the second instance {:?} after its registration",
        t - registered
    );
    assert_eq!(v["instance"]["healthy"], true);
    drop(node_sub);
    drop(py_sub);

    // 4. kill -9 of the leader between a registration and the list: still there after the
    //    re-election.
    run_ok(Sdk::Node, &logs, "register", &n1, inst("node-svc", p3)).await;
    run_ok(Sdk::Python, &logs, "register", &n1, inst("py-svc", p3)).await;
    let leader = http.wait_leader(&addrs, LIMIT).await;
    c.node(&leader).kill();
    let survivors: Vec<String> = addrs.iter().filter(|a| **a != leader).cloned().collect();
    let new_leader = http.wait_leader(&survivors, LIMIT).await;
    assert_ne!(new_leader, leader);
    for server in &survivors {
        for sdk in [Sdk::Node, Sdk::Python] {
            for (_, svc) in services {
                list_until(
                    sdk,
                    &logs,
                    server,
                    svc,
                    LIMIT,
                    "the instance registered before the kill",
                    |h| h.iter().any(|(a, _)| *a == host(p3)),
                )
                .await;
            }
        }
    }
    c.node(&leader).start();
    http.wait_leader(&addrs, LIMIT).await;
    eprintln!(
        "[{:?}] survived kill -9 of the leader {leader}",
        started.elapsed()
    );

    // 5. Deregistered through node 3: gone from every node.
    for (sdk, svc) in services {
        let r = run_ok(sdk, &logs, "deregister", &n3, inst(svc, p2)).await;
        assert_eq!(r["ok"], true);
    }
    for server in &addrs {
        for sdk in [Sdk::Node, Sdk::Python] {
            for (_, svc) in services {
                list_until(sdk, &logs, server, svc, LIMIT, "the deregistration", |h| {
                    h.len() == 2 && !h.iter().any(|(a, _)| *a == host(p2))
                })
                .await;
            }
        }
    }
    eprintln!("[{:?}] deregistered through node 3", started.elapsed());

    // 6. Every node killed and restarted from its disk: services and instances are back.
    tokio::time::sleep(Duration::from_millis(1_500)).await; // beats bring every follower up to date
    for n in &mut c.nodes {
        n.kill();
    }
    c.start_all();
    http.wait_leader(&addrs, LIMIT).await;
    for (sdk, svc) in services {
        for server in &addrs {
            list_until(
                sdk,
                &logs,
                server,
                svc,
                LIMIT,
                "the instances after a restart",
                |h| {
                    let a: Vec<&str> = h.iter().map(|(a, _)| a.as_str()).collect();
                    a == [host(p1).as_str(), host(p3).as_str()]
                        || a == [host(p3).as_str(), host(p1).as_str()]
                },
            )
            .await;
        }
    }
    eprintln!("[{:?}] restarted from disk", started.elapsed());

    // 7. p3 is a closed port: unhealthy within the check interval × 3 + slack (on every node,
    //    through both SDKs), healthy again once it opens.
    let bound = Duration::from_millis(INTERVAL_MS * 3) + Duration::from_secs(5);
    let t0 = Instant::now();
    for server in &addrs {
        for sdk in [Sdk::Node, Sdk::Python] {
            for (_, svc) in services {
                list_until(
                    sdk,
                    &logs,
                    server,
                    svc,
                    bound,
                    "the closed port unhealthy",
                    |h| h.contains(&(host(p3), false)) && h.contains(&(host(p1), true)),
                )
                .await;
            }
        }
    }
    eprintln!("closed port unhealthy everywhere after {:?}", t0.elapsed());
    let l3 = Acceptor::bind(p3).unwrap();
    let t0 = Instant::now();
    for server in &addrs {
        for sdk in [Sdk::Node, Sdk::Python] {
            for (_, svc) in services {
                list_until(
                    sdk,
                    &logs,
                    server,
                    svc,
                    bound,
                    "the opened port healthy",
                    |h| h.len() == 2 && h.iter().all(|(_, ok)| *ok),
                )
                .await;
            }
        }
    }
    eprintln!("opened port healthy everywhere after {:?}", t0.elapsed());
    let status = run_ok(Sdk::Node, &logs, "status", &n2, json!({})).await;
    assert_eq!(status["status"], "UP");
    drop((l1, l2, l3));
    eprintln!("[{:?}] all SDK checks passed", started.elapsed());
}
