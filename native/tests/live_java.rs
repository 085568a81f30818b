//! A mixed cluster seen through the event stream: the real binary with one fake Java member on
//! loopback (no `/nacos-raft/v1/events`, no rid headers, answers as Java 1.4.1 does: its own
//! `RaftPeer` JSON). The node's stream must carry what the page draws such a member from
//! (`web/src/live/model.rs`, `a_member_without_a_stream_is_drawn_from_what_the_others_hear`): the
//! member in the snapshot's `members`, and messages `from` it whose payload is its own `RaftPeer`
//! — its vote and beat answers, and a vote request it sends, under an id naming its receiver
//! (two of our nodes hearing the same Java member must not write the same id).

use axum::Router;
use nacos_raft_core::wire;
use nacos_raft_core::{PeerState, RaftPeer};
use nacos_raft_node::codec;
use nacos_raft_node::testkit::{free_ports, EventStream, Http, NodeProc, FAST};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");

/// The fake Java member's own record, as it answers every vote and beat with it.
type Own = Arc<Mutex<RaftPeer>>;

/// Java's `/vote` grants when the candidate's term is higher and answers its (updated) local
/// peer; `/beat` answers its local peer as a follower of the sender's term.
async fn fake_java(port: u16, own: Own) {
    let app = Router::new().fallback(move |req: axum::extract::Request| {
        let own = own.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 64 << 20)
                .await
                .unwrap_or_default();
            let mut me = own.lock().unwrap();
            match parts.uri.path() {
                "/nacos/v1/ns/raft/vote" => {
                    let text = String::from_utf8_lossy(&body).to_string();
                    let param = text.strip_prefix("vote=").unwrap_or("");
                    let decoded = codec::java_url_decode(param.as_bytes()).unwrap_or_default();
                    if let Ok(c) = wire::peer_from_json(&String::from_utf8_lossy(&decoded)) {
                        if c.term > me.term {
                            me.term = c.term;
                            me.vote_for = Some(c.ip.clone());
                            me.state = PeerState::Follower;
                        }
                    }
                }
                "/nacos/v1/ns/raft/beat" => me.state = PeerState::Follower,
                _ => return (axum::http::StatusCode::OK, "ok".to_string()),
            }
            (axum::http::StatusCode::OK, me.to_json())
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("fake Java port");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

fn said_of_itself(payload: &str, java: &str) -> Option<RaftPeer> {
    wire::peer_from_json(payload).ok().filter(|p| p.ip == java)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_java_member_is_seen_through_what_it_sends_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(2);
    let (node, java) = (
        format!("127.0.0.1:{}", ports[0]),
        format!("127.0.0.1:{}", ports[1]),
    );
    // A term no candidate reaches: the Java member refuses every vote until the stream is
    // watched, so the vote this test looks for cannot happen before it subscribes (it did, once,
    // on a loaded CI machine).
    let own: Own = Arc::new(Mutex::new(RaftPeer {
        ip: java.clone(),
        vote_for: None,
        term: 1_000_000,
        leader_due_ms: 15_000,
        heartbeat_due_ms: 5_000,
        state: PeerState::Follower,
        data_version: None,
        position: None,
    }));
    fake_java(ports[1], own.clone()).await;
    let mut args = vec!["--members".to_string(), format!("{node},{java}")];
    args.extend(FAST.iter().map(|s| s.to_string()));
    let mut n = NodeProc::new(
        Path::new(BIN),
        &node,
        dir.path().join("data"),
        dir.path().join("node.log"),
        args,
    );
    n.start();
    let mut s = EventStream::open(&node, Duration::from_secs(20)).await;
    let first = s.next(Duration::from_secs(5)).await.expect("a snapshot");
    assert_eq!(first["type"], "snapshot");
    let members: Vec<&str> = first["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(members.contains(&java.as_str()), "{first}");
    own.lock().unwrap().term = 0;

    // The node wins the Java member's vote and beats it: both answers come back as the Java
    // member's own record, attributed to it.
    let (mut vote_answer, mut beat_answer) = (None, None);
    let end = Instant::now() + Duration::from_secs(30);
    while (vote_answer.is_none() || beat_answer.is_none()) && Instant::now() < end {
        let Some(r) = s.next(Duration::from_secs(2)).await else {
            continue;
        };
        if r["type"] != "msg" || r["phase"] != "answered" || r["from"] != java.as_str() {
            continue;
        }
        let p = said_of_itself(r["payload"].as_str().unwrap_or(""), &java);
        match r["kind"].as_str() {
            Some("vote-reply") if r["outcome"] == "ok" => vote_answer = p.map(|p| (p, r.clone())),
            Some("beat-reply") if r["outcome"] == "ok" => beat_answer = p.map(|p| (p, r.clone())),
            _ => {}
        }
    }
    let (v, rec) = vote_answer.expect("a vote answer from the Java member on the stream");
    assert_eq!(rec["to"], node.as_str());
    assert_eq!(
        (v.state, v.vote()),
        (PeerState::Follower, Some(node.as_str()))
    );
    assert_eq!(rec["granted"], true);
    let (b, _) = beat_answer.expect("a beat answer from the Java member on the stream");
    assert!(b.term >= v.term && b.term > 0, "{b:?} after {v:?}");

    // The Java member stands for election (Java's form: a form body, no rid header): the
    // receiver attributes it from the body and writes its record as the payload.
    let term = own.lock().unwrap().term + 1_000;
    let cand = RaftPeer {
        ip: java.clone(),
        vote_for: Some(java.clone()),
        term,
        leader_due_ms: 15_000,
        heartbeat_due_ms: 5_000,
        state: PeerState::Candidate,
        data_version: None,
        position: None,
    };
    let http = Http::new();
    let body = format!("vote={}", codec::java_url_encode(&cand.to_json()));
    let (status, _) = http
        .request(
            &node,
            "POST",
            &format!("{}/vote", codec::RAFT_BASE),
            &[("content-type", codec::FORM_REQUEST)],
            body,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    // Bounded in time and in records read.
    let end = Instant::now() + Duration::from_secs(10);
    let mut got = None;
    while got.is_none() && Instant::now() < end {
        let Some(r) = s.next(Duration::from_millis(500)).await else {
            continue;
        };
        if r["type"] == "msg"
            && r["phase"] == "received"
            && r["kind"] == "vote"
            && r["from"] == java.as_str()
            && r["to"] == node.as_str()
        {
            got = Some(r);
        }
    }
    let got = got.expect("the Java vote request on the stream");
    assert!(
        got["rid"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{java}/in-{node}-")),
        "{got}"
    );
    let p = said_of_itself(got["payload"].as_str().unwrap(), &java).expect("its RaftPeer");
    assert_eq!((p.state, p.term), (PeerState::Candidate, term));
    n.kill();
}
