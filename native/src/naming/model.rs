//! What the naming API computes from datums, without I/O: the instance list answer of
//! `InstanceController.doSrvIpxt` (protect threshold, clusters, disabled instances, grouped
//! names for Java clients), the service checksum of `Service.recalculateChecksum`, and the
//! read-modify-write of an instance list (`ServiceManager.updateIpAddresses`).

use super::params::ApiError;
use md5::{Digest, Md5};
use nacos_raft_core::naming::{self as nm, java_double, java_float, Instance, Service};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Whether a `User-Agent` is a Java client at or above 1.0.0 (`push/ClientInfo.java`: type
/// `JAVA` is `Nacos-Java-Client:v<version>`; the version is read as codehaus' `VersionUtil`
/// reads it). Such clients get grouped names (`DEFAULT_GROUP@@demo`) in `dom` and
/// `serviceName`; every other agent gets the bare name.
pub fn is_java_client_v1(user_agent: &str) -> bool {
    if !user_agent.starts_with("Nacos-Java-Client") {
        return false;
    }
    let v = match user_agent.find(":v") {
        Some(i) => &user_agent[i + 2..],
        None => &user_agent[1..],
    };
    let parts: Vec<&str> = v.trim().split(['-', '_', '.', '/', ';', ':']).collect();
    if parts.len() < 2 {
        // VersionUtil returns null and Java fails with a NullPointerException; treated here as
        // an old client.
        return false;
    }
    let num = |s: &str| -> u64 {
        s.bytes().take_while(u8::is_ascii_digit).fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        })
    };
    (
        num(parts[0]),
        num(parts[1]),
        parts.get(2).map_or(0, |p| num(p)),
    ) >= (1, 0, 0)
}

/// The instances of a service with the health this node believes in: the checker's (or the
/// leader's, synchronised) verdict for unmarked instances, the stored flag otherwise
/// (`Cluster.updateIps` keeps the checker's value over the datum's).
pub fn effective(stored: &[Instance], health: &HashMap<String, bool>) -> Vec<Instance> {
    stored
        .iter()
        .map(|i| {
            let mut i = i.clone();
            if !i.marked {
                if let Some(h) = health.get(&i.datum_key()) {
                    i.healthy = *h;
                }
            }
            i
        })
        .collect()
}

/// The clusters a service has: those in its stored `clusterMap` and those its instances name.
pub fn clusters_of(service: &Service, instances: &[Instance]) -> BTreeSet<String> {
    let mut c: BTreeSet<String> = service.cluster_map.keys().cloned().collect();
    c.extend(instances.iter().map(|i| i.cluster().to_string()));
    c
}

/// Java's `String.hashCode` over UTF-16 code units.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The iteration order of a `java.util.HashMap` created with `initial_capacity` into which
/// `keys` were put in this order (no removals): by bucket of the final table, then insertion.
pub fn java_hashmap_order(keys: &[&str], initial_capacity: usize) -> Vec<usize> {
    let mut n = initial_capacity.max(1).next_power_of_two();
    while keys.len() > n * 3 / 4 {
        n *= 2;
    }
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by_key(|&i| {
        let h = java_hash(keys[i]);
        let spread = h ^ ((h as u32) >> 16) as i32;
        ((spread as u32 as usize) & (n - 1), i)
    });
    idx
}

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// A JSON object of `(key, json)` pairs in the order a `HashMap(capacity)` iterates them.
fn java_map(pairs: &[(&str, String)], capacity: usize) -> String {
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
    let body: Vec<String> = java_hashmap_order(&keys, capacity)
        .into_iter()
        .map(|i| format!("{}:{}", json(pairs[i].0), pairs[i].1))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// `Service.recalculateChecksum` (`naming/core/Service.java:538`): MD5 (lower-case hex) of
/// `getServiceString()` followed by `ip:port_weight_healthy_cluster,` for every instance in
/// `Instance.compareTo` order. The service string is Jackson's text of a `HashMap`, so its key
/// order is the map's bucket order, reproduced by [`java_hashmap_order`].
pub fn checksum(service: &Service, instances: &[Instance]) -> String {
    let invalid = instances.iter().filter(|i| !i.healthy).count();
    let clusters: Vec<String> = clusters_of(service, instances).into_iter().collect();
    let cluster_refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let tcp = serde_json::json!({"type": "TCP"});
    let cluster_json: Vec<String> = java_hashmap_order(&cluster_refs, 16)
        .into_iter()
        .map(|i| {
            let name = &clusters[i];
            let c = service.cluster_map.get(name).cloned().unwrap_or_default();
            let checker = if c.health_checker.is_null() {
                &tcp
            } else {
                &c.health_checker
            };
            java_map(
                &[
                    ("name", json(name)),
                    ("healthChecker", json(checker)),
                    ("defCkport", json(&c.def_ckport)),
                    ("defIPPort", json(&c.def_ip_port)),
                    ("useIPPort4Check", json(&c.use_ip_port4_check)),
                    ("sitegroup", json(&c.sitegroup)),
                ],
                10,
            )
        })
        .collect();
    let mut text = java_map(
        &[
            ("name", json(&service.name)),
            ("ipCount", json(&instances.len())),
            ("invalidIPCount", json(&invalid)),
            ("owners", json(&service.owners)),
            ("token", json(&service.token)),
            ("protectThreshold", java_float(service.protect_threshold)),
            ("clusters", format!("[{}]", cluster_json.join(","))),
        ],
        10,
    );
    let mut sorted: Vec<&Instance> = instances.iter().collect();
    sorted.sort_by_cached_key(|i| i.java_string());
    for i in sorted {
        text.push_str(&format!(
            "{}:{}_{}_{}_{},",
            i.ip,
            i.port,
            java_double(i.weight),
            i.healthy,
            i.cluster()
        ));
    }
    let digest = Md5::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parameters of `/instance/list` that shape the answer.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// `clusters`, comma-separated, as given (echoed back).
    pub clusters: String,
    /// `healthyOnly` (`Boolean.parseBoolean`).
    pub healthy_only: bool,
    /// `isCheck`.
    pub is_check: bool,
    /// `env`, echoed back.
    pub env: String,
    /// Java client ≥ 1.0.0: grouped names.
    pub java_client: bool,
    /// `cacheMillis` (the switch's `defaultCacheMillis`).
    pub cache_millis: i64,
    /// `lastRefTime`.
    pub now_ms: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Host<'a> {
    ip: &'a str,
    port: i32,
    valid: bool,
    healthy: bool,
    marked: bool,
    instance_id: Option<&'a str>,
    metadata: &'a BTreeMap<String, String>,
    enabled: bool,
    weight: f64,
    cluster_name: Option<&'a str>,
    service_name: Option<String>,
    ephemeral: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoService<'a> {
    name: &'a str,
    clusters: &'a str,
    cache_millis: i64,
    hosts: [u8; 0],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoHosts<'a> {
    dom: &'a str,
    name: &'a str,
    cache_millis: i64,
    last_ref_time: i64,
    checksum: &'a str,
    #[serde(rename = "useSpecifiedURL")]
    use_specified_url: bool,
    clusters: &'a str,
    env: &'a str,
    hosts: [u8; 0],
    metadata: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithHosts<'a> {
    hosts: Vec<Host<'a>>,
    dom: &'a str,
    name: &'a str,
    cache_millis: i64,
    last_ref_time: i64,
    checksum: &'a str,
    #[serde(rename = "useSpecifiedURL")]
    use_specified_url: bool,
    clusters: &'a str,
    env: &'a str,
    metadata: &'a BTreeMap<String, String>,
}

/// The answer of `GET /nacos/v1/ns/instance/list` (`InstanceController.doSrvIpxt`,
/// `InstanceController.java:656-816`). `found` is the service with its instances (effective
/// health) and its [`checksum`]; `None` when the service does not exist.
pub fn instance_list(
    grouped: &str,
    found: Option<(&Service, &[Instance], &str)>,
    q: &ListQuery,
) -> Result<String, ApiError> {
    let Some((service, instances, sum)) = found else {
        return Ok(json(&NoService {
            name: grouped,
            clusters: &q.clusters,
            cache_millis: q.cache_millis,
            hosts: [],
        }));
    };
    if !service.enabled {
        return Err(ApiError::exception("service is disabled now."));
    }
    // srvIPs: the requested clusters (StringUtils.split: empty parts dropped, no trimming) in
    // the order given, or every cluster.
    let wanted: Vec<String> = q
        .clusters
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let all = clusters_of(service, instances);
    let order: Vec<String> = if wanted.is_empty() {
        all.into_iter().collect()
    } else {
        wanted
    };
    let mut served: Vec<&Instance> = Vec::new();
    for c in &order {
        served.extend(instances.iter().filter(|i| i.cluster() == c));
    }
    let dom = if q.java_client {
        grouped
    } else {
        nm::service_name(grouped)
    };
    if served.is_empty() {
        return Ok(json(&NoHosts {
            dom,
            name: grouped,
            cache_millis: q.cache_millis,
            last_ref_time: q.now_ms,
            checksum: sum,
            use_specified_url: false,
            clusters: &q.clusters,
            env: &q.env,
            hosts: [],
            metadata: &service.metadata,
        }));
    }
    let healthy_count = served.iter().filter(|i| i.healthy).count();
    let mut healthy: Vec<&Instance> = Vec::new();
    let mut unhealthy: Vec<&Instance> = Vec::new();
    for i in &served {
        if i.healthy {
            healthy.push(i);
        } else {
            unhealthy.push(i);
        }
    }
    // The protect threshold: at or below this share of healthy instances, all are served as
    // healthy (`(float) healthy / all <= threshold`, so with the default 0 a service whose
    // instances are all unhealthy lists them all as healthy).
    if (healthy_count as f32 / served.len() as f32) as f64 <= service.protect_threshold as f64 {
        healthy.append(&mut unhealthy);
    }
    if q.is_check {
        // Java builds the check fields and then returns a fresh empty node.
        return Ok("{}".into());
    }
    // Java iterates its HashMap<Boolean, List> unhealthy first (Boolean.FALSE's bucket comes
    // before TRUE's).
    let mut hosts = Vec::new();
    for (valid, group) in [(false, &unhealthy), (true, &healthy)] {
        if q.healthy_only && !valid {
            continue;
        }
        for i in group.iter() {
            if !i.enabled {
                continue;
            }
            let sname = i.service_name.as_deref().map(|s| {
                if q.java_client {
                    s.to_string()
                } else {
                    nm::service_name(s).to_string()
                }
            });
            hosts.push(Host {
                ip: &i.ip,
                port: i.port,
                valid,
                healthy: valid,
                marked: i.marked,
                instance_id: i.instance_id.as_deref(),
                metadata: &i.metadata,
                enabled: i.enabled,
                weight: i.weight,
                cluster_name: i.cluster_name.as_deref(),
                service_name: sname,
                ephemeral: i.ephemeral,
            });
        }
    }
    Ok(json(&WithHosts {
        hosts,
        dom,
        name: grouped,
        cache_millis: q.cache_millis,
        last_ref_time: q.now_ms,
        checksum: sum,
        use_specified_url: false,
        clusters: &q.clusters,
        env: &q.env,
        metadata: &service.metadata,
    }))
}

/// What to do with an instance list.
#[derive(Clone, Debug)]
pub enum Change {
    /// Add or replace (by `ip:port:unknown:cluster`) these instances.
    Add(Vec<Instance>),
    /// Remove these (by the same key).
    Remove(Vec<Instance>),
}

/// `ServiceManager.updateIpAddresses` (`ServiceManager.java:779`): the stored list, with the
/// health this node holds copied in (`setValid`), changed by `change`. A replaced instance keeps
/// its `instanceId`. An add that leaves the list empty is refused as Java refuses it.
pub fn update_ips(
    service_name: &str,
    stored: &[Instance],
    health: &HashMap<String, bool>,
    change: &Change,
) -> Result<Vec<Instance>, ApiError> {
    let mut list: Vec<Instance> = Vec::with_capacity(stored.len() + 1);
    let mut at: HashMap<String, usize> = HashMap::with_capacity(stored.len() + 1);
    for i in stored {
        let mut i = i.clone();
        if let Some(h) = health.get(&i.datum_key()) {
            i.healthy = *h;
        }
        let k = i.datum_key();
        match at.get(&k) {
            Some(&pos) => list[pos] = i,
            None => {
                at.insert(k, list.len());
                list.push(i);
            }
        }
    }
    match change {
        Change::Remove(gone) => {
            let keys: std::collections::HashSet<String> =
                gone.iter().map(Instance::datum_key).collect();
            list.retain(|i| !keys.contains(&i.datum_key()));
        }
        Change::Add(new) => {
            for n in new {
                let mut n = n.clone();
                let k = n.datum_key();
                match at.get(&k) {
                    Some(&pos) => {
                        n.instance_id = list[pos].instance_id.clone();
                        list[pos] = n;
                    }
                    None => {
                        at.insert(k, list.len());
                        list.push(n);
                    }
                }
            }
            if list.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "ip list can not be empty, service: {service_name}, ip list: []"
                )));
            }
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(ip: &str, port: i32, cluster: &str, healthy: bool) -> Instance {
        let mut i = Instance {
            ip: ip.into(),
            port,
            healthy,
            ephemeral: false,
            cluster_name: Some(cluster.into()),
            service_name: Some("DEFAULT_GROUP@@demo".into()),
            app: Some("DEFAULT".into()),
            ..Instance::default()
        };
        i.instance_id = Some(i.generate_instance_id());
        i
    }

    fn service() -> Service {
        Service::new("public", "DEFAULT_GROUP@@demo", 1)
    }

    fn q(java: bool) -> ListQuery {
        ListQuery {
            java_client: java,
            cache_millis: 3000,
            now_ms: 7,
            ..ListQuery::default()
        }
    }

    fn hosts(answer: &str) -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_str(answer).unwrap();
        v["hosts"].as_array().unwrap().clone()
    }

    #[test]
    fn user_agents() {
        assert!(is_java_client_v1("Nacos-Java-Client:v1.0.0"));
        assert!(is_java_client_v1("Nacos-Java-Client:v1.4.1"));
        assert!(is_java_client_v1("Nacos-Java-Client:v2.0.3"));
        assert!(!is_java_client_v1("Nacos-Java-Client:v0.9.0"));
        assert!(!is_java_client_v1("Nacos-Java-Client:v1"));
        assert!(!is_java_client_v1("Nacos-Python-Client:v1.0.0"));
        assert!(!is_java_client_v1("Nacos-SDK-Java:v1.4.1"));
        assert!(!is_java_client_v1(""));
    }

    #[test]
    fn the_answer_of_a_missing_service() {
        let a = instance_list("DEFAULT_GROUP@@x", None, &q(true)).unwrap();
        assert_eq!(
            a,
            r#"{"name":"DEFAULT_GROUP@@x","clusters":"","cacheMillis":3000,"hosts":[]}"#
        );
    }

    #[test]
    fn fields_names_and_order_of_a_listed_instance() {
        let s = service();
        let list = [inst("127.0.0.1", 80, "DEFAULT", true)];
        let sum = checksum(&s, &list);
        let a = instance_list("DEFAULT_GROUP@@demo", Some((&s, &list, &sum)), &q(true)).unwrap();
        assert_eq!(
            a,
            format!(
                r#"{{"hosts":[{{"ip":"127.0.0.1","port":80,"valid":true,"healthy":true,"marked":false,"instanceId":"127.0.0.1#80#DEFAULT#DEFAULT_GROUP@@demo","metadata":{{}},"enabled":true,"weight":1.0,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@demo","ephemeral":false}}],"dom":"DEFAULT_GROUP@@demo","name":"DEFAULT_GROUP@@demo","cacheMillis":3000,"lastRefTime":7,"checksum":"{sum}","useSpecifiedURL":false,"clusters":"","env":"","metadata":{{}}}}"#
            )
        );
        // Other clients get bare names.
        let a = instance_list("DEFAULT_GROUP@@demo", Some((&s, &list, &sum)), &q(false)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&a).unwrap();
        assert_eq!(v["dom"], "demo");
        assert_eq!(v["name"], "DEFAULT_GROUP@@demo");
        assert_eq!(v["hosts"][0]["serviceName"], "demo");
    }

    #[test]
    fn protect_threshold_disabled_and_healthy_only() {
        let mut s = service();
        let list = [
            inst("127.0.0.1", 1, "DEFAULT", true),
            inst("127.0.0.2", 2, "DEFAULT", false),
            {
                let mut i = inst("127.0.0.3", 3, "DEFAULT", true);
                i.enabled = false;
                i
            },
        ];
        // 2 of 3 healthy > 0: the unhealthy one is listed as such, first; the disabled one not.
        let h = hosts(&instance_list("g@@s", Some((&s, &list, "c")), &q(true)).unwrap());
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0]["ip"].as_str(), h[0]["healthy"].as_bool()),
            (Some("127.0.0.2"), Some(false))
        );
        assert_eq!(h[0]["valid"], false);
        assert_eq!(h[1]["ip"], "127.0.0.1");
        let mut ho = q(true);
        ho.healthy_only = true;
        assert_eq!(
            hosts(&instance_list("g@@s", Some((&s, &list, "c")), &ho).unwrap()).len(),
            1
        );
        // Threshold 0.7 ≥ 2/3: everyone is served as healthy.
        s.protect_threshold = 0.7;
        let h = hosts(&instance_list("g@@s", Some((&s, &list, "c")), &q(true)).unwrap());
        assert!(h.iter().all(|x| x["healthy"] == true));
        // With the default 0, all unhealthy also means all served as healthy.
        s.protect_threshold = 0.0;
        let down = [inst("127.0.0.1", 1, "DEFAULT", false)];
        let h = hosts(&instance_list("g@@s", Some((&s, &down, "c")), &q(true)).unwrap());
        assert_eq!(h[0]["healthy"], true);
        s.enabled = false;
        assert_eq!(
            instance_list("g@@s", Some((&s, &list, "c")), &q(true)).unwrap_err(),
            ApiError::exception("service is disabled now.")
        );
    }

    #[test]
    fn clusters_filter_and_the_empty_answer() {
        let s = service();
        let list = [
            inst("127.0.0.1", 1, "A", true),
            inst("127.0.0.2", 2, "B", true),
        ];
        let mut query = q(true);
        query.clusters = "B,,A".into();
        let h = hosts(&instance_list("g@@s", Some((&s, &list, "c")), &query).unwrap());
        assert_eq!(h[0]["clusterName"], "B");
        assert_eq!(h[1]["clusterName"], "A");
        query.clusters = "C".into();
        let a = instance_list("g@@s", Some((&s, &list, "c")), &query).unwrap();
        assert!(
            a.starts_with(
                r#"{"dom":"g@@s","name":"g@@s","cacheMillis":3000,"lastRefTime":7,"checksum":""#
            ),
            "{a}"
        );
        assert!(
            a.ends_with(
                r#","useSpecifiedURL":false,"clusters":"C","env":"","hosts":[],"metadata":{}}"#
            ),
            "{a}"
        );
        query.clusters = String::new();
        query.is_check = true;
        assert_eq!(
            instance_list("g@@s", Some((&s, &list, "c")), &query).unwrap(),
            "{}"
        );
    }

    #[test]
    fn java_hashmap_iteration_order() {
        // Buckets of a 16-slot table: "a" → 1, "b" → 2, "q" → 1 (after "a").
        let order = java_hashmap_order(&["b", "q", "a"], 16);
        assert_eq!(order, vec![1, 2, 0]);
        // Boolean's hash codes 1231 / 1237 put FALSE (bucket 5) before TRUE (bucket 15).
        let h = |x: i32| ((x ^ ((x as u32) >> 16) as i32) & 15) as usize;
        assert!(h(1237) < h(1231));
    }

    #[test]
    fn checksum_follows_health_and_weight() {
        let s = service();
        let up = [inst("127.0.0.1", 1, "DEFAULT", true)];
        let down = [inst("127.0.0.1", 1, "DEFAULT", false)];
        let a = checksum(&s, &up);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, checksum(&s, &down));
        assert_eq!(a, checksum(&s, &up));
    }

    #[test]
    fn update_replaces_by_datum_key_and_keeps_the_id() {
        let mut a = inst("127.0.0.1", 1, "DEFAULT", true);
        a.instance_id = Some("kept".into());
        let b = inst("127.0.0.2", 2, "DEFAULT", true);
        let stored = vec![a.clone(), b.clone()];
        let mut health = HashMap::new();
        health.insert(b.datum_key(), false);
        let mut a2 = inst("127.0.0.1", 1, "DEFAULT", true);
        a2.weight = 5.0;
        let out = update_ips("g@@s", &stored, &health, &Change::Add(vec![a2])).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].weight, 5.0);
        assert_eq!(out[0].instance_id.as_deref(), Some("kept"));
        assert!(!out[1].healthy, "the checker's verdict is written back");
        // Same ip:port in another cluster is another instance.
        let other = inst("127.0.0.1", 1, "C2", true);
        assert_eq!(
            update_ips("g@@s", &out, &health, &Change::Add(vec![other.clone()]))
                .unwrap()
                .len(),
            3
        );
        let gone = update_ips(
            "g@@s",
            &out,
            &health,
            &Change::Remove(vec![b.clone(), other]),
        )
        .unwrap();
        assert_eq!(gone.len(), 1);
        let empty = update_ips("g@@s", &gone, &health, &Change::Remove(vec![a])).unwrap();
        assert!(empty.is_empty());
    }
}
