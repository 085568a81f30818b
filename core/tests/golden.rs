//! Golden scripts: readable stories over the simulator with their exact output, in the style of
//! etcd raft's `testdata/*.txt` interaction tests. Every file in `tests/golden/` is a list of
//! commands, each followed by `----`, the output it must print, and a blank line:
//!
//! ```text
//! # a comment
//! nodes 3 seed=7
//! ----
//! A=127.0.0.1:8848 B=127.0.0.1:8849 C=127.0.0.1:8850
//!
//! run-until 20000 skip=beats
//! ----
//!    4512 B election-started term=1
//! ```
//!
//! Re-bless every file after a deliberate change of behaviour, then review the diff:
//! `REWRITE=1 cargo test -p nacos-raft-core --test golden` (or `make bless`). One file:
//! `RUN=two-leaders cargo test -p nacos-raft-core --test golden`.
//!
//! The format is the one of the `datadriven` crate; its parser takes only word characters in
//! arguments and keeps them in a map (order lost), so `partition AB|C` or
//! `publish B iplist.x {"a":1}` would not parse there: this runner is ours (small, no
//! dependency). Commands, `A` being the first node:
//!
//! | command | does | prints |
//! |---|---|---|
//! | `nodes N [seed=S] [timings=nacos\|fast] [latency=MIN-MAX] [loss=PPM]` | a fresh cluster | the addresses |
//! | `preset ID` | the preset scenario's cluster, its actions scheduled at their times | title and actions |
//! | `run-until MS [filter]`, `run MS [filter]` | advance virtual time (to MS, or by MS), applying scheduled actions | events and violations of the window |
//! | `events [filter]` | — | the events and violations since the last window (of actions just applied, say) |
//! | `crash A`, `restart A`, `timeout A`, `isolate A` | the action now | an error if refused |
//! | `cut A B`, `cut A>B`, `heal A B`, `heal A>B`, `heal`, `partition AB\|CDE` | links | an error if refused |
//! | `loss PPM`, `latency MIN-MAX`, `drop ID` | network, one message | an error if refused |
//! | `publish A KEY JSON`, `delete A KEY`, `load A FIRST COUNT` | client operations | an error if refused |
//! | `state` | — | each node: state, term, vote, leader, datums, disk |
//! | `messages [filter]` | — | the messages sent since the last `messages` |
//! | `violations` | — | every violation so far |
//!
//! A filter is any of `nodes=AB` (events at those nodes), `only=K1,K2`, `skip=K1,K2` (event
//! names as `testing::event` prints them, `crashed`, `restarted`, `submitted`, `completed`,
//! `acted`, `violation`, or the groups `beats` = beat-sent,beat-accepted and `votes` =
//! vote-granted,vote-refused,vote-answered), and `counts` (one line per node and kind with its
//! number instead of every line). Keys are written short: `iplist.X` / `meta.X` is service
//! `DEFAULT_GROUP@@X` in namespace `public`, `switch` the switch key.
#![cfg(not(target_arch = "wasm32"))]

use nacos_raft_core::key;
use nacos_raft_core::sim::{
    address, scenario, Action, Happening, MsgRecord, Sim, SimConfig, TimedAction, TraceMode,
    Violation,
};
use nacos_raft_core::testing::{self, Names};
use nacos_raft_core::{Config, PeerState};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DIR: &str = "tests/golden";

#[test]
fn golden_scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/golden exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    if let Ok(only) = std::env::var("RUN") {
        files.retain(|p| {
            p.file_stem()
                .is_some_and(|s| s.to_string_lossy().contains(&only))
        });
    }
    assert!(!files.is_empty(), "no golden script in {}", dir.display());
    let rewrite = std::env::var_os("REWRITE").is_some();
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (out, failure) = run_file(&name, &text);
        if rewrite {
            if out != text {
                std::fs::write(f, &out).unwrap();
                println!("rewrote {name}");
            }
        } else if let Some(fail) = failure {
            failures.push(fail);
        }
    }
    println!("{} golden scripts", files.len());
    assert!(
        failures.is_empty(),
        "{}\n\nAfter a deliberate change: REWRITE=1 cargo test -p nacos-raft-core --test golden, then review the diff.",
        failures.join("\n\n")
    );
}

/// Runs every command of a script; returns the script with the actual outputs and the first
/// mismatch, if any.
fn run_file(name: &str, text: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut failure = None;
    let mut w = World::default();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        }
        let at = i + 1;
        i += 1;
        assert!(
            lines.get(i) == Some(&"----"),
            "{name}:{at}: a command is followed by a line `----`"
        );
        i += 1;
        let mut expected = Vec::new();
        while i < lines.len() && !lines[i].is_empty() {
            expected.push(lines[i]);
            i += 1;
        }
        let actual = w
            .command(line)
            .unwrap_or_else(|e| vec![format!("error: {e}")]);
        if actual != expected && failure.is_none() {
            failure = Some(diff(name, at, line, &expected, &actual));
        }
        out.push_str(line);
        out.push_str("\n----\n");
        for a in &actual {
            out.push_str(a);
            out.push('\n');
        }
    }
    (out, failure)
}

fn diff(name: &str, at: usize, cmd: &str, want: &[&str], got: &[String]) -> String {
    let first = (0..want.len().max(got.len()))
        .find(|k| want.get(*k).copied() != got.get(*k).map(String::as_str))
        .unwrap_or(0);
    let mut s = format!(
        "{name}:{at}: `{cmd}` printed {} lines, expected {}; first difference at output line {}:\n",
        got.len(),
        want.len(),
        first + 1
    );
    let _ = writeln!(s, "  want: {}", want.get(first).unwrap_or(&"(nothing)"));
    let _ = write!(
        s,
        "  got:  {}",
        got.get(first).map(String::as_str).unwrap_or("(nothing)")
    );
    s
}

/// What a script has built so far.
#[derive(Default)]
struct World {
    sim: Option<Sim>,
    names: Names,
    /// Preset actions not applied yet.
    scheduled: VecDeque<TimedAction>,
    /// Events and violations already printed, messages already listed.
    events_seen: usize,
    violations_seen: usize,
    messages_seen: usize,
}

/// Which lines of a window to print.
#[derive(Default)]
struct Filter {
    nodes: Option<Vec<usize>>,
    only: Option<Vec<String>>,
    skip: Vec<String>,
    counts: bool,
}

impl Filter {
    fn parse(args: &[&str]) -> Result<Filter, String> {
        let mut f = Filter::default();
        let kinds = |v: &str| -> Vec<String> {
            v.split(',')
                .flat_map(|k| match k {
                    "beats" => vec!["beat-sent", "beat-accepted"],
                    "votes" => vec!["vote-granted", "vote-refused", "vote-answered"],
                    other => vec![other],
                })
                .map(String::from)
                .collect()
        };
        for a in args {
            match a.split_once('=') {
                Some(("nodes", v)) => {
                    f.nodes = Some(v.chars().map(node_index).collect::<Result<_, _>>()?)
                }
                Some(("only", v)) => f.only = Some(kinds(v)),
                Some(("skip", v)) => f.skip = kinds(v),
                None if *a == "counts" => f.counts = true,
                _ => return Err(format!("unknown filter {a:?}")),
            }
        }
        Ok(f)
    }

    fn keeps(&self, node: Option<usize>, kind: &str) -> bool {
        if let (Some(ns), Some(n)) = (&self.nodes, node) {
            if !ns.contains(&n) {
                return false;
            }
        }
        if let Some(only) = &self.only {
            if !only.iter().any(|k| k == kind) {
                return false;
            }
        }
        !self.skip.iter().any(|k| k == kind)
    }
}

fn node_index(c: char) -> Result<usize, String> {
    if c.is_ascii_uppercase() {
        Ok((c as u8 - b'A') as usize)
    } else {
        Err(format!("{c:?} is not a node letter"))
    }
}

fn node_arg(args: &[&str], i: usize) -> Result<usize, String> {
    let a = args.get(i).ok_or("missing node")?;
    let mut cs = a.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) => node_index(c),
        _ => Err(format!("{a:?} is not a node letter")),
    }
}

fn num<T: std::str::FromStr>(args: &[&str], i: usize, what: &str) -> Result<T, String> {
    let a = args.get(i).ok_or(format!("missing {what}"))?;
    a.parse()
        .map_err(|_| format!("{what} {a:?} is not a number"))
}

/// A key as scripts write it: `iplist.X`, `meta.X`, `switch`, or a full key.
fn full_key(k: &str) -> String {
    if k == "switch" {
        return key::SWITCH_KEY.into();
    }
    if let Some(s) = k.strip_prefix("iplist.") {
        return key::iplist_key("public", &format!("{}@@{s}", key::DEFAULT_GROUP));
    }
    if let Some(s) = k.strip_prefix("meta.") {
        return key::meta_key("public", &format!("{}@@{s}", key::DEFAULT_GROUP));
    }
    k.into()
}

/// An action in script words, nodes as letters.
fn words(a: &Action) -> String {
    let l = Names::letter;
    match a {
        Action::Crash { node } => format!("crash {}", l(*node)),
        Action::Restart { node } => format!("restart {}", l(*node)),
        Action::Timeout { node } => format!("timeout {}", l(*node)),
        Action::Isolate { node } => format!("isolate {}", l(*node)),
        Action::Cut { from, to, both } => {
            format!(
                "cut {}{}{}",
                l(*from),
                if *both { " " } else { ">" },
                l(*to)
            )
        }
        Action::Heal { from, to, both } => {
            format!(
                "heal {}{}{}",
                l(*from),
                if *both { " " } else { ">" },
                l(*to)
            )
        }
        Action::Partition { groups } => {
            let mut by: BTreeMap<u8, String> = BTreeMap::new();
            for (i, g) in groups.iter().enumerate() {
                by.entry(*g).or_default().push_str(&l(i));
            }
            format!(
                "partition {}",
                by.into_values().collect::<Vec<_>>().join("|")
            )
        }
        Action::HealAll => "heal".into(),
        Action::SetLoss { ppm } => format!("loss {ppm}"),
        Action::SetLatency { min, max } => format!("latency {min}-{max}"),
        Action::Put { node, key, value } => format!(
            "publish {} {} {}",
            l(*node),
            testing::short_key(key),
            if value.len() <= 40 {
                value.clone()
            } else {
                format!("<{} bytes>", value.len())
            }
        ),
        Action::Load { node, first, count } => format!("load {} {first} {count}", l(*node)),
        Action::Remove { node, key } => format!("delete {} {}", l(*node), testing::short_key(key)),
        Action::Drop { msg } => format!("drop {msg}"),
    }
}

impl World {
    fn sim(&mut self) -> Result<&mut Sim, String> {
        self.sim
            .as_mut()
            .ok_or_else(|| "no cluster yet: start with `nodes` or `preset`".into())
    }

    fn start(&mut self, cfg: SimConfig) -> Result<(), String> {
        let sim = Sim::new(cfg).map_err(|e| e.0)?;
        let members: Vec<String> = (0..sim.len()).map(address).collect();
        self.names = Names::new(&members);
        self.sim = Some(sim);
        self.scheduled.clear();
        self.events_seen = 0;
        self.violations_seen = 0;
        self.messages_seen = 0;
        Ok(())
    }

    fn command(&mut self, line: &str) -> Result<Vec<String>, String> {
        let args: Vec<&str> = line.split_whitespace().collect();
        let (cmd, args) = args.split_first().ok_or("empty command")?;
        match *cmd {
            "nodes" => self.nodes(args),
            "preset" => self.preset(args),
            "run-until" => {
                let t = num(args, 0, "time")?;
                self.run(t, &args[1..])
            }
            "run" => {
                let d: u64 = num(args, 0, "duration")?;
                let t = self.sim()?.now() + d;
                self.run(t, &args[1..])
            }
            "events" => {
                let t = self.sim()?.now();
                self.run(t, args)
            }
            "state" => self.state(),
            "messages" => self.messages(args),
            "violations" => Ok(self.violations_all()),
            _ => {
                let action = self.action(cmd, args, line)?;
                self.sim()?.apply(action)?;
                Ok(Vec::new())
            }
        }
    }

    fn nodes(&mut self, args: &[&str]) -> Result<Vec<String>, String> {
        let mut cfg = SimConfig {
            nodes: num(args, 0, "node count")?,
            trace: TraceMode::Full,
            ..SimConfig::default()
        };
        for a in &args[1..] {
            match a.split_once('=') {
                Some(("seed", v)) => cfg.seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?,
                Some(("timings", "nacos")) => cfg.timings = Config::default(),
                Some(("timings", "fast")) => cfg.timings = Config::fast(),
                Some(("latency", v)) => {
                    let (a, b) = v.split_once('-').ok_or("latency is MIN-MAX")?;
                    cfg.latency_ms = (
                        a.parse().map_err(|_| "bad latency")?,
                        b.parse().map_err(|_| "bad latency")?,
                    );
                }
                Some(("loss", v)) => cfg.loss_ppm = v.parse().map_err(|_| "bad loss")?,
                _ => return Err(format!("unknown option {a:?}")),
            }
        }
        self.start(cfg)?;
        let n = self.sim()?.len();
        Ok(vec![(0..n)
            .map(|i| format!("{}={}", Names::letter(i), address(i)))
            .collect::<Vec<_>>()
            .join(" ")])
    }

    fn preset(&mut self, args: &[&str]) -> Result<Vec<String>, String> {
        let id = args.first().ok_or("missing preset id")?;
        let p = scenario::preset(id).ok_or_else(|| format!("no preset {id:?}"))?;
        let mut cfg = p.config.clone();
        cfg.trace = TraceMode::Full;
        let c = cfg.clone();
        self.start(cfg)?;
        self.scheduled = p.actions.iter().cloned().collect();
        let timings = if c.timings == Config::fast() {
            "fast"
        } else {
            "nacos"
        };
        let mut out = vec![
            p.title.to_string(),
            format!(
                "nodes={} seed={} timings={timings} latency={}-{} end={}",
                c.nodes, c.seed, c.latency_ms.0, c.latency_ms.1, p.end_ms
            ),
        ];
        for a in &p.actions {
            out.push(format!("at {}: {}", a.at_ms, words(&a.action)));
        }
        Ok(out)
    }

    fn action(&mut self, cmd: &str, args: &[&str], line: &str) -> Result<Action, String> {
        let n = |i| node_arg(args, i);
        let link = |both_default: bool| -> Result<(usize, usize, bool), String> {
            match args {
                [a, b] => Ok((node_arg(&[a], 0)?, node_arg(&[b], 0)?, both_default)),
                [ab] => {
                    let (a, b) = ab
                        .split_once('>')
                        .ok_or("a link is `A B` (both ways) or `A>B`")?;
                    Ok((node_arg(&[a], 0)?, node_arg(&[b], 0)?, false))
                }
                _ => Err("a link is `A B` (both ways) or `A>B`".into()),
            }
        };
        Ok(match cmd {
            "crash" => Action::Crash { node: n(0)? },
            "restart" => Action::Restart { node: n(0)? },
            "timeout" => Action::Timeout { node: n(0)? },
            "isolate" => Action::Isolate { node: n(0)? },
            "cut" => {
                let (from, to, both) = link(true)?;
                Action::Cut { from, to, both }
            }
            "heal" if args.is_empty() => Action::HealAll,
            "heal" => {
                let (from, to, both) = link(true)?;
                Action::Heal { from, to, both }
            }
            "partition" => {
                let spec = args.first().ok_or("missing groups, e.g. AB|CDE")?;
                let count = self.sim()?.len();
                let mut groups = vec![u8::MAX; count];
                for (g, part) in spec.split('|').enumerate() {
                    for c in part.chars() {
                        let i = node_index(c)?;
                        if i >= count || groups[i] != u8::MAX {
                            return Err(format!("{c} is not a node or is named twice"));
                        }
                        groups[i] = g as u8;
                    }
                }
                if groups.contains(&u8::MAX) {
                    return Err("every node must be in a group".into());
                }
                Action::Partition { groups }
            }
            "loss" => Action::SetLoss {
                ppm: num(args, 0, "loss")?,
            },
            "latency" => {
                let v = args.first().ok_or("missing MIN-MAX")?;
                let (a, b) = v.split_once('-').ok_or("latency is MIN-MAX")?;
                Action::SetLatency {
                    min: a.parse().map_err(|_| "bad latency")?,
                    max: b.parse().map_err(|_| "bad latency")?,
                }
            }
            "drop" => Action::Drop {
                msg: num(args, 0, "message id")?,
            },
            "publish" => {
                let key = args.get(1).ok_or("missing key")?;
                // The value is the rest of the line: JSON may hold spaces.
                let value = line
                    .splitn(4, char::is_whitespace)
                    .nth(3)
                    .ok_or("missing value")?
                    .trim();
                Action::Put {
                    node: n(0)?,
                    key: full_key(key),
                    value: value.into(),
                }
            }
            "delete" => Action::Remove {
                node: n(0)?,
                key: full_key(args.get(1).ok_or("missing key")?),
            },
            "load" => Action::Load {
                node: n(0)?,
                first: num(args, 1, "first")?,
                count: num(args, 2, "count")?,
            },
            other => return Err(format!("unknown command {other:?}")),
        })
    }

    fn run(&mut self, until: u64, args: &[&str]) -> Result<Vec<String>, String> {
        let filter = Filter::parse(args)?;
        let mut applied: Vec<(u64, String)> = Vec::new();
        while self.scheduled.front().is_some_and(|a| a.at_ms <= until) {
            let a = self.scheduled.pop_front().unwrap();
            let sim = self.sim()?;
            sim.run_until(a.at_ms);
            sim.apply(a.action.clone())?;
            applied.push((a.at_ms, words(&a.action)));
        }
        self.sim()?.run_until(until);
        Ok(self.window(&filter, applied))
    }

    /// The events, applied actions and violations since the last window, in time order.
    fn window(&mut self, f: &Filter, applied: Vec<(u64, String)>) -> Vec<String> {
        let sim = self.sim.as_ref().unwrap();
        let mut lines: Vec<(u64, u8, Option<usize>, String, String)> = Vec::new();
        for (at, w) in applied {
            lines.push((at, 0, None, "acted".into(), format!("{at:>8} > {w}")));
        }
        for e in &sim.events()[self.events_seen..] {
            let (kind, text) = match &e.what {
                Happening::Protocol(ev) => (
                    testing::event_name(ev).to_string(),
                    testing::event(ev, &self.names),
                ),
                Happening::Crashed => ("crashed".into(), "crashed".into()),
                Happening::Restarted => ("restarted".into(), "restarted".into()),
                Happening::Submitted { op, put, key } => (
                    "submitted".into(),
                    format!(
                        "submitted op#{op} {} {}",
                        if *put { "put" } else { "remove" },
                        testing::short_key(key)
                    ),
                ),
                Happening::Completed { op, key, error } => (
                    "completed".into(),
                    match error {
                        None => format!("completed op#{op} {} ok", testing::short_key(key)),
                        Some(e) => format!(
                            "completed op#{op} {} {}",
                            testing::short_key(key),
                            testing::error(e, &self.names)
                        ),
                    },
                ),
                // Already printed as `> action` when the script scheduled it.
                Happening::Acted(_) => continue,
            };
            let line = format!("{:>8} {} {text}", e.at_ms, Names::letter(e.node));
            lines.push((e.at_ms, 1, Some(e.node), kind, line));
        }
        for v in &sim.violations()[self.violations_seen..] {
            lines.push((
                v.at_ms,
                2,
                None,
                "violation".into(),
                violation(v, &self.names),
            ));
        }
        self.events_seen = sim.events().len();
        self.violations_seen = sim.violations().len();
        lines.sort_by_key(|l| (l.0, l.1));
        let kept = lines
            .into_iter()
            .filter(|(_, _, node, kind, _)| f.keeps(*node, kind));
        if !f.counts {
            return kept.map(|l| l.4).collect();
        }
        let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (_, _, node, kind, _) in kept {
            let who = node.map(Names::letter).unwrap_or_else(|| "-".into());
            *counts.entry((who, kind)).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|((who, kind), c)| format!("{who} {kind} x{c}"))
            .collect()
    }

    fn state(&mut self) -> Result<Vec<String>, String> {
        let sim = self.sim.as_ref().ok_or("no cluster yet")?;
        let names = &self.names;
        let mut out = vec![format!("t={} ms", sim.now())];
        for i in 0..sim.len() {
            let disk = &sim.sim_node(i).disk;
            let disk = format!("disk: term={} datums={}", disk.term, disk.datums.len());
            let line = match sim.node(i) {
                None => format!("{} down {disk}", Names::letter(i)),
                Some(n) => {
                    let l = n.local();
                    let state = match l.state {
                        PeerState::Leader => "LEADER",
                        PeerState::Follower => "FOLLOWER",
                        PeerState::Candidate => "CANDIDATE",
                    };
                    format!(
                        "{} {state} term={} vote={} leader={} datums={} {disk}",
                        Names::letter(i),
                        l.term,
                        l.vote()
                            .map(|v| names.name(v))
                            .unwrap_or_else(|| "-".into()),
                        n.leader()
                            .map(|v| names.name(v))
                            .unwrap_or_else(|| "-".into()),
                        n.datum_count(),
                    )
                }
            };
            out.push(line);
        }
        Ok(out)
    }

    fn messages(&mut self, args: &[&str]) -> Result<Vec<String>, String> {
        let mut kinds: Option<Vec<&str>> = None;
        for a in args {
            match a.split_once('=') {
                Some(("kinds", v)) => kinds = Some(v.split(',').collect()),
                _ => return Err(format!("unknown option {a:?} (kinds=vote,beat-reply,...)")),
            }
        }
        let seen = self.messages_seen;
        let sim = self.sim()?;
        let list: Vec<String> = sim.messages()[seen..]
            .iter()
            .filter(|m| kinds.as_ref().is_none_or(|k| k.contains(&m.kind.as_str())))
            .map(message)
            .collect();
        self.messages_seen = sim.messages().len();
        Ok(list)
    }

    fn violations_all(&mut self) -> Vec<String> {
        let Some(sim) = self.sim.as_ref() else {
            return vec!["error: no cluster yet".into()];
        };
        sim.violations()
            .iter()
            .map(|v| violation(v, &self.names))
            .collect()
    }
}

fn violation(v: &Violation, names: &Names) -> String {
    format!(
        "{:>8} ! {}: {}",
        v.at_ms,
        v.kind.as_str(),
        names.replace_all(&v.detail)
    )
}

fn message(m: &MsgRecord) -> String {
    let l = Names::letter;
    let mut s = format!(
        "{:>8} #{} {}>{} {}",
        m.sent_ms,
        m.id,
        l(m.from),
        l(m.to),
        m.kind.as_str()
    );
    if let Some(r) = m.reply_to {
        let _ = write!(s, " re #{r} {}", m.status);
        if let Some(g) = m.granted {
            s.push_str(if g { " granted" } else { " refused" });
        }
    }
    let _ = write!(s, " {} {}", m.fate.as_str(), m.arrive_ms);
    s
}
