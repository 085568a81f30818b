//! Running a node: open and lock the data directory, load it, bind the port, restore the
//! [`Node`], start the [`actor`], fit the connection cap to the open-files limit and serve HTTP
//! ([`conn::serve`]) until SIGINT or SIGTERM.
//!
//! Every start-up failure is returned as a [`CliError`] before the node answers anything; once
//! it serves, only the two fail-stop exits remain (the actor dying, [`EXIT_ACTOR`], and the
//! disk refusing a write, [`EXIT_IO_ERROR`](crate::writer::EXIT_IO_ERROR)).

use crate::actor::{self, Handle};
use crate::cli::{CliError, EXIT_ACTOR};
use crate::conn::{self, Gate};
use crate::egress::Egress;
use crate::live::{Boot, Live};
use crate::metrics::Metrics;
use crate::options::NodeSettings;
use crate::peer_client::PeerClient;
use crate::server::{self, AppState};
use crate::store::Store;
use crate::wal;
use nacos_raft_core::{Fix, Fixes, Node};
use std::sync::Arc;

/// Runs a node until SIGINT or SIGTERM; the error says why it could not start or stopped.
pub async fn run_node(s: NodeSettings) -> Result<(), CliError> {
    let store = Store::open(&s.data_dir)
        .map_err(|e| CliError::Env(e.to_string()))?
        .with_durable_term(s.config.rules.has(Fix::TermOnRestart));
    let store = Arc::new(store);
    // Held until this function returns (or the process ends): one node per data directory.
    let lock = store
        .lock(&s.me)
        .map_err(|e| CliError::Env(e.to_string()))?;
    if let Some(old) = &lock.stale {
        tracing::info!("took over the data dir lock left by a node that no longer runs ({old})");
    }
    let listener = conn::bind(&s.listen)
        .map_err(|e| CliError::Env(format!("cannot listen on {}: {e}", s.listen)))?;
    let node = load(&s, &store, s.seed)?;
    if s.members.len() == 1 {
        tracing::warn!(
            "this node is the only member: as a Java node in cluster mode it will never elect a \
             leader (no one answers its votes), so writes will fail; list the other members"
        );
    }
    let metrics = Metrics::new();
    // Before anything opens many descriptors: the cap must fit in the open-files limit.
    let cap = conn::fit_open_files(s.server.max_connections);
    let gate = Gate::new(cap, metrics.http.clone());
    let egress = Egress::new(s.loopback_only, metrics.loopback_refusals.clone());
    if s.loopback_only {
        tracing::info!("--loopback-only: outgoing connections are limited to 127.0.0.0/8");
        for m in s.members.iter().filter(|m| **m != s.me) {
            // Logged (and counted) now, so that a wrong member list shows at start-up rather
            // than at the first election.
            let _ = egress.check(m, "member listed at start-up");
        }
    }
    let live = Live::new(
        &s.me,
        &s.members,
        &s.config,
        s.live.clone(),
        metrics.clone(),
        s.limits,
        s.client.connect_timeout + s.client.read_timeout,
    );
    match &s.identity {
        Some(id) => tracing::info!(
            "peer identity: every request to a peer carries the {} header, and raft requests \
             without it are refused",
            id.name()
        ),
        None => tracing::warn!(
            "no peer identity (--identity-key/--identity-value): the raft endpoints under \
             /nacos/v1/ns/raft/ are open, anyone who reaches this port can vote, beat and commit"
        ),
    }
    if s.live.faults {
        tracing::warn!("--faults: the fault API under /nacos-raft/v1/faults can break this node");
    }
    let client = PeerClient::new(s.client.clone())
        .with_egress(egress.clone())
        .with_live(live.clone());
    let handle = start(node, &store, &client, &metrics, &s, &live);
    // A restart through the fault API takes exactly this start-up path again.
    let boot: Boot = {
        let (s, store, client, metrics, live) = (
            s.clone(),
            store.clone(),
            client.clone(),
            metrics.clone(),
            live.clone(),
        );
        Box::new(move |restarts| {
            let node =
                load(&s, &store, s.seed.wrapping_add(restarts)).map_err(|e| e.to_string())?;
            Ok(start(node, &store, &client, &metrics, &s, &live))
        })
    };
    live.attach(handle.clone(), boot);
    let naming = crate::naming::Naming::start(
        handle.clone(),
        client.clone(),
        egress,
        s.me.clone(),
        s.naming.clone(),
    );
    let app = server::router(
        AppState {
            node: handle,
            limits: s.limits,
            metrics,
            store,
            live: live.clone(),
            identity: s.identity.clone(),
            beat_lists: s.config.rules.fixes() != Fixes::NONE,
            commit_batches: s.config.rules.fixes() != Fixes::NONE,
        },
        crate::naming::api::router(naming),
    );
    let stop = async move {
        shutdown_signal().await;
        // Event streams never end by themselves; the graceful shutdown would wait for them.
        live.shutdown();
    };
    conn::serve(listener, app, s.server, gate, stop).await;
    tracing::info!("stopped");
    drop(lock);
    Ok(())
}

/// Reads the data directory (moving unreadable files aside) and builds the node from it with
/// term 0, as Nacos 1.3+ starts.
fn load(s: &NodeSettings, store: &Store, seed: u64) -> Result<Node, CliError> {
    // Whatever the rules now: a log left by a node that ran with others is replayed too.
    let replayed = wal::recover(store).map_err(|e| {
        CliError::Env(format!(
            "cannot replay the write-ahead log in {}: {e}",
            store.root().display()
        ))
    })?;
    if replayed > 0 {
        tracing::info!(
            count = replayed,
            "writes replayed from the write-ahead log into their files"
        );
    }
    let loaded = store.load().map_err(|e| CliError::Env(e.to_string()))?;
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
    let count = loaded.datums.len();
    let term_kept = s.config.rules.has(Fix::TermOnRestart);
    let node = Node::restore(
        s.config.clone(),
        &s.me,
        &s.members,
        seed,
        loaded.datums,
        loaded.term,
    )
    .map_err(|e| CliError::Config(e.to_string()))?
    .with_position(loaded.position.0, loaded.position.1)
    .with_tombstones(loaded.tombstones);
    tracing::info!(
        me = %s.me,
        members = ?s.members,
        listen = %s.listen,
        data_dir = %s.data_dir.display(),
        datums = count,
        persisted_term = loaded.term,
        rules = %s.config.rules,
        "cache loaded; starting with term {}",
        if term_kept {
            "the persisted one (term-on-restart)"
        } else {
            "0 as Nacos 1.3+ does"
        }
    );
    Ok(node)
}

/// Starts the actor that owns `node` and watches it: if it dies (it panicked) the node must not
/// keep answering as if it were alive (fail-stop). A crash by the fault API ends it normally.
fn start(
    node: Node,
    store: &Arc<Store>,
    client: &PeerClient,
    metrics: &Metrics,
    s: &NodeSettings,
    live: &Live,
) -> Handle {
    let (handle, task) = actor::spawn(
        node,
        store.clone(),
        client.clone(),
        metrics.clone(),
        s.tuning.clone(),
        live.clone(),
    );
    tokio::spawn(async move {
        if let Err(e) = task.await {
            tracing::error!("the node actor stopped unexpectedly: {e}; exiting");
            std::process::exit(EXIT_ACTOR);
        }
    });
    handle
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
