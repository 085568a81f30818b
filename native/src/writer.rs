//! The persistence thread: makes batches of [`Persist`] outputs durable, off the async runtime,
//! and reports how far it got.
//!
//! Group commit: while one batch is being written, the next ones queue up and are merged into one,
//! so a burst of writes (a catch-up, concurrent clients) costs a few fsync rounds, not one per
//! file. The node actor releases the sends and replies that were waiting for a batch only after
//! the batch's sequence number comes back.

use crate::metrics::Metrics;
use crate::store::{Applied, Store};
use crate::wal::{Wal, LOG_BELOW, WAL_FILE_2};
use nacos_raft_core::Persist;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Exit code when the disk refuses a write (`EX_IOERR`).
pub const EXIT_IO_ERROR: i32 = 74;

struct Job {
    seq: u64,
    ops: Vec<Persist>,
}

/// The node promised durability before answering; when the disk refuses, it cannot keep that
/// promise any more, so it stops rather than lie.
fn fail_stop(store: &Store, e: &std::io::Error) -> ! {
    tracing::error!(
        dir = %store.root().display(),
        error = %e,
        "cannot write to the data directory; stopping"
    );
    std::process::exit(EXIT_IO_ERROR);
}

/// How often the write-back thread looks at how many datum files were written under the log.
/// A checkpoint's `syncfs` otherwise finds ~40,000 files of new keys to write at once (every
/// 16 MiB of log, ~10 s at full rate) and every `fdatasync` of the log waits behind that burst:
/// that was the hardened p99 at 32 connections. Written back in small steps, the burst is small,
/// and the checkpoint finds little left. Side by side with the node without it (`RUNS=5 SECS=20
/// scripts/bench-vs-etcd.sh --parts writes --conns 8,32`, 2026-12-06): p99 at 32 connections 20.3
/// against 31.7 ms, lower in 5 of 5 runs, writes/s 1.05× (docs/benchmarks.md). Durability does
/// not depend on it: the log still holds every write until its checkpoint.
const WRITEBACK_EVERY: Duration = Duration::from_millis(100);

/// A write-back is due once this many files were written since the last one...
const WRITEBACK_FILES: u64 = 1000;

/// ...or once any were and this long has passed since the last one. A `syncfs` writes every
/// dirty file of the file system and flushes the disk's cache; fewer, larger steps measured
/// better than one every 100 ms for the log's `fdatasync`s: in two runs side by side
/// (2026-12-06 17:37 and 17:59, docs/benchmarks.md), writes/s at 32 connections higher in 5 of 6
/// runs (medians 6,502 against 5,647) and the p99 lower in 4 of 6 (16.8 against 19.3 ms).
const WRITEBACK_WAIT: Duration = Duration::from_secs(1);

/// Whether the files written since the last write-back are due for one now.
fn writeback_due(files: u64, since_last: Duration) -> bool {
    files >= WRITEBACK_FILES || (files > 0 && since_last >= WRITEBACK_WAIT)
}

/// Under light load each logged datum file's write to the disk starts as soon as it is written
/// ([`Store::apply_unsynced_with`]): the files then reach the disk a few at a time, not in the
/// write-back thread's bursts, which every log `fdatasync` waits behind on a disk whose cache
/// flush takes everything written before it. It costs a write request per file and the
/// persistence thread's time, so under heavy load, where that thread is the limit, the files
/// are left to the write-back's sorted sweeps. Light: the thread was busy less than this share
/// of the last [`LOAD_WINDOW`].
const LIGHT_BELOW: f64 = 0.5;

/// How long the persistence thread's busy share is measured over.
const LOAD_WINDOW: Duration = Duration::from_millis(100);

/// The persistence thread's busy share over windows of [`LOAD_WINDOW`].
struct Load {
    window_start: Instant,
    busy: Duration,
    /// Whether the last full window was light ([`LIGHT_BELOW`]); light at start.
    light: bool,
}

impl Load {
    fn new(now: Instant) -> Load {
        Load {
            window_start: now,
            busy: Duration::ZERO,
            light: true,
        }
    }

    /// Counts `busy` time spent on a batch that ended at `now`; a window that has lasted
    /// [`LOAD_WINDOW`] decides [`Load::light`] and a new one starts. An idle stretch counts as a
    /// long light window.
    fn add(&mut self, busy: Duration, now: Instant) {
        self.busy += busy;
        let span = now.saturating_duration_since(self.window_start);
        if span >= LOAD_WINDOW {
            self.light = self.busy.as_secs_f64() < LIGHT_BELOW * span.as_secs_f64();
            self.window_start = now;
            self.busy = Duration::ZERO;
        }
    }
}

/// The background write-back thread of the logged datum files ([`WRITEBACK_EVERY`]).
struct Writeback {
    /// Dropped to stop the thread.
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Writeback {
    fn spawn(store: Arc<Store>, written: Arc<AtomicU64>, metrics: Metrics) -> io::Result<Self> {
        // Its own descriptor: `syncfs` reports a write-back error once per descriptor, so the
        // checkpoint's own still sees any error this one reported (and fails the node then).
        let handle = store.open_fs_handle()?;
        let (stop, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("nacos-raft-writeback".into())
            .spawn(move || {
                let mut seen = 0;
                let mut last = Instant::now();
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(WRITEBACK_EVERY)
                {
                    let now = written.load(Ordering::Relaxed);
                    if !writeback_due(now - seen, last.elapsed()) {
                        continue;
                    }
                    seen = now;
                    last = Instant::now();
                    match store.flush_all(&handle) {
                        Ok(()) => metrics
                            .writeback_latency
                            .observe(last.elapsed().as_secs_f64()),
                        Err(e) => tracing::warn!(
                            error = %e,
                            "background write-back of the datum files failed; the log keeps them until its checkpoint"
                        ),
                    }
                }
            })?;
        Ok(Writeback { stop, thread })
    }

    fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// The two logs: appends go to `active`; when it is full its checkpoint (one `syncfs`) runs on
/// a thread of its own while appends go on in the other. Before, every write waited for the
/// checkpoint, 1-2 s on a busy disk (issue 13).
struct Logs {
    active: Wal,
    /// The other log, empty, when no checkpoint is running.
    spare: Option<Wal>,
    /// The checkpoint of the other log, which hands it back empty.
    flushing: Option<std::thread::JoinHandle<io::Result<Wal>>>,
    /// Datum files written under the log so far, for the write-back thread.
    written: Arc<AtomicU64>,
    writeback: Option<Writeback>,
}

impl Logs {
    fn open(store: &Arc<Store>, metrics: &Metrics) -> io::Result<Logs> {
        let spare = Wal::open_file(store, WAL_FILE_2)?;
        let mut active = Wal::open(store)?;
        active.reset_above(store, spare.generation())?;
        let written = Arc::new(AtomicU64::new(0));
        let writeback = Writeback::spawn(store.clone(), written.clone(), metrics.clone())?;
        Ok(Logs {
            active,
            spare: Some(spare),
            flushing: None,
            written,
            writeback: Some(writeback),
        })
    }

    /// Waits for the running checkpoint, if any, and stops the write-back thread.
    fn close(&mut self) -> io::Result<()> {
        if let Some(w) = self.writeback.take() {
            w.stop();
        }
        self.wait()
    }

    /// Waits for the running checkpoint, if any.
    fn wait(&mut self) -> io::Result<()> {
        if let Some(h) = self.flushing.take() {
            let wal = h
                .join()
                .map_err(|_| io::Error::other("the log checkpoint thread panicked"))??;
            self.spare = Some(wal);
        }
        Ok(())
    }

    /// The full active log goes to a checkpoint; appends continue in the other one, in a
    /// newer generation (replayed after it if both hold records at start-up).
    fn rotate(&mut self, store: &Arc<Store>) -> io::Result<()> {
        self.wait()?;
        let Some(mut next) = self.spare.take() else {
            return Err(io::Error::other("no spare log"));
        };
        next.reset_above(store, self.active.generation())?;
        let mut full = std::mem::replace(&mut self.active, next);
        let store = store.clone();
        self.flushing = Some(
            std::thread::Builder::new()
                .name("nacos-raft-checkpoint".into())
                .spawn(move || full.checkpoint(&store).map(|()| full))?,
        );
        Ok(())
    }

    /// Every logged write durable in its file and both logs empty.
    fn checkpoint_all(&mut self, store: &Store) -> io::Result<()> {
        self.wait()?;
        if !self.active.is_empty() {
            self.active.checkpoint(store)?;
        }
        Ok(())
    }
}

/// Makes one merged batch durable and calls `durable` as soon as it is. Through the log when
/// there is one and the batch is not a catch-up: one append and `fdatasync`, `durable`, then the
/// files without fsync (off the acknowledgement's path: a crash before they are written leaves
/// them to the replay at start-up). A batch with a term write reports only once that is written
/// too (it is fsync'd under `term-on-restart`, and not logged). Otherwise file by file; such a
/// batch comes after a checkpoint, so that replaying the log at start-up never writes an older
/// value over it.
fn write_batch(
    store: &Arc<Store>,
    logs: Option<&mut Logs>,
    ops: &[Persist],
    light: bool,
    durable: &mut dyn FnMut(),
) -> io::Result<Applied> {
    if let Some(logs) = logs {
        let datums = ops.iter().filter(|p| p.must_sync()).count();
        if datums < LOG_BELOW {
            let mut logged = logs.active.append(ops)?;
            if !logged {
                // Full: its files are made durable beside, this batch goes to the other log.
                logs.rotate(store)?;
                logged = logs.active.append(ops)?;
            }
            if logged {
                let term = ops.iter().any(|p| !p.must_sync());
                if !term {
                    durable();
                }
                let applied = store.apply_unsynced_with(ops, light)?;
                logs.written
                    .fetch_add(applied.written as u64, Ordering::Relaxed);
                if term {
                    durable();
                }
                return Ok(applied);
            }
        } else {
            logs.checkpoint_all(store)?;
        }
    }
    let applied = store.apply(ops)?;
    durable();
    Ok(applied)
}

/// Hands batches to the persistence thread.
pub struct Writer {
    tx: mpsc::Sender<Job>,
    thread: std::thread::JoinHandle<()>,
}

impl Writer {
    /// Starts the thread. `done` receives the highest sequence number made durable after each
    /// round. With `log`, batches are made durable through the write-ahead log ([`crate::wal`]);
    /// call [`crate::wal::recover`] before reading the data directory, and before this.
    pub fn spawn(
        store: Arc<Store>,
        done: UnboundedSender<u64>,
        metrics: Metrics,
        log: bool,
    ) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("nacos-raft-writer".into())
            .spawn(move || {
                let mut logs = match log.then(|| Logs::open(&store, &metrics)).transpose() {
                    Ok(w) => w,
                    Err(e) => fail_stop(&store, &e),
                };
                let mut load = Load::new(Instant::now());
                while let Ok(first) = rx.recv() {
                    let mut seq = first.seq;
                    let mut ops = first.ops;
                    while let Ok(more) = rx.try_recv() {
                        seq = seq.max(more.seq);
                        ops.extend(more.ops);
                    }
                    let start = Instant::now();
                    let mut open = true;
                    let mut durable = || {
                        metrics
                            .persist_latency
                            .observe(start.elapsed().as_secs_f64());
                        open = done.send(seq).is_ok();
                    };
                    let result = write_batch(&store, logs.as_mut(), &ops, load.light, &mut durable);
                    let end = Instant::now();
                    load.add(end - start, end);
                    match result {
                        Ok(applied) => {
                            metrics.files_written.inc_by(applied.written as u64);
                            for k in applied.skipped {
                                tracing::error!("not persisted, the key cannot be stored: {k}");
                            }
                        }
                        Err(e) => fail_stop(&store, &e),
                    }
                    if !open {
                        break;
                    }
                }
                // A restart in the same process (the fault API) opens the logs again.
                if let Some(Err(e)) = logs.as_mut().map(Logs::close) {
                    fail_stop(&store, &e);
                }
            })
            .expect("spawning the writer thread");
        Writer { tx, thread }
    }

    /// Lets the thread write what it was handed, then waits for it to stop (blocking).
    pub fn finish(self) {
        drop(self.tx);
        let _ = self.thread.join();
    }

    /// Queues a batch; `seq` comes back through `done` once it is durable.
    pub fn submit(&self, seq: u64, ops: Vec<Persist>) {
        // The thread only ends when `done` is gone, i.e. when the node is shutting down.
        let _ = self.tx.send(Job { seq, ops });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::{Datum, JsonValue};

    fn writebacks(metrics: &Metrics) -> u64 {
        metrics
            .render()
            .lines()
            .find(|l| l.contains("log_writeback_seconds_count"))
            .and_then(|l| l.split_whitespace().last()?.parse().ok())
            .unwrap_or(0)
    }

    /// Light until a window of 100 ms is half busy or more; a window decides only once it has
    /// lasted 100 ms; an idle stretch makes it light again.
    #[test]
    fn the_load_is_light_below_half_busy_over_a_hundred_milliseconds() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut load = Load::new(t0);
        assert!(load.light);
        // 90 ms busy within 95 ms: the window has not lasted 100 ms yet.
        load.add(ms(90), t0 + ms(95));
        assert!(load.light);
        // 10 ms more at 100 ms: 100 of 100 ms busy.
        load.add(ms(10), t0 + ms(100));
        assert!(!load.light);
        // 49 ms busy over the next 100 ms: light.
        load.add(ms(49), t0 + ms(200));
        assert!(load.light);
        // Exactly half: not light.
        load.add(ms(50), t0 + ms(300));
        assert!(!load.light);
        // A batch of 1 ms after 10 s of nothing: light again.
        load.add(ms(1), t0 + ms(10_300));
        assert!(load.light);
    }

    /// A write-back is due at 1,000 new files, or at one new file once a second has passed,
    /// and never without new files.
    #[test]
    fn a_write_back_is_due_at_a_thousand_files_or_after_a_second_with_any() {
        let ms = Duration::from_millis;
        assert!(!writeback_due(0, ms(0)));
        assert!(!writeback_due(0, ms(60_000)));
        assert!(!writeback_due(1, ms(999)));
        assert!(!writeback_due(999, ms(999)));
        assert!(writeback_due(1, ms(1000)));
        assert!(writeback_due(1000, ms(0)));
        assert!(writeback_due(40_000, ms(5)));
    }

    /// Files written under the log are written back within a few steps, only when there are
    /// new ones, and the write-back thread ends with the writer.
    #[test]
    fn logged_files_are_written_back_in_the_background_and_the_thread_ends_with_the_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(tmp.path()).unwrap());
        let metrics = Metrics::new();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        let writer = Writer::spawn(store.clone(), done_tx, metrics.clone(), true);
        let key = "com.alibaba.nacos.naming.iplist.ns1##DEFAULT_GROUP@@a";
        let datum = |ts| {
            Persist::Datum(Datum {
                key: key.into(),
                value: Some(JsonValue::parse("{\"v\":1}").unwrap()),
                timestamp: ts,
            })
        };
        // Nothing written yet: no write-back.
        std::thread::sleep(WRITEBACK_EVERY * 3);
        assert_eq!(writebacks(&metrics), 0);

        writer.submit(1, vec![datum(1)]);
        assert_eq!(done_rx.blocking_recv(), Some(1));
        let deadline = Instant::now() + Duration::from_secs(5);
        while writebacks(&metrics) == 0 {
            assert!(Instant::now() < deadline, "no write-back within 5 s");
            std::thread::sleep(WRITEBACK_EVERY / 2);
        }
        // Idle again: no more write-backs.
        std::thread::sleep(WRITEBACK_EVERY * 2);
        let settled = writebacks(&metrics);
        std::thread::sleep(WRITEBACK_EVERY * 4);
        assert_eq!(writebacks(&metrics), settled);

        // The writer stops, and with it the write-back thread (finish joins both).
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            writer.finish();
            let _ = tx.send(());
        });
        drop(done_rx);
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the writer and its write-back thread stop");
        assert!(tmp.path().join("data").exists());
    }
}
