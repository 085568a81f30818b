//! Component and model tests in headless Chrome (`wasm-pack test --headless --chrome web`):
//! the app is mounted into the page and driven through its DOM, as a person would.
#![cfg(target_arch = "wasm32")]

use gloo_timers::future::TimeoutFuture;
use nacos_raft_core::sim::{Action, Sim, TimedAction};
use nacos_raft_web::app::App;
use nacos_raft_web::i18n::Lang;
use nacos_raft_web::model::World;
use nacos_raft_web::urlstate::RunSpec;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn doc() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn set_hash(h: &str) {
    let w = web_sys::window().unwrap();
    w.history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{h}")))
        .unwrap();
}

/// Mounts the app in a fresh element with `hash` as the location hash.
async fn mount(hash: &str) -> (yew::AppHandle<App>, Element) {
    set_hash(hash);
    let root = doc().create_element("div").unwrap();
    doc().body().unwrap().append_child(&root).unwrap();
    let handle = yew::Renderer::<App>::with_root(root.clone()).render();
    yew::scheduler::flush().await;
    (handle, root)
}

async fn unmount(h: yew::AppHandle<App>, root: Element) {
    h.destroy();
    yew::scheduler::flush().await;
    root.remove();
    set_hash("");
}

fn all(root: &Element, sel: &str) -> Vec<Element> {
    let list = root.query_selector_all(sel).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

fn one(root: &Element, sel: &str) -> Element {
    root.query_selector(sel)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {sel}"))
}

fn attr(e: &Element, a: &str) -> String {
    e.get_attribute(a).unwrap_or_default()
}

fn click(e: &Element) {
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    e.dispatch_event(&ev).unwrap();
}

fn key(k: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(k);
    init.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    web_sys::window().unwrap().dispatch_event(&ev).unwrap();
}

fn clock(root: &Element) -> u64 {
    attr(&one(root, "[data-clock-ms]"), "data-clock-ms")
        .parse()
        .unwrap()
}

/// Waits (real time) until `f` holds, up to `ms`.
async fn until(ms: u32, mut f: impl FnMut() -> bool) -> bool {
    let mut waited = 0;
    while !f() {
        if waited >= ms {
            return false;
        }
        TimeoutFuture::new(50).await;
        waited += 50;
    }
    true
}

#[wasm_bindgen_test]
fn time_travel_in_wasm_matches_a_straight_replay() {
    let spec = RunSpec::new(21);
    let actions = vec![TimedAction {
        at_ms: 25_000,
        action: Action::Crash { node: 0 },
    }];
    let mut w = World::new(spec.sim_config(), actions.clone()).unwrap();
    w.seek(70_000);
    w.seek(12_345);
    w.seek(50_000);
    let r = Sim::replay(spec.sim_config(), &actions, 50_000).unwrap();
    assert_eq!(w.sim().trace_hash(), r.trace_hash());
}

#[wasm_bindgen_test]
fn url_state_round_trips_in_wasm() {
    let h = "seed=7&nodes=5&timings=nacos&speed=10&actions=1200:crash:2,5300:timeout:1";
    assert_eq!(RunSpec::parse(h, 0).unwrap().to_hash(), h);
}

#[wasm_bindgen_test]
async fn the_page_follows_the_dom_contract() {
    let (h, root) = mount("seed=7&nodes=5&timings=nacos&speed=10").await;
    let nodes = all(&root, "[data-node]");
    assert_eq!(nodes.len(), 5, "only nodes carry data-node");
    // Once there are timeline marks, still only the nodes.
    let _ = until(3_000, || !all(&root, "[data-mark]").is_empty()).await;
    assert_eq!(all(&root, "[data-node]").len(), 5);
    for n in &nodes {
        assert!(
            ["LEADER", "FOLLOWER", "CANDIDATE", "DOWN"].contains(&attr(n, "data-state").as_str())
        );
        assert!(attr(n, "data-term").parse::<u64>().is_ok());
        assert!(n.has_attribute("data-vote-for"));
    }
    assert_eq!(attr(&nodes[0], "data-node"), "127.0.0.1:8848");
    assert!(root.query_selector("[data-clock-ms]").unwrap().is_some());
    assert!(root
        .query_selector("[data-testid=event-log]")
        .unwrap()
        .is_some());
    let v = one(&root, "[data-testid=violations]");
    assert_eq!(attr(&v, "data-count"), "0");
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn a_leader_is_elected_and_messages_fly() {
    let (h, root) = mount("seed=3&nodes=3&timings=fast&speed=100").await;
    let mut saw_msg = false;
    let ok = until(20_000, || {
        saw_msg |= !all(&root, "[data-msg]").is_empty();
        !all(&root, "[data-state=LEADER]").is_empty()
    })
    .await;
    assert!(ok, "no leader within 20 s");
    assert!(saw_msg, "no message was drawn in flight");
    for m in all(&root, "[data-msg]") {
        let k = attr(&m, "data-msg");
        assert!(
            [
                "vote",
                "vote-reply",
                "beat",
                "beat-reply",
                "peer",
                "peer-reply",
                "datum-get",
                "datum-reply",
                "commit",
                "commit-reply",
                "forward",
                "forward-reply",
                "delete-commit",
                "delete-commit-reply"
            ]
            .contains(&k.as_str()),
            "{k}"
        );
    }
    assert!(
        until(2_000, || !all(&root, "[data-testid=event-log] > li")
            .is_empty())
        .await
    );
    // The timeline marks the election and the leader.
    assert!(!all(&root, "[data-mark=leader]").is_empty());
    assert!(!all(&root, "[data-mark=election]").is_empty());
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn inspecting_and_crashing_a_node() {
    let (h, root) = mount("seed=5&nodes=3&timings=fast&speed=50").await;
    click(&one(&root, "[data-testid=play]"));
    yew::scheduler::flush().await;
    assert_eq!(
        attr(&one(&root, "[data-testid=play]"), "data-playing"),
        "false"
    );
    click(&one(&root, "[data-node='127.0.0.1:8849'] circle.body"));
    yew::scheduler::flush().await;
    let insp = one(&root, "[data-testid=node-inspector]");
    assert_eq!(attr(&insp, "data-node-index"), "1");
    let own = one(&root, "[data-testid=own-peer]").text_content().unwrap();
    assert!(own.contains("\"ip\": \"127.0.0.1:8849\""), "{own}");
    click(&one(&root, "[data-action=crash]"));
    yew::scheduler::flush().await;
    let b = one(&root, "[data-node='127.0.0.1:8849']");
    assert_eq!(attr(&b, "data-state"), "DOWN");
    // The action is in the URL, with its virtual time.
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(hash.contains(":crash:1"), "{hash}");
    // And on the timeline.
    assert!(!all(&root, "[data-mark=crash]").is_empty());
    click(&one(&root, "[data-action=restart]"));
    yew::scheduler::flush().await;
    assert_eq!(
        attr(&one(&root, "[data-node='127.0.0.1:8849']"), "data-state"),
        "FOLLOWER"
    );
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn stepping_and_stepping_back() {
    let (h, root) = mount("seed=9&nodes=5&timings=nacos&speed=10").await;
    click(&one(&root, "[data-testid=play]"));
    yew::scheduler::flush().await;
    let t0 = clock(&root);
    click(&one(&root, "[data-testid=step]"));
    yew::scheduler::flush().await;
    let t1 = clock(&root);
    assert!(t1 > t0, "{t1} > {t0}");
    click(&one(&root, "[data-testid=step]"));
    yew::scheduler::flush().await;
    let t2 = clock(&root);
    assert!(t2 > t1);
    click(&one(&root, "[data-testid=step-back]"));
    yew::scheduler::flush().await;
    let back = clock(&root);
    assert!(back < t2 && back >= t1, "{back} in [{t1}, {t2})");
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn a_message_shows_its_wire_payload_and_can_be_dropped() {
    let (h, root) = mount("seed=4&nodes=3&timings=fast&speed=20").await;
    let ok = until(20_000, || !all(&root, "[data-msg]").is_empty()).await;
    assert!(ok, "no message in flight");
    let m = all(&root, "[data-msg]").remove(0);
    let kind = attr(&m, "data-msg");
    click(&one(&m, ".msg-hit"));
    yew::scheduler::flush().await;
    let insp = one(&root, "[data-testid=msg-inspector]");
    assert_eq!(attr(&insp, "data-msg-kind"), kind);
    // Selecting a message pauses, so that it can be read.
    assert_eq!(
        attr(&one(&root, "[data-testid=play]"), "data-playing"),
        "false"
    );
    let payload = one(&root, "[data-testid=payload]").text_content().unwrap();
    if kind == "vote" || kind == "beat-reply" || kind == "vote-reply" {
        assert!(payload.starts_with("{\"ip\":\"127.0.0.1:88"), "{payload}");
    }
    // What the receiver will do is shown before it happens (unless the message dies on the way).
    if root
        .query_selector("[data-testid=on-arrival]")
        .unwrap()
        .is_some()
    {
        let before = one(&root, "[data-testid=on-arrival]")
            .text_content()
            .unwrap();
        assert!(!before.is_empty());
    }
    let drop = one(&root, "[data-action=drop]");
    assert!(!drop.has_attribute("disabled"));
    click(&drop);
    yew::scheduler::flush().await;
    assert!(one(&root, "[data-testid=msg-fate]")
        .text_content()
        .unwrap()
        .contains("dropped"));
    assert!(!all(&root, "[data-msg-failed]").is_empty());
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(hash.contains(":drop:"), "{hash}");
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn keyboard_shortcuts() {
    let (h, root) = mount("seed=2&nodes=4&timings=nacos&speed=10").await;
    key(" ");
    yew::scheduler::flush().await;
    assert_eq!(
        attr(&one(&root, "[data-testid=play]"), "data-playing"),
        "false"
    );
    let t0 = clock(&root);
    key(".");
    yew::scheduler::flush().await;
    assert!(clock(&root) > t0);
    key("+");
    yew::scheduler::flush().await;
    assert!(web_sys::window()
        .unwrap()
        .location()
        .hash()
        .unwrap()
        .contains("speed=20"));
    key("-");
    key("-");
    yew::scheduler::flush().await;
    assert!(web_sys::window()
        .unwrap()
        .location()
        .hash()
        .unwrap()
        .contains("speed=5"));
    key("?");
    yew::scheduler::flush().await;
    assert!(root
        .query_selector("[data-testid=help-dialog]")
        .unwrap()
        .is_some());
    key("Escape");
    yew::scheduler::flush().await;
    assert!(root
        .query_selector("[data-testid=help-dialog]")
        .unwrap()
        .is_none());
    key("2");
    yew::scheduler::flush().await;
    assert_eq!(
        attr(
            &one(&root, "[data-testid=node-inspector]"),
            "data-node-index"
        ),
        "1"
    );
    key("t");
    yew::scheduler::flush().await;
    assert!(web_sys::window()
        .unwrap()
        .location()
        .hash()
        .unwrap()
        .contains(":timeout:1"));
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn switching_language_is_remembered() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item("nacos-raft.lang", "en").unwrap();
    let (h, root) = mount("seed=2&nodes=3&timings=nacos&speed=10").await;
    let play = one(&root, "[data-testid=play]").text_content().unwrap();
    assert!(play.contains("Pause"), "{play}");
    click(&one(&root, "[data-testid=lang]"));
    yew::scheduler::flush().await;
    let play = one(&root, "[data-testid=play]").text_content().unwrap();
    assert!(play.contains("暂停"), "{play}");
    assert_eq!(
        storage.get_item("nacos-raft.lang").unwrap().as_deref(),
        Some(Lang::Zh.tag())
    );
    let states: Vec<String> = all(&root, ".state-word")
        .iter()
        .map(|e| e.text_content().unwrap())
        .collect();
    assert!(
        states
            .iter()
            .all(|s| s == "跟随者" || s == "候选者" || s == "领导者"),
        "{states:?}"
    );
    unmount(h, root).await;
    // A new page starts in the remembered language.
    let (h, root) = mount("seed=2&nodes=3&timings=nacos&speed=10").await;
    assert!(one(&root, "[data-testid=play]")
        .text_content()
        .unwrap()
        .contains("暂停"));
    storage.set_item("nacos-raft.lang", "en").unwrap();
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn clicking_an_event_travels_back_to_it() {
    let (h, root) = mount("seed=6&nodes=3&timings=fast&speed=200").await;
    assert!(
        until(20_000, || all(&root, "[data-testid=event-log] > li").len()
            > 3)
        .await
    );
    click(&one(&root, "[data-testid=play]"));
    yew::scheduler::flush().await;
    // Open the events tab and click the oldest shown event.
    let entries = all(&root, "[data-testid=event-log] > li");
    let last = entries.last().unwrap();
    let at: u64 = attr(last, "data-at-ms").parse().unwrap();
    click(last);
    yew::scheduler::flush().await;
    assert_eq!(clock(&root), at);
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn links_can_be_cut_one_way_and_a_partition_applied() {
    let (h, root) = mount("seed=8&nodes=5&timings=nacos&speed=10").await;
    click(&one(&root, "[data-testid=play]"));
    yew::scheduler::flush().await;
    click(&one(
        &root,
        "[data-hit=link][data-a='0'][data-b='1'] line.hit",
    ));
    yew::scheduler::flush().await;
    assert!(root
        .query_selector("[data-testid=link-inspector]")
        .unwrap()
        .is_some());
    click(&one(&root, "[data-action=cut-0-1]"));
    yew::scheduler::flush().await;
    let link = one(&root, "[data-hit=link][data-a='0'][data-b='1']");
    assert_eq!(attr(&link, "data-link-state"), "one-way");
    // Partition: move C, D and E to group 2 by tapping their chips, then apply.
    for i in 2..5 {
        let chip = one(&root, &format!("[data-chip='{i}']"));
        chip.dyn_ref::<HtmlElement>().unwrap().click();
        yew::scheduler::flush().await;
    }
    click(&one(&root, "[data-action=apply-partition]"));
    yew::scheduler::flush().await;
    let l = one(&root, "[data-hit=link][data-a='1'][data-b='2']");
    assert_eq!(attr(&l, "data-link-state"), "cut");
    let l = one(&root, "[data-hit=link][data-a='2'][data-b='3']");
    assert_eq!(attr(&l, "data-link-state"), "open");
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(
        hash.contains(":cut:0-1") && hash.contains(":part:00111"),
        "{hash}"
    );
    click(&one(&root, "[data-action=heal-all]"));
    yew::scheduler::flush().await;
    assert_eq!(
        all(&root, "[data-link-state=cut], [data-link-state=one-way]").len(),
        0
    );
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn a_scenario_loads_with_its_caption_and_story() {
    let (h, root) = mount("scenario=leader-crash").await;
    let cap = one(&root, "[data-testid=caption]");
    assert_eq!(attr(&cap, "data-scenario"), "leader-crash");
    // The whole story was simulated ahead: its crash is on the timeline already.
    assert!(!all(&root, "[data-mark=crash]").is_empty());
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(
        hash.contains("seed=12")
            && hash.contains(":crash:")
            && hash.contains("scenario=leader-crash"),
        "{hash}"
    );
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn a_violation_pauses_and_is_flagged() {
    // The two-leaders preset partitions the cluster: the monitor sees two LEADERs at once.
    let (h, root) = mount("scenario=two-leaders").await;
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    let h2 = hash
        .trim_start_matches('#')
        .replace("speed=10", "speed=1000");
    unmount(h, root).await;
    let (h, root) = mount(&h2).await;
    let ok = until(30_000, || {
        attr(&one(&root, "[data-testid=violations]"), "data-count") != "0"
    })
    .await;
    assert!(ok, "no violation flagged");
    yew::scheduler::flush().await;
    assert!(
        until(2_000, || attr(
            &one(&root, "[data-testid=play]"),
            "data-playing"
        ) == "false")
        .await
    );
    assert!(!all(&root, "[data-mark=violation]").is_empty());
    assert!(!all(&root, ".node.hot").is_empty());
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn the_space_time_diagram_shows_messages_and_selects_them() {
    let (h, root) = mount("seed=12&nodes=5&timings=fast&speed=100").await;
    assert!(until(20_000, || !all(&root, "[data-state=LEADER]").is_empty()).await);
    click(&one(&root, "[data-testid=play]"));
    click(&one(&root, "[data-tab=lanes]"));
    yew::scheduler::flush().await;
    let lines = all(&root, "[data-testid=spacetime] [data-st-kind]");
    assert!(lines.len() > 5, "{}", lines.len());
    assert!(lines.iter().any(|l| attr(l, "data-st-kind") == "vote"));
    let id = attr(&lines[0], "data-msg-id");
    click(&one(&lines[0], ".st-hit"));
    yew::scheduler::flush().await;
    let sel = one(&root, "[data-testid=spacetime] .st-msg.selected");
    assert_eq!(attr(&sel, "data-msg-id"), id);
    // The message inspector has it too.
    click(&one(&root, "[data-tab=inspect]"));
    yew::scheduler::flush().await;
    assert!(root
        .query_selector("[data-testid=msg-inspector]")
        .unwrap()
        .is_some());
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn a_vote_shows_what_its_receiver_will_decide() {
    let (h, root) = mount("seed=6&nodes=3&timings=nacos&speed=10").await;
    click(&one(&root, "[data-testid=play]"));
    yew::scheduler::flush().await;
    let mut found = None;
    for _ in 0..400 {
        if let Some(v) = all(&root, "[data-msg=vote]").into_iter().next() {
            found = Some(v);
            break;
        }
        click(&one(&root, "[data-testid=step]"));
        yew::scheduler::flush().await;
    }
    let v = found.expect("a vote in flight");
    // The candidate shows its tally as decideLeader counts it (its own vote at least).
    let tally = one(&root, "[data-state=CANDIDATE] .tallies");
    assert!(attr(&tally, "data-votes").parse::<usize>().unwrap() >= 1);
    // Nodes are in the tab order; Enter on one selects it.
    let node = one(&root, "[data-node='127.0.0.1:8849']");
    assert_eq!(attr(&node, "tabindex"), "0");
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    node.dispatch_event(
        &web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
    )
    .unwrap();
    yew::scheduler::flush().await;
    assert_eq!(
        attr(
            &one(&root, "[data-testid=node-inspector]"),
            "data-node-index"
        ),
        "1"
    );
    click(&one(&v, ".msg-hit"));
    yew::scheduler::flush().await;
    let text = one(&root, "[data-testid=on-arrival]")
        .text_content()
        .unwrap();
    assert!(
        text.contains("votes for") || text.contains("refuses the vote"),
        "{text}"
    );
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn acting_in_the_past_forks_and_the_old_branch_can_be_shown_again() {
    let (h, root) = mount("seed=6&nodes=3&timings=fast&speed=200").await;
    assert!(
        until(20_000, || all(&root, "[data-testid=event-log] > li").len()
            > 5)
        .await
    );
    click(&one(&root, "[data-testid=play]"));
    yew::scheduler::flush().await;
    let end = clock(&root);
    // Travel back to an early event, then act there: a new branch starts.
    let entries = all(&root, "[data-testid=event-log] > li");
    click(entries.last().unwrap());
    yew::scheduler::flush().await;
    let past = clock(&root);
    assert!(past < end);
    key("1");
    yew::scheduler::flush().await;
    click(&one(&root, "[data-action=isolate]"));
    yew::scheduler::flush().await;
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(hash.contains(&format!("{past}:isolate:0")), "{hash}");
    let branches = one(&root, "[data-testid=branches]");
    let button = branches.query_selector("button.branch").unwrap().unwrap();
    click(&button);
    yew::scheduler::flush().await;
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(!hash.contains("isolate"), "{hash}");
    assert_eq!(clock(&root), past);
    unmount(h, root).await;
}

#[wasm_bindgen_test]
async fn jumping_from_mark_to_mark() {
    // The actions are simulated ahead on load, so their marks (and the elections before them)
    // are on the timeline from the start.
    let (h, root) =
        mount("seed=2&nodes=4&timings=nacos&speed=10&actions=20000:timeout:1,40000:crash:0").await;
    click(&one(&root, "[data-testid=play]"));
    yew::scheduler::flush().await;
    let now = clock(&root);
    let mut marks: Vec<u64> = all(&root, "[data-mark]")
        .iter()
        .map(|m| attr(m, "data-at-ms").parse().unwrap())
        .filter(|t| *t > now)
        .collect();
    marks.sort_unstable();
    marks.dedup();
    assert!(
        marks.contains(&20_000) && marks.contains(&40_000),
        "{marks:?}"
    );
    click(&one(&root, "[data-testid=next-mark]"));
    yew::scheduler::flush().await;
    assert_eq!(clock(&root), marks[0]);
    key("]");
    yew::scheduler::flush().await;
    assert_eq!(clock(&root), marks[1]);
    key("[");
    yew::scheduler::flush().await;
    assert_eq!(clock(&root), marks[0]);
    unmount(h, root).await;
}
