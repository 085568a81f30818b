//! The fuzz harnesses (`nacos_raft_node::fuzz`) repeat what `server.rs` does between the bytes
//! of a request and the node. Every seed and regression input that a harness refuses there is
//! sent to a real node here, which must refuse it with the same status and text: the pipeline
//! the fuzzer explores stays the one the server runs.

use nacos_raft_core::Failure;
use nacos_raft_node::codec::{self, TOO_LARGE};
use nacos_raft_node::fuzz::{exchanges, Target, LIMITS};
use nacos_raft_node::testkit::{wait_for, Cluster, Http};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_nacos-raft-node");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_node_refuses_what_the_harnesses_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let (max_body, max_gunzip) = (LIMITS.max_body.to_string(), LIMITS.max_gunzip.to_string());
    let args = [
        "--max-body-bytes",
        &max_body,
        "--max-gunzip-bytes",
        &max_gunzip,
    ];
    let mut c = Cluster::new(Path::new(BIN), dir.path(), 1, &args);
    c.start_all();
    let addr = c.addrs()[0].clone();
    let http = Http::new();
    let peer = format!("{}/peer", codec::RAFT_BASE);
    wait_for("the node to answer", Duration::from_secs(20), || async {
        matches!(http.get(&addr, &peer).await, Ok((200, _))).then_some(())
    })
    .await;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let (mut compared, mut mismatches) = (0, Vec::new());
    for target in Target::ALL {
        for folder in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(folder).join(target.name())) else {
                continue;
            };
            let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            for path in files {
                let data = std::fs::read(&path).unwrap();
                for ex in exchanges(target, &data) {
                    let Err(want) = &ex.outcome else { continue };
                    let got = http
                        .request(&addr, ex.method, &ex.path_and_query, &[], ex.body.clone())
                        .await;
                    let (status, body) = match got {
                        Ok(answer) => answer,
                        // Not a valid URI: refused before any handler, nothing to compare.
                        Err(Failure::Malformed(m)) if m.starts_with("cannot build") => continue,
                        Err(f) => panic!("{} {}: {f}", path.display(), ex.method),
                    };
                    compared += 1;
                    // Over the body cap axum answers with its own text.
                    let same_text = status == TOO_LARGE || body == want.http_body();
                    if status != want.status || !same_text {
                        mismatches.push(format!(
                            "{} {} {}: harness {} {:?}, node {status} {body:?}",
                            path.display(),
                            ex.method,
                            ex.path_and_query,
                            want.status,
                            want.http_body()
                        ));
                    }
                }
            }
        }
    }
    println!("{compared} refusals compared with a real node");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(compared >= 20, "only {compared} refusals compared");
    assert!(c.nodes[0].running(), "{}", c.logs());
}
