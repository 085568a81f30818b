//! The one task that owns the protocol state: a [`Node`] fed through a channel.
//!
//! Inputs are ticks, requests from HTTP handlers (each with a reply channel), answers from the
//! tasks that carry out this node's own requests, timers, read-only inspections and datum
//! reloads. There is no lock around the node; handlers do the heavy decoding before they send,
//! sending tasks the encoding after.
//!
//! The node's [`Output`]s are carried out in order. A [`Persist`] of a datum must be durable
//! before any later send, reply or timer is released: writes go to the persistence thread in
//! batches and every output queued behind one waits for that batch's sequence number, except
//! the answer to a client write once its own write is durable (`WriteAnswers`). Term writes
//! (`meta.properties`) need no such wait under the faithful rules (Nacos does not even fsync
//! them), they are only kept in order with the datum writes; under `term-on-restart` they are
//! fsync'd and waited for like datum writes, so no vote or beat goes out in a term the disk
//! could still lose.

use crate::beat_list::{LeaderLists, ListId, Named, NOT_HELD};
use crate::codec;
use crate::live::{Live, StateWatch};
use crate::metrics::Metrics;
use crate::peer_client::PeerClient;
use crate::store::Store;
use crate::writer::Writer;
use bytes::Bytes;
use nacos_raft_core::{
    BeatPacket, Datum, Event, Failure, Fix, Fixes, InboundId, Node, Output, Persist, RaftError,
    Request, RequestId, Response, Timer, NO_LEADER,
};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, OnceCell};
use tokio::time::MissedTickBehavior;
use tracing::{debug, info, trace, warn};

/// Inputs queued before the actor blocks senders.
const CHANNEL: usize = 4096;

/// The refusal of [`Input::BuiltHere`] by a hardened node that does not lead (its leader is
/// named after it).
pub const BUILT_HERE_NOT_LEADER: &str = "this node no longer leads and does not pass on a list \
     it changed from its own copy, which may be older than the leader's";

/// Inputs handled in one round before the persistence batch is handed over.
const ROUND: usize = 256;
/// Keys whose last commit is remembered by [`WriteAnswers`], at most.
const COMMIT_SENT_KEYS: usize = 65_536;
/// Beats bigger than this (encoded) are built on a blocking thread.
const BLOCKING_ENCODE_KEYS: usize = 2_000;

/// Runtime choices that are not protocol constants.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// Datum fetches in flight at once during beat sync (the core fires them all together).
    pub sync_concurrency: usize,
    /// Gzip level of beats (0-9).
    pub gzip_level: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            sync_concurrency: 4,
            gzip_level: 1,
        }
    }
}

type Inspect = Box<dyn FnOnce(&Node) + Send>;

/// What the actor is fed.
pub enum Input {
    /// A request from another member (or a client), answered through `reply`.
    Inbound {
        /// The decoded request.
        request: Request,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Response, RaftError>>,
    },
    /// A write whose value this node built from its own copy (an instance list changed here):
    /// under the hardened rules carried out only while this node leads, never forwarded
    /// ([`Handle::request_built_here`]).
    BuiltHere {
        /// The decoded request.
        request: Request,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Response, RaftError>>,
    },
    /// Requests handed over together (a batch of commits), each answered through its own
    /// sender: taken in order in one turn, so their writes join one group commit.
    Inbounds(Vec<(Request, oneshot::Sender<Result<Response, RaftError>>)>),
    /// The outcome of a request this node sent.
    Answer {
        /// Its id.
        id: RequestId,
        /// The outcome.
        result: Result<Response, Failure>,
        /// Whether it was a datum fetch (which frees a fetch slot).
        fetch: bool,
    },
    /// A timer the node set.
    Timer(Timer),
    /// A read-only look at the node.
    Inspect(Inspect),
    /// `datum/reload`: a datum read from disk replaces the one in memory.
    Reload(Datum, oneshot::Sender<()>),
    /// The fault API's "time out now": the leader due runs out, an election starts.
    TimeoutNow(oneshot::Sender<()>),
    /// The fault API's "crash": stop as a killed process would; answered once stopped.
    Crash(oneshot::Sender<()>),
}

/// A cheap handle for talking to the actor. Every clone follows [`Handle::replace`], so the
/// server keeps its handle across a restart by the fault API.
#[derive(Clone)]
pub struct Handle {
    tx: Arc<RwLock<mpsc::Sender<Input>>>,
}

impl Handle {
    fn sender(&self) -> mpsc::Sender<Input> {
        self.tx
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Points this handle and all its clones at the actor of `fresh` (a restarted node).
    pub fn replace(&self, fresh: &Handle) {
        let tx = fresh.sender();
        *self.tx.write().unwrap_or_else(PoisonError::into_inner) = tx;
    }

    /// Makes the node's leader due run out now (it starts an election).
    pub async fn timeout_now(&self) -> Result<(), RaftError> {
        self.ask(Input::TimeoutNow).await
    }

    /// Stops the actor as a crash would: its memory, timers and unsent outputs are dropped,
    /// the batches its writer thread already holds are finished. Returns once stopped.
    pub async fn crash(&self) -> Result<(), RaftError> {
        self.ask(Input::Crash).await
    }

    /// Hands a request to the node and waits for its answer.
    pub async fn request(&self, request: Request) -> Result<Response, RaftError> {
        self.ask(|reply| Input::Inbound { request, reply }).await?
    }

    /// Hands the node a write whose value was built from this node's copy (a read-modify-write
    /// of an instance list). Under Nacos' rules it goes the way of [`Handle::request`]: a
    /// follower forwards the whole value to its leader. Under any fix only the leader carries it
    /// out, and any other node refuses it: the copy it was built from may lack writes the
    /// leader acknowledged (it was read when this node led or knew no leader; a leader learnt
    /// since would store the old list over them), and the client's retry reaches the leader.
    pub async fn request_built_here(&self, request: Request) -> Result<Response, RaftError> {
        self.ask(|reply| Input::BuiltHere { request, reply })
            .await?
    }

    /// Hands `requests` to the node in this order and waits for every answer (a batch of
    /// commits: handed over one after another, as the same commits sent alone on one
    /// connection would arrive).
    pub async fn request_all(&self, requests: Vec<Request>) -> Vec<Result<Response, RaftError>> {
        let n = requests.len();
        let (inputs, waiting): (Vec<_>, Vec<_>) = requests
            .into_iter()
            .map(|request| {
                let (reply, rx) = oneshot::channel();
                ((request, reply), rx)
            })
            .unzip();
        if self.sender().send(Input::Inbounds(inputs)).await.is_err() {
            return (0..n).map(|_| Err(stopped())).collect();
        }
        let mut answers = Vec::with_capacity(n);
        for rx in waiting {
            answers.push(rx.await.unwrap_or_else(|_| Err(stopped())));
        }
        answers
    }

    /// Runs `f` on the node (inside the actor) and returns what it computed.
    pub async fn inspect<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Node) -> T + Send + 'static,
    ) -> Result<T, RaftError> {
        self.ask(|tx| {
            Input::Inspect(Box::new(move |n| {
                let _ = tx.send(f(n));
            }))
        })
        .await
    }

    /// Replaces a datum in memory with `datum` (Nacos' `loadDatum`).
    pub async fn reload(&self, datum: Datum) -> Result<(), RaftError> {
        self.ask(|done| Input::Reload(datum, done)).await
    }

    /// Sends the input built around a fresh reply channel and waits for the reply; either step
    /// fails only when the actor is gone.
    async fn ask<T>(
        &self,
        input: impl FnOnce(oneshot::Sender<T>) -> Input,
    ) -> Result<T, RaftError> {
        let (tx, rx) = oneshot::channel();
        self.sender().send(input(tx)).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())
    }
}

fn stopped() -> RaftError {
    RaftError::server("the node is shutting down")
}

/// The encoded forms of one beat, shared by its sends (the same `Arc` goes to every follower).
/// The packet is held weakly: once its sends are done its key list has no other holder than
/// the core, which then patches that list in place for the next beat instead of copying it.
type BeatCache = (Weak<BeatPacket>, Arc<BeatBodies>);

/// One beat's bodies, each encoded once for every follower that gets it.
#[derive(Default)]
struct BeatBodies {
    /// The whole list (named when the lists are).
    full: OnceCell<Bytes>,
    /// The list's name and its difference from the one before ([`beat_list`]).
    named: OnceCell<Named>,
    /// The empty difference, for a follower that holds this very list.
    same: OnceCell<Bytes>,
    /// The difference from the list before, for a follower that holds that one.
    changed: OnceCell<Bytes>,
}

/// The answer to a write whose own datum write is durable need not wait for the writes other
/// clients started since, which it does not depend on: under `wrk -c 32` nearly every answer
/// waited for one more batch and `fdatasync` that way (issue 13). A commit of the write went
/// out only once every write issued before it was durable (the datum, the log position), and
/// the leader counts a majority only once a follower answered that commit. So the answer is
/// released when a commit of its key sent after the write arrived is covered by what is
/// durable; an answer without one (a one-member cluster answers at once) waits as before.
#[derive(Default)]
struct WriteAnswers {
    /// Inbound writes (`POST /raft/datum`) not answered yet: their keys.
    keys: HashMap<InboundId, String>,
    /// Per key, the sequence number issued when this node last sent a commit of it, and the
    /// next inbound id then (every inbound request below it had arrived).
    commit_sent: HashMap<String, (u64, InboundId)>,
}

impl WriteAnswers {
    /// Inbound write `id` of `key` arrived.
    fn arrived(&mut self, id: InboundId, key: &str) {
        self.keys.insert(id, key.to_string());
    }

    /// A commit of `key` goes out now, `issued` being the last write handed out and
    /// `next_inbound` the id of the next inbound request.
    fn commit_sent(&mut self, key: &str, issued: u64, next_inbound: InboundId) {
        // Bounded: a key no longer here only makes its next answer wait as before.
        if self.commit_sent.len() >= COMMIT_SENT_KEYS {
            self.commit_sent.clear();
        }
        match self.commit_sent.get_mut(key) {
            Some(s) => *s = (issued, next_inbound),
            None => {
                self.commit_sent
                    .insert(key.to_string(), (issued, next_inbound));
            }
        }
    }

    /// Whether the answer to inbound `to` may go out now that `durable` is durable.
    fn settled(&self, to: InboundId, durable: u64) -> bool {
        self.keys
            .get(&to)
            .and_then(|key| self.commit_sent.get(key))
            .is_some_and(|(seq, after)| *after > to && *seq <= durable)
    }

    /// Inbound `to` was answered.
    fn answered(&mut self, to: InboundId) {
        if let Some(key) = self.keys.remove(&to) {
            // The next write of the key records its own commit.
            self.commit_sent.remove(&key);
        }
    }
}

struct Actor {
    node: Node,
    rx: mpsc::Receiver<Input>,
    tx: mpsc::Sender<Input>,
    durable_rx: mpsc::UnboundedReceiver<u64>,
    writer: Writer,
    client: PeerClient,
    metrics: Metrics,
    tuning: Tuning,
    next_inbound: InboundId,
    replies: HashMap<InboundId, oneshot::Sender<Result<Response, RaftError>>>,
    /// Sequence number of the last datum write handed out (to the batch).
    issued: u64,
    /// Highest sequence number the writer reported durable.
    durable: u64,
    batch: Vec<Persist>,
    /// Whether a term write is waited for like a datum write (`term-on-restart`: the term a
    /// node votes or acts in must survive a crash, see [`Store::with_durable_term`]).
    term_durable: bool,
    /// Sequence number of the last term write waited for (only under `term_durable`): beats
    /// skip the wait for datum writes, never for the term they are sent in.
    term_issued: u64,
    /// Inbound beats not answered yet: their answers skip the wait for datum writes too.
    beat_replies: HashSet<InboundId>,
    /// Inbound writes whose answers may skip the wait for later writes.
    write_answers: WriteAnswers,
    held: VecDeque<(u64, Output)>,
    scratch: Vec<Output>,
    deferred: VecDeque<(RequestId, Result<Response, Failure>)>,
    fetch_queue: VecDeque<(RequestId, String, Vec<String>)>,
    fetch_queued: HashSet<String>,
    fetch_inflight: usize,
    beat: Option<BeatCache>,
    /// Commits executed in this turn, sent when it ends: those to a member that takes batches
    /// go as one request (`codec::BATCH_HEADER`), the others one by one. Only under the
    /// hardened rules; the faithful ones send each commit at once, as Java does.
    outbox: Option<Vec<(String, RequestId, Request)>>,
    /// Under the hardened rules: the beat lists named so far and what each follower holds
    /// ([`beat_list`]); `None` keeps Nacos' wire (every beat the whole list).
    lists: Option<Arc<Mutex<LeaderLists>>>,
    live: Live,
    state_watch: StateWatch,
    /// Set by [`Input::Crash`]: the loop ends and this is answered once stopped.
    crash: Option<oneshot::Sender<()>>,
}

/// Starts the actor (and the persistence thread) for `node`; it reports to `live`.
pub fn spawn(
    node: Node,
    store: Arc<Store>,
    client: PeerClient,
    metrics: Metrics,
    tuning: Tuning,
    live: Live,
) -> (Handle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(CHANNEL);
    let (durable_tx, durable_rx) = mpsc::unbounded_channel();
    let rules = node.config().rules;
    let term_durable = rules.has(Fix::TermOnRestart);
    // The write-ahead log is a departure from Nacos' storage (one fsync'd file per datum,
    // nothing else), so the faithful rules keep the files alone.
    let log = rules.fixes() != Fixes::NONE;
    let writer = Writer::spawn(store, durable_tx, metrics.clone(), log);
    let actor = Actor {
        node,
        rx,
        tx: tx.clone(),
        durable_rx,
        writer,
        client,
        metrics,
        tuning,
        next_inbound: 1,
        replies: HashMap::new(),
        issued: 0,
        durable: 0,
        batch: Vec::new(),
        term_durable,
        term_issued: 0,
        beat_replies: HashSet::new(),
        write_answers: WriteAnswers::default(),
        held: VecDeque::new(),
        scratch: Vec::new(),
        deferred: VecDeque::new(),
        fetch_queue: VecDeque::new(),
        fetch_queued: HashSet::new(),
        fetch_inflight: 0,
        beat: None,
        outbox: log.then(Vec::new),
        // Like the log: only a node that departs from Nacos' rules departs from its wire.
        lists: log.then(|| Arc::new(Mutex::new(LeaderLists::new()))),
        live,
        state_watch: StateWatch::default(),
        crash: None,
    };
    let task = tokio::spawn(actor.run());
    (
        Handle {
            tx: Arc::new(RwLock::new(tx)),
        },
        task,
    )
}

impl Actor {
    async fn run(mut self) {
        let mut ticker = tokio::time::interval(Duration::from_millis(self.node.config().tick_ms));
        // After a stall, one late tick rather than a burst that would expire every timer at once.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        self.update_gauges();
        while self.crash.is_none() {
            tokio::select! {
                biased;
                Some(seq) = self.durable_rx.recv() => {
                    self.durable = self.durable.max(seq);
                    self.release();
                }
                _ = ticker.tick() => {
                    self.node.tick();
                    self.process_outputs();
                }
                msg = self.rx.recv() => match msg {
                    Some(input) => self.handle(input),
                    None => break,
                },
            }
            for _ in 0..ROUND {
                if self.crash.is_some() {
                    break;
                }
                match self.rx.try_recv() {
                    Ok(input) => self.handle(input),
                    Err(_) => break,
                }
            }
            if self.crash.is_some() {
                break;
            }
            if !self.batch.is_empty() {
                self.writer
                    .submit(self.issued, std::mem::take(&mut self.batch));
            }
            self.update_gauges();
            self.state_watch.check(&self.node, &self.live);
        }
        if let Some(done) = self.crash.take() {
            // A killed process: the unsubmitted batch, held outputs, waiting askers and the
            // node's memory go; the writer thread finishes what it was handed, then stops.
            let writer = self.writer;
            let _ = tokio::task::spawn_blocking(move || writer.finish()).await;
            let _ = done.send(());
        }
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Inbound { request, reply } => self.inbound(request, reply),
            Input::BuiltHere { request, reply } => {
                if self.node.is_leader() || self.node.config().rules.fixes() == Fixes::NONE {
                    self.inbound(request, reply);
                } else {
                    let _ = reply.send(Err(RaftError::server(match self.node.leader() {
                        None => NO_LEADER.to_string(),
                        Some(l) => format!("{BUILT_HERE_NOT_LEADER}; {l} leads now, retry"),
                    })));
                }
            }
            Input::Inbounds(list) => {
                for (request, reply) in list {
                    self.inbound(request, reply);
                }
            }
            Input::Answer { id, result, fetch } => {
                if fetch {
                    self.fetch_inflight = self.fetch_inflight.saturating_sub(1);
                    self.launch_fetches();
                }
                self.node.on_response(id, result);
            }
            Input::Timer(t) => self.node.on_timer(t),
            Input::Inspect(f) => f(&self.node),
            Input::Reload(d, done) => {
                self.node.reload(d);
                let _ = done.send(());
            }
            Input::TimeoutNow(done) => {
                self.node.timeout_now();
                let _ = done.send(());
            }
            Input::Crash(done) => {
                self.crash = Some(done);
                return;
            }
        }
        self.process_outputs();
    }

    fn inbound(&mut self, request: Request, reply: oneshot::Sender<Result<Response, RaftError>>) {
        let id = self.next_inbound;
        self.next_inbound += 1;
        self.replies.insert(id, reply);
        match &request {
            Request::Beat(_) => {
                self.beat_replies.insert(id);
            }
            Request::Forward { key, .. } | Request::Repair { key, .. } => {
                self.write_answers.arrived(id, key);
            }
            _ => {}
        }
        self.node.on_request(id, request);
    }

    /// Takes the node's outputs: writes join the batch, everything else runs now or, when a
    /// write before it is not yet durable, waits in order behind it.
    fn process_outputs(&mut self) {
        loop {
            let mut outs = std::mem::take(&mut self.scratch);
            self.node.drain_outputs_into(&mut outs);
            for o in outs.drain(..) {
                match o {
                    Output::Persist(p) => {
                        self.live.on_persist(&p);
                        let term = self.term_durable && matches!(p, Persist::Term(_));
                        if p.must_sync() || term {
                            self.issued += 1;
                        }
                        if term {
                            self.term_issued = self.issued;
                        }
                        self.batch.push(p);
                    }
                    Output::Event(e) => self.on_event(&e),
                    other => {
                        if let Output::Send {
                            request: Request::Commit { datum, .. },
                            ..
                        } = &other
                        {
                            self.write_answers.commit_sent(
                                &datum.key,
                                self.issued,
                                self.next_inbound,
                            );
                        }
                        if self.held.is_empty() && self.issued <= self.durable
                            || self.is_beat(&other) && self.term_issued <= self.durable
                            || matches!(&other, Output::Reply { to, .. }
                                if self.write_answers.settled(*to, self.durable))
                        {
                            self.execute(other);
                        } else {
                            self.held.push_back((self.issued, other));
                        }
                    }
                }
            }
            self.scratch = outs;
            let Some((id, result)) = self.deferred.pop_front() else {
                break;
            };
            self.node.on_response(id, result);
        }
        self.flush_commits();
    }

    /// Sends the commits of this turn: per member, in order, batched where it takes batches.
    /// A leader's commits come out together when a group commit becomes durable, one per write
    /// of it per follower; one exchange per follower carries them all.
    fn flush_commits(&mut self) {
        let Some(outbox) = self.outbox.as_mut() else {
            return;
        };
        if outbox.is_empty() {
            return;
        }
        let mut all = std::mem::take(outbox);
        while !all.is_empty() {
            let to = all[0].0.clone();
            let (mine, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(|(t, ..)| *t == to);
            all = rest;
            if !self.client.takes_batches(&to) {
                for (to, id, request) in mine {
                    self.send_now(to, id, request);
                }
                continue;
            }
            let mut chunk: Vec<(RequestId, Request)> = Vec::new();
            let mut bytes = 0;
            for (_, id, request) in mine {
                let size = match &request {
                    Request::Commit { datum, .. } => {
                        datum.key.len() + datum.value.as_ref().map_or(0, |v| v.as_str().len())
                    }
                    _ => 0,
                };
                if !chunk.is_empty()
                    && (chunk.len() >= codec::MAX_BATCH || bytes + size > codec::MAX_BATCH_BYTES)
                {
                    self.send_batch(&to, std::mem::take(&mut chunk));
                    bytes = 0;
                }
                bytes += size;
                chunk.push((id, request));
            }
            self.send_batch(&to, chunk);
        }
    }

    /// One batch of commits to `to`, each answer fed back under its own id (one commit goes
    /// alone: its plain answer is no batch's).
    fn send_batch(&mut self, to: &str, mut chunk: Vec<(RequestId, Request)>) {
        if chunk.len() <= 1 {
            if let Some((id, request)) = chunk.pop() {
                self.send_now(to.to_string(), id, request);
            }
            return;
        }
        self.metrics.commit_batches.inc();
        self.metrics.commit_batch_items.inc_by(chunk.len() as u64);
        let (client, tx, to) = (self.client.clone(), self.tx.clone(), to.to_string());
        tokio::spawn(async move {
            let (ids, requests): (Vec<_>, Vec<_>) = chunk.into_iter().unzip();
            let results = client.send_commits(&to, &requests).await;
            for (id, result) in ids.into_iter().zip(results) {
                if tx
                    .send(Input::Answer {
                        id,
                        result,
                        fetch: false,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }

    /// A beat, or the answer to one: it carries no datum, only the sender's term, state and
    /// (hardened) log position, so it need not wait for the datum writes before it. Holding it
    /// there made a leader silent for as long as its persistence thread was busy: a log
    /// checkpoint (one `syncfs`) took 1.4 s under `wrk -c 32` with other processes writing to
    /// the same file system, a follower's leader due ran out and it campaigned (issue 13). Its
    /// key list may name writes not yet durable here; a follower fetches those, and the fetch is
    /// answered only once they are. Nacos' `HeartBeat` task does not wait for writes either.
    fn is_beat(&self, o: &Output) -> bool {
        match o {
            Output::Send { request, .. } => matches!(request, Request::Beat(_)),
            Output::Reply { to, .. } => self.beat_replies.contains(to),
            _ => false,
        }
    }

    /// Runs the outputs whose writes are now durable.
    fn release(&mut self) {
        while self
            .held
            .front()
            .is_some_and(|(need, _)| *need <= self.durable)
        {
            if let Some((_, o)) = self.held.pop_front() {
                self.execute(o);
            }
        }
        // Executing may have answered deduplicated fetches at once.
        self.process_outputs();
    }

    fn execute(&mut self, o: Output) {
        match o {
            Output::Send { to, id, request } => self.send(to, id, request),
            Output::Reply { to, result } => {
                self.beat_replies.remove(&to);
                self.write_answers.answered(to);
                if let Some(reply) = self.replies.remove(&to) {
                    // The asker may have gone away (closed connection); nothing to do then.
                    let _ = reply.send(result);
                }
            }
            Output::SetTimer { timer, after_ms } => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms)).await;
                    let _ = tx.send(Input::Timer(timer)).await;
                });
            }
            Output::Done { op, result } => debug!(op, ?result, "client operation finished"),
            Output::Persist(_) | Output::Event(_) => {}
        }
    }

    fn send(&mut self, to: String, id: RequestId, request: Request) {
        match (&mut self.outbox, request) {
            (Some(outbox), request @ Request::Commit { .. }) => outbox.push((to, id, request)),
            (_, request) => self.send_now(to, id, request),
        }
    }

    fn send_now(&mut self, to: String, id: RequestId, request: Request) {
        match request {
            Request::GetDatums(keys) => self.schedule_fetch(id, to, keys),
            Request::Beat(packet) => {
                let bodies = match &self.beat {
                    // A weak pointer keeps its allocation: no later packet can have its address.
                    Some((p, bodies)) if std::ptr::eq(p.as_ptr(), Arc::as_ptr(&packet)) => {
                        bodies.clone()
                    }
                    _ => {
                        let bodies = Arc::new(BeatBodies::default());
                        self.beat = Some((Arc::downgrade(&packet), bodies.clone()));
                        bodies
                    }
                };
                let (client, metrics) = (self.client.clone(), self.metrics.clone());
                let level = self.tuning.gzip_level;
                let lists = self.lists.clone();
                self.call(id, false, async move {
                    let result = match lists {
                        Some(lists) => {
                            let beat = Beat {
                                client: &client,
                                metrics: &metrics,
                                to: &to,
                                packet: &packet,
                                bodies: &bodies,
                                level,
                            };
                            beat.send_named(&lists).await
                        }
                        None => {
                            let body = bodies
                                .full
                                .get_or_init(|| encode_beat(packet.clone(), None, level))
                                .await
                                .clone();
                            client.send(&to, &Request::Beat(packet), Some(body)).await
                        }
                    };
                    metrics.beats_sent.inc();
                    if result.is_err() {
                        metrics.beats_failed.inc();
                    }
                    result
                });
            }
            request => {
                let client = self.client.clone();
                self.call(
                    id,
                    false,
                    async move { client.send(&to, &request, None).await },
                );
            }
        }
    }

    /// Carries out one of the node's requests on its own task and feeds the outcome back as
    /// [`Input::Answer`] for `id` (`fetch` frees a fetch slot when it arrives).
    fn call(
        &self,
        id: RequestId,
        fetch: bool,
        exchange: impl Future<Output = Result<Response, Failure>> + Send + 'static,
    ) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = exchange.await;
            // The channel is closed only when the actor has stopped: nobody waits any more.
            let _ = tx.send(Input::Answer { id, result, fetch }).await;
        });
    }

    /// The core sends every batch of a beat's sync at once (thousands for a new follower). Here
    /// at most `sync_concurrency` are in flight, and a key already waiting in an earlier, not yet
    /// sent fetch is not asked for again: that fetch will bring its current value. A fetch left
    /// with no key is answered at once with an empty list, which the node applies as "nothing
    /// new".
    fn schedule_fetch(&mut self, id: RequestId, to: String, keys: Vec<String>) {
        let fresh: Vec<String> = keys
            .into_iter()
            .filter(|k| !self.fetch_queued.contains(k))
            .collect();
        if fresh.is_empty() {
            self.deferred
                .push_back((id, Ok(Response::Datums(Vec::new()))));
            return;
        }
        self.fetch_queued.extend(fresh.iter().cloned());
        self.fetch_queue.push_back((id, to, fresh));
        self.launch_fetches();
    }

    fn launch_fetches(&mut self) {
        while self.fetch_inflight < self.tuning.sync_concurrency.max(1) {
            let Some((id, to, keys)) = self.fetch_queue.pop_front() else {
                break;
            };
            for k in &keys {
                self.fetch_queued.remove(k);
            }
            self.fetch_inflight += 1;
            self.metrics.sync_fetches.inc();
            self.metrics.sync_fetch_keys.inc_by(keys.len() as u64);
            let client = self.client.clone();
            self.call(id, true, async move { client.fetch(&to, &keys).await });
        }
    }

    fn on_event(&mut self, e: &Event) {
        self.live.on_event(e);
        let me = self.node.me();
        match e {
            Event::ElectionStarted { .. } => {
                self.metrics.elections.inc();
                info!(node = me, "{e}");
            }
            Event::LeaderDecided { .. } | Event::LeaderChanged { .. } => {
                self.metrics.leader_changes.inc();
                info!(node = me, "{e}");
            }
            Event::BeatAccepted { .. } => {
                self.metrics.beats_received.inc();
                trace!(node = me, "{e}");
            }
            Event::DatumApplied { .. } => {
                self.metrics.sync_applied.inc();
                trace!(node = me, "{e}");
            }
            Event::CommitApplied { .. } => {
                self.metrics.commits_applied.inc();
                trace!(node = me, "{e}");
            }
            Event::SteppedDown { .. }
            | Event::VoteGranted { .. }
            | Event::VoteFromStranger { .. }
            | Event::DeadKeyDeleted { .. }
            | Event::BeatNotSent { .. } => info!(node = me, "{e}"),
            Event::PublishFailed { .. }
            | Event::BeatRejected { .. }
            | Event::CommitRejected { .. } => warn!(node = me, "{e}"),
            Event::DatumSkipped { .. } => trace!(node = me, "{e}"),
            _ => debug!(node = me, "{e}"),
        }
    }

    fn update_gauges(&self) {
        let local = self.node.local();
        self.metrics.term.set(local.term as i64);
        self.metrics.set_state(local.state.as_str());
        self.metrics.datums.set(self.node.datum_count() as i64);
    }
}

/// The whole list's body, named when the lists are; on a blocking thread when it is big.
async fn encode_beat(packet: Arc<BeatPacket>, id: Option<ListId>, level: u32) -> Bytes {
    let encode = move |p: &BeatPacket| match id {
        Some(id) => codec::beat_body_named(p, id, level),
        None => codec::beat_body(p, level),
    };
    off_the_runtime(packet, encode).await
}

/// `f(packet)`, on a blocking thread when the packet's list is big.
async fn off_the_runtime<T: Send + 'static>(
    packet: Arc<BeatPacket>,
    f: impl Fn(&BeatPacket) -> T + Send + Clone + 'static,
) -> T {
    if packet.datums.len() < BLOCKING_ENCODE_KEYS {
        return f(&packet);
    }
    let (p, g) = (packet.clone(), f.clone());
    match tokio::task::spawn_blocking(move || g(&p)).await {
        Ok(t) => t,
        Err(_) => f(&packet),
    }
}

/// One beat to one follower under the hardened rules.
struct Beat<'a> {
    client: &'a PeerClient,
    metrics: &'a Metrics,
    to: &'a str,
    packet: &'a Arc<BeatPacket>,
    bodies: &'a BeatBodies,
    level: u32,
}

impl Beat<'_> {
    /// Sends the list's difference from the one the follower holds, or the whole list (named)
    /// when it holds none of use; a follower that no longer holds the base (a restart, a beat
    /// it refused) answers 409 and gets the whole list at once.
    async fn send_named(&self, lists: &Arc<Mutex<LeaderLists>>) -> Result<Response, Failure> {
        let named = self
            .bodies
            .named
            .get_or_init(|| {
                let lists = lists.clone();
                off_the_runtime(self.packet.clone(), move |p| lock(&lists).name(&p.datums))
            })
            .await;
        let held = lock(lists).held_by(self.to);
        let req = Request::Beat(self.packet.clone());
        let (mut result, mut holds) = match named.delta_for(held) {
            Some(delta) => {
                let cell = if delta.is_empty() {
                    &self.bodies.same
                } else {
                    &self.bodies.changed
                };
                let body = cell
                    .get_or_init(|| async {
                        codec::delta_beat_body(self.packet, named.id, &delta, self.level)
                    })
                    .await
                    .clone();
                self.metrics.beats_by_difference.inc();
                self.client.send_beat(self.to, &req, body).await
            }
            None => self.send_full(named.id, &req).await,
        };
        if matches!(&result, Err(Failure::Status(e)) if e.status == 409 && e.message.contains(NOT_HELD))
        {
            self.metrics.beats_not_held.inc();
            (result, holds) = self.send_full(named.id, &req).await;
        }
        lock(lists).answered(self.to, holds);
        result
    }

    async fn send_full(
        &self,
        id: ListId,
        req: &Request,
    ) -> (Result<Response, Failure>, Option<ListId>) {
        let body = self
            .bodies
            .full
            .get_or_init(|| encode_beat(self.packet.clone(), Some(id), self.level))
            .await
            .clone();
        self.client.send_beat(self.to, req, body).await
    }
}

fn lock(lists: &Mutex<LeaderLists>) -> std::sync::MutexGuard<'_, LeaderLists> {
    lists.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::WriteAnswers;

    #[test]
    fn a_write_answer_skips_only_writes_after_its_own_commit() {
        let mut w = WriteAnswers::default();
        // Write 5 of `k` arrived; no commit of it went out (a one-member cluster): it waits.
        w.arrived(5, "k");
        assert!(!w.settled(5, 100));
        // Its commit went out after write 10 was handed out: released once 10 is durable,
        // whatever was handed out since.
        w.commit_sent("k", 10, 6);
        assert!(!w.settled(5, 9));
        assert!(w.settled(5, 10));
        // A commit of `j` sent before write 7 of `j` arrived says nothing of write 7.
        w.commit_sent("j", 3, 4);
        w.arrived(7, "j");
        assert!(!w.settled(7, 100));
        // Answered: forgotten, and the key's commit with it.
        w.answered(5);
        assert!(!w.settled(5, 100));
        w.arrived(8, "k");
        assert!(!w.settled(8, 100));
        // Not an inbound write at all.
        assert!(!w.settled(9, 100));
    }
}
