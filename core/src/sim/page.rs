//! The page's link read as a run: the fields of its location hash that decide what the simulator
//! does (`seed`, `nodes`, `timings`, `latency`, `loss`, `rules`, `fixes`, `scenario`, `at`,
//! `actions`), with the page's defaults for those a link leaves out. The page parses its hash
//! field by field with these functions, and `simulate --url` replays a page link with
//! [`PageRun::parse`], so a link and its command line cannot drift apart. Fields that only change
//! how the page shows a run (`speed`, `slowmo`) and unknown ones are ignored, as the page does.

use super::{parse_actions, pct_decode, scenario, SimConfig, TimedAction, TraceMode};
use crate::{Config, Rules};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Node count of a page link without `nodes=`.
pub const DEFAULT_NODES: usize = 5;
/// Most nodes a link may ask for (the simulator's limit).
pub const MAX_NODES: usize = 64;
/// Latency range of one message, ms, of a link without `latency=` (the presets use it too).
pub const DEFAULT_LATENCY_MS: (u64, u64) = (10, 40);

/// `seed=`: the seed of every random choice.
pub fn parse_seed(v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("seed {v:?} is not a number"))
}

/// `nodes=`: 1 to [`MAX_NODES`].
pub fn parse_nodes(v: &str) -> Result<usize, String> {
    let n: usize = v
        .parse()
        .map_err(|_| format!("nodes {v:?} is not a number"))?;
    if !(1..=MAX_NODES).contains(&n) {
        return Err(format!("nodes must be 1 to {MAX_NODES}, not {n}"));
    }
    Ok(n)
}

/// `timings=`: `nacos` (false) or `fast` (true: every timing divided by ten).
pub fn parse_fast_timings(v: &str) -> Result<bool, String> {
    match v {
        "nacos" => Ok(false),
        "fast" => Ok(true),
        _ => Err(format!("timings must be nacos or fast, not {v:?}")),
    }
}

/// `latency=MIN-MAX`, ms, at most 60 s.
pub fn parse_latency(v: &str) -> Result<(u64, u64), String> {
    let bad = || format!("latency {v:?} is not MIN-MAX");
    let (a, b) = v.split_once('-').ok_or_else(bad)?;
    let a: u64 = a.parse().map_err(|_| bad())?;
    let b: u64 = b.parse().map_err(|_| bad())?;
    if a > b || b > 60_000 {
        return Err(format!("latency {v:?}: need MIN ≤ MAX ≤ 60000"));
    }
    Ok((a, b))
}

/// `loss=`: message loss in parts per million.
pub fn parse_loss_ppm(v: &str) -> Result<u32, String> {
    let l: u32 = v.parse().map_err(|_| format!("loss {v:?} is not ppm"))?;
    if l > 1_000_000 {
        return Err(format!("loss {l} is above 1000000 ppm"));
    }
    Ok(l)
}

/// `at=`: the virtual ms the page opens the run at.
pub fn parse_at(v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("at {v:?} is not ms"))
}

/// `rules=`: a rule set ([`Rules`]' syntax, normalized), or `None` for `compare` (Nacos 1.4.1 on
/// the left ring, `fixes=` on the right).
pub fn parse_rules(v: &str) -> Result<Option<Rules>, String> {
    match v {
        "compare" => Ok(None),
        _ => v
            .parse::<Rules>()
            .map(|r| Some(r.normalized()))
            .map_err(|e| format!("rules: {e}, or compare")),
    }
}

/// `fixes=`: the right ring's rules in compare mode.
pub fn parse_fixes(v: &str) -> Result<Rules, String> {
    v.parse::<Rules>()
        .map(Rules::normalized)
        .map_err(|e| format!("fixes: {e}"))
}

/// `scenario=`: the id of the preset a run came from, percent-encoded; empty is none.
pub fn parse_scenario(v: &str) -> Result<Option<String>, String> {
    let id = pct_decode(v).map_err(|e| format!("scenario {v:?}: {e}"))?;
    Ok(Some(id).filter(|s| !s.is_empty()))
}

/// A page link as a run of the simulator.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRun {
    /// The single ring's configuration, or the left ring's in compare mode ([`TraceMode::Off`]).
    pub config: SimConfig,
    /// In compare mode (`rules=compare`), the right ring's rules.
    pub compare: Option<Rules>,
    /// The actions, in the order and at the times the page applies them.
    pub actions: Vec<TimedAction>,
    /// The preset the link names (`scenario=`), if it is one.
    pub scenario: Option<String>,
    /// Where the page opens the run (`at=`).
    pub at_ms: Option<u64>,
    /// When a preset loaded by name has told its story.
    pub story_end_ms: Option<u64>,
}

impl PageRun {
    /// Reads a page link: a whole URL (the part after `#` is read), or its hash with or without
    /// the `#`. A link without `seed=` is either a preset by name (`#scenario=two-leaders`, loaded
    /// with the link's `rules` and `fixes`, as the page does) or an error: the page picks a random
    /// seed for it and writes it into the address bar, which is the link to copy.
    pub fn parse(url: &str) -> Result<PageRun, String> {
        let hash = match url.split_once('#') {
            Some((_, h)) => h,
            None => url,
        };
        let mut config = SimConfig {
            nodes: DEFAULT_NODES,
            latency_ms: DEFAULT_LATENCY_MS,
            trace: TraceMode::Off,
            ..SimConfig::default()
        };
        let (mut seed, mut rules, mut fixes) = (None, Some(Rules::Nacos141), Rules::Hardened);
        let (mut scenario_id, mut at_ms, mut actions) = (None, None, Vec::new());
        for part in hash.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            match k {
                "seed" => seed = Some(parse_seed(v)?),
                "nodes" => config.nodes = parse_nodes(v)?,
                "timings" => {
                    config.timings = if parse_fast_timings(v)? {
                        Config::fast()
                    } else {
                        Config::default()
                    }
                }
                "latency" => config.latency_ms = parse_latency(v)?,
                "loss" => config.loss_ppm = parse_loss_ppm(v)?,
                "rules" => rules = parse_rules(v)?,
                "fixes" => fixes = parse_fixes(v)?,
                "scenario" => scenario_id = parse_scenario(v)?,
                "at" => at_ms = Some(parse_at(v)?),
                "actions" => actions = parse_actions(v).map_err(|e| e.to_string())?,
                _ => {}
            }
        }
        let compare = rules.is_none().then_some(fixes);
        let rules = rules.unwrap_or(Rules::Nacos141);
        match (seed, &scenario_id) {
            (Some(seed), _) => config.seed = seed,
            (None, Some(id)) => {
                let p = scenario::preset(id).ok_or_else(|| {
                    format!(
                        "scenario {id:?} is not a preset (one of {})",
                        scenario::IDS.join(", ")
                    )
                })?;
                return Ok(PageRun {
                    config: SimConfig {
                        rules,
                        trace: TraceMode::Off,
                        ..p.config
                    },
                    compare,
                    actions: p.actions,
                    scenario: scenario_id,
                    at_ms,
                    story_end_ms: Some(p.end_ms),
                });
            }
            (None, None) => {
                return Err(String::from(
                    "the link has no seed= (the page picks a random seed for such a link and \
                     writes it into the address bar: copy the link from there)",
                ))
            }
        }
        config.rules = rules;
        Ok(PageRun {
            config,
            compare,
            actions,
            scenario: scenario_id,
            at_ms,
            story_end_ms: None,
        })
    }

    /// The configuration of the ring under `rules` (the right ring's in compare mode).
    pub fn config_with(&self, rules: Rules) -> SimConfig {
        SimConfig {
            rules,
            ..self.config.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Action, Sim};

    #[test]
    fn a_link_reads_with_the_page_defaults() {
        let r = PageRun::parse(
            "http://127.0.0.1:8080/#seed=7&nodes=3&timings=fast&speed=10&actions=1200:crash:2",
        )
        .unwrap();
        assert_eq!(r.config.seed, 7);
        assert_eq!(r.config.nodes, 3);
        assert_eq!(r.config.timings, Config::fast());
        assert_eq!(r.config.latency_ms, DEFAULT_LATENCY_MS);
        assert_eq!(r.config.loss_ppm, 0);
        assert_eq!(r.config.rules, Rules::Nacos141);
        assert_eq!(r.compare, None);
        assert_eq!(
            r.actions,
            [TimedAction {
                at_ms: 1200,
                action: Action::Crash { node: 2 }
            }]
        );
        let bare = PageRun::parse("seed=7&nodes=3&timings=fast&actions=1200:crash:2").unwrap();
        assert_eq!(bare, r);
        let d = PageRun::parse("#seed=9").unwrap();
        assert_eq!(
            (d.config.nodes, d.config.timings),
            (DEFAULT_NODES, Config::default())
        );
    }

    #[test]
    fn every_run_field_is_read() {
        let r = PageRun::parse(
            "#seed=3&nodes=9&timings=nacos&latency=5-7&loss=2500&rules=compare&fixes=dead-key&at=4000&slowmo=0&zzz=1",
        )
        .unwrap();
        assert_eq!(r.config.latency_ms, (5, 7));
        assert_eq!(r.config.loss_ppm, 2500);
        assert_eq!(r.config.rules, Rules::Nacos141);
        assert_eq!(r.compare, Some("dead-key".parse::<Rules>().unwrap()));
        assert_eq!(r.at_ms, Some(4000));
        let h = PageRun::parse("#seed=3&rules=hardened").unwrap();
        assert_eq!((h.config.rules, h.compare), (Rules::Hardened, None));
        assert_eq!(
            PageRun::parse("#seed=3&rules=compare").unwrap().compare,
            Some(Rules::Hardened)
        );
    }

    #[test]
    fn a_preset_by_name_is_the_preset() {
        for id in scenario::IDS {
            let p = scenario::preset(id).unwrap();
            let r = PageRun::parse(&format!("#scenario={id}&rules=compare")).unwrap();
            assert_eq!(r.actions, p.actions, "{id}");
            assert_eq!(r.config.seed, p.config.seed, "{id}");
            assert_eq!(r.config.latency_ms, p.config.latency_ms, "{id}");
            assert_eq!(r.story_end_ms, Some(p.end_ms), "{id}");
            assert_eq!(r.compare, Some(Rules::Hardened), "{id}");
            let a = Sim::replay(p.config.clone(), &p.actions, p.end_ms).unwrap();
            let b = Sim::replay(r.config.clone(), &r.actions, p.end_ms).unwrap();
            assert_eq!(a.trace_hash(), b.trace_hash(), "{id}");
        }
        // With a seed, the scenario is only the run's caption.
        let r = PageRun::parse("#seed=5&scenario=two-leaders").unwrap();
        assert_eq!((r.config.seed, r.actions.len()), (5, 0));
    }

    #[test]
    fn bad_links_are_refused_with_the_field() {
        for (link, want) in [
            ("#nodes=5", "no seed="),
            ("#seed=x", "seed \"x\" is not a number"),
            ("#seed=1&nodes=65", "nodes must be 1 to 64, not 65"),
            ("#seed=1&timings=slow", "timings must be nacos or fast"),
            ("#seed=1&latency=9-3", "need MIN ≤ MAX"),
            ("#seed=1&latency=3", "is not MIN-MAX"),
            ("#seed=1&loss=1000001", "above 1000000 ppm"),
            ("#seed=1&rules=bogus", "rules: "),
            ("#seed=1&fixes=bogus", "fixes: "),
            ("#seed=1&at=soon", "at \"soon\" is not ms"),
            ("#seed=1&actions=12:explode", "explode"),
            ("#scenario=nope", "is not a preset"),
        ] {
            let e = PageRun::parse(link).unwrap_err();
            assert!(e.contains(want), "{link}: {e}");
        }
    }
}
