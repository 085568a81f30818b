//! The page's own work per stream record, off the browser: replays captured event streams
//! through live mode's session (`Session::apply_message`, what the page calls per SSE message)
//! and prints the time per record. Capture one file per node, named `s<port>.txt`, while a
//! cluster works, e.g. for 10 s under the live bench's load:
//!
//! ```sh
//! curl -s -m 10 'http://127.0.0.1:8848/nacos-raft/v1/events?batch=1&payload_cap=1024' > DIR/s8848.txt
//! cargo run --profile web-release -p nacos-raft-web --example replay -- DIR 5
//! ```
//!
//! Messages of all files are applied in the order of their first record's `at_ms`. Build with
//! the page's profile (`web-release`, opt-level z) so the code is the page's; wall time on a
//! shared machine is noisy, `valgrind --tool=callgrind` counts instructions (subtract a run with
//! 0 repetitions: reading the files).
use nacos_raft_web::live::tape::Session;
use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: replay DIR [REPETITIONS]");
    let reps: usize = std::env::args()
        .nth(2)
        .map_or(3, |s| s.parse().expect("REPETITIONS: a number"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let addrs: Vec<String> = files
        .iter()
        .map(|p| {
            format!(
                "127.0.0.1:{}",
                &p.file_stem().unwrap().to_str().unwrap()[1..]
            )
        })
        .collect();
    let mut msgs = Vec::new();
    for (i, p) in files.iter().enumerate() {
        let text = std::fs::read_to_string(p).unwrap();
        for m in text.split("\n\n") {
            let data: Vec<&str> = m.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            if data.is_empty() {
                continue;
            }
            let at = data[0]
                .find("\"at_ms\":")
                .map(|k| {
                    let s = &data[0][k + 8..];
                    s[..s.find(|c: char| !c.is_ascii_digit()).unwrap()]
                        .parse::<u64>()
                        .unwrap()
                })
                .unwrap_or(0);
            msgs.push((at, i, data.join("\n")));
        }
    }
    msgs.sort_by_key(|m| m.0);
    let t0 = msgs[0].0;
    let records: usize = msgs.iter().map(|m| m.2.matches('\n').count() + 1).sum();
    let bytes: usize = msgs.iter().map(|m| m.2.len()).sum();
    for _ in 0..reps {
        let mut s = Session::new(&addrs);
        for i in 0..addrs.len() {
            s.opened(i, 0.0);
        }
        let start = Instant::now();
        for (at, i, m) in &msgs {
            let now = (at - t0) as f64 + 5.0;
            s.apply_message(*i, m, now);
        }
        let el = start.elapsed().as_secs_f64();
        println!(
            "{} records, {:.1} MB: {:.0} ms, {:.2} µs/record, bad {}",
            records,
            bytes as f64 / 1e6,
            el * 1e3,
            el * 1e6 / records as f64,
            s.live.bad_records
        );
    }
}
