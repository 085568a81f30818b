//! The write-ahead log of `--rules hardened` (any rules but the faithful ones): a batch of
//! datum writes is made durable by one append to `DIR/`[`WAL_FILE`] and one `fdatasync`, as etcd
//! does, instead of an fsync per datum file and directory. The datum files in Nacos' layout are
//! written right after (atomically: unnamed and linked, or temporary sibling and rename) but not
//! fsync'd (`DIR/position` is written only by the checkpoint); a checkpoint (one `syncfs`,
//! [`Store::flush_all`]) makes them durable when the log is full, and only then is
//! the log emptied. There are two logs, [`WAL_FILE`] and [`WAL_FILE_2`]: the checkpoint of a
//! full one runs on a thread of its own while appends go on in the other (the writer's `Logs`).
//! At start-up [`recover`] writes every logged operation again the durable way
//! before the files are read: a crash at any point loses no acknowledged write and leaves no torn
//! file behind.
//!
//! Why it is faster here: the log is zero-filled once, so an append changes no file-system
//! metadata and its `fdatasync` needs no journal commit; a journal commit (what a datum file's
//! fsync costs) waits for whatever else is dirty in the file system, 22.5 ms per round in the
//! README's run on this shared VM.
//!
//! Layout: a 16-byte header (8 bytes of magic, the generation as little-endian u64), then
//! records: payload length (u32 LE), CRC-32 of the generation and the payload (u32 LE), payload
//! (`D` + the datum JSON, or `R` + the key of a removal). Emptying the log writes a new
//! generation into the header; records of older generations fail their checksum, so reading
//! stops at the first record that is not of the current generation (or torn, or zero).
//!
//! The file sits next to `meta.properties`, outside `DIR/data`, where a Java node never looks.

use crate::store::{parse_datum_file, Store};
use nacos_raft_core::Persist;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};

/// Name of the log in the data directory.
pub const WAL_FILE: &str = "nacos-raft.wal";
/// The second log: appends go on in it while the first one's checkpoint runs (and back), so a
/// checkpoint's `syncfs` (1-2 s on a busy disk) no longer stops every write (issue 13).
pub const WAL_FILE_2: &str = "nacos-raft-2.wal";
/// Size of the log, zero-filled once. A checkpoint happens about every 16 MiB of records.
const SIZE: u64 = 16 << 20;
const MAGIC: &[u8; 8] = b"NRWAL\x001\n";
const HEADER: u64 = 16;
/// Bytes before each payload: length and checksum.
const RECORD_HEAD: usize = 8;
/// Batches with at least this many datum writes (a catch-up) skip the log: a checkpoint first,
/// then the files are written durably one flush per chunk ([`Store::apply`]), which is cheaper
/// than logging them all and writing them again at the next checkpoint.
pub const LOG_BELOW: usize = 1024;

/// The open log, owned by the persistence thread.
#[derive(Debug)]
pub struct Wal {
    file: File,
    /// Opened at each [`Wal::reset`], before the files it will flush are written: `syncfs`
    /// reports the write-back errors of its file system since the descriptor was opened.
    fs_handle: File,
    generation: u64,
    /// Offset where the next record goes.
    end: u64,
    /// The last position appended since the last reset: [`Store::apply_unsynced`] leaves
    /// `DIR/position` alone, the checkpoint writes it.
    position: Option<(u64, u64)>,
}

impl Wal {
    /// Opens the log of `root` empty, creating (zero-filled, fsync'd) if needed. Call [`recover`]
    /// first: anything logged before is discarded here.
    pub fn open(store: &Store) -> io::Result<Wal> {
        Wal::open_file(store, WAL_FILE)
    }

    /// [`Wal::open`] for the log named `name` ([`WAL_FILE`] or [`WAL_FILE_2`]).
    pub fn open_file(store: &Store, name: &str) -> io::Result<Wal> {
        let root = store.root();
        let path = root.join(name);
        let ready = fs::metadata(&path).is_ok_and(|m| m.len() == SIZE);
        let generation = if ready {
            let mut head = [0u8; HEADER as usize];
            File::open(&path)?.read_exact(&mut head)?;
            read_header(&head).unwrap_or(0)
        } else {
            // Zero-filled rather than `fallocate`d: writing into a preallocated, unwritten
            // extent converts it, a metadata change that would cost a journal commit per append.
            let tmp = root.join(format!(".{name}.tmp"));
            let mut f = File::create(&tmp)?;
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..SIZE / zeros.len() as u64 {
                f.write_all(&zeros)?;
            }
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &path)?;
            File::open(root)?.sync_all()?;
            0
        };
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let mut wal = Wal {
            file,
            fs_handle: store.open_fs_handle()?,
            generation,
            end: HEADER,
            position: None,
        };
        wal.reset(store)?;
        Ok(wal)
    }

    /// The generation of the records appended now.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Empties the log into a generation above `other`'s: of two logs holding records, the
    /// higher generation is the newer and is replayed last.
    pub fn reset_above(&mut self, store: &Store, other: u64) -> io::Result<()> {
        self.generation = self.generation.max(other);
        self.reset(store)
    }

    /// Whether records were appended since the last [`Wal::reset`].
    pub fn is_empty(&self) -> bool {
        self.end == HEADER
    }

    /// Appends the datum writes and removals of `ops` and makes them durable (one
    /// `fdatasync`). `false` when they do not fit in what is left: nothing was written then.
    pub fn append(&mut self, ops: &[Persist]) -> io::Result<bool> {
        let mut buf = Vec::new();
        for op in ops {
            let mut payload = Vec::new();
            match op {
                Persist::Datum(d) => {
                    payload.push(b'D');
                    payload.extend_from_slice(d.to_json().as_bytes());
                }
                Persist::Remove { key } => {
                    payload.push(b'R');
                    payload.extend_from_slice(key.as_bytes());
                }
                // The hardened position (a follower's commit answer counts on it) rides in the
                // log with the writes it covers: no fsync of its own file per batch.
                Persist::Position { term, index } => {
                    payload.push(b'P');
                    payload.extend_from_slice(format!("{term} {index}").as_bytes());
                }
                // A tombstone rides with the removal it comes with, as in `DIR/tombstones`.
                Persist::Tombstone { key, at } => {
                    payload.push(b'T');
                    payload.extend_from_slice(format!("{at} {key}").as_bytes());
                }
                Persist::Term(_) => continue,
            }
            let len = u32::try_from(payload.len()).map_err(io::Error::other)?;
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(&checksum(self.generation, &payload).to_le_bytes());
            buf.extend_from_slice(&payload);
        }
        if buf.is_empty() {
            return Ok(true);
        }
        if self.end + buf.len() as u64 > SIZE {
            return Ok(false);
        }
        write_at(&self.file, &buf, self.end)?;
        self.file.sync_data()?;
        self.end += buf.len() as u64;
        if let Some(p) = ops.iter().rev().find_map(|op| match op {
            Persist::Position { term, index } => Some((*term, *index)),
            _ => None,
        }) {
            self.position = Some(p);
        }
        Ok(true)
    }

    /// Empties the log: a new generation in the header, made durable. Only once every logged
    /// write is durable in its file.
    pub fn reset(&mut self, store: &Store) -> io::Result<()> {
        self.generation = self.generation.wrapping_add(1);
        let mut head = [0u8; HEADER as usize];
        head[..8].copy_from_slice(MAGIC);
        head[8..].copy_from_slice(&self.generation.to_le_bytes());
        write_at(&self.file, &head, 0)?;
        self.file.sync_data()?;
        self.end = HEADER;
        self.position = None;
        self.fs_handle = store.open_fs_handle()?;
        Ok(())
    }

    /// Makes every file written since the last checkpoint durable, and the last position
    /// logged, then empties the log.
    pub fn checkpoint(&mut self, store: &Store) -> io::Result<()> {
        let start = std::time::Instant::now();
        if let Some((term, index)) = self.position {
            store.write_position(term, index)?;
        }
        store.flush_all(&self.fs_handle)?;
        let r = self.reset(store);
        // The writer waits for it (everything behind it waits); worth seeing when it is slow.
        tracing::debug!(ms = start.elapsed().as_millis() as u64, "log checkpoint");
        r
    }
}

/// Writes every operation the log of `store`'s directory holds again, durably, so that the
/// files are whole and current before they are read. Returns how many were replayed. A missing
/// or unreadable log holds nothing: it is only ever emptied after a checkpoint.
pub fn recover(store: &Store) -> io::Result<usize> {
    let mut logs = Vec::new();
    for name in [WAL_FILE, WAL_FILE_2] {
        match fs::read(store.root().join(name)) {
            Ok(bytes) => logs.push((read_header(&bytes).unwrap_or(0), name, read_records(&bytes))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    // Both hold records after a crash during a checkpoint: the older generation first.
    logs.sort_by_key(|(generation, _, _)| *generation);
    let ops: Vec<Persist> = logs
        .iter()
        .flat_map(|(_, _, ops)| ops.iter().cloned())
        .collect();
    if !ops.is_empty() {
        store.apply(&ops)?;
        // Replayed and durable: empty the logs, so that a later start does not replay them
        // again over newer files written without the log (faithful rules).
        for (_, name, _) in &logs {
            Wal::open_file(store, name)?;
        }
    }
    Ok(ops.len())
}

/// The operations of the current generation, in order, up to the first record that is torn,
/// zero or of another generation.
fn read_records(bytes: &[u8]) -> Vec<Persist> {
    let Some(generation) = read_header(bytes) else {
        return Vec::new();
    };
    let mut ops = Vec::new();
    let mut at = HEADER as usize;
    while let Some(head) = bytes.get(at..at + RECORD_HEAD) {
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let sum = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        let Some(payload) = bytes.get(at + RECORD_HEAD..at + RECORD_HEAD + len) else {
            break;
        };
        if len == 0 || checksum(generation, payload) != sum {
            break;
        }
        let op = match payload[0] {
            b'D' => parse_datum_file(&payload[1..]).ok().map(Persist::Datum),
            b'R' => std::str::from_utf8(&payload[1..])
                .ok()
                .map(|k| Persist::Remove { key: k.to_string() }),
            b'P' => std::str::from_utf8(&payload[1..])
                .ok()
                .and_then(|s| s.split_once(' '))
                .and_then(|(t, i)| Some((t.parse().ok()?, i.parse().ok()?)))
                .map(|(term, index)| Persist::Position { term, index }),
            b'T' => std::str::from_utf8(&payload[1..])
                .ok()
                .and_then(|s| s.split_once(' '))
                .and_then(|(at, key)| Some((at.parse().ok()?, key.to_string())))
                .map(|(at, key)| Persist::Tombstone { key, at }),
            _ => None,
        };
        // A record with a valid checksum always parses (it was written by `append`); stop
        // rather than guess if it does not.
        let Some(op) = op else { break };
        ops.push(op);
        at += RECORD_HEAD + len;
    }
    ops
}

fn read_header(bytes: &[u8]) -> Option<u64> {
    let head = bytes.get(..HEADER as usize)?;
    (&head[..8] == MAGIC).then(|| u64::from_le_bytes(head[8..].try_into().expect("8 bytes")))
}

fn checksum(generation: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&generation.to_le_bytes());
    h.update(payload);
    h.finalize()
}

#[cfg(unix)]
fn write_at(f: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)
}

#[cfg(not(unix))]
fn write_at(f: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut f = f;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::{Datum, JsonValue};

    fn datum(k: &str, v: &str, ts: u64) -> Persist {
        Persist::Datum(Datum {
            key: k.into(),
            value: Some(JsonValue::parse(&format!("{{\"v\":\"{v}\"}}")).unwrap()),
            timestamp: ts,
        })
    }

    const A: &str = "com.alibaba.nacos.naming.iplist.ns1##DEFAULT_GROUP@@a";
    const B: &str = "com.alibaba.nacos.naming.iplist.ns1##DEFAULT_GROUP@@b";

    fn value_of(store: &Store, k: &str) -> Option<String> {
        let loaded = store.load().unwrap();
        assert!(loaded.moved_aside.is_empty(), "{:?}", loaded.moved_aside);
        loaded
            .datums
            .into_iter()
            .find(|d| d.key == k)
            .map(|d| d.value.unwrap().as_str().to_string())
    }

    /// A node killed after the log append, before it wrote the files (the acknowledged write is
    /// only in the log): the next start writes them.
    #[test]
    fn a_logged_batch_is_written_at_start_up_when_its_files_are_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        store.apply(&[datum(B, "old", 1)]).unwrap();
        let mut wal = Wal::open(&store).unwrap();
        let batch = [
            datum(A, "one", 2),
            datum(A, "two", 3),
            Persist::Remove { key: B.into() },
            Persist::Term(7),
            Persist::Position { term: 7, index: 2 },
            Persist::Tombstone {
                key: B.into(),
                at: 1,
            },
        ];
        assert!(wal.append(&batch).unwrap());
        drop(wal);
        assert_eq!(value_of(&store, A), None);
        assert_eq!(store.load().unwrap().position, (0, 0));
        assert_eq!(recover(&store).unwrap(), 5);
        assert_eq!(store.load().unwrap().tombstones, [(B.to_string(), 1)]);
        assert_eq!(value_of(&store, A).as_deref(), Some(r#"{"v":"two"}"#));
        assert_eq!(value_of(&store, B), None);
        // The hardened position logged with the writes it covers is back too.
        assert_eq!(store.load().unwrap().position, (7, 2));
        // Replayed once: the log is empty now.
        assert_eq!(recover(&store).unwrap(), 0);
    }

    /// The position of a logged batch is not written to `DIR/position` per batch (that cost
    /// ~5 % of a node's CPU, issue 13): the log holds it until the checkpoint writes the last
    /// one, and a crash before replays it.
    #[test]
    fn a_logged_position_reaches_its_file_at_the_checkpoint_or_the_replay() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let mut wal = Wal::open(&store).unwrap();
        for (i, batch) in [
            [datum(A, "one", 1), Persist::Position { term: 3, index: 1 }],
            [datum(B, "two", 2), Persist::Position { term: 3, index: 2 }],
        ]
        .iter()
        .enumerate()
        {
            assert!(wal.append(batch).unwrap(), "batch {i}");
            store.apply_unsynced(batch).unwrap();
        }
        assert_eq!(store.load().unwrap().position, (0, 0));
        wal.checkpoint(&store).unwrap();
        assert_eq!(store.load().unwrap().position, (3, 2));
        // Logged after the checkpoint, then a crash: the replay writes it.
        let batch = [
            datum(A, "three", 3),
            Persist::Position { term: 4, index: 3 },
        ];
        assert!(wal.append(&batch).unwrap());
        store.apply_unsynced(&batch).unwrap();
        drop(wal);
        assert_eq!(store.load().unwrap().position, (3, 2));
        assert_eq!(recover(&store).unwrap(), 2);
        assert_eq!(store.load().unwrap().position, (4, 3));
        // A checkpoint with no position logged since leaves the file alone.
        let mut wal = Wal::open(&store).unwrap();
        let batch = [datum(B, "four", 4)];
        assert!(wal.append(&batch).unwrap());
        store.apply_unsynced(&batch).unwrap();
        wal.checkpoint(&store).unwrap();
        assert_eq!(store.load().unwrap().position, (4, 3));
        assert_eq!(value_of(&store, B).as_deref(), Some(r#"{"v":"four"}"#));
    }

    /// After a checkpoint the old records stay in the file but belong to an older generation;
    /// a torn record ends the log. Neither is replayed over newer files.
    #[test]
    fn old_generations_and_torn_records_are_not_replayed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let mut wal = Wal::open(&store).unwrap();
        let first = [datum(A, "first", 1), datum(B, "first", 1)];
        assert!(wal.append(&first).unwrap());
        store.apply_unsynced(&first).unwrap();
        wal.checkpoint(&store).unwrap();
        assert!(wal.is_empty());
        let newer = [datum(A, "newer", 2)];
        assert!(wal.append(&newer).unwrap());
        store.apply_unsynced(&newer).unwrap();
        let end = wal.end;
        drop(wal);
        // Tear the last record: its last byte never reached the disk.
        let path = tmp.path().join(WAL_FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes[end as usize - 1] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(recover(&store).unwrap(), 0);
        assert_eq!(value_of(&store, A).as_deref(), Some(r#"{"v":"newer"}"#));
        assert_eq!(value_of(&store, B).as_deref(), Some(r#"{"v":"first"}"#));
    }

    /// A crash while the first log's checkpoint ran and appends went to the second: both hold
    /// records, and the older generation is replayed first whichever file holds it.
    #[test]
    fn two_logs_are_replayed_older_generation_first() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let mut first = Wal::open(&store).unwrap();
        let mut second = Wal::open_file(&store, WAL_FILE_2).unwrap();
        second.reset_above(&store, first.generation()).unwrap();
        assert!(second
            .append(&[datum(A, "old", 1), datum(B, "old", 1)])
            .unwrap());
        first.reset_above(&store, second.generation()).unwrap();
        assert!(first.append(&[datum(A, "new", 2)]).unwrap());
        drop((first, second));
        assert_eq!(recover(&store).unwrap(), 3);
        assert_eq!(value_of(&store, A).as_deref(), Some(r#"{"v":"new"}"#));
        assert_eq!(value_of(&store, B).as_deref(), Some(r#"{"v":"old"}"#));
        assert_eq!(recover(&store).unwrap(), 0);
    }

    /// A batch larger than the whole log is refused, not cut: the writer then writes it the
    /// durable way.
    #[test]
    fn a_batch_larger_than_the_log_is_refused_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let mut wal = Wal::open(&store).unwrap();
        let big = "x".repeat(SIZE as usize);
        assert!(!wal.append(&[datum(A, &big, 1)]).unwrap());
        assert!(wal.is_empty());
        assert_eq!(recover(&store).unwrap(), 0);
    }
}
