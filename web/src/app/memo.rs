//! Subtrees redrawn only when what they show changed. The page renders every animation frame;
//! parts that rarely change (the event log, the safety monitor, the links, the timeline's marks)
//! would otherwise be rebuilt and diffed against the DOM each time. A [`Memo`] whose props are
//! unchanged is skipped by Yew entirely, and a [`MemoCache`] keeps the last `Html` built for each
//! slot so that the caller builds it again only when its version moves.
//!
//! Every such part that keeps no state is one variant of [`MemoView`] under the one component
//! type [`Memo`]: Yew generates the lifecycle code per component type, ~2-3 KB of wasm each, and
//! these parts need nothing of a component but the props comparison (issue 14, the page's
//! size). None of them keeps state: what the panels' forms hold lives in the page's state
//! ([`super::Forms`]), since a hook's state would belong to a component instance.

use super::panels::{
    data_view, event_log, help, lanes_view, network, node_inspector, safety, scenarios, selected,
    DataProps, HelpProps, LanesProps, LogProps, NetProps, NodeProps, SafetyProps, ScenarioProps,
    SelectedProps,
};
use super::ring::{links, LinksProps};
use super::timeline::{marks, timeline, MarksProps, Props as TimelineProps};
use std::cell::RefCell;
use yew::prelude::*;

/// Built `Html` and the version it was built at: equal when the versions are.
#[derive(Clone, Properties)]
struct Built {
    /// Changes whenever `html` would be built differently.
    version: u64,
    /// What to show.
    html: Html,
}

impl PartialEq for Built {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
    }
}

/// What [`MemoCache`] built, skipped by Yew while its version stays. A component of its own
/// rather than a [`MemoView`] variant: only live mode uses it, and a variant would bring every
/// panel of the simulator's page into live mode's binary through [`Memo`] (issue 14).
#[function_component(Kept)]
fn kept(b: &Built) -> Html {
    b.html.clone()
}

/// What a [`Memo`] draws, with the inputs it is drawn from.
#[derive(Clone, PartialEq)]
pub enum MemoView {
    /// The safety monitor.
    Safety(SafetyProps),
    /// The event log.
    Log(LogProps),
    /// The space-time diagram.
    Lanes(LanesProps),
    /// The Scenarios tab.
    Scenarios(ScenarioProps),
    /// The help dialog.
    Help(HelpProps),
    /// A message's or a link's inspector.
    Selected(SelectedProps),
    /// A node's inspector.
    Node(NodeProps),
    /// The Network tab.
    Network(NetProps),
    /// The data matrix.
    Data(DataProps),
    /// The timeline under the ring.
    Timeline(TimelineProps),
    /// The timeline's marks.
    Marks(MarksProps),
    /// The links between the ring's nodes.
    Links(LinksProps),
}

/// The props of [`Memo`].
#[derive(Properties, PartialEq)]
pub struct MemoProps {
    /// The part and its inputs: it renders again only when they change.
    pub view: MemoView,
}

/// Draws `view`; re-rendered only when it changes.
#[function_component(Memo)]
pub fn memo(p: &MemoProps) -> Html {
    match &p.view {
        MemoView::Safety(x) => safety(x),
        MemoView::Log(x) => event_log(x),
        MemoView::Lanes(x) => lanes_view(x),
        MemoView::Scenarios(x) => scenarios(x),
        MemoView::Help(x) => help(x),
        MemoView::Selected(x) => selected(x),
        MemoView::Node(x) => node_inspector(x),
        MemoView::Network(x) => network(x),
        MemoView::Data(x) => data_view(x),
        MemoView::Timeline(x) => timeline(x),
        MemoView::Marks(x) => marks(x),
        MemoView::Links(x) => links(x),
    }
}

/// A version from the parts a subtree depends on (FNV-1a over their 64-bit values).
pub fn version(parts: &[u64]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325, |h, &p| {
        (h ^ p).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The last `Html` built per slot, with its version.
#[derive(Default)]
pub struct MemoCache(RefCell<Vec<Option<(u64, Html)>>>);

impl MemoCache {
    /// A [`Memo`] of slot `slot` at `version`, built by `build` only if the slot holds another
    /// version (or nothing).
    pub fn get(&self, slot: usize, version: u64, build: impl FnOnce() -> Html) -> Html {
        let mut c = self.0.borrow_mut();
        if c.len() <= slot {
            c.resize(slot + 1, None);
        }
        let html = match &c[slot] {
            Some((v, h)) if *v == version => h.clone(),
            _ => {
                let h = build();
                c[slot] = Some((version, h.clone()));
                h
            }
        };
        html! { <Kept {version} {html} /> }
    }
}
