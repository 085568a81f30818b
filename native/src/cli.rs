//! The command line (design.md §4): `nacos-raft-node [OPTIONS]` runs a node;
//! `nacos-raft-node put|get|delete|state --server HOST:PORT …` is a small client.

use crate::actor::{self, Tuning};
use crate::codec::{self, Limits, Outbound};
use crate::egress::Egress;
use crate::members;
use crate::metrics::Metrics;
use crate::peer_client::{ClientConfig, PeerClient, DEFAULT_MAX_FETCH_URL};
use crate::server::{self, AppState};
use crate::store::Store;
use bytes::Bytes;
use clap::{Args, Parser, Subcommand};
use nacos_raft_core::{key, Config, Node};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code for bad options or configuration (as clap uses for usage errors).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code when the environment refuses (port in use, data directory unusable).
pub const EXIT_ENV: u8 = 1;
/// Exit code when the task owning the protocol state died (`EX_SOFTWARE`).
pub const EXIT_ACTOR: i32 = 70;

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
    /// PRNG seed.
    pub seed: u64,
    /// Only connect to 127.0.0.0/8.
    pub loopback_only: bool,
}

impl NodeArgs {
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
        if self.beat_gzip_level > 9 {
            return Err("--beat-gzip-level must be between 0 and 9".into());
        }
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
                ..ClientConfig::default()
            },
            tuning: Tuning {
                sync_concurrency: self.sync_concurrency,
                gzip_level: self.beat_gzip_level,
            },
            seed,
            loopback_only: self.loopback_only,
        })
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nacos-raft")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nacos-raft-node: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_ENV);
        }
    };
    match cli.command {
        Some(cmd) => rt.block_on(run_client(cmd)),
        None => {
            let settings = match cli.node.settings() {
                Ok(s) => s,
                Err(msg) => {
                    eprintln!("nacos-raft-node: {msg}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            rt.block_on(run_node(settings))
        }
    }
}

fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Runs a node until SIGINT or SIGTERM.
pub async fn run_node(s: NodeSettings) -> ExitCode {
    let store = match Store::open(&s.data_dir) {
        Ok(st) => Arc::new(st),
        Err(e) => {
            eprintln!("nacos-raft-node: {e}");
            return ExitCode::from(EXIT_ENV);
        }
    };
    let loaded = match store.load() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("nacos-raft-node: {e}");
            return ExitCode::from(EXIT_ENV);
        }
    };
    for (from, to, why) in &loaded.moved_aside {
        tracing::error!(
            file = %from.display(),
            moved_to = %to.display(),
            "unreadable data file moved aside: {why}"
        );
    }
    if loaded.temp_removed > 0 {
        tracing::info!(
            count = loaded.temp_removed,
            "removed temporary files of writes interrupted by a crash"
        );
    }
    let listener = match std::net::TcpListener::bind(&s.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("nacos-raft-node: cannot listen on {}: {e}", s.listen);
            return ExitCode::from(EXIT_ENV);
        }
    };
    let listener = match listener
        .set_nonblocking(true)
        .and_then(|_| tokio::net::TcpListener::from_std(listener))
    {
        Ok(l) => l,
        Err(e) => {
            eprintln!("nacos-raft-node: cannot listen on {}: {e}", s.listen);
            return ExitCode::from(EXIT_ENV);
        }
    };
    let count = loaded.datums.len();
    let node = match Node::restore(
        s.config.clone(),
        &s.me,
        &s.members,
        s.seed,
        loaded.datums,
        loaded.term,
    ) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("nacos-raft-node: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    tracing::info!(
        me = %s.me,
        members = ?s.members,
        listen = %s.listen,
        data_dir = %s.data_dir.display(),
        datums = count,
        persisted_term = loaded.term,
        "cache loaded; starting with term 0 as Nacos 1.3+ does"
    );
    if s.members.len() == 1 {
        tracing::warn!(
            "this node is the only member: as a Java node in cluster mode it will never elect a \
             leader (no one answers its votes), so writes will fail; list the other members"
        );
    }
    let metrics = Metrics::new();
    let egress = Egress::new(s.loopback_only, metrics.loopback_refusals.clone());
    if s.loopback_only {
        tracing::info!("--loopback-only: outgoing connections are limited to 127.0.0.0/8");
        for m in s.members.iter().filter(|m| **m != s.me) {
            // Logged (and counted) now, so that a wrong member list shows at start-up rather
            // than at the first election.
            let _ = egress.check(m, "member listed at start-up");
        }
    }
    let client = PeerClient::new(s.client.clone()).with_egress(egress);
    let (handle, task) = actor::spawn(node, store.clone(), client, metrics.clone(), s.tuning);
    // The actor holds the only copy of the protocol state: if it dies the node must not keep
    // answering as if it were alive (fail-stop).
    tokio::spawn(async move {
        if let Err(e) = task.await {
            tracing::error!("the node actor stopped unexpectedly: {e}; exiting");
            std::process::exit(EXIT_ACTOR);
        }
    });
    let app = server::router(AppState {
        node: handle,
        limits: s.limits,
        metrics,
        store,
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nacos-raft-node: server failed: {e}");
            ExitCode::from(EXIT_ENV)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

// ---- the client ------------------------------------------------------------------------

fn client() -> PeerClient {
    PeerClient::new(ClientConfig {
        // A write answers after the publish timeout at worst; give it room.
        read_timeout: std::time::Duration::from_secs(30),
        ..ClientConfig::default()
    })
}

/// The JSON body of a client write, as a Java follower forwards it. The value's text is kept
/// exactly as given (field order included).
pub fn put_body(key: &str, value: &str) -> Result<String, String> {
    key::validate_client_key(key)?;
    let v: serde_json::Value =
        serde_json::from_str(value).map_err(|e| format!("the value is not JSON: {e}"))?;
    if !v.is_object() {
        return Err("the value must be a JSON object, e.g. '{\"instanceList\":[]}'".into());
    }
    let k = serde_json::to_string(key).map_err(|e| e.to_string())?;
    Ok(format!("{{\"key\":{k},\"value\":{}}}", value.trim()))
}

/// The request of a client command.
pub fn client_request(cmd: &ClientCommand) -> Result<(String, Outbound), String> {
    let base = codec::RAFT_BASE;
    let json = |s: String| Bytes::from(s.into_bytes());
    Ok(match cmd {
        ClientCommand::Put { server, key, value } => (
            members::normalize(server).map_err(|e| format!("--server: {e}"))?,
            Outbound {
                method: "POST",
                path_and_query: format!("{base}/datum"),
                headers: vec![("content-type", codec::JSON_REQUEST.into())],
                body: json(put_body(key, value)?),
            },
        ),
        ClientCommand::Get { server, keys } => {
            for k in keys {
                if k.contains(',') {
                    return Err(format!("key {k} contains a comma"));
                }
            }
            (
                members::normalize(server).map_err(|e| format!("--server: {e}"))?,
                Outbound {
                    method: "GET",
                    path_and_query: format!("{base}/datum?{}", codec::keys_query(keys)),
                    headers: vec![],
                    body: Bytes::new(),
                },
            )
        }
        ClientCommand::Delete { server, key } => {
            key::validate_client_key(key)?;
            (
                members::normalize(server).map_err(|e| format!("--server: {e}"))?,
                Outbound {
                    method: "DELETE",
                    path_and_query: format!(
                        "{base}/datum?key={}&encoding=UTF-8&nofix=1",
                        codec::java_url_encode(&codec::java_url_encode(key))
                    ),
                    headers: vec![],
                    body: Bytes::new(),
                },
            )
        }
        ClientCommand::State { server } => (
            members::normalize(server).map_err(|e| format!("--server: {e}"))?,
            Outbound {
                method: "GET",
                path_and_query: format!("{base}/state"),
                headers: vec![],
                body: Bytes::new(),
            },
        ),
    })
}

async fn run_client(cmd: ClientCommand) -> ExitCode {
    let (server, out) = match client_request(&cmd) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("nacos-raft-node: {msg}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let c = client();
    let result = c.call(&server, &out).await;
    let (status, body) = match result {
        Ok(r) => r,
        Err(f) => {
            eprintln!("nacos-raft-node: {server}: {f}");
            return ExitCode::FAILURE;
        }
    };
    let text = String::from_utf8_lossy(&body);
    if status != 200 {
        eprintln!("nacos-raft-node: {server} answered {status}: {text}");
        return ExitCode::FAILURE;
    }
    println!("{text}");
    if matches!(cmd, ClientCommand::State { .. }) {
        let leader = Outbound {
            method: "GET",
            path_and_query: format!("{}/leader", codec::RAFT_BASE),
            headers: vec![],
            body: Bytes::new(),
        };
        if let Ok((200, body)) = c.call(&server, &leader).await {
            println!("{}", String::from_utf8_lossy(&body));
        }
    }
    ExitCode::SUCCESS
}
