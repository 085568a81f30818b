//! The fault API, `/nacos-raft/v1/faults[/ACTION]` (`docs/live.md`). Without `--faults` every
//! call is refused with 403. Bad input is a 400 that says what was wrong and changes nothing;
//! every successful call answers the active faults and writes a `faults` record.

use super::faults::{FaultView, Latency, MAX_LATENCY_MS};
use super::Live;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::collections::BTreeSet;

/// The text of every fault call on a node started without `--faults`.
pub const DISABLED: &str = "faults are disabled: start the node with --faults to allow them";

pub(super) fn routes() -> Router<Live> {
    Router::new()
        .route("/nacos-raft/v1/faults", any(list))
        .route("/nacos-raft/v1/faults/{action}", any(act))
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut body = body.into();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json(view: &FaultView) -> Response {
    let mut r = (StatusCode::OK, super::record::to_json(view)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

async fn list(State(live): State<Live>, method: Method) -> Response {
    if !live.0.faults.enabled() {
        return text(StatusCode::FORBIDDEN, DISABLED);
    }
    if method != Method::GET {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} /nacos-raft/v1/faults: only GET lists the faults; actions are POST /nacos-raft/v1/faults/ACTION"),
        );
    }
    json(&live.faults())
}

/// A refused call: status and text.
type Refusal = (StatusCode, String);

fn bad(msg: impl Into<String>) -> Refusal {
    (StatusCode::BAD_REQUEST, msg.into())
}

const ACTIONS: &str = "cut, heal, isolate, heal-all, loss, latency, crash, restart, timeout-now";

async fn act(
    State(live): State<Live>,
    method: Method,
    Path(action): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !live.0.faults.enabled() {
        return text(StatusCode::FORBIDDEN, DISABLED);
    }
    match apply(&live, &method, &action, query.as_deref().unwrap_or("")).await {
        Ok(view) => {
            live.on_faults(&view);
            json(&view)
        }
        Err((status, msg)) => text(status, msg),
    }
}

/// The query's parameters; each may appear once and must be one of `allowed`.
fn params(query: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, Refusal> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(bad(if allowed.is_empty() {
                format!("unknown parameter {k:?}: this action takes none")
            } else {
                format!("unknown parameter {k:?}: expected {}", allowed.join(", "))
            }));
        }
        if out.iter().any(|(x, _)| *x == k) {
            return Err(bad(format!("parameter {k:?} given twice")));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn get<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Which directions a cut or heal concerns: (out, in).
fn direction(p: &[(String, String)]) -> Result<(bool, bool), Refusal> {
    match get(p, "dir").unwrap_or("both") {
        "out" => Ok((true, false)),
        "in" => Ok((false, true)),
        "both" => Ok((true, true)),
        other => Err(bad(format!("dir must be out, in or both, not {other:?}"))),
    }
}

fn peer(live: &Live, p: &[(String, String)]) -> Result<String, Refusal> {
    let peer = get(p, "peer").ok_or_else(|| bad("peer is required: peer=HOST:PORT, a member"))?;
    if peer == live.0.me {
        return Err(bad(format!(
            "peer {peer} is this node itself: name another member"
        )));
    }
    if !live.0.members.iter().any(|m| m == peer) {
        return Err(bad(format!(
            "unknown peer {peer:?}: the members are {}",
            live.0.members.join(", ")
        )));
    }
    Ok(peer.to_string())
}

/// A whole number of milliseconds (or percent) within `[0, max]`.
fn number(p: &[(String, String)], name: &str, unit: &str, max: u64) -> Result<u64, Refusal> {
    let v = get(p, name).ok_or_else(|| bad(format!("{name} is required ({unit})")))?;
    let n: i128 = v.trim().parse().map_err(|_| {
        bad(format!(
            "{name} must be a whole number of {unit}, not {v:?}"
        ))
    })?;
    if n < 0 {
        return Err(bad(format!("{name} must not be negative: {n} {unit}")));
    }
    if n > i128::from(max) {
        return Err(bad(format!("{name} must be at most {max} {unit}, not {n}")));
    }
    Ok(n as u64)
}

async fn apply(
    live: &Live,
    method: &Method,
    action: &str,
    query: &str,
) -> Result<FaultView, Refusal> {
    if !matches!(
        action,
        "cut"
            | "heal"
            | "isolate"
            | "heal-all"
            | "loss"
            | "latency"
            | "crash"
            | "restart"
            | "timeout-now"
    ) {
        return Err((
            StatusCode::NOT_FOUND,
            format!("unknown fault {action:?}: the actions are {ACTIONS}"),
        ));
    }
    if method != Method::POST {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} /nacos-raft/v1/faults/{action}: fault actions are POST"),
        ));
    }
    let faults = &live.0.faults;
    let others = || -> BTreeSet<String> {
        live.0
            .members
            .iter()
            .filter(|m| **m != live.0.me)
            .cloned()
            .collect()
    };
    Ok(match action {
        "cut" | "heal" => {
            let p = params(query, &["peer", "dir"])?;
            let peer = peer(live, &p)?;
            let (out, inn) = direction(&p)?;
            let cut = action == "cut";
            faults.update(|s| {
                for (on, set) in [(out, &mut s.cut_out), (inn, &mut s.cut_in)] {
                    if on {
                        if cut {
                            set.insert(peer.clone());
                        } else {
                            set.remove(&peer);
                        }
                    }
                }
            })
        }
        "isolate" => {
            params(query, &[])?;
            let all = others();
            faults.update(|s| {
                s.cut_out = all.clone();
                s.cut_in = all;
            })
        }
        "heal-all" => {
            params(query, &[])?;
            faults.update(|s| {
                s.cut_out.clear();
                s.cut_in.clear();
                s.loss_pct = 0;
                s.latency_ms = None;
            })
        }
        "loss" => {
            let p = params(query, &["pct"])?;
            let pct = number(&p, "pct", "percent", 100)? as u8;
            faults.update(|s| s.loss_pct = pct)
        }
        "latency" => {
            let p = params(query, &["min", "max"])?;
            let min = number(&p, "min", "ms", MAX_LATENCY_MS)?;
            let max = match get(&p, "max") {
                Some(_) => number(&p, "max", "ms", MAX_LATENCY_MS)?,
                None => min,
            };
            if min > max {
                return Err(bad(format!(
                    "min must not exceed max: min={min} ms, max={max} ms"
                )));
            }
            faults.update(|s| {
                s.latency_ms = (max > 0).then_some(Latency { min, max });
            })
        }
        "crash" => {
            params(query, &[])?;
            live.crash()
                .await
                .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))?;
            live.faults()
        }
        "restart" => {
            params(query, &[])?;
            live.restart().await.map_err(|e| {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("restart failed: {e}"),
                )
            })?;
            live.faults()
        }
        _ => {
            params(query, &[])?;
            if faults.crashed() {
                return Err((
                    StatusCode::CONFLICT,
                    "the node is crashed: restart it first (POST /nacos-raft/v1/faults/restart)"
                        .into(),
                ));
            }
            let h = live.handle().ok_or((
                StatusCode::SERVICE_UNAVAILABLE,
                "the node is not started yet".to_string(),
            ))?;
            h.timeout_now()
                .await
                .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.message))?;
            live.faults()
        }
    })
}
