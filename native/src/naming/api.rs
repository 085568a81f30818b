//! The HTTP handlers of the naming API under `/nacos/v1/ns/` (Java's context path `/nacos`).
//! Answers are never compressed (the Node.js client does not inflate them).

use super::model::{self, ListQuery};
use super::params::{self, ApiError, Params};
use super::{
    check_keys, check_names, json, now_ms, parse_service, Naming, EPHEMERAL_REFUSED,
    FORWARDED_HEADER, LEADER_TERM_HEADER,
};
use crate::codec;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use nacos_raft_core::key;
use nacos_raft_core::naming::{self as nm, Cluster, Service};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

const BASE: &str = "/nacos/v1/ns";

/// The routes of the naming API, to be merged into the node's router.
pub fn router<S: Clone + Send + Sync + 'static>(n: Naming) -> Router<S> {
    let limit = n.settings().max_body;
    Router::new()
        .route(
            &format!("{BASE}/instance"),
            post(register).delete(deregister).put(update).get(detail),
        )
        .route(&format!("{BASE}/instance/list"), get(list))
        .route(&format!("{BASE}/instance/beat"), axum::routing::put(beat))
        .route(&format!("{BASE}/instance/statuses"), get(statuses))
        .route(
            &format!("{BASE}/service"),
            post(create_service)
                .delete(remove_service)
                .put(update_service)
                .get(service_detail),
        )
        .route(&format!("{BASE}/service/list"), get(service_list))
        .route(&format!("{BASE}/service/status"), post(service_status))
        .route(&format!("{BASE}/operator/metrics"), get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(n)
}

type Answer = Result<Response, ApiError>;

fn ok() -> Answer {
    Ok(text(StatusCode::OK, "ok".into()))
}

fn text(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    r
}

fn json_answer(body: String) -> Answer {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(codec::JSON_UTF8),
    );
    Ok(r)
}

fn finish(a: Answer) -> Response {
    match a {
        Ok(r) => r,
        Err(e) => text(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.body,
        ),
    }
}

fn params(q: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Params {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Params::parse(q, ct, body)
}

/// `WebUtils.getUserAgent`: `User-Agent`, else `Client-Version`; for a write a follower handed
/// over, the client's agent it carried.
fn user_agent(headers: &HeaderMap) -> String {
    if let Some(agent) = headers.get(FORWARDED_HEADER).and_then(|v| v.to_str().ok()) {
        return agent.to_string();
    }
    let get = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    get("user-agent")
        .or_else(|| get("client-version"))
        .unwrap_or_default()
}

/// Everything a handler gets.
struct Req {
    n: Naming,
    p: Params,
    headers: HeaderMap,
}

/// A handler. With a method: an instance write, which under the hardened rules a follower hands
/// to its leader as it came ([`Naming::writes_go_to`]); carried out here otherwise, or when it
/// was handed over already.
macro_rules! handler {
    ($name:ident, $body:ident) => {
        handler!($name, $body, None);
    };
    ($name:ident, $body:ident, $to_leader:expr) => {
        async fn $name(
            State(n): State<Naming>,
            headers: HeaderMap,
            RawQuery(q): RawQuery,
            body: Bytes,
        ) -> Response {
            let p = params(q.as_deref(), &headers, &body);
            let method: Option<&'static str> = $to_leader;
            if let Err(e) = addressed_here(&n, method, &headers).await {
                return finish(Err(e));
            }
            if let Some(method) = method.filter(|_| !headers.contains_key(FORWARDED_HEADER)) {
                if let Some(answer) = to_leader(&n, &p, method, q, &headers, &body).await {
                    return answer;
                }
            }
            finish($body(Req { n, p, headers }, body).await)
        }
    };
}

/// An instance write handed over naming a leader term is carried out only by the leader of
/// that term (`stale-forward`): the follower that handed it may have given up on it, and TCP
/// can deliver it late, after newer writes.
async fn addressed_here(
    n: &Naming,
    method: Option<&'static str>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Some(term) = method.and_then(|_| headers.get(LEADER_TERM_HEADER)) else {
        return Ok(());
    };
    let term = term
        .to_str()
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ApiError::bad_request(format!("{LEADER_TERM_HEADER} is not a term")))?;
    n.addressed_here(term).await
}

/// The leader's answer to this instance write, or `None` to carry it out here.
async fn to_leader(
    n: &Naming,
    p: &Params,
    method: &'static str,
    q: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    // A request without a valid service name gets its error here, as before.
    let svc = p.grouped_service().ok()?;
    let (leader, leader_term) = n.writes_go_to().await?;
    // The marker carries the client's agent: what `PUT /instance` does depends on it.
    let mut out_headers = vec![(FORWARDED_HEADER, user_agent(headers))];
    if let Some(term) = leader_term {
        out_headers.push((LEADER_TERM_HEADER, term.to_string()));
    }
    if let Some(v) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        out_headers.push(("Content-Type", v.to_string()));
    }
    let path_and_query = match q {
        Some(q) => format!("{BASE}/instance?{q}"),
        None => format!("{BASE}/instance"),
    };
    let out = codec::Outbound {
        method,
        path_and_query,
        headers: out_headers,
        body: body.clone(),
    };
    let key = key::iplist_key(&p.namespace(), &svc);
    Some(match n.write_at_leader(&leader, &out, key).await {
        Ok((status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            text(status, String::from_utf8_lossy(&body).into_owned())
        }
        Err(e) => finish(Err(e)),
    })
}

handler!(register, do_register, Some("POST"));
handler!(deregister, do_deregister, Some("DELETE"));
handler!(update, do_update, Some("PUT"));
handler!(detail, do_detail);
handler!(list, do_list);
handler!(beat, do_beat);
handler!(statuses, do_statuses);
handler!(create_service, do_create_service);
handler!(remove_service, do_remove_service);
handler!(update_service, do_update_service);
handler!(service_detail, do_service_detail);
handler!(service_list, do_service_list);
handler!(service_status, do_service_status);
handler!(metrics, do_metrics);

// ---- instances ---------------------------------------------------------------------------

/// `POST /instance` (`InstanceController.register`, `InstanceController.java:125`).
async fn do_register(r: Req, _: Bytes) -> Answer {
    let ns = r.p.namespace();
    let svc = r.p.grouped_service()?;
    let switch = r.n.switch().await;
    let instance = params::parse_instance(&r.p, switch.default_instance_ephemeral, now_ms())?;
    if instance.ephemeral {
        return Err(ApiError::bad_request(EPHEMERAL_REFUSED));
    }
    check_names(&svc, Some(instance.cluster()))?;
    check_keys(&ns, &svc)?;
    r.n.add_instances(&ns, &svc, vec![instance], false).await?;
    ok()
}

/// `DELETE /instance` (`InstanceController.deregister`, `InstanceController.java:148`): the
/// instance's parameters are read first, then the service; an unknown service is `ok`.
async fn do_deregister(r: Req, _: Bytes) -> Answer {
    let switch = r.n.switch().await;
    let instance = params::ip_address(&r.p, switch.default_instance_ephemeral)?;
    let ns = r.p.namespace();
    let svc = r.p.grouped_service()?;
    let found = r.n.find(&ns, &svc).await?;
    if found.meta.is_none() {
        return ok();
    }
    if instance.ephemeral {
        return Err(ApiError::bad_request(EPHEMERAL_REFUSED));
    }
    r.n.remove_instances(&ns, &svc, vec![instance]).await?;
    ok()
}

/// `PUT /instance` (`InstanceController.update`, `InstanceController.java:174`): Java clients
/// from 1.0.0 on update an existing instance; other agents register.
async fn do_update(r: Req, _: Bytes) -> Answer {
    let ns = r.p.namespace();
    let svc = r.p.grouped_service()?;
    let switch = r.n.switch().await;
    let instance = params::parse_instance(&r.p, switch.default_instance_ephemeral, now_ms())?;
    if instance.ephemeral {
        return Err(ApiError::bad_request(EPHEMERAL_REFUSED));
    }
    check_names(&svc, Some(instance.cluster()))?;
    check_keys(&ns, &svc)?;
    let update_only = model::is_java_client_v1(&user_agent(&r.headers));
    r.n.add_instances(&ns, &svc, vec![instance], update_only)
        .await?;
    ok()
}

/// `GET /instance` (`InstanceController.detail`, `InstanceController.java:398`).
async fn do_detail(r: Req, _: Bytes) -> Answer {
    let ns = r.p.namespace();
    let svc = r.p.grouped_service()?;
    let cluster = r.p.optional("clusterName", nm::DEFAULT_CLUSTER);
    let ip = r.p.required("ip")?;
    let port = params::parse_int(&r.p.required("port")?)?;
    let found = r.n.find(&ns, &svc).await?;
    if found.meta.is_none() {
        return Err(ApiError::not_found(format!("no service {svc} found!")));
    }
    let list = r.n.effective(found.iplist.as_ref())?;
    let in_cluster: Vec<_> = list.iter().filter(|i| i.cluster() == cluster).collect();
    if in_cluster.is_empty() {
        return Err(ApiError::not_found(format!(
            "no ips found for cluster {cluster} in service {svc}"
        )));
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Detail<'a> {
        service: &'a str,
        ip: &'a str,
        port: i32,
        cluster_name: &'a str,
        weight: f64,
        healthy: bool,
        instance_id: Option<&'a str>,
        metadata: &'a BTreeMap<String, String>,
    }
    match in_cluster.iter().find(|i| i.ip == ip && i.port == port) {
        Some(i) => json_answer(json(&Detail {
            service: &svc,
            ip: &ip,
            port,
            cluster_name: &cluster,
            weight: i.weight,
            healthy: i.healthy,
            instance_id: i.instance_id.as_deref(),
            metadata: &i.metadata,
        })),
        None => Err(ApiError::not_found("no matched ip found!")),
    }
}

/// `GET /instance/list` (`InstanceController.list`, `InstanceController.java:370`).
async fn do_list(r: Req, _: Bytes) -> Answer {
    let ns = r.p.namespace();
    let svc = r.p.grouped_service()?;
    let agent = user_agent(&r.headers);
    let clusters = r.p.optional("clusters", "");
    // Read and checked as Java does, though this node has no UDP push to enable.
    params::parse_int(&r.p.optional("udpPort", "0"))?;
    let env = r.p.optional("env", "");
    let is_check = params::parse_boolean(&r.p.optional("isCheck", "false"));
    let healthy_only = params::parse_boolean(&r.p.optional("healthyOnly", "false"));
    let found = r.n.find(&ns, &svc).await?;
    let q = ListQuery {
        clusters,
        healthy_only,
        is_check,
        env,
        java_client: model::is_java_client_v1(&agent),
        cache_millis: found.switch.default_cache_millis,
        now_ms: now_ms(),
    };
    let answer = match &found.meta {
        None => model::instance_list(&svc, None, &q)?,
        Some(m) => {
            let service = parse_service(m)?;
            let (list, sum) = r.n.with_checksum(&service, m, found.iplist.as_ref())?;
            model::instance_list(&svc, Some((&service, &list, &sum)), &q)?
        }
    };
    json_answer(answer)
}

/// `PUT /instance/beat` (`InstanceController.beat`, `InstanceController.java:458`). Client
/// beats concern ephemeral instances only (`ClientBeatProcessor` looks at `allIPs(true)`): for
/// a persistent instance the beat changes nothing and is answered `code` 10200; an instance
/// this node does not hold is answered `code` 20404, on which Java clients register again.
async fn do_beat(r: Req, _: Bytes) -> Answer {
    let switch = r.n.switch().await;
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct RsInfo {
        ip: Option<String>,
        port: i32,
        cluster: Option<String>,
    }
    let beat_text = r.p.optional("beat", "");
    let beat: Option<RsInfo> = if params::is_blank(&beat_text) {
        None
    } else {
        Some(serde_json::from_str(&beat_text).map_err(ApiError::exception)?)
    };
    let mut cluster = r.p.optional("clusterName", nm::DEFAULT_CLUSTER);
    let mut ip = r.p.optional("ip", "");
    let mut port = params::parse_int(&r.p.optional("port", "0"))?;
    if let Some(b) = &beat {
        if let Some(c) = b.cluster.as_deref().filter(|c| !params::is_blank(c)) {
            cluster = c.to_string();
        }
        ip = b.ip.clone().unwrap_or_default();
        port = b.port;
    }
    let ns = r.p.namespace();
    let svc = r.p.grouped_service()?;
    let found = r.n.find(&ns, &svc).await?;
    let list = match &found.meta {
        Some(_) => r.n.effective(found.iplist.as_ref())?,
        None => Default::default(),
    };
    let instance = list
        .iter()
        .find(|i| i.cluster() == cluster && i.ip == ip && i.port == port);
    // Written by hand in Java's key order (`clientBeatInterval` first, replaced in place).
    let answer = match instance {
        None => format!(
            "{{\"clientBeatInterval\":{},\"code\":20404}}",
            switch.client_beat_interval
        ),
        Some(i) => {
            let interval = if i.metadata.contains_key(nm::HEART_BEAT_INTERVAL_KEY) {
                i.heart_beat_interval()
            } else {
                switch.client_beat_interval
            };
            format!(
                "{{\"clientBeatInterval\":{interval},\"code\":10200,\"lightBeatEnabled\":{}}}",
                switch.light_beat_enabled
            )
        }
    };
    json_answer(answer)
}

/// `GET /instance/statuses?key=ns##group@@svc` (`InstanceController.java:538`): the health of
/// every instance as `ip:port_healthy`, what other servers synchronise from.
async fn do_statuses(r: Req, _: Bytes) -> Answer {
    let key = r.p.request_param("key")?;
    let (ns, svc) = match key.split_once("##") {
        Some((n, s)) => (
            n.to_string(),
            s.split("##").next().unwrap_or("").to_string(),
        ),
        None => (nm::DEFAULT_NAMESPACE.to_string(), key.clone()),
    };
    nm::check_service_name_format(&svc).map_err(ApiError::bad_request)?;
    let found = r.n.find(&ns, &svc).await?;
    if found.meta.is_none() {
        return Err(ApiError::not_found(format!("service: {svc} not found.")));
    }
    let list = r.n.effective(found.iplist.as_ref())?;
    let ips: Vec<String> = list
        .iter()
        .map(|i| format!("{}_{}", i.ip_addr(), i.healthy))
        .collect();
    json_answer(json(&serde_json::json!({ "ips": ips })))
}

// ---- services ----------------------------------------------------------------------------

/// Spring's conversion of a `float` request parameter: whitespace trimmed, `Float.valueOf`;
/// a failure is Spring's `MethodArgumentTypeMismatchException`, a 500.
fn request_float(p: &Params, name: &str, default: f32) -> Result<f32, ApiError> {
    match p.raw(name) {
        None => Ok(default),
        Some(v) if v.trim().is_empty() => Ok(default),
        Some(v) => params::parse_double(v).map(|x| x as f32).map_err(|_| {
            let nfe = format!("For input string: \"{}\"", v.trim());
            ApiError {
                status: 500,
                body: format!(
                    "caused: Failed to convert value of type 'java.lang.String' to required type \
                     'float'; nested exception is java.lang.NumberFormatException: {nfe};caused: {nfe};"
                ),
            }
        }),
    }
}

/// `@RequestParam(defaultValue = "public") String namespaceId`.
fn request_namespace(p: &Params) -> String {
    match p.raw("namespaceId") {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => nm::DEFAULT_NAMESPACE.to_string(),
    }
}

/// `ServiceController.parseSelector`: blank or `{"type":"none"}`. Label selectors (an
/// expression language of their own) are refused.
fn parse_selector(text: &str) -> Result<serde_json::Value, ApiError> {
    if params::is_blank(text) {
        return Ok(serde_json::json!({"type": "none"}));
    }
    let decoded = codec::java_url_decode(text.as_bytes())
        .map_err(ApiError::exception)
        .map(|b| String::from_utf8_lossy(&b).into_owned())?;
    let v: serde_json::Value = serde_json::from_str(&decoded).map_err(ApiError::exception)?;
    match v.get("type").and_then(|t| t.as_str()) {
        Some("none") => Ok(serde_json::json!({"type": "none"})),
        Some("label") => Err(ApiError::bad_request(
            "label selectors are not supported by this node; use {\"type\":\"none\"}",
        )),
        Some(other) => Err(ApiError::bad_request(format!(
            "No enum constant com.alibaba.nacos.api.selector.SelectorType.{other}"
        ))),
        None => Err(ApiError::exception("selector has no type")),
    }
}

/// `POST /service` (`ServiceController.create`, `ServiceController.java:96`).
async fn do_create_service(r: Req, _: Bytes) -> Answer {
    let ns = request_namespace(&r.p);
    let svc = r.p.request_param("serviceName")?;
    let threshold = request_float(&r.p, "protectThreshold", 0.0)?;
    let metadata = r.p.raw("metadata").unwrap_or("").to_string();
    let selector = r.p.raw("selector").unwrap_or("").to_string();
    let found = r.n.find(&ns, &svc).await?;
    if found.meta.is_some() {
        return Err(ApiError::bad_request(format!(
            "specified service already exists, serviceName : {svc}"
        )));
    }
    let metadata = if params::is_blank(&metadata) {
        BTreeMap::new()
    } else {
        params::parse_metadata(&metadata)?
    };
    let mut service = Service::new(&ns, &svc, now_ms());
    // `new Service(serviceName)` leaves the group unset.
    service.group_name = None;
    service.protect_threshold = threshold;
    service.metadata = metadata;
    service.selector = parse_selector(&selector)?;
    service.checksum = Some(model::checksum(&service, &[]));
    check_names(&svc, None)?;
    check_keys(&ns, &svc)?;
    r.n.publish(
        key::meta_key(&ns, &svc),
        json(&service),
        &service.java_string(),
    )
    .await?;
    ok()
}

/// `DELETE /service` (`ServiceController.remove` → `ServiceManager.easyRemoveService`): the
/// meta key, then (as every Java server's `ServiceManager.onDelete` does) the instance list.
async fn do_remove_service(r: Req, _: Bytes) -> Answer {
    let ns = request_namespace(&r.p);
    let svc = r.p.request_param("serviceName")?;
    let found = r.n.find(&ns, &svc).await?;
    if found.meta.is_none() {
        return Err(ApiError::bad_request(format!(
            "specified service not exist, serviceName : {svc}"
        )));
    }
    r.n.remove(key::meta_key(&ns, &svc)).await?;
    if found.iplist.is_some() {
        r.n.remove(key::iplist_key(&ns, &svc)).await?;
    }
    ok()
}

/// `PUT /service` (`ServiceController.update`, `ServiceController.java:248`).
async fn do_update_service(r: Req, _: Bytes) -> Answer {
    let ns = r.p.namespace();
    let svc = r.p.required("serviceName")?;
    let threshold = params::to_float_or_zero(&r.p.required("protectThreshold")?);
    let metadata = r.p.optional("metadata", "");
    let found = r.n.find(&ns, &svc).await?;
    let Some(meta) = &found.meta else {
        return Err(ApiError::bad_request(format!("service {svc} not found!")));
    };
    let mut service = parse_service(meta)?;
    let list = r.n.effective(found.iplist.as_ref())?;
    service.protect_threshold = threshold;
    service.metadata = params::parse_metadata(&metadata)?;
    service.selector = parse_selector(&r.p.optional("selector", ""))?;
    service.last_modified_millis = now_ms();
    // Java writes its in-memory service: the clusters its instances created are in it.
    for i in list.iter() {
        service
            .cluster_map
            .entry(i.cluster().to_string())
            .or_insert_with(|| Cluster {
                service_name: Some(svc.clone()),
                name: Some(i.cluster().to_string()),
                ..Cluster::default()
            });
    }
    service.empty = list.is_empty();
    service.checksum = Some(model::checksum(&service, &list));
    check_names(&svc, None)?;
    r.n.publish(
        key::meta_key(&ns, &svc),
        json(&service),
        &service.java_string(),
    )
    .await?;
    ok()
}

/// `GET /service` (`ServiceController.detail`, `ServiceController.java:139`).
async fn do_service_detail(r: Req, _: Bytes) -> Answer {
    let ns = request_namespace(&r.p);
    let svc = r.p.request_param("serviceName")?;
    let found = r.n.find(&ns, &svc).await?;
    let Some(meta) = &found.meta else {
        return Err(ApiError::not_found(format!("service {svc} is not found!")));
    };
    let service = parse_service(meta)?;
    let list = r.n.effective(found.iplist.as_ref())?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ClusterOut<'a> {
        name: String,
        health_checker: serde_json::Value,
        metadata: &'a BTreeMap<String, String>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Detail<'a> {
        name: &'a str,
        namespace_id: &'a str,
        protect_threshold: f32,
        metadata: &'a BTreeMap<String, String>,
        selector: &'a serde_json::Value,
        group_name: &'a str,
        clusters: Vec<ClusterOut<'a>>,
    }
    let empty = BTreeMap::new();
    let clusters = model::clusters_of(&service, &list)
        .into_iter()
        .map(|c| {
            let stored = service.cluster_map.get(&c);
            ClusterOut {
                health_checker: stored
                    .map(|s| s.health_checker.clone())
                    .unwrap_or_else(|| serde_json::json!({"type": "TCP"})),
                metadata: stored.map(|s| &s.metadata).unwrap_or(&empty),
                name: c,
            }
        })
        .collect();
    json_answer(json(&Detail {
        name: nm::service_name(&svc),
        namespace_id: service.namespace(),
        protect_threshold: service.protect_threshold,
        metadata: &service.metadata,
        selector: &service.selector,
        group_name: nm::group_name(&svc),
        clusters,
    }))
}

/// `GET /service/list` (`ServiceController.list`, `ServiceController.java:170`): the names of a
/// namespace's services in name order, filtered by group (`*` for all), one page, without the
/// `group@@` prefix. (The `selector` filter is not implemented.)
async fn do_service_list(r: Req, _: Bytes) -> Answer {
    let page_no = params::to_int_or_zero(&r.p.required("pageNo")?);
    let page_size = params::to_int_or_zero(&r.p.required("pageSize")?);
    let ns = r.p.namespace();
    let group = r.p.optional("groupName", nm::DEFAULT_GROUP);
    let prefix = format!("{}{ns}##", key::META_PREFIX);
    let mut names: Vec<String> =
        r.n.inner
            .node
            .inspect(move |n| {
                n.datums()
                    .filter_map(|d| d.key.strip_prefix(&prefix).map(str::to_string))
                    .collect()
            })
            .await
            .map_err(|e| ApiError::exception(e.message))?;
    #[derive(Serialize)]
    struct Page {
        doms: Vec<String>,
        count: usize,
    }
    if group != "*" {
        let g = format!("{group}@@");
        names.retain(|s| s.starts_with(&g));
    }
    let count = names.len();
    let start = (i64::from(page_no) - 1)
        .saturating_mul(i64::from(page_size))
        .max(0) as usize;
    if start >= count {
        return json_answer(json(&Page {
            doms: Vec::new(),
            count,
        }));
    }
    let end = (start as i64 + i64::from(page_size)).clamp(0, count as i64) as usize;
    let doms = names[start..end.max(start)]
        .iter()
        .map(|s| s.replace(&format!("{group}@@"), ""))
        .collect();
    json_answer(json(&Page { doms, count }))
}

/// `POST /service/status` (`ServiceController.serviceStatus`, `ServiceController.java:287`): a
/// member's checksums; services whose checksum differs are synchronised from it.
async fn do_service_status(r: Req, body: Bytes) -> Answer {
    let text = codec::body_text(&body, 1).map_err(|e| ApiError::exception(e.message))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(ApiError::exception)?;
    let statuses = v
        .get("statuses")
        .and_then(|s| s.as_str())
        .ok_or_else(|| ApiError::exception("statuses is missing"))?
        .to_string();
    let from = v
        .get("clientIP")
        .and_then(|s| s.as_str())
        .ok_or_else(|| ApiError::exception("clientIP is missing"))?
        .to_string();
    let f = from.clone();
    let member =
        r.n.inner
            .node
            .inspect(move |n| n.peer(&f).is_some())
            .await
            .unwrap_or(false);
    if !member {
        return Err(ApiError::bad_request(format!(
            "ip: {from} is not in serverlist"
        )));
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ServiceChecksum {
        #[serde(default)]
        namespace_id: Option<String>,
        #[serde(default)]
        service_name2_checksum: HashMap<String, String>,
    }
    match serde_json::from_str::<ServiceChecksum>(&statuses) {
        Ok(c) => {
            let ns = c
                .namespace_id
                .unwrap_or_else(|| nm::DEFAULT_NAMESPACE.to_string());
            r.n.on_statuses(from, ns, c.service_name2_checksum).await;
        }
        Err(e) => tracing::warn!(%from, error = %e, "[DOMAIN-STATUS] receive malformed data"),
    }
    ok()
}

/// `GET /operator/metrics` (`OperatorController.metrics`, `OperatorController.java:162`). This
/// node serves reads once it has loaded its data, so `status` is always `UP`; the leader, which
/// health-checks every service, counts all services as its responsibility.
async fn do_metrics(r: Req, _: Bytes) -> Answer {
    let (leader, metas, lists) =
        r.n.inner
            .node
            .inspect(|n| {
                let metas: Vec<nacos_raft_core::Datum> = n
                    .datums()
                    .filter(|d| d.key.starts_with(key::META_PREFIX) && !key::is_switch(&d.key))
                    .cloned()
                    .collect();
                (n.is_leader(), metas, super::all_services(n))
            })
            .await
            .map_err(|e| ApiError::exception(e.message))?;
    let mut instances = 0usize;
    for (_, d) in &lists {
        instances += r.n.instances(d.as_ref())?.len();
    }
    let (cpu, load, mem) = system_figures();
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Metrics {
        status: &'static str,
        service_count: usize,
        instance_count: usize,
        raft_notify_task_count: usize,
        responsible_service_count: usize,
        responsible_instance_count: usize,
        cpu: f64,
        load: f64,
        mem: f64,
    }
    json_answer(json(&Metrics {
        status: "UP",
        service_count: metas.len(),
        instance_count: instances,
        raft_notify_task_count: 0,
        responsible_service_count: if leader { metas.len() } else { 0 },
        responsible_instance_count: if leader { instances } else { 0 },
        cpu,
        load,
        mem,
    }))
}

/// `EnvUtil.getCPU/getLoad/getMem` from `/proc` (0 where it cannot be read): the one-minute
/// load average divided by the cores (capped at 1) for `cpu`, the load average, and the share
/// of memory in use.
fn system_figures() -> (f64, f64, f64) {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let field = |name: &str| -> Option<f64> {
                s.lines()
                    .find(|l| l.starts_with(name))?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()
            };
            let total = field("MemTotal:")?;
            let avail = field("MemAvailable:")?;
            (total > 0.0).then(|| 1.0 - avail / total)
        })
        .unwrap_or(0.0);
    ((load / cores).min(1.0), load, mem)
}
