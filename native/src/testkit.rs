//! Running clusters of real `nacos-raft-node` processes on loopback, for the integration tests
//! and the benchmarks: free ports, processes killed on drop, an HTTP helper, and bounded waits;
//! [`etcd`] runs etcd 3.4 beside them and [`procnet`] checks a process's sockets stay on loopback.

use crate::codec::{self, Outbound};
use crate::egress;
use crate::peer_client::{ClientConfig, PeerClient};
use crate::store::Store;
use bytes::Bytes;
use nacos_raft_core::{Datum, Failure, JsonValue, RaftPeer};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod cpu;
pub mod disk;
pub mod etcd;
pub mod netns;
pub mod procnet;
pub mod settle;

/// Nacos' timings divided by ten: elections within about 2 s, a beat every 500 ms.
pub const FAST: &[&str] = &[
    "--tick-ms",
    "50",
    "--leader-timeout-ms",
    "1500",
    "--random-ms",
    "500",
    "--heartbeat-ms",
    "500",
];

/// `n` distinct free loopback ports (bound together, then released).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

/// One node process.
pub struct NodeProc {
    /// Its member address `127.0.0.1:<port>`.
    pub addr: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Where its stderr goes.
    pub log: PathBuf,
    bin: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    starts: usize,
}

impl NodeProc {
    /// A node that is not started yet.
    pub fn new(bin: &Path, addr: &str, data_dir: PathBuf, log: PathBuf, args: Vec<String>) -> Self {
        NodeProc {
            addr: addr.into(),
            data_dir,
            log,
            bin: bin.into(),
            args,
            child: None,
            starts: 0,
        }
    }

    /// Starts (or restarts) the process; its stderr is appended to [`NodeProc::log`].
    pub fn start(&mut self) {
        self.kill();
        if let Some(parent) = self.log.parent() {
            std::fs::create_dir_all(parent).expect("creating the log folder");
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("opening the node log");
        let mut cmd = Command::new(&self.bin);
        // Every node a test or benchmark starts must stay on loopback (see `Drop`).
        cmd.arg("--addr")
            .arg(&self.addr)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--loopback-only")
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        self.starts += 1;
        self.child = Some(cmd.spawn().expect("starting nacos-raft-node"));
    }

    /// `kill -9` and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether the process is still alive.
    pub fn running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// How the process ended, if it has (e.g. code 2: it rejected its options).
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Panics if `log` shows that a node tried to leave loopback: every harness that starts nodes
/// runs them with `--loopback-only` and fails on the first refusal.
pub fn assert_stayed_on_loopback(what: &str, log: &str) {
    if let Some(line) = log.lines().find(|l| l.contains(egress::REFUSAL_LOG)) {
        panic!("{what} tried to connect outside loopback: {line}");
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill();
        if !std::thread::panicking() {
            assert_stayed_on_loopback(&format!("node {}", self.addr), &self.log_text());
        }
    }
}

/// A set of node processes that know each other.
pub struct Cluster {
    /// The nodes, in address order.
    pub nodes: Vec<NodeProc>,
}

impl Cluster {
    /// `n` nodes on free ports with data under `base/<port>/` and logs in `base/<port>.log`,
    /// each started with `--members <all>` and `args`. Nothing is started yet.
    pub fn new(bin: &Path, base: &Path, n: usize, args: &[&str]) -> Cluster {
        Cluster::with_ports(bin, base, &free_ports(n), args)
    }

    /// Like [`Cluster::new`] on the given ports.
    pub fn with_ports(bin: &Path, base: &Path, ports: &[u16], args: &[&str]) -> Cluster {
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let members = addrs.join(",");
        let nodes = ports
            .iter()
            .zip(&addrs)
            .map(|(p, a)| {
                let mut all = vec!["--members".to_string(), members.clone()];
                all.extend(args.iter().map(|s| s.to_string()));
                NodeProc::new(
                    bin,
                    a,
                    base.join(p.to_string()),
                    base.join(format!("{p}.log")),
                    all,
                )
            })
            .collect();
        Cluster { nodes }
    }

    /// Starts every node.
    pub fn start_all(&mut self) {
        for n in &mut self.nodes {
            n.start();
        }
    }

    /// Every address.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr.clone()).collect()
    }

    /// The node with this address.
    pub fn node(&mut self, addr: &str) -> &mut NodeProc {
        self.nodes
            .iter_mut()
            .find(|n| n.addr == addr)
            .expect("a node of this cluster")
    }

    /// Every log, for failure messages.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("----- {} -----\n{}", n.addr, tail(&n.log_text(), 60)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Polls `f` every 50 ms until it yields `Some`, for at most `limit`; panics with `what` after.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    // Bounded in count as well as in time, in case each poll itself takes long.
    let max_polls = (limit.as_millis() / 50).max(1) as usize + 1;
    for _ in 0..max_polls {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() > limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// An HTTP helper speaking to nodes the way a client or a Java peer would.
#[derive(Clone)]
pub struct Http {
    client: PeerClient,
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

impl Http {
    /// A client with a 30 s answer timeout (writes wait for a majority).
    pub fn new() -> Http {
        Http {
            client: PeerClient::new(ClientConfig {
                connect_timeout: Duration::from_secs(2),
                read_timeout: Duration::from_secs(30),
                ..ClientConfig::default()
            }),
        }
    }

    /// The same helper sending the peer identity header `key: value` on every request, as a
    /// member of a cluster with `--identity-key`/`--identity-value` does.
    pub fn with_identity(key: &str, value: &str) -> Http {
        let identity = crate::identity::Identity::new(key, value).expect("a valid identity");
        Http {
            client: PeerClient::new(ClientConfig {
                connect_timeout: Duration::from_secs(2),
                read_timeout: Duration::from_secs(30),
                identity: Some(identity),
                ..ClientConfig::default()
            }),
        }
    }

    /// Any request; the status and body text.
    pub async fn request(
        &self,
        addr: &str,
        method: &'static str,
        path_and_query: &str,
        headers: &[(&'static str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(u16, String), Failure> {
        let out = Outbound {
            method,
            path_and_query: path_and_query.into(),
            headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            body: body.into(),
        };
        let (status, body) = self.client.call(addr, &out).await?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// `GET` a path.
    pub async fn get(&self, addr: &str, path: &str) -> Result<(u16, String), Failure> {
        self.request(addr, "GET", path, &[], Bytes::new()).await
    }

    /// The leader `addr` believes in (`GET /leader`).
    pub async fn leader_of(&self, addr: &str) -> Option<RaftPeer> {
        let (status, body) = self
            .get(addr, &format!("{}/leader", codec::RAFT_BASE))
            .await
            .ok()?;
        if status != 200 {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let inner = v.get("leader")?.as_str()?;
        serde_json::from_str(inner).ok()
    }

    /// `addr`'s own record (`GET /peer`).
    pub async fn peer(&self, addr: &str) -> Option<RaftPeer> {
        let (status, body) = self
            .get(addr, &format!("{}/peer", codec::RAFT_BASE))
            .await
            .ok()?;
        (status == 200).then(|| serde_json::from_str(&body).ok())?
    }

    /// The leader every address in `addrs` agrees on, if they do and it says it leads.
    pub async fn agreed_leader(&self, addrs: &[String]) -> Option<String> {
        let mut leader: Option<String> = None;
        for a in addrs {
            let l = self.leader_of(a).await?.ip;
            match &leader {
                None => leader = Some(l),
                Some(x) if *x == l => {}
                Some(_) => return None,
            }
        }
        let l = leader?;
        if !addrs.contains(&l) {
            return None;
        }
        let me = self.peer(&l).await?;
        (me.state == nacos_raft_core::PeerState::Leader).then_some(l)
    }

    /// Waits until `addrs` agree on a leader.
    pub async fn wait_leader(&self, addrs: &[String], limit: Duration) -> String {
        wait_for("a leader all nodes agree on", limit, || {
            self.agreed_leader(addrs)
        })
        .await
    }

    /// A client write (`POST /datum`); status and body.
    pub async fn put(&self, addr: &str, key: &str, value: &str) -> Result<(u16, String), Failure> {
        let body = crate::client::put_body(key, value).map_err(Failure::Malformed)?;
        self.request(
            addr,
            "POST",
            &format!("{}/datum", codec::RAFT_BASE),
            &[("content-type", codec::JSON_REQUEST)],
            body,
        )
        .await
    }

    /// Retries a write until one is accepted: right after an election a follower may not know
    /// the leader yet (it learns it from the first beat) and refuses the write.
    pub async fn wait_first_write(&self, addr: &str, key: &str, value: &str, limit: Duration) {
        wait_for("a first write", limit, || async {
            matches!(self.put(addr, key, value).await, Ok((200, _))).then_some(())
        })
        .await
    }

    /// A client delete (`DELETE /datum?key=`).
    pub async fn delete(&self, addr: &str, key: &str) -> Result<(u16, String), Failure> {
        let q = codec::java_url_encode(&codec::java_url_encode(key));
        self.request(
            addr,
            "DELETE",
            &format!("{}/datum?key={q}&encoding=UTF-8&nofix=1", codec::RAFT_BASE),
            &[],
            Bytes::new(),
        )
        .await
    }

    /// A read (`GET /datum?keys=`).
    pub async fn datums(&self, addr: &str, keys: &[String]) -> Option<Vec<Option<Datum>>> {
        let (status, body) = self
            .get(
                addr,
                &format!("{}/datum?{}", codec::RAFT_BASE, codec::keys_query(keys)),
            )
            .await
            .ok()?;
        (status == 200).then(|| nacos_raft_core::wire::datums_from_json(&body).ok())?
    }

    /// One value of `GET /metrics` (a sample line `name value`).
    pub async fn metric(&self, addr: &str, name: &str) -> Option<f64> {
        let (status, body) = self.get(addr, "/metrics").await.ok()?;
        if status != 200 {
            return None;
        }
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }
}

/// The instance-list key of service `svc-<i>` in namespace `public`.
pub fn service_key(i: usize) -> String {
    format!("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@svc-{i:06}")
}

/// A realistic `Instances` value with one instance.
pub fn instances_value(i: usize) -> String {
    format!(
        "{{\"instanceList\":[{{\"instanceId\":\"127.0.{}.{}#8080#DEFAULT#DEFAULT_GROUP@@svc-{i:06}\",\"ip\":\"127.0.{}.{}\",\"port\":8080,\"weight\":1.0,\"healthy\":true,\"enabled\":true,\"ephemeral\":false,\"clusterName\":\"DEFAULT\",\"serviceName\":\"DEFAULT_GROUP@@svc-{i:06}\",\"metadata\":{{}},\"lastBeat\":1600000000000,\"marked\":false}}]}}",
        i / 256 % 256,
        i % 256,
        i / 256 % 256,
        i % 256
    )
}

/// Writes `count` datums (`service_key(i)`, timestamp 1) into the data directory `dir` directly,
/// as a node would have persisted them (no fsync: fixtures only).
pub fn seed_datums(dir: &Path, count: usize) -> std::io::Result<()> {
    let store = Store::open(dir).map_err(|e| std::io::Error::other(e.0))?;
    for i in 0..count {
        let d = Datum {
            key: service_key(i),
            value: Some(JsonValue::parse(&instances_value(i)).map_err(std::io::Error::other)?),
            timestamp: 1,
        };
        store.write_unsynced(&d)?;
    }
    Ok(())
}

/// A loopback TCP port that accepts and at once closes every connection (what a health check
/// needs to see a live instance), until dropped. Without accepting, the kernel's accept queue
/// fills up and later connects time out.
pub struct Acceptor {
    /// The port it listens on.
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Acceptor {
    /// Listens on `127.0.0.1:port` (0: any free port).
    pub fn bind(port: u16) -> std::io::Result<Acceptor> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let l = std::net::TcpListener::bind(("127.0.0.1", port))?;
        l.set_nonblocking(true)?;
        let port = l.local_addr()?.port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => drop(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(Acceptor {
            port,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A viewer of a node's event stream (`GET /nacos-raft/v1/events`) over its own connection.
/// Records are read only when asked for: a viewer that does not call [`EventStream::next`]
/// stops reading its socket, as a stalled browser tab would.
pub struct EventStream {
    body: hyper::body::Incoming,
    buf: Vec<u8>,
    conn: tokio::task::JoinHandle<()>,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers.
    pub headers: hyper::HeaderMap,
}

impl EventStream {
    /// Opens the stream of `addr` with extra request `headers`. `recv_buffer` sets the socket's
    /// receive buffer (a small one makes a stalled viewer fall behind sooner).
    pub async fn connect(
        addr: &str,
        headers: &[(&str, &str)],
        recv_buffer: Option<u32>,
    ) -> std::io::Result<EventStream> {
        EventStream::connect_to(addr, "/nacos-raft/v1/events", headers, recv_buffer).await
    }

    /// [`EventStream::connect`] to `uri` (the stream's path with a query).
    pub async fn connect_to(
        addr: &str,
        uri: &str,
        headers: &[(&str, &str)],
        recv_buffer: Option<u32>,
    ) -> std::io::Result<EventStream> {
        use http_body_util::Empty;
        let sa: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| std::io::Error::other(format!("{addr}: {e}")))?;
        if !matches!(sa.ip(), std::net::IpAddr::V4(v4) if v4.octets()[0] == 127) {
            return Err(std::io::Error::other("test viewers stay on 127.0.0.0/8"));
        }
        let socket = tokio::net::TcpSocket::new_v4()?;
        if let Some(n) = recv_buffer {
            socket.set_recv_buffer_size(n)?;
        }
        let stream = socket.connect(sa).await?;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(std::io::Error::other)?;
        let conn = tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = hyper::Request::builder()
            .uri(uri)
            .header(hyper::header::HOST, addr);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Empty::<Bytes>::new())
            .map_err(std::io::Error::other)?;
        let resp = send
            .send_request(req)
            .await
            .map_err(std::io::Error::other)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Ok(EventStream {
            body: resp.into_body(),
            buf: Vec::new(),
            conn,
            status,
            headers,
        })
    }

    /// Opens the stream of `addr`, retrying while the node is still starting.
    pub async fn open(addr: &str, limit: Duration) -> EventStream {
        wait_for(&format!("the event stream of {addr}"), limit, || async {
            EventStream::connect(addr, &[], None)
                .await
                .ok()
                .filter(|s| s.status == 200)
        })
        .await
    }

    /// The next SSE message with at least one `data:` line (keep-alive comments skipped), as
    /// text; `None` when the stream ended or nothing came within `limit`.
    async fn next_text(&mut self, limit: Duration) -> Option<String> {
        use http_body_util::BodyExt;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let msg: Vec<u8> = self.buf.drain(..end + 2).collect();
                let text = String::from_utf8_lossy(&msg).into_owned();
                if text.lines().any(|l| l.starts_with("data:")) {
                    return Some(text);
                }
                continue;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()??
                .ok()?;
            if let Ok(data) = frame.into_data() {
                self.buf.extend_from_slice(&data);
            }
        }
    }

    /// The next record (the JSON of one `data:` line), `None` when the stream ended or nothing
    /// came within `limit`.
    pub async fn next(&mut self, limit: Duration) -> Option<serde_json::Value> {
        let text = self.next_text(limit).await?;
        let data: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        serde_json::from_str(&data.join("\n")).ok()
    }

    /// The next SSE message as it came: its `id:` and each of its `data:` lines as JSON (one
    /// record each, several in a batched stream); `None` when the stream ended, nothing came
    /// within `limit`, or a line is not JSON.
    pub async fn next_message(
        &mut self,
        limit: Duration,
    ) -> Option<(Option<u64>, Vec<serde_json::Value>)> {
        let text = self.next_text(limit).await?;
        let mut id = None;
        let mut data = Vec::new();
        for l in text.lines() {
            if let Some(v) = l.strip_prefix("id: ") {
                id = v.parse().ok();
            } else if let Some(v) = l.strip_prefix("data: ") {
                data.push(serde_json::from_str(v).ok()?);
            }
        }
        Some((id, data))
    }

    /// Reads whatever comes for up to `limit` without parsing it (a viewer that costs its own
    /// process next to nothing); the number of records read, `None` when the stream ended.
    pub async fn skim(&mut self, limit: Duration) -> Option<u64> {
        use http_body_util::BodyExt;
        match tokio::time::timeout(limit, self.body.frame()).await {
            Err(_) => Some(0),
            Ok(Some(Ok(frame))) => Some(frame.into_data().map_or(0, |d| {
                d.windows(6).filter(|w| *w == b"data: ").count() as u64
            })),
            Ok(_) => None,
        }
    }

    /// Every record until `done` holds for one (included) or `limit` passes (then panics with
    /// `what` and what was seen).
    pub async fn until(
        &mut self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Some(r) = self.next(left).await else {
                break;
            };
            let stop = done(&r);
            seen.push(r);
            if stop {
                return seen;
            }
        }
        let tail: Vec<String> = seen.iter().rev().take(20).map(|r| r.to_string()).collect();
        panic!(
            "timed out after {limit:?} waiting for {what}; last records (newest first):\n{}",
            tail.join("\n")
        );
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.conn.abort();
    }
}
