//! The URL contract (see web/README.md): the hash holds everything needed to replay a run.
//!
//! `#seed=7&nodes=5&timings=nacos&speed=10&actions=1200:crash:2,5300:timeout:1`
//!
//! Fields (all optional; unknown fields are ignored so that older pages open newer links):
//! - `seed` — u64; missing means "pick a random one";
//! - `nodes` — 1 to 64 (the page offers 3 to 64; default 5);
//! - `timings` — `nacos` (Nacos 1.4.1) or `fast` (every timing divided by ten);
//! - `speed` — virtual ms per real ms, 0.1 to 1000 (default 10);
//! - `latency` — `MIN-MAX` ms of one message (default 10-40);
//! - `loss` — initial loss in parts per million (default 0);
//! - `slowmo` — `0` turns off the automatic slow motion while messages fly (default on);
//! - `scenario` — the id of the preset the run came from (for its caption);
//! - `at` — virtual ms to open the run at (paused there);
//! - `rules` — `nacos` (default, not written), `hardened`, fixes joined by `+` (the core's
//!   [`Rules`] syntax), or `compare`: the run under Nacos 1.4.1 on the left and under `fixes` on
//!   the right, on one clock;
//! - `fixes` — in compare mode, the right side's rule set in the same syntax (default
//!   `hardened`, not written);
//! - `actions` — the user's actions with their virtual times, comma-separated, each
//!   `<ms>:<verb>[:<arg>...]` (see [`encode_action`]); strings are percent-encoded. Every
//!   character is one that browsers leave alone in a fragment, so links survive copy and paste:
//!   `crash:N`, `restart:N`, `timeout:N`, `isolate:N`, `cut:F-T` (one way), `cut2:A-B` (both
//!   ways), `heal:F-T`, `heal2:A-B`, `part:GROUPS` (one base-36 digit per node), `healall`,
//!   `loss:PPM`, `lat:MIN-MAX`, `put:N:KEY:VALUE`, `rm:N:KEY`, `load:N:FIRST:COUNT`, `drop:MSG`,
//!   `beatonly:N:on|off` (the switch datum's `sendBeatOnly`).

use nacos_raft_core::sim::{page, pct_encode, TimedAction};
use nacos_raft_core::Rules;
use std::fmt::Write as _;

/// Protocol timings of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timings {
    /// Nacos 1.4.1: tick 500 ms, leader due 15–20 s, beat every 5 s.
    Nacos,
    /// Every timing divided by ten.
    Fast,
}

impl Timings {
    /// The URL word.
    pub fn as_str(self) -> &'static str {
        match self {
            Timings::Nacos => "nacos",
            Timings::Fast => "fast",
        }
    }

    /// The core configuration.
    pub fn config(self) -> nacos_raft_core::Config {
        match self {
            Timings::Nacos => nacos_raft_core::Config::default(),
            Timings::Fast => nacos_raft_core::Config::fast(),
        }
    }
}

/// Default node count of the page.
pub const DEFAULT_NODES: usize = page::DEFAULT_NODES;
/// Default playback speed (virtual ms per real ms).
pub const DEFAULT_SPEED: f64 = 10.0;
/// Default latency range of the page (the presets use the same).
pub const DEFAULT_LATENCY: (u64, u64) = page::DEFAULT_LATENCY_MS;
/// Slowest and fastest speed.
pub const SPEED_RANGE: (f64, f64) = (0.1, 1000.0);
/// Most nodes the page draws.
pub const MAX_NODES: usize = page::MAX_NODES;

/// Which rules the page runs: one ring under one rule set, or two rings side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesMode {
    /// One ring under these rules (`rules=nacos`, the default; `rules=hardened`;
    /// `rules=stale-votes+...`).
    One(Rules),
    /// Two rings: Nacos 1.4.1 on the left, [`RunSpec::right`] on the right (`rules=compare`).
    Compare,
}

impl Default for RulesMode {
    fn default() -> RulesMode {
        RulesMode::One(Rules::Nacos141)
    }
}

impl RulesMode {
    /// The rules of the single ring, or of the left ring in compare mode.
    pub fn left(self) -> Rules {
        match self {
            RulesMode::One(r) => r,
            RulesMode::Compare => Rules::Nacos141,
        }
    }

    /// Whether two rings are shown.
    pub fn is_compare(self) -> bool {
        self == RulesMode::Compare
    }
}

/// Everything that defines a run, plus how it is being watched.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// The seed of everything random.
    pub seed: u64,
    /// Node count.
    pub nodes: usize,
    /// Protocol timings.
    pub timings: Timings,
    /// Playback speed, virtual ms per real ms.
    pub speed: f64,
    /// Initial latency range, ms.
    pub latency: (u64, u64),
    /// Initial loss, parts per million.
    pub loss_ppm: u32,
    /// Slow motion while messages fly.
    pub slowmo: bool,
    /// The preset this run came from.
    pub scenario: Option<String>,
    /// Where to open the run (virtual ms), paused.
    pub at_ms: Option<u64>,
    /// The recorded actions.
    pub actions: Vec<TimedAction>,
    /// One ring or two, and under which rules.
    pub rules: RulesMode,
    /// The right ring's rules in compare mode (the per-fix switches).
    pub right: Rules,
}

impl RunSpec {
    /// A fresh default run with `seed`.
    pub fn new(seed: u64) -> RunSpec {
        RunSpec {
            seed,
            nodes: DEFAULT_NODES,
            timings: Timings::Nacos,
            speed: DEFAULT_SPEED,
            latency: DEFAULT_LATENCY,
            loss_ppm: 0,
            slowmo: true,
            scenario: None,
            at_ms: None,
            actions: Vec::new(),
            rules: RulesMode::default(),
            right: Rules::Hardened,
        }
    }

    /// The simulator configuration of this run (full trace): of the single ring, or of the left
    /// ring in compare mode.
    pub fn sim_config(&self) -> nacos_raft_core::sim::SimConfig {
        self.sim_config_with(self.rules.left())
    }

    /// The configuration of the right ring in compare mode: the same run under [`RunSpec::right`].
    pub fn right_sim_config(&self) -> nacos_raft_core::sim::SimConfig {
        self.sim_config_with(self.right)
    }

    fn sim_config_with(&self, rules: Rules) -> nacos_raft_core::sim::SimConfig {
        nacos_raft_core::sim::SimConfig {
            rules,
            nodes: self.nodes,
            seed: self.seed,
            timings: self.timings.config(),
            latency_ms: self.latency,
            loss_ppm: self.loss_ppm,
            trace: nacos_raft_core::sim::TraceMode::Full,
            ..Default::default()
        }
    }

    /// The hash text (without `#`). Fields at their default are left out, except the four of
    /// the contract's example (`seed`, `nodes`, `timings`, `speed`), which are always written.
    pub fn to_hash(&self) -> String {
        let mut s = format!(
            "seed={}&nodes={}&timings={}&speed={}",
            self.seed,
            self.nodes,
            self.timings.as_str(),
            fmt_speed(self.speed)
        );
        if self.latency != DEFAULT_LATENCY {
            let _ = write!(s, "&latency={}-{}", self.latency.0, self.latency.1);
        }
        if self.loss_ppm != 0 {
            let _ = write!(s, "&loss={}", self.loss_ppm);
        }
        if !self.slowmo {
            s.push_str("&slowmo=0");
        }
        match self.rules {
            RulesMode::One(Rules::Nacos141) => {}
            RulesMode::One(r) => {
                let _ = write!(s, "&rules={r}");
            }
            RulesMode::Compare => {
                s.push_str("&rules=compare");
                if self.right != Rules::Hardened {
                    let _ = write!(s, "&fixes={}", self.right);
                }
            }
        }
        if let Some(id) = &self.scenario {
            let _ = write!(s, "&scenario={}", pct_encode(id));
        }
        if let Some(at) = self.at_ms {
            let _ = write!(s, "&at={at}");
        }
        if !self.actions.is_empty() {
            s.push_str("&actions=");
            s.push_str(&nacos_raft_core::sim::format_actions(&self.actions));
        }
        s
    }

    /// Parses a hash (with or without the leading `#`). A missing seed takes `fallback_seed`.
    pub fn parse(hash: &str, fallback_seed: u64) -> Result<RunSpec, String> {
        let mut spec = RunSpec::new(fallback_seed);
        let hash = hash.strip_prefix('#').unwrap_or(hash);
        for part in hash.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            spec.set_field(k, v)?;
        }
        Ok(spec)
    }

    /// Parses a hash like [`RunSpec::parse`], but a field that cannot be read is left at its
    /// default instead of failing the whole hash: every valid field is kept, and each bad one
    /// comes back as `(name, why)`, in the hash's order.
    pub fn parse_keeping_valid(hash: &str, fallback_seed: u64) -> (RunSpec, Vec<(String, String)>) {
        let mut spec = RunSpec::new(fallback_seed);
        let mut bad = Vec::new();
        let hash = hash.strip_prefix('#').unwrap_or(hash);
        for part in hash.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            if let Err(e) = spec.set_field(k, v) {
                bad.push((k.to_string(), e));
            }
        }
        (spec, bad)
    }

    /// Sets field `k` of the hash to `v`; unchanged if `v` cannot be read.
    fn set_field(&mut self, k: &str, v: &str) -> Result<(), String> {
        let spec = self;
        {
            match k {
                "seed" => spec.seed = page::parse_seed(v)?,
                "nodes" => spec.nodes = page::parse_nodes(v)?,
                "timings" => {
                    spec.timings = if page::parse_fast_timings(v)? {
                        Timings::Fast
                    } else {
                        Timings::Nacos
                    }
                }
                "speed" => {
                    let s = crate::layout::decimal(v)
                        .ok_or_else(|| format!("speed {v:?} is not a number"))?;
                    if !s.is_finite() {
                        return Err(format!("speed {v:?} is not a number"));
                    }
                    spec.speed = clamp_speed(s);
                }
                "latency" => spec.latency = page::parse_latency(v)?,
                "loss" => spec.loss_ppm = page::parse_loss_ppm(v)?,
                "slowmo" => spec.slowmo = v != "0",
                "scenario" => spec.scenario = page::parse_scenario(v)?,
                "rules" => {
                    spec.rules = page::parse_rules(v)?.map_or(RulesMode::Compare, RulesMode::One)
                }
                "fixes" => spec.right = page::parse_fixes(v)?,
                "at" => spec.at_ms = Some(page::parse_at(v)?),
                "actions" => {
                    spec.actions =
                        nacos_raft_core::sim::parse_actions(v).map_err(|e| e.to_string())?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Clamps a speed into [`SPEED_RANGE`].
pub fn clamp_speed(s: f64) -> f64 {
    s.clamp(SPEED_RANGE.0, SPEED_RANGE.1)
}

/// A speed as short text: `10`, `0.5`, `2.5`.
pub fn fmt_speed(s: f64) -> String {
    let mut t = crate::layout::d3(s);
    while t.ends_with('0') {
        t.pop();
    }
    if t.ends_with('.') {
        t.pop();
    }
    t
}

/// One action as `<ms>:<verb>[:<arg>...]` (the syntax is the core's: `TimedAction`'s `Display`).
pub fn encode_action(t: &TimedAction) -> String {
    t.to_string()
}

/// Parses one action written by [`encode_action`]; the error names the bad field.
pub fn decode_action(s: &str) -> Result<TimedAction, String> {
    s.parse()
        .map_err(|e: nacos_raft_core::sim::ActionSyntaxError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::sim::{sample_actions, Action};

    /// `simulate --url` reads a link with the core's `PageRun`: the same run as the page's.
    #[test]
    fn the_command_line_reads_a_link_as_the_page_runs_it() {
        use nacos_raft_core::sim::{page::PageRun, TraceMode};
        let mut spec = RunSpec::new(42);
        spec.nodes = 7;
        spec.timings = Timings::Fast;
        spec.latency = (3, 90);
        spec.loss_ppm = 1500;
        spec.actions = sample_actions();
        for rules in [
            RulesMode::One(Rules::Nacos141),
            RulesMode::One(Rules::Hardened),
            RulesMode::Compare,
        ] {
            spec.rules = rules;
            for hash in [spec.to_hash(), RunSpec::new(9).to_hash()] {
                let page = RunSpec::parse(&hash, 1).unwrap();
                let run = PageRun::parse(&format!("http://127.0.0.1:8080/#{hash}")).unwrap();
                let cli = |mut c: nacos_raft_core::sim::SimConfig| {
                    c.trace = TraceMode::Full;
                    c
                };
                assert_eq!(cli(run.config.clone()), page.sim_config(), "{hash}");
                assert_eq!(run.actions, page.actions, "{hash}");
                assert_eq!(run.compare.is_some(), page.rules.is_compare(), "{hash}");
                if let Some(right) = run.compare {
                    assert_eq!(
                        cli(run.config_with(right)),
                        page.right_sim_config(),
                        "{hash}"
                    );
                }
            }
        }
    }

    #[test]
    fn rules_and_fixes_round_trip_and_nacos_is_not_written() {
        use nacos_raft_core::{Fix, Fixes};
        let plain = RunSpec::parse("seed=7&rules=nacos", 1).unwrap();
        assert_eq!(plain.rules, RulesMode::default());
        assert!(!plain.to_hash().contains("rules"), "{}", plain.to_hash());
        assert_eq!(plain.sim_config().rules, Rules::Nacos141);

        let hard = RunSpec::parse("seed=7&rules=hardened", 1).unwrap();
        assert_eq!(hard.rules, RulesMode::One(Rules::Hardened));
        assert_eq!(hard.sim_config().rules, Rules::Hardened);
        assert!(hard.to_hash().contains("&rules=hardened"));

        // Compare: the left ring is Nacos 1.4.1, the right one every fix unless `fixes` says.
        let cmp = RunSpec::parse("seed=7&rules=compare", 1).unwrap();
        assert!(cmp.rules.is_compare());
        assert_eq!(cmp.sim_config().rules, Rules::Nacos141);
        assert_eq!(cmp.right_sim_config().rules, Rules::Hardened);
        assert!(
            cmp.to_hash().ends_with("&rules=compare"),
            "{}",
            cmp.to_hash()
        );

        let some = Fixes::NONE
            .with(Fix::StaleVotes, true)
            .with(Fix::DeadKey, true);
        let h = "seed=7&nodes=5&timings=nacos&speed=10&rules=compare&fixes=stale-votes+dead-key&actions=1200:crash:2";
        let two = RunSpec::parse(h, 1).unwrap();
        assert_eq!(two.right, Rules::Custom(some));
        assert_eq!(two.right_sim_config().rules, Rules::Custom(some));
        assert_eq!(two.to_hash(), h);
        // The order of the fix names does not matter; the written one is the fixed order.
        let back = RunSpec::parse("rules=compare&fixes=dead-key+stale-votes&seed=7", 1).unwrap();
        assert!(back.to_hash().contains("&fixes=stale-votes+dead-key"));
        // No fix at all on the right is written too (it is not the default).
        let none = RunSpec::parse("seed=7&rules=compare&fixes=nacos", 1).unwrap();
        assert_eq!(none.right, Rules::Nacos141);
        assert!(none.to_hash().contains("&fixes=nacos"));
        // Both sides of compare share everything else: seed, nodes, timings, latency, loss.
        let (l, r) = (two.sim_config(), two.right_sim_config());
        assert_eq!(
            (l.seed, l.nodes, l.timings.tick_ms, l.latency_ms, l.loss_ppm),
            (r.seed, r.nodes, r.timings.tick_ms, r.latency_ms, r.loss_ppm)
        );
    }

    #[test]
    fn bad_rules_or_fixes_are_named_and_the_rest_kept() {
        let (spec, bad) =
            RunSpec::parse_keeping_valid("seed=9&rules=raft&fixes=dead-key+nope&nodes=7", 1);
        assert_eq!((spec.seed, spec.nodes), (9, 7));
        assert_eq!(spec.rules, RulesMode::default());
        assert_eq!(spec.right, Rules::Hardened);
        let names: Vec<&str> = bad.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(names, ["rules", "fixes"]);
        assert!(
            bad[0].1.contains("\"raft\"") && bad[0].1.contains("compare"),
            "{:?}",
            bad[0]
        );
        assert!(bad[1].1.contains("\"nope\""), "{:?}", bad[1]);
        assert!(RunSpec::parse("rules=", 1).is_err());
    }

    #[test]
    fn a_bad_field_is_named_and_every_valid_one_kept() {
        let (spec, bad) =
            RunSpec::parse_keeping_valid("#seed=7&nodes=abc&timings=fast&speed=x&at=500", 42);
        assert_eq!(
            (spec.seed, spec.timings, spec.at_ms),
            (7, Timings::Fast, Some(500))
        );
        assert_eq!((spec.nodes, spec.speed), (DEFAULT_NODES, DEFAULT_SPEED));
        let names: Vec<&str> = bad.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(names, ["nodes", "speed"]);
        assert!(bad[0].1.contains("\"abc\""), "{:?}", bad[0]);
        let (ok, none) = RunSpec::parse_keeping_valid("seed=7&nodes=3", 1);
        assert!(none.is_empty());
        assert_eq!(ok, RunSpec::parse("seed=7&nodes=3", 1).unwrap());
        // A bad action list keeps none of its actions (they replay as a whole or not at all).
        let (spec, bad) = RunSpec::parse_keeping_valid("seed=7&actions=10:crash:1,x", 1);
        assert!(spec.actions.is_empty());
        assert_eq!(bad[0].0, "actions");
    }

    #[test]
    fn every_action_round_trips() {
        for t in sample_actions() {
            let s = encode_action(&t);
            assert!(
                !s.contains(',') && !s.contains('&') && !s.contains('#'),
                "{s}"
            );
            assert_eq!(decode_action(&s).unwrap(), t, "{s}");
        }
    }

    #[test]
    fn the_contract_example_parses() {
        let s = RunSpec::parse(
            "#seed=7&nodes=5&timings=nacos&speed=10&actions=1200:crash:2",
            1,
        )
        .unwrap();
        assert_eq!(
            (s.seed, s.nodes, s.timings, s.speed),
            (7, 5, Timings::Nacos, 10.0)
        );
        assert_eq!(
            s.actions,
            vec![TimedAction {
                at_ms: 1200,
                action: Action::Crash { node: 2 }
            }]
        );
        assert_eq!(
            s.to_hash(),
            "seed=7&nodes=5&timings=nacos&speed=10&actions=1200:crash:2"
        );
    }

    #[test]
    fn a_full_spec_round_trips() {
        let spec = RunSpec {
            seed: u64::MAX,
            nodes: 15,
            timings: Timings::Fast,
            speed: 0.25,
            latency: (1, 5),
            loss_ppm: 12_345,
            slowmo: false,
            scenario: Some("two-leaders".into()),
            at_ms: Some(61_000),
            actions: sample_actions(),
            rules: RulesMode::Compare,
            right: Rules::Custom(
                nacos_raft_core::Fixes::NONE.with(nacos_raft_core::Fix::TwoLeaders, true),
            ),
        };
        let h = spec.to_hash();
        assert_eq!(RunSpec::parse(&h, 0).unwrap(), spec);
        assert_eq!(RunSpec::parse(&format!("#{h}"), 0).unwrap(), spec);
    }

    #[test]
    fn defaults_and_errors() {
        let s = RunSpec::parse("", 42).unwrap();
        assert_eq!(s, RunSpec::new(42));
        let s = RunSpec::parse("nodes=9&unknown=1", 3).unwrap();
        assert_eq!((s.seed, s.nodes), (3, 9));
        assert_eq!(RunSpec::parse("speed=100000", 1).unwrap().speed, 1000.0);
        assert_eq!(RunSpec::parse("speed=0.001", 1).unwrap().speed, 0.1);
        for bad in [
            "nodes=0",
            "nodes=65",
            "seed=x",
            "timings=slow",
            "latency=9-3",
            "actions=5:fly:1",
            "actions=5:crash",
            "actions=9:crash:1,5:crash:2",
            "loss=2000000",
            "speed=NaN",
        ] {
            assert!(RunSpec::parse(bad, 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn speeds_print_short() {
        assert_eq!(fmt_speed(10.0), "10");
        assert_eq!(fmt_speed(0.1), "0.1");
        assert_eq!(fmt_speed(2.5), "2.5");
        assert_eq!(fmt_speed(1000.0), "1000");
    }

    #[test]
    fn percent_coding() {
        assert_eq!(pct_encode("a b@c##d"), "a%20b@c%23%23d");
        assert_eq!(
            page::parse_scenario("a%20b@c%23%23d").unwrap().as_deref(),
            Some("a b@c##d")
        );
        assert!(page::parse_scenario("%zz").is_err());
        assert!(page::parse_scenario("%4").is_err());
    }
}
