//! The Nacos 1.x naming open API for persistent services (`/nacos/v1/ns/instance`, `/service`,
//! `/operator/metrics`), as Java 1.4.1's `InstanceController`, `ServiceController` and
//! `OperatorController` answer it, stored through this node's Raft exactly as Java stores it:
//! a new service's meta key (`com.alibaba.nacos.naming.domains.meta.<ns>##<group>@@<svc>`, a
//! [`Service`]) first, then its instance list (`com.alibaba.nacos.naming.iplist.…`, an
//! [`Instances`]). Every write goes through the publish path of `POST /raft/datum` (forwarded
//! to the leader, answered once a majority has it); every read is served from this node's own
//! datums, with the health verdicts this node holds in memory ([`health`]).
//!
//! Ephemeral instances (the API's default) belong to Nacos' Distro protocol, which this node
//! does not implement: such registrations are refused with [`EPHEMERAL_REFUSED`] and nothing is
//! written.
//!
//! - [`params`]: parameters, defaults and error texts as Java reads them;
//! - [`model`]: the list answer, the checksum, the instance-list update, as pure functions;
//! - [`health`]: the health states and their rules;
//! - [`api`]: the HTTP handlers.

pub mod api;
pub mod health;
pub mod model;
pub mod params;

use crate::actor::Handle;
use crate::codec::{self, Outbound};
use crate::egress::Egress;
use crate::peer_client::PeerClient;
use bytes::Bytes;
use health::{HealthTable, Outcome};
use nacos_raft_core::key;
use nacos_raft_core::naming::{self as nm, Instance, Instances, Service, SwitchDomain};
use nacos_raft_core::{forward_abandoned, Datum, Fix, Fixes, JsonValue, Request};
use params::ApiError;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, info, warn};

/// The answer to an ephemeral registration.
pub const EPHEMERAL_REFUSED: &str = "ephemeral instances are kept by Nacos' Distro protocol, \
which this node does not implement; register a persistent instance instead with \
ephemeral=false (nothing was written)";

/// Marks an instance write a hardened follower handed to its leader
/// ([`Naming::writes_go_to`]): the receiver carries it out itself, never hands it on again.
pub const FORWARDED_HEADER: &str = "x-nacos-raft-forwarded";
/// Beside [`FORWARDED_HEADER`], under `stale-forward`: the term of the leader the write was
/// handed to, which carries it out only while it leads in that term
/// (`Node::addressed_here`).
pub const LEADER_TERM_HEADER: &str = "x-nacos-raft-leader-term";

/// Java's `CONNECT_TIMEOUT_MS` of the TCP health checker.
pub const CHECK_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Health-check connects in flight at once.
pub const CHECK_CONCURRENCY: usize = 64;
/// How long a write through this node waits for its own copy of the datum before answering,
/// so that the next request to the same node reads what was written (bounded; the write has
/// already been acknowledged by a majority).
const LOCAL_APPLY_WAIT: Duration = Duration::from_secs(3);
/// How often a write handed to the leader checks that this node still follows that leader
/// ([`Fix::StaleForward`]).
const FOLLOW_POLL: Duration = Duration::from_millis(50);
/// Parsed instance lists kept for reads (by key; a changed value replaces its entry).
const PARSE_CACHE_ENTRIES: usize = 4096;

/// `--health-check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum HealthCheck {
    /// TCP connects from the leader (Nacos' default checker for persistent instances).
    #[default]
    Tcp,
    /// No checks: instances keep their stored `healthy` flag.
    None,
}

/// The naming API's settings.
#[derive(Clone, Debug)]
pub struct NamingSettings {
    /// The checker.
    pub health_check: HealthCheck,
    /// The period of a check round.
    pub health_check_interval: Duration,
    /// Largest request body.
    pub max_body: usize,
}

impl Default for NamingSettings {
    fn default() -> Self {
        NamingSettings {
            health_check: HealthCheck::Tcp,
            health_check_interval: Duration::from_millis(2_000),
            max_body: 16 << 20,
        }
    }
}

/// The naming API of one node: a cheap handle shared by the handlers and background tasks.
#[derive(Clone)]
pub struct Naming {
    inner: Arc<Inner>,
}

struct Inner {
    node: Handle,
    client: PeerClient,
    egress: Egress,
    me: String,
    settings: NamingSettings,
    health: HealthTable,
    cache: Mutex<HashMap<String, Parsed>>,
    views: Mutex<HashMap<String, View>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    sync_now: Notify,
    refused: Mutex<HashSet<String>>,
    pulling: Mutex<HashSet<String>>,
}

/// An instance-list value and what it parsed to.
type Parsed = (JsonValue, Arc<Vec<Instance>>);

/// A service's instances with this node's health verdicts and its checksum, computed once per
/// (meta value, list value, health generation).
#[derive(Clone)]
struct View {
    meta: Option<JsonValue>,
    iplist: Option<JsonValue>,
    generation: u64,
    list: Arc<Vec<Instance>>,
    checksum: Option<Arc<str>>,
}

/// What one read of a service found in this node's datums.
pub struct Found {
    /// The meta datum.
    pub meta: Option<Datum>,
    /// The instance-list datum.
    pub iplist: Option<Datum>,
    /// The switch settings (defaults without a switch datum).
    pub switch: SwitchDomain,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse_switch(d: Option<&Datum>) -> SwitchDomain {
    d.and_then(|d| d.value.as_ref())
        .and_then(|v| serde_json::from_str(v.as_str()).ok())
        .unwrap_or_default()
}

/// Decodes a meta datum; a value Java could not read either is an error naming the key.
pub fn parse_service(d: &Datum) -> Result<Service, ApiError> {
    let text = d.value.as_ref().map(|v| v.as_str()).unwrap_or("null");
    serde_json::from_str(text)
        .map_err(|e| ApiError::exception(format!("cannot read service {}: {e}", d.key)))
}

impl Naming {
    /// The API of the node behind `node`, sending through `client` (peers) and checking
    /// through `egress`; starts the health checker and the status sync as tasks.
    pub fn start(
        node: Handle,
        client: PeerClient,
        egress: Egress,
        me: String,
        settings: NamingSettings,
    ) -> Naming {
        let n = Naming {
            inner: Arc::new(Inner {
                node,
                client,
                egress,
                me,
                settings,
                health: HealthTable::default(),
                cache: Mutex::new(HashMap::new()),
                views: Mutex::new(HashMap::new()),
                locks: Mutex::new(HashMap::new()),
                sync_now: Notify::new(),
                refused: Mutex::new(HashSet::new()),
                pulling: Mutex::new(HashSet::new()),
            }),
        };
        if n.inner.settings.health_check == HealthCheck::Tcp {
            tokio::spawn(n.clone().check_loop());
        }
        tokio::spawn(n.clone().status_loop());
        n
    }

    /// The settings.
    pub fn settings(&self) -> &NamingSettings {
        &self.inner.settings
    }

    /// The verdicts this node holds for one service.
    pub fn health_of(&self, iplist_key: &str) -> HashMap<String, bool> {
        self.inner.health.of(iplist_key)
    }

    /// Reads the meta, instance-list and switch datums of a service in one look at the node.
    pub async fn find(&self, namespace: &str, grouped: &str) -> Result<Found, ApiError> {
        let meta = key::meta_key(namespace, grouped);
        let iplist = key::iplist_key(namespace, grouped);
        self.inner
            .node
            .inspect(move |n| Found {
                meta: n.datum(&meta).cloned(),
                iplist: n.datum(&iplist).cloned(),
                switch: parse_switch(n.datum(key::SWITCH_KEY)),
            })
            .await
            .map_err(|e| ApiError::exception(e.message))
    }

    /// The switch settings.
    pub async fn switch(&self) -> SwitchDomain {
        self.inner
            .node
            .inspect(|n| parse_switch(n.datum(key::SWITCH_KEY)))
            .await
            .unwrap_or_default()
    }

    /// The stored instances of an instance-list datum, parsed once per value.
    pub fn instances(&self, d: Option<&Datum>) -> Result<Arc<Vec<Instance>>, ApiError> {
        let Some(d) = d else {
            return Ok(Arc::new(Vec::new()));
        };
        let Some(v) = d.value.as_ref() else {
            return Ok(Arc::new(Vec::new()));
        };
        {
            let cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((seen, parsed)) = cache.get(&d.key) {
                if seen == v {
                    return Ok(parsed.clone());
                }
            }
        }
        let parsed: Instances = if v.is_null() {
            Instances::default()
        } else {
            serde_json::from_str(v.as_str()).map_err(|e| {
                ApiError::exception(format!("cannot read instance list {}: {e}", d.key))
            })?
        };
        let parsed = Arc::new(parsed.instance_list);
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= PARSE_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(d.key.clone(), (v.clone(), parsed.clone()));
        Ok(parsed)
    }

    /// The instances of a service with the health this node holds.
    pub fn effective(&self, iplist: Option<&Datum>) -> Result<Arc<Vec<Instance>>, ApiError> {
        Ok(self.view(None, iplist, false)?.list)
    }

    /// The instances of a service (health applied) and its checksum.
    pub fn with_checksum(
        &self,
        service: &Service,
        meta: &Datum,
        iplist: Option<&Datum>,
    ) -> Result<(Arc<Vec<Instance>>, Arc<str>), ApiError> {
        let v = self.view(Some((service, meta)), iplist, true)?;
        let sum = v.checksum.unwrap_or_else(|| Arc::from(""));
        Ok((v.list, sum))
    }

    fn view(
        &self,
        meta: Option<(&Service, &Datum)>,
        iplist: Option<&Datum>,
        want_checksum: bool,
    ) -> Result<View, ApiError> {
        let generation = self.inner.health.generation();
        let list_value = iplist.and_then(|d| d.value.clone());
        let meta_value = meta.and_then(|(_, d)| d.value.clone());
        let cache_key = match (iplist, meta) {
            (Some(d), _) => d.key.clone(),
            (None, Some((_, m))) => m.key.clone(),
            (None, None) => return self.fresh_view(None, None, generation, false),
        };
        {
            let views = self.inner.views.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(v) = views.get(&cache_key) {
                let same = v.generation == generation
                    && v.iplist == list_value
                    && (!want_checksum || (v.checksum.is_some() && v.meta == meta_value));
                if same {
                    return Ok(v.clone());
                }
            }
        }
        let v = self.fresh_view(meta, iplist, generation, want_checksum)?;
        let mut views = self.inner.views.lock().unwrap_or_else(|p| p.into_inner());
        if views.len() >= PARSE_CACHE_ENTRIES {
            views.clear();
        }
        views.insert(cache_key, v.clone());
        Ok(v)
    }

    fn fresh_view(
        &self,
        meta: Option<(&Service, &Datum)>,
        iplist: Option<&Datum>,
        generation: u64,
        want_checksum: bool,
    ) -> Result<View, ApiError> {
        let stored = self.instances(iplist)?;
        let health = match iplist {
            Some(d) => self.inner.health.of(&d.key),
            None => HashMap::new(),
        };
        let list = Arc::new(model::effective(&stored, &health));
        let checksum = match meta {
            Some((svc, _)) if want_checksum => Some(Arc::from(model::checksum(svc, &list))),
            _ => None,
        };
        Ok(View {
            meta: meta.and_then(|(_, d)| d.value.clone()),
            iplist: iplist.and_then(|d| d.value.clone()),
            generation,
            list,
            checksum,
        })
    }

    /// Serialises writes to one service on this node (Java: `synchronized (service)`).
    async fn lock_service(&self, iplist_key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut locks = self.inner.locks.lock().unwrap_or_else(|p| p.into_inner());
            if locks.len() > 4096 {
                locks.retain(|_, m| Arc::strong_count(m) > 1);
            }
            locks.entry(iplist_key.to_string()).or_default().clone()
        };
        m.lock_owned().await
    }

    /// Where an instance write received here must be carried out: `Some(leader)` under the
    /// hardened rules on a follower that knows its leader, `None` here. Not Nacos': Java reads
    /// the instance list, changes it and publishes the whole list from the node that got the
    /// request, so a follower whose copy lags (it was not in the majority of the last commit,
    /// or it restarted and is catching up) writes back a list without instances the leader
    /// acknowledged; a client that moves to another node after a leader dies does exactly that
    /// (`make chaos RULES=hardened` lost 13-82 acknowledged registrations per 8 rounds so). The
    /// leader changes its own list under its per-service lock, which every later write sees.
    /// With the leader, the term it is handed to under `stale-forward` (`LEADER_TERM_HEADER`).
    pub async fn writes_go_to(&self) -> Option<(String, Option<u64>)> {
        self.inner
            .node
            .inspect(|n| {
                let hardened = n.config().rules.fixes() != Fixes::NONE;
                let leader = n.leader().map(String::from);
                let leader = leader.filter(|_| hardened && !n.is_leader())?;
                Some((leader, n.addressed_term()))
            })
            .await
            .ok()
            .flatten()
    }

    /// Whether a write handed to this node naming `leader_term` may be carried out here
    /// (`Node::addressed_here`): the leader's own refusal text otherwise.
    pub async fn addressed_here(&self, leader_term: u64) -> Result<(), ApiError> {
        self.inner
            .node
            .inspect(move |n| n.addressed_here(Some(leader_term)))
            .await
            .map_err(|e| ApiError::exception(e.message))?
            .map_err(|e| ApiError::nacos_server(e.message))
    }

    /// Hands an instance write (`out`, already marked [`FORWARDED_HEADER`]) to `leader` and
    /// answers what the leader answered. On success waits (bounded) until this node holds the
    /// leader's copy of `key` too, so that a client's next read here sees its write.
    pub async fn write_at_leader(
        &self,
        leader: &str,
        out: &Outbound,
        key: String,
    ) -> Result<(u16, Bytes), ApiError> {
        let called = self
            .while_following(leader, self.inner.client.call(leader, out))
            .await
            .ok_or_else(|| {
                warn!(%key, %leader, "naming write handed to a leader no longer followed");
                ApiError::nacos_server(forward_abandoned(leader))
            })?;
        let (status, body) = called.map_err(|f| {
            warn!(%key, %leader, error = %f, "naming write handed to the leader failed");
            ApiError::nacos_server(format!("the leader {leader} did not answer: {f}"))
        })?;
        if status == 200 {
            if let Ok(nacos_raft_core::Response::Datums(list)) = self
                .inner
                .client
                .fetch(leader, std::slice::from_ref(&key))
                .await
            {
                if let Some(Some(d)) = list.into_iter().next() {
                    self.await_local_version(key, d.timestamp).await;
                }
            }
        }
        Ok((status, body))
    }

    /// Awaits `call`, a request to `leader`; under [`Fix::StaleForward`] gives up (`None`) as
    /// soon as this node no longer follows `leader`, as the core does with the writes it
    /// forwards: a leader cut off from the cluster may never answer.
    async fn while_following<F: std::future::Future>(
        &self,
        leader: &str,
        call: F,
    ) -> Option<F::Output> {
        let watch = self
            .inner
            .node
            .inspect(|n| n.config().rules.has(Fix::StaleForward))
            .await
            .unwrap_or(false);
        if !watch {
            return Some(call.await);
        }
        tokio::pin!(call);
        loop {
            tokio::select! {
                r = &mut call => return Some(r),
                () = tokio::time::sleep(FOLLOW_POLL) => {
                    let l = leader.to_string();
                    let follows = self
                        .inner
                        .node
                        .inspect(move |n| n.leader() == Some(l.as_str()))
                        .await
                        .unwrap_or(true);
                    if !follows {
                        return None;
                    }
                }
            }
        }
    }

    /// Waits (at most [`LOCAL_APPLY_WAIT`]) until this node's copy of `key` is at version `at`
    /// or later.
    async fn await_local_version(&self, key: String, at: u64) {
        let deadline = tokio::time::Instant::now() + LOCAL_APPLY_WAIT;
        loop {
            let k = key.clone();
            let here = self
                .inner
                .node
                .inspect(move |n| n.datum(&k).is_some_and(|d| d.timestamp >= at))
                .await
                .unwrap_or(true);
            if here || tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Writes `key = value` through the node's publish path; on failure answers as
    /// `RaftConsistencyServiceImpl.put` does (`Raft put failed, key:…, value:…`, 500), where
    /// `shown` is Java's `toString` of the value.
    pub async fn publish(&self, key: String, value: String, shown: &str) -> Result<(), ApiError> {
        let v = JsonValue::parse(&value)
            .map_err(|e| ApiError::exception(format!("cannot encode {key}: {e}")))?;
        let request = Request::Forward {
            key: key.clone(),
            value: v.clone(),
            leader_term: None,
        };
        // An instance list is changed from this node's copy: only the leader's copy holds every
        // write it acknowledged (hardened rules; `Handle::request_built_here`).
        let r = if key.starts_with(key::IPLIST_PREFIX) {
            self.inner.node.request_built_here(request).await
        } else {
            self.inner.node.request(request).await
        };
        if let Err(e) = r {
            warn!(%key, error = %e, "naming write failed");
            if e.message.starts_with(crate::actor::BUILT_HERE_NOT_LEADER) {
                // Not Java's failure but a refusal of its own: the client learns to retry.
                return Err(ApiError::nacos_server(e.message));
            }
            return Err(ApiError::nacos_server(format!(
                "Raft put failed, key:{key}, value:{shown}"
            )));
        }
        self.await_local(key, Some(v)).await;
        Ok(())
    }

    /// Deletes `key` through the leader's delete path (`Raft remove failed, key:…` on
    /// failure). An instance-list key removed on a follower would only be removed there
    /// (`RaftConsistencyServiceImpl.remove`); Java removes a deleted service's list on every
    /// server because each one's `ServiceManager.onDelete` runs, the leader's included, so the
    /// removal is handed to the leader, whose delete commits reach every member.
    pub async fn remove(&self, key: String) -> Result<(), ApiError> {
        let (leading, leader, leader_term) = self
            .inner
            .node
            .inspect(|n| {
                let leader = n.leader().map(String::from);
                (n.is_leader(), leader, n.addressed_term())
            })
            .await
            .map_err(|e| ApiError::exception(e.message))?;
        let r: Result<(), String> = if leading || !key.starts_with(key::IPLIST_PREFIX) {
            self.inner
                .node
                .request(Request::ForwardDelete {
                    key: key.clone(),
                    leader_term: None,
                })
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else if let Some(leader) = leader {
            let delete = Request::ForwardDelete {
                key: key.clone(),
                leader_term,
            };
            let out = codec::encode_request(&delete, None);
            let call = self.inner.client.call(&leader, &out);
            match self.while_following(&leader, call).await {
                Some(Ok((200, _))) => Ok(()),
                Some(Ok((s, b))) => Err(format!("{s} {}", String::from_utf8_lossy(&b))),
                Some(Err(f)) => Err(f.to_string()),
                None => Err(forward_abandoned(&leader)),
            }
        } else {
            Err("no leader".into())
        };
        if let Err(e) = r {
            warn!(%key, error = %e, "naming delete failed");
            return Err(ApiError::nacos_server(format!(
                "Raft remove failed, key:{key}"
            )));
        }
        self.await_local(key, None).await;
        Ok(())
    }

    /// Waits (bounded) until this node's own copy of `key` is `value` (or absent for `None`).
    async fn await_local(&self, key: String, value: Option<JsonValue>) {
        let deadline = tokio::time::Instant::now() + LOCAL_APPLY_WAIT;
        loop {
            let (k, v) = (key.clone(), value.clone());
            let here = self
                .inner
                .node
                .inspect(move |n| match (n.datum(&k), &v) {
                    (None, None) => true,
                    (Some(d), Some(v)) => d.value.as_ref() == Some(v),
                    _ => false,
                })
                .await
                .unwrap_or(true);
            if here || tokio::time::Instant::now() >= deadline {
                if !here {
                    debug!(%key, "the write is acknowledged but not yet applied on this node");
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Creates the service if its meta key is absent (`createServiceIfAbsent`), then adds or
    /// replaces `instance` in its list (`addInstance`), both through the Raft.
    pub async fn add_instances(
        &self,
        namespace: &str,
        grouped: &str,
        instances: Vec<Instance>,
        must_exist: bool,
    ) -> Result<(), ApiError> {
        let iplist_key = key::iplist_key(namespace, grouped);
        let _guard = self.lock_service(&iplist_key).await;
        let found = self.find(namespace, grouped).await?;
        if found.meta.is_none() {
            if must_exist {
                return Err(ApiError::bad_request(format!(
                    "service not found, namespace: {namespace}, service: {grouped}"
                )));
            }
            let mut svc = Service::new(namespace, grouped, now_ms());
            svc.checksum = Some(model::checksum(&svc, &[]));
            info!(namespace, service = grouped, "creating service");
            self.publish(
                key::meta_key(namespace, grouped),
                json(&svc),
                &svc.java_string(),
            )
            .await?;
        }
        let stored = self.instances(found.iplist.as_ref())?;
        if must_exist {
            for i in &instances {
                // `service.allIPs().contains(instance)`: Instance.equals compares ip, port (0 is
                // a wildcard) and ephemeral.
                let present = stored.iter().any(|s| {
                    s.ip == i.ip && (s.port == i.port || i.port == 0) && s.ephemeral == i.ephemeral
                });
                if !present {
                    return Err(ApiError::bad_request(format!(
                        "instance not exist: {}",
                        i.java_string()
                    )));
                }
            }
        }
        let list = model::update_ips(
            grouped,
            &stored,
            &self.inner.health.of(&iplist_key),
            &model::Change::Add(instances),
        )?;
        let value = json(&Instances {
            instance_list: list,
        });
        self.publish(iplist_key, value.clone(), &value).await
    }

    /// Removes instances from a service's list (`removeInstance`), writing the list back even
    /// when it becomes empty. Nothing happens for a service that does not exist.
    pub async fn remove_instances(
        &self,
        namespace: &str,
        grouped: &str,
        instances: Vec<Instance>,
    ) -> Result<(), ApiError> {
        let iplist_key = key::iplist_key(namespace, grouped);
        let _guard = self.lock_service(&iplist_key).await;
        let found = self.find(namespace, grouped).await?;
        if found.meta.is_none() {
            return Ok(());
        }
        let stored = self.instances(found.iplist.as_ref())?;
        let list = model::update_ips(
            grouped,
            &stored,
            &self.inner.health.of(&iplist_key),
            &model::Change::Remove(instances),
        )?;
        let value = json(&Instances {
            instance_list: list,
        });
        self.publish(iplist_key, value.clone(), &value).await
    }

    // ---- health checks (leader) --------------------------------------------------------

    async fn check_loop(self) {
        let mut tick = tokio::time::interval(self.inner.settings.health_check_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            self.check_round().await;
        }
    }

    /// Every service with a meta key, with its instance list: `(iplist key, datum)`.
    async fn services_if_leader(&self) -> Option<(SwitchDomain, Vec<(String, Option<Datum>)>)> {
        self.inner
            .node
            .inspect(|n| {
                if !n.is_leader() {
                    return None;
                }
                Some((parse_switch(n.datum(key::SWITCH_KEY)), all_services(n)))
            })
            .await
            .ok()
            .flatten()
    }

    /// One round: check every unmarked persistent instance once, apply the verdicts.
    pub async fn check_round(&self) {
        let Some((switch, services)) = self.services_if_leader().await else {
            return;
        };
        if !switch.health_check_enabled {
            return;
        }
        let mut live: HashMap<String, HashSet<String>> = HashMap::new();
        let mut targets: Vec<(String, String, bool, String, i32)> = Vec::new();
        for (iplist_key, d) in &services {
            let Ok(list) = self.instances(d.as_ref()) else {
                continue;
            };
            let keys = live.entry(iplist_key.clone()).or_default();
            for i in list.iter().filter(|i| !i.ephemeral) {
                let dk = i.datum_key();
                keys.insert(dk.clone());
                if !i.marked {
                    targets.push((iplist_key.clone(), dk, i.healthy, i.ip.clone(), i.port));
                }
            }
        }
        let permits = Arc::new(Semaphore::new(CHECK_CONCURRENCY));
        let mut set = tokio::task::JoinSet::new();
        for (idx, (_, _, _, ip, port)) in targets.iter().enumerate() {
            let (me, ip, port, permits) = (self.clone(), ip.clone(), *port, permits.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (idx, me.probe(&ip, port).await)
            });
        }
        let mut by_service: HashMap<String, Vec<(String, bool, Outcome)>> = HashMap::new();
        while let Some(r) = set.join_next().await {
            let Ok((idx, Some(outcome))) = r else {
                continue;
            };
            let (svc, dk, stored, _, _) = &targets[idx];
            by_service
                .entry(svc.clone())
                .or_default()
                .push((dk.clone(), *stored, outcome));
        }
        let mut changed = false;
        for (svc, results) in by_service {
            if self
                .inner
                .health
                .apply(&svc, &results, switch.check_times.max(1))
            {
                info!(service = %svc, "health changed: {}", describe(&results, &self.inner.health.of(&svc)));
                changed = true;
            }
        }
        self.inner.health.retain(&live);
        if changed {
            self.inner.sync_now.notify_one();
        }
    }

    async fn probe(&self, ip: &str, port: i32) -> Option<Outcome> {
        probe(&self.inner.egress, &self.inner.refused, ip, port).await
    }

    // ---- health status sync (leader → members) ---------------------------------------

    async fn status_loop(self) {
        loop {
            let period = self
                .switch()
                .await
                .service_status_synchronization_period_millis;
            let period = Duration::from_millis(period.clamp(200, 600_000) as u64);
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = self.inner.sync_now.notified() => {}
            }
            self.report_statuses().await;
        }
    }

    /// `ServiceReporter`: the leader sends the checksum of every service with instances to
    /// every other member (`POST /nacos/v1/ns/service/status`).
    pub async fn report_statuses(&self) {
        let snap = self
            .inner
            .node
            .inspect(|n| {
                if !n.is_leader() {
                    return None;
                }
                let me = n.me().to_string();
                let members: Vec<String> = n
                    .peers()
                    .map(|p| p.ip.clone())
                    .filter(|ip| *ip != me)
                    .collect();
                let metas: Vec<Datum> = n
                    .datums()
                    .filter(|d| d.key.starts_with(key::META_PREFIX) && !key::is_switch(&d.key))
                    .cloned()
                    .collect();
                Some((members, metas, all_services(n)))
            })
            .await
            .ok()
            .flatten();
        let Some((members, metas, services)) = snap else {
            return;
        };
        let lists: HashMap<String, Option<Datum>> = services.into_iter().collect();
        let mut per_ns: HashMap<String, serde_json::Map<String, serde_json::Value>> =
            HashMap::new();
        for m in &metas {
            let Ok(svc) = parse_service(m) else { continue };
            let ns = key::namespace(&m.key).to_string();
            let grouped = key::service(&m.key).to_string();
            let iplist = lists
                .get(&key::iplist_key(&ns, &grouped))
                .cloned()
                .flatten();
            let Ok((list, sum)) = self.with_checksum(&svc, m, iplist.as_ref()) else {
                continue;
            };
            if list.is_empty() {
                continue;
            }
            per_ns
                .entry(ns)
                .or_default()
                .insert(grouped, sum.to_string().into());
        }
        for (ns, sums) in per_ns {
            let statuses = serde_json::json!({"namespaceId": ns, "serviceName2Checksum": sums});
            let body =
                serde_json::json!({"statuses": statuses.to_string(), "clientIP": self.inner.me});
            for m in &members {
                let out = Outbound {
                    method: "POST",
                    path_and_query: "/nacos/v1/ns/service/status".into(),
                    headers: vec![("content-type", codec::JSON_REQUEST.into())],
                    body: Bytes::from(body.to_string()),
                };
                let (client, to) = (self.inner.client.clone(), m.clone());
                tokio::spawn(async move {
                    match client.call(&to, &out).await {
                        Ok((200, _)) => {}
                        Ok((s, b)) => {
                            debug!(%to, status = s, body = %String::from_utf8_lossy(&b), "status sync refused")
                        }
                        Err(e) => debug!(%to, error = %e, "status sync failed"),
                    }
                });
            }
        }
    }

    /// `ServiceController.serviceStatus` on a receiving member: for every service whose
    /// checksum differs from this node's, fetch the sender's verdicts.
    pub async fn on_statuses(
        &self,
        from: String,
        namespace: String,
        sums: HashMap<String, String>,
    ) {
        for (grouped, remote) in sums {
            if grouped.is_empty() || remote.is_empty() {
                continue;
            }
            let Ok(found) = self.find(&namespace, &grouped).await else {
                continue;
            };
            let Some(meta) = &found.meta else { continue };
            let Ok(svc) = parse_service(meta) else {
                continue;
            };
            let Ok((_, sum)) = self.with_checksum(&svc, meta, found.iplist.as_ref()) else {
                continue;
            };
            if *sum == *remote {
                continue;
            }
            let full = format!("{namespace}##{grouped}");
            let fresh = self
                .inner
                .pulling
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(full.clone());
            if !fresh {
                continue;
            }
            let (me, from, ns) = (self.clone(), from.clone(), namespace.clone());
            tokio::spawn(async move {
                me.pull_statuses(&from, &ns, &grouped).await;
                me.inner
                    .pulling
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&full);
            });
        }
    }

    /// `ServiceManager.updatedHealthStatus`: GET `/instance/statuses?key=` from `from` and set
    /// every local instance's verdict (`ip:port` missing from the answer counts as unhealthy).
    async fn pull_statuses(&self, from: &str, namespace: &str, grouped: &str) {
        let full = format!("{namespace}##{grouped}");
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("key", &full)
            .finish();
        let out = Outbound {
            method: "GET",
            path_and_query: format!("/nacos/v1/ns/instance/statuses?{q}"),
            headers: vec![],
            body: Bytes::new(),
        };
        let body = match self.inner.client.call(from, &out).await {
            Ok((200, b)) => b,
            Ok((s, _)) => return debug!(%from, status = s, key = %full, "statuses refused"),
            Err(e) => return debug!(%from, error = %e, key = %full, "statuses failed"),
        };
        #[derive(serde::Deserialize)]
        struct Ips {
            ips: Vec<String>,
        }
        let Ok(ips) = serde_json::from_slice::<Ips>(&body) else {
            return warn!(%from, key = %full, "malformed statuses answer");
        };
        let remote: HashMap<&str, bool> = ips
            .ips
            .iter()
            .filter_map(|s| {
                let (addr, v) = s.rsplit_once('_')?;
                Some((addr, params::parse_boolean(v)))
            })
            .collect();
        let Ok(found) = self.find(namespace, grouped).await else {
            return;
        };
        let Ok(list) = self.instances(found.iplist.as_ref()) else {
            return;
        };
        let verdicts: Vec<(String, bool)> = list
            .iter()
            .filter(|i| !i.marked)
            .map(|i| {
                let v = remote.get(i.ip_addr().as_str()).copied().unwrap_or(false);
                (i.datum_key(), v)
            })
            .collect();
        let iplist_key = key::iplist_key(namespace, grouped);
        if self.inner.health.set(&iplist_key, &verdicts) {
            info!(service = %full, %from, "health verdicts synchronised from the leader");
        }
    }
}

/// One TCP check of `ip:port` through the egress gate; `None` when the gate refuses it (then
/// remembered in `refused`, so that it is logged once, not every round).
pub async fn probe(
    egress: &Egress,
    refused: &Mutex<HashSet<String>>,
    ip: &str,
    port: i32,
) -> Option<Outcome> {
    let Ok(port) = u16::try_from(port) else {
        return Some(Outcome::Failed);
    };
    if port == 0 {
        return Some(Outcome::Failed);
    }
    let host = ip.trim_start_matches('[').trim_end_matches(']');
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    if refused
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&target)
    {
        return None;
    }
    if egress.check(&target, "health check").is_err() {
        refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(target);
        return None;
    }
    let addr = match target.parse::<std::net::SocketAddr>() {
        Ok(a) => a,
        // A host name the instance was registered with (only without --loopback-only, which
        // refuses names before this point).
        Err(_) => match tokio::net::lookup_host(target.as_str()).await {
            Ok(mut it) => match it.next() {
                Some(a) => a,
                None => return Some(Outcome::Failed),
            },
            Err(_) => return Some(Outcome::Failed),
        },
    };
    match tokio::time::timeout(CHECK_CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => Some(Outcome::Ok),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Some(Outcome::Refused),
        Ok(Err(_)) | Err(_) => Some(Outcome::Failed),
    }
}

/// `(iplist key, datum)` of every service that has a meta key (a Java server knows a service
/// only through its meta key), in key order.
fn all_services(n: &nacos_raft_core::Node) -> Vec<(String, Option<Datum>)> {
    n.datums()
        .filter(|d| d.key.starts_with(key::META_PREFIX) && !key::is_switch(&d.key))
        .map(|d| {
            let ns = key::namespace(&d.key);
            let svc = key::service(&d.key);
            let k = key::iplist_key(ns, svc);
            let datum = n.datum(&k).cloned();
            (k, datum)
        })
        .collect()
}

fn describe(results: &[(String, bool, Outcome)], now: &HashMap<String, bool>) -> String {
    results
        .iter()
        .map(|(k, _, o)| {
            format!(
                "{k} {o:?} → healthy={}",
                now.get(k).copied().unwrap_or(true)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The namespace and grouped service name must make keys this node can store (Java has no
/// such rule; its folder names come from the namespace).
pub fn check_keys(namespace: &str, grouped: &str) -> Result<(), ApiError> {
    let k = key::iplist_key(namespace, grouped);
    key::validate_client_key(&k)
        .map(|_| ())
        .and_then(|_| crate::store::storable(&k))
        .map_err(|why| {
            ApiError::bad_request(format!(
                "namespaceId {namespace:?} with service {grouped:?} cannot be stored: {why}"
            ))
        })
}

/// `Service.validate` (name) and the cluster rule of `Cluster.validate`, applied to what a
/// registration would create.
pub fn check_names(grouped: &str, cluster: Option<&str>) -> Result<(), ApiError> {
    if !nm::valid_service_name(grouped) {
        return Err(ApiError::bad_request(format!(
            "dom name can only have these characters: 0-9a-zA-Z-._:, current: {grouped}"
        )));
    }
    if let Some(c) = cluster {
        if !nm::valid_cluster_name(c) {
            return Err(ApiError::bad_request(format!(
                "cluster name can only have these characters: 0-9a-zA-Z-, current: {c}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    #[tokio::test]
    async fn checks_connect_refuse_and_stay_behind_the_egress_gate() {
        let refusals = Counter::default();
        let gate = Egress::new(true, refusals.clone());
        let refused = Mutex::new(HashSet::new());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        assert_eq!(
            probe(&gate, &refused, "127.0.0.1", i32::from(open)).await,
            Some(Outcome::Ok)
        );
        assert_eq!(
            probe(&gate, &refused, "127.0.0.1", i32::from(closed)).await,
            Some(Outcome::Refused)
        );
        assert_eq!(
            probe(&gate, &refused, "127.0.0.1", 0).await,
            Some(Outcome::Failed)
        );
        assert_eq!(
            probe(&gate, &refused, "127.0.0.1", 70_000).await,
            Some(Outcome::Failed)
        );
        // Outside 127.0.0.0/8, or a name: never contacted, refused once, then skipped quietly.
        for ip in ["10.0.0.5", "db.example", "::1"] {
            assert_eq!(probe(&gate, &refused, ip, 80).await, None, "{ip}");
            assert_eq!(probe(&gate, &refused, ip, 80).await, None, "{ip}");
        }
        assert_eq!(refusals.get(), 3);
        drop(listener);
    }

    #[test]
    fn names_and_keys_are_checked() {
        assert!(check_names("DEFAULT_GROUP@@demo", Some("DEFAULT")).is_ok());
        assert_eq!(
            check_names("DEFAULT_GROUP@@a b", None).unwrap_err().body,
            "dom name can only have these characters: 0-9a-zA-Z-._:, current: DEFAULT_GROUP@@a b"
        );
        assert_eq!(
            check_names("g@@s", Some("a_b")).unwrap_err().body,
            "cluster name can only have these characters: 0-9a-zA-Z-, current: a_b"
        );
        assert!(check_keys("public", "g@@s").is_ok());
        for ns in ["..", "a/b", "", "a b"] {
            assert_eq!(check_keys(ns, "g@@s").unwrap_err().status, 400, "{ns:?}");
        }
    }
}
