//! Peer identity (`--identity-key`/`--identity-value`, Nacos' `nacos.core.auth.server.identity.*`):
//! a cluster with it elects, writes and syncs; a stranger with Nacos' User-Agent but without the
//! header can do nothing on the raft endpoints and changes nothing; a member with the wrong value
//! is refused while the others keep working; the value can come from `--nacos-conf`.

use nacos_raft_core::{BeatDatum, BeatPacket, Datum, JsonValue, PeerState, RaftPeer, Request};
use nacos_raft_node::codec::{self, Outbound};
use nacos_raft_node::identity::REFUSED;
use nacos_raft_node::testkit::{
    assert_stayed_on_loopback, free_ports, instances_value, service_key, wait_for, Http, NodeProc,
    FAST,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const BASE: &str = codec::RAFT_BASE;
const KEY: &str = "X-Nacos-Peer";
const SECRET: &str = "the-cluster-secret";

/// Starts one node of `ports` (the member list) with `extra` options.
fn node(dir: &Path, me: u16, ports: &[u16], extra: &[&str]) -> NodeProc {
    let list: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut args = vec!["--members".to_string(), list.join(",")];
    args.extend(FAST.iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut n = NodeProc::new(
        Path::new(BIN),
        &format!("127.0.0.1:{me}"),
        dir.join(format!("n{me}")),
        dir.join(format!("n{me}.log")),
        args,
    );
    n.start();
    n
}

fn ident_args(value: &str) -> Vec<String> {
    vec![
        "--identity-key".into(),
        KEY.into(),
        "--identity-value".into(),
        value.into(),
    ]
}

/// Every raft request a stranger could send to take over or read a node; each must be refused.
fn forged_requests(key: &str) -> Vec<(&'static str, Outbound)> {
    // A "leader" with a huge term: accepted, it would unseat the real one.
    let usurper = RaftPeer {
        ip: "127.0.0.77:8848".into(),
        vote_for: Some("127.0.0.77:8848".into()),
        term: 1_000_000,
        leader_due_ms: 16_000,
        heartbeat_due_ms: 5_000,
        state: PeerState::Leader,
        data_version: None,
        position: None,
    };
    let mut candidate = usurper.clone();
    candidate.state = PeerState::Candidate;
    let beat = BeatPacket {
        peer: usurper.clone(),
        datums: vec![BeatDatum {
            key: nacos_raft_core::key::brief(key).unwrap().to_string(),
            timestamp: 1,
        }]
        .into(),
    };
    let datum = Datum {
        key: key.into(),
        value: Some(JsonValue::parse(r#"{"instanceList":[]}"#).unwrap()),
        timestamp: u64::MAX / 2,
    };
    let reload = Outbound {
        method: "PUT",
        path_and_query: format!("{BASE}/datum/reload?key={}", codec::java_url_encode(key)),
        headers: vec![],
        body: Default::default(),
    };
    let state = Outbound {
        method: "GET",
        path_and_query: format!("{BASE}/state"),
        headers: vec![],
        body: Default::default(),
    };
    vec![
        (
            "vote",
            codec::encode_request(&Request::Vote(candidate), None),
        ),
        (
            "beat",
            codec::encode_request(&Request::Beat(Arc::new(beat)), None),
        ),
        (
            "commit",
            codec::encode_request(
                &Request::Commit {
                    datum,
                    source: usurper.clone(),
                },
                None,
            ),
        ),
        (
            "delete commit",
            codec::encode_request(
                &Request::DeleteCommit {
                    key: key.into(),
                    source: usurper,
                },
                None,
            ),
        ),
        (
            "write",
            codec::encode_request(
                &Request::Forward {
                    key: key.into(),
                    value: JsonValue::parse(r#"{"instanceList":[]}"#).unwrap(),
                    leader_term: None,
                },
                None,
            ),
        ),
        (
            "delete",
            codec::encode_request(
                &Request::ForwardDelete {
                    key: key.into(),
                    leader_term: None,
                },
                None,
            ),
        ),
        ("reload", reload),
        (
            "read datums",
            codec::encode_request(&Request::GetDatums(vec![key.into()]), None),
        ),
        ("peer", codec::encode_request(&Request::GetPeer, None)),
        ("state", state),
    ]
}

/// A cluster with an identity elects, writes and syncs; a stranger with Nacos' User-Agent but no
/// identity (or a wrong one) is refused with 403 and Nacos' text on every raft endpoint and
/// changes nothing on any node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_identity_works_and_strangers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let args = ident_args(SECRET);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut nodes: Vec<NodeProc> = ports
        .iter()
        .map(|&p| node(dir.path(), p, &ports, &args))
        .collect();
    let addrs: Vec<String> = nodes.iter().map(|n| n.addr.clone()).collect();
    let member = Http::with_identity(KEY, SECRET);
    let leader = member.wait_leader(&addrs, Duration::from_secs(30)).await;
    let key = service_key(1);
    let (status, body) = member
        .put(&addrs[0], &key, &instances_value(1))
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (200, "ok"));
    // Synced to every member (each answers for itself).
    for a in &addrs {
        wait_for(
            "the write on every member",
            Duration::from_secs(20),
            || async {
                let d = member.datums(a, std::slice::from_ref(&key)).await?;
                d.first()?.as_ref().map(|_| ())
            },
        )
        .await;
    }
    let before: Vec<_> = {
        let mut v = Vec::new();
        for a in &addrs {
            v.push((
                member.peer(a).await.unwrap(),
                member.datums(a, std::slice::from_ref(&key)).await,
            ));
        }
        v
    };

    // The stranger: Nacos-Server User-Agent (the plain helper sends it), no identity; then one
    // with the right header name and a wrong value.
    let stranger = Http::new();
    let wrong = Http::with_identity(KEY, "not-the-secret");
    for a in &addrs {
        for who in [&stranger, &wrong] {
            for (what, out) in forged_requests(&key) {
                let headers: Vec<(&'static str, &str)> =
                    out.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (status, body) = who
                    .request(
                        a,
                        out.method,
                        &out.path_and_query,
                        &headers,
                        out.body.clone(),
                    )
                    .await
                    .unwrap();
                assert_eq!(status, 403, "{what} on {a}: {body}");
                assert_eq!(body, REFUSED, "{what} on {a}");
            }
        }
    }
    // The other routes under the raft base, including the alternative prefixes Java routes.
    for path in [
        "/nacos/nacos/v1/ns/raft/peer",
        "/v1/ns/raft/peer",
        "/nacos/v1/ns/raft/leader",
    ] {
        let (status, _) = stranger.get(&addrs[0], path).await.unwrap();
        assert_eq!(status, 403, "{path}");
    }
    // Outside the raft base nothing changes: metrics are still served.
    assert_eq!(stranger.get(&addrs[0], "/metrics").await.unwrap().0, 200);

    // Nothing changed on any node: same terms, same leader, same datum.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for (a, (peer, datums)) in addrs.iter().zip(before) {
        let now = member.peer(a).await.unwrap();
        assert_eq!(now.term, peer.term, "{a}'s term");
        assert_eq!(
            member.leader_of(a).await.unwrap().ip,
            leader,
            "{a}'s leader"
        );
        assert_eq!(
            member.datums(a, std::slice::from_ref(&key)).await,
            datums,
            "{a}'s datum"
        );
    }
    // The client commands carry the identity from the same options (here the environment).
    let client = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(["get", "--server", &addrs[1], &key]);
        for (k, _) in std::env::vars() {
            if k.starts_with("NACOS_RAFT_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied());
        cmd.output().unwrap()
    };
    let o = client(&[
        ("NACOS_RAFT_IDENTITY_KEY", KEY),
        ("NACOS_RAFT_IDENTITY_VALUE", SECRET),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&key));
    let o = client(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("answered 403"));

    for n in &mut nodes {
        let log = n.log_text();
        assert!(log.contains("peer identity: every request"), "{log}");
        assert!(!log.contains(SECRET), "the secret is never logged: {log}");
        assert_stayed_on_loopback("identity cluster", &log);
        n.kill();
    }
}

/// A member whose value is wrong is refused by the others: it never leads, never gets the
/// data, and the two right members elect and write without it. A node started without any
/// identity warns that its raft endpoints are open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_with_the_wrong_value_is_refused_and_the_others_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    // The right value for two members comes from Nacos' application.properties.
    let conf = dir.path().join("application.properties");
    std::fs::write(
        &conf,
        format!(
            "# Nacos\nserver.port=8848\nnacos.core.auth.server.identity.key = {KEY}\n\
             nacos.core.auth.server.identity.value={SECRET}\n"
        ),
    )
    .unwrap();
    let conf = conf.to_str().unwrap().to_string();
    let good = ["--nacos-conf", conf.as_str()];
    let bad = ident_args("a-wrong-secret");
    let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
    let mut a = node(dir.path(), ports[0], &ports, &good);
    let mut b = node(dir.path(), ports[1], &ports, &good);
    let mut c = node(dir.path(), ports[2], &ports, &bad);
    let member = Http::with_identity(KEY, SECRET);
    let pair = vec![a.addr.clone(), b.addr.clone()];
    let leader = member.wait_leader(&pair, Duration::from_secs(30)).await;
    let key = service_key(2);
    let (status, _) = member
        .put(&b.addr, &key, &instances_value(2))
        .await
        .unwrap();
    assert_eq!(status, 200);
    for x in &pair {
        wait_for(
            "the write on both right members",
            Duration::from_secs(20),
            || async {
                member
                    .datums(x, std::slice::from_ref(&key))
                    .await?
                    .first()?
                    .as_ref()
                    .map(|_| ())
            },
        )
        .await;
    }
    // Long enough for c to time out and ask for votes several times (leader timeout 1.5-2 s).
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        member.wait_leader(&pair, Duration::from_secs(10)).await,
        leader
    );
    let c_member = Http::with_identity(KEY, "a-wrong-secret");
    let c_peer = c_member
        .peer(&c.addr)
        .await
        .expect("c answers with its own value");
    assert_ne!(c_peer.state, PeerState::Leader, "c never leads");
    assert!(
        c_member.leader_of(&c.addr).await.is_none(),
        "c knows no leader"
    );
    assert_eq!(
        c_member.datums(&c.addr, std::slice::from_ref(&key)).await,
        Some(vec![None]),
        "c never got the data"
    );
    // c's own requests were refused by the others (its log says the peers answered 403).
    let a_log = a.log_text();
    assert!(
        a_log.contains("refused a raft request without the right"),
        "{a_log}"
    );
    for n in [&mut a, &mut b, &mut c] {
        n.kill();
    }

    // No identity: a warning at start-up.
    let lone = free_ports(1);
    let mut d = node(dir.path(), lone[0], &lone, &[]);
    let d_log = wait_for("the start-up warning", Duration::from_secs(20), || async {
        let log = d.log_text();
        log.contains("no peer identity").then_some(log)
    })
    .await;
    assert!(d_log.contains("raft endpoints under"), "{d_log}");
    d.kill();
}
