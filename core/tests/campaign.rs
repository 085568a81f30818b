//! The fault campaign's smoke test (the full run is `make campaign`): 200 seeds of 10 virtual
//! minutes on 3 and 5 nodes, each run twice, the table and the JSON, and every shrunk case
//! replayed from its page link the way the page reads it.
#![cfg(not(target_arch = "wasm32"))]

use nacos_raft_core::sim::campaign::{run_seed_twice, shrink, Case, Plan, Report, Timing, KINDS};
use nacos_raft_core::sim::{parse_actions, Sim, SimConfig, TraceMode};
use nacos_raft_core::Config;

/// The page's reading of a link (`web/src/urlstate.rs`, `RunSpec::parse` and `sim_config`):
/// the fields that build its simulator, and where to open it.
fn replay_link(url: &str) -> (Sim, u64) {
    let (_, fragment) = url.split_once('#').expect("a link with a fragment");
    let mut cfg = SimConfig {
        nodes: 5,
        latency_ms: (10, 40),
        trace: TraceMode::Full,
        ..SimConfig::default()
    };
    let (mut at, mut actions) = (None, Vec::new());
    for part in fragment.split('&') {
        let (k, v) = part.split_once('=').expect("key=value");
        match k {
            "seed" => cfg.seed = v.parse().unwrap(),
            "nodes" => cfg.nodes = v.parse().unwrap(),
            "timings" => {
                assert_eq!(v, "nacos");
                cfg.timings = Config::default();
            }
            "latency" => {
                let (a, b) = v.split_once('-').unwrap();
                cfg.latency_ms = (a.parse().unwrap(), b.parse().unwrap());
            }
            "loss" => cfg.loss_ppm = v.parse().unwrap(),
            "at" => at = Some(v.parse().unwrap()),
            "actions" => actions = parse_actions(v).unwrap(),
            "speed" => {}
            other => panic!("the page does not know {other}"),
        }
    }
    let at = at.expect("the link opens at the violation");
    (
        Sim::replay(cfg, &actions, at).expect("every action is accepted"),
        at,
    )
}

#[test]
fn a_small_campaign_runs_twice_alike_reports_and_its_links_replay() {
    let plan = Plan {
        seeds: 200,
        first_seed: 1,
        nodes: vec![3, 5],
        minutes: 10,
        shrink_candidates: 1,
        shrink_budget: 120,
    };
    let until = plan.until_ms();
    let results: Vec<_> = plan
        .seeds()
        .into_iter()
        .map(|(seed, nodes)| (seed, nodes, run_seed_twice(seed, nodes, until)))
        .collect();
    let runs: Vec<_> = results
        .iter()
        .map(|r| r.2.clone().expect("no refusal, same hash twice"))
        .collect();
    let targets = plan.shrink_targets(&runs);
    let shrunk = targets
        .iter()
        .map(|(kind, case)| shrink(case, *kind, plan.shrink_budget))
        .collect();
    let report = Report::new(
        plan.clone(),
        results,
        shrunk,
        Timing::default(),
        "http://127.0.0.1:8080/",
    );
    let table = report.render();
    assert!(report.ok(), "{table}");
    assert_eq!(report.runs.len(), 200);
    assert_eq!(report.seeds_by_nodes.values().sum::<u64>(), 200);

    // The table has a row per class; the JSON parses and says the same.
    for kind in KINDS {
        assert!(table.contains(&format!("(`{}`)", kind.as_str())), "{table}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    let classes = json["classes"].as_array().unwrap();
    assert_eq!(classes.len(), KINDS.len());
    for (c, row) in classes.iter().zip(&report.classes) {
        assert_eq!(c["kind"], row.kind.as_str());
        assert_eq!(c["seeds"], row.seeds);
        let counted = report
            .runs
            .iter()
            .filter(|r| r.violations.contains(&row.kind))
            .count() as u64;
        assert_eq!(row.seeds, counted);
    }
    assert_eq!(json["runs"].as_array().unwrap().len(), 200);

    // Nacos' flaws show within 200 seeds, so this checks shrunk cases (it cannot pass empty).
    let found: Vec<_> = report
        .classes
        .iter()
        .filter_map(|c| c.smallest.as_ref())
        .collect();
    assert!(found.len() >= 2, "{table}");
    for m in found {
        let s = &m.shrunk;
        // Fewer actions, or as many and an earlier violation.
        assert!(
            s.case.actions.len() < s.original_actions
                || (s.case.actions.len() == s.original_actions
                    && s.case.until_ms <= s.original_at_ms)
        );
        assert_eq!(s.case.until_ms, s.violation.at_ms);
        // The link, read as the page reads it, replays to the same violation and hash.
        let (sim, at) = replay_link(&m.page_url);
        assert_eq!(at, s.violation.at_ms);
        assert!(sim.violations().contains(&s.violation), "{}", m.page_url);
        assert_eq!(format!("{:016x}", sim.trace_hash()), m.trace_hash);
        // So does the case itself, strictly.
        let again = s.case.run(TraceMode::Off).unwrap();
        assert_eq!(again.trace_hash(), sim.trace_hash());
        assert!(m.simulate.contains(&format!("--seed {} ", s.case.seed)));
    }
}

#[test]
fn a_seed_names_its_case() {
    let a = Case::generate(77, 5, 600_000);
    let b = Case::generate(77, 5, 600_000);
    assert_eq!(a, b);
    assert_ne!(a, Case::generate(78, 5, 600_000));
    let one = run_seed_twice(77, 5, 600_000).unwrap();
    assert_eq!(one.actions, a.actions.len());
    assert_eq!(one.hash, a.run(TraceMode::Full).unwrap().trace_hash());
}
