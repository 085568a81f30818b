//! Running a node: open the data directory, load it, bind the port, restore the
//! [`Node`], start the [`actor`], fit the connection cap to the open-files limit and serve HTTP
//! ([`conn::serve`]) until SIGINT or SIGTERM.
//!
//! Every start-up failure is returned as a [`CliError`] before the node answers anything; once
//! it serves, only the two fail-stop exits remain (the actor dying, [`EXIT_ACTOR`], and the
//! disk refusing a write, [`EXIT_IO_ERROR`](crate::writer::EXIT_IO_ERROR)).

use crate::actor;
use crate::cli::{CliError, EXIT_ACTOR};
use crate::conn::{self, Gate};
use crate::egress::Egress;
use crate::metrics::Metrics;
use crate::options::NodeSettings;
use crate::peer_client::PeerClient;
use crate::server::{self, AppState};
use crate::store::Store;
use nacos_raft_core::Node;
use std::sync::Arc;

/// Runs a node until SIGINT or SIGTERM; the error says why it could not start or stopped.
pub async fn run_node(s: NodeSettings) -> Result<(), CliError> {
    let store = Arc::new(Store::open(&s.data_dir).map_err(|e| CliError::Env(e.to_string()))?);
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
    let listener = conn::bind(&s.listen)
        .map_err(|e| CliError::Env(format!("cannot listen on {}: {e}", s.listen)))?;
    let count = loaded.datums.len();
    let node = Node::restore(
        s.config.clone(),
        &s.me,
        &s.members,
        s.seed,
        loaded.datums,
        loaded.term,
    )
    .map_err(|e| CliError::Config(e.to_string()))?;
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
    let client = PeerClient::new(s.client.clone()).with_egress(egress.clone());
    let (handle, task) = actor::spawn(
        node,
        store.clone(),
        client.clone(),
        metrics.clone(),
        s.tuning,
    );
    // The actor holds the only copy of the protocol state: if it dies the node must not keep
    // answering as if it were alive (fail-stop).
    tokio::spawn(async move {
        if let Err(e) = task.await {
            tracing::error!("the node actor stopped unexpectedly: {e}; exiting");
            std::process::exit(EXIT_ACTOR);
        }
    });
    let naming = crate::naming::Naming::start(
        handle.clone(),
        client.clone(),
        egress,
        s.me.clone(),
        s.naming.clone(),
    );
    let app = server::router(AppState {
        node: handle,
        limits: s.limits,
        metrics,
        store,
    })
    .merge(crate::naming::api::router(naming));
    conn::serve(listener, app, s.server, gate, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
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
