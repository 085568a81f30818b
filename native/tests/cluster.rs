//! Clusters of real node processes on loopback with Nacos' timings divided by ten: elections,
//! forwarding, kill -9 of the leader, restart from disk, catch-up of a new node, and a data
//! directory in the layout Java Nacos 1.4.1 writes.

use bytes::Bytes;
use nacos_raft_core::{Datum, PeerState};
use nacos_raft_node::codec;
use nacos_raft_node::testkit::{
    free_ports, instances_value, seed_datums, service_key, wait_for, Cluster, EventStream, Http,
    NodeProc, FAST,
};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const ELECTION: Duration = Duration::from_secs(30);
const META: &str = "com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@svc-meta";

fn args() -> Vec<&'static str> {
    let mut a = FAST.to_vec();
    a.extend(["--publish-timeout-ms", "3000"]);
    a
}

/// Writes `key` through `addr`, retrying while the cluster has no usable leader (right after an
/// election followers learn the leader only from its first beat).
async fn put_retrying(http: &Http, addr: &str, key: &str, value: &str) {
    wait_for(
        &format!("a successful write of {key} via {addr}"),
        ELECTION,
        || async {
            match http.put(addr, key, value).await {
                Ok((200, _)) => Some(()),
                _ => None,
            }
        },
    )
    .await;
}

/// Waits until every node in `addrs` holds exactly these key → value pairs.
async fn wait_visible(http: &Http, addrs: &[String], kv: &[(String, String)]) -> Vec<Vec<Datum>> {
    let keys: Vec<String> = kv.iter().map(|(k, _)| k.clone()).collect();
    let mut all = Vec::new();
    for a in addrs {
        let got = wait_for(&format!("{} datums on {a}", kv.len()), ELECTION, || async {
            let d = http.datums(a, &keys).await?;
            let ok = d.iter().zip(kv).all(|(d, (k, v))| {
                d.as_ref()
                    .is_some_and(|d| d.key == *k && d.value.as_ref().map(|x| x.as_str()) == Some(v))
            });
            ok.then(|| d.into_iter().flatten().collect::<Vec<_>>())
        })
        .await;
        all.push(got);
    }
    all
}

fn leaders(states: &[(String, PeerState)]) -> usize {
    states
        .iter()
        .filter(|(_, s)| *s == PeerState::Leader)
        .count()
}

async fn states(http: &Http, addrs: &[String]) -> Vec<(String, PeerState)> {
    let mut out = Vec::new();
    for a in addrs {
        if let Some(p) = http.peer(a).await {
            out.push((a.clone(), p.state));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_forward_survive_kill_and_restart_from_disk() {
    kill_and_restart_story(None).await;
}

/// The same story with `--rules hardened` (issue 13): every acknowledged write survives the
/// kill -9 and the restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hardened_nodes_survive_kill_and_restart_from_disk() {
    kill_and_restart_story(Some("hardened")).await;
}

/// `rules`: the nodes' `--rules`; `None` leaves them to `NACOS_RAFT_RULES` (default `nacos`).
async fn kill_and_restart_story(rules: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args();
    if let Some(r) = rules {
        a.extend(["--rules", r]);
    }
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &a);
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, ELECTION).await;
    assert_eq!(leaders(&states(&http, &addrs).await), 1, "{}", c.logs());

    // Writes sent to a follower are forwarded and end up on every node.
    let follower = addrs.iter().find(|a| **a != leader).unwrap().clone();
    let mut kv: Vec<(String, String)> = Vec::new();
    for i in 0..20 {
        let (k, v) = (service_key(i), instances_value(i));
        put_retrying(&http, &follower, &k, &v).await;
        kv.push((k, v));
    }
    let seen = wait_visible(&http, &addrs, &kv).await;
    // Nacos starts a key at timestamp 1; a hardened leader elected in term t at t × 10⁹ + 1
    // (docs/hardened/stale-candidate.md, "Timestamps by term").
    let hardened = rules
        .map(str::to_owned)
        .or_else(|| std::env::var("NACOS_RAFT_RULES").ok())
        .as_deref()
        == Some("hardened");
    for (i, d) in seen[0].iter().enumerate() {
        let ts = d.timestamp;
        assert_eq!((ts % 1_000_000_000, ts > 1), (1, hardened), "{}", kv[i].0);
        assert!(seen.iter().all(|s| s[i].timestamp == ts), "{}", kv[i].0);
    }

    // A second write of a key bumps its timestamp everywhere.
    let first = seen[0][0].timestamp;
    let v0 = instances_value(1000);
    put_retrying(&http, &follower, &kv[0].0, &v0).await;
    kv[0].1 = v0;
    let seen = wait_visible(&http, &addrs, &kv).await;
    let second = seen[0][0].timestamp;
    assert!(second > first, "{first} then {second}");
    assert!(seen.iter().all(|d| d[0].timestamp == second));

    // A meta key deleted through a follower is gone everywhere.
    put_retrying(
        &http,
        &follower,
        META,
        r#"{"name":"DEFAULT_GROUP@@svc-meta"}"#,
    )
    .await;
    let (s, t) = http.delete(&follower, META).await.unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    for a in &addrs {
        wait_for(&format!("{META} deleted on {a}"), ELECTION, || async {
            (http.datums(a, &[META.to_string()]).await? == vec![None]).then_some(())
        })
        .await;
    }

    // kill -9 the leader: the other two elect a new one and writes resume.
    c.node(&leader).kill();
    let rest: Vec<String> = addrs.iter().filter(|a| **a != leader).cloned().collect();
    let new_leader = http.wait_leader(&rest, ELECTION).await;
    assert_ne!(new_leader, leader);
    let other = rest.iter().find(|a| **a != new_leader).unwrap().clone();
    for i in 20..25 {
        let (k, v) = (service_key(i), instances_value(i));
        put_retrying(&http, &other, &k, &v).await;
        kv.push((k, v));
    }
    wait_visible(&http, &rest, &kv).await;

    // Stop everything; one node restarted alone (no leader, no sync possible) has every datum
    // back from its data directory, timestamps included.
    for a in &rest {
        c.node(a).kill();
    }
    c.node(&new_leader).start();
    let keys: Vec<String> = kv.iter().map(|(k, _)| k.clone()).collect();
    let back = wait_for("the restarted node to answer", ELECTION, || async {
        http.datums(&new_leader, &keys).await
    })
    .await;
    for ((k, v), d) in kv.iter().zip(&back) {
        let d = d
            .as_ref()
            .unwrap_or_else(|| panic!("{k} lost after restart"));
        assert_eq!(d.value.as_ref().unwrap().as_str(), v);
    }
    assert_eq!(back[0].as_ref().unwrap().timestamp, second);

    // The whole cluster back. The old leader missed five writes; if it won the next election
    // its beats would delete them everywhere (Nacos elects without comparing data, §11.1 #4),
    // so it rejoins only once the up-to-date pair has a leader, and then catches up.
    c.node(&other).start();
    http.wait_leader(&rest, ELECTION).await;
    c.node(&leader).start();
    http.wait_leader(&addrs, ELECTION).await;
    put_retrying(&http, &leader, &service_key(99), &instances_value(99)).await;
    kv.push((service_key(99), instances_value(99)));
    wait_visible(&http, &addrs, &kv).await;
    for n in &mut c.nodes {
        assert!(n.running(), "{} died:\n{}", n.addr, n.log_text());
    }
    // `NACOS_RAFT_RULES=hardened cargo test --test cluster` runs this story under other rules
    // (the nodes read the variable): make sure they did.
    if let Some(rules) = rules
        .map(String::from)
        .or_else(|| std::env::var("NACOS_RAFT_RULES").ok())
    {
        let canonical = rules.parse::<nacos_raft_core::Rules>().unwrap().to_string();
        assert!(
            c.logs().contains(&format!("rules={canonical}")),
            "{}",
            c.logs()
        );
    }
}

/// Three nodes under `--rules hardened` in `dir`, started, with their leader.
async fn hardened_cluster(dir: &Path) -> (Cluster, Http, Vec<String>, String) {
    cluster_under(dir, "hardened").await
}

/// Three nodes under `rules` (a `--rules` value), with a leader all agree on.
async fn cluster_under(dir: &Path, rules: &str) -> (Cluster, Http, Vec<String>, String) {
    let mut a = args();
    a.extend(["--rules", rules]);
    let mut c = Cluster::new(Path::new(BIN), dir, 3, &a);
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, ELECTION).await;
    (c, http, addrs, leader)
}

/// A key deleted while one follower was down stays deleted after the whole cluster restarts
/// (docs/hardened/dead-key.md). The stale follower's copy reaches the new leader as a repair,
/// which the leader refuses, so the follower drops its copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_hardened_cluster_restart_keeps_a_delete() {
    whole_cluster_restart_keeps_a_delete("hardened").await;
}

/// The same with the dead-key fix but no log positions: the leader refuses the repair only
/// because its tombstone outlived the restart (when tombstones lived in memory it took the copy
/// back: the acknowledged delete was lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_key_tombstones_outlive_a_whole_cluster_restart() {
    whole_cluster_restart_keeps_a_delete(
        "stale-votes+term-bump+dead-key+two-leaders+first-beat+global-lock+term-on-restart",
    )
    .await;
}

async fn whole_cluster_restart_keeps_a_delete(rules: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, http, addrs, leader) = cluster_under(dir.path(), rules).await;
    let (k, v) = (service_key(7), instances_value(7));
    put_retrying(&http, &leader, &k, &v).await;
    wait_visible(&http, &addrs, &[(k.clone(), v)]).await;

    let stale = addrs.iter().find(|a| **a != leader).unwrap().clone();
    c.node(&stale).kill();
    let (s, t) = http.delete(&leader, &k).await.unwrap();
    assert_eq!((s, t.as_str()), (200, "ok"));
    let up: Vec<String> = addrs.iter().filter(|a| **a != stale).cloned().collect();
    for a in &up {
        wait_for(&format!("{k} deleted on {a}"), ELECTION, || async {
            (http.datums(a, std::slice::from_ref(&k)).await? == vec![None]).then_some(())
        })
        .await;
    }

    // Everything down; the two that saw the delete come back and elect, then the stale one.
    for a in &up {
        c.node(a).kill();
    }
    for a in &up {
        c.node(a).start();
    }
    let new_leader = http.wait_leader(&up, ELECTION).await;
    c.node(&stale).start();
    http.wait_leader(&addrs, ELECTION).await;
    wait_for(
        &format!("the stale copy of {k} dropped on {stale}"),
        ELECTION,
        || async {
            (http.datums(&stale, std::slice::from_ref(&k)).await? == vec![None]).then_some(())
        },
    )
    .await;
    // And it stays gone everywhere over several beats (a repair taken back would publish it).
    tokio::time::sleep(Duration::from_secs(3)).await;
    for a in &addrs {
        assert_eq!(
            http.datums(a, std::slice::from_ref(&k)).await,
            Some(vec![None]),
            "{k} came back on {a} (leader {new_leader}):\n{}",
            c.logs()
        );
    }
    for n in &mut c.nodes {
        assert!(n.running(), "{} died:\n{}", n.addr, n.log_text());
    }
}

/// A hardened delete is acknowledged once a majority has it, as a write is; Nacos answers at
/// once, before any follower has it (`RaftCore.signalDelete`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hardened_delete_needs_a_majority() {
    for (rules, want) in [("nacos", 200), ("hardened", 500)] {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, http, addrs, leader) = cluster_under(dir.path(), rules).await;
        let k = service_key(3);
        put_retrying(&http, &leader, &k, &instances_value(3)).await;
        for a in addrs.iter().filter(|a| **a != leader) {
            c.node(a).kill();
        }
        let (status, text) = http.delete(&leader, &k).await.unwrap();
        assert_eq!(status, want, "{rules}: {text}");
        if want == 500 {
            // `RaftConsistencyServiceImpl.remove`'s text around the core's error.
            assert!(text.starts_with("Raft remove failed, key:"), "{text}");
        }
        let n = c.node(&leader);
        assert!(n.running(), "{rules}: the leader died:\n{}", n.log_text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_elect_exactly_one_leader() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 5, &args());
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, ELECTION).await;
    let st = states(&http, &addrs).await;
    assert_eq!(st.len(), 5);
    assert_eq!(leaders(&st), 1, "{st:?}\n{}", c.logs());
    assert!(st
        .iter()
        .any(|(a, s)| *a == leader && *s == PeerState::Leader));
    let kv = vec![(service_key(5), instances_value(5))];
    put_retrying(&http, &addrs[0], &kv[0].0, &kv[0].1).await;
    wait_visible(&http, &addrs, &kv).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_node_catches_up_1000_datums_by_beat_sync() {
    const N: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &args());
    let addrs = c.addrs();
    // Two members already hold the data (as persisted files); the third starts empty.
    for n in &c.nodes[..2] {
        seed_datums(&n.data_dir, N).unwrap();
    }
    c.nodes[0].start();
    c.nodes[1].start();
    let http = Http::new();
    let leader = http.wait_leader(&addrs[..2], ELECTION).await;
    assert_eq!(
        http.metric(&leader, "nacos_raft_datums").await,
        Some(N as f64)
    );
    c.nodes[2].start();
    let newcomer = addrs[2].clone();
    wait_for(
        "the new node to hold every datum",
        Duration::from_secs(90),
        || async { (http.metric(&newcomer, "nacos_raft_datums").await? == N as f64).then_some(()) },
    )
    .await;
    let keys: Vec<String> = (0..N).step_by(97).map(service_key).collect();
    let got = http.datums(&newcomer, &keys).await.unwrap();
    for (k, d) in keys.iter().zip(got) {
        let d = d.unwrap();
        assert_eq!(&d.key, k);
        // 1, or t × 10⁹ + 1 under `NACOS_RAFT_RULES=hardened` (elected in term t).
        assert_eq!(d.timestamp % 1_000_000_000, 1);
    }
    // Under the hardened rules (`NACOS_RAFT_RULES=hardened`) a datum is durable in the
    // write-ahead log first and its file is written right after, off the write path.
    let dir = c.nodes[2].data_dir.join("data/public");
    wait_for(
        "every synced datum on disk",
        Duration::from_secs(30),
        || async { (std::fs::read_dir(&dir).ok()?.count() == N).then_some(()) },
    )
    .await;
    assert!(
        http.metric(&newcomer, "nacos_raft_sync_fetches_total")
            .await
            .unwrap()
            >= (N / 50) as f64
    );
}

const JAVA_IPLIST: &str =
    "com.alibaba.nacos.naming.iplist.test-namespace##DEFAULT_GROUP@@test-service";
const JAVA_SWITCH: &str =
    "com.alibaba.nacos.naming.domains.meta.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00";

/// A data directory as Java Nacos 1.4.1 leaves it after Nacos' RaftStoreTest scenario: a
/// persistent instance list of `DEFAULT_GROUP@@test-service` in namespace `test-namespace` with
/// two instances and timestamp 1, the switch file at the top, and meta.properties.
fn java_fixture(root: &Path) -> (String, String) {
    let instance = |ip: &str| {
        format!(
            r#"{{"instanceId":"{ip}#8080#DEFAULT#DEFAULT_GROUP@@test-service","ip":"{ip}","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@test-service","metadata":{{}},"lastBeat":1610590000000,"marked":false,"instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000,"instanceIdGenerator":"simple"}}"#
        )
    };
    let iplist_value = format!(
        r#"{{"instanceList":[{},{}]}}"#,
        instance("1.1.1.1"),
        instance("2.2.2.2")
    );
    let switch_value = r#"{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","masters":null,"adWeightMap":{},"defaultPushCacheMillis":10000,"clientBeatInterval":5000,"defaultCacheMillis":3000,"distroThreshold":0.7,"healthCheckEnabled":true,"autoChangeHealthCheckEnabled":true,"distroEnabled":true,"enableStandalone":true,"pushEnabled":true,"checkTimes":3,"httpHealthParams":{"max":5000,"min":500,"factor":0.85},"tcpHealthParams":{"max":5000,"min":1000,"factor":0.75},"mysqlHealthParams":{"max":3000,"min":2000,"factor":0.65},"incrementalList":[],"serverStatusSynchronizationPeriodMillis":2000,"serviceStatusSynchronizationPeriodMillis":5000,"disableAddIP":false,"sendBeatOnly":false,"lightBeatEnabled":true,"limitedUrlMap":{},"distroServerExpiredMillis":10000,"pushGoVersion":"0.1.0","pushJavaVersion":"0.1.0","pushPythonVersion":"0.4.3","pushCVersion":"1.0.12","enableAuthentication":false,"overriddenServerStatus":null,"defaultInstanceEphemeral":true,"healthCheckWhiteList":[],"checksum":null}"#.to_string();
    let data = root.join("data");
    std::fs::create_dir_all(data.join("test-namespace")).unwrap();
    std::fs::write(
        data.join("test-namespace").join(JAVA_IPLIST),
        format!(r#"{{"key":"{JAVA_IPLIST}","value":{iplist_value},"timestamp":1}}"#),
    )
    .unwrap();
    std::fs::write(
        data.join(JAVA_SWITCH),
        format!(r#"{{"key":"{JAVA_SWITCH}","value":{switch_value},"timestamp":3}}"#),
    )
    .unwrap();
    std::fs::write(
        root.join("meta.properties"),
        "#Thu Jan 14 10:00:00 CST 2021\nterm=305\n",
    )
    .unwrap();
    (iplist_value, switch_value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_on_a_data_directory_written_by_java_nacos() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("naming");
    let (iplist, switch) = java_fixture(&root);
    // One torn file in another namespace: reported and moved aside, not fatal.
    let torn_dir = root.join("data/other");
    std::fs::create_dir_all(&torn_dir).unwrap();
    let torn = torn_dir.join("com.alibaba.nacos.naming.iplist.other##DEFAULT_GROUP@@torn");
    std::fs::write(
        &torn,
        r#"{"key":"com.alibaba.nacos.naming.iplist.other##DEF"#,
    )
    .unwrap();
    // And an empty file, which Nacos skips.
    std::fs::write(
        torn_dir.join("com.alibaba.nacos.naming.iplist.other##DEFAULT_GROUP@@empty"),
        "",
    )
    .unwrap();

    let ports = free_ports(3);
    let members: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let me = members[0].clone();
    let mut node = NodeProc::new(
        Path::new(BIN),
        &me,
        root.clone(),
        dir.path().join("node.log"),
        vec!["--members".into(), members.join(",")],
    );
    node.start();
    let http = Http::new();
    let got = wait_for("the node on the Java data dir", ELECTION, || async {
        http.datums(&me, &[JAVA_IPLIST.to_string(), JAVA_SWITCH.to_string()])
            .await
    })
    .await;
    let d = got[0].as_ref().expect("the Java instance list");
    assert_eq!((d.key.as_str(), d.timestamp), (JAVA_IPLIST, 1));
    assert_eq!(d.value.as_ref().unwrap().as_str(), iplist);
    let s = got[1].as_ref().expect("the switch");
    assert_eq!(
        (s.timestamp, s.value.as_ref().unwrap().as_str()),
        (3, switch.as_str())
    );
    assert_eq!(http.metric(&me, "nacos_raft_datums").await, Some(2.0));
    // Term 0 as in Nacos 1.3+, the persisted 305 reported.
    let log = node.log_text();
    assert!(log.contains("persisted_term=305"), "{log}");
    assert!(
        log.contains("unreadable data file moved aside") && log.contains("@@torn"),
        "{log}"
    );
    assert!(!torn.exists());
    let aside = std::fs::read_dir(root.join("corrupt/data/other"))
        .unwrap()
        .count();
    assert_eq!(aside, 1);
    assert!(node.running());
    let (status, body) = http
        .get(&me, &format!("{}/state", codec::RAFT_BASE))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");

    // An operator edits the switch file and reloads it (endpoint 4): memory follows the file.
    let edited = switch.replace(r#""checkTimes":3"#, r#""checkTimes":4"#);
    std::fs::write(
        root.join("data").join(JAVA_SWITCH),
        format!(r#"{{"key":"{JAVA_SWITCH}","value":{edited},"timestamp":4}}"#),
    )
    .unwrap();
    let q = format!(
        "{}/datum/reload?key={}",
        codec::RAFT_BASE,
        JAVA_SWITCH.replace('#', "%23")
    );
    let (status, body) = http
        .request(&me, "PUT", &q, &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (200, "ok"));
    let got = http.datums(&me, &[JAVA_SWITCH.to_string()]).await.unwrap();
    let s = got[0].as_ref().expect("the switch");
    assert_eq!(
        (s.timestamp, s.value.as_ref().unwrap().as_str()),
        (4, edited.as_str())
    );

    // A switch file Java cannot read as a SwitchDomain (RaftStore 164-166) fails the reload
    // with the deserialization text; memory keeps the last good switch.
    let broken = switch.replace(r#""checkTimes":3"#, r#""checkTimes":"often""#);
    std::fs::write(
        root.join("data").join(JAVA_SWITCH),
        format!(r#"{{"key":"{JAVA_SWITCH}","value":{broken},"timestamp":5}}"#),
    )
    .unwrap();
    let (status, body) = http
        .request(&me, "PUT", &q, &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains(
            "Nacos deserialize for class [com.alibaba.nacos.naming.misc.SwitchDomain] failed."
        ),
        "{body}"
    );
    let got = http.datums(&me, &[JAVA_SWITCH.to_string()]).await.unwrap();
    assert_eq!(got[0].as_ref().unwrap().timestamp, 4);
}

/// A new follower killed with SIGKILL in the middle of its catch-up (batches large enough for
/// the grouped, one-flush-per-chunk write) leaves only whole datum files under their names, and
/// catches up the rest after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_killed_during_a_grouped_catch_up_leaves_only_whole_files() {
    const N: usize = 6000;
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &args());
    let addrs = c.addrs();
    for n in &c.nodes[..2] {
        seed_datums(&n.data_dir, N).unwrap();
    }
    c.nodes[0].start();
    c.nodes[1].start();
    let http = Http::new();
    http.wait_leader(&addrs[..2], ELECTION).await;
    let newcomer = addrs[2].clone();
    let public = c.nodes[2].data_dir.join("data/public");
    for round in 1..=3u64 {
        c.nodes[2].start();
        // Killed at a different moment each time: while fetching, or while writing.
        tokio::time::sleep(Duration::from_millis(300 * round)).await;
        c.nodes[2].kill();
        let mut whole = 0;
        if let Ok(entries) = std::fs::read_dir(&public) {
            for e in entries {
                let name = e.unwrap().file_name().into_string().unwrap();
                if name.starts_with('.') {
                    continue; // a temporary file: never read, removed at start-up
                }
                let bytes = std::fs::read(public.join(&name)).unwrap();
                nacos_raft_node::store::read_datum_file(&name, &bytes)
                    .unwrap_or_else(|e| panic!("round {round}: {name} is torn: {e}"));
                whole += 1;
            }
        }
        eprintln!("round {round}: {whole} whole files after the kill");
    }
    c.nodes[2].start();
    wait_for(
        "the restarted node to hold every datum",
        Duration::from_secs(120),
        || async { (http.metric(&newcomer, "nacos_raft_datums").await? == N as f64).then_some(()) },
    )
    .await;
    wait_for("every file on disk", Duration::from_secs(60), || async {
        let names: Vec<String> = std::fs::read_dir(&public)
            .ok()?
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        (names.len() == N && names.iter().all(|n| !n.starts_with('.'))).then_some(())
    })
    .await;
}

/// `--rules hardened` makes writes durable through its write-ahead log and leaves the datum
/// files to a later flush. A power loss can then take files that were written but not flushed;
/// here they are deleted after a kill -9 of every node (the state such a loss leaves), and a
/// node restarted alone writes them again from its log before it reads its data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hardened_node_restores_from_its_log_the_files_a_power_loss_took() {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, http, addrs, leader) = hardened_cluster(dir.path()).await;
    let mut kv: Vec<(String, String)> = Vec::new();
    for i in 0..10 {
        let (k, v) = (service_key(i), instances_value(i));
        put_retrying(&http, &leader, &k, &v).await;
        kv.push((k, v));
    }
    wait_visible(&http, &addrs, &kv).await;
    for n in &mut c.nodes {
        n.kill();
        assert!(
            n.data_dir.join("nacos-raft.wal").is_file(),
            "no log in {:?}",
            n.data_dir
        );
    }
    let node = c.nodes.iter_mut().find(|n| n.addr == leader).unwrap();
    let store = nacos_raft_node::store::Store::open(&node.data_dir).unwrap();
    let mut lost = 0;
    for (k, _) in &kv {
        if std::fs::remove_file(store.path_of(k).unwrap()).is_ok() {
            lost += 1;
        }
    }
    assert_eq!(
        lost,
        kv.len(),
        "the datum files are not where the test expects them"
    );
    node.start();
    let keys: Vec<String> = kv.iter().map(|(k, _)| k.clone()).collect();
    let back = wait_for("the restarted node to answer", ELECTION, || async {
        http.datums(&leader, &keys).await
    })
    .await;
    for ((k, v), d) in kv.iter().zip(&back) {
        let d = d
            .as_ref()
            .unwrap_or_else(|| panic!("{k} lost:\n{}", c.logs()));
        assert_eq!(d.value.as_ref().unwrap().as_str(), v);
    }
    let node = c.nodes.iter().find(|n| n.addr == leader).unwrap();
    assert!(node
        .log_text()
        .contains("writes replayed from the write-ahead log"));
}

/// Under the hardened rules a leader sends each follower only what changed in its key list
/// since the list the follower last said it holds (docs/hardened/beat-lists.md); a follower
/// that comes back from a crash gets the whole list again first, catches up through beat
/// sync (its missed writes and deletes), and then gets differences again. Under Nacos' rules
/// every beat carries the whole list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardened_beats_carry_differences_and_a_restarted_follower_still_catches_up() {
    const DIFFS: &str = "nacos_raft_beats_by_difference_total";
    const NOT_HELD: &str = "nacos_raft_beats_not_held_total";
    /// A counter summed over the members (a restarted member starts from 0; leaders change).
    async fn total(http: &Http, addrs: &[String], name: &str) -> f64 {
        let mut sum = 0.0;
        for a in addrs {
            sum += http.metric(a, name).await.unwrap_or(0.0);
        }
        sum
    }
    async fn diffs_reach(http: &Http, addrs: &[String], want: f64, c: &Cluster) {
        for _ in 0..300 {
            if total(http, addrs, DIFFS).await >= want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("fewer than {want} beats by difference:\n{}", c.logs());
    }
    for rules in ["hardened", "nacos"] {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, http, addrs, leader) = cluster_under(dir.path(), rules).await;
        let mut kv: Vec<(String, String)> = (0..20)
            .map(|i| (service_key(i), instances_value(i)))
            .collect();
        for (k, v) in &kv {
            put_retrying(&http, &leader, k, v).await;
        }
        wait_visible(&http, &addrs, &kv).await;
        if rules == "nacos" {
            // Several beats (fast timings: every 500 ms), none a difference.
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert!(total(&http, &addrs, "nacos_raft_beats_sent_total").await > 4.0);
            assert_eq!(total(&http, &addrs, DIFFS).await, 0.0, "{rules}");
            continue;
        }
        diffs_reach(&http, &addrs, 4.0, &c).await;

        // A follower misses writes and deletes while down, then restarts with no list held
        // (it may win the next election: it holds everything the others acknowledged).
        let f = addrs.iter().find(|a| **a != leader).unwrap().clone();
        c.node(&f).kill();
        for i in 20..40 {
            let (k, v) = (service_key(i), instances_value(i));
            put_retrying(&http, &leader, &k, &v).await;
            kv.push((k, v));
        }
        let gone: Vec<String> = kv.drain(..5).map(|(k, _)| k).collect();
        for k in &gone {
            let (s, t) = http.delete(&leader, k).await.unwrap();
            assert_eq!((s, t.as_str()), (200, "ok"));
        }
        c.node(&f).start();
        wait_visible(&http, &addrs, &kv).await;
        for a in &addrs {
            wait_for(&format!("deletes reach {a}"), ELECTION, || async {
                (http.datums(a, &gone).await? == vec![None; gone.len()]).then_some(())
            })
            .await;
        }
        // Differences again, taken: each refusal is counted, and there are at most as many
        // as restarts.
        let leader = http.wait_leader(&addrs, ELECTION).await;
        let before = total(&http, &addrs, DIFFS).await;
        diffs_reach(&http, &addrs, before + 6.0, &c).await;
        let refused_before = total(&http, &addrs, NOT_HELD).await;
        assert!(refused_before <= 1.0, "{refused_before}");

        // A follower's restart between two beats: the leader still takes it to hold its list,
        // the follower answers 409 and gets the whole list at once. Retried: a beat that falls
        // in the restart fails instead (then the whole list goes anyway), and a restarted
        // member may win an election.
        let mut refused = refused_before;
        for _ in 0..10 {
            let leader = http.wait_leader(&addrs, ELECTION).await;
            let f = addrs.iter().find(|a| **a != leader).unwrap().clone();
            c.node(&f).kill();
            c.node(&f).start();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            refused = total(&http, &addrs, NOT_HELD).await;
            if refused > refused_before {
                break;
            }
        }
        assert!(
            refused > refused_before,
            "no difference was refused:\n{}",
            c.logs()
        );
        let (k, v) = (service_key(50), instances_value(50));
        put_retrying(&http, &leader, &k, &v).await;
        kv.push((k, v));
        wait_visible(&http, &addrs, &kv).await;
        let now = total(&http, &addrs, DIFFS).await;
        diffs_reach(&http, &addrs, now + 4.0, &c).await;
        for n in &mut c.nodes {
            assert!(n.running(), "{} died:\n{}", n.addr, n.log_text());
        }
    }
}

/// A hardened leader sends the commits that one group commit makes durable to each follower as
/// one request (`nacos-raft-batch`, issue 13), once the follower has said it takes batches; every
/// write still reaches every member, each key's last write last. A faithful leader sends each
/// commit alone, as Java does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardened_leaders_batch_their_commits_and_faithful_ones_never_do() {
    const ITEMS: &str = "nacos_raft_commit_batch_items_total";
    for rules in ["hardened", "nacos"] {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, http, addrs, leader) = cluster_under(dir.path(), rules).await;
        // 24 writers of 10 new keys each, and one writer overwriting one key 20 times.
        let mut tasks = Vec::new();
        for t in 0..24 {
            let (http, leader) = (http.clone(), leader.clone());
            tasks.push(tokio::spawn(async move {
                let mut kv = Vec::new();
                for i in 0..10 {
                    let (k, v) = (service_key(t * 10 + i), instances_value(t * 10 + i));
                    put_retrying(&http, &leader, &k, &v).await;
                    kv.push((k, v));
                }
                kv
            }));
        }
        let (one, last) = (service_key(1_000), instances_value(1_019));
        for i in 1_000..1_020 {
            put_retrying(&http, &leader, &one, &instances_value(i)).await;
        }
        let mut kv = vec![(one, last)];
        for t in tasks {
            kv.extend(t.await.unwrap());
        }
        wait_visible(&http, &addrs, &kv).await;
        let mut items = 0.0;
        for a in &addrs {
            items += http.metric(a, ITEMS).await.unwrap_or(0.0);
        }
        if rules == "hardened" {
            assert!(items > 0.0, "no commit went in a batch:\n{}", c.logs());
            // While a page watches the followers, they stop saying they take batches, and the
            // leader sends each commit alone again (the page shows each as a message).
            let mut viewers = Vec::new();
            for a in addrs.iter().filter(|a| **a != leader) {
                viewers.push(EventStream::open(a, ELECTION).await);
            }
            for i in 2_000..2_010 {
                put_retrying(&http, &leader, &service_key(i), &instances_value(i)).await;
            }
            let before = http.metric(&leader, ITEMS).await.unwrap_or(0.0);
            let mut tasks = Vec::new();
            for t in 0..24 {
                let (http, leader) = (http.clone(), leader.clone());
                tasks.push(tokio::spawn(async move {
                    for i in 0..5 {
                        let n = 3_000 + t * 5 + i;
                        put_retrying(&http, &leader, &service_key(n), &instances_value(n)).await;
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let after = http.metric(&leader, ITEMS).await.unwrap_or(0.0);
            assert_eq!(after, before, "batches while the followers were watched");
            drop(viewers);
        } else {
            assert_eq!(items, 0.0, "{rules}");
        }
        for n in &mut c.nodes {
            assert!(n.running(), "{} died:\n{}", n.addr, n.log_text());
        }
    }
}
