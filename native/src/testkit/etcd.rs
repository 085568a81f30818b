//! A 3-member etcd 3.4 cluster on loopback, for benchmarks that put nacos-raft side by side with
//! etcd (`make bench-vs-etcd`): processes on free 127.0.0.1 ports, data in a directory the caller
//! owns, killed on drop, and the few requests of etcd's v3 JSON gateway a benchmark needs.
//!
//! Every URL etcd is given is `http://127.0.0.1:<port>`, and every flag that would make it listen
//! or advertise elsewhere is set explicitly rather than left to its default (`localhost`, which a
//! resolver may map to `::1` or worse). No discovery flag is passed (etcd's defaults are empty),
//! and the environment variables `ETCD_*`, which etcd reads as flags, are removed from the
//! child's environment so that nothing on the machine can add one.

use super::Http;
use bytes::Bytes;
use nacos_raft_core::Failure;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// The JSON gateway's write path (etcd 3.4 serves `/v3/…`; `/v3beta/…` is its deprecated alias).
pub const PUT_PATH: &str = "/v3/kv/put";

/// etcd's Raft timings (milliseconds). etcd refuses an election timeout below 5 heartbeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EtcdTimings {
    /// `--heartbeat-interval`.
    pub heartbeat_ms: u64,
    /// `--election-timeout`: a follower campaigns a random time in `[e, 2e)` after the last
    /// message from its leader.
    pub election_ms: u64,
}

impl Default for EtcdTimings {
    /// etcd's own defaults (100 ms, 1000 ms).
    fn default() -> Self {
        EtcdTimings {
            heartbeat_ms: 100,
            election_ms: 1000,
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4): etcd's JSON gateway carries keys and values so.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(A[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The arguments of member `i` of a cluster whose members use `ports[j] = (client, peer)`.
/// Only 127.0.0.1 URLs, a fresh cluster (`--initial-cluster-state new`), zap logs on stderr.
pub fn member_args(
    i: usize,
    ports: &[(u16, u16)],
    data_dir: &Path,
    token: &str,
    timings: EtcdTimings,
) -> Vec<String> {
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    let initial = ports
        .iter()
        .enumerate()
        .map(|(j, (_, peer))| format!("m{j}={}", url(*peer)))
        .collect::<Vec<_>>()
        .join(",");
    let (client, peer) = ports[i];
    [
        ("--name", format!("m{i}")),
        ("--data-dir", data_dir.display().to_string()),
        ("--listen-client-urls", url(client)),
        ("--advertise-client-urls", url(client)),
        ("--listen-peer-urls", url(peer)),
        ("--initial-advertise-peer-urls", url(peer)),
        ("--initial-cluster", initial),
        ("--initial-cluster-state", "new".into()),
        ("--initial-cluster-token", token.into()),
        ("--heartbeat-interval", timings.heartbeat_ms.to_string()),
        ("--election-timeout", timings.election_ms.to_string()),
        ("--logger", "zap".into()),
        ("--log-outputs", "stderr".into()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect()
}

/// One etcd member process.
pub struct EtcdMember {
    /// `m<i>`.
    pub name: String,
    /// Its client address `127.0.0.1:<port>` (gRPC and the JSON gateway).
    pub client_addr: String,
    /// Where its stderr goes.
    pub log: PathBuf,
    bin: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl EtcdMember {
    /// Starts (or restarts, on the same data directory) the process.
    pub fn start(&mut self) -> std::io::Result<()> {
        self.kill();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = Command::new(&self.bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("ETCD_") {
                cmd.env_remove(k);
            }
        }
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        self.child = Some(cmd.spawn()?);
        Ok(())
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// How the process ended, if it has.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The arguments it runs with.
    pub fn args(&self) -> &[String] {
        &self.args
    }
}

impl Drop for EtcdMember {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three (or `n`) etcd members on free loopback ports.
pub struct EtcdCluster {
    /// The members, `m0`, `m1`, ….
    pub members: Vec<EtcdMember>,
}

impl EtcdCluster {
    /// `n` members of a new cluster with data in `base/m<i>/` and logs in `base/m<i>.log`;
    /// nothing is started yet.
    pub fn new(bin: &Path, base: &Path, n: usize, timings: EtcdTimings) -> EtcdCluster {
        let free = super::free_ports(2 * n);
        let ports: Vec<(u16, u16)> = free.chunks(2).map(|c| (c[0], c[1])).collect();
        // Two clusters started by one process (or by two runs) must never join each other.
        let token = format!("vs-etcd-{}-{}", std::process::id(), ports[0].0);
        let members = (0..n)
            .map(|i| EtcdMember {
                name: format!("m{i}"),
                client_addr: format!("127.0.0.1:{}", ports[i].0),
                log: base.join(format!("m{i}.log")),
                bin: bin.into(),
                args: member_args(i, &ports, &base.join(format!("m{i}")), &token, timings),
                child: None,
            })
            .collect();
        EtcdCluster { members }
    }

    /// Starts every member.
    pub fn start_all(&mut self) -> std::io::Result<()> {
        for m in &mut self.members {
            m.start()?;
        }
        Ok(())
    }

    /// Every client address.
    pub fn addrs(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_addr.clone()).collect()
    }

    /// The member with this client address.
    pub fn member(&mut self, addr: &str) -> &mut EtcdMember {
        self.members
            .iter_mut()
            .find(|m| m.client_addr == addr)
            .expect("a member of this cluster")
    }
}

/// `POST path` with a JSON body to an etcd client address; status and body text.
pub async fn post(
    http: &Http,
    addr: &str,
    path: &str,
    body: String,
) -> Result<(u16, String), Failure> {
    http.request(
        addr,
        "POST",
        path,
        &[("content-type", "application/json")],
        Bytes::from(body),
    )
    .await
}

/// A put of `key` = `value` (raw bytes, base64'd here); `Ok(true)` once etcd answered 200 with
/// a response header, i.e. the write is committed.
pub async fn put(http: &Http, addr: &str, key: &str, value: &str) -> Result<bool, Failure> {
    let body = format!(
        "{{\"key\":\"{}\",\"value\":\"{}\"}}",
        base64(key.as_bytes()),
        base64(value.as_bytes())
    );
    let (status, text) = post(http, addr, PUT_PATH, body).await?;
    Ok(status == 200 && text.contains("\"header\""))
}

/// `(member id, leader id)` as `addr` reports them (`/v3/maintenance/status`); the leader id is
/// `None` while it knows no leader.
pub async fn status(http: &Http, addr: &str) -> Option<(String, Option<String>)> {
    let (code, text) = post(http, addr, "/v3/maintenance/status", "{}".into())
        .await
        .ok()?;
    if code != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let me = v.get("header")?.get("member_id")?.as_str()?.to_string();
    // The gateway writes uint64 as strings and omits zero values.
    let leader = v
        .get("leader")
        .and_then(|l| l.as_str())
        .filter(|l| *l != "0")
        .map(str::to_string);
    Some((me, leader))
}

/// The client address of the leader every address in `addrs` agrees on, if they all answer and
/// agree and the leader is one of them.
pub async fn agreed_leader(http: &Http, addrs: &[String]) -> Option<String> {
    let mut ids = Vec::new();
    let mut leader: Option<String> = None;
    for a in addrs {
        let (me, l) = status(http, a).await?;
        let l = l?;
        match &leader {
            None => leader = Some(l),
            Some(x) if *x == l => {}
            Some(_) => return None,
        }
        ids.push((me, a.clone()));
    }
    let l = leader?;
    ids.into_iter().find(|(me, _)| *me == l).map(|(_, a)| a)
}

/// How many keys start with `prefix` (`/v3/kv/range` with `count_only`).
pub async fn count_prefix(http: &Http, addr: &str, prefix: &str) -> Option<u64> {
    let mut end = prefix.as_bytes().to_vec();
    // The range end of a prefix: its last byte plus one (the prefixes used here end in ASCII).
    let last = end.last_mut()?;
    *last = last.checked_add(1)?;
    let body = format!(
        "{{\"key\":\"{}\",\"range_end\":\"{}\",\"count_only\":true}}",
        base64(prefix.as_bytes()),
        base64(&end)
    );
    let (code, text) = post(http, addr, "/v3/kv/range", body).await.ok()?;
    if code != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    // An empty range omits "count".
    match v.get("count") {
        None => Some(0),
        Some(c) => c.as_str()?.parse().ok(),
    }
}

/// The first line of `etcd --version` (`etcd Version: 3.4.23`).
pub fn version(bin: &Path) -> std::io::Result<String> {
    let out = Command::new(bin).arg("--version").output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc, "{raw:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn member_args_name_only_loopback_urls_and_no_discovery() {
        let ports = [(2001, 2002), (2003, 2004), (2005, 2006)];
        let args = member_args(
            1,
            &ports,
            Path::new("/tmp/d/m1"),
            "tok",
            EtcdTimings::default(),
        );
        let get = |k: &str| {
            let i = args
                .iter()
                .position(|a| a == k)
                .unwrap_or_else(|| panic!("{k} missing"));
            args[i + 1].clone()
        };
        assert_eq!(get("--listen-client-urls"), "http://127.0.0.1:2003");
        assert_eq!(get("--advertise-client-urls"), "http://127.0.0.1:2003");
        assert_eq!(get("--listen-peer-urls"), "http://127.0.0.1:2004");
        assert_eq!(
            get("--initial-advertise-peer-urls"),
            "http://127.0.0.1:2004"
        );
        assert_eq!(
            get("--initial-cluster"),
            "m0=http://127.0.0.1:2002,m1=http://127.0.0.1:2004,m2=http://127.0.0.1:2006"
        );
        assert_eq!(get("--heartbeat-interval"), "100");
        assert_eq!(get("--election-timeout"), "1000");
        // Every URL in every value is a 127.0.0.1 one; nothing mentions discovery or localhost.
        for a in &args {
            assert!(!a.contains("discovery") && !a.contains("localhost"), "{a}");
            for url in a.split(',').filter(|u| u.contains("://")) {
                let url = url.split_once('=').map_or(url, |(_, u)| u);
                assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            }
        }
    }
}
