//! Thin wrappers over the browser: storage, the location hash, the clipboard, downloads,
//! media queries, event listeners and the animation clock. Every handle that holds a JS callback
//! cancels it when dropped.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

const LANG_KEY: &str = "nacos-raft.lang";

fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

/// The stored language, if any.
pub fn stored_lang() -> Option<String> {
    window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(LANG_KEY).ok().flatten())
}

/// Remembers the language.
pub fn store_lang(tag: &str) {
    if let Some(s) = window().local_storage().ok().flatten() {
        let _ = s.set_item(LANG_KEY, tag);
    }
    if let Some(root) = window().document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("lang", tag);
    }
}

/// `navigator.language`.
pub fn browser_lang() -> String {
    window().navigator().language().unwrap_or_default()
}

/// The location hash without `#`.
pub fn hash() -> String {
    let h = window().location().hash().unwrap_or_default();
    h.strip_prefix('#').unwrap_or(&h).to_string()
}

/// Goes to the other page of the site (`page`, relative: `live/` or `../`) with this page's hash,
/// as a new history entry (Back returns). The simulator and live mode are two pages, each
/// with its own wasm (issue 14), and a hash of the other one's is followed there.
pub fn go_to(page: &str) {
    let w = window();
    let h = w.location().hash().unwrap_or_default();
    let _ = w.location().assign(&format!("{page}{h}"));
}

/// Replaces the hash without adding a history entry or firing `hashchange`.
pub fn replace_hash(h: &str) {
    let w = window();
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{h}")));
    }
}

/// The page address without the hash.
pub fn href_without_hash() -> String {
    let href = window().location().href().unwrap_or_default();
    match href.find('#') {
        Some(i) => href[..i].to_string(),
        None => href,
    }
}

/// Whether a media query matches.
pub fn media(query: &str) -> bool {
    window()
        .match_media(query)
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// The text of the `<input>` an input event came from.
pub fn input_value(e: &yew::InputEvent) -> String {
    use yew::TargetCast;
    let el: web_sys::HtmlInputElement = e.target_unchecked_into();
    el.value()
}

/// `performance.now()`.
pub fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// A random seed from the browser's crypto source (a u32, so that links stay short).
pub fn random_seed() -> u64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return (now_ms() as u64) ^ 0x5eed;
    }
    u64::from(u32::from_le_bytes(b))
}

/// Copies `text`; `done(true)` on success.
pub fn copy(text: &str, done: impl FnOnce(bool) + 'static) {
    let p = window().navigator().clipboard().write_text(text);
    wasm_bindgen_futures::spawn_local(async move {
        let ok = wasm_bindgen_futures::JsFuture::from(p).await.is_ok();
        done(ok);
    });
}

/// Offers `text` as a file download.
pub fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(doc) = window().document() {
        if let Ok(a) = doc.create_element("a") {
            let a: web_sys::HtmlAnchorElement = a.unchecked_into();
            a.set_href(&url);
            a.set_download(name);
            a.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// An event listener removed when dropped.
pub struct Listener {
    target: web_sys::EventTarget,
    kind: &'static str,
    f: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    /// Listens to `kind` events on the window.
    pub fn window(kind: &'static str, f: impl FnMut(web_sys::Event) + 'static) -> Listener {
        let target: web_sys::EventTarget = window().into();
        let f = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        let _ = target.add_event_listener_with_callback(kind, f.as_ref().unchecked_ref());
        Listener { target, kind, f }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.f.as_ref().unchecked_ref());
    }
}

type FrameSlot = std::rc::Rc<std::cell::RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// The animation clock: calls back once per display frame with the frame's timestamp, until
/// dropped.
pub struct FrameLoop {
    id: std::rc::Rc<std::cell::Cell<i32>>,
    _f: FrameSlot,
}

impl FrameLoop {
    /// Starts the loop. `tick` returns whether to keep going.
    pub fn start(mut tick: impl FnMut(f64) -> bool + 'static) -> FrameLoop {
        let id = std::rc::Rc::new(std::cell::Cell::new(0));
        let slot: FrameSlot = std::rc::Rc::new(std::cell::RefCell::new(None));
        let weak = std::rc::Rc::downgrade(&slot);
        let id2 = id.clone();
        *slot.borrow_mut() = Some(Closure::new(move |ts: f64| {
            if !tick(ts) {
                return;
            }
            if let Some(s) = weak.upgrade() {
                if let Some(f) = s.borrow().as_ref() {
                    if let Ok(i) = window().request_animation_frame(f.as_ref().unchecked_ref()) {
                        id2.set(i);
                    }
                }
            }
        }));
        if let Some(f) = slot.borrow().as_ref() {
            if let Ok(i) = window().request_animation_frame(f.as_ref().unchecked_ref()) {
                id.set(i);
            }
        }
        FrameLoop { id, _f: slot }
    }
}

impl Drop for FrameLoop {
    fn drop(&mut self) {
        let _ = window().cancel_animation_frame(self.id.get());
    }
}

/// Records frame work durations in `window.__nacosRaftFrames` (read by the benchmark).
pub fn record_frame(ms: f64) {
    let w = window();
    let key = JsValue::from_str("__nacosRaftFrames");
    let arr = match js_sys::Reflect::get(&w, &key) {
        Ok(v) if v.is_instance_of::<js_sys::Array>() => v.unchecked_into::<js_sys::Array>(),
        _ => {
            let a = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&w, &key, &a);
            a
        }
    };
    if arr.length() < 100_000 {
        arr.push(&JsValue::from_f64(ms));
    }
}

/// The closest ancestor-or-self of an event's target that matches `selector`.
pub fn closest(e: &web_sys::Event, selector: &str) -> Option<web_sys::Element> {
    e.target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest(selector)
        .ok()
        .flatten()
}

/// Whether the event's target is a text field (keyboard shortcuts then stay out of the way).
pub fn in_text_field(e: &web_sys::Event) -> bool {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| {
            let tag = el.tag_name().to_ascii_lowercase();
            tag == "input" || tag == "textarea" || tag == "select"
        })
}

// Starts, restarts or stops the browser animations the last render asked for on the elements
// `sel` (a CSS selector) finds. An element's `data-anim="from|to|start|duration"` moves it
// linearly from the CSS transform `from` to `to` over `duration` ms from `start` (page wall-clock
// ms, `Date.now()`'s clock, maybe past or to come); its own attributes draw it as it ends, so the
// animation fills backwards only and a finished one is out of effect. What was started is kept
// in `data-anim-on`, so an unchanged request costs no call, and a request taken away stops its
// animation. `visibility`, a property the compositor cannot animate, keeps the animations on the
// main thread: dozens of composited SVG animations made every frame slower in headless Chromium.
// In JavaScript: the same in Rust through js-sys made the gzipped page about 0.5 KB larger.
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "export function sync_anims(sel) {
  const off = Date.now() - performance.now();
  for (const el of document.querySelectorAll(sel)) {
    const want = el.getAttribute('data-anim');
    if (want === el.getAttribute('data-anim-on')) continue;
    if (el.__anim) el.__anim.cancel();
    el.__anim = null;
    if (want === null) { el.removeAttribute('data-anim-on'); continue; }
    const [a, b, t, d] = want.split('|');
    const k = (v) => ({ transform: v, visibility: 'visible' });
    el.__anim = el.animate([k(a), k(b)], { duration: Math.max(1, +d), fill: 'backwards' });
    el.__anim.startTime = t - off;
    el.setAttribute('data-anim-on', want);
  }
}")]
extern "C" {
    /// Plays the `data-anim` requests of the elements `sel` finds (see above); the browser
    /// then moves them every frame with no script and no render.
    pub fn sync_anims(sel: &str);
}
