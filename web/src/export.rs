//! The trace export: one JSON document with the recipe of the run (seed, configuration, actions,
//! link), its summary, every event in plain words and every message with its wire payload.

use crate::describe;
use crate::i18n::Lang;
use crate::model::World;
use crate::urlstate::RunSpec;
use nacos_raft_core::sim::{Summary, TimedAction};
use serde::Serialize;

#[derive(Serialize)]
struct EventRow {
    at_ms: u64,
    node: String,
    text: String,
}

#[derive(Serialize)]
struct MsgRow {
    id: u64,
    kind: &'static str,
    from: String,
    to: String,
    sent_ms: u64,
    arrive_ms: u64,
    fate: &'static str,
    status: u16,
    granted: Option<bool>,
    reply_to: Option<u64>,
    payload: Option<String>,
}

#[derive(Serialize)]
struct Doc<'a> {
    format: &'static str,
    link: &'a str,
    seed: u64,
    nodes: usize,
    timings: &'static str,
    latency_ms: [u64; 2],
    loss_ppm: u32,
    at_ms: u64,
    actions: &'a [TimedAction],
    summary: Summary,
    events: Vec<EventRow>,
    messages: Vec<MsgRow>,
}

/// The export of `w` (run `spec`, shared as `link`), indented.
pub fn trace_json(w: &World, spec: &RunSpec, link: &str) -> String {
    let s = w.sim();
    let term_step = s.config().timings.term_step;
    let doc = Doc {
        format: "nacos-raft-trace/1",
        link,
        seed: spec.seed,
        nodes: spec.nodes,
        timings: spec.timings.as_str(),
        latency_ms: [spec.latency.0, spec.latency.1],
        loss_ppm: spec.loss_ppm,
        at_ms: s.now(),
        actions: w.actions(),
        summary: s.summary(),
        events: s
            .events()
            .iter()
            .map(|e| EventRow {
                at_ms: e.at_ms,
                node: s.addr(e.node).to_string(),
                text: describe::happening(Lang::En, e.node, &e.what, term_step),
            })
            .collect(),
        messages: s
            .messages()
            .iter()
            .map(|m| MsgRow {
                id: m.id,
                kind: m.kind.as_str(),
                from: s.addr(m.from).to_string(),
                to: s.addr(m.to).to_string(),
                sent_ms: m.sent_ms,
                arrive_ms: m.arrive_ms,
                fate: m.fate.as_str(),
                status: m.status,
                granted: m.granted,
                reply_to: m.reply_to,
                payload: m.payload.as_ref().map(|p| p.wire_json()),
            })
            .collect(),
    };
    let text = serde_json::to_string(&doc).unwrap_or_default();
    crate::jsonfmt::pretty(&text).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::sim::Action;

    #[test]
    fn the_export_is_json_with_the_recipe_and_the_trace() {
        let spec = RunSpec::new(5);
        let mut w = World::new(spec.sim_config(), vec![]).unwrap();
        w.seek(20_000);
        w.act(Action::Timeout { node: 1 }).unwrap();
        w.seek(30_000);
        let text = trace_json(&w, &spec, "http://x/#seed=5");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["seed"], 5);
        assert_eq!(v["at_ms"], 30_000);
        assert_eq!(v["actions"][0]["do"], "timeout");
        assert_eq!(v["actions"][0]["at_ms"], 20_000);
        assert!(v["events"].as_array().unwrap().len() > 3);
        let first = &v["messages"][0];
        assert_eq!(first["kind"], "vote");
        assert!(first["payload"]
            .as_str()
            .unwrap()
            .contains("\"state\":\"CANDIDATE\""));
        assert_eq!(v["summary"]["nodes"], 5);
    }
}
