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
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
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

/// The two logs: appends go to `active`; when it is full its checkpoint (one `syncfs`) runs on
/// a thread of its own while appends go on in the other. Before, every write waited for the
/// checkpoint, 1-2 s on a busy disk (issue 13).
struct Logs {
    active: Wal,
    /// The other log, empty, when no checkpoint is running.
    spare: Option<Wal>,
    /// The checkpoint of the other log, which hands it back empty.
    flushing: Option<std::thread::JoinHandle<io::Result<Wal>>>,
}

impl Logs {
    fn open(store: &Store) -> io::Result<Logs> {
        let spare = Wal::open_file(store, WAL_FILE_2)?;
        let mut active = Wal::open(store)?;
        active.reset_above(store, spare.generation())?;
        Ok(Logs {
            active,
            spare: Some(spare),
            flushing: None,
        })
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

/// The thread that writes the datum files of logged batches, in order, behind the
/// acknowledgement: the persistence thread appends and `fdatasync`s the next batch meanwhile.
/// Before, every batch waited for the files of the one before it (about a quarter of a node's
/// CPU under `wrk -c 32`, issue 13), so the files sat on every acknowledgement's path.
struct Files {
    tx: Option<mpsc::Sender<Vec<Persist>>>,
    /// Batches handed over.
    sent: u64,
    /// Batches whose files are written.
    done: Arc<(Mutex<u64>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Files {
    fn spawn(store: Arc<Store>, metrics: Metrics) -> Files {
        let (tx, rx) = mpsc::channel::<Vec<Persist>>();
        let done = Arc::new((Mutex::new(0u64), Condvar::new()));
        let count = done.clone();
        let thread = std::thread::Builder::new()
            .name("nacos-raft-files".into())
            .spawn(move || {
                while let Ok(mut ops) = rx.recv() {
                    let mut batches = 1;
                    // Merged: the last write of a key wins, as within one batch.
                    while let Ok(more) = rx.try_recv() {
                        ops.extend(more);
                        batches += 1;
                    }
                    match store.apply_unsynced(&ops) {
                        Ok(applied) => count_applied(&metrics, applied),
                        Err(e) => fail_stop(&store, &e),
                    }
                    let (n, cv) = &*count;
                    *n.lock().unwrap_or_else(PoisonError::into_inner) += batches;
                    cv.notify_all();
                }
            })
            .expect("spawning the files thread");
        Files {
            tx: Some(tx),
            sent: 0,
            done,
            thread: Some(thread),
        }
    }

    /// Queues the files of a batch already durable in the log.
    fn send(&mut self, ops: Vec<Persist>) {
        if let Some(tx) = &self.tx {
            // The thread ends only when it failed (and then the process exits).
            let _ = tx.send(ops);
            self.sent += 1;
        }
    }

    /// Waits until every batch handed over has its files written: before a checkpoint (which
    /// makes them durable) and before a write that does not go through the log (which must
    /// land after them).
    fn drain(&self) {
        let (n, cv) = &*self.done;
        let mut done = n.lock().unwrap_or_else(PoisonError::into_inner);
        while *done < self.sent {
            if self.thread.as_ref().is_none_or(|t| t.is_finished()) {
                // It panicked: the files of acknowledged writes may be missing until a replay.
                tracing::error!("the files thread stopped; exiting");
                std::process::exit(EXIT_IO_ERROR);
            }
            done = cv
                .wait_timeout(done, Duration::from_millis(100))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Writes what is queued, then stops the thread.
    fn finish(&mut self) {
        self.drain();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn count_applied(metrics: &Metrics, applied: Applied) {
    metrics.files_written.inc_by(applied.written as u64);
    for k in applied.skipped {
        tracing::error!("not persisted, the key cannot be stored: {k}");
    }
}

/// Makes one merged batch durable and calls `durable` as soon as it is. Through the log when
/// there is one and the batch is not a catch-up: one append and `fdatasync`, `durable`, then the
/// files without fsync, handed to the [`Files`] thread (off the acknowledgement's path: a crash
/// before they are written leaves them to the replay at start-up). A batch with a term write
/// reports only once that is written too (it is fsync'd under `term-on-restart`, and not
/// logged): its files are written here, after those queued. Otherwise file by file; such a
/// batch comes after a checkpoint, so that replaying the log at start-up never writes an older
/// value over it.
fn write_batch(
    store: &Arc<Store>,
    logs: Option<(&mut Logs, &mut Files)>,
    ops: Vec<Persist>,
    durable: &mut dyn FnMut(),
) -> io::Result<Option<Applied>> {
    if let Some((logs, files)) = logs {
        let datums = ops.iter().filter(|p| p.must_sync()).count();
        if datums < LOG_BELOW {
            let mut logged = logs.active.append(&ops)?;
            if !logged {
                // Full: its files are made durable beside (all of them written first), this
                // batch goes to the other log.
                files.drain();
                logs.rotate(store)?;
                logged = logs.active.append(&ops)?;
            }
            if logged {
                if ops.iter().all(Persist::must_sync) {
                    durable();
                    files.send(ops);
                    return Ok(None);
                }
                files.drain();
                let applied = store.apply_unsynced(&ops)?;
                durable();
                return Ok(Some(applied));
            }
        }
        files.drain();
        logs.checkpoint_all(store)?;
    }
    let applied = store.apply(&ops)?;
    durable();
    Ok(Some(applied))
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
                let mut logs = match log.then(|| Logs::open(&store)).transpose() {
                    Ok(w) => w,
                    Err(e) => fail_stop(&store, &e),
                };
                let mut files = logs
                    .is_some()
                    .then(|| Files::spawn(store.clone(), metrics.clone()));
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
                    let piped = logs.as_mut().zip(files.as_mut());
                    match write_batch(&store, piped, ops, &mut durable) {
                        Ok(Some(applied)) => count_applied(&metrics, applied),
                        Ok(None) => {}
                        Err(e) => fail_stop(&store, &e),
                    }
                    if !open {
                        break;
                    }
                }
                // A restart in the same process (the fault API) opens the logs again.
                if let Some(f) = files.as_mut() {
                    f.finish();
                }
                if let Some(Err(e)) = logs.as_mut().map(Logs::wait) {
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

    fn key(i: usize) -> String {
        format!("com.alibaba.nacos.naming.iplist.ns1##DEFAULT_GROUP@@svc-{i}")
    }

    fn datum(i: usize, v: &str, ts: u64) -> Persist {
        Persist::Datum(Datum {
            key: key(i),
            value: Some(JsonValue::parse(&format!("{{\"v\":\"{v}\"}}")).unwrap()),
            timestamp: ts,
        })
    }

    fn value_of(store: &Store, i: usize) -> Option<String> {
        store
            .load()
            .unwrap()
            .datums
            .into_iter()
            .find(|d| d.key == key(i))
            .map(|d| d.value.unwrap().as_str().to_string())
    }

    /// `drain` returns only once every batch handed to the files thread is written: what a
    /// checkpoint and a write outside the log count on.
    #[test]
    fn drain_waits_for_every_queued_file() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(tmp.path()).unwrap());
        let mut files = Files::spawn(store.clone(), Metrics::new());
        for i in 0..200 {
            files.send(vec![datum(i, "a", 1), datum(i, "b", 2)]);
        }
        files.drain();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.datums.len(), 200);
        assert!(loaded.datums.iter().all(|d| d.timestamp == 2));
        files.send(vec![datum(0, "c", 3)]);
        files.finish();
        assert_eq!(value_of(&store, 0).as_deref(), Some(r#"{"v":"c"}"#));
    }

    /// Logged batches report durable before their files are written (on the files thread); a
    /// catch-up batch, which skips the log, comes after those files, so the newest value of a
    /// key is on disk whichever path each write took; `finish` writes every queued file.
    #[test]
    fn files_written_behind_the_log_stay_in_order_with_batches_that_skip_it() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(tmp.path()).unwrap());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let writer = Writer::spawn(store.clone(), tx, Metrics::new(), true);
        let mut seq = 0;
        // One batch at a time (queued ones would be merged into one).
        let mut submit = |ops: Vec<Persist>| {
            seq += 1;
            writer.submit(seq, ops);
            while rx.blocking_recv().expect("the writer reports") < seq {}
        };
        for round in 0..2u64 {
            let ts = round * 10 + 1;
            submit(vec![datum(0, &format!("logged-{ts}"), ts)]);
            // A catch-up: past LOG_BELOW datums, written the durable way.
            let mut big: Vec<Persist> = (1..=LOG_BELOW).map(|i| datum(i, "big", ts + 1)).collect();
            big.push(datum(0, &format!("big-{}", ts + 1), ts + 1));
            submit(big);
            submit(vec![datum(0, &format!("logged-{}", ts + 2), ts + 2)]);
        }
        writer.finish();
        assert_eq!(value_of(&store, 0).as_deref(), Some(r#"{"v":"logged-13"}"#));
        assert_eq!(
            value_of(&store, LOG_BELOW).as_deref(),
            Some(r#"{"v":"big"}"#)
        );
        // The log still holds the last batch (no checkpoint since): replaying it changes nothing.
        assert_eq!(crate::wal::recover(&store).unwrap(), 1);
        assert_eq!(value_of(&store, 0).as_deref(), Some(r#"{"v":"logged-13"}"#));
    }
}
