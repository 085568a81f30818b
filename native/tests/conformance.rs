//! The real binary against fake Java peers on loopback: the test plays the other members,
//! sending requests in the Java 1.3 and 1.4 forms and capturing what the node sends, so both
//! directions of the wire are checked exactly as a Java node would see them.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use nacos_raft_core::wire::{self, CommitBody};
use nacos_raft_core::{BeatPacket, Datum, JsonValue, PeerState, RaftPeer};
use nacos_raft_node::codec;
use nacos_raft_node::testkit::{free_ports, wait_for, Http, NodeProc};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const BASE: &str = codec::RAFT_BASE;
const K1: &str = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@alpha";
const K2: &str = "com.alibaba.nacos.naming.iplist.dev##DEFAULT_GROUP@@providers:com.x.Api:1.0.0:";
const K3: &str = "com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@gamma";
const K4: &str = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@delta";

#[derive(Clone, Debug)]
struct Captured {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type Log = Arc<Mutex<Vec<Captured>>>;
type Responder = Arc<dyn Fn(&Captured) -> (u16, String) + Send + Sync>;

/// A fake member on `port` that records every request and answers with `respond`.
async fn fake_peer(port: u16, respond: Responder) -> Log {
    let log: Log = Arc::default();
    let l2 = log.clone();
    let app = Router::new().fallback(move |req: axum::extract::Request| {
        let (log, respond) = (l2.clone(), respond.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 64 << 20)
                .await
                .unwrap_or_default();
            let c = Captured {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().map(String::from),
                headers: parts.headers,
                body,
            };
            let (status, text) = respond(&c);
            log.lock().unwrap().push(c);
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json; charset=UTF-8")],
                text,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("fake peer port");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    log
}

fn captured(log: &Log, method: &str, path: &str) -> Vec<Captured> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|c| c.method == method && c.path == path)
        .cloned()
        .collect()
}

fn peer(ip: &str, vote_for: &str, term: u64, state: PeerState) -> RaftPeer {
    RaftPeer {
        ip: ip.into(),
        vote_for: Some(vote_for.into()),
        term,
        leader_due_ms: 16_000,
        heartbeat_due_ms: 5_000,
        state,
        data_version: None,
        position: None,
    }
}

fn java_decode(body: &[u8], times: u32) -> String {
    let mut cur = body.to_vec();
    for _ in 0..times {
        cur = codec::java_url_decode(&cur).expect("Java decodes this");
    }
    String::from_utf8(cur).unwrap()
}

fn value(tag: &str) -> String {
    format!(
        r#"{{"instanceList":[{{"ip":"127.0.0.5","port":8080,"metadata":{{"tag":"{tag}","expr":"a+b","ratio":"100%","esc":"%41"}}}}]}}"#
    )
}

/// A value as a Java leader sends it raw (no `%`: a Java follower would refuse a stray one), and
/// as every member holds it after Java's URL decode (`+` is a space; issue #10 item 6).
fn java_raw_value(tag: &str) -> (String, String) {
    let sent = format!(
        r#"{{"instanceList":[{{"ip":"127.0.0.5","port":8080,"metadata":{{"tag":"{tag}","expr":"a+b"}}}}]}}"#
    );
    let held = sent.replace("a+b", "a b");
    (sent, held)
}

fn datum(k: &str, v: &str, ts: u64) -> Datum {
    Datum {
        key: k.into(),
        value: Some(JsonValue::parse(v).unwrap()),
        timestamp: ts,
    }
}

fn beat_gzip(leader: &RaftPeer, datums: &[(&str, u64)]) -> Vec<u8> {
    let packet = BeatPacket {
        peer: leader.clone(),
        datums: datums
            .iter()
            .map(|(k, ts)| nacos_raft_core::BeatDatum {
                key: nacos_raft_core::key::brief(k).unwrap().to_string(),
                timestamp: *ts,
            })
            .collect::<Vec<_>>()
            .into(),
    };
    // Exactly what Java puts on the wire: gzip of the raw outer JSON.
    codec::gzip(packet.to_body().as_bytes(), 6)
}

fn start_node(dir: &Path, me: u16, members: &[u16], extra: &[&str]) -> NodeProc {
    let list: Vec<String> = members.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut args = vec!["--members".to_string(), list.join(",")];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut n = NodeProc::new(
        Path::new(BIN),
        &format!("127.0.0.1:{me}"),
        dir.join("data"),
        dir.join("node.log"),
        args,
    );
    n.start();
    n
}

async fn up(http: &Http, addr: &str) {
    wait_for("the node to answer", Duration::from_secs(20), || async {
        http.get(addr, &format!("{BASE}/peer"))
            .await
            .ok()
            .filter(|(s, _)| *s == 200)
    })
    .await;
}

/// The node as a follower of a fake Java leader: every inbound form of 1.3 and 1.4, beat sync
/// against the fake leader, forwards, and the node's own vote requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_of_a_java_leader() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let (n, a, b) = (ports[0], ports[1], ports[2]);
    let (na, aa, ba) = (
        format!("127.0.0.1:{n}"),
        format!("127.0.0.1:{a}"),
        format!("127.0.0.1:{b}"),
    );
    let leader_a = peer(&aa, &aa, 2000, PeerState::Leader);
    // A: refuses votes, serves datum fetches from its own map, accepts forwards.
    let a_datums: Arc<Mutex<HashMap<String, Datum>>> = Arc::default();
    let (ad, aa2) = (a_datums.clone(), aa.clone());
    let a_log = fake_peer(
        a,
        Arc::new(
            move |c: &Captured| match (c.method.as_str(), c.path.as_str()) {
                ("POST", "/nacos/v1/ns/raft/vote") => {
                    (200, peer(&aa2, &aa2, 0, PeerState::Follower).to_json())
                }
                ("GET", "/nacos/v1/ns/raft/datum") => {
                    let keys = codec::decode_keys(c.query.as_deref(), b"").unwrap();
                    let map = ad.lock().unwrap();
                    let list: Vec<Option<Datum>> =
                        keys.iter().map(|k| map.get(k).cloned()).collect();
                    (200, wire::datums_to_json(&list))
                }
                _ => (200, "ok".into()),
            },
        ),
    )
    .await;
    let ba2 = ba.clone();
    let _b_log = fake_peer(
        b,
        Arc::new(move |_c: &Captured| (200, peer(&ba2, &ba2, 0, PeerState::Follower).to_json())),
    )
    .await;
    let mut node = start_node(
        dir.path(),
        n,
        &[n, a, b],
        &[
            "--tick-ms",
            "50",
            "--leader-timeout-ms",
            "3000",
            "--random-ms",
            "500",
            "--heartbeat-ms",
            "1000",
        ],
    );
    let http = Http::new();
    up(&http, &na).await;
    let form = [("content-type", codec::FORM_REQUEST)];

    // Vote, 1.4 form: a form body, no query string.
    let cand = peer(&aa, &aa, 1000, PeerState::Candidate);
    let body = format!("vote={}", codec::java_url_encode(&cand.to_json()));
    let (s, t) = http
        .request(&na, "POST", &format!("{BASE}/vote"), &form, body)
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");
    let ans = wire::peer_from_json(&t).unwrap();
    assert_eq!(
        (ans.vote(), ans.term, ans.state),
        (Some(aa.as_str()), 1000, PeerState::Follower)
    );

    // Vote, 1.3 form: empty body, parameters in the query string.
    let cand_b = peer(&ba, &ba, 1001, PeerState::Candidate);
    let q = format!(
        "{BASE}/vote?vote={}&encoding=UTF-8&nofix=1",
        codec::java_url_encode(&cand_b.to_json())
    );
    let (s, t) = http
        .request(&na, "POST", &q, &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");
    let ans = wire::peer_from_json(&t).unwrap();
    assert_eq!((ans.vote(), ans.term), (Some(ba.as_str()), 1001));

    // A lower term is refused with a 200 and the voter's own record.
    let stale = peer(&aa, &aa, 5, PeerState::Candidate);
    let body = format!("vote={}", codec::java_url_encode(&stale.to_json()));
    let (s, t) = http
        .request(&na, "POST", &format!("{BASE}/vote"), &form, body)
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(wire::peer_from_json(&t).unwrap().vote(), Some(ba.as_str()));

    // Beat, 1.4 form: gzip body, no Content-Encoding header.
    let json14 = [
        ("content-type", codec::JSON_REQUEST),
        ("accept-charset", "UTF-8"),
        ("accept-encoding", "gzip"),
    ];
    let (s, t) = http
        .request(
            &na,
            "POST",
            &format!("{BASE}/beat"),
            &json14,
            beat_gzip(&leader_a, &[]),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");
    assert_eq!(wire::peer_from_json(&t).unwrap().ip, na);
    assert_eq!(http.leader_of(&na).await.unwrap().ip, aa);

    // Beat, 1.3 form: the same body with `Content-Encoding: gzip`.
    let json13 = [
        ("content-type", "application/json; charset=UTF-8"),
        ("accept-encoding", "gzip"),
        ("content-encoding", "gzip"),
    ];
    let (s, t) = http
        .request(
            &na,
            "POST",
            &format!("{BASE}/beat"),
            &json13,
            beat_gzip(&leader_a, &[]),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");

    // Commit, 1.4 form: raw JSON, `key` header.
    let (sent1, held1) = java_raw_value("one");
    let d1 = datum(K1, &held1, 7);
    let commit = CommitBody {
        datum: datum(K1, &sent1, 7),
        source: leader_a.clone(),
    };
    let (s, t) = http
        .request(
            &na,
            "POST",
            &format!("{BASE}/datum/commit"),
            &[("content-type", codec::JSON_REQUEST), ("key", K1)],
            commit.to_json(),
        )
        .await
        .unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    // On disk in Nacos' layout, exactly the Datum JSON a Java follower holds (`a b`).
    let file = dir.path().join("data/data/public").join(K1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), d1.to_json());
    let meta = std::fs::read_to_string(dir.path().join("data/meta.properties")).unwrap();
    assert!(meta.starts_with('#') && meta.contains("term="), "{meta}");

    // Commit, 1.3 form: a bogus `Content-Encoding: gzip` on a plain body; `+` decoded as Java.
    let (sent2, held2) = java_raw_value("two");
    let d2 = datum(K2, &held2, 3);
    let commit = CommitBody {
        datum: datum(K2, &sent2, 3),
        source: leader_a.clone(),
    };
    let (s, t) = http
        .request(
            &na,
            "POST",
            &format!("{BASE}/datum/commit"),
            &[
                ("content-type", "application/json; charset=UTF-8"),
                ("content-encoding", "gzip"),
            ],
            commit.to_json(),
        )
        .await
        .unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    // `:` in the key becomes `#` in the file name.
    let f2 = dir
        .path()
        .join("data/data/dev")
        .join(nacos_raft_core::key::file_name(K2));
    assert!(f2.is_file(), "{f2:?}");

    // Reads, 1.3 (once encoded) and 1.4 (twice, + encoding/nofix), with a null for a miss.
    let keys = vec![K1.to_string(), K2.to_string(), K4.to_string()];
    let q13 = format!(
        "{BASE}/datum?keys={}",
        codec::java_url_encode(&keys.join(","))
    );
    let q14 = format!("{BASE}/datum?{}", codec::keys_query(&keys));
    let (s13, t13) = http.get(&na, &q13).await.unwrap();
    let (s14, t14) = http.get(&na, &q14).await.unwrap();
    assert_eq!((s13, s14), (200, 200));
    assert_eq!(t13, t14);
    assert_eq!(
        wire::datums_from_json(&t13).unwrap(),
        vec![Some(d1.clone()), Some(d2.clone()), None]
    );

    // Beat sync: A lists K3 (missing here) and K1, not K2 → K3 is fetched from A in the 1.4
    // form, K2 is deleted (the leader's list is authoritative).
    let d3 = datum(
        K3,
        r#"{"name":"DEFAULT_GROUP@@gamma","groupName":"DEFAULT_GROUP"}"#,
        5,
    );
    a_datums.lock().unwrap().insert(K3.into(), d3.clone());
    let (s, t) = http
        .request(
            &na,
            "POST",
            &format!("{BASE}/beat"),
            &json14,
            beat_gzip(&leader_a, &[(K1, 7), (K3, 5)]),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");
    let got = wait_for(
        "K3 fetched by beat sync",
        Duration::from_secs(10),
        || async {
            let d = http.datums(&na, &[K3.to_string()]).await?;
            d.into_iter().next().flatten()
        },
    )
    .await;
    assert_eq!(got, d3);
    let fetch = captured(&a_log, "GET", "/nacos/v1/ns/raft/datum");
    let f = fetch.last().expect("a datum fetch at the leader");
    assert_eq!(
        f.query.as_deref(),
        Some(codec::keys_query(&[K3.to_string()]).as_str())
    );
    assert_eq!(f.header("user-agent"), Some("Nacos-Server:1.4.1"));
    assert_eq!(
        http.datums(&na, &[K2.to_string()]).await.unwrap(),
        vec![None]
    );
    assert!(!f2.exists(), "the dead key's file is deleted");

    // Delete commit (raw JSON, decoded twice by Java).
    let del = format!(
        r#"{{"datum":{{"key":"{K1}","timestamp":0}},"source":{}}}"#,
        leader_a.to_json()
    );
    let (s, t) = http
        .request(
            &na,
            "DELETE",
            &format!("{BASE}/datum/commit"),
            &[("content-type", codec::JSON_REQUEST)],
            del,
        )
        .await
        .unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    assert_eq!(
        http.datums(&na, &[K1.to_string()]).await.unwrap(),
        vec![None]
    );
    assert!(!file.exists());

    // Keep following A (a beat resets the election timer) before asking the node to forward.
    let (s, _) = http
        .request(
            &na,
            "POST",
            &format!("{BASE}/beat"),
            &json14,
            beat_gzip(&leader_a, &[(K3, 5)]),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);

    // A client write on this follower is forwarded to A; Java's single decode of the forwarded
    // body gives the exact JSON back, `+` and `%` included.
    let v4 = value("four");
    let (s, t) = http.put(&na, K4, &v4).await.unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    let fwd = captured(&a_log, "POST", "/nacos/v1/ns/raft/datum");
    let fwd = fwd.last().expect("a forwarded write at the leader");
    assert_eq!(
        java_decode(&fwd.body, 1),
        format!(r#"{{"key":"{K4}","value":{v4}}}"#)
    );
    assert_eq!(fwd.header("user-agent"), Some("Nacos-Server:1.4.1"));
    assert_eq!(fwd.header("key"), Some(K4));

    // A client delete of a meta key on this follower is forwarded with the key encoded twice.
    let (s, t) = http.delete(&na, K3).await.unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    let fdel = captured(&a_log, "DELETE", "/nacos/v1/ns/raft/datum");
    let q = fdel
        .last()
        .expect("a forwarded delete")
        .query
        .clone()
        .unwrap();
    assert_eq!(
        q,
        format!(
            "key={}&encoding=UTF-8&nofix=1",
            codec::java_url_encode(&codec::java_url_encode(K3))
        )
    );

    // Operator endpoints and their shapes, under every path prefix Java routes.
    for prefix in [
        "/nacos/v1/ns/raft",
        "/nacos/nacos/v1/ns/raft",
        "/v1/ns/raft",
    ] {
        let (s, t) = http.get(&na, &format!("{prefix}/peer")).await.unwrap();
        assert_eq!(s, 200);
        assert_eq!(wire::peer_from_json(&t).unwrap().ip, na);
    }
    let (s, t) = http.get(&na, &format!("{BASE}/state")).await.unwrap();
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
    assert!(t.starts_with(r#"{"services":"#), "{t}");
    assert_eq!(v["peers"].as_array().unwrap().len(), 3);
    let (_, t) = http.get(&na, &format!("{BASE}/listeners")).await.unwrap();
    assert_eq!(t, r#"{"listeners":[]}"#);
    let out = codec::Outbound {
        method: "GET",
        path_and_query: format!("{BASE}/leader"),
        headers: vec![],
        body: Bytes::new(),
    };
    let pc = nacos_raft_node::peer_client::PeerClient::new(Default::default());
    let (s, body) = pc.call(&na, &out).await.unwrap();
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["leader"].as_str().unwrap().contains(&aa));

    // The node's own vote requests (it times out without beats): the 1.4 form.
    let vote = wait_for(
        "a vote request from the node",
        Duration::from_secs(15),
        || async {
            captured(&a_log, "POST", "/nacos/v1/ns/raft/vote")
                .into_iter()
                .next()
        },
    )
    .await;
    assert_eq!(vote.query, None);
    assert_eq!(vote.header("content-type"), Some(codec::FORM_REQUEST));
    assert_eq!(vote.header("user-agent"), Some("Nacos-Server:1.4.1"));
    let params: Vec<(String, String)> = form_urlencoded::parse(&vote.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(params.len(), 1);
    assert_eq!(params[0].0, "vote");
    let me = wire::peer_from_json(&params[0].1).unwrap();
    assert_eq!(
        (me.ip.as_str(), me.vote(), me.state),
        (na.as_str(), Some(na.as_str()), PeerState::Candidate)
    );
    assert!(node.running(), "{}", node.log_text());
}

/// The node as the leader of two fake Java followers: its beats, commits and delete commits
/// as a Java follower decodes them, and the publish timeout error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_of_java_followers() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let (l, c, d) = (ports[0], ports[1], ports[2]);
    let la = format!("127.0.0.1:{l}");
    let mut logs = Vec::new();
    for p in [c, d] {
        let me = format!("127.0.0.1:{p}");
        logs.push(
            fake_peer(
                p,
                Arc::new(
                    move |req: &Captured| match (req.method.as_str(), req.path.as_str()) {
                        ("POST", "/nacos/v1/ns/raft/vote") => {
                            // Grant: the candidate's term, voteFor the candidate.
                            let v = codec::decode_vote(req.query.as_deref(), &req.body).unwrap();
                            (200, peer(&me, &v.ip, v.term, PeerState::Follower).to_json())
                        }
                        ("POST", "/nacos/v1/ns/raft/beat") => {
                            (200, peer(&me, "", 0, PeerState::Follower).to_json())
                        }
                        ("POST", "/nacos/v1/ns/raft/datum/commit") => {
                            let text = java_decode(&req.body, 1);
                            if text.contains("refused") {
                                (
                                    500,
                                    "caused: out of date publish, pub-term:1, cur-term: 9;".into(),
                                )
                            } else {
                                (200, "ok".into())
                            }
                        }
                        _ => (200, "ok".into()),
                    },
                ),
            )
            .await,
        );
    }
    let node = start_node(
        dir.path(),
        l,
        &[l, c, d],
        &[
            "--tick-ms",
            "50",
            "--leader-timeout-ms",
            "1500",
            "--random-ms",
            "500",
            "--heartbeat-ms",
            "500",
            "--publish-timeout-ms",
            "1000",
        ],
    );
    let http = Http::new();
    up(&http, &la).await;
    wait_for("the node to lead", Duration::from_secs(20), || async {
        http.peer(&la)
            .await
            .filter(|p| p.state == PeerState::Leader)
    })
    .await;

    // Beats: gzip without Content-Encoding; Java's gunzip + double decode + two parses work.
    let beat = wait_for("a beat at a follower", Duration::from_secs(10), || async {
        captured(&logs[0], "POST", "/nacos/v1/ns/raft/beat")
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(beat.header("content-encoding"), None);
    assert_eq!(beat.header("content-type"), Some(codec::JSON_REQUEST));
    assert_eq!(beat.header("user-agent"), Some("Nacos-Server:1.4.1"));
    assert!(codec::is_gzip(&beat.body));
    let outer = java_decode(&codec::gunzip_capped(&beat.body, 1 << 20).unwrap(), 2);
    let inner: serde_json::Value = serde_json::from_str(&outer).unwrap();
    let packet_text = inner["beat"].as_str().unwrap();
    for field in [
        "\"ip\"",
        "\"voteFor\"",
        "\"term\"",
        "\"leaderDueMs\"",
        "\"heartbeatDueMs\"",
        "\"state\"",
    ] {
        assert!(
            packet_text.contains(field),
            "{field} missing: {packet_text}"
        );
    }
    let packet = BeatPacket::from_json(packet_text).unwrap();
    assert_eq!(
        (packet.peer.ip.as_str(), packet.peer.state),
        (la.as_str(), PeerState::Leader)
    );

    // A write: commits to both followers; the source carries the term before the +100.
    let term_before = http.peer(&la).await.unwrap().term;
    let v = value("led");
    let (s, t) = http.put(&la, K4, &v).await.unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    for log in &logs {
        // The leader answers once a majority (itself and one follower) committed: the other
        // follower's commit may still be on its way.
        let commit = wait_for(
            "a commit at each follower",
            Duration::from_secs(5),
            || async { captured(log, "POST", "/nacos/v1/ns/raft/datum/commit").pop() },
        )
        .await;
        assert_eq!(commit.header("user-agent"), Some("Nacos-Server:1.4.1"));
        assert_eq!(commit.header("content-type"), Some(codec::JSON_REQUEST));
        let body = CommitBody::from_json(&java_decode(&commit.body, 1)).unwrap();
        assert_eq!(body.datum, datum(K4, &v, 1));
        assert_eq!(
            (body.source.ip.as_str(), body.source.term),
            (la.as_str(), term_before)
        );
        assert_eq!(body.source.state, PeerState::Leader);
    }
    assert_eq!(http.peer(&la).await.unwrap().term, term_before + 100);

    // The next beats list the key in brief form with its timestamp.
    let listed = wait_for(
        "a beat listing the key",
        Duration::from_secs(10),
        || async {
            captured(&logs[1], "POST", "/nacos/v1/ns/raft/beat")
                .into_iter()
                .rev()
                .find_map(|b| {
                    let outer = java_decode(&codec::gunzip_capped(&b.body, 1 << 20).ok()?, 2);
                    let p = BeatPacket::from_body(&outer).ok()?;
                    p.datums
                        .iter()
                        .find(|d| d.key == "iplist.public##DEFAULT_GROUP@@delta")
                        .cloned()
                })
        },
    )
    .await;
    assert_eq!(listed.timestamp, 1);

    // A delete: delete commits, decoded twice by Java, carry the key and timestamp 0.
    let (s, t) = http.delete(&la, K4).await.unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    let dc = wait_for("a delete commit", Duration::from_secs(5), || async {
        captured(&logs[0], "DELETE", "/nacos/v1/ns/raft/datum/commit")
            .into_iter()
            .next()
    })
    .await;
    let body = CommitBody::from_json(&java_decode(&dc.body, 2)).unwrap();
    assert_eq!(
        (
            body.datum.key.as_str(),
            body.datum.timestamp,
            body.datum.value
        ),
        (K4, 0, None)
    );

    // Both followers refuse a commit: after the publish timeout the write fails with Nacos' text.
    let (s, t) = http.put(&la, K1, &value("refused")).await.unwrap();
    assert_eq!(s, 500);
    // RaftConsistencyServiceImpl.put wraps the timeout ("data publish failed, caused failed to
    // notify majority, key=K") in its own text, the only one Java answers.
    assert_eq!(
        t,
        format!("Raft put failed, key:{K1}, value:{}", value("refused"))
    );
    drop(node);
}

/// Issue #10 item 1: a Java leader with the switch's `sendBeatOnly` on beats with `datums:[]`;
/// a node holding that switch (here from its data directory, as Java loads it) skips the sync
/// and keeps every key, where the dead-key rule would delete them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_with_send_beat_only_on_keeps_its_keys_on_empty_beats() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(2);
    let (n, a) = (ports[0], ports[1]);
    let aa = format!("127.0.0.1:{a}");
    let data = dir.path().join("data");
    nacos_raft_node::testkit::seed_datums(&data, 3).unwrap();
    let switch = nacos_raft_core::key::SWITCH_KEY;
    std::fs::write(
        data.join("data").join(switch),
        format!(
            r#"{{"key":"{switch}","value":{{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","sendBeatOnly":true}},"timestamp":2}}"#
        ),
    )
    .unwrap();
    let mut node = start_node(dir.path(), n, &[n, a], &["--leader-timeout-ms", "60000"]);
    let http = Http::new();
    let na = format!("127.0.0.1:{n}");
    up(&http, &na).await;
    let keys: Vec<String> = (0..3)
        .map(nacos_raft_node::testkit::service_key)
        .chain([switch.to_string()])
        .collect();
    // The Java leader's beat: no datums listed.
    let leader = peer(&aa, &aa, 500, PeerState::Leader);
    for _ in 0..2 {
        let (status, body) = http
            .request(
                &na,
                "POST",
                &format!("{BASE}/beat"),
                &[("content-type", codec::JSON_REQUEST)],
                beat_gzip(&leader, &[]),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(http.leader_of(&na).await.unwrap().ip, aa);
    let held = http.datums(&na, &keys).await.unwrap();
    assert!(held.iter().all(Option::is_some), "{held:?}");
    node.kill();
}

/// Issue #10 item 2: a Java leader lists a datum that is neither meta nor instance list with an
/// entry without `key`; the node accepts the leader, then fails the sync as Java does (500, empty
/// body) and deletes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_beat_entry_without_key_fails_the_sync_after_the_leader_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(2);
    let (n, a) = (ports[0], ports[1]);
    let aa = format!("127.0.0.1:{a}");
    nacos_raft_node::testkit::seed_datums(&dir.path().join("data"), 2).unwrap();
    let mut node = start_node(dir.path(), n, &[n, a], &["--leader-timeout-ms", "60000"]);
    let http = Http::new();
    let na = format!("127.0.0.1:{n}");
    up(&http, &na).await;
    let leader = peer(&aa, &aa, 500, PeerState::Leader);
    // Exactly Java's packet: the entry has a timestamp and no key.
    let packet = format!(
        r#"{{"peer":{},"datums":[{{"timestamp":3}}]}}"#,
        leader.to_json()
    );
    let body = serde_json::json!({ "beat": packet }).to_string();
    let (status, text) = http
        .request(
            &na,
            "POST",
            &format!("{BASE}/beat"),
            &[("content-type", codec::JSON_REQUEST)],
            codec::gzip(body.as_bytes(), 6),
        )
        .await
        .unwrap();
    assert_eq!((status, text.as_str()), (500, ""));
    assert_eq!(
        http.leader_of(&na).await.unwrap().ip,
        aa,
        "leadership accepted"
    );
    let keys: Vec<String> = (0..2).map(nacos_raft_node::testkit::service_key).collect();
    let held = http.datums(&na, &keys).await.unwrap();
    assert!(
        held.iter().all(Option::is_some),
        "nothing deleted: {held:?}"
    );
    node.kill();
}
