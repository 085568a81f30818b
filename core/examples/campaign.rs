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
//! arguments or a JSON file that cannot be created (checked before the run).

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nacos_raft_core::sim::campaign::{run_seed_twice, shrink, Plan, Report, SeedRun, Timing};
use std::cell::RefCell;
use std::io::{IsTerminal as _, Write as _};
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
    #[arg(long, env = "SEEDS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
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

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs one seed twice; `Err` says what went wrong (a panic, a refused action, another hash).
fn check_seed(seed: u64, nodes: usize, until_ms: u64) -> Result<SeedRun, String> {
    catch_unwind(AssertUnwindSafe(|| run_seed_twice(seed, nodes, until_ms))).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let at = PANIC.with(|w| w.borrow_mut().take()).unwrap_or_default();
        format!("panic: {msg}{at}")
    })?
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
    if done.is_multiple_of(step) || done == total {
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

fn main() -> ExitCode {
    let args = Args::parse();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    // Panics are caught per seed and reported in the table; keep their location, not the noise.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        PANIC.with(|w| *w.borrow_mut() = Some(at));
    }));
    // A report that cannot be written is known before the run, not after it.
    let json = match args
        .json
        .as_ref()
        .map(|p| std::fs::File::create(p).map(|f| (p, f)))
    {
        Some(Err(e)) => {
            let p = args.json.as_ref().expect("given").display();
            eprintln!("error: cannot write {p}: {e}");
            return ExitCode::from(2);
        }
        Some(Ok(f)) => Some(f),
        None => None,
    };
    let plan = Plan {
        seeds: args.seeds,
        first_seed: args.first_seed,
        nodes: args.nodes.iter().map(|n| *n as usize).collect(),
        minutes: args.minutes,
        shrink_candidates: args.shrink_candidates as usize,
        shrink_budget: args.shrink_budget,
    };
    let until_ms = plan.until_ms();
    let started = Instant::now();
    let seeds = plan.seeds();
    let results = parallel(&seeds, jobs, "seeds", |&(seed, nodes)| {
        (seed, nodes, check_seed(seed, nodes, until_ms))
    });
    let runs_s = started.elapsed().as_secs_f64();
    let ran: Vec<SeedRun> = results
        .iter()
        .filter_map(|r| r.2.as_ref().ok().cloned())
        .collect();
    let targets = plan.shrink_targets(&ran);
    let shrink_started = Instant::now();
    let shrunk = parallel(&targets, jobs, "shrinking", |(kind, case)| {
        shrink(case, *kind, plan.shrink_budget)
    });
    let shrink_s = shrink_started.elapsed().as_secs_f64();
    let timing = Timing {
        jobs,
        runs_s,
        shrink_s,
        wall_s: 0.0,
    };
    let mut report = Report::new(plan.clone(), results, shrunk, timing, &args.page);
    report.timing.wall_s = started.elapsed().as_secs_f64();
    print!("{}", report.render());
    if let Some((path, file)) = json {
        let mut w = std::io::BufWriter::new(file);
        if let Err(e) = serde_json::to_writer(&mut w, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| w.flush())
        {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
