//! Wire tests from the JSON examples of `docs/nacos-protocol.md` §3 and §3.6: every example is
//! put on the wire the way a Java 1.3 and a 1.4 sender would, decoded by this node, re-encoded
//! by this node, decoded again the way Java does, and compared byte for byte.

use nacos_raft_core::wire::{self, CommitBody, ForwardBody};
use nacos_raft_core::{BeatPacket, Datum, JsonValue, PeerState, RaftError, Request, Response};
use nacos_raft_node::codec::{self, Limits};
use std::sync::Arc;

const PEER_VOTE_ANSWER: &str = r#"{"ip":"127.0.0.1:8847","voteFor":"127.0.0.1:8846","term":1,"leaderDueMs":16569,"heartbeatDueMs":1500,"state":"FOLLOWER"}"#;
const PEER_LEADER: &str = r#"{"ip":"10.0.0.1:8848","voteFor":"10.0.0.1:8848","term":305,"leaderDueMs":17342,"heartbeatDueMs":5000,"state":"LEADER"}"#;
const PEER_CANDIDATE: &str = r#"{"ip":"10.0.0.2:8848","voteFor":"10.0.0.2:8848","term":6,"leaderDueMs":18210,"heartbeatDueMs":5000,"state":"CANDIDATE"}"#;
const BEAT_PACKET: &str = r#"{"peer":{"ip":"10.0.0.1:8848","voteFor":"10.0.0.1:8848","term":305,"leaderDueMs":17342,"heartbeatDueMs":5000,"state":"LEADER"},"datums":[{"key":"meta.public##DEFAULT_GROUP@@demo","timestamp":3},{"key":"iplist.public##DEFAULT_GROUP@@demo","timestamp":12},{"key":"meta.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","timestamp":1}]}"#;
const INSTANCE: &str = r#"{"instanceId":"10.0.0.5#8080#DEFAULT#DEFAULT_GROUP@@demo","ip":"10.0.0.5","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@demo","metadata":{},"lastBeat":1600000000000,"marked":false,"instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000,"instanceIdGenerator":"simple"}"#;
const SERVICE: &str = r#"{"name":"DEFAULT_GROUP@@demo","protectThreshold":0.0,"groupName":"DEFAULT_GROUP","metadata":{},"ipDeleteTimeout":30000,"enabled":true,"lastModifiedMillis":0,"resetWeight":false,"selector":{"type":"none"},"owners":[],"clusterMap":{"DEFAULT":{"serviceName":"DEFAULT_GROUP@@demo","name":"DEFAULT","healthChecker":{"type":"TCP"},"defaultPort":80,"defaultCheckPort":80,"useIPPort4Check":true,"metadata":{},"defIPPort":80,"defCkport":80,"sitegroup":"","empty":true}},"namespaceId":"public","checksum":"0123456789abcdef0123456789abcdef","finalizeCount":0,"empty":true}"#;
const STATE_SAMPLE: &str = r#"{"peers":[{"ip":"172.17.62.50:8848","voteFor":"172.17.62.51:8848","term":9,"leaderDueMs":15721,"heartbeatDueMs":5000,"state":"FOLLOWER"}],"services":73}"#;
const IPLIST_KEY: &str = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo";
const META_KEY: &str = "com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@demo";

fn instances() -> String {
    format!(r#"{{"instanceList":[{INSTANCE}]}}"#)
}

fn forward_body() -> String {
    format!(r#"{{"key":"{IPLIST_KEY}","value":{}}}"#, instances())
}

fn commit_body() -> String {
    format!(
        r#"{{"datum":{{"key":"{IPLIST_KEY}","value":{},"timestamp":12}},"source":{PEER_LEADER}}}"#,
        instances()
    )
}

fn delete_commit_body() -> String {
    format!(r#"{{"datum":{{"key":"{META_KEY}","timestamp":0}},"source":{PEER_LEADER}}}"#)
}

/// Java's decoding of a body: URLDecoder applied `times` times.
fn java_decode(body: &[u8], times: u32) -> String {
    let mut cur = body.to_vec();
    for _ in 0..times {
        cur = codec::java_url_decode(&cur).expect("Java would decode this");
    }
    String::from_utf8(cur).unwrap()
}

fn limits() -> Limits {
    Limits::default()
}

#[test]
fn raft_peers_of_the_spec_decode_and_re_encode_identically() {
    for text in [PEER_VOTE_ANSWER, PEER_LEADER, PEER_CANDIDATE] {
        let p = wire::peer_from_json(text).unwrap();
        assert_eq!(p.to_json(), text);
        // As the answer of vote, beat and peer requests.
        for req in [
            Request::Vote(p.clone()),
            Request::GetPeer,
            Request::Beat(Arc::new(BeatPacket::from_json(BEAT_PACKET).unwrap())),
        ] {
            let r = codec::decode_answer(&req, 200, text.as_bytes()).unwrap();
            assert_eq!(r, Response::Peer(p.clone()));
            assert_eq!(codec::response_body(&r), text);
        }
    }
}

#[test]
fn vote_in_the_query_string_as_java_1_3_sends_it() {
    let q = format!(
        "vote={}&encoding=UTF-8&nofix=1",
        codec::java_url_encode(PEER_CANDIDATE)
    );
    let p = codec::decode_vote(Some(&q), b"").unwrap();
    assert_eq!(p.to_json(), PEER_CANDIDATE);
    // HashMap order: the parameter may come last.
    let q2 = format!(
        "nofix=1&encoding=UTF-8&vote={}",
        codec::java_url_encode(PEER_CANDIDATE)
    );
    assert_eq!(codec::decode_vote(Some(&q2), b"").unwrap(), p);
}

#[test]
fn vote_in_a_form_body_as_java_1_4_sends_it_and_as_this_node_sends_it() {
    let body = format!("vote={}", codec::java_url_encode(PEER_CANDIDATE));
    let p = codec::decode_vote(None, body.as_bytes()).unwrap();
    assert_eq!(p.to_json(), PEER_CANDIDATE);
    // This node's own vote request is that same 1.4 form.
    let out = codec::encode_request(&Request::Vote(p.clone()), None);
    assert_eq!(out.method, "POST");
    assert_eq!(out.path_and_query, "/nacos/v1/ns/raft/vote");
    assert_eq!(out.body, body.as_bytes());
    assert!(out
        .headers
        .contains(&("content-type", codec::FORM_REQUEST.to_string())));
    // A servlet (form decoding) gets the JSON back exactly.
    let decoded: Vec<(String, String)> = form_urlencoded::parse(&out.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(decoded, [("vote".to_string(), PEER_CANDIDATE.to_string())]);
    // Trimmed, like WebUtils.required.
    let padded = format!(
        "vote={}",
        codec::java_url_encode(&format!("  {PEER_CANDIDATE} "))
    );
    assert_eq!(codec::decode_vote(None, padded.as_bytes()).unwrap(), p);
}

#[test]
fn beat_packet_as_java_sends_it_decodes_and_this_nodes_beat_decodes_in_java() {
    let packet = BeatPacket::from_json(BEAT_PACKET).unwrap();
    assert_eq!(packet.to_json(), BEAT_PACKET);
    // Java (1.3 and 1.4 alike): gzip of the raw outer JSON, no URL-encoding.
    let java_body = codec::gzip(packet.to_body().as_bytes(), 6);
    let got = codec::decode_beat(&java_body, &limits()).unwrap();
    assert_eq!(got, packet);
    assert_eq!(got.peer.state, PeerState::Leader);
    // This node: gzip of a body escaped for Java's double URL-decode.
    let ours = codec::beat_body(&packet, 1);
    assert!(codec::is_gzip(&ours));
    let inflated = codec::gunzip_capped(&ours, 1 << 20).unwrap();
    let java_view = java_decode(&inflated, 2);
    assert_eq!(java_view, packet.to_body());
    let inner = BeatPacket::from_body(&java_view).unwrap();
    assert_eq!(inner.to_json(), BEAT_PACKET);
    // And this node reads its own form too.
    assert_eq!(codec::decode_beat(&ours, &limits()).unwrap(), packet);
    let out = codec::encode_request(&Request::Beat(Arc::new(packet)), Some(ours.clone()));
    assert_eq!(out.path_and_query, "/nacos/v1/ns/raft/beat");
    assert!(!out.headers.iter().any(|(k, _)| *k == "content-encoding"));
}

#[test]
fn beat_urlencoded_twice_before_gzip_is_decoded_twice() {
    // A body that really is URL-encoded twice (what Java's double decode was written for).
    let packet = BeatPacket::from_json(BEAT_PACKET).unwrap();
    let twice = codec::java_url_encode(&codec::java_url_encode(&packet.to_body()));
    let got = codec::decode_beat(&codec::gzip(twice.as_bytes(), 6), &limits()).unwrap();
    assert_eq!(got, packet);
    // Encoded only once: the second decode is a no-op for this text, as in Java.
    let once = codec::java_url_encode(&packet.to_body());
    let got = codec::decode_beat(&codec::gzip(once.as_bytes(), 6), &limits()).unwrap();
    assert_eq!(got, packet);
}

#[test]
fn beat_must_be_gzip_and_strict() {
    let plain = BeatPacket::from_json(BEAT_PACKET).unwrap().to_body();
    let e = codec::decode_beat(plain.as_bytes(), &limits()).unwrap_err();
    assert_eq!(e.status, 500);
    let no_vote = BEAT_PACKET.replace(r#""voteFor":"10.0.0.1:8848","#, "");
    let body = serde_json::json!({ "beat": no_vote }).to_string();
    let e = codec::decode_beat(&codec::gzip(body.as_bytes(), 6), &limits()).unwrap_err();
    assert_eq!(e.status, 500);
    assert!(e.message.contains("voteFor"), "{}", e.message);
    assert!(e.http_body().starts_with("caused: "));
}

#[test]
fn forward_body_of_the_spec_round_trips() {
    let text = forward_body();
    let f = ForwardBody::from_json(&text).unwrap();
    assert_eq!(f.to_json(), text);
    // Received raw (Java sends it unencoded).
    let (k, v) = codec::decode_forward(text.as_bytes(), &limits()).unwrap();
    assert_eq!((k.as_str(), v.as_str()), (IPLIST_KEY, instances().as_str()));
    // Sent by this node: Java's single URL-decode restores it exactly.
    let out = codec::encode_request(
        &Request::Forward {
            key: k.clone(),
            value: v.clone(),
            leader_term: None,
        },
        None,
    );
    assert_eq!(
        (out.method, out.path_and_query.as_str()),
        ("POST", "/nacos/v1/ns/raft/datum")
    );
    assert_eq!(java_decode(&out.body, 1), text);
    assert!(out.headers.contains(&("key", IPLIST_KEY.to_string())));
    assert_eq!(codec::decode_forward(&out.body, &limits()).unwrap(), (k, v));
}

#[test]
fn a_repair_is_a_forward_with_one_field_more() {
    // A hardened follower's repair (Fix::DeadKey): the forward endpoint and body, plus the
    // datum's timestamp, which Java's RaftController.publish never reads.
    let v = JsonValue::parse(&instances()).unwrap();
    let out = codec::encode_request(
        &Request::Repair {
            key: IPLIST_KEY.into(),
            value: v.clone(),
            timestamp: 7,
        },
        None,
    );
    assert_eq!(
        (out.method, out.path_and_query.as_str()),
        ("POST", "/nacos/v1/ns/raft/datum")
    );
    let text = java_decode(&out.body, 1);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["timestamp"], 7);
    assert_eq!(json["key"], IPLIST_KEY);
    let got = codec::decode_publish(&out.body, &limits()).unwrap();
    assert_eq!(
        (got.key.as_str(), &got.value, got.timestamp, got.leader_term),
        (IPLIST_KEY, &v, Some(7), None)
    );
    // A plain forward carries no timestamp; a hardened one names its leader's term.
    for leader_term in [None, Some(12)] {
        let plain = codec::encode_request(
            &Request::Forward {
                key: IPLIST_KEY.into(),
                value: v.clone(),
                leader_term,
            },
            None,
        );
        let text = String::from_utf8(plain.body.to_vec()).unwrap();
        assert_eq!(
            text.contains("\"leaderTerm\":12"),
            leader_term.is_some(),
            "{text}"
        );
        let got = codec::decode_publish(&plain.body, &limits()).unwrap();
        assert_eq!((got.timestamp, got.leader_term), (None, leader_term));
    }
}

#[test]
fn commit_body_of_the_spec_round_trips() {
    let text = commit_body();
    assert_eq!(CommitBody::from_json(&text).unwrap().to_json(), text);
    let (datum, source) = codec::decode_commit(text.as_bytes(), &limits()).unwrap();
    assert_eq!(datum.timestamp, 12);
    assert_eq!(source.to_json(), PEER_LEADER);
    assert_eq!(datum.value.as_ref().unwrap().as_str(), instances());
    let out = codec::encode_request(&Request::Commit { datum, source }, None);
    assert_eq!(out.path_and_query, "/nacos/v1/ns/raft/datum/commit");
    assert_eq!(java_decode(&out.body, 1), text);
    // The 1.3 form carries a bogus `Content-Encoding: gzip`; the body is still plain. The codec
    // never sees headers, and a gzip body (magic bytes) is accepted too.
    let gz = codec::gzip(text.as_bytes(), 6);
    assert_eq!(
        codec::decode_commit(&gz, &limits()).unwrap().0.timestamp,
        12
    );
}

/// A batch of commits (issue 13, hardened members only): the first commit sits where Java reads
/// a commit, so Java's decoding (and this node's, under Nacos' rules) sees exactly that commit;
/// a member that takes batches reads all of them, in order. The answer lists each commit's
/// status and text; anything else is not a batch's answer.
#[test]
fn a_batch_of_commits_is_a_commit_with_more_for_members_that_take_them() {
    let (first, source) = codec::decode_commit(commit_body().as_bytes(), &limits()).unwrap();
    let mut second = first.clone();
    second.key = META_KEY.to_string();
    second.timestamp = 13;
    let mut third = first.clone();
    third.timestamp = 14;
    third.value = Some(JsonValue::parse(r#"{"instanceList":[],"note":"100%+1"}"#).unwrap());
    let commits: Vec<Request> = [first.clone(), second.clone(), third.clone()]
        .into_iter()
        .map(|datum| Request::Commit {
            datum,
            source: source.clone(),
        })
        .collect();
    let out = codec::encode_commit_batch(&commits);
    assert_eq!(
        (out.method, out.path_and_query.as_str()),
        ("POST", "/nacos/v1/ns/raft/datum/commit")
    );
    // Java (and a member under Nacos' rules) reads the first commit only.
    let java = CommitBody::from_json(&java_decode(&out.body, 1)).unwrap();
    assert_eq!(
        (java.datum, java.source.to_json()),
        (first.clone(), PEER_LEADER.to_string())
    );
    assert_eq!(codec::decode_commit(&out.body, &limits()).unwrap().0, first);
    // A member that takes batches reads all three, the escapes undone once as for a commit.
    let all = codec::decode_commits(&out.body, &limits()).unwrap();
    let datums: Vec<Datum> = all.iter().map(|(d, _)| d.clone()).collect();
    assert_eq!(datums, vec![first.clone(), second, third]);
    assert!(all.iter().all(|(_, s)| s.to_json() == PEER_LEADER));
    // A plain commit is a batch of one.
    let one = codec::decode_commits(commit_body().as_bytes(), &limits()).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].0, first);
    assert!(codec::decode_commits(b"{\"datum\":1}", &limits()).is_err());

    let answers = vec![
        (200, "ok".to_string()),
        (500, "Raft onPut failed".to_string()),
    ];
    let text = codec::encode_batch_answer(&answers);
    assert_eq!(text, r#"[[200,"ok"],[500,"Raft onPut failed"]]"#);
    assert_eq!(
        codec::decode_batch_answer(text.as_bytes(), 2),
        Some(answers)
    );
    assert_eq!(codec::decode_batch_answer(text.as_bytes(), 3), None);
    assert_eq!(codec::decode_batch_answer(b"ok", 1), None);
}

#[test]
fn delete_commit_body_of_the_spec_round_trips_through_two_decodes() {
    let text = delete_commit_body();
    let c = CommitBody::from_json(&text).unwrap();
    assert_eq!(c.datum.value, None);
    assert_eq!(c.to_json(), text);
    let (k, source) = codec::decode_delete_commit(text.as_bytes(), &limits()).unwrap();
    assert_eq!(k, META_KEY);
    let out = codec::encode_request(&Request::DeleteCommit { key: k, source }, None);
    assert_eq!(
        (out.method, out.path_and_query.as_str()),
        ("DELETE", "/nacos/v1/ns/raft/datum/commit")
    );
    assert_eq!(java_decode(&out.body, 2), text);
    // URL-encoded twice by some sender: still the same.
    let twice = codec::java_url_encode(&codec::java_url_encode(&text));
    assert_eq!(
        codec::decode_delete_commit(twice.as_bytes(), &limits())
            .unwrap()
            .0,
        META_KEY
    );
}

#[test]
fn plus_and_percent_survive_this_nodes_encoding_and_raw_bodies_read_as_java_reads_them() {
    let value = r#"{"instanceList":[{"ip":"10.0.0.5","metadata":{"expr":"a+b","ratio":"100%","esc":"%41"}}]}"#;
    let datum = Datum {
        key: IPLIST_KEY.into(),
        value: Some(JsonValue::parse(value).unwrap()),
        timestamp: 3,
    };
    let source = wire::peer_from_json(PEER_LEADER).unwrap();
    let req = Request::Commit {
        datum: datum.clone(),
        source: source.clone(),
    };
    let out = codec::encode_request(&req, None);
    // Java's URLDecoder on our body gives the exact JSON (no `+` → space, no %41 → A)...
    let java = java_decode(&out.body, 1);
    assert!(
        java.contains(r#""expr":"a+b""#) && java.contains(r#""esc":"%41""#),
        "{java}"
    );
    // ...and so does this node.
    let (got, _) = codec::decode_commit(&out.body, &limits()).unwrap();
    assert_eq!(got, datum);
    // A raw JSON body (how Java sends) is read as every Java member reads it (issue #10 item 6):
    // the `+` becomes a space here too, so the mixed cluster holds one value.
    let raw = CommitBody {
        datum: datum.clone(),
        source,
    }
    .to_json();
    let raw_ok = raw.replace("100%", "100").replace("%41", "A");
    let java_raw = String::from_utf8(codec::java_url_decode(raw_ok.as_bytes()).unwrap()).unwrap();
    assert!(
        java_raw.contains(r#""expr":"a b""#),
        "Java's own corruption of '+': {java_raw}"
    );
    let (here, _) = codec::decode_commit(raw_ok.as_bytes(), &limits()).unwrap();
    let here = here.value.unwrap();
    assert!(here.as_str().contains(r#""expr":"a b""#), "{here:?}");
    assert!(
        java_raw.contains(here.as_str()),
        "same value as Java: {java_raw}"
    );
    // A stray `%` in a raw body is Java's 400, not a silent acceptance.
    let e = codec::decode_commit(raw.as_bytes(), &limits()).unwrap_err();
    assert_eq!(e.status, 400, "{}", e.message);
    // An encoded body follows Java's rules: `+` is a space, %2B a plus.
    let enc = format!("%7B{}", &raw[1..])
        .replace("a+b", "a%2Bb+c")
        .replace("100%", "100%25")
        .replace("%41", "%2541");
    let (got, _) = codec::decode_commit(enc.as_bytes(), &limits()).unwrap();
    assert!(got.value.unwrap().as_str().contains(r#""expr":"a+b c""#));
}

#[test]
fn bad_escapes_are_400_with_javas_text() {
    let e = codec::decode_commit(b"%7B%zz", &limits()).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(
        e.message.starts_with("URLDecoder: Illegal hex characters"),
        "{}",
        e.message
    );
    let e = codec::decode_keys(Some("keys=a%25"), b"").unwrap_err();
    assert_eq!(e.status, 400);
    assert!(
        e.message.contains("Incomplete trailing escape"),
        "{}",
        e.message
    );
}

#[test]
fn datum_fetch_keys_in_both_forms() {
    let keys = vec![IPLIST_KEY.to_string(), META_KEY.to_string()];
    // 1.3: encoded once, no other parameters.
    let q13 = format!("keys={}", codec::java_url_encode(&keys.join(",")));
    assert_eq!(codec::decode_keys(Some(&q13), b"").unwrap(), keys);
    // 1.4: encoded twice, plus encoding and nofix — what this node sends too.
    let q14 = codec::keys_query(&keys);
    assert!(
        q14.contains("%2523%2523") && q14.ends_with("&encoding=UTF-8&nofix=1"),
        "{q14}"
    );
    assert_eq!(codec::decode_keys(Some(&q14), b"").unwrap(), keys);
    let out = codec::encode_request(&Request::GetDatums(keys.clone()), None);
    assert_eq!(out.path_and_query, format!("/nacos/v1/ns/raft/datum?{q14}"));
    // The answer: a JSON array with null for a missing key.
    let d = Datum {
        key: IPLIST_KEY.into(),
        value: Some(JsonValue::parse(&instances()).unwrap()),
        timestamp: 12,
    };
    let answer = format!(r#"[{},null]"#, d.to_json());
    let r = codec::decode_answer(&Request::GetDatums(keys), 200, answer.as_bytes()).unwrap();
    assert_eq!(r, Response::Datums(vec![Some(d), None]));
    assert_eq!(codec::response_body(&r), answer);
}

#[test]
fn forward_delete_key_in_both_forms() {
    // 1.4 (and this node): the key pre-encoded and encoded again by the query builder.
    let out = codec::encode_request(
        &Request::ForwardDelete {
            key: META_KEY.into(),
            leader_term: None,
        },
        None,
    );
    assert_eq!(out.method, "DELETE");
    let q = out.path_and_query.split_once('?').unwrap().1;
    assert_eq!(codec::decode_key(Some(q), b"").unwrap(), META_KEY);
    // Once encoded (a form body): the second decode changes nothing.
    let body = format!("key={}", codec::java_url_encode(META_KEY));
    assert_eq!(codec::decode_key(None, body.as_bytes()).unwrap(), META_KEY);
    assert_eq!(
        codec::decode_key(None, b"").unwrap_err(),
        RaftError::bad_request("Param 'key' is required.")
    );
    assert_eq!(codec::decode_leader_term(Some(q), b"").unwrap(), None);
    // A hardened follower names its leader's term; Java reads `key` alone.
    let out = codec::encode_request(
        &Request::ForwardDelete {
            key: META_KEY.into(),
            leader_term: Some(9),
        },
        None,
    );
    let q = out.path_and_query.split_once('?').unwrap().1;
    assert_eq!(codec::decode_key(Some(q), b"").unwrap(), META_KEY);
    assert_eq!(codec::decode_leader_term(Some(q), b"").unwrap(), Some(9));
    assert_eq!(
        codec::decode_leader_term(Some("key=k&leaderTerm=x"), b"").unwrap_err(),
        RaftError::bad_request("leaderTerm is not a term: \"x\"")
    );
}

#[test]
fn values_of_the_spec_are_kept_verbatim_in_datums() {
    for (k, v) in [(IPLIST_KEY, instances()), (META_KEY, SERVICE.to_string())] {
        let d = Datum {
            key: k.into(),
            value: Some(JsonValue::parse(&v).unwrap()),
            timestamp: 1,
        };
        let text = d.to_json();
        assert_eq!(
            text,
            format!(r#"{{"key":"{k}","value":{v},"timestamp":1}}"#)
        );
        let back: Datum = serde_json::from_str(&text).unwrap();
        assert_eq!(back, d);
    }
}

#[test]
fn state_sample_has_the_shape_this_node_answers() {
    // The node answers {"services":N,"peers":[...]}; Java 1.1.3 put the fields the other way
    // round. Field order is irrelevant to JSON readers; the values must match.
    let v: serde_json::Value = serde_json::from_str(STATE_SAMPLE).unwrap();
    let peers: Vec<String> = v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| wire::peer_from_json(&p.to_string()).unwrap().to_json())
        .collect();
    let ours = format!(
        r#"{{"services":{},"peers":[{}]}}"#,
        v["services"],
        peers.join(",")
    );
    let back: serde_json::Value = serde_json::from_str(&ours).unwrap();
    assert_eq!(back, v);
}

#[test]
fn error_answers_read_back_without_double_wrapping() {
    let r = codec::decode_answer(
        &Request::GetPeer,
        500,
        b"caused: can not find peer: 10.9.9.9:8848;",
    );
    assert_eq!(
        r,
        Err(nacos_raft_core::Failure::Status(RaftError::server(
            "can not find peer: 10.9.9.9:8848"
        )))
    );
}
