//! A subtree redrawn only when what it shows changed. The page renders every animation frame;
//! parts that rarely change (the event log, the safety monitor) would otherwise be rebuilt and
//! diffed against the DOM each time. A [`Memo`] whose `version` is unchanged is skipped by Yew
//! entirely (its props compare equal), and a [`MemoCache`] keeps the last `Html` built for each
//! slot so that the caller builds it again only when its version moves.

use std::cell::RefCell;
use yew::prelude::*;

/// The props of [`Memo`]: equal when their versions are.
#[derive(Properties)]
pub struct MemoProps {
    /// Changes whenever `html` would be built differently.
    pub version: u64,
    /// What to show.
    pub html: Html,
}

impl PartialEq for MemoProps {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
    }
}

/// Shows `html`; re-rendered only when `version` changes.
#[function_component(Memo)]
pub fn memo(p: &MemoProps) -> Html {
    p.html.clone()
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
        html! { <Memo {version} {html} /> }
    }
}
