//! Requests to other members over HTTP/1.1 with keep-alive, with the timeouts of Java's client
//! (connect 5 s, read 10 s) and `User-Agent: Nacos-Server:1.4.1` on every request.

use crate::codec::{self, Outbound};
use crate::egress::Egress;
use crate::store;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use nacos_raft_core::{Failure, Request, Response};
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
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            max_answer: 256 << 20,
            max_gunzip: codec::Limits::default().max_gunzip,
            max_fetch_url: DEFAULT_MAX_FETCH_URL,
        }
    }
}

/// A pooled HTTP client for member-to-member requests.
#[derive(Clone)]
pub struct PeerClient {
    http: Client<HttpConnector, Full<Bytes>>,
    cfg: ClientConfig,
    egress: Egress,
}

impl PeerClient {
    /// A client with its own connection pool.
    pub fn new(cfg: ClientConfig) -> PeerClient {
        let mut conn = HttpConnector::new();
        conn.set_connect_timeout(Some(cfg.connect_timeout));
        conn.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(128)
            .build(conn);
        PeerClient {
            http,
            cfg,
            egress: Egress::default(),
        }
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
        let mut b = hyper::Request::builder()
            .method(out.method)
            .uri(&uri)
            .header(hyper::header::USER_AGENT, codec::USER_AGENT);
        for (k, v) in &out.headers {
            b = b.header(*k, v.as_str());
        }
        let req = b
            .body(Full::new(out.body.clone()))
            .map_err(|e| Failure::Malformed(format!("cannot build a request to {uri}: {e}")))?;
        let max = self.cfg.max_answer;
        let exchange = async {
            let resp = self.http.request(req).await.map_err(|e| {
                if e.is_connect() {
                    Failure::Refused
                } else {
                    tracing::debug!(%uri, error = %e, "request failed");
                    Failure::Refused
                }
            })?;
            let status = resp.status().as_u16();
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
        let (status, body) = self.call(to, &out).await?;
        codec::decode_answer_capped(req, status, &body, self.cfg.max_gunzip)
    }

    /// A datum fetch, split into several GETs when the key list would make the request line
    /// longer than a Java leader accepts; the answers are joined in order. Datums whose keys
    /// cannot be stored safely are dropped here (logged) so they never reach the node.
    pub async fn fetch(&self, to: &str, keys: &[String]) -> Result<Response, Failure> {
        let mut all = Vec::with_capacity(keys.len());
        for part in split_for_url(keys, self.cfg.max_fetch_url) {
            let req = Request::GetDatums(part.to_vec());
            let out = codec::encode_request(&req, None);
            let (status, body) = self.call(to, &out).await?;
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
