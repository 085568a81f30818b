//! # nacos-raft-node
//!
//! A real member of a Nacos 1.x naming-raft cluster: it drives the `nacos-raft-core` state
//! machine with real time, real HTTP and a real disk, and speaks the Java wire protocol so that
//! Java 1.3/1.4 nodes and this node can be mixed in one cluster.
//!
//! - [`cli`]: the binary's entry point: parse, dispatch, exit codes ([`cli::CliError`]);
//! - [`options`]: the flags, their environment variables and checks ([`options::NodeSettings`]);
//! - [`run`]: starting a node (disk, port, actor, HTTP) and stopping it on a signal;
//! - [`client`]: the `put`/`get`/`delete`/`state` client commands;
//! - [`server`]: the twelve endpoints under `/nacos/v1/ns/raft/` and `/metrics`;
//! - [`conn`]: the accept loop: connection cap, header/idle/write/handler timeouts, open files;
//! - [`codec`]: request and answer encodings of Java 1.3 and 1.4, both directions;
//! - [`actor`]: the task that owns the [`nacos_raft_core::Node`] and carries out its outputs;
//! - [`egress`]: the gate of every outgoing connection (`--loopback-only`);
//! - [`identity`]: the peer identity header (sent to peers, required on the raft routes);
//! - [`fuzz`]: the harnesses of the fuzz targets in `fuzz/` and of their corpus replay test;
//! - [`live`]: the event stream and fault API under `/nacos-raft/v1/` (`docs/live.md`);
//! - [`peer_client`]: requests to other members (keep-alive, Java's timeouts);
//! - [`store`] and [`writer`]: Nacos' on-disk layout, written atomically with group commit;
//! - [`members`]: member addresses and `cluster.conf`;
//! - [`metrics`]: the Prometheus exposition;
//! - [`naming`]: the Nacos naming open API for persistent services (instances, services,
//!   health checks);
//! - [`testkit`]: starting clusters of real node processes on loopback (tests, benchmarks), and
//!   a 3-member etcd beside them (`make bench-vs-etcd`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actor;
pub mod beat_list;
pub mod cli;
pub mod client;
pub mod codec;
pub mod conn;
pub mod egress;
pub mod fuzz;
pub mod identity;
pub mod live;
pub mod members;
pub mod metrics;
pub mod naming;
pub mod options;
pub mod peer_client;
pub mod run;
pub mod server;
pub mod store;
pub mod testkit;
pub mod wal;
pub mod writer;
