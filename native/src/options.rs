//! The options of the binary, parsed by clap: the node's flags (each with its `NACOS_RAFT_*`
//! environment variable), the client subcommands, and the checks that turn the flags into
//! [`NodeSettings`]. Nothing here touches the network or the disk, except reading a
//! `--cluster-conf` file.

use crate::actor::Tuning;
use crate::codec::Limits;
use crate::conn::{self, ServerLimits};
use crate::identity::{self, Identity};
use crate::live::{self, LiveSettings};
use crate::members;
use crate::peer_client::{ClientConfig, DEFAULT_MAX_FETCH_URL};
use clap::{Args, Parser, Subcommand};
use nacos_raft_core::{Config, Rules};
use std::path::PathBuf;
use std::time::Duration;

/// A Nacos 1.x naming-raft node: the Java wire protocol over HTTP, Nacos' data layout.
///
/// Without a subcommand it runs a node. Every option can also be set through an environment
/// variable `NACOS_RAFT_<OPTION>` (e.g. NACOS_RAFT_ADDR, NACOS_RAFT_TICK_MS); logs go to stderr
/// and follow RUST_LOG (default `info`).
#[derive(Parser, Debug)]
#[command(name = "nacos-raft-node", version, about, long_about)]
pub struct Cli {
    /// A client command; without one, the node runs.
    #[command(subcommand)]
    pub command: Option<ClientCommand>,
    /// Node options.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// Options of a running node.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// This node's member address HOST:PORT: its identity, exactly as the members list it.
    #[arg(long, env = "NACOS_RAFT_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// The cluster's members, comma-separated `ip[:port]` (port 8848 when absent).
    #[arg(
        long,
        env = "NACOS_RAFT_MEMBERS",
        value_name = "A,B,C",
        conflicts_with = "cluster_conf"
    )]
    pub members: Option<String>,
    /// A Nacos cluster.conf: one `ip[:port]` a line (commas allowed), `#` comments.
    #[arg(long, env = "NACOS_RAFT_CLUSTER_CONF", value_name = "FILE")]
    pub cluster_conf: Option<PathBuf>,
    /// Address to bind [default: 127.0.0.1:<port of --addr>].
    #[arg(long, env = "NACOS_RAFT_LISTEN", value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Data directory (Java's `<nacos.home>/data/naming`): DIR/data/NAMESPACE/KEY,
    /// DIR/meta.properties.
    #[arg(
        long,
        env = "NACOS_RAFT_DATA_DIR",
        value_name = "DIR",
        default_value = "./nacos-data"
    )]
    pub data_dir: PathBuf,
    /// TICK_PERIOD_MS: period of the election and heartbeat tasks.
    #[arg(
        long,
        env = "NACOS_RAFT_TICK_MS",
        value_name = "MS",
        default_value_t = 500
    )]
    pub tick_ms: u64,
    /// LEADER_TIMEOUT_MS: base of the election timeout.
    #[arg(
        long,
        env = "NACOS_RAFT_LEADER_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 15_000
    )]
    pub leader_timeout_ms: u64,
    /// RANDOM_MS: random part added to the election timeout.
    #[arg(
        long,
        env = "NACOS_RAFT_RANDOM_MS",
        value_name = "MS",
        default_value_t = 5_000
    )]
    pub random_ms: u64,
    /// HEARTBEAT_INTERVAL_MS: the leader's beat period.
    #[arg(
        long,
        env = "NACOS_RAFT_HEARTBEAT_MS",
        value_name = "MS",
        default_value_t = 5_000
    )]
    pub heartbeat_ms: u64,
    /// RAFT_PUBLISH_TIMEOUT: how long a leader waits for a majority of commit acks.
    #[arg(
        long,
        env = "NACOS_RAFT_PUBLISH_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 5_000
    )]
    pub publish_timeout_ms: u64,
    /// Largest request body accepted (bytes).
    #[arg(
        long,
        env = "NACOS_RAFT_MAX_BODY_BYTES",
        value_name = "BYTES",
        default_value_t = 16 << 20
    )]
    pub max_body_bytes: usize,
    /// Largest size a gzip body may inflate to (bytes); beyond it the request is refused (and a
    /// peer's gzip answer is a failure).
    #[arg(
        long,
        env = "NACOS_RAFT_MAX_GUNZIP_BYTES",
        value_name = "BYTES",
        default_value_t = 256 << 20
    )]
    pub max_gunzip_bytes: usize,
    /// Keys per datum fetch batch during beat sync (Nacos: 50). Batches whose request line
    /// would exceed --max-fetch-url-bytes are split further.
    #[arg(
        long,
        env = "NACOS_RAFT_SYNC_BATCH",
        value_name = "KEYS",
        default_value_t = 50
    )]
    pub sync_batch: usize,
    /// Pause after applying each fetched batch (Nacos: 200). Local pacing, invisible on the wire.
    #[arg(
        long,
        env = "NACOS_RAFT_SYNC_PAUSE_MS",
        value_name = "MS",
        default_value_t = 0
    )]
    pub sync_pause_ms: u64,
    /// Datum fetches in flight at once during beat sync (Nacos: unbounded).
    #[arg(
        long,
        env = "NACOS_RAFT_SYNC_CONCURRENCY",
        value_name = "N",
        default_value_t = 4
    )]
    pub sync_concurrency: usize,
    /// Longest request line of one datum fetch; a Java leader behind Tomcat refuses ~8 KiB.
    #[arg(
        long,
        env = "NACOS_RAFT_MAX_FETCH_URL_BYTES",
        value_name = "BYTES",
        default_value_t = DEFAULT_MAX_FETCH_URL
    )]
    pub max_fetch_url_bytes: usize,
    /// Gzip level of beats, 0-9 (1 is fastest; Java uses 6).
    #[arg(
        long,
        env = "NACOS_RAFT_BEAT_GZIP_LEVEL",
        value_name = "LEVEL",
        default_value_t = 1
    )]
    pub beat_gzip_level: u32,
    /// Time a client has to send a request head: from accept for a new connection, from its
    /// first byte on a kept-alive one (Tomcat's connectionTimeout). Progress does not extend it.
    #[arg(
        long,
        env = "NACOS_RAFT_HEADER_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = conn::DEFAULT_HEADER_TIMEOUT_MS
    )]
    pub header_timeout_ms: u64,
    /// Time a kept-alive connection may wait for its next request, and a client may take none
    /// of an answer's bytes, before the connection is closed (Tomcat's keepAliveTimeout).
    #[arg(
        long,
        env = "NACOS_RAFT_IDLE_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = conn::DEFAULT_IDLE_TIMEOUT_MS
    )]
    pub idle_timeout_ms: u64,
    /// Time a request may take, body read included, before it is answered 503 and its
    /// connection closed; must exceed --publish-timeout-ms.
    #[arg(
        long,
        env = "NACOS_RAFT_HANDLER_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = conn::DEFAULT_HANDLER_TIMEOUT_MS
    )]
    pub handler_timeout_ms: u64,
    /// Open HTTP connections served at once; one more is answered 503 and closed at once
    /// (counted in /metrics). Lowered at start-up to fit the open-files limit.
    #[arg(
        long,
        env = "NACOS_RAFT_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = conn::DEFAULT_MAX_CONNECTIONS
    )]
    pub max_connections: usize,
    /// Protocol rules: `nacos` (Nacos 1.4.1, flaws included), `hardened` (every fix of
    /// docs/hardened/), fixes joined by `+` (e.g. `term-bump+global-lock`), or every fix but
    /// some (`hardened-split-vote`). The wire is the same; the fixes' guarantees hold when every
    /// member is hardened.
    #[arg(
        long,
        env = "NACOS_RAFT_RULES",
        value_name = "RULES",
        default_value = "nacos",
        value_parser = parse_rules
    )]
    pub rules: Rules,
    /// Seed of the node's timer jitter [default: from the clock and process id].
    #[arg(long, env = "NACOS_RAFT_SEED", value_name = "N")]
    pub seed: Option<u64>,
    /// Refuse (log and count in /metrics) every outgoing connection to an address outside
    /// 127.0.0.0/8: peers, health checks, anything. Tests, benchmarks and demos turn it on.
    #[arg(
        long,
        env = "NACOS_RAFT_LOOPBACK_ONLY",
        value_parser = clap::builder::FalseyValueParser::new(),
        default_value_t = false
    )]
    pub loopback_only: bool,
    /// Local address of every outgoing peer request (votes, beats, commits, fetches, naming
    /// forwards): with several nodes on one host, a firewall rule can then tell them apart by
    /// source address (the partition test does). Default: the kernel's choice.
    #[arg(long, env = "NACOS_RAFT_SOURCE_IP", value_name = "IP")]
    pub source_ip: Option<std::net::IpAddr>,
    /// Health checks of persistent instances (naming API): `tcp` connects to each instance's
    /// ip:port from the leader (3 failures → unhealthy, 3 successes → healthy), `none` keeps the
    /// stored flags.
    #[arg(
        long,
        env = "NACOS_RAFT_HEALTH_CHECK",
        value_enum,
        default_value_t = crate::naming::HealthCheck::Tcp
    )]
    pub health_check: crate::naming::HealthCheck,
    /// Period of a health-check round (each instance is checked once per round).
    #[arg(
        long,
        env = "NACOS_RAFT_HEALTH_CHECK_INTERVAL_MS",
        value_name = "MS",
        default_value_t = 2_000
    )]
    pub health_check_interval_ms: u64,
    /// Allow the fault API (/nacos-raft/v1/faults/...): cut, isolate, loss, latency, crash,
    /// restart, timeout-now. Off: every fault call is refused with 403.
    #[arg(
        long,
        env = "NACOS_RAFT_FAULTS",
        value_parser = clap::builder::FalseyValueParser::new(),
        default_value_t = false
    )]
    pub faults: bool,
    /// A page origin (scheme://host[:port]) allowed to read /nacos-raft/v1/events and call the
    /// fault API; repeatable, or comma-separated in the variable. Any other Origin gets 403.
    #[arg(
        long = "web-origin",
        env = "NACOS_RAFT_WEB_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ',',
        default_values_t = live::DEFAULT_WEB_ORIGINS.map(String::from)
    )]
    pub web_origins: Vec<String>,
    /// Records queued for one viewer of the event stream; a viewer further behind loses records
    /// (it gets a `gap` and a fresh snapshot) rather than slow the node.
    #[arg(
        long,
        env = "NACOS_RAFT_LIVE_BUFFER",
        value_name = "RECORDS",
        default_value_t = live::DEFAULT_BUFFER
    )]
    pub live_buffer: usize,
    /// Name of the header members send each other to prove they belong (Nacos'
    /// `nacos.core.auth.server.identity.key`). With --identity-value, every request to a peer
    /// carries it and every /nacos/v1/ns/raft/ request without it is refused with 403.
    #[arg(long, env = "NACOS_RAFT_IDENTITY_KEY", value_name = "HEADER")]
    pub identity_key: Option<String>,
    /// The value of that header (Nacos' `nacos.core.auth.server.identity.value`), the same on
    /// every member.
    #[arg(long, env = "NACOS_RAFT_IDENTITY_VALUE", value_name = "VALUE")]
    pub identity_value: Option<String>,
    /// A Nacos application.properties: the identity key and value are read from it
    /// (`nacos.core.auth.server.identity.key`/`.value`) when the options above are not given.
    #[arg(long, env = "NACOS_RAFT_NACOS_CONF", value_name = "FILE")]
    pub nacos_conf: Option<PathBuf>,
}

/// `--rules`, read as the simulator and the page read it (`Rules::from_str`): an unknown name
/// is refused with the list of names.
fn parse_rules(s: &str) -> Result<Rules, String> {
    s.parse::<Rules>().map_err(|e| e.to_string())
}

/// The client commands.
#[derive(Subcommand, Debug, Clone)]
pub enum ClientCommand {
    /// Write KEY = VALUE (a JSON object) through any node; prints `ok` once a majority has it.
    Put {
        /// Node to talk to.
        #[arg(
            long,
            env = "NACOS_RAFT_SERVER",
            value_name = "HOST:PORT",
            default_value = "127.0.0.1:8848"
        )]
        server: String,
        /// Full key, e.g. com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo.
        key: String,
        /// The value, a JSON object, e.g. '{"instanceList":[]}'.
        value: String,
    },
    /// Read keys; prints the JSON array of Datums (`null` for a missing key).
    Get {
        /// Node to talk to.
        #[arg(
            long,
            env = "NACOS_RAFT_SERVER",
            value_name = "HOST:PORT",
            default_value = "127.0.0.1:8848"
        )]
        server: String,
        /// Full keys.
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Delete a key through any node.
    Delete {
        /// Node to talk to.
        #[arg(
            long,
            env = "NACOS_RAFT_SERVER",
            value_name = "HOST:PORT",
            default_value = "127.0.0.1:8848"
        )]
        server: String,
        /// Full key.
        key: String,
    },
    /// Print a node's /state (services and every peer as it sees them) and its leader.
    State {
        /// Node to talk to.
        #[arg(
            long,
            env = "NACOS_RAFT_SERVER",
            value_name = "HOST:PORT",
            default_value = "127.0.0.1:8848"
        )]
        server: String,
    },
}

/// Everything a node needs, checked.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// Own address.
    pub me: String,
    /// Every member, self included.
    pub members: Vec<String>,
    /// Bind address.
    pub listen: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Protocol configuration.
    pub config: Config,
    /// Body caps.
    pub limits: Limits,
    /// Client settings.
    pub client: ClientConfig,
    /// Runtime tuning.
    pub tuning: Tuning,
    /// Connection cap and timeouts of the HTTP server.
    pub server: ServerLimits,
    /// PRNG seed.
    pub seed: u64,
    /// Only connect to 127.0.0.0/8.
    pub loopback_only: bool,
    /// The naming API's settings.
    pub naming: crate::naming::NamingSettings,
    /// The live view (event stream, faults, page origins).
    pub live: LiveSettings,
    /// The peer identity header, when the cluster uses one.
    pub identity: Option<Identity>,
}

impl NodeArgs {
    /// The peer identity from the options, else from `--nacos-conf`; `None` when neither sets
    /// it. A key without a value (or the reverse) is an error: the node would be refused by
    /// its peers, or refuse them, without saying why.
    pub fn identity(&self) -> Result<Option<Identity>, String> {
        let props = match &self.nacos_conf {
            Some(path) => {
                identity::read_properties(path).map_err(|e| format!("--nacos-conf: {e}"))?
            }
            None => Default::default(),
        };
        // Java reads a blank property as unset (`StringUtils.isNotBlank`).
        let from_file = |name: &str| props.get(name).filter(|v| !v.trim().is_empty()).cloned();
        let key = self
            .identity_key
            .clone()
            .or_else(|| from_file(identity::KEY_PROPERTY));
        let value = self
            .identity_value
            .clone()
            .or_else(|| from_file(identity::VALUE_PROPERTY));
        match (key, value) {
            (None, None) => Ok(None),
            (Some(k), Some(v)) => Identity::new(&k, &v)
                .map(Some)
                .map_err(|e| format!("--identity-key/--identity-value: {e}")),
            (Some(_), None) => Err(
                "--identity-key is set but --identity-value is not (nor in --nacos-conf)".into(),
            ),
            (None, Some(_)) => Err(
                "--identity-value is set but --identity-key is not (nor in --nacos-conf)".into(),
            ),
        }
    }

    /// Checks the options and turns them into settings; the error is a message for people.
    pub fn settings(&self) -> Result<NodeSettings, String> {
        let addr = self.addr.as_deref().ok_or(
            "no own address: pass --addr HOST:PORT (or set NACOS_RAFT_ADDR), exactly as the \
             members list this node",
        )?;
        let me = members::normalize(addr).map_err(|e| format!("--addr: {e}"))?;
        let mut list = match (&self.members, &self.cluster_conf) {
            (Some(m), _) => members::parse_list(m).map_err(|e| format!("--members: {e}"))?,
            (None, Some(path)) => {
                members::read_cluster_conf(path).map_err(|e| format!("--cluster-conf: {e}"))?
            }
            (None, None) => Vec::new(),
        };
        if !list.contains(&me) {
            if !list.is_empty() {
                tracing::warn!(
                    "own address {me} is not among the members {list:?}; adding it, as Nacos does"
                );
            }
            list.push(me.clone());
        }
        let listen = match &self.listen {
            Some(l) => l.clone(),
            None => {
                let port = members::port_of(&me).unwrap_or(members::DEFAULT_PORT);
                format!("127.0.0.1:{port}")
            }
        };
        let config = Config {
            tick_ms: self.tick_ms,
            leader_timeout_ms: self.leader_timeout_ms,
            random_ms: self.random_ms,
            heartbeat_ms: self.heartbeat_ms,
            publish_timeout_ms: self.publish_timeout_ms,
            sync_batch: self.sync_batch,
            sync_pause_ms: self.sync_pause_ms,
            rules: self.rules,
            ..Config::default()
        };
        config
            .validate()
            .map_err(|e| format!("invalid timings: {e}"))?;
        if self.max_body_bytes < 1024 {
            return Err("--max-body-bytes must be at least 1024".into());
        }
        if self.max_gunzip_bytes < 1024 {
            return Err("--max-gunzip-bytes must be at least 1024".into());
        }
        if self.sync_concurrency == 0 {
            return Err("--sync-concurrency must be at least 1".into());
        }
        if self.max_fetch_url_bytes < 256 {
            return Err("--max-fetch-url-bytes must be at least 256".into());
        }
        if !(100..=3_600_000).contains(&self.health_check_interval_ms) {
            return Err("--health-check-interval-ms must be between 100 and 3600000".into());
        }
        if self.beat_gzip_level > 9 {
            return Err("--beat-gzip-level must be between 0 and 9".into());
        }
        for (name, ms) in [
            ("--header-timeout-ms", self.header_timeout_ms),
            ("--idle-timeout-ms", self.idle_timeout_ms),
            ("--handler-timeout-ms", self.handler_timeout_ms),
        ] {
            if ms < 100 {
                return Err(format!("{name} must be at least 100"));
            }
        }
        if self.handler_timeout_ms <= self.publish_timeout_ms {
            return Err(format!(
                "--handler-timeout-ms ({}) must exceed --publish-timeout-ms ({}): every write \
                 waiting for its majority would be answered 503",
                self.handler_timeout_ms, self.publish_timeout_ms
            ));
        }
        if let Some(ip) = self.source_ip {
            if self.loopback_only && !ip.is_loopback() {
                return Err(format!(
                    "--source-ip {ip} is outside loopback, but --loopback-only is on"
                ));
            }
        }
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        if !(16..=1 << 20).contains(&self.live_buffer) {
            return Err("--live-buffer must be between 16 and 1048576 records".into());
        }
        let web_origins = self
            .web_origins
            .iter()
            .map(|o| live::check_origin(o.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let identity = self.identity()?;
        let seed = self.seed.unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            t ^ (u64::from(std::process::id()) << 32)
        });
        Ok(NodeSettings {
            me,
            members: list,
            listen,
            data_dir: self.data_dir.clone(),
            config,
            limits: Limits {
                max_body: self.max_body_bytes,
                max_gunzip: self.max_gunzip_bytes,
            },
            client: ClientConfig {
                max_fetch_url: self.max_fetch_url_bytes,
                max_gunzip: self.max_gunzip_bytes,
                identity: identity.clone(),
                source_ip: self.source_ip,
                ..ClientConfig::default()
            },
            tuning: Tuning {
                sync_concurrency: self.sync_concurrency,
                gzip_level: self.beat_gzip_level,
            },
            server: ServerLimits {
                header_timeout: Duration::from_millis(self.header_timeout_ms),
                idle_timeout: Duration::from_millis(self.idle_timeout_ms),
                handler_timeout: Duration::from_millis(self.handler_timeout_ms),
                max_connections: self.max_connections,
            },
            seed,
            loopback_only: self.loopback_only,
            naming: crate::naming::NamingSettings {
                health_check: self.health_check,
                health_check_interval: std::time::Duration::from_millis(
                    self.health_check_interval_ms,
                ),
                max_body: self.max_body_bytes,
            },
            live: LiveSettings {
                faults: self.faults,
                web_origins,
                buffer: self.live_buffer,
            },
            identity,
        })
    }
}
