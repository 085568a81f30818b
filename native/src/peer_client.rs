//! Requests to other members over HTTP/1.1 with keep-alive, with the timeouts of Java's client
//! (connect 5 s, read 10 s), `User-Agent: Nacos-Server:1.4.1` and the peer identity header (when
//! configured) on every request.

use crate::beat_list::ListId;
use crate::codec::{self, Outbound};
use crate::egress::Egress;
use crate::identity::Identity;
use crate::live::Live;
use crate::store;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use nacos_raft_core::{Failure, Request, Response};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Length of the request line (`/nacos/v1/ns/raft/datum?keys=…`) a datum fetch stays under by
/// default. Tomcat, in front of a Java leader, refuses requests whose line and headers exceed
/// `max-http-header-size` (8 KiB by default); the headers sent here take about 200 bytes.
pub const DEFAULT_MAX_FETCH_URL: usize = 6 * 1024;

/// Timeouts and caps of the client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// TCP connect timeout (Java: 5000 ms).
    pub connect_timeout: Duration,
    /// Time allowed for the answer once connected (Java: 10000 ms read timeout).
    pub read_timeout: Duration,
    /// Largest answer body read.
    pub max_answer: usize,
    /// Largest inflated gzip answer (`--max-gunzip-bytes`, as for request bodies).
    pub max_gunzip: usize,
    /// Longest path and query of one datum fetch; longer key lists are split.
    pub max_fetch_url: usize,
    /// The peer identity header sent on every request (unless the request names it itself).
    pub identity: Option<Identity>,
    /// The local address requests are sent from (`--source-ip`); `None`: the kernel's choice.
    pub source_ip: Option<std::net::IpAddr>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            max_answer: 256 << 20,
            max_gunzip: codec::Limits::default().max_gunzip,
            max_fetch_url: DEFAULT_MAX_FETCH_URL,
            identity: None,
            source_ip: None,
        }
    }
}

/// A pooled HTTP client for member-to-member requests.
#[derive(Clone)]
pub struct PeerClient {
    http: Client<HttpConnector, Full<Bytes>>,
    cfg: ClientConfig,
    egress: Egress,
    live: Option<Live>,
    /// The members whose last commit answer said they take batches ([`codec::BATCH_HEADER`]).
    batch_takers: Arc<Mutex<HashSet<String>>>,
}

impl PeerClient {
    /// A client with its own connection pool.
    pub fn new(cfg: ClientConfig) -> PeerClient {
        let mut conn = HttpConnector::new();
        conn.set_connect_timeout(Some(cfg.connect_timeout));
        conn.set_nodelay(true);
        conn.set_local_address(cfg.source_ip);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(128)
            .build(conn);
        PeerClient {
            http,
            cfg,
            egress: Egress::default(),
            live: None,
            batch_takers: Arc::default(),
        }
    }

    /// The same client reporting every protocol request to `live` (and subject to its faults).
    pub fn with_live(mut self, live: Live) -> PeerClient {
        self.live = Some(live);
        self
    }

    /// The same client with every destination checked by `egress` first.
    pub fn with_egress(mut self, egress: Egress) -> PeerClient {
        self.egress = egress;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Sends one request to `to` (`host:port`) and returns the status and body.
    pub async fn call(&self, to: &str, out: &Outbound) -> Result<(u16, Bytes), Failure> {
        if self.egress.check(to, out.path_and_query.as_str()).is_err() {
            return Err(Failure::Refused);
        }
        let uri = format!("http://{to}{}", out.path_and_query);
        let mut b = hyper::Request::builder().method(out.method).uri(&uri);
        // Java's agent unless the request names its own (clients played by tests).
        if !out
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            b = b.header(hyper::header::USER_AGENT, codec::USER_AGENT);
        }
        if let Some(id) = &self.cfg.identity {
            if !out
                .headers
                .iter()
                .any(|(k, _)| id.name().as_str().eq_ignore_ascii_case(k))
            {
                b = b.header(id.name(), id.value());
            }
        }
        for (k, v) in &out.headers {
            b = b.header(*k, v.as_str());
        }
        let req = b
            .body(Full::new(out.body.clone()))
            .map_err(|e| Failure::Malformed(format!("cannot build a request to {uri}: {e}")))?;
        let max = self.cfg.max_answer;
        let is_commit = out.method == "POST" && out.path_and_query.ends_with("/datum/commit");
        let exchange = async {
            let resp = self.http.request(req).await.map_err(|e| {
                // Refused or reset: either way the member is unreachable for now. Connect
                // failures are routine (a member down) and not worth a line each.
                if !e.is_connect() {
                    tracing::debug!(%uri, error = %e, "request failed");
                }
                Failure::Refused
            })?;
            let status = resp.status().as_u16();
            if is_commit {
                self.note_batch_taker(to, resp.headers().contains_key(codec::BATCH_HEADER));
            }
            let body = Limited::new(resp.into_body(), max)
                .collect()
                .await
                .map_err(|e| Failure::Malformed(format!("answer body from {to}: {e}")))?
                .to_bytes();
            Ok((status, body))
        };
        match tokio::time::timeout(self.cfg.connect_timeout + self.cfg.read_timeout, exchange).await
        {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        }
    }

    /// [`PeerClient::call`] for a protocol request: numbered, reported and subject to the faults
    /// of the live view when there is one.
    async fn exchange(
        &self,
        to: &str,
        req: &Request,
        mut out: Outbound,
    ) -> Result<(u16, Bytes), Failure> {
        let Some(live) = &self.live else {
            return self.call(to, &out).await;
        };
        let tap = live.outbound(to, req, &mut out.headers);
        tap.gate().await?;
        let result = self.call(to, &out).await;
        tap.answered(&result);
        result
    }

    /// Sends a protocol request and reads the answer. `beat` is the pre-encoded body of a beat.
    pub async fn send(
        &self,
        to: &str,
        req: &Request,
        beat: Option<Bytes>,
    ) -> Result<Response, Failure> {
        if let Request::GetDatums(keys) = req {
            return self.fetch(to, keys).await;
        }
        let out = codec::encode_request(req, beat);
        let (status, body) = self.exchange(to, req, out).await?;
        codec::decode_answer_capped(req, status, &body, self.cfg.max_gunzip)
    }

    /// Sends a beat with its encoded `body` and reads the answer, with the name of the list the
    /// member says it now holds (`beatList`, only hardened members of this node name one).
    pub async fn send_beat(
        &self,
        to: &str,
        req: &Request,
        body: Bytes,
    ) -> (Result<Response, Failure>, Option<ListId>) {
        let out = codec::encode_request(req, Some(body));
        match self.exchange(to, req, out).await {
            Err(f) => (Err(f), None),
            Ok((status, answer)) => {
                let holds = (status == 200)
                    .then(|| codec::list_named_in_answer(&answer))
                    .flatten();
                let result = codec::decode_answer_capped(req, status, &answer, self.cfg.max_gunzip);
                (result, holds)
            }
        }
    }

    /// Whether commits to `to` may go as one batch: it said it takes them, and no page watches
    /// this node and no fault is set (the live view shows and faults every commit on its own).
    pub fn takes_batches(&self, to: &str) -> bool {
        if let Some(live) = &self.live {
            if live.watched() || live.faults_active() {
                return false;
            }
        }
        self.batch_takers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(to)
    }

    fn note_batch_taker(&self, to: &str, takes: bool) {
        let mut set = self
            .batch_takers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if takes != set.contains(to) {
            if takes {
                set.insert(to.to_string());
            } else {
                set.remove(to);
            }
        }
    }

    /// Sends `commits` (each a [`Request::Commit`]) to `to` in one request and reads each one's
    /// answer, in order. A member that answers the first alone (it does not take batches after
    /// all: a restart as another build) gets the others one by one, concurrently.
    pub async fn send_commits(
        &self,
        to: &str,
        commits: &[Request],
    ) -> Vec<Result<Response, Failure>> {
        let n = commits.len();
        if n <= 1 {
            // A batch of one is a plain commit, whose plain answer is no batch's.
            return match commits.first() {
                Some(req) => vec![self.send(to, req, None).await],
                None => Vec::new(),
            };
        }
        let out = codec::encode_commit_batch(commits);
        let (status, body) = match self.call(to, &out).await {
            Ok(answer) => answer,
            Err(f) => return vec![Err(f); n],
        };
        let max = self.cfg.max_gunzip;
        if status == 200 {
            if let Some(answers) = codec::decode_batch_answer(&body, n) {
                return commits
                    .iter()
                    .zip(answers)
                    .map(|(req, (status, text))| {
                        codec::decode_answer_capped(req, status, text.as_bytes(), max)
                    })
                    .collect();
            }
        }
        self.note_batch_taker(to, false);
        // Over the member's `--max-body-bytes` (413) nothing of it was read; otherwise the member
        // applied the first commit as Java reads it.
        let (first, again) = if status == codec::TOO_LARGE {
            (None, commits)
        } else {
            let first = codec::decode_answer_capped(&commits[0], status, &body, max);
            (Some(first), &commits[1..])
        };
        let again =
            futures_util::future::join_all(again.iter().map(|req| self.send(to, req, None))).await;
        first.into_iter().chain(again).collect()
    }

    /// A datum fetch, split into several GETs when the key list would make the request line
    /// longer than a Java leader accepts; the answers are joined in order. Datums whose keys
    /// cannot be stored safely are dropped here (logged) so they never reach the node.
    pub async fn fetch(&self, to: &str, keys: &[String]) -> Result<Response, Failure> {
        let mut all = Vec::with_capacity(keys.len());
        for part in split_for_url(keys, self.cfg.max_fetch_url) {
            let req = Request::GetDatums(part.to_vec());
            let out = codec::encode_request(&req, None);
            let (status, body) = self.exchange(to, &req, out).await?;
            match codec::decode_answer_capped(&req, status, &body, self.cfg.max_gunzip)? {
                Response::Datums(list) => all.extend(list),
                _ => return Err(Failure::Malformed("datum answer is not a list".into())),
            }
        }
        for slot in all.iter_mut() {
            if let Some(d) = slot {
                if let Err(why) = store::storable(&d.key) {
                    tracing::warn!(from = to, "dropping a fetched datum: {why}");
                    *slot = None;
                }
            }
        }
        Ok(Response::Datums(all))
    }
}

/// Splits `keys` into runs whose fetch request line stays within `max_url` bytes (a single key
/// longer than that still goes alone: nothing shorter can ask for it).
pub fn split_for_url(keys: &[String], max_url: usize) -> Vec<&[String]> {
    let fixed = codec::RAFT_BASE.len() + "/datum?keys=&encoding=UTF-8&nofix=1".len();
    let mut out = Vec::new();
    let mut start = 0;
    let mut len = fixed;
    for (i, k) in keys.iter().enumerate() {
        // Twice encoded, plus the twice-encoded comma (`%252C`).
        let add = codec::java_url_encode(&codec::java_url_encode(k)).len() + 5;
        if i > start && len + add > max_url {
            out.push(&keys[start..i]);
            start = i;
            len = fixed;
        }
        len += add;
    }
    if start < keys.len() {
        out.push(&keys[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A fake member that accepts, reads the request, writes `head` and then `trickle` one
    /// byte every 100 ms (for at most 30 s) and never finishes.
    async fn fake_peer(head: &'static [u8], trickle: u8) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(head).await;
            for _ in 0..300 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if trickle == 0 || s.write_all(&[trickle]).await.is_err() {
                    continue;
                }
            }
        });
        addr
    }

    /// The connect + answer timeouts bound a peer that never answers and peers that trickle
    /// bytes (in the head or in the body): the call ends with `Timeout` once they have passed.
    #[tokio::test]
    async fn a_silent_or_trickling_peer_is_cut_off_by_the_timeouts() {
        let client = PeerClient::new(ClientConfig {
            connect_timeout: Duration::from_millis(300),
            read_timeout: Duration::from_millis(700),
            ..ClientConfig::default()
        });
        let out = codec::encode_request(&Request::GetPeer, None);
        for (what, head, trickle) in [
            ("accepts and never answers", &b""[..], 0),
            ("trickles its head", &b"HTTP/1.1 200 OK\r\nx-a: "[..], b'a'),
            (
                "trickles its body",
                &b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n"[..],
                b'{',
            ),
        ] {
            let addr = fake_peer(head, trickle).await;
            let start = Instant::now();
            let r = client.call(&addr, &out).await;
            let took = start.elapsed();
            assert!(matches!(r, Err(Failure::Timeout)), "{what}: {r:?}");
            assert!(
                took >= Duration::from_millis(1000) && took < Duration::from_secs(5),
                "{what}: {took:?}"
            );
        }
    }

    /// A member that answers every request `ok` without the batch header (as Java does), one
    /// request per connection, and hands over each request body it read.
    async fn java_like_member(
        refuse_batches: bool,
    ) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            for _ in 0..20 {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, len) = loop {
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, len);
                        }
                    };
                    while buf.len() < head + len {
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = String::from_utf8_lossy(&buf[head..head + len]).into_owned();
                    let answer: &[u8] = if refuse_batches && body.contains("\"batch\":") {
                        b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    } else {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    };
                    let _ = tx.send(body);
                    let _ = s.write_all(answer).await;
                });
            }
        });
        (addr, rx)
    }

    /// A batch sent to a member that turns out not to take batches: it applied the first commit
    /// (as Java reads the body), the others go again one by one, and the member is no longer
    /// taken for one that takes batches.
    #[tokio::test]
    async fn a_batch_to_a_member_that_does_not_take_batches_is_sent_again_one_by_one() {
        let (addr, mut bodies) = java_like_member(false).await;
        let client = PeerClient::new(ClientConfig::default());
        client.note_batch_taker(&addr, true);
        assert!(client.takes_batches(&addr));
        let commits = three_commits();
        let results = client.send_commits(&addr, &commits).await;
        assert_eq!(results, vec![Ok(Response::Ok); 3]);
        assert!(!client.takes_batches(&addr));
        let mut seen = Vec::new();
        for _ in 0..3 {
            seen.push(bodies.recv().await.unwrap());
        }
        assert!(
            seen[0].contains("\"batch\":[") && seen[0].contains("svc-0"),
            "{}",
            seen[0]
        );
        let mut alone: Vec<&String> = seen[1..].iter().collect();
        alone.sort();
        assert!(
            alone[0].contains("svc-1") && !alone[0].contains("batch"),
            "{}",
            alone[0]
        );
        assert!(
            alone[1].contains("svc-2") && !alone[1].contains("batch"),
            "{}",
            alone[1]
        );
    }

    fn three_commits() -> Vec<Request> {
        (0..3)
            .map(|i| Request::Commit {
                datum: nacos_raft_core::Datum {
                    key: format!("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@svc-{i}"),
                    value: Some(
                        nacos_raft_core::JsonValue::parse("{\"instanceList\":[]}").unwrap(),
                    ),
                    timestamp: 10 + i,
                },
                source: nacos_raft_core::RaftPeer::default(),
            })
            .collect()
    }

    /// A batch over the member's body limit (413, nothing of it read): every commit of it goes
    /// again alone, the first one too.
    #[tokio::test]
    async fn a_batch_refused_as_too_large_is_sent_again_whole_one_by_one() {
        let (addr, mut bodies) = java_like_member(true).await;
        let client = PeerClient::new(ClientConfig::default());
        client.note_batch_taker(&addr, true);
        let results = client.send_commits(&addr, &three_commits()).await;
        assert_eq!(results, vec![Ok(Response::Ok); 3]);
        assert!(!client.takes_batches(&addr));
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(bodies.recv().await.unwrap());
        }
        assert!(seen[0].contains("\"batch\":["), "{}", seen[0]);
        let mut alone: Vec<&String> = seen[1..].iter().collect();
        alone.sort();
        for (i, body) in alone.iter().enumerate() {
            assert!(
                body.contains(&format!("svc-{i}\"")) && !body.contains("batch"),
                "{body}"
            );
        }
    }

    #[test]
    fn fetches_are_split_to_fit_the_request_line() {
        let keys: Vec<String> = (0..200)
            .map(|i| format!("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@svc-{i:06}"))
            .collect();
        let parts = split_for_url(&keys, DEFAULT_MAX_FETCH_URL);
        assert!(parts.len() >= 3, "{}", parts.len());
        assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), 200);
        for p in &parts {
            let line = codec::encode_request(&Request::GetDatums(p.to_vec()), None).path_and_query;
            assert!(line.len() <= DEFAULT_MAX_FETCH_URL, "{}", line.len());
        }
        let huge = vec!["x".repeat(10_000)];
        assert_eq!(split_for_url(&huge, 100).len(), 1);
        assert!(split_for_url(&[], 100).is_empty());
    }
}
