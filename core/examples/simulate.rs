//! Runs one simulated Nacos naming raft cluster and prints one JSON object with the outcome.
//!
//! ```text
//! cargo run --release -p nacos-raft-core --example simulate -- --nodes 5 --seed 7 --datums 200
//! cargo run --release -p nacos-raft-core --example simulate -- --url 'http://127.0.0.1:8080/#seed=7&nodes=5&actions=1200:crash:2' --rules hardened
//! ```
//! Exit code 0 unless the arguments are bad (then a message on stderr and exit code 2).

use clap::{Parser, ValueEnum};
use nacos_raft_core::sim::{
    page::PageRun, parse_actions, sample_key, sample_value, Action, Sim, SimConfig, TimedAction,
    TraceMode,
};
use nacos_raft_core::{Config, Rules};
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Timings {
    /// Nacos 1.4.1: tick 500 ms, leader due 15–20 s, beat 5 s.
    Nacos,
    /// Every timing divided by 10.
    Fast,
}

/// Simulate a Nacos 1.x naming raft cluster on a virtual clock and print the outcome as JSON.
#[derive(Parser, Debug)]
#[command(name = "simulate", version)]
struct Args {
    /// Number of nodes (127.0.0.1:8848, :8849, ...).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    nodes: u16,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Virtual time to simulate, in ms [default: 60000; with --url: the link's `at`, the preset's
    /// length, or 30 s past the last action if that is later than 60 s].
    #[arg(long)]
    duration_ms: Option<u64>,
    /// Keys to publish at the leader once one exists.
    #[arg(long, default_value_t = 0)]
    datums: usize,
    /// Message loss in percent (0 to 100, fractions allowed).
    #[arg(long, default_value_t = 0.0, value_parser = parse_loss)]
    loss: f64,
    /// Latency range of one message, MIN..MAX ms.
    #[arg(long, default_value = "1..5", value_parser = parse_range)]
    latency_ms: (u64, u64),
    /// Crash whoever leads at this time (never restarted).
    #[arg(long)]
    crash_leader_at_ms: Option<u64>,
    /// Protocol timings.
    #[arg(long, value_enum, default_value_t = Timings::Nacos)]
    timings: Timings,
    /// Timed actions in the page's syntax (`1200:crash:2,5300:timeout:1`, as in the page's
    /// `actions=` field), applied at their virtual times after the events of that millisecond.
    #[arg(long, value_parser = parse_timed_actions)]
    actions: Option<ActionList>,
    /// Rule set of every node: `nacos` (Nacos 1.4.1, flaws included), `hardened` (every fix),
    /// fixes joined by `+` (`stale-votes+two-leaders`), or every fix but some
    /// (`hardened-split-vote`) [default: nacos; with --url: the link's].
    #[arg(long, value_parser = parse_rules)]
    rules: Option<Rules>,
    /// Replay a page link (the whole URL or its `#` part): its seed, nodes, timings, latency,
    /// loss, rules and actions, with the page's defaults (5 nodes, latency 10-40 ms), as the page
    /// runs it; an action the simulator refuses is skipped with a warning, as the page skips it.
    /// `--rules` replays it under other rules (a Compare link needs it: `nacos` is the left ring).
    #[arg(
        long,
        value_parser = parse_url,
        conflicts_with_all = ["nodes", "seed", "datums", "loss", "latency_ms", "crash_leader_at_ms", "timings", "actions"]
    )]
    url: Option<PageRun>,
}

fn parse_url(s: &str) -> Result<PageRun, String> {
    PageRun::parse(s)
}

fn parse_rules(s: &str) -> Result<Rules, String> {
    s.parse()
        .map_err(|e: nacos_raft_core::RulesError| e.to_string())
}

/// The value of `--actions` (a newtype: clap reads a bare `Vec` as a repeated option).
#[derive(Clone, Debug)]
struct ActionList(Vec<TimedAction>);

fn parse_timed_actions(s: &str) -> Result<ActionList, String> {
    parse_actions(s).map(ActionList).map_err(|e| e.to_string())
}

fn parse_loss(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("{v} is not between 0 and 100"));
    }
    Ok(v)
}

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s:?} is not MIN..MAX"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("{a:?} is not a whole number of ms"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("{b:?} is not a whole number of ms"))?;
    if a > b {
        return Err(format!("minimum {a} is above maximum {b}"));
    }
    Ok((a, b))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (cfg, page_actions, duration_ms) = match &args.url {
        Some(run) => {
            let rules = match (args.rules, run.compare) {
                (Some(r), _) => r,
                (None, None) => run.config.rules,
                (None, Some(right)) => {
                    eprintln!(
                        "error: the link is a Compare run: replay one side with --rules nacos (the left ring) or --rules {right} (the right ring)"
                    );
                    return ExitCode::from(2);
                }
            };
            let last = run.actions.last().map_or(0, |a| a.at_ms);
            let duration = args
                .duration_ms
                .or(run.at_ms)
                .or(run.story_end_ms)
                .unwrap_or(60_000.max(last.saturating_add(30_000)));
            (run.config_with(rules), Some(run.actions.clone()), duration)
        }
        None => {
            let timings = match args.timings {
                Timings::Nacos => Config::default(),
                Timings::Fast => Config::fast(),
            };
            let cfg = SimConfig {
                nodes: args.nodes as usize,
                seed: args.seed,
                timings,
                latency_ms: args.latency_ms,
                loss_ppm: (args.loss * 10_000.0).round() as u32,
                trace: TraceMode::Off,
                rules: args.rules.unwrap_or(Rules::Nacos141),
                ..SimConfig::default()
            };
            (cfg, None, args.duration_ms.unwrap_or(60_000))
        }
    };
    // A link's actions are what the page applied: one it refused is skipped here too.
    let from_link = page_actions.is_some();
    let mut sim = match Sim::new(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut published = args.datums == 0;
    let mut crashed = args.crash_leader_at_ms.is_none();
    let mut actions = page_actions
        .or(args.actions.map(|a| a.0))
        .unwrap_or_default()
        .into_iter()
        .peekable();
    loop {
        let next = sim.next_event_ms().unwrap_or(u64::MAX);
        // As `Sim::replay` does: an action comes after every event of its millisecond.
        if let Some(a) = actions.next_if(|a| a.at_ms < next && a.at_ms <= duration_ms) {
            sim.run_until(a.at_ms);
            if let Err(e) = sim.apply(a.action.clone()) {
                if from_link {
                    eprintln!("warning: action {a} was refused and skipped, as the page does: {e}");
                    continue;
                }
                eprintln!("error: action {a} was refused: {e}");
                return ExitCode::from(2);
            }
            continue;
        }
        if !crashed {
            let at = args.crash_leader_at_ms.unwrap_or(0);
            if next > at && at <= duration_ms {
                sim.run_until(at);
                if let Some(l) = sim.cluster_leader() {
                    sim.apply(Action::Crash { node: l })
                        .expect("the leader is up");
                }
                crashed = true;
                continue;
            }
        }
        if next > duration_ms {
            break;
        }
        sim.step();
        if !published {
            if let Some(l) = sim.cluster_leader() {
                for i in 0..args.datums {
                    let put = Action::Put {
                        node: l,
                        key: sample_key(i),
                        value: sample_value(i, 1),
                    };
                    sim.apply(put).expect("the leader is up");
                }
                published = true;
            }
        }
    }
    sim.run_until(duration_ms);
    report_failed_writes(&sim, duration_ms);
    println!(
        "{}",
        serde_json::to_string(&sim.summary()).expect("the summary serializes")
    );
    ExitCode::SUCCESS
}

/// Client writes that failed or were never answered, on stderr: a `put` the nodes refuse (a key
/// that is no Nacos key, a value not of its key's type, no leader) changes nothing in the
/// summary, and a user who typed it should learn why.
fn report_failed_writes(sim: &Sim, duration_ms: u64) {
    const SHOWN: usize = 20;
    let failed: Vec<String> = sim
        .ops()
        .iter()
        .filter_map(|op| {
            let what = format!(
                "{} {} through node {} at {} ms",
                if op.put { "put" } else { "rm" },
                op.key,
                op.node,
                op.submitted_ms
            );
            match &op.done {
                Some((_, Ok(()))) => None,
                Some((at, Err(e))) => Some(format!("{what} failed at {at} ms: {e}")),
                None => Some(format!("{what} was not answered by {duration_ms} ms")),
            }
        })
        .collect();
    for line in failed.iter().take(SHOWN) {
        eprintln!("note: {line}");
    }
    if failed.len() > SHOWN {
        eprintln!(
            "note: and {} more client writes not acknowledged",
            failed.len() - SHOWN
        );
    }
}
