//! The fault campaign: thousands of random fault schedules on the simulator, every seed run twice
//! (its trace hash must not change), a table of the share of seeds that show each violation
//! class, and the smallest case of each class shrunk to a page link and a `simulate` command.
//!
//! ```text
//! make campaign                       # 10,000 seeds, 3 and 5 nodes, 10 virtual minutes each
//! SEEDS=500 make campaign
//! cargo run --release -p nacos-raft-core --example campaign -- --seeds 200 --json campaign.json
//! ```
//! Exit code 0 when no seed panicked and every seed replayed to the same trace hash (violations
//! are findings about the protocol, not failures of the campaign), 1 otherwise, 2 on bad
//! arguments.

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nacos_raft_core::sim::campaign::{kind_index, run_seed, shrink, Case, SeedRun, Shrunk, KINDS};
use nacos_raft_core::sim::{TraceMode, ViolationKind};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Run random fault schedules on the simulated cluster and report what the observers saw.
#[derive(Parser, Debug)]
#[command(name = "campaign", version)]
struct Args {
    /// How many seeds (one run each, plus its rerun).
    #[arg(long, env = "SEEDS", default_value_t = 10_000)]
    seeds: u64,
    /// The first seed; seeds are FIRST, FIRST+1, ...
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Cluster sizes, used in turn (seed FIRST gets the first size, the next seed the next, ...).
    #[arg(long, value_delimiter = ',', default_value = "3,5", value_parser = clap::value_parser!(u16).range(2..=15))]
    nodes: Vec<u16>,
    /// Virtual minutes per run (the last 2 of them, or a fifth of a shorter run, fault-free).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1440))]
    minutes: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Write the report as JSON to this file (every seed's outcome included).
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Replays one shrink may spend.
    #[arg(long, default_value_t = 400)]
    shrink_budget: usize,
    /// Failing seeds shrunk per class (the smallest ones; the smallest result is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
    shrink_candidates: u64,
    /// Where the page is served: links are this plus `#` and the run's fragment.
    #[arg(long, default_value = "http://127.0.0.1:8080/")]
    page: String,
}

/// A seed that panicked or that its rerun did not reproduce.
#[derive(Clone, Debug, Serialize)]
struct Failure {
    seed: u64,
    nodes: usize,
    what: String,
}

/// One seed's outcome in the JSON report.
#[derive(Clone, Debug, Serialize)]
struct RunRow {
    seed: u64,
    nodes: usize,
    actions: usize,
    trace_hash: String,
    violations: Vec<ViolationKind>,
}

#[derive(Default)]
struct Tally {
    runs: Vec<SeedRun>,
    failures: Vec<Failure>,
}

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs one seed twice; `Err` says what went wrong (a panic, a refused action, another hash).
fn check_seed(seed: u64, nodes: usize, until_ms: u64) -> Result<SeedRun, String> {
    let once = || {
        catch_unwind(AssertUnwindSafe(|| run_seed(seed, nodes, until_ms))).map_err(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            let at = PANIC.with(|w| w.borrow_mut().take()).unwrap_or_default();
            format!("panic: {msg}{at}")
        })?
    };
    let a = once()?;
    let b = once()?;
    if a != b {
        return Err(format!(
            "non-deterministic: trace hash {:016x}, then {:016x} on the rerun",
            a.hash, b.hash
        ));
    }
    Ok(a)
}

fn progress(len: u64, what: &str) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})",
            )
            .expect("a valid template"),
        );
        pb.set_message(what.to_string());
        pb
    } else {
        ProgressBar::hidden()
    }
}

/// Plain progress lines when stderr is not a terminal: one per tenth of the work.
fn plain_progress(done: usize, total: usize, what: &str, started: Instant) {
    if std::io::stderr().is_terminal() || total == 0 {
        return;
    }
    let step = total.div_ceil(10);
    if done % step == 0 || done == total {
        eprintln!(
            "{what}: {done}/{total} ({:.0} %), {:.0} s",
            100.0 * done as f64 / total as f64,
            started.elapsed().as_secs_f64()
        );
    }
}

/// Runs `work` over `items` on `jobs` threads, in any order; results in item order.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    what: &str,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let pb = progress(items.len() as u64, what);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = work(item);
                out.lock().expect("no worker panics while holding it")[i] = Some(r);
                pb.inc(1);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                plain_progress(d, items.len(), what, started);
            });
        }
    });
    pb.finish_and_clear();
    out.into_inner()
        .expect("workers are done")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// The campaign table row of one class.
#[derive(Clone, Debug, Serialize)]
struct ClassRow {
    kind: ViolationKind,
    title: &'static str,
    seeds: u64,
    share: f64,
    by_nodes: BTreeMap<usize, u64>,
    smallest: Option<Smallest>,
}

/// The shrunk case of a class, ready to replay.
#[derive(Clone, Debug, Serialize)]
struct Smallest {
    #[serde(flatten)]
    shrunk: Shrunk,
    trace_hash: String,
    page_url: String,
    simulate: String,
}

#[derive(Clone, Debug, Serialize)]
struct Report {
    seeds: u64,
    first_seed: u64,
    nodes: Vec<u16>,
    seeds_by_nodes: BTreeMap<usize, u64>,
    minutes: u64,
    timings: &'static str,
    jobs: usize,
    wall_s: f64,
    runs_s: f64,
    shrink_s: f64,
    steps: u64,
    every_seed_rerun: bool,
    panics: Vec<Failure>,
    nondeterministic: Vec<Failure>,
    errors: Vec<Failure>,
    classes: Vec<ClassRow>,
    runs: Vec<RunRow>,
}

fn title(kind: ViolationKind) -> &'static str {
    match kind {
        ViolationKind::TwoLeadersSameTerm => "two leaders in a term",
        ViolationKind::TwoLeaders => "two leaders",
        ViolationKind::StaleLeader => "stale leader",
        ViolationKind::LostAckedWrite => "lost acknowledged write",
        ViolationKind::NotConverged => "not converged",
        ViolationKind::TermDecreased => "term decreased",
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    format!("{:.2} %", 100.0 * part as f64 / whole as f64)
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// The table and the shrunk cases, as Markdown.
fn render(r: &Report) -> String {
    let mut s = String::new();
    let sizes: Vec<String> = r
        .seeds_by_nodes
        .iter()
        .map(|(n, c)| format!("{c} with {n} nodes"))
        .collect();
    let _ = writeln!(
        s,
        "Fault campaign: {} seeds ({}), {} virtual minutes each, Nacos 1.4.1 timings.",
        r.seeds,
        sizes.join(", "),
        r.minutes
    );
    let _ = writeln!(
        s,
        "{:.0} s on {} threads ({:.0} s of runs, every seed run twice; {:.0} s of shrinking), {:.2e} simulator steps.",
        r.wall_s, r.jobs, r.runs_s, r.shrink_s, r.steps as f64
    );
    let _ = writeln!(
        s,
        "Panics: {}. Seeds whose rerun gave another trace hash: {}. Refused actions: {}.",
        r.panics.len(),
        r.nondeterministic.len(),
        r.errors.len()
    );
    s.push('\n');
    let mut head = String::from("| violation | seeds | share |");
    let mut rule = String::from("|---|--:|--:|");
    for n in r.seeds_by_nodes.keys() {
        let _ = write!(head, " {n} nodes |");
        rule.push_str("--:|");
    }
    head.push_str(" smallest case, shrunk |");
    rule.push_str("---|");
    let _ = writeln!(s, "{head}\n{rule}");
    for c in &r.classes {
        let _ = write!(
            s,
            "| {} (`{}`) | {} | {} |",
            c.title,
            c.kind.as_str(),
            c.seeds,
            pct(c.seeds, r.seeds)
        );
        for (n, total) in &r.seeds_by_nodes {
            let k = c.by_nodes.get(n).copied().unwrap_or(0);
            let _ = write!(s, " {} |", pct(k, *total));
        }
        match &c.smallest {
            Some(m) => {
                let _ = writeln!(
                    s,
                    " seed {}, {} nodes: {} actions, {} (from {} actions, {}) |",
                    m.shrunk.case.seed,
                    m.shrunk.case.nodes,
                    m.shrunk.case.actions.len(),
                    secs(m.shrunk.case.until_ms),
                    m.shrunk.original_actions,
                    secs(m.shrunk.original_at_ms)
                );
            }
            None => s.push_str(" — |\n"),
        }
    }
    for c in &r.classes {
        let Some(m) = &c.smallest else { continue };
        let _ = writeln!(
            s,
            "\n{} — {} at {} ms: {}\n  page: {}\n  cli:  {}",
            c.kind.as_str(),
            c.title,
            m.shrunk.violation.at_ms,
            m.shrunk.violation.detail,
            m.page_url,
            m.simulate
        );
    }
    for f in r.panics.iter().chain(&r.nondeterministic).chain(&r.errors) {
        let _ = writeln!(s, "\nseed {} ({} nodes): {}", f.seed, f.nodes, f.what);
    }
    s
}

fn main() -> ExitCode {
    let args = Args::parse();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let until_ms = args.minutes * 60_000;
    // Panics are caught per seed and reported in the table; keep their location, not the noise.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        PANIC.with(|w| *w.borrow_mut() = Some(at));
    }));
    let started = Instant::now();
    let seeds: Vec<(u64, usize)> = (0..args.seeds)
        .map(|i| {
            let n = args.nodes[(i % args.nodes.len() as u64) as usize] as usize;
            (args.first_seed + i, n)
        })
        .collect();
    let results = parallel(&seeds, jobs, "seeds", |&(seed, nodes)| {
        check_seed(seed, nodes, until_ms)
    });
    let runs_s = started.elapsed().as_secs_f64();
    let mut tally = Tally::default();
    for ((seed, nodes), r) in seeds.iter().zip(results) {
        match r {
            Ok(run) => tally.runs.push(run),
            Err(what) => tally.failures.push(Failure {
                seed: *seed,
                nodes: *nodes,
                what,
            }),
        }
    }
    // The smallest failing seeds of each class: fewest actions, then earliest onset.
    let mut to_shrink: Vec<(ViolationKind, Case)> = Vec::new();
    for kind in KINDS {
        let k = kind_index(kind);
        let mut failing: Vec<&SeedRun> = tally.runs.iter().filter(|r| r.first[k].is_some()).collect();
        failing.sort_by_key(|r| (r.actions, r.first[k], r.seed));
        for r in failing.iter().take(args.shrink_candidates as usize) {
            to_shrink.push((kind, Case::generate(r.seed, r.nodes, until_ms)));
        }
    }
    let shrink_started = Instant::now();
    let shrunk = parallel(&to_shrink, jobs, "shrinking", |(kind, case)| {
        shrink(case, *kind, args.shrink_budget)
    });
    let shrink_s = shrink_started.elapsed().as_secs_f64();
    let mut best: BTreeMap<usize, Shrunk> = BTreeMap::new();
    for s in shrunk.into_iter().flatten() {
        let k = kind_index(s.kind);
        let key = |x: &Shrunk| (x.case.actions.len(), x.case.until_ms, x.case.seed);
        if best.get(&k).is_none_or(|b| key(&s) < key(b)) {
            best.insert(k, s);
        }
    }
    let mut seeds_by_nodes: BTreeMap<usize, u64> = BTreeMap::new();
    for (_, n) in &seeds {
        *seeds_by_nodes.entry(*n).or_default() += 1;
    }
    let mut errors = Vec::new();
    let classes: Vec<ClassRow> = KINDS
        .iter()
        .map(|&kind| {
            let k = kind_index(kind);
            let mut by_nodes: BTreeMap<usize, u64> =
                seeds_by_nodes.keys().map(|n| (*n, 0)).collect();
            let mut count = 0;
            for r in tally.runs.iter().filter(|r| r.first[k].is_some()) {
                count += 1;
                *by_nodes.entry(r.nodes).or_default() += 1;
            }
            let smallest = best.remove(&k).and_then(|s| {
                // What the page runs (full trace) must be the run the campaign saw.
                let off = s.case.run(TraceMode::Off).ok()?.trace_hash();
                let full = s.case.run(TraceMode::Full).ok()?.trace_hash();
                if off != full {
                    errors.push(Failure {
                        seed: s.case.seed,
                        nodes: s.case.nodes,
                        what: format!(
                            "the shrunk {} case has trace hash {off:016x} without a trace, {full:016x} with one",
                            kind.as_str()
                        ),
                    });
                }
                Some(Smallest {
                    trace_hash: format!("{off:016x}"),
                    page_url: format!(
                        "{}#{}",
                        args.page,
                        s.case.page_fragment(Some(s.violation.at_ms))
                    ),
                    simulate: s.case.simulate_command(),
                    shrunk: s,
                })
            });
            ClassRow {
                kind,
                title: title(kind),
                seeds: count,
                share: count as f64 / args.seeds.max(1) as f64,
                by_nodes,
                smallest,
            }
        })
        .collect();
    let (panics, other): (Vec<Failure>, Vec<Failure>) = tally
        .failures
        .into_iter()
        .partition(|f| f.what.starts_with("panic"));
    let (nondeterministic, refused): (Vec<Failure>, Vec<Failure>) = other
        .into_iter()
        .partition(|f| f.what.starts_with("non-deterministic"));
    errors.extend(refused);
    let report = Report {
        seeds: args.seeds,
        first_seed: args.first_seed,
        nodes: args.nodes.clone(),
        seeds_by_nodes,
        minutes: args.minutes,
        timings: "nacos",
        jobs,
        wall_s: started.elapsed().as_secs_f64(),
        runs_s,
        shrink_s,
        steps: tally.runs.iter().map(|r| 2 * r.steps).sum(),
        every_seed_rerun: true,
        panics,
        nondeterministic,
        errors,
        classes,
        runs: tally
            .runs
            .iter()
            .map(|r| RunRow {
                seed: r.seed,
                nodes: r.nodes,
                actions: r.actions,
                trace_hash: format!("{:016x}", r.hash),
                violations: KINDS
                    .iter()
                    .filter(|k| r.first[kind_index(**k)].is_some())
                    .copied()
                    .collect(),
            })
            .collect(),
    };
    print!("{}", render(&report));
    if let Some(path) = &args.json {
        let text = serde_json::to_string(&report).expect("the report serializes");
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let ok = report.panics.is_empty()
        && report.nondeterministic.is_empty()
        && report.errors.is_empty();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
