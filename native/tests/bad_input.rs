//! Bad input against a live 3-node cluster: every case gets the status and text Nacos answers
//! with (`docs/nacos-protocol.md` §2.1) or the documented cap, changes nothing (terms, votes,
//! leader, data), and the cluster keeps working afterwards.

use nacos_raft_core::{PeerState, RaftPeer};
use nacos_raft_node::codec;
use nacos_raft_node::testkit::{instances_value, service_key, wait_for, Cluster, Http};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const BASE: &str = codec::RAFT_BASE;

/// Expected answer: exact body, or a body starting with this text.
enum Want {
    Exact(String),
    Prefix(&'static str),
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
    status: u16,
    want: Want,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: &str,
    body: impl Into<Vec<u8>>,
    status: u16,
    want: Want,
) -> Case {
    Case {
        name,
        method,
        path: format!("{BASE}{path}"),
        headers: vec![],
        body: body.into(),
        status,
        want,
    }
}

fn gz(s: &str) -> Vec<u8> {
    codec::gzip(s.as_bytes(), 6)
}

fn beat_of(peer: &str) -> String {
    serde_json::json!({ "beat": format!(r#"{{"peer":{peer},"datums":[]}}"#) }).to_string()
}

fn cases(member: &str, leader: &RaftPeer, own_term: u64) -> Vec<Case> {
    let form = ("content-type", codec::FORM_REQUEST);
    let mut v = vec![
        case(
            "vote without parameter",
            "POST",
            "/vote",
            "",
            400,
            Want::Exact("Param 'vote' is required.".into()),
        ),
        case(
            "vote not JSON",
            "POST",
            "/vote",
            "vote=%7Bnope",
            500,
            Want::Prefix("caused: cannot parse vote"),
        ),
        case(
            "vote from an unknown peer",
            "POST",
            "/vote",
            format!(
                "vote={}",
                codec::java_url_encode(
                    r#"{"ip":"10.9.9.9:8848","term":99999,"state":"CANDIDATE"}"#
                )
            ),
            500,
            Want::Exact("caused: can not find peer: 10.9.9.9:8848;".into()),
        ),
        case(
            "vote with a term of the wrong type",
            "POST",
            "/vote",
            format!(
                "vote={}",
                codec::java_url_encode(&format!(
                    r#"{{"ip":"{member}","term":"high","state":"CANDIDATE"}}"#
                ))
            ),
            500,
            Want::Prefix("caused: cannot parse vote"),
        ),
        case(
            "beat that is not gzip",
            "POST",
            "/beat",
            beat_of(&leader.to_json()),
            500,
            Want::Prefix("caused: beat body is not gzip"),
        ),
        case(
            "beat of garbage",
            "POST",
            "/beat",
            gz("this is not json"),
            500,
            Want::Prefix("caused: cannot parse beat"),
        ),
        case(
            "beat gzip bomb",
            "POST",
            "/beat",
            codec::gzip(&vec![b' '; 8 << 20], 9),
            413,
            Want::Prefix("caused: gzip body inflates beyond"),
        ),
        case(
            "beat without voteFor",
            "POST",
            "/beat",
            gz(&beat_of(&format!(
                r#"{{"ip":"{member}","term":99999,"leaderDueMs":1,"heartbeatDueMs":1,"state":"LEADER"}}"#
            ))),
            500,
            Want::Prefix("caused: cannot parse beat: beat peer has no voteFor"),
        ),
        case(
            "beat with an unknown state",
            "POST",
            "/beat",
            gz(&beat_of(&leader.to_json().replace("LEADER", "KING"))),
            400,
            Want::Exact(
                "No enum constant com.alibaba.nacos.naming.consistency.persistent.raft.RaftPeer.State.KING"
                    .into(),
            ),
        ),
        case(
            "beat with a numeric state",
            "POST",
            "/beat",
            gz(&beat_of(&leader.to_json().replace(r#""LEADER""#, "3"))),
            400,
            Want::Exact(
                "No enum constant com.alibaba.nacos.naming.consistency.persistent.raft.RaftPeer.State.3"
                    .into(),
            ),
        ),
        case(
            "beat from a FOLLOWER",
            "POST",
            "/beat",
            gz(&beat_of(&format!(
                r#"{{"ip":"{member}","voteFor":"{member}","term":99999,"leaderDueMs":1,"heartbeatDueMs":1,"state":"FOLLOWER"}}"#
            ))),
            400,
            Want::Exact("invalid state from master, state: FOLLOWER".into()),
        ),
        case(
            "beat with an old term",
            "POST",
            "/beat",
            gz(&beat_of(&format!(
                r#"{{"ip":"{member}","voteFor":"{member}","term":0,"leaderDueMs":1,"heartbeatDueMs":1,"state":"LEADER"}}"#
            ))),
            400,
            Want::Exact(format!(
                "out of date beat, beat-from-term: 0, beat-to-term: {own_term}"
            )),
        ),
        case(
            "body over the cap",
            "POST",
            "/beat",
            vec![0x1f_u8; 100_000],
            413,
            Want::Prefix(""),
        ),
        case(
            "commit not JSON",
            "POST",
            "/datum/commit",
            "{",
            500,
            Want::Prefix("caused: cannot parse commit"),
        ),
        case(
            "commit without source",
            "POST",
            "/datum/commit",
            format!(
                r#"{{"datum":{{"key":"{}","value":{{}},"timestamp":9}}}}"#,
                service_key(1)
            ),
            500,
            Want::Prefix("caused: cannot parse commit"),
        ),
        case(
            "commit without value",
            "POST",
            "/datum/commit",
            format!(
                r#"{{"datum":{{"key":"{}","timestamp":9}},"source":{}}}"#,
                service_key(1),
                leader.to_json()
            ),
            500,
            // Wrapped by RaftConsistencyServiceImpl.onPut (the reason is only logged).
            Want::Exact(format!(
                "Raft onPut failed, datum:Datum{{key='{}', timestamp=9}}, source: RaftPeer{{ip='{}', voteFor='{}', term={}, leaderDueMs={}, heartbeatDueMs={}, state=LEADER}}",
                service_key(1),
                leader.ip,
                leader.vote_for.as_deref().unwrap_or("null"),
                leader.term,
                leader.leader_due_ms,
                leader.heartbeat_due_ms,
            )),
        ),
        case(
            "commit from a non-leader",
            "POST",
            "/datum/commit",
            format!(
                r#"{{"datum":{{"key":"{}","value":{{"instanceList":[]}},"timestamp":9}},"source":{{"ip":"10.9.9.9:8848","term":99999,"state":"LEADER"}}}}"#,
                service_key(1)
            ),
            500,
            Want::Exact(format!(
                "Raft onPut failed, datum:Datum{{key='{}', timestamp=9}}, source: RaftPeer{{ip='10.9.9.9:8848', voteFor='null', term=99999, leaderDueMs=0, heartbeatDueMs=0, state=LEADER}}",
                service_key(1)
            )),
        ),
        case(
            "commit of a key that would escape the data directory",
            "POST",
            "/datum/commit",
            format!(
                r#"{{"datum":{{"key":"com.alibaba.nacos.naming.iplist.../../etc##x","value":{{"instanceList":[]}},"timestamp":9}},"source":{}}}"#,
                leader.to_json()
            ),
            500,
            Want::Prefix("caused: key com.alibaba.nacos.naming.iplist.../../etc##x: namespace"),
        ),
        case(
            "commit with a bad escape",
            "POST",
            "/datum/commit",
            "%7B%zz",
            400,
            Want::Prefix("URLDecoder: Illegal hex characters"),
        ),
        case(
            "delete commit not JSON",
            "DELETE",
            "/datum/commit",
            "{\"datum\":",
            500,
            Want::Prefix("caused: cannot parse delete commit"),
        ),
        case(
            // RaftController.onPublish types the datum (its first anonymous TypeReference)
            // before onPut: a 500 with the deserialization text, not the onPut wrapper.
            "commit of a value Java cannot type",
            "POST",
            "/datum/commit",
            format!(
                r#"{{"datum":{{"key":"{}","value":{{"instanceList":{{}}}},"timestamp":9}},"source":{}}}"#,
                service_key(1),
                leader.to_json()
            ),
            500,
            Want::Prefix("caused: errCode: 101, errMsg: Nacos deserialize for class [com.alibaba.nacos.naming.controllers.RaftController$1] failed. ;caused: invalid type: map"),
        ),
        case(
            // RaftController.publish types the value on every node, before put: a leader
            // refuses what Java followers would refuse; a follower does not forward it.
            "write of a value Java cannot type",
            "POST",
            "/datum",
            format!(
                r#"{{"key":"{}","value":{{"instanceList":[{{"port":"x"}}]}}}}"#,
                service_key(1)
            ),
            500,
            Want::Prefix("caused: errCode: 101, errMsg: Nacos deserialize for class [com.alibaba.nacos.naming.core.Instances] failed. ;caused: invalid type: string"),
        ),
        case(
            "write of a service Java cannot type",
            "POST",
            "/datum",
            r#"{"key":"com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@x","value":{"protectThreshold":[]}}"#,
            500,
            Want::Prefix("caused: errCode: 101, errMsg: Nacos deserialize for class [com.alibaba.nacos.naming.core.Service] failed."),
        ),
        case(
            "write of an unknown key type",
            "POST",
            "/datum",
            r#"{"key":"foo","value":{}}"#,
            400,
            Want::Prefix("unknown type publish key: foo"),
        ),
        case(
            "write of an ephemeral key",
            "POST",
            "/datum",
            r#"{"key":"com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@x","value":{}}"#,
            400,
            Want::Prefix("ephemeral key"),
        ),
        case(
            "write of a key with a path in it",
            "POST",
            "/datum",
            r#"{"key":"com.alibaba.nacos.naming.iplist.pub/lic##DEFAULT_GROUP@@x","value":{}}"#,
            400,
            Want::Prefix(
                "key com.alibaba.nacos.naming.iplist.pub/lic##DEFAULT_GROUP@@x contains '/'",
            ),
        ),
        case(
            "write not JSON",
            "POST",
            "/datum",
            "{\"key\":",
            500,
            Want::Prefix("caused: cannot parse publish"),
        ),
        case(
            "write without value",
            "POST",
            "/datum",
            format!(r#"{{"key":"{}"}}"#, service_key(1)),
            500,
            Want::Prefix("caused: cannot parse publish"),
        ),
        case(
            "write of a value that is not an object",
            "POST",
            "/datum",
            format!(r#"{{"key":"{}","value":[1,2]}}"#, service_key(1)),
            500,
            Want::Prefix("caused: the value of"),
        ),
        case(
            "write with a key of the wrong type",
            "POST",
            "/datum",
            r#"{"key":42,"value":{}}"#,
            500,
            Want::Prefix("caused: cannot parse publish"),
        ),
        case(
            "delete without key",
            "DELETE",
            "/datum",
            "",
            400,
            Want::Exact("Param 'key' is required.".into()),
        ),
        case(
            "delete of an unknown key type",
            "DELETE",
            "/datum?key=foo",
            "",
            400,
            Want::Prefix("unknown type publish key: foo"),
        ),
        case(
            "read without keys",
            "GET",
            "/datum",
            "",
            400,
            Want::Exact("Param 'keys' is required.".into()),
        ),
        case(
            "read with a bad escape",
            "GET",
            "/datum?keys=a%25",
            "",
            400,
            Want::Prefix("URLDecoder: Incomplete trailing escape"),
        ),
        case(
            "reload without key",
            "PUT",
            "/datum/reload",
            "",
            400,
            Want::Exact("Param 'key' is required.".into()),
        ),
        case("vote with GET", "GET", "/vote", "", 405, Want::Prefix("")),
    ];
    for c in v.iter_mut() {
        if c.path.ends_with("/vote") && c.method == "POST" {
            c.headers.push(form);
        }
    }
    v.push(Case {
        name: "unknown endpoint",
        method: "GET",
        path: format!("{BASE}/nothing"),
        headers: vec![],
        body: vec![],
        status: 404,
        want: Want::Prefix(""),
    });
    v
}

async fn snapshot(http: &Http, addrs: &[String], keys: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for a in addrs {
        let p = http.peer(a).await.expect("peer answer");
        let l = http.leader_of(a).await.map(|l| l.ip);
        let d = http.datums(a, keys).await.expect("datum answer");
        out.push(format!(
            "{a}: {} {:?} {:?} leader={l:?} datums={d:?}",
            p.term, p.state, p.vote_for
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_nacos_errors_changes_nothing_and_the_cluster_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    // Slower elections than the other tests: nothing but the bad input should happen meanwhile.
    let args = [
        "--tick-ms",
        "50",
        "--leader-timeout-ms",
        "6000",
        "--random-ms",
        "1000",
        "--heartbeat-ms",
        "500",
        "--max-body-bytes",
        "65536",
        "--max-gunzip-bytes",
        "1048576",
    ];
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &args);
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, Duration::from_secs(40)).await;
    let follower = addrs.iter().find(|a| **a != leader).unwrap().clone();
    http.wait_first_write(
        &follower,
        &service_key(1),
        &instances_value(1),
        Duration::from_secs(20),
    )
    .await;
    let keys = vec![service_key(1), service_key(2)];
    wait_for(
        "the write on every node",
        Duration::from_secs(20),
        || async {
            for a in &addrs {
                http.datums(a, &keys).await?[0].as_ref()?;
            }
            Some(())
        },
    )
    .await;
    let before = snapshot(&http, &addrs, &keys).await;

    for target in [&follower, &leader] {
        let me = http.peer(target).await.unwrap();
        let lead = http.peer(&leader).await.unwrap();
        assert_eq!(lead.state, PeerState::Leader);
        let other = addrs.iter().find(|a| *a != target).unwrap();
        for c in cases(other, &lead, me.term) {
            let (status, body) = http
                .request(target, c.method, &c.path, &c.headers, c.body.clone())
                .await
                .unwrap_or_else(|e| panic!("{} on {target}: {e}", c.name));
            assert_eq!(status, c.status, "{} on {target}: {body}", c.name);
            match &c.want {
                Want::Exact(t) => assert_eq!(&body, t, "{} on {target}", c.name),
                Want::Prefix(p) => assert!(body.starts_with(p), "{} on {target}: {body}", c.name),
            }
        }
    }
    // Nothing changed: terms, states, votes, leaders, data.
    let after = snapshot(&http, &addrs, &keys).await;
    assert_eq!(before, after);

    // And the cluster still works.
    for a in [&follower, &leader] {
        let (s, t) = http
            .put(a, &service_key(2), &instances_value(2))
            .await
            .unwrap();
        assert_eq!((s, t.as_str()), (200, "ok"), "{a}");
    }
    for n in &mut c.nodes {
        assert!(n.running(), "{} died:\n{}", n.addr, n.log_text());
    }
    // The path-escaping key never reached the disk.
    assert!(!dir.path().join("etc").exists());
}

/// Without a leader, a write and a delete fail with RaftConsistencyServiceImpl's texts (put 88,
/// remove 105), followed by the reason Java's NullPointerException would not give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_without_a_leader_answer_the_service_texts_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ports = nacos_raft_node::testkit::free_ports(3);
    let members: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let members = members.join(",");
    // Only one of three members runs, with a long leader timeout: it never has a leader.
    let mut n = nacos_raft_node::testkit::NodeProc::new(
        Path::new(BIN),
        &format!("127.0.0.1:{}", ports[0]),
        dir.path().join("data"),
        dir.path().join("node.log"),
        vec![
            "--members".into(),
            members,
            "--leader-timeout-ms".into(),
            "60000".into(),
        ],
    );
    n.start();
    let http = Http::new();
    let addr = n.addr.clone();
    wait_for("the node to answer", Duration::from_secs(20), || async {
        let (s, _) = http.get(&addr, &format!("{BASE}/peer")).await.ok()?;
        (s == 200).then_some(())
    })
    .await;
    let key = service_key(3);
    let value = instances_value(3);
    let (status, body) = http.put(&addr, &key, &value).await.unwrap();
    assert_eq!(status, 500);
    assert_eq!(
        body,
        format!("Raft put failed, key:{key}, value:{value}; caused: no leader is available now")
    );
    let (status, body) = http.delete(&addr, &key).await.unwrap();
    assert_eq!(status, 500);
    assert_eq!(
        body,
        format!("Raft remove failed, key:{key}; caused: no leader is available now")
    );
    n.kill();
}

/// RaftController's small edges: `keys=a,b,` is split as Java splits (trailing empties dropped),
/// and datum/state answers name the charset of the first `Accept-Charset` entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_split_as_java_and_the_charset_is_echoed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let port = nacos_raft_node::testkit::free_ports(1)[0];
    let mut n = nacos_raft_node::testkit::NodeProc::new(
        Path::new(BIN),
        &format!("127.0.0.1:{port}"),
        dir.path().join("data"),
        dir.path().join("node.log"),
        vec![],
    );
    n.start();
    let http = Http::new();
    let addr = n.addr.clone();
    wait_for("the node to answer", Duration::from_secs(20), || async {
        let (s, _) = http.get(&addr, &format!("{BASE}/peer")).await.ok()?;
        (s == 200).then_some(())
    })
    .await;
    let k = codec::java_url_encode(&codec::java_url_encode(&service_key(1)));
    let (status, body) = http
        .get(
            &addr,
            &format!("{BASE}/datum?keys={k}%252C&encoding=UTF-8&nofix=1"),
        )
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (200, "[null]"));

    let head = |path: String, charset: Option<&'static str>| {
        let addr = addr.clone();
        async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let extra = charset
                .map(|c| format!("Accept-Charset: {c}\r\n"))
                .unwrap_or_default();
            let req = format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: Nacos-Server:1.4.1\r\n{extra}Connection: close\r\n\r\n"
            );
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.unwrap();
            let text = String::from_utf8_lossy(&out).to_lowercase();
            text.lines()
                .find_map(|l| l.strip_prefix("content-type: ").map(str::to_string))
                .unwrap()
        }
    };
    let datum = format!("{BASE}/datum?keys={k}");
    assert_eq!(
        head(datum.clone(), Some("GBK;q=0.9, UTF-8")).await,
        "application/json; charset=gbk"
    );
    assert_eq!(head(datum, None).await, "application/json; charset=utf-8");
    assert_eq!(
        head(format!("{BASE}/state"), Some("ISO-8859-1")).await,
        "application/json; charset=iso-8859-1"
    );
    n.kill();
}
