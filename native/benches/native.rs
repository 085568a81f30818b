//! Benchmarks of real node processes on loopback, printed as tables (run by
//! `scripts/bench-native.sh`, or `cargo bench -p nacos-raft-node --bench native`):
//!
//! 1. write throughput and p50/p99 latency of a 3-node cluster at 1, 8 and 32 concurrent clients;
//! 2. beat size (raw and gzipped) and encode/decode time at 100,000 keys;
//! 3. catch-up time of a new, empty follower for 10,000 and 100,000 datums (and Nacos' own
//!    pacing, 50 keys + 200 ms per batch, measured at 10,000);
//! 4. leader and follower CPU per beat with 0 and 100,000 keys;
//! 5. idle (half-open) connections held by a leader with the default limits: memory per
//!    connection, refusals over the cap, write latency meanwhile, time to shed them, memory after.
//!
//! 6. write throughput, p99 and node CPU per write with two live viewers (each reading every
//!    node's event stream) against none, runs interleaved; with `BASELINE_BIN`, a cluster of
//!    that build is measured in the same runs; `LIVE_RUNS` runs (default 11).
//!
//! Arguments (after `--`): any of `writes`, `beat`, `catchup`, `cpu`, `conns`, `live` to run only
//! those parts; `catchup-big` for the 100,000-datum catch-up alone, `CATCHUP_ROUNDS` rounds
//! (default 3), each running `BASELINE_BIN` (when set) then this build, with the ratios; every
//! catch-up in a directory of its own, all removed only at the end (about 1.2 GB each), unless
//! `CATCHUP_AFTER_DELETE=1`: then 100,000 files (the previous catch-up's follower) are deleted
//! just before each follower starts; `quick` for shorter runs. The machine is shared and noisy: every figure is a median.

use nacos_raft_core::{BeatDatum, BeatPacket, PeerState, RaftPeer};
use nacos_raft_node::codec;
use nacos_raft_node::testkit::{
    free_ports, instances_value, seed_datums, service_key, wait_for, EventStream, Http, NodeProc,
    FAST,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");

/// A node binary of another build (e.g. the commit before a change) that the catch-up and
/// CPU-per-beat parts also run, before this build's, so that both are measured in one run.
fn baseline_bin() -> Option<PathBuf> {
    std::env::var_os("BASELINE_BIN").map(PathBuf::from)
}

use nacos_raft_node::testkit::settle::{self, Scratch};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Three nodes on fresh ports with `args`; node i's data in `base/<port>`.
fn three(bin: &Path, base: &Path, args: &[&str]) -> Vec<NodeProc> {
    let ports = free_ports(3);
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    ports
        .iter()
        .zip(&addrs)
        .map(|(p, a)| node(bin, base, a, *p, &addrs, args))
        .collect()
}

fn node(
    bin: &Path,
    base: &Path,
    addr: &str,
    port: u16,
    addrs: &[String],
    args: &[&str],
) -> NodeProc {
    let mut all = vec!["--members".to_string(), addrs.join(",")];
    all.extend(args.iter().map(|s| s.to_string()));
    NodeProc::new(
        bin,
        addr,
        base.join(port.to_string()),
        base.join(format!("{port}.log")),
        all,
    )
}

fn addrs(nodes: &[NodeProc]) -> Vec<String> {
    nodes.iter().map(|n| n.addr.clone()).collect()
}

/// CPU seconds (user + system) a process used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, i.e. 11 and 12 after ')'.
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

// ---- 1. writes -------------------------------------------------------------------------

async fn writes(base: &Path, quick: bool) {
    println!("\n## Write throughput and latency (3 nodes, loopback, fsync per write)\n");
    let dir = base.join("writes");
    let mut args = FAST.to_vec();
    args.extend(["--publish-timeout-ms", "5000"]);
    let mut nodes = three(Path::new(BIN), &dir, &args);
    for n in &mut nodes {
        n.start();
    }
    let http = Http::new();
    let all = addrs(&nodes);
    let leader = http.wait_leader(&all, Duration::from_secs(60)).await;
    let follower = all.iter().find(|a| **a != leader).unwrap().clone();
    // The fixed cost of a beat, before any key exists.
    cpu_per_beat(
        &http,
        &mut nodes,
        &leader,
        if quick { 4.0 } else { 20.0 },
        "empty cluster",
    )
    .await;
    // Followers learn the leader from its first beat.
    http.wait_first_write(
        &follower,
        &service_key(0),
        &instances_value(0),
        Duration::from_secs(30),
    )
    .await;
    let secs = if quick { 1.5 } else { 4.0 };
    let runs = if quick { 1 } else { 3 };
    println!(
        "value ≈ {} bytes; {runs} run(s) of {secs} s each; medians of the runs",
        instances_value(1).len()
    );
    println!();
    println!("| clients | sent to  | writes/s | p50 ms | p99 ms | failed |");
    println!("|--------:|----------|---------:|-------:|-------:|-------:|");
    let mut seq = 0usize;
    for (conc, target, label) in [
        (1, &leader, "leader"),
        (8, &leader, "leader"),
        (32, &leader, "leader"),
        (8, &follower, "follower"),
    ] {
        let (mut tputs, mut p50s, mut p99s, mut failed) = (vec![], vec![], vec![], 0usize);
        for _ in 0..runs {
            let deadline = Instant::now() + Duration::from_secs_f64(secs);
            let start = Instant::now();
            let mut tasks = Vec::new();
            for c in 0..conc {
                let (http, target) = (http.clone(), target.clone());
                let base_key = seq + c * 1_000_000;
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut fails = 0;
                    let mut i = 0;
                    while Instant::now() < deadline {
                        let k = service_key(base_key + i);
                        let t = Instant::now();
                        match http.put(&target, &k, &instances_value(i)).await {
                            Ok((200, _)) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                            _ => fails += 1,
                        }
                        i += 1;
                    }
                    (lat, fails)
                }));
            }
            let mut lat = Vec::new();
            for t in tasks {
                let (l, f) = t.await.unwrap();
                lat.extend(l);
                failed += f;
            }
            seq += 10_000_000;
            let elapsed = start.elapsed().as_secs_f64();
            lat.sort_by(|a, b| a.total_cmp(b));
            tputs.push(lat.len() as f64 / elapsed);
            p50s.push(percentile(&lat, 0.5));
            p99s.push(percentile(&lat, 0.99));
        }
        println!(
            "| {conc:>7} | {label:<8} | {:>8.0} | {:>6.1} | {:>6.1} | {failed:>6} |",
            median(tputs),
            median(p50s),
            median(p99s)
        );
    }
}

// ---- 2. beat size ----------------------------------------------------------------------

fn beat_size(keys: usize) {
    println!(
        "\n## Beat at {keys} keys (in-process: what the leader encodes and followers decode)\n"
    );
    let leader = RaftPeer {
        ip: "127.0.0.1:8848".into(),
        vote_for: Some("127.0.0.1:8848".into()),
        term: 305,
        leader_due_ms: 17_342,
        heartbeat_due_ms: 5_000,
        state: PeerState::Leader,
        data_version: None,
        position: None,
    };
    let packet = BeatPacket {
        peer: leader,
        datums: (0..keys)
            .map(|i| BeatDatum {
                key: nacos_raft_core::key::brief(&service_key(i))
                    .unwrap()
                    .to_string(),
                timestamp: 1 + (i % 7) as u64,
            })
            .collect::<Vec<_>>()
            .into(),
    };
    let inner = packet.to_json();
    let outer = packet.to_body();
    let java_gz = codec::gzip(outer.as_bytes(), 6);
    let mut enc_ms = Vec::new();
    let mut dec_ms = Vec::new();
    let (mut enc_old_ms, mut dec_old_ms) = (Vec::new(), Vec::new());
    let mut ours = bytes::Bytes::new();
    let limits = codec::Limits::default();
    for _ in 0..5 {
        let t = Instant::now();
        ours = codec::beat_body(&packet, 1);
        enc_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let back = codec::decode_beat(&ours, &limits).unwrap();
        dec_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(back.datums.len(), keys);
        // The four-pass encoding and the general decoding path (the code before issue 14), in
        // the same run: same bytes, same packet.
        let t = Instant::now();
        let old = codec::gzip(
            codec::escape_for_java_decoder(&packet.to_body(), 2).as_bytes(),
            1,
        );
        enc_old_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(old, ours[..], "the one-pass beat must be the same bytes");
        let t = Instant::now();
        let plain = codec::gunzip_capped(&old, limits.max_gunzip).unwrap();
        let text = codec::body_text(&plain, 2).unwrap();
        let back_old = BeatPacket::from_body(&text).unwrap();
        dec_old_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(back_old, back);
    }
    let ours6 = codec::gzip(codec::escape_for_java_decoder(&outer, 2).as_bytes(), 6);
    println!("| what | bytes |");
    println!("|------|------:|");
    println!("| inner packet JSON | {} |", inner.len());
    println!(
        "| outer body `{{\"beat\":\"…\"}}` (raw, what Java gzips) | {} |",
        outer.len()
    );
    println!(
        "| gzip level 6 of the raw body (Java's beat) | {} |",
        java_gz.len()
    );
    println!(
        "| this node's beat, gzip level 1 (default) | {} |",
        ours.len()
    );
    println!("| this node's beat, gzip level 6 | {} |", ours6.len());
    println!();
    let (enc, dec) = (median(enc_ms), median(dec_ms));
    let (enc_old, dec_old) = (median(enc_old_ms), median(dec_old_ms));
    println!(
        "encode (JSON + escape + gzip 1): median {enc:.1} ms, four-pass encoding {enc_old:.1} ms ({:.2}×); decode on a follower (gunzip + unescape + parse): median {dec:.1} ms, general path {dec_old:.1} ms ({:.2}×)",
        enc / enc_old,
        dec / dec_old
    );
    beat_difference(&packet);
}

/// The same beat after 2 % of its keys changed (new timestamps, new keys, deleted keys), sent
/// whole and as a difference between hardened members (`beat_list`), alternated in one run.
fn beat_difference(before: &BeatPacket) {
    use nacos_raft_node::beat_list::LeaderLists;
    let keys = before.datums.len();
    let mut list = (*before.datums).clone();
    let changes = keys / 50;
    // A quarter deleted, a quarter new, half with a new timestamp.
    for e in list.iter_mut().step_by(100) {
        e.timestamp += 1_000;
    }
    let mut i = 0;
    list.retain(|_| {
        i += 1;
        i % 200 != 7
    });
    list.extend((keys..keys + changes / 4).map(|i| {
        BeatDatum {
            key: nacos_raft_core::key::brief(&service_key(i))
                .unwrap()
                .to_string(),
            timestamp: 9,
        }
    }));
    list.sort_by(|a, b| nacos_raft_node::beat_list::order(&a.key, &b.key).unwrap());
    let after = BeatPacket {
        peer: before.peer.clone(),
        datums: list.into(),
    };
    let limits = codec::Limits::default();
    let (mut whole_enc, mut whole_dec, mut diff_enc, mut diff_dec) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut whole_bytes, mut diff_bytes) = (0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let whole = codec::beat_body(&after, 1);
        whole_enc.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let got = codec::BeatDecoder::new().decode(&whole, &limits).unwrap();
        whole_dec.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(got, after);
        whole_bytes = whole.len();

        let mut leader = LeaderLists::with_epoch(1);
        let first = leader.name(&before.datums);
        let mut follower = codec::BeatDecoder::new();
        follower
            .decode_named(&codec::beat_body_named(before, first.id, 1), &limits)
            .unwrap();
        let t = Instant::now();
        let named = leader.name(&after.datums);
        let delta = named.delta_for(Some(first.id)).unwrap();
        let body = codec::delta_beat_body(&after, named.id, &delta, 1);
        diff_enc.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let (got, _) = follower.decode_named(&body, &limits).unwrap();
        diff_dec.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(got, after);
        diff_bytes = body.len();
    }
    let (we, wd, de, dd) = (
        median(whole_enc),
        median(whole_dec),
        median(diff_enc),
        median(diff_dec),
    );
    println!(
        "\nthe same list after {changes} changes, hardened members (docs/hardened/beat-lists.md), medians of 5 alternated: leader whole list {we:.1} ms vs naming it and encoding the difference {de:.1} ms ({:.2}×); follower decoding the whole list {wd:.1} ms vs rebuilding it from the difference {dd:.1} ms ({:.2}×); on the wire {whole_bytes} vs {diff_bytes} bytes",
        de / we,
        dd / wd
    );
}

// ---- 3. catch-up -----------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
async fn catch_up(
    bin: &Path,
    build: &str,
    base: &Path,
    n: usize,
    runs: usize,
    nacos_pacing: bool,
    measure_cpu: bool,
    quick: bool,
    churn: Option<&Path>,
) -> (f64, Option<(f64, f64)>) {
    let dir = base.join(format!("catchup-{n}-{build}"));
    let mut beat_cpu = None;
    let t = Instant::now();
    let mut nodes = three(bin, &dir, FAST);
    for node in &nodes[..2] {
        seed_datums(&node.data_dir, n).unwrap();
    }
    let seeded = t.elapsed().as_secs_f64();
    // The seed files were written without fsync; flush them now so that their writeback does not
    // compete with the fsyncs being measured.
    let _ = std::process::Command::new("sync").status();
    nodes[0].start();
    nodes[1].start();
    let http = Http::new();
    let all = addrs(&nodes);
    let leader = http.wait_leader(&all[..2], Duration::from_secs(120)).await;
    let newcomer = all[2].clone();
    let port: u16 = newcomer.rsplit_once(':').unwrap().1.parse().unwrap();
    let mut rows = Vec::new();
    let mut variants: Vec<(&str, Vec<&str>)> =
        vec![("this node (batch 50, no pause, 4 in flight)", vec![])];
    if nacos_pacing {
        variants.push((
            "Nacos pacing (batch 50, 200 ms pause)",
            vec!["--sync-pause-ms", "200", "--sync-concurrency", "64"],
        ));
    }
    for (v, (label, extra)) in variants.into_iter().enumerate() {
        let mut times = Vec::new();
        let mut mem_times = Vec::new();
        let mut fetches = 0.0;
        let r = if extra.is_empty() { runs } else { 1 };
        for round in 0..r {
            let mut args = FAST.to_vec();
            args.extend(extra.iter().copied());
            // A new directory each round; the last round's files stay until the run ends, since
            // deleting them here slowed every file of this round (unless `churn` asks for that:
            // testkit::settle).
            let fresh = dir.join(format!("newcomer-{v}-{round}"));
            let mut c = node(bin, &fresh, &newcomer, port, &all, &args);
            if let Some(old) = churn {
                // Worst case for ext4 without a journal (this machine's root): creating files
                // right after a mass deletion costs far more (testkit::settle).
                if !old.exists() {
                    seed_datums(old, n).unwrap();
                    let _ = std::process::Command::new("sync").status();
                }
                settle::remove_tree(old).unwrap();
            }
            let start = Instant::now();
            c.start();
            let limit = Duration::from_secs(if extra.is_empty() { 900 } else { 1200 });
            wait_for(&format!("{newcomer} to hold {n} datums"), limit, || async {
                (http.metric(&newcomer, "nacos_raft_datums").await? == n as f64).then_some(())
            })
            .await;
            mem_times.push(start.elapsed().as_secs_f64());
            // Durable: every file written and fsync'd (the writer counts after the fsyncs).
            wait_for(
                &format!("{newcomer} to persist {n} datums"),
                limit,
                || async {
                    (http
                        .metric(&newcomer, "nacos_raft_files_written_total")
                        .await?
                        >= n as f64)
                        .then_some(())
                },
            )
            .await;
            times.push(start.elapsed().as_secs_f64());
            fetches = http
                .metric(&newcomer, "nacos_raft_sync_fetches_total")
                .await
                .unwrap_or(f64::NAN);
            let rounds = http
                .metric(&newcomer, "nacos_raft_persist_batch_seconds_count")
                .await
                .unwrap_or(f64::NAN);
            let busy = http
                .metric(&newcomer, "nacos_raft_persist_batch_seconds_sum")
                .await
                .unwrap_or(f64::NAN);
            eprintln!("[catch-up {n}, {label}] write rounds {rounds}, writer busy {busy:.1} s");
            if measure_cpu {
                let mut trio: Vec<NodeProc> = nodes.drain(..2).collect();
                trio.push(c);
                beat_cpu = cpu_per_beat(
                    &http,
                    &mut trio,
                    &leader,
                    if quick { 4.0 } else { 20.0 },
                    &format!("{build}, after the catch-up"),
                )
                .await;
                nodes = trio;
                break;
            }
            c.kill();
            if let Some(old) = churn {
                // Deleted just before the next follower starts.
                std::fs::rename(&c.data_dir, old).unwrap();
            }
        }
        rows.push((label, median(mem_times), median(times), r, fetches));
    }
    println!("\n## Catch-up of a new empty follower: {n} datums ({build})\n");
    println!("(data sets written in {seeded:.1} s; times from the new process' start until every datum is in memory, and until every file is written and fsync'd)\n");
    println!("| follower | runs | in memory s | on disk s | datums/s (disk) | fetch GETs |");
    println!("|----------|-----:|------------:|----------:|----------------:|-----------:|");
    let on_disk = rows.first().map_or(f64::NAN, |r| r.2);
    for (label, mem, secs, r, fetches) in rows {
        println!(
            "| {label} | {r} | {mem:.1} | {secs:.1} | {:.0} | {fetches:.0} |",
            n as f64 / secs
        );
    }
    println!(
        "\nNacos' own follower: {n} / 50 batches × 200 ms = {:.0} s of sleeping alone.",
        n as f64 / 50.0 * 0.2
    );
    (on_disk, beat_cpu)
}

/// The 100,000-datum catch-up alone, alternating the baseline build and this one round by round
/// so that both see the same load on a shared machine; prints each round's ratio and the medians.
/// Each catch-up gets a directory of its own and nothing is deleted before the end (the caller
/// removes `base`): a new follower does not usually start right after 100,000 files were deleted
/// on its file system, which on ext4 without a journal slows the creation of new files for a
/// minute or more. `after_delete` measures that case: the previous follower's 100,000 files are
/// deleted just before each follower starts.
async fn catch_up_rounds(base: &Path, n: usize, rounds: usize, after_delete: bool) {
    let baseline = baseline_bin();
    let churn = after_delete.then(|| base.join("previous-follower"));
    let mut table = Vec::new();
    for round in 0..rounds {
        let dir = base.join(format!("round-{round}"));
        let before = match &baseline {
            Some(b) => {
                catch_up(
                    b,
                    "baseline",
                    &dir,
                    n,
                    1,
                    false,
                    false,
                    false,
                    churn.as_deref(),
                )
                .await
                .0
            }
            None => f64::NAN,
        };
        let this = catch_up(
            Path::new(BIN),
            "this build",
            &dir,
            n,
            1,
            false,
            false,
            false,
            churn.as_deref(),
        )
        .await
        .0;
        table.push((before, this));
    }
    println!(
        "\n(files: {})",
        if after_delete {
            "the previous follower's 100,000 deleted just before each follower starts"
        } else {
            "every catch-up in a fresh directory, nothing deleted before the end"
        }
    );
    println!("\n## Catch-up of {n} datums on disk, baseline vs this build, {rounds} rounds\n");
    println!("| round | baseline s | this build s | ratio |");
    println!("|------:|-----------:|-------------:|------:|");
    for (i, (b, t)) in table.iter().enumerate() {
        println!("| {} | {b:.1} | {t:.1} | {:.2} |", i + 1, t / b);
    }
    let b = median(table.iter().map(|r| r.0).collect());
    let t = median(table.iter().map(|r| r.1).collect());
    let r = median(table.iter().map(|r| r.1 / r.0).collect());
    println!("| median | {b:.1} | {t:.1} | {r:.2} |");
}

// ---- 4. CPU per beat -------------------------------------------------------------------

/// Prints and returns the leader's CPU per beat (for both followers) and one follower's, in ms.
async fn cpu_per_beat(
    http: &Http,
    nodes: &mut [NodeProc],
    leader: &str,
    secs: f64,
    label: &str,
) -> Option<(f64, f64)> {
    let lp = nodes
        .iter()
        .find(|n| n.addr == leader)
        .and_then(|n| n.pid())?;
    let f = nodes
        .iter()
        .find(|n| n.addr != leader && n.pid().is_some())?;
    let (fa, fp) = (f.addr.clone(), f.pid().unwrap());
    let keys = http
        .metric(leader, "nacos_raft_datums")
        .await
        .unwrap_or(f64::NAN);
    let b0 = http
        .metric(leader, "nacos_raft_beats_sent_total")
        .await
        .unwrap_or(0.0);
    let r0 = http
        .metric(&fa, "nacos_raft_beats_received_total")
        .await
        .unwrap_or(0.0);
    let (l0, f0) = (cpu_seconds(lp), cpu_seconds(fp));
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let (l1, f1) = (cpu_seconds(lp), cpu_seconds(fp));
    let b1 = http
        .metric(leader, "nacos_raft_beats_sent_total")
        .await
        .unwrap_or(0.0);
    let r1 = http
        .metric(&fa, "nacos_raft_beats_received_total")
        .await
        .unwrap_or(0.0);
    // beats_sent counts one request per follower.
    let beats = ((b1 - b0) / 2.0).max(1.0);
    let received = (r1 - r0).max(1.0);
    let (leader_ms, follower_ms) = ((l1 - l0) * 1000.0 / beats, (f1 - f0) * 1000.0 / received);
    println!(
        "\nCPU per beat ({label}, {keys:.0} keys, {secs} s window, {beats:.0} beats): leader {leader_ms:.1} ms (for both followers), follower {follower_ms:.1} ms"
    );
    Some((leader_ms, follower_ms))
}

// ---- 5. idle connections ----------------------------------------------------------------

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One half-open connection: connect, half a request head, wait for the node to close it.
/// Returns (connected at, closed at, refused with a 503).
async fn half_open(addr: String) -> Option<(Instant, Instant, bool)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&addr).await.ok()?;
    let at = Instant::now();
    let _ = s
        .write_all(b"POST /nacos/v1/ns/raft/datum HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        .await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(120), s.read_to_end(&mut got)).await;
    Some((at, Instant::now(), got.starts_with(b"HTTP/1.1 503")))
}

async fn conns(base: &Path, quick: bool) {
    let header = Duration::from_millis(nacos_raft_node::conn::DEFAULT_HEADER_TIMEOUT_MS);
    println!(
        "\n## Idle connections held by a leader (3 nodes, default limits: header timeout {} s, \
         cap {})\n",
        header.as_secs(),
        nacos_raft_node::conn::DEFAULT_MAX_CONNECTIONS
    );
    let (_, hard) = rlimit::Resource::NOFILE.get().unwrap();
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let mut sizes = if quick {
        vec![1_000, 3_000]
    } else {
        vec![1_000, 5_000, 12_000]
    };
    sizes.retain(|n| (*n as u64) + 512 <= hard);
    let dir = base.join("conns");
    let mut args = FAST.to_vec();
    args.extend(["--publish-timeout-ms", "5000"]);
    let mut nodes = three(Path::new(BIN), &dir, &args);
    for n in &mut nodes {
        n.start();
    }
    let http = Http::new();
    let all = addrs(&nodes);
    let leader = http.wait_leader(&all, Duration::from_secs(60)).await;
    let pid = nodes
        .iter()
        .find(|n| n.addr == leader)
        .and_then(|n| n.pid())
        .unwrap();
    for i in 0..50 {
        let _ = http
            .put(&leader, &service_key(i), &instances_value(i))
            .await;
    }
    println!("each connection sends half a request head and then nothing; the writes (one at a");
    println!("time, on a kept-alive connection) run while they are held\n");
    println!("| connections | held | refused | leader fds | RSS before MiB | RSS held MiB | KiB per connection | write p50 ms held (before) | all closed after s | last close past its deadline ms | RSS 15 s later MiB |");
    println!("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let mut next_key = 1_000;
    for n in sizes {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let lat = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            percentile(v, 0.5)
        };
        let mut before = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let _ = http
                .put(&leader, &service_key(next_key), &instances_value(next_key))
                .await;
            next_key += 1;
            before.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (rss0, open0) = (
            rss_kib(pid),
            http.metric(&leader, "nacos_raft_http_connections_open")
                .await
                .unwrap_or(0.0),
        );
        let refused0 = http
            .metric(&leader, "nacos_raft_http_connections_refused_total")
            .await
            .unwrap_or(0.0);
        let tasks: Vec<_> = (0..n)
            .map(|_| tokio::spawn(half_open(leader.clone())))
            .collect();
        // Held: wait until the node has taken them all (or refused the rest).
        let mut peak_open = 0.0f64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            let open = http
                .metric(&leader, "nacos_raft_http_connections_open")
                .await
                .unwrap_or(0.0);
            let refused = http
                .metric(&leader, "nacos_raft_http_connections_refused_total")
                .await
                .unwrap_or(0.0);
            peak_open = peak_open.max(open);
            if open - open0 + refused - refused0 >= n as f64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (rss1, fds1) = (rss_kib(pid), fds(pid));
        let mut held_lat = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let _ = http
                .put(&leader, &service_key(next_key), &instances_value(next_key))
                .await;
            next_key += 1;
            held_lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let mut ends = Vec::new();
        for t in tasks {
            if let Ok(Some(e)) = t.await {
                ends.push(e);
            }
        }
        let first = ends.iter().map(|e| e.0).min().unwrap();
        let held: Vec<_> = ends.iter().filter(|e| !e.2).collect();
        let refused = ends.len() - held.len();
        let last_close = held.iter().map(|e| e.1).max().unwrap_or(first);
        let late = held
            .iter()
            .map(|e| e.1.duration_since(e.0).saturating_sub(header))
            .max()
            .unwrap_or_default();
        tokio::time::sleep(Duration::from_secs(15)).await;
        let rss2 = rss_kib(pid);
        let per = (rss1.saturating_sub(rss0)) as f64 / held.len().max(1) as f64;
        let mib = |k: u64| k as f64 / 1024.0;
        println!(
            "| {n} | {} | {refused} | {fds1} | {:.1} | {:.1} | {per:.1} | {:.1} ({:.1}) | {:.1} | {} | {:.1} |",
            held.len(),
            mib(rss0),
            mib(rss1),
            lat(&mut held_lat),
            lat(&mut before),
            last_close.duration_since(first).as_secs_f64(),
            late.as_millis(),
            mib(rss2),
        );
    }
}

// ---- 6. live viewers -------------------------------------------------------------------

/// One window of `conc` clients writing to `target` for `secs`, over a fixed set of 2,000 keys
/// (the data set, hence the beats, stay the same size from run to run). Writes/s, p50, p99 (ms)
/// and failures.
async fn write_window(http: &Http, target: &str, conc: usize, secs: f64) -> (f64, f64, f64, usize) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conc {
        let (http, target) = (http.clone(), target.to_string());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut fails, mut i) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < deadline {
                let k = service_key(c * 250 + i % 250);
                let t = Instant::now();
                match http.put(&target, &k, &instances_value(i)).await {
                    Ok((200, _)) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                    _ => fails += 1,
                }
                i += 1;
            }
            (lat, fails)
        }));
    }
    let (mut lat, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (l, f) = t.await.unwrap();
        lat.extend(l);
        failed += f;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    (
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        failed,
    )
}

/// The machine's load averages (1, 5, 15 minutes), as `/proc/loadavg` gives them.
fn loadavg() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// A running 3-node cluster of one build, with its leader known and its 2,000 keys written.
struct LiveCluster {
    label: String,
    /// Held for the processes' lifetime: dropping a `NodeProc` stops it.
    _nodes: Vec<NodeProc>,
    all: Vec<String>,
    leader: String,
    pids: Vec<u32>,
}

impl LiveCluster {
    async fn start(bin: &Path, label: &str, dir: &Path, http: &Http, warm: f64) -> LiveCluster {
        let mut nodes = three(bin, dir, FAST);
        for n in &mut nodes {
            n.start();
        }
        let all = addrs(&nodes);
        let leader = http.wait_leader(&all, Duration::from_secs(60)).await;
        http.wait_first_write(
            &leader,
            &service_key(0),
            &instances_value(0),
            Duration::from_secs(30),
        )
        .await;
        // Warm-up: the 2,000 keys exist before anything is measured.
        write_window(http, &leader, 8, warm).await;
        let pids = nodes.iter().filter_map(|n| n.pid()).collect();
        LiveCluster {
            label: label.to_string(),
            _nodes: nodes,
            all,
            leader,
            pids,
        }
    }

    /// CPU seconds its three processes used so far.
    fn cpu(&self) -> f64 {
        self.pids.iter().map(|p| cpu_seconds(*p)).sum()
    }

    /// One run: `secs` of writes with `viewers` viewers each reading every node's stream.
    /// Writes/s, p50, p99, node CPU ms per acknowledged write, failures, records read.
    async fn run(&self, http: &Http, viewers: usize, secs: f64) -> [f64; 6] {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        // Each viewer watches every node, as an open page in live mode does; it reads every
        // byte but does not parse it, so that what is measured is the nodes' cost of being
        // watched rather than this process' JSON parsing.
        for _ in 0..viewers {
            for a in &self.all {
                let mut s = EventStream::open(a, Duration::from_secs(10)).await;
                let stop = stop.clone();
                readers.push(tokio::spawn(async move {
                    let mut n = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        match s.skim(Duration::from_millis(200)).await {
                            Some(k) => n += k,
                            None => break,
                        }
                    }
                    n
                }));
            }
        }
        // The leader as of now: a write sent to a follower is forwarded, which doubles its cost.
        let leader = match http.agreed_leader(&self.all).await {
            Some(l) if l != self.leader => {
                eprintln!(
                    "{}: the leader is now {l} (was {})",
                    self.label, self.leader
                );
                l
            }
            _ => self.leader.clone(),
        };
        let c0 = self.cpu();
        let (t, p50, p99, f) = write_window(http, &leader, 8, secs).await;
        let cpu = (self.cpu() - c0) * 1000.0 / (t * secs).max(1.0);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut records = 0;
        for r in readers {
            records += r.await.unwrap_or(0);
        }
        [t, p50, p99, cpu, f as f64, records as f64]
    }
}

async fn live_viewers(base: &Path, quick: bool) {
    println!("\n## Writes with two live viewers vs none (3 nodes, 8 clients to the leader)\n");
    let http = Http::new();
    let warm = if quick { 2.0 } else { 5.0 };
    // With `BASELINE_BIN`, a cluster of that build runs beside this build's, idle while the
    // other is measured, and the runs of both are interleaved: before and after in one session.
    let mut clusters = Vec::new();
    if let Some(b) = baseline_bin() {
        clusters
            .push(LiveCluster::start(&b, "baseline", &base.join("live-base"), &http, warm).await);
    }
    clusters.push(
        LiveCluster::start(
            Path::new(BIN),
            "this build",
            &base.join("live"),
            &http,
            warm,
        )
        .await,
    );
    let (secs, runs) = if quick { (2.0, 2) } else { (4.0, 11) };
    let runs = std::env::var("LIVE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(runs);
    let load0 = loadavg();
    // results[cluster][viewers as 0 or 1][run]
    let mut results = vec![[Vec::new(), Vec::new()]; clusters.len()];
    let modes: Vec<(usize, usize)> = (0..clusters.len()).flat_map(|c| [(c, 0), (c, 1)]).collect();
    for run in 0..runs {
        // Rotate the order of the modes from run to run, so that drift of the shared machine
        // hits every mode alike.
        for i in 0..modes.len() {
            let (c, v) = modes[(i + run) % modes.len()];
            let r = clusters[c].run(&http, v * 2, secs).await;
            results[c][v].push(r);
        }
    }
    let load1 = loadavg();
    println!(
        "{runs} interleaved runs of {secs} s per mode; medians of the runs; load average {load0} \
         before, {load1} after ({} cores)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!(
        "| build | viewers | writes/s | p50 ms | p99 ms | node CPU ms/write | failed | records read |"
    );
    println!(
        "|-------|--------:|---------:|-------:|-------:|------------------:|-------:|-------------:|"
    );
    let col = |rs: &[[f64; 6]], i: usize| rs.iter().map(|r| r[i]).collect::<Vec<_>>();
    for (c, cl) in clusters.iter().enumerate() {
        for (v, rs) in results[c].iter().enumerate() {
            println!(
                "| {} | {:>7} | {:>8.0} | {:>6.1} | {:>6.1} | {:>17.2} | {:>6} | {:>12} |",
                cl.label,
                if v == 0 { "none" } else { "2" },
                median(col(rs, 0)),
                median(col(rs, 1)),
                median(col(rs, 2)),
                median(col(rs, 3)),
                col(rs, 4).iter().sum::<f64>(),
                col(rs, 5).iter().sum::<f64>(),
            );
        }
    }
    println!();
    // Each run's two modes were measured back to back: the median of the runs' ratios is the
    // least disturbed by the shared machine's drift.
    let ratio = |a: &[f64], b: &[f64]| median(a.iter().zip(b).map(|(x, y)| x / y).collect());
    for (c, cl) in clusters.iter().enumerate() {
        let (none, two) = (&results[c][0], &results[c][1]);
        let dropped = http
            .metric(&cl.leader, "nacos_raft_live_dropped_total")
            .await
            .unwrap_or(f64::NAN);
        println!(
            "{}: with viewers / without, median of the {runs} runs' ratios: throughput {:.3}, p99 {:.3}, node CPU per write {:.3} (ratio of the medians: {:.3}, {:.3}, {:.3}); records dropped for slow viewers on the leader: {dropped}",
            cl.label,
            ratio(&col(two, 0), &col(none, 0)),
            ratio(&col(two, 2), &col(none, 2)),
            ratio(&col(two, 3), &col(none, 3)),
            median(col(two, 0)) / median(col(none, 0)),
            median(col(two, 2)) / median(col(none, 2)),
            median(col(two, 3)) / median(col(none, 3)),
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let quick = args.iter().any(|a| a == "quick");
    let parts: Vec<&str> = args
        .iter()
        .map(|s| s.as_str())
        .filter(|a| *a != "quick")
        .collect();
    let want = |p: &str| parts.is_empty() || parts.contains(&p);
    // Every part but the in-process beat encoding starts nodes that create files.
    if parts.is_empty() || parts.iter().any(|p| *p != "beat") {
        settle::wait_until_settled("bench-native");
    }
    let base =
        Scratch(std::env::temp_dir().join(format!("nacos-raft-bench-{}", std::process::id())));
    std::fs::create_dir_all(&base.0).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "# nacos-raft-node benchmarks ({} cores, {})",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        if quick { "quick" } else { "full" }
    );
    let big = if quick { 20_000 } else { 100_000 };
    rt.block_on(async {
        if want("writes") {
            writes(&base.0, quick).await;
        }
        if want("beat") {
            beat_size(big);
        }
        if want("catchup") {
            catch_up(
                Path::new(BIN),
                "this build",
                &base.0,
                10_000,
                if quick { 1 } else { 3 },
                !quick,
                false,
                quick,
                None,
            )
            .await;
        }
        if want("live") {
            live_viewers(&base.0, quick).await;
        }
        if parts.contains(&"catchup-big") {
            let rounds = std::env::var("CATCHUP_ROUNDS")
                .ok()
                .and_then(|r| r.parse().ok())
                .unwrap_or(3);
            let after_delete = std::env::var("CATCHUP_AFTER_DELETE").is_ok_and(|v| v == "1");
            catch_up_rounds(&base.0, big, rounds, after_delete).await;
        }
        if want("catchup") || want("cpu") {
            let before = match baseline_bin() {
                Some(b) => catch_up(&b, "baseline", &base.0, big, 1, false, true, quick, None)
                    .await
                    .1,
                None => None,
            };
            let (_, after) = catch_up(
                Path::new(BIN),
                "this build",
                &base.0,
                big,
                1,
                false,
                true,
                quick,
                None,
            )
            .await;
            if let (Some((bl, bf)), Some((l, f))) = (before, after) {
                println!(
                    "\nCPU per beat, this build ÷ baseline in the same run: leader {:.2}× ({l:.1} vs {bl:.1} ms), follower {:.2}× ({f:.1} vs {bf:.1} ms)",
                    l / bl,
                    f / bf
                );
            }
        }
        if want("conns") {
            conns(&base.0, quick).await;
        }
    });
}
