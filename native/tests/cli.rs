//! The command line: options from flags, environment and cluster.conf; clear errors and exit
//! codes for bad configuration; the put/get/delete/state client against a live cluster.

use nacos_raft_node::testkit::{
    assert_stayed_on_loopback, free_ports, service_key, wait_for, Cluster, Http, FAST,
};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("NACOS_RAFT_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running nacos-raft-node")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_documents_every_option_and_its_environment_variable() {
    let o = run(&["--help"], &[]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for opt in [
        "--addr",
        "--members",
        "--cluster-conf",
        "--listen",
        "--data-dir",
        "--tick-ms",
        "--leader-timeout-ms",
        "--random-ms",
        "--heartbeat-ms",
        "--publish-timeout-ms",
        "--max-body-bytes",
        "--max-gunzip-bytes",
        "--sync-batch",
        "--sync-pause-ms",
        "--sync-concurrency",
        "--max-fetch-url-bytes",
        "--seed",
        "--loopback-only",
        "--header-timeout-ms",
        "--idle-timeout-ms",
        "--handler-timeout-ms",
        "--max-connections",
        "--identity-key",
        "--identity-value",
        "--nacos-conf",
        "--rules",
    ] {
        assert!(text.contains(opt), "{opt} missing in --help");
        let env = format!(
            "NACOS_RAFT_{}",
            opt.trim_start_matches("--")
                .replace('-', "_")
                .to_uppercase()
        );
        assert!(text.contains(&env), "{env} missing in --help");
    }
    for sub in ["put", "get", "delete", "state"] {
        assert!(text.contains(sub), "{sub} missing");
    }
    // The server's limits default to Tomcat's (see conn.rs for the choice).
    for (opt, default) in [
        ("--header-timeout-ms", "20000"),
        ("--idle-timeout-ms", "20000"),
        ("--handler-timeout-ms", "30000"),
        ("--max-connections", "10000"),
    ] {
        let section = text.split(opt).nth(1).unwrap();
        let section = section.split("\n      --").next().unwrap();
        assert!(
            section.contains(&format!("[default: {default}]")),
            "{opt}: {section}"
        );
    }
}

/// Runs the binary with `args`, which must fail with exit code `code` and say `needle` on stderr.
fn fails(args: &[&str], code: i32, needle: &str) {
    let o = run(args, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err}"
    );
}

#[test]
fn bad_configuration_exits_non_zero_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let me = ["--addr", "127.0.0.1:1", "--data-dir", data];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        me.iter().copied().chain(extra.iter().copied()).collect()
    };

    fails(&["--data-dir", data], 2, "no own address: pass --addr");
    fails(
        &with(&["--heartbeat-ms", "20000"]),
        2,
        "invalid timings: heartbeat interval must be shorter than the leader timeout",
    );
    fails(&with(&["--tick-ms", "0"]), 2, "tick must be at least 1 ms");
    // A rule set the core does not know is refused with the names it knows.
    fails(
        &with(&["--rules", "raft"]),
        2,
        "\"raft\" is not a rule set: nacos, hardened, or fixes joined by + (stale-votes, \
         term-bump, stale-candidate, dead-key, two-leaders, first-beat, global-lock, \
         term-on-restart, stale-forward, split-vote); hardened-FIX+FIX is every fix but those",
    );
    fails(&with(&["--rules", "term-bump+"]), 2, "--rules <RULES>");
    fails(
        &with(&["--handler-timeout-ms", "5000"]),
        2,
        "--handler-timeout-ms (5000) must exceed --publish-timeout-ms (5000)",
    );
    fails(
        &with(&["--max-connections", "0"]),
        2,
        "--max-connections must be at least 1",
    );
    fails(
        &with(&["--header-timeout-ms", "50"]),
        2,
        "--header-timeout-ms must be at least 100",
    );
    fails(
        &with(&["--idle-timeout-ms", "x"]),
        2,
        "invalid value 'x' for '--idle-timeout-ms",
    );
    fails(
        &with(&["--members", "127.0.0.1:x"]),
        2,
        "--members: member address \"127.0.0.1:x\" has an invalid port",
    );
    fails(
        &["--addr", "127.0.0.1:99999", "--data-dir", data],
        2,
        "--addr",
    );
    fails(
        &with(&["--source-ip", "10.0.0.1", "--loopback-only"]),
        2,
        "--source-ip 10.0.0.1 is outside loopback, but --loopback-only is on",
    );
    fails(
        &with(&["--source-ip", "127.0.0.300"]),
        2,
        "invalid value '127.0.0.300' for '--source-ip",
    );
    let conf = dir.path().join("missing.conf");
    let conf = conf.to_str().unwrap();
    let mut args = me.to_vec();
    args.extend(["--cluster-conf", conf]);
    fails(&args, 2, "--cluster-conf: cannot read");

    // The peer identity: a key without a value (or the reverse), a bad header name.
    fails(
        &with(&["--identity-key", "X-Peer"]),
        2,
        "--identity-key is set but --identity-value is not",
    );
    fails(
        &with(&["--identity-value", "s"]),
        2,
        "--identity-value is set but --identity-key is not",
    );
    fails(
        &with(&["--identity-key", "X Peer", "--identity-value", "s"]),
        2,
        "is not a valid HTTP header name",
    );
    let props = dir.path().join("application.properties");
    std::fs::write(&props, "nacos.core.auth.server.identity.key=X-Peer\n").unwrap();
    let mut args = me.to_vec();
    args.extend(["--nacos-conf", props.to_str().unwrap()]);
    fails(
        &args,
        2,
        "--identity-key is set but --identity-value is not (nor in --nacos-conf)",
    );
    let mut args = me.to_vec();
    args.extend(["--nacos-conf", conf]);
    fails(&args, 2, "--nacos-conf: ");

    // The data directory is a file.
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    fails(
        &[
            "--addr",
            "127.0.0.1:1",
            "--data-dir",
            file.to_str().unwrap(),
        ],
        1,
        "is not a directory",
    );

    // The port is taken.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    fails(
        &["--addr", &addr, "--data-dir", data],
        1,
        &format!("cannot listen on {addr}"),
    );
}

#[test]
fn client_commands_check_their_input() {
    let key = service_key(1);
    fails(
        &["put", "--server", "127.0.0.1:1", "foo", "{}"],
        2,
        "unknown type publish key: foo",
    );
    fails(
        &["put", "--server", "127.0.0.1:1", &key, "not json"],
        2,
        "the value is not JSON",
    );
    fails(
        &["put", "--server", "127.0.0.1:1", &key, "[1]"],
        2,
        "must be a JSON object",
    );
    // Nobody listening.
    let port = free_ports(1)[0];
    fails(
        &["state", "--server", &format!("127.0.0.1:{port}")],
        1,
        "connection refused",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_come_from_the_environment_and_cluster_conf() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let addr = format!("127.0.0.1:{}", ports[0]);
    let conf = dir.path().join("cluster.conf");
    // Nacos' format: comments, trailing comments, commas, blank lines, the default port.
    std::fs::write(
        &conf,
        format!(
            "# the cluster\n127.0.0.1:{} # the second\n\n127.0.0.1:{},127.0.0.9\n",
            ports[1], ports[2]
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut child = Command::new(BIN)
        .env("NACOS_RAFT_ADDR", &addr)
        .env("NACOS_RAFT_CLUSTER_CONF", &conf)
        .env("NACOS_RAFT_DATA_DIR", &data)
        .env("NACOS_RAFT_TICK_MS", "50")
        .env("NACOS_RAFT_LEADER_TIMEOUT_MS", "60000")
        .env("NACOS_RAFT_HEARTBEAT_MS", "500")
        .env("NACOS_RAFT_LOOPBACK_ONLY", "true")
        .stdin(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let http = Http::new();
    let state = wait_for(
        "the node started from the environment",
        Duration::from_secs(20),
        || async {
            let (s, b) = http.get(&addr, "/nacos/v1/ns/raft/state").await.ok()?;
            (s == 200).then_some(b)
        },
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&state).unwrap();
    let mut ips: Vec<String> = v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ip"].as_str().unwrap().to_string())
        .collect();
    ips.sort();
    let mut want = vec![
        addr.clone(),
        format!("127.0.0.1:{}", ports[1]),
        format!("127.0.0.1:{}", ports[2]),
        // A loopback member nothing listens on: the default port is applied.
        "127.0.0.9:8848".to_string(),
    ];
    want.sort();
    assert_eq!(ips, want, "own address added, default port applied");
    assert!(data.join("data").is_dir());
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert!(log.contains("not among the members"), "{log}");
    assert!(log.contains("--loopback-only: outgoing"), "{log}");
    assert_stayed_on_loopback("the node started from the environment", &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_delete_state_against_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 3, FAST);
    c.start_all();
    let http = Http::new();
    let addrs = c.addrs();
    let leader = http.wait_leader(&addrs, Duration::from_secs(30)).await;
    let follower = addrs.iter().find(|a| **a != leader).unwrap().clone();
    let key = "com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@cli";
    let value = r#"{"name":"DEFAULT_GROUP@@cli","metadata":{"z":"1","a":"x+y"}}"#;
    // Right after the election a follower may not know the leader yet: retry.
    let out = wait_for("a put through the CLI", Duration::from_secs(20), || async {
        let o = run(&["put", "--server", &follower, key, value], &[]);
        o.status.success().then_some(o)
    })
    .await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    for a in &addrs {
        let got = wait_for(
            "the value on every node",
            Duration::from_secs(20),
            || async {
                let o = run(&["get", "--server", a, key], &[]);
                let text = String::from_utf8_lossy(&o.stdout).into_owned();
                (o.status.success() && text.contains("\"timestamp\":1")).then_some(text)
            },
        )
        .await;
        // Kept verbatim, field order and `+` included.
        assert!(got.contains(value), "{got}");
    }
    let o = run(
        &["state", "--server", &follower],
        &[("NACOS_RAFT_SERVER", "ignored:1")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("\"services\":1") && text.contains(&leader),
        "{text}"
    );
    let o = run(&["delete", "--server", &follower, key], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["get", "--server", &leader, key, &service_key(3)], &[]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[null,null]");
    // The server from the environment.
    let o = run(&["get", key], &[("NACOS_RAFT_SERVER", &leader)]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `--loopback-only` refuses a member outside 127.0.0.0/8 before any connection is opened, logs
/// it and counts it. The member is `localhost` (a name: refused, never resolved) and `[::1]`
/// (outside 127/8), so that even a broken guard could not send a packet off this machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_only_refuses_and_counts_other_destinations() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let addr = format!("127.0.0.1:{}", ports[0]);
    let members = format!("{addr},localhost:{},[::1]:{}", ports[1], ports[2]);
    let log_path = dir.path().join("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(BIN)
        .args(["--addr", &addr, "--members", &members])
        .args([
            "--tick-ms",
            "50",
            "--leader-timeout-ms",
            "300",
            "--random-ms",
            "100",
        ])
        .args(["--heartbeat-ms", "100"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("NACOS_RAFT_LOOPBACK_ONLY", "1")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let http = Http::new();
    // Two refusals at start-up, then two more per election round (its votes).
    let refused = wait_for("votes refused", Duration::from_secs(20), || async {
        let n = http
            .metric(&addr, "nacos_raft_loopback_refusals_total")
            .await?;
        (n >= 4.0).then_some(n)
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("loopback-only: refused an outgoing connection"))
        .collect();
    assert!(
        lines.len() as f64 >= refused,
        "{refused} counted, log:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("localhost:") && l.contains("not resolved")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[::1]:") && l.contains("outside 127.0.0.0/8")),
        "{text}"
    );
    let caught = std::panic::catch_unwind(|| assert_stayed_on_loopback("this node", &text));
    assert!(caught.is_err(), "the harness check must fail on a refusal");
}

/// A node whose open-files limit cannot be raised (soft = hard = 1,024) lowers its connection cap
/// to fit, says so in one line, and shows the cap in force in `/metrics`; the limits also come
/// from the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_raise_its_open_files_fits_its_cap_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(2);
    let addr = format!("127.0.0.1:{}", ports[0]);
    let members = format!("{addr},127.0.0.1:{}", ports[1]);
    let log_path = dir.path().join("log");
    let log = std::fs::File::create(&log_path).unwrap();
    // `ulimit -n` without -S or -H sets both limits.
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\"", BIN])
        .args(["--addr", &addr, "--members", &members, "--loopback-only"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("NACOS_RAFT_MAX_CONNECTIONS", "5000")
        .env("NACOS_RAFT_HEADER_TIMEOUT_MS", "1500")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let http = Http::new();
    let cap = wait_for("the node's /metrics", Duration::from_secs(20), || {
        http.metric(&addr, "nacos_raft_http_connections_max")
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(cap, 768.0, "{text}");
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("open-files limit"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].contains("the open-files limit 1024 (hard 1024) is below the 5256 that --max-connections 5000 needs; serving at most 768 connections"),
        "{text}"
    );
}

/// A data directory held by a running node is refused with a message naming the holder; once
/// the holder is killed (its lock file left behind), the next node takes the directory over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_dir_in_use_is_refused_and_a_stale_lock_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let data = dir.path().join("data");
    let start = |port: u16, log: &str| {
        let mut n = nacos_raft_node::testkit::NodeProc::new(
            Path::new(BIN),
            &format!("127.0.0.1:{port}"),
            data.clone(),
            dir.path().join(log),
            FAST.iter().map(|s| s.to_string()).collect(),
        );
        n.start();
        n
    };
    let http = Http::new();
    let mut first = start(ports[0], "first.log");
    let up = |addr: String| {
        let http = http.clone();
        async move {
            wait_for("the node to answer", Duration::from_secs(20), || async {
                let (s, _) = http.get(&addr, "/nacos/v1/ns/raft/peer").await.ok()?;
                (s == 200).then_some(())
            })
            .await
        }
    };
    up(first.addr.clone()).await;
    let pid = first.pid().unwrap();
    let o = run(
        &[
            "--addr",
            &format!("127.0.0.1:{}", ports[1]),
            "--data-dir",
            data.to_str().unwrap(),
            "--loopback-only",
        ],
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("is in use by another running node"), "{err}");
    assert!(
        err.contains(&format!("pid {pid}, address {}", first.addr)),
        "{err}"
    );
    assert!(err.contains("--data-dir"), "{err}");
    assert!(first.running(), "the holder keeps running");

    first.kill();
    let lock = data.join("nacos-raft.lock");
    assert!(lock.exists(), "a killed node leaves its lock file behind");
    let mut second = start(ports[2], "second.log");
    up(second.addr.clone()).await;
    let text = std::fs::read_to_string(&lock).unwrap();
    assert_eq!(
        text,
        format!("pid={}\naddress={}\n", second.pid().unwrap(), second.addr)
    );
    let log = second.log_text();
    assert!(
        log.contains(&format!(
            "took over the data dir lock left by a node that no longer runs (pid {pid}"
        )),
        "{log}"
    );
    second.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rule_set_is_shown_in_state_and_the_start_up_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = FAST.to_vec();
    args.extend(["--rules", "hardened"]);
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 1, &args);
    c.start_all();
    let http = Http::new();
    let addr = c.addrs()[0].clone();
    let state = wait_for("/state", Duration::from_secs(20), || async {
        match http.get(&addr, "/nacos/v1/ns/raft/state").await {
            Ok((200, body)) => Some(body),
            _ => None,
        }
    })
    .await;
    let v: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(v["rules"], "hardened", "{state}");
    assert!(c.logs().contains("rules=hardened"), "{}", c.logs());
    // The environment variable is read the same way.
    let o = run(
        &["--addr", "127.0.0.1:1", "--data-dir", "/nonexistent/d"],
        &[("NACOS_RAFT_RULES", "bogus")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("\"bogus\" is not a rule set"),
        "{}",
        stderr(&o)
    );
}
