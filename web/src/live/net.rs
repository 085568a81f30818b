//! The browser side of live mode: one `EventSource` per node, `fetch` for the fault API and the
//! page's writes, the remembered addresses, the wall clock. Every handle that holds a JS
//! callback releases it when dropped.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const ADDRS_KEY: &str = "nacos-raft.live";

fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

/// Wall-clock ms (the clock the nodes' `at_ms` are in).
pub fn wall_ms() -> f64 {
    js_sys::Date::now()
}

/// The addresses remembered by the Connect dialog.
pub fn stored_addrs() -> Option<String> {
    window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(ADDRS_KEY).ok().flatten())
}

/// Remembers the addresses.
pub fn store_addrs(list: &str) {
    if let Some(s) = window().local_storage().ok().flatten() {
        let _ = s.set_item(ADDRS_KEY, list);
    }
}

/// One node's event stream, closed when dropped.
pub struct Stream {
    es: web_sys::EventSource,
    _open: Closure<dyn FnMut(web_sys::Event)>,
    _msg: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _err: Closure<dyn FnMut(web_sys::Event)>,
}

impl Stream {
    /// Opens `http://<addr>/nacos-raft/v1/events?batch=1&payload_cap=<PAYLOAD_CAP>`: payloads cut
    /// at the page's cap, and `on_records` gets each SSE message,
    /// the records the node gathered into one write, one per line (a node that does not batch
    /// sends one record per message). `on_error` is called when the stream drops or cannot
    /// open; the stream is then closed (the caller reconnects with its own backoff, not the
    /// browser's fixed one).
    pub fn open(
        addr: &str,
        on_open: impl Fn() + 'static,
        on_records: impl Fn(String) + 'static,
        on_error: impl Fn() + 'static,
    ) -> Result<Stream, String> {
        let url = format!(
            "http://{addr}/nacos-raft/v1/events?batch=1&payload_cap={}",
            super::model::PAYLOAD_CAP
        );
        let es = web_sys::EventSource::new(&url).map_err(|e| format!("{e:?}"))?;
        let open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| on_open());
        let msg =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(s) = e.data().as_string() {
                    on_records(s);
                }
            });
        let es2 = es.clone();
        let err = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            es2.close();
            on_error();
        });
        es.set_onopen(Some(open.as_ref().unchecked_ref()));
        es.set_onmessage(Some(msg.as_ref().unchecked_ref()));
        es.set_onerror(Some(err.as_ref().unchecked_ref()));
        Ok(Stream {
            es,
            _open: open,
            _msg: msg,
            _err: err,
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.es.set_onopen(None);
        self.es.set_onmessage(None);
        self.es.set_onerror(None);
        self.es.close();
    }
}

/// What a POST came back with: the status and the body, or why there was no answer.
pub type Answer = Result<(u16, String), String>;

/// `POST url` (CORS: the node answers allowed origins), then `done`.
pub fn post(url: String, done: impl FnOnce(Answer) + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        done(post_async(&url, web_sys::RequestMode::Cors).await);
    });
}

/// `POST url` without reading the answer (`no-cors`: for Nacos' own endpoints, which do not
/// answer CORS; the page learns the outcome from the streams).
pub fn post_blind(url: String, done: impl FnOnce(Result<(), String>) + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        done(
            post_async(&url, web_sys::RequestMode::NoCors)
                .await
                .map(|_| ()),
        );
    });
}

async fn post_async(url: &str, mode: web_sys::RequestMode) -> Answer {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(mode);
    let p = window().fetch_with_str_and_init(url, &init);
    let resp: web_sys::Response = JsFuture::from(p)
        .await
        .map_err(js_text)?
        .dyn_into()
        .map_err(js_text)?;
    let status = resp.status();
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok((status, text))
}

fn js_text(v: JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "network error".into())
}
