//! The values Nacos' naming module stores through this Raft, typed: [`Instances`] under
//! instance-list keys, [`Service`] under meta keys and (the part this project reads of it)
//! [`SwitchDomain`] under the switch key — with serde, field for field and in the order Java
//! 1.4.1's Jackson writes them, so that a value written here reads as the same object in Java and
//! the other way round. No I/O: the native node serves the naming API with these types, the page
//! decodes datums with [`decode`].
//!
//! Jackson writes the fields of a class in declaration order, the superclass's first, then the
//! properties that exist only as getters (`naming/core/Instance.java`,
//! `api/naming/pojo/Instance.java`, `naming/core/Service.java`, `naming/core/Cluster.java`);
//! `@JsonInclude(NON_NULL)` drops null fields. Unknown fields are ignored on input (Jackson's
//! mapper is configured so: `JacksonUtils.java:46`), so are Java's output-only getters.

use crate::key::KeyKind;
use crate::JsonValue;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::de::Deserializer;
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

mod check;

/// `Constants.DEFAULT_NAMESPACE_ID`.
pub const DEFAULT_NAMESPACE: &str = "public";
/// `Constants.DEFAULT_GROUP`.
pub const DEFAULT_GROUP: &str = "DEFAULT_GROUP";
/// `UtilsAndCommons.DEFAULT_CLUSTER_NAME`.
pub const DEFAULT_CLUSTER: &str = "DEFAULT";
/// `Constants.SERVICE_INFO_SPLITER`: `group@@service`.
pub const GROUP_SEPARATOR: &str = "@@";
/// `UtilsAndCommons.LOCALHOST_SITE` (= `UNKNOWN_SITE`), the third part of a datum key.
pub const LOCALHOST_SITE: &str = "unknown";
/// `PreservedMetadataKeys.HEART_BEAT_INTERVAL`.
pub const HEART_BEAT_INTERVAL_KEY: &str = "preserved.heart.beat.interval";
/// `PreservedMetadataKeys.HEART_BEAT_TIMEOUT`.
pub const HEART_BEAT_TIMEOUT_KEY: &str = "preserved.heart.beat.timeout";
/// `PreservedMetadataKeys.IP_DELETE_TIMEOUT`.
pub const IP_DELETE_TIMEOUT_KEY: &str = "preserved.ip.delete.timeout";
/// `PreservedMetadataKeys.INSTANCE_ID_GENERATOR`.
pub const INSTANCE_ID_GENERATOR_KEY: &str = "preserved.instance.id.generator";
/// `Constants.DEFAULT_HEART_BEAT_INTERVAL` (ms).
pub const DEFAULT_HEART_BEAT_INTERVAL: i64 = 5_000;
/// `Constants.DEFAULT_HEART_BEAT_TIMEOUT` (ms).
pub const DEFAULT_HEART_BEAT_TIMEOUT: i64 = 15_000;
/// `Constants.DEFAULT_IP_DELETE_TIMEOUT` (ms).
pub const DEFAULT_IP_DELETE_TIMEOUT: i64 = 30_000;
/// `Constants.DEFAULT_INSTANCE_ID_GENERATOR`.
pub const DEFAULT_INSTANCE_ID_GENERATOR: &str = "simple";
/// Largest weight `Instance.validate` accepts (`Instance.java:49`).
pub const MAX_WEIGHT: f64 = 10_000.0;

/// Reads a field whose JSON may be `null` as its default (Jackson leaves the Java default or a
/// null there; every reader here treats both alike).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A `Map<String, String>` as Jackson reads it: scalars are coerced to their text, `null`
/// values dropped.
fn string_map<'de, D>(d: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    use serde_json::Value;
    let raw = Option::<BTreeMap<String, Value>>::deserialize(d)?.unwrap_or_default();
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            // `to_string`, not `Value`'s `Display`: the same compact JSON, without bringing
            // `Display`'s pretty form and its `io::Write` adapter into the page (issue 14).
            other => {
                let json = serde_json::to_string(&other).unwrap_or_default();
                return Err(serde::de::Error::custom(format!(
                    "metadata value of {k} is not a string: {json}"
                )));
            }
        };
        out.insert(k, text);
    }
    Ok(out)
}

fn default_true() -> bool {
    true
}

fn default_weight() -> f64 {
    1.0
}

/// One instance (`naming/core/Instance.java` over `api/naming/pojo/Instance.java`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// `ip#port#cluster#group@@service` for the simple generator.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// The address as registered (Java does not check names; dotted quads are checked).
    #[serde(default, deserialize_with = "nullable")]
    pub ip: String,
    /// The port.
    #[serde(default, deserialize_with = "nullable")]
    pub port: i32,
    /// 0 to 10,000.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// As stored; the health checker's verdict lives in memory (see the native node).
    #[serde(default = "default_true")]
    pub healthy: bool,
    /// Disabled instances are left out of `/instance/list`.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Always false here: ephemeral instances belong to Distro.
    #[serde(default = "default_true")]
    pub ephemeral: bool,
    /// Its cluster (`DEFAULT` when absent or empty, as `Service.updateIPs` sets it).
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The grouped service name (`DEFAULT_GROUP@@demo`).
    #[serde(default)]
    pub service_name: Option<String>,
    /// String to string.
    #[serde(default, deserialize_with = "string_map")]
    pub metadata: BTreeMap<String, String>,
    /// Milliseconds since the epoch of the registration (or last client beat).
    #[serde(default, deserialize_with = "nullable")]
    pub last_beat: i64,
    /// Marked instances are not health-checked; their stored `healthy` stands.
    #[serde(default, deserialize_with = "nullable")]
    pub marked: bool,
    /// Written only when set.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The `app` parameter of the registration (`DEFAULT` when none).
    #[serde(default)]
    pub app: Option<String>,
}

impl Default for Instance {
    fn default() -> Self {
        Instance {
            instance_id: None,
            ip: String::new(),
            port: 0,
            weight: 1.0,
            healthy: true,
            enabled: true,
            ephemeral: true,
            cluster_name: None,
            service_name: None,
            metadata: BTreeMap::new(),
            last_beat: 0,
            marked: false,
            tenant: None,
            app: None,
        }
    }
}

impl Instance {
    /// Its cluster, `DEFAULT` when none is set.
    pub fn cluster(&self) -> &str {
        match self.cluster_name.as_deref() {
            Some(c) if !c.is_empty() => c,
            _ => DEFAULT_CLUSTER,
        }
    }

    /// `ip:port` (`toIpAddr`).
    pub fn ip_addr(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// `getDatumKey`: what an instance is replaced and removed by (`ip:port:unknown:cluster`).
    pub fn datum_key(&self) -> String {
        if self.port > 0 {
            format!(
                "{}:{}:{LOCALHOST_SITE}:{}",
                self.ip,
                self.port,
                self.cluster()
            )
        } else {
            format!("{}:{LOCALHOST_SITE}:{}", self.ip, self.cluster())
        }
    }

    /// `generateInstanceId()`: `ip#port#cluster#service`.
    pub fn generate_instance_id(&self) -> String {
        format!(
            "{}#{}#{}#{}",
            self.ip,
            self.port,
            self.cluster_name.as_deref().unwrap_or("null"),
            self.service_name.as_deref().unwrap_or("null")
        )
    }

    /// `Instance.toString()` of the naming module: `datumKey_weight_healthy_marked_cluster`; used
    /// to sort instances (`compareTo`) and in error messages.
    pub fn java_string(&self) -> String {
        format!(
            "{}_{}_{}_{}_{}",
            self.datum_key(),
            java_double(self.weight),
            self.healthy,
            self.marked,
            self.cluster_name.as_deref().unwrap_or("null")
        )
    }

    fn long_metadata(&self, key: &str, default: i64) -> i64 {
        match self.metadata.get(key) {
            Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                v.parse().unwrap_or(default)
            }
            _ => default,
        }
    }

    /// `getInstanceHeartBeatInterval`.
    pub fn heart_beat_interval(&self) -> i64 {
        self.long_metadata(HEART_BEAT_INTERVAL_KEY, DEFAULT_HEART_BEAT_INTERVAL)
    }

    /// `getInstanceHeartBeatTimeOut`.
    pub fn heart_beat_timeout(&self) -> i64 {
        self.long_metadata(HEART_BEAT_TIMEOUT_KEY, DEFAULT_HEART_BEAT_TIMEOUT)
    }

    /// `getIpDeleteTimeout`.
    pub fn ip_delete_timeout(&self) -> i64 {
        self.long_metadata(IP_DELETE_TIMEOUT_KEY, DEFAULT_IP_DELETE_TIMEOUT)
    }

    /// `getInstanceIdGenerator`: `simple` with no metadata at all, else the metadata entry
    /// (absent, hence not written, when the key is missing).
    pub fn instance_id_generator(&self) -> Option<&str> {
        if self.metadata.is_empty() {
            Some(DEFAULT_INSTANCE_ID_GENERATOR)
        } else {
            self.metadata
                .get(INSTANCE_ID_GENERATOR_KEY)
                .map(String::as_str)
        }
    }
}

impl Serialize for Instance {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Instance", 18)?;
        if let Some(id) = &self.instance_id {
            st.serialize_field("instanceId", id)?;
        }
        st.serialize_field("ip", &self.ip)?;
        st.serialize_field("port", &self.port)?;
        st.serialize_field("weight", &self.weight)?;
        st.serialize_field("healthy", &self.healthy)?;
        st.serialize_field("enabled", &self.enabled)?;
        st.serialize_field("ephemeral", &self.ephemeral)?;
        if let Some(c) = &self.cluster_name {
            st.serialize_field("clusterName", c)?;
        }
        if let Some(n) = &self.service_name {
            st.serialize_field("serviceName", n)?;
        }
        st.serialize_field("metadata", &self.metadata)?;
        st.serialize_field("lastBeat", &self.last_beat)?;
        st.serialize_field("marked", &self.marked)?;
        if let Some(t) = &self.tenant {
            st.serialize_field("tenant", t)?;
        }
        if let Some(a) = &self.app {
            st.serialize_field("app", a)?;
        }
        // Getter-only properties, written after the fields and ignored on input.
        st.serialize_field("instanceHeartBeatInterval", &self.heart_beat_interval())?;
        st.serialize_field("instanceHeartBeatTimeOut", &self.heart_beat_timeout())?;
        st.serialize_field("ipDeleteTimeout", &self.ip_delete_timeout())?;
        if let Some(g) = self.instance_id_generator() {
            st.serialize_field("instanceIdGenerator", g)?;
        }
        st.end()
    }
}

/// The value of an instance-list key: `{"instanceList":[...]}` (`Instances.java`; its checksum
/// getter is `@JsonIgnore`d).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instances {
    /// The instances, in the order they were written.
    #[serde(default, deserialize_with = "nullable")]
    pub instance_list: Vec<Instance>,
}

/// A cluster of a service as it sits in the service's `clusterMap` (`naming/core/Cluster.java`
/// over `api/naming/pojo/Cluster.java`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cluster {
    /// The grouped service name.
    pub service_name: Option<String>,
    /// The cluster name.
    pub name: Option<String>,
    /// Polymorphic by `type` (`TCP`, `HTTP`, `MYSQL`, `NONE`); kept as JSON.
    pub health_checker: serde_json::Value,
    /// `defaultPort`.
    pub default_port: i32,
    /// `defaultCheckPort`.
    pub default_check_port: i32,
    /// Check the instance's own port (else `defCkport`).
    #[serde(rename = "useIPPort4Check")]
    pub use_ip_port4_check: bool,
    /// Cluster metadata.
    #[serde(deserialize_with = "string_map")]
    pub metadata: BTreeMap<String, String>,
    /// `sitegroup`.
    pub sitegroup: String,
    /// `defCkport`.
    pub def_ckport: i32,
    /// `defIPPort`.
    #[serde(rename = "defIPPort")]
    pub def_ip_port: i32,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            service_name: None,
            name: None,
            health_checker: serde_json::json!({"type": "TCP"}),
            default_port: 80,
            default_check_port: 80,
            use_ip_port4_check: true,
            metadata: BTreeMap::new(),
            sitegroup: String::new(),
            def_ckport: 80,
            def_ip_port: 80,
        }
    }
}

impl Serialize for Cluster {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Cluster", 11)?;
        if let Some(n) = &self.service_name {
            st.serialize_field("serviceName", n)?;
        }
        if let Some(n) = &self.name {
            st.serialize_field("name", n)?;
        }
        st.serialize_field("healthChecker", &self.health_checker)?;
        st.serialize_field("defaultPort", &self.default_port)?;
        st.serialize_field("defaultCheckPort", &self.default_check_port)?;
        st.serialize_field("useIPPort4Check", &self.use_ip_port4_check)?;
        st.serialize_field("metadata", &self.metadata)?;
        st.serialize_field("sitegroup", &self.sitegroup)?;
        st.serialize_field("defCkport", &self.def_ckport)?;
        st.serialize_field("defIPPort", &self.def_ip_port)?;
        // The stored cluster map describes clusters, not their instances.
        st.serialize_field("empty", &true)?;
        st.end()
    }
}

fn none_selector() -> serde_json::Value {
    serde_json::json!({"type": "none"})
}

fn default_ip_delete_timeout() -> i64 {
    DEFAULT_IP_DELETE_TIMEOUT
}

/// The value of a meta key (`naming/core/Service.java` over `api/naming/pojo/Service.java`).
/// Instances are not part of it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// The grouped name (`DEFAULT_GROUP@@demo`).
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Below or at this share of healthy instances, `/instance/list` returns all as healthy.
    #[serde(default, deserialize_with = "nullable")]
    pub protect_threshold: f32,
    /// Written only when set.
    #[serde(default)]
    pub app_name: Option<String>,
    /// `NamingUtils.getGroupName(name)`.
    #[serde(default)]
    pub group_name: Option<String>,
    /// Service metadata.
    #[serde(default, deserialize_with = "string_map")]
    pub metadata: BTreeMap<String, String>,
    /// Empty-service auto-clean counter.
    #[serde(default, deserialize_with = "nullable")]
    pub finalize_count: i32,
    /// Written only when set.
    #[serde(default)]
    pub token: Option<String>,
    /// Owners.
    #[serde(default, deserialize_with = "nullable")]
    pub owners: Vec<String>,
    /// `resetWeight`.
    #[serde(default, deserialize_with = "nullable")]
    pub reset_weight: bool,
    /// A disabled service answers `/instance/list` with an error.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// `{"type":"none"}` or `{"type":"label","labels":[..],"expression":".."}`.
    #[serde(default = "none_selector")]
    pub selector: serde_json::Value,
    /// The namespace (`public` when missing, as `ServiceManager.onChange` sets it).
    #[serde(default)]
    pub namespace_id: Option<String>,
    /// `ipDeleteTimeout` (ms).
    #[serde(default = "default_ip_delete_timeout")]
    pub ip_delete_timeout: i64,
    /// When the service was last changed (ms).
    #[serde(default, deserialize_with = "nullable")]
    pub last_modified_millis: i64,
    /// MD5 of the service and its instances when written.
    #[serde(default)]
    pub checksum: Option<String>,
    /// Clusters by name.
    #[serde(default, deserialize_with = "nullable")]
    pub cluster_map: BTreeMap<String, Cluster>,
    /// `isEmpty()` when written: no instance in any cluster. Output only in Java.
    #[serde(default = "default_true")]
    pub empty: bool,
}

impl Service {
    /// A new service as `ServiceManager.createServiceIfAbsent` builds it (`ServiceManager.java:468`).
    pub fn new(namespace: &str, grouped_name: &str, now_ms: i64) -> Service {
        Service {
            name: grouped_name.into(),
            protect_threshold: 0.0,
            app_name: None,
            group_name: Some(group_name(grouped_name).into()),
            metadata: BTreeMap::new(),
            finalize_count: 0,
            token: None,
            owners: Vec::new(),
            reset_weight: false,
            enabled: true,
            selector: none_selector(),
            namespace_id: Some(namespace.into()),
            ip_delete_timeout: DEFAULT_IP_DELETE_TIMEOUT,
            last_modified_millis: now_ms,
            checksum: None,
            cluster_map: BTreeMap::new(),
            empty: true,
        }
    }

    /// Its namespace, `public` when none was written.
    pub fn namespace(&self) -> &str {
        match self.namespace_id.as_deref() {
            Some(n) if !n.trim().is_empty() => n,
            _ => DEFAULT_NAMESPACE,
        }
    }

    /// `Service{name='..', protectThreshold=.., appName='..', groupName='..', metadata={..}}`
    /// (`api/naming/pojo/Service.java:111`), as Java's `Raft put failed` message shows a service.
    pub fn java_string(&self) -> String {
        let meta: Vec<String> = self
            .metadata
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "Service{{name='{}', protectThreshold={}, appName='{}', groupName='{}', metadata={{{}}}}}",
            self.name,
            java_float(self.protect_threshold),
            self.app_name.as_deref().unwrap_or("null"),
            self.group_name.as_deref().unwrap_or("null"),
            meta.join(", ")
        )
    }
}

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Service", 17)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("protectThreshold", &self.protect_threshold)?;
        if let Some(a) = &self.app_name {
            st.serialize_field("appName", a)?;
        }
        if let Some(g) = &self.group_name {
            st.serialize_field("groupName", g)?;
        }
        st.serialize_field("metadata", &self.metadata)?;
        st.serialize_field("finalizeCount", &self.finalize_count)?;
        if let Some(t) = &self.token {
            st.serialize_field("token", t)?;
        }
        st.serialize_field("owners", &self.owners)?;
        st.serialize_field("resetWeight", &self.reset_weight)?;
        st.serialize_field("enabled", &self.enabled)?;
        st.serialize_field("selector", &self.selector)?;
        if let Some(n) = &self.namespace_id {
            st.serialize_field("namespaceId", n)?;
        }
        st.serialize_field("ipDeleteTimeout", &self.ip_delete_timeout)?;
        st.serialize_field("lastModifiedMillis", &self.last_modified_millis)?;
        if let Some(c) = &self.checksum {
            st.serialize_field("checksum", c)?;
        }
        st.serialize_field("clusterMap", &self.cluster_map)?;
        st.serialize_field("empty", &self.empty)?;
        st.end()
    }
}

fn d_cache_millis() -> i64 {
    3_000
}
fn d_push_cache_millis() -> i64 {
    10_000
}
fn d_client_beat_interval() -> i64 {
    5_000
}
fn d_check_times() -> u32 {
    3
}
fn d_service_status_sync_ms() -> i64 {
    5_000
}

/// The settings of the switch object (`misc/SwitchDomain.java`) that the naming API reads; the
/// other fields are ignored here and left untouched in the datum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchDomain {
    /// `cacheMillis` of `/instance/list` answers (3,000).
    #[serde(default = "d_cache_millis", deserialize_with = "or_cache_millis")]
    pub default_cache_millis: i64,
    /// `cacheMillis` with UDP push (10,000; push is not implemented here).
    #[serde(default = "d_push_cache_millis")]
    pub default_push_cache_millis: i64,
    /// `clientBeatInterval` of beat answers (5,000).
    #[serde(default = "d_client_beat_interval")]
    pub client_beat_interval: i64,
    /// Health checks run at all (true).
    #[serde(default = "default_true")]
    pub health_check_enabled: bool,
    /// Consecutive results that flip an instance's health (3).
    #[serde(default = "d_check_times")]
    pub check_times: u32,
    /// Period of the health status sync between servers (5,000).
    #[serde(default = "d_service_status_sync_ms")]
    pub service_status_synchronization_period_millis: i64,
    /// `lightBeatEnabled` of beat answers (true).
    #[serde(default = "default_true")]
    pub light_beat_enabled: bool,
    /// The `ephemeral` default of a registration (true).
    #[serde(default = "default_true")]
    pub default_instance_ephemeral: bool,
}

fn or_cache_millis<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.unwrap_or(3_000))
}

impl Default for SwitchDomain {
    fn default() -> Self {
        SwitchDomain {
            default_cache_millis: d_cache_millis(),
            default_push_cache_millis: d_push_cache_millis(),
            client_beat_interval: d_client_beat_interval(),
            health_check_enabled: true,
            check_times: d_check_times(),
            service_status_synchronization_period_millis: d_service_status_sync_ms(),
            light_beat_enabled: true,
            default_instance_ephemeral: true,
        }
    }
}

/// A datum value decoded by its key's kind.
#[derive(Clone, Debug, PartialEq)]
pub enum NamingValue {
    /// The switch.
    Switch(SwitchDomain),
    /// A service's metadata (boxed: by far the largest).
    Service(alloc::boxed::Box<Service>),
    /// A service's persistent instances.
    Instances(Instances),
}

/// Decodes a datum value as Nacos would for a key of `kind` ([`crate::key::kind`]).
pub fn decode(kind: KeyKind, value: &str) -> Result<NamingValue, serde_json::Error> {
    Ok(match kind {
        KeyKind::Switch => NamingValue::Switch(serde_json::from_str(value)?),
        KeyKind::Meta => NamingValue::Service(alloc::boxed::Box::new(serde_json::from_str(value)?)),
        KeyKind::Iplist => NamingValue::Instances(serde_json::from_str(value)?),
    })
}

/// The class Nacos types a value of `kind` as (`RaftController.publish`, RaftStore 164-228).
pub fn java_class(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Switch => "com.alibaba.nacos.naming.misc.SwitchDomain",
        KeyKind::Meta => "com.alibaba.nacos.naming.core.Service",
        KeyKind::Iplist => "com.alibaba.nacos.naming.core.Instances",
    }
}

/// How [`check_value`]'s errors begin (`NacosDeserializationException`'s message): Nacos throws
/// them in the controller, before the consistency service, so they are never wrapped in its
/// `Raft put failed` / `Raft onPut failed` texts.
pub const DESERIALIZE_FAILED: &str = "errCode: 101, errMsg: Nacos deserialize for class [";

/// Whether Nacos can type `value` as a `kind` value (`JacksonUtils.toObj(value, cls)`); the
/// error is the message chain Nacos answers for the `NacosDeserializationException` (without
/// the outer `caused: ` and `;` that [`crate::RaftError::http_body`] adds), naming `class` (the
/// class Java passes: [`java_class`] for a value, an anonymous `TypeReference` for a datum).
/// A JSON `null` reads as a null object in Java, not as an error: the paths that refuse empty
/// values do that themselves. The reader reads this module's types field for field without
/// building them (`check`, held to [`decode`] by a property test), so a value passes here
/// exactly when the naming API can read it.
pub fn check_value(kind: KeyKind, value: &str, class: &str) -> Result<(), String> {
    if value.trim() == "null" {
        return Ok(());
    }
    check::check(kind, value).map_err(|e| {
        format!("errCode: 101, errMsg: Nacos deserialize for class [{class}] failed. ;caused: {e}")
    })
}

/// [`check_value`] of a held value, decoding it only if it has not passed for `kind` before
/// (the outcome is memoised in the value, shared by all its copies; only success is, so an
/// error is produced and worded exactly as by `check_value`).
pub(crate) fn check_json(kind: KeyKind, value: &JsonValue, class: &str) -> Result<(), String> {
    if value.decodes_as(kind) {
        return Ok(());
    }
    check_value(kind, value.as_str(), class)?;
    value.set_decodes_as(kind);
    Ok(())
}

// ---- names (api/naming/utils/NamingUtils.java) -----------------------------------------

/// Java's `String.split("@@")`: trailing empty parts are dropped.
pub fn split_group(name: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = name.split(GROUP_SEPARATOR).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// `checkServiceNameFormat`: at least two `@@`-separated parts (`NamingUtils.java`).
pub fn check_service_name_format(grouped: &str) -> Result<(), &'static str> {
    if split_group(grouped).len() <= 1 {
        Err("Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'")
    } else {
        Ok(())
    }
}

/// `getGroupName`: the part before `@@`, `DEFAULT_GROUP` without one, `""` for a blank name.
pub fn group_name(name: &str) -> &str {
    if name.trim().is_empty() {
        return "";
    }
    if !name.contains(GROUP_SEPARATOR) {
        return DEFAULT_GROUP;
    }
    split_group(name).first().copied().unwrap_or("")
}

/// `getServiceName`: the part after `@@` (the name itself without one).
pub fn service_name(name: &str) -> &str {
    if name.trim().is_empty() {
        return "";
    }
    if !name.contains(GROUP_SEPARATOR) {
        return name;
    }
    split_group(name).get(1).copied().unwrap_or("")
}

/// `Service.validate`'s name rule `[0-9a-zA-Z@\.:_-]+` (`Service.java:65`).
pub fn valid_service_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@.:_-".contains(&b))
}

/// `Cluster.validate`'s name rule `[0-9a-zA-Z-]+` (`Cluster.java:47`).
pub fn valid_cluster_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

// ---- Java's number texts ---------------------------------------------------------------

fn java_exponent_form(sci: &str) -> String {
    // Rust writes `1e-4` / `1.5e10`; Java writes `1.0E-4` / `1.5E10`.
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let mant = if mant.contains('.') {
        String::from(mant)
    } else {
        format!("{mant}.0")
    };
    format!("{mant}E{exp}")
}

/// `Double.toString`: plain decimal with at least one fraction digit in [10⁻³, 10⁷), else
/// scientific (`1.0E-4`); shortest digits that read back the same value.
pub fn java_double(v: f64) -> String {
    java_decimal(v, || format!("{v:?}"), || format!("{v:e}"))
}

/// `Float.toString`, with the same rules for `f32`.
pub fn java_float(v: f32) -> String {
    // Widening keeps NaN, the infinities and which side of 10⁻³ and 10⁷ the value is on, so
    // the choice of form is the same; the digits come from the `f32` itself.
    java_decimal(f64::from(v), || format!("{v:?}"), || format!("{v:e}"))
}

/// The shared rules of `Double.toString` and `Float.toString`: `v` picks the form, `shortest`
/// and `scientific` are Rust's shortest round-trip digits of the original value.
fn java_decimal(
    v: f64,
    shortest: impl FnOnce() -> String,
    scientific: impl FnOnce() -> String,
) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = shortest();
        if s.contains('.') || s.contains('e') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        java_exponent_form(&scientific())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instance as Java 1.4.1 stores it (field set and order of a real 1.4.x log line,
    /// nacos-protocol.md §3.5), with `app` as a registration through the API sets it.
    const JAVA_INSTANCE: &str = r#"{"instanceId":"127.0.0.5#8080#DEFAULT#DEFAULT_GROUP@@demo","ip":"127.0.0.5","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@demo","metadata":{},"lastBeat":1600000000000,"marked":false,"app":"DEFAULT","instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000,"instanceIdGenerator":"simple"}"#;

    #[test]
    fn a_held_value_is_checked_as_check_value_does_per_kind() {
        let list = JsonValue::parse(&format!("{{\"instanceList\":[{JAVA_INSTANCE}]}}")).unwrap();
        let copy = list.clone();
        let class = java_class(KeyKind::Iplist);
        assert_eq!(check_json(KeyKind::Iplist, &list, class), Ok(()));
        // Remembered in the shared value, per kind: as a `Service` or a switch it is decoded
        // on its own, with check_value's outcome, every time.
        assert!(copy.decodes_as(KeyKind::Iplist));
        for kind in [KeyKind::Meta, KeyKind::Switch] {
            let want = check_value(kind, list.as_str(), java_class(kind));
            assert_eq!(check_json(kind, &copy, java_class(kind)), want);
            assert_eq!(check_json(kind, &list, java_class(kind)), want);
            assert_eq!(list.decodes_as(kind), want.is_ok(), "{kind:?}");
        }
        // A value that fails stays failing; an equal value parsed anew starts unknown.
        let bad = JsonValue::parse(r#"{"instanceList":7}"#).unwrap();
        let err = check_json(KeyKind::Iplist, &bad, class).unwrap_err();
        assert_eq!(check_json(KeyKind::Iplist, &bad, class), Err(err));
        assert!(!JsonValue::parse(list.as_str())
            .unwrap()
            .decodes_as(KeyKind::Iplist));
    }

    #[test]
    fn an_instance_round_trips_byte_for_byte_in_jacksons_order() {
        let i: Instance = serde_json::from_str(JAVA_INSTANCE).unwrap();
        assert_eq!(i.ip, "127.0.0.5");
        assert!(!i.ephemeral);
        assert_eq!(i.app.as_deref(), Some("DEFAULT"));
        assert_eq!(serde_json::to_string(&i).unwrap(), JAVA_INSTANCE);
        let list = Instances {
            instance_list: alloc::vec![i.clone()],
        };
        let text = serde_json::to_string(&list).unwrap();
        assert_eq!(text, format!("{{\"instanceList\":[{JAVA_INSTANCE}]}}"));
        assert_eq!(i.generate_instance_id(), i.instance_id.clone().unwrap());
        assert_eq!(i.datum_key(), "127.0.0.5:8080:unknown:DEFAULT");
        assert_eq!(
            i.java_string(),
            "127.0.0.5:8080:unknown:DEFAULT_1.0_true_false_DEFAULT"
        );
    }

    #[test]
    fn a_metadata_value_that_is_not_a_scalar_is_refused_with_its_json() {
        let err = check_value(
            KeyKind::Iplist,
            r#"{"instanceList":[{"metadata":{"a":1,"b":true,"c":null,"d":[1, {"x" : "y"}]}}]}"#,
            "C",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "errCode: 101, errMsg: Nacos deserialize for class [C] failed. ;caused: \
             metadata value of d is not a string: [1,{\"x\":\"y\"}] at line 1 column 76"
        );
    }

    #[test]
    fn derived_fields_follow_the_metadata() {
        let mut i = Instance {
            ip: "127.0.0.1".into(),
            port: 1,
            ..Instance::default()
        };
        i.metadata.insert("k".into(), "v".into());
        i.metadata
            .insert(HEART_BEAT_INTERVAL_KEY.into(), "1000".into());
        i.metadata.insert(HEART_BEAT_TIMEOUT_KEY.into(), "x".into());
        assert_eq!(i.heart_beat_interval(), 1000);
        assert_eq!(i.heart_beat_timeout(), DEFAULT_HEART_BEAT_TIMEOUT);
        assert_eq!(i.instance_id_generator(), None);
        let text = serde_json::to_string(&i).unwrap();
        assert!(text.ends_with(r#""instanceHeartBeatInterval":1000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000}"#), "{text}");
        assert!(
            !text.contains("instanceId\""),
            "null instanceId is left out: {text}"
        );
    }

    #[test]
    fn java_defaults_and_lenient_input() {
        let i: Instance =
            serde_json::from_str(r#"{"ip":"127.0.0.1","port":80,"metadata":{"a":1,"b":true,"c":null},"clusterName":"","x":1}"#)
                .unwrap();
        assert_eq!(i.weight, 1.0);
        assert!(i.healthy && i.enabled && i.ephemeral);
        assert_eq!(i.cluster(), DEFAULT_CLUSTER);
        assert_eq!(i.metadata.get("a").map(String::as_str), Some("1"));
        assert_eq!(i.metadata.get("b").map(String::as_str), Some("true"));
        assert!(!i.metadata.contains_key("c"));
        let e: Instances = serde_json::from_str(r#"{"instanceList":null}"#).unwrap();
        assert!(e.instance_list.is_empty());
        assert!(serde_json::from_str::<Instance>(r#"{"metadata":{"a":[1]}}"#).is_err());
    }

    #[test]
    fn a_new_service_is_written_in_field_order() {
        let s = Service::new("public", "DEFAULT_GROUP@@demo", 1_600_000_000_000);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(
            text,
            r#"{"name":"DEFAULT_GROUP@@demo","protectThreshold":0.0,"groupName":"DEFAULT_GROUP","metadata":{},"finalizeCount":0,"owners":[],"resetWeight":false,"enabled":true,"selector":{"type":"none"},"namespaceId":"public","ipDeleteTimeout":30000,"lastModifiedMillis":1600000000000,"clusterMap":{},"empty":true}"#
        );
        let back: Service = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            s.java_string(),
            "Service{name='DEFAULT_GROUP@@demo', protectThreshold=0.0, appName='null', groupName='DEFAULT_GROUP', metadata={}}"
        );
    }

    #[test]
    fn a_service_with_clusters_as_java_writes_it_decodes() {
        let java = r#"{"name":"DEFAULT_GROUP@@demo","protectThreshold":0.5,"groupName":"DEFAULT_GROUP","metadata":{"k":"v"},"ipDeleteTimeout":30000,"enabled":true,"lastModifiedMillis":0,"resetWeight":false,"selector":{"type":"none"},"owners":[],"clusterMap":{"DEFAULT":{"serviceName":"DEFAULT_GROUP@@demo","name":"DEFAULT","healthChecker":{"type":"TCP"},"defaultPort":80,"defaultCheckPort":80,"useIPPort4Check":true,"metadata":{},"defIPPort":80,"defCkport":80,"sitegroup":"","empty":true}},"namespaceId":"public","checksum":"abc","finalizeCount":0,"empty":true}"#;
        let s: Service = serde_json::from_str(java).unwrap();
        assert_eq!(s.protect_threshold, 0.5);
        assert_eq!(s.cluster_map["DEFAULT"].name.as_deref(), Some("DEFAULT"));
        assert_eq!(s.namespace(), "public");
        let again: Service = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn values_decode_by_key_kind() {
        let sw = decode(
            KeyKind::Switch,
            r#"{"name":"x","checkTimes":5,"defaultCacheMillis":null}"#,
        )
        .unwrap();
        match sw {
            NamingValue::Switch(s) => {
                assert_eq!(s.check_times, 5);
                assert_eq!(s.default_cache_millis, 3000);
                assert!(s.health_check_enabled);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode(KeyKind::Iplist, r#"{"instanceList":[]}"#),
            Ok(NamingValue::Instances(_))
        ));
        assert!(decode(KeyKind::Meta, "[1]").is_err());
    }

    #[test]
    fn names_follow_naming_utils() {
        assert!(check_service_name_format("DEFAULT_GROUP@@demo").is_ok());
        assert!(check_service_name_format("@@demo").is_ok());
        assert!(check_service_name_format("a@@b@@c").is_ok());
        for bad in ["demo", "g@@", "", "@@"] {
            assert!(check_service_name_format(bad).is_err(), "{bad}");
        }
        assert_eq!(group_name("g@@s"), "g");
        assert_eq!(group_name("s"), DEFAULT_GROUP);
        assert_eq!(service_name("g@@s"), "s");
        assert_eq!(service_name("s"), "s");
        assert!(valid_service_name("DEFAULT_GROUP@@providers:com.x.Api:1.0"));
        assert!(!valid_service_name("a b"));
        assert!(valid_cluster_name("DEFAULT-2"));
        assert!(!valid_cluster_name("a_b"));
    }

    #[test]
    fn numbers_print_as_java_prints_them() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(10000.0), "10000.0");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1.5e10), "1.5E10");
        assert_eq!(java_float(0.0), "0.0");
        assert_eq!(java_float(0.7), "0.7");
        // Float.toString at the edges of the plain form, and its non-numbers.
        assert_eq!(java_float(0.001), "0.001");
        assert_eq!(java_float(0.0005), "5.0E-4");
        assert_eq!(java_float(9_999_999.0), "9999999.0");
        assert_eq!(java_float(1.0e7), "1.0E7");
        assert_eq!(java_float(-0.5), "-0.5");
        assert_eq!(java_float(f32::NAN), "NaN");
        assert_eq!(java_float(f32::NEG_INFINITY), "-Infinity");
    }
}
