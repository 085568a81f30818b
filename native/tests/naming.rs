//! The naming API (`/nacos/v1/ns/instance`, `/service`, `/operator/metrics`) on clusters of real
//! node processes on loopback: what is stored and in which order, answers and error texts as
//! Java 1.4.1 gives them, health checks from the leader seen on every node, and a service of
//! 10,000 instances. The official SDKs are driven against the same API in `tests/sdk.rs`.

use nacos_raft_core::key;
use nacos_raft_node::testkit::{wait_for, Acceptor, Cluster, Http, FAST};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");
const LIMIT: Duration = Duration::from_secs(30);
const JAVA_UA: &str = "Nacos-Java-Client:v1.0.0";
const PY_UA: &str = "Nacos-Python-Client:v1.0.0";
const FORM: &str = "application/x-www-form-urlencoded";
/// The check period these tests run with.
const INTERVAL_MS: u64 = 300;

fn args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut a = FAST.to_vec();
    a.extend([
        "--publish-timeout-ms",
        "3000",
        "--health-check-interval-ms",
        "300",
    ]);
    a.extend(extra);
    a
}

fn iplist(svc: &str) -> String {
    key::iplist_key("public", &format!("DEFAULT_GROUP@@{svc}"))
}

fn meta(svc: &str) -> String {
    key::meta_key("public", &format!("DEFAULT_GROUP@@{svc}"))
}

/// A closed loopback port (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Api<'a> {
    http: &'a Http,
}

impl Api<'_> {
    async fn call(&self, addr: &str, method: &'static str, path: &str, ua: &str) -> (u16, String) {
        self.http
            .request(addr, method, path, &[("user-agent", ua)], Vec::new())
            .await
            .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"))
    }

    async fn form(
        &self,
        addr: &str,
        method: &'static str,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        self.http
            .request(
                addr,
                method,
                path,
                &[("content-type", FORM), ("user-agent", JAVA_UA)],
                body.as_bytes().to_vec(),
            )
            .await
            .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"))
    }

    async fn list(&self, addr: &str, query: &str, ua: &str) -> serde_json::Value {
        let (s, b) = self
            .call(
                addr,
                "GET",
                &format!("/nacos/v1/ns/instance/list?{query}"),
                ua,
            )
            .await;
        assert_eq!(s, 200, "{b}");
        serde_json::from_str(&b).unwrap()
    }

    /// Registers through `addr`, retrying while a fresh cluster has no usable leader.
    async fn register(&self, addr: &str, query: &str) {
        wait_for(&format!("registration {query}"), LIMIT, || async {
            let (s, b) = self
                .call(
                    addr,
                    "POST",
                    &format!("/nacos/v1/ns/instance?{query}"),
                    JAVA_UA,
                )
                .await;
            (s == 200 && b == "ok").then_some(())
        })
        .await;
    }

    async fn raw_value(&self, addr: &str, k: String) -> Option<(String, u64)> {
        let d = self.http.datums(addr, &[k]).await?;
        d.into_iter().next().flatten().map(|d| {
            (
                d.value.map(|v| v.as_str().to_string()).unwrap_or_default(),
                d.timestamp,
            )
        })
    }
}

/// `(ip:port, healthy)` of a list answer, sorted.
fn health(list: &serde_json::Value) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = list["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                format!("{}:{}", h["ip"].as_str().unwrap(), h["port"]),
                h["healthy"].as_bool().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Replaces the value of `"lastBeat":<n>` (the registration time) by 0.
fn mask_last_beat(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\"lastBeat\":") {
        let (head, tail) = rest.split_at(i + "\"lastBeat\":".len());
        out.push_str(head);
        out.push('0');
        rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

fn mask_field(s: &str, field: &str) -> String {
    // `"field":<number>` → `"field":0`.
    let pat = format!("\"{field}\":");
    match s.find(&pat) {
        Some(i) => {
            let (head, tail) = s.split_at(i + pat.len());
            let tail = tail.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{head}0{tail}")
        }
        None => s.to_string(),
    }
}

fn mask_checksum(s: &str) -> String {
    match s.find("\"checksum\":\"") {
        Some(i) => {
            let start = i + "\"checksum\":\"".len();
            format!("{}X{}", &s[..start], &s[start + 32..])
        }
        None => s.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_list_replace_deregister_and_health_on_three_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &args(&[]));
    c.start_all();
    let http = Http::new();
    let api = Api { http: &http };
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, LIMIT).await;
    let followers: Vec<String> = addrs.iter().filter(|a| **a != leader).cloned().collect();
    let up = Acceptor::bind(0).unwrap();
    let up_port = up.port;

    // Registered through a follower with a form body, as Java clients send it.
    let body = format!(
        "serviceName=demo&ip=127.0.0.1&port={up_port}&ephemeral=false&app=shop&metadata=%7B%22k%22%3A%22v%22%7D"
    );
    let r = wait_for("a registration through a follower", LIMIT, || async {
        let (s, b) = api
            .form(&followers[0], "POST", "/nacos/v1/ns/instance", &body)
            .await;
        (s == 200).then_some(b)
    })
    .await;
    assert_eq!(r, "ok");

    // Stored as Java stores it, on every node: the service, then the instance list.
    for a in &addrs {
        let (m, mts) = wait_for("the meta datum", LIMIT, || api.raw_value(a, meta("demo"))).await;
        assert_eq!(mts, 1);
        assert_eq!(
            mask_checksum(&mask_field(&m, "lastModifiedMillis")),
            r#"{"name":"DEFAULT_GROUP@@demo","protectThreshold":0.0,"groupName":"DEFAULT_GROUP","metadata":{},"finalizeCount":0,"owners":[],"resetWeight":false,"enabled":true,"selector":{"type":"none"},"namespaceId":"public","ipDeleteTimeout":30000,"lastModifiedMillis":0,"checksum":"X","clusterMap":{},"empty":true}"#
        );
        let (v, _) = wait_for("the iplist datum", LIMIT, || {
            api.raw_value(a, iplist("demo"))
        })
        .await;
        assert_eq!(
            mask_last_beat(&v),
            format!(
                r#"{{"instanceList":[{{"instanceId":"127.0.0.1#{up_port}#DEFAULT#DEFAULT_GROUP@@demo","ip":"127.0.0.1","port":{up_port},"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@demo","metadata":{{"k":"v"}},"lastBeat":0,"marked":false,"app":"shop","instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000}}]}}"#
            )
        );
    }
    // The meta key was written (and made durable) before the instance list.
    let data = dir
        .path()
        .join(leader.rsplit(':').next().unwrap())
        .join("data/public");
    let mtime = |k: &str| {
        std::fs::metadata(data.join(key::file_name(k)))
            .and_then(|m| m.modified())
            .unwrap()
    };
    assert!(mtime(&meta("demo")) < mtime(&iplist("demo")));

    // Listed by every node; grouped names for Java clients only.
    for a in &addrs {
        let java = api.list(a, "serviceName=demo", JAVA_UA).await;
        assert_eq!(java["dom"], "DEFAULT_GROUP@@demo");
        assert_eq!(java["name"], "DEFAULT_GROUP@@demo");
        assert_eq!(java["cacheMillis"], 3000);
        assert_eq!(java["hosts"][0]["serviceName"], "DEFAULT_GROUP@@demo");
        assert_eq!(java["hosts"][0]["metadata"]["k"], "v");
        assert_eq!(java["hosts"][0]["ephemeral"], false);
        let py = api.list(a, "serviceName=demo", PY_UA).await;
        assert_eq!(py["dom"], "demo");
        assert_eq!(py["hosts"][0]["serviceName"], "demo");
        assert_eq!(health(&py), vec![(format!("127.0.0.1:{up_port}"), true)]);
    }

    // Same ip:port:cluster again: replaced (weight 2), instanceId kept, one instance.
    api.register(
        &followers[1],
        &format!("serviceName=demo&ip=127.0.0.1&port={up_port}&ephemeral=false&weight=2"),
    )
    .await;
    for a in &addrs {
        let l = wait_for("the replaced instance", LIMIT, || async {
            let l = api.list(a, "serviceName=demo", JAVA_UA).await;
            (l["hosts"][0]["weight"] == 2.0).then_some(l)
        })
        .await;
        assert_eq!(l["hosts"].as_array().unwrap().len(), 1);
        assert!(l["hosts"][0]["metadata"].as_object().unwrap().is_empty());
    }

    // A closed port: unhealthy on every node within 3 check periods plus slack (a refused
    // connect counts at once, as Java's checkFailNow), healthy again 3 checks after it opens.
    let down_port = closed_port();
    api.register(
        &leader,
        &format!("serviceName=demo&ip=127.0.0.1&port={down_port}&ephemeral=false"),
    )
    .await;
    let start = Instant::now();
    let bound = Duration::from_millis(INTERVAL_MS * 3) + Duration::from_secs(6);
    for a in &addrs {
        wait_for(
            &format!("127.0.0.1:{down_port} unhealthy on {a}"),
            bound,
            || async {
                let l = api.list(a, "serviceName=demo", JAVA_UA).await;
                (health(&l).contains(&(format!("127.0.0.1:{down_port}"), false))).then_some(())
            },
        )
        .await;
    }
    eprintln!(
        "closed port seen unhealthy on all nodes after {:?}",
        start.elapsed()
    );
    let only = api
        .list(&followers[0], "serviceName=demo&healthyOnly=true", JAVA_UA)
        .await;
    assert_eq!(health(&only), vec![(format!("127.0.0.1:{up_port}"), true)]);
    let detail = api
        .call(
            &followers[1],
            "GET",
            &format!("/nacos/v1/ns/instance?serviceName=demo&ip=127.0.0.1&port={down_port}"),
            JAVA_UA,
        )
        .await;
    assert_eq!(detail.0, 200);
    assert!(detail.1.contains("\"healthy\":false"), "{}", detail.1);
    let reopened = Acceptor::bind(down_port).unwrap();
    let start = Instant::now();
    for a in &addrs {
        wait_for(
            &format!("127.0.0.1:{down_port} healthy on {a}"),
            bound,
            || async {
                let l = api.list(a, "serviceName=demo", JAVA_UA).await;
                (health(&l).iter().all(|(_, h)| *h)).then_some(())
            },
        )
        .await;
    }
    eprintln!(
        "reopened port seen healthy on all nodes after {:?}",
        start.elapsed()
    );
    drop(reopened);

    // Deregister both through the third node: the list is written back even when empty.
    let third = &followers[1];
    for port in [up_port, down_port] {
        let (s, b) = api
            .call(
                third,
                "DELETE",
                &format!("/nacos/v1/ns/instance?serviceName=demo&ip=127.0.0.1&port={port}&ephemeral=false"),
                JAVA_UA,
            )
            .await;
        assert_eq!((s, b.as_str()), (200, "ok"));
    }
    for a in &addrs {
        wait_for("the emptied list", LIMIT, || async {
            let (v, _) = api.raw_value(a, iplist("demo")).await?;
            (v == r#"{"instanceList":[]}"#).then_some(())
        })
        .await;
        let l = api.list(a, "serviceName=demo", JAVA_UA).await;
        assert!(l["hosts"].as_array().unwrap().is_empty());
        assert_eq!(l["dom"], "DEFAULT_GROUP@@demo", "the service itself stays");
    }
    drop(up);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_javas_answer_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &args(&[]));
    c.start_all();
    let http = Http::new();
    let api = Api { http: &http };
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, LIMIT).await;
    let f = addrs.iter().find(|a| **a != leader).unwrap().clone();
    let port = closed_port();
    api.register(
        &f,
        &format!("serviceName=known&ip=127.0.0.1&port={port}&ephemeral=false"),
    )
    .await;
    wait_for("the registration on the follower", LIMIT, || {
        api.raw_value(&f, iplist("known"))
    })
    .await;
    let before = api.raw_value(&leader, iplist("known")).await.unwrap();
    let datums = http.metric(&leader, "nacos_raft_datums").await.unwrap();

    let inst = "/nacos/v1/ns/instance";
    let p = format!("ip=127.0.0.1&port={port}");
    let cases: Vec<(&str, String, u16, String)> = vec![
        ("POST", format!("{inst}?ip=127.0.0.1&port=1"), 400, "Param 'serviceName' is required.".into()),
        ("POST", format!("{inst}?serviceName=s&port=1"), 400, "Param 'ip' is required.".into()),
        ("POST", format!("{inst}?serviceName=s&ip=127.0.0.1&ip=x"), 400, "Param 'port' is required.".into()),
        ("POST", format!("{inst}?serviceName=s&ip=127.0.0.1&port=80x&ephemeral=false"), 400, "For input string: \"80x\"".into()),
        ("POST", format!("{inst}?serviceName=s&{p}&weight=heavy&ephemeral=false"), 400, "For input string: \"heavy\"".into()),
        ("POST", format!("{inst}?serviceName=s&{p}&weight=10000.5&ephemeral=false"), 400, "instance format invalid: The weights range from 0.0 to 10000.0".into()),
        ("POST", format!("{inst}?serviceName=s&ip=127.0.0.300&port=1&ephemeral=false"), 400, "The IPv4 address(\"127.0.0.300\") is incorrect.".into()),
        ("POST", format!("{inst}?serviceName=s&{p}&metadata=a%3D1%2Cb&ephemeral=false"), 400, "metadata format incorrect:a=1,b".into()),
        ("POST", format!("{inst}?serviceName=G%40%40&{p}&ephemeral=false"), 400, "Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'".into()),
        ("POST", format!("{inst}?serviceName=a%2Fb&{p}&ephemeral=false"), 400, "dom name can only have these characters: 0-9a-zA-Z-._:, current: DEFAULT_GROUP@@a/b".into()),
        ("POST", format!("{inst}?serviceName=s&{p}&clusterName=a_b&ephemeral=false"), 400, "cluster name can only have these characters: 0-9a-zA-Z-, current: a_b".into()),
        ("POST", format!("{inst}?serviceName=s&{p}&namespaceId=..&ephemeral=false"), 400, "namespaceId \"..\" with service \"DEFAULT_GROUP@@s\" cannot be stored: key com.alibaba.nacos.naming.iplist...##DEFAULT_GROUP@@s has an invalid namespace \"..\"".into()),
        ("POST", format!("{inst}?serviceName=s&{p}"), 400, nacos_raft_node::naming::EPHEMERAL_REFUSED.into()),
        ("POST", format!("{inst}?serviceName=known&{p}&ephemeral=true"), 400, nacos_raft_node::naming::EPHEMERAL_REFUSED.into()),
        ("PUT", format!("{inst}?serviceName=known&ip=127.0.0.9&port=1&ephemeral=false"), 400, "instance not exist: 127.0.0.9:1:unknown:DEFAULT_1.0_true_false_DEFAULT".into()),
        ("PUT", format!("{inst}?serviceName=unknown&{p}&ephemeral=false"), 400, "service not found, namespace: public, service: DEFAULT_GROUP@@unknown".into()),
        ("DELETE", format!("{inst}?serviceName=known&{p}"), 400, nacos_raft_node::naming::EPHEMERAL_REFUSED.into()),
        ("DELETE", format!("{inst}?serviceName=known"), 400, "Param 'ip' is required.".into()),
        ("GET", format!("{inst}?serviceName=unknown&{p}"), 404, "no service DEFAULT_GROUP@@unknown found!".into()),
        ("GET", format!("{inst}?serviceName=known&{p}&clusterName=C2"), 404, "no ips found for cluster C2 in service DEFAULT_GROUP@@known".into()),
        ("GET", format!("{inst}?serviceName=known&ip=127.0.0.1&port=2"), 404, "no matched ip found!".into()),
        ("GET", format!("{inst}/list"), 400, "Param 'serviceName' is required.".into()),
        ("GET", format!("{inst}/list?serviceName=known&udpPort=x"), 400, "For input string: \"x\"".into()),
        ("GET", format!("{inst}/statuses"), 400, "Parameter 'key' is missing".into()),
        ("GET", format!("{inst}/statuses?key=public%23%23DEFAULT_GROUP%40%40nope"), 404, "service: DEFAULT_GROUP@@nope not found.".into()),
        ("PUT", format!("{inst}/beat?serviceName=known&beat=%7Bx"), 500, "".into()),
        ("POST", "/nacos/v1/ns/service?serviceName=known".into(), 400, "specified service already exists, serviceName : DEFAULT_GROUP@@known".into()),
        ("POST", "/nacos/v1/ns/service".into(), 400, "Parameter 'serviceName' is missing".into()),
        ("POST", "/nacos/v1/ns/service?serviceName=n2&protectThreshold=x".into(), 500, "caused: Failed to convert value of type 'java.lang.String' to required type 'float'; nested exception is java.lang.NumberFormatException: For input string: \"x\";caused: For input string: \"x\";".into()),
        ("POST", "/nacos/v1/ns/service?serviceName=n3&selector=%7B%22type%22%3A%22label%22%7D".into(), 400, "label selectors are not supported by this node; use {\"type\":\"none\"}".into()),
        ("DELETE", "/nacos/v1/ns/service?serviceName=unknown".into(), 400, "specified service not exist, serviceName : DEFAULT_GROUP@@unknown".into()),
        ("PUT", "/nacos/v1/ns/service?serviceName=unknown&protectThreshold=0.5".into(), 400, "service DEFAULT_GROUP@@unknown not found!".into()),
        ("PUT", "/nacos/v1/ns/service?serviceName=known".into(), 400, "Param 'protectThreshold' is required.".into()),
        ("GET", "/nacos/v1/ns/service?serviceName=unknown".into(), 404, "service DEFAULT_GROUP@@unknown is not found!".into()),
        ("GET", "/nacos/v1/ns/service/list?pageNo=1".into(), 400, "Param 'pageSize' is required.".into()),
        ("POST", "/nacos/v1/ns/service/status".into(), 500, "".into()),
    ];
    for target in [&f, &leader] {
        for (method, path, status, text) in &cases {
            let (s, b) = api.call(target, method, path, JAVA_UA).await;
            assert_eq!(s, *status, "{method} {path} on {target}: {b}");
            if !text.is_empty() {
                assert_eq!(&b, text, "{method} {path} on {target}");
            } else {
                assert!(b.starts_with("caused: "), "{method} {path}: {b}");
            }
        }
    }
    // The unknown-service deregistration is `ok` and writes nothing, as in Java.
    let (s, b) = api
        .call(
            &f,
            "DELETE",
            &format!("{inst}?serviceName=unknown&{p}&ephemeral=false"),
            JAVA_UA,
        )
        .await;
    assert_eq!((s, b.as_str()), (200, "ok"));
    // Beats: a persistent instance is acknowledged and left alone, an unknown one is 20404.
    let (_, b) = api
        .call(
            &f,
            "PUT",
            &format!("{inst}/beat?serviceName=known&{p}"),
            JAVA_UA,
        )
        .await;
    assert_eq!(
        b,
        r#"{"clientBeatInterval":5000,"code":10200,"lightBeatEnabled":true}"#
    );
    let (_, b) = api
        .call(
            &f,
            "PUT",
            &format!("{inst}/beat?serviceName=known&ip=127.0.0.1&port=9"),
            JAVA_UA,
        )
        .await;
    assert_eq!(b, r#"{"clientBeatInterval":5000,"code":20404}"#);

    // Nothing was written by any of it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        api.raw_value(&leader, iplist("known")).await.unwrap(),
        before
    );
    assert_eq!(
        http.metric(&leader, "nacos_raft_datums").await.unwrap(),
        datums
    );
    for a in &addrs {
        assert_eq!(api.raw_value(a, meta("s")).await, None);
        assert_eq!(api.raw_value(a, iplist("s")).await, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_java_written_datums_marked_instances_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, &args(&[]));
    c.start_all();
    let http = Http::new();
    let api = Api { http: &http };
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, LIMIT).await;
    let f = addrs.iter().find(|a| **a != leader).unwrap().clone();

    // A service created through the service API, then read, updated, listed and removed.
    let (s, b) = wait_for("a service creation", LIMIT, || async {
        let r = api
            .call(
                &f,
                "POST",
                "/nacos/v1/ns/service?serviceName=orders&groupName=SHOP&protectThreshold=0.5&metadata=team%3Dblue",
                JAVA_UA,
            )
            .await;
        (r.0 != 500).then_some(r)
    })
    .await;
    assert_eq!((s, b.as_str()), (200, "ok"));
    let (v, _) = wait_for("the service datum", LIMIT, || {
        api.raw_value(&f, key::meta_key("public", "SHOP@@orders"))
    })
    .await;
    assert!(
        v.starts_with(
            r#"{"name":"SHOP@@orders","protectThreshold":0.5,"metadata":{"team":"blue"}"#
        ),
        "{v}"
    );
    let (s, b) = api
        .call(
            &leader,
            "GET",
            "/nacos/v1/ns/service?serviceName=orders&groupName=SHOP",
            JAVA_UA,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        b,
        r#"{"name":"orders","namespaceId":"public","protectThreshold":0.5,"metadata":{"team":"blue"},"selector":{"type":"none"},"groupName":"SHOP","clusters":[]}"#
    );
    let (s, _) = api
        .call(&f, "PUT", "/nacos/v1/ns/service?serviceName=orders&groupName=SHOP&protectThreshold=0.25&metadata=%7B%7D", JAVA_UA)
        .await;
    assert_eq!(s, 200);
    let (_, b) = api
        .call(
            &f,
            "GET",
            "/nacos/v1/ns/service?serviceName=orders&groupName=SHOP",
            JAVA_UA,
        )
        .await;
    assert!(
        b.contains(r#""protectThreshold":0.25,"metadata":{}"#),
        "{b}"
    );

    // Datums in the form a Java node writes (no app, derived fields, a marked instance at a
    // closed port), put through the raw datum path: the API reads them, the checker leaves the
    // marked one alone.
    let up = Acceptor::bind(0).unwrap();
    let up_port = up.port;
    let down_port = closed_port();
    let java_meta = r#"{"name":"DEFAULT_GROUP@@legacy","protectThreshold":0.0,"groupName":"DEFAULT_GROUP","metadata":{},"ipDeleteTimeout":30000,"enabled":true,"lastModifiedMillis":0,"resetWeight":false,"selector":{"type":"none"},"owners":[],"clusterMap":{},"namespaceId":"public","checksum":"x","finalizeCount":0,"empty":true}"#;
    let inst = |port: u16, marked: bool| {
        format!(
            r#"{{"instanceId":"127.0.0.1#{port}#DEFAULT#DEFAULT_GROUP@@legacy","ip":"127.0.0.1","port":{port},"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@legacy","metadata":{{}},"lastBeat":1600000000000,"marked":{marked},"instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000,"instanceIdGenerator":"simple"}}"#
        )
    };
    let java_list = format!(
        r#"{{"instanceList":[{},{}]}}"#,
        inst(up_port, false),
        inst(down_port, true)
    );
    let (s, _) = http.put(&f, &meta("legacy"), java_meta).await.unwrap();
    assert_eq!(s, 200);
    let (s, _) = http.put(&f, &iplist("legacy"), &java_list).await.unwrap();
    assert_eq!(s, 200);
    // Several check rounds later the marked instance is still healthy everywhere.
    tokio::time::sleep(Duration::from_millis(INTERVAL_MS * 8)).await;
    for a in &addrs {
        let l = wait_for("the legacy service", LIMIT, || async {
            let l = api.list(a, "serviceName=legacy", PY_UA).await;
            (l["hosts"].as_array().map(Vec::len) == Some(2)).then_some(l)
        })
        .await;
        assert!(health(&l).iter().all(|(_, h)| *h), "{l}");
        assert_eq!(l["hosts"][0]["serviceName"], "legacy");
    }

    // The service list: name order, group filter, pages, `*` for every group.
    api.register(
        &f,
        &format!("serviceName=a1&ip=127.0.0.1&port={up_port}&ephemeral=false"),
    )
    .await;
    let list = |q: &'static str| {
        let api = &api;
        let f = f.clone();
        async move {
            let (s, b) = api
                .call(
                    &f,
                    "GET",
                    &format!("/nacos/v1/ns/service/list?{q}"),
                    JAVA_UA,
                )
                .await;
            assert_eq!(s, 200, "{b}");
            b
        }
    };
    wait_for("a1 listed", LIMIT, || async {
        (list("pageNo=1&pageSize=10").await == r#"{"doms":["a1","legacy"],"count":2}"#)
            .then_some(())
    })
    .await;
    assert_eq!(
        list("pageNo=2&pageSize=1").await,
        r#"{"doms":["legacy"],"count":2}"#
    );
    assert_eq!(
        list("pageNo=3&pageSize=1").await,
        r#"{"doms":[],"count":2}"#
    );
    assert_eq!(
        list("pageNo=1&pageSize=10&groupName=SHOP").await,
        r#"{"doms":["orders"],"count":1}"#
    );
    assert_eq!(
        list("pageNo=1&pageSize=10&groupName=*").await,
        r#"{"doms":["DEFAULT_GROUP@@a1","DEFAULT_GROUP@@legacy","SHOP@@orders"],"count":3}"#
    );

    // Metrics: three services, three instances; the leader is responsible for all.
    let (s, b) = api
        .call(&leader, "GET", "/nacos/v1/ns/operator/metrics", JAVA_UA)
        .await;
    assert_eq!(s, 200);
    let m: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(m["status"], "UP");
    assert_eq!(
        (m["serviceCount"].as_u64(), m["instanceCount"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(m["responsibleServiceCount"], 3);
    assert!(
        b.starts_with(
            r#"{"status":"UP","serviceCount":3,"instanceCount":3,"raftNotifyTaskCount":0,"#
        ),
        "{b}"
    );

    // Removing a service removes its instance list too.
    let (s, b) = api
        .call(
            &f,
            "DELETE",
            "/nacos/v1/ns/service?serviceName=legacy",
            JAVA_UA,
        )
        .await;
    assert_eq!((s, b.as_str()), (200, "ok"), "{}", c.logs());
    for a in &addrs {
        wait_for("legacy gone", LIMIT, || async {
            let gone = api.raw_value(a, meta("legacy")).await.is_none()
                && api.raw_value(a, iplist("legacy")).await.is_none();
            gone.then_some(())
        })
        .await;
        let l = api.list(a, "serviceName=legacy", JAVA_UA).await;
        assert_eq!(
            l.to_string(),
            r#"{"cacheMillis":3000,"clusters":"","hosts":[],"name":"DEFAULT_GROUP@@legacy"}"#
        );
    }
    drop(up);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_of_ten_thousand_instances_is_listed_by_a_follower() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(
        Path::new(BIN),
        dir.path(),
        3,
        &args(&["--health-check", "none"]),
    );
    c.start_all();
    let http = Http::new();
    let api = Api { http: &http };
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, LIMIT).await;
    let f = addrs.iter().find(|a| **a != leader).unwrap().clone();
    api.register(&f, "serviceName=big&ip=127.0.0.1&port=1&ephemeral=false")
        .await;
    let list: Vec<String> = (0..10_000)
        .map(|i| {
            let ip = format!("127.0.{}.{}", i / 250, i % 250 + 1);
            format!(
                r#"{{"instanceId":"{ip}#8080#DEFAULT#DEFAULT_GROUP@@big","ip":"{ip}","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@big","metadata":{{"zone":"z{}"}},"lastBeat":1,"marked":false,"app":"DEFAULT"}}"#,
                i % 3
            )
        })
        .collect();
    let value = format!(r#"{{"instanceList":[{}]}}"#, list.join(","));
    let (s, b) = http.put(&leader, &iplist("big"), &value).await.unwrap();
    assert_eq!(s, 200, "{b}");
    let l = wait_for("10,000 instances on the follower", LIMIT, || async {
        let l = api.list(&f, "serviceName=big", PY_UA).await;
        (l["hosts"].as_array().map(Vec::len) == Some(10_000)).then_some(l)
    })
    .await;
    assert_eq!(l["hosts"][9_999]["ip"], "127.0.39.250");
    let start = Instant::now();
    for _ in 0..5 {
        let l = api
            .list(&f, "serviceName=big&clusters=DEFAULT", JAVA_UA)
            .await;
        assert_eq!(l["hosts"].as_array().unwrap().len(), 10_000);
    }
    eprintln!(
        "10,000-instance list, debug build: {:?} per answer",
        start.elapsed() / 5
    );
    // A registration into the big service keeps every other instance.
    api.register(&f, "serviceName=big&ip=127.0.200.1&port=9&ephemeral=false")
        .await;
    let l = api.list(&leader, "serviceName=big", PY_UA).await;
    assert_eq!(l["hosts"].as_array().unwrap().len(), 10_001);
}

/// The ips in `addr`'s copy of `svc`'s instance list.
async fn stored_ips(http: &Http, addr: &str, svc: &str) -> Vec<String> {
    let d = http.datums(addr, &[iplist(svc)]).await;
    let Some(Some(d)) = d.and_then(|l| l.into_iter().next()) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(d.value.unwrap().as_str()).unwrap();
    let mut ips: Vec<String> = v["instanceList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ip"].as_str().unwrap().to_string())
        .collect();
    ips.sort();
    ips
}

/// Three nodes started with `a`, one instance `first` of service `svc` on every node, then the
/// leader's requests to one follower cut, so that its copy lags from here on. Returns the
/// cluster, its leader and that follower.
async fn cut_follower(dir: &Path, a: &[&str], svc: &str, first: &str) -> (Cluster, String, String) {
    let mut c = Cluster::new(Path::new(BIN), dir, 3, a);
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, LIMIT).await;
    let stale = addrs.iter().find(|a| **a != leader).unwrap().clone();
    let api = Api { http: &http };
    api.register(
        &leader,
        &format!("serviceName={svc}&ip={first}&port=8080&ephemeral=false"),
    )
    .await;
    wait_for("the first instance on every node", LIMIT, || async {
        for a in &addrs {
            if stored_ips(&http, a, svc).await != [first] {
                return None;
            }
        }
        Some(())
    })
    .await;
    let (s, b) = http
        .request(
            &leader,
            "POST",
            &format!("/nacos-raft/v1/faults/cut?peer={stale}&dir=out"),
            &[],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    (c, leader, stale)
}

/// Under `--rules hardened` a follower hands an instance write to its leader, which changes its
/// own list: a follower whose copy lags (here: the leader's requests to it are cut, so it
/// misses a registration) no longer writes back a list without an acknowledged instance, as
/// Java's follower does (it reads its own copy, adds, and publishes the whole list). Under
/// Nacos' rules the same steps still lose it: the faithful model is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hardened_follower_with_a_stale_list_does_not_drop_an_acknowledged_instance() {
    for (rules, kept) in [("hardened", true), ("nacos", false)] {
        let dir = tempfile::tempdir().unwrap();
        let a = args(&["--rules", rules, "--faults", "--health-check", "none"]);
        // The leader's requests to `stale` are cut: it misses the next registration.
        let (c, leader, stale) = cut_follower(dir.path(), &a, "kept", "127.2.0.1").await;
        let http = Http::new();
        let api = Api { http: &http };
        let reg = |ip: &str| format!("serviceName=kept&ip={ip}&port=8080&ephemeral=false");
        let (s, b) = api
            .call(
                &leader,
                "POST",
                &format!("/nacos/v1/ns/instance?{}", reg("127.2.0.2")),
                JAVA_UA,
            )
            .await;
        assert_eq!((s, b.as_str()), (200, "ok"), "{rules}");
        assert_eq!(stored_ips(&http, &stale, "kept").await, ["127.2.0.1"]);
        // Now a registration through the stale follower, before its leader timeout runs out.
        let (s, b) = api
            .call(
                &stale,
                "POST",
                &format!("/nacos/v1/ns/instance?{}", reg("127.2.0.3")),
                JAVA_UA,
            )
            .await;
        assert_eq!((s, b.as_str()), (200, "ok"), "{rules}");
        let on_leader = stored_ips(&http, &leader, "kept").await;
        if kept {
            assert_eq!(
                on_leader,
                ["127.2.0.1", "127.2.0.2", "127.2.0.3"],
                "{rules}"
            );
        } else {
            assert_eq!(
                on_leader,
                ["127.2.0.1", "127.2.0.3"],
                "{rules}: Java's lost update"
            );
        }
        drop(c);
    }
}

/// `stale-forward`: a write handed over (or forwarded) naming a leader term is carried out only
/// by the leader of that term; a follower or a leader of another term refuses it rather than
/// carrying it out or passing it on, so one its sender gave up on and TCP delivered late cannot
/// overwrite newer writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hardened_node_takes_a_handed_write_only_in_the_leader_term_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(
        Path::new(BIN),
        dir.path(),
        3,
        &args(&["--rules", "hardened", "--health-check", "none"]),
    );
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, LIMIT).await;
    let follower = addrs.iter().find(|a| **a != leader).unwrap().clone();
    let term = http.leader_of(&leader).await.unwrap().term;
    let handed = |at: &str, t: u64, ip: &str| {
        let path = format!(
            "/nacos/v1/ns/instance?serviceName=addressed&ip={ip}&port=8080&ephemeral=false"
        );
        let t = t.to_string();
        let http = &http;
        let at = at.to_string();
        async move {
            let headers = [
                ("user-agent", JAVA_UA),
                ("x-nacos-raft-forwarded", JAVA_UA),
                ("x-nacos-raft-leader-term", t.as_str()),
            ];
            http.request(&at, "POST", &path, &headers, Vec::new())
                .await
                .unwrap()
        }
    };
    let refused = "refused a forward addressed to another leader term";
    let (s, b) = handed(&follower, term, "127.2.1.1").await;
    assert_eq!(s, 500, "{b}");
    assert!(b.contains(refused), "{b}");
    let (s, b) = handed(&leader, term + 1, "127.2.1.2").await;
    assert_eq!(s, 500, "{b}");
    assert!(b.contains(refused), "{b}");
    let (s, b) = handed(&leader, term, "127.2.1.3").await;
    assert_eq!((s, b.as_str()), (200, "ok"));
    assert_eq!(stored_ips(&http, &leader, "addressed").await, ["127.2.1.3"]);
    // The raft endpoints the same: a forwarded write naming another term, at the leader.
    let body = format!(
        r#"{{"key":"{}","value":{{"instanceList":[]}},"leaderTerm":{}}}"#,
        iplist("addressed"),
        term + 1
    );
    let (s, b) = http
        .request(
            &leader,
            "POST",
            "/nacos/v1/ns/raft/datum",
            &[("content-type", "application/json")],
            body.into_bytes(),
        )
        .await
        .unwrap();
    // Java's words for a failed put; the empty list it carried was not stored.
    assert_eq!(s, 500, "{b}");
    assert!(b.starts_with("Raft put failed, key:"), "{b}");
    assert_eq!(stored_ips(&http, &leader, "addressed").await, ["127.2.1.3"]);
}

/// A node that is not the leader never passes on an instance list it changed from its own copy
/// (hardened rules). A write already handed over (the marker header) is carried out where it
/// lands: by a node that has stopped leading since, or here by a follower whose copy lags (the
/// leader's requests to it are cut). Nacos' follower would forward its whole list, built from
/// that copy, to the leader, which would store it over an acknowledged instance; the hardened
/// follower refuses and the leader's list keeps every acknowledged instance. The leader timeout
/// is long so that the cut follower still follows its leader when the write reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hardened_follower_never_passes_on_a_list_changed_from_its_own_copy() {
    let dir = tempfile::tempdir().unwrap();
    let mut a: Vec<&str> = args(&["--rules", "hardened", "--faults", "--health-check", "none"]);
    let at = a.iter().position(|x| *x == "--leader-timeout-ms").unwrap();
    a[at + 1] = "10000";
    let (c, leader, stale) = cut_follower(dir.path(), &a, "own", "127.3.0.1").await;
    let http = Http::new();
    let api = Api { http: &http };
    let reg = |ip: &str| format!("serviceName=own&ip={ip}&port=8080&ephemeral=false");
    api.register(&leader, &reg("127.3.0.2")).await;
    assert_eq!(stored_ips(&http, &stale, "own").await, ["127.3.0.1"]);
    let (s, b) = http
        .request(
            &stale,
            "POST",
            &format!("/nacos/v1/ns/instance?{}", reg("127.3.0.3")),
            &[("x-nacos-raft-forwarded", JAVA_UA)],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(s, 500, "{b}");
    assert!(b.contains("no longer leads"), "{b}\n{}", c.logs());
    assert!(b.contains(&leader), "{b}");
    assert_eq!(
        stored_ips(&http, &leader, "own").await,
        ["127.3.0.1", "127.3.0.2"]
    );
    drop(c);
}
