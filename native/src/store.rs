//! Persistence in Nacos' layout (`docs/nacos-protocol.md` §8), made crash-safe.
//!
//! `DIR` plays the part of Java's `<nacos.home>/data/naming`:
//! - `DIR/data/<namespace>/<key with : → #>`: one file per key, the Datum JSON;
//! - `DIR/data/<key>` for keys without a namespace (the switch);
//! - `DIR/meta.properties`: a `#<date>` line and `term=<n>`.
//!
//! Nacos truncates and rewrites a file in place, so a crash can leave it torn. Here every datum
//! file is written to a temporary sibling (`.<name>.tmp`, which no loader reads), fsync'd,
//! renamed over the old one, and the directory is fsync'd: a file is always either old or new.
//! `meta.properties` is replaced the same way but not fsync'd (Nacos does not either, and a
//! restarted node starts at term 0 whatever the file says), except under `term-on-restart`
//! ([`Store::with_durable_term`]). Under the hardened rules datum writes are made durable by the
//! write-ahead log first (`crate::wal`) and the files written here without fsync.
//! Files that cannot be read back are moved to `DIR/corrupt/` — outside `DIR/data`, where a Java
//! node would not trip over them either — and reported, instead of aborting start-up as Nacos does.

use nacos_raft_core::key::{self, FILE_PREFIX};
use nacos_raft_core::{Datum, Persist};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest file name written (the temporary name adds 5 bytes to it; most file systems stop at 255).
const MAX_FILE_NAME: usize = 250;
/// Writes in one batch at or above which files are written and fsync'd by several threads: ext4
/// folds concurrent fsyncs into one journal commit, about 10× the throughput of one at a time.
const PARALLEL_FROM: usize = 8;
/// Most threads used for one batch.
const MAX_THREADS: usize = 16;
/// Datum files in one batch from which they are made durable by one file-system flush
/// ([`Store::apply_grouped`]) rather than an fsync each. Below, the per-file fsyncs cost less
/// than flushing whatever else is dirty on the file system. Such batches come from catch-ups
/// and, under `--rules global-lock`, from concurrent writes to different keys: at 256 a batch of
/// 32 concurrent writes took 26.8 ms per round of parallel fsyncs, at 8 one flush took 6.5 ms
/// (`SMOKE=1 make bench-vs-etcd`, 32 connections, ext3 on the 2-core VM; 292 → 1,082 writes/s).
const FLUSH_ONCE_FROM: usize = 8;
/// Threads writing and renaming the files of a grouped batch: the work is system-call and JSON
/// bound, not waiting for the disk, so a few threads are enough.
const GROUPED_THREADS: usize = 4;

/// A data directory that cannot be used.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// What start-up found on disk.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every datum, by the key inside its file.
    pub datums: Vec<Datum>,
    /// `term` from `meta.properties` (0 when absent).
    pub term: u64,
    /// The hardened log position from `DIR/position` (`(0, 0)` when absent).
    pub position: (u64, u64),
    /// The hardened tombstones from `DIR/tombstones`: key and the timestamp it was deleted at.
    pub tombstones: Vec<(String, u64)>,
    /// Files moved aside: from, to, why.
    pub moved_aside: Vec<(PathBuf, PathBuf, String)>,
    /// Leftover temporary files removed (a crash during a write).
    pub temp_removed: usize,
}

/// Whether a key can be stored safely: its namespace must be a plain folder name and its file
/// name a plain, not too long file name. Nacos does no such check, so a key like
/// `…iplist.../..##x` would write outside its data directory there.
pub fn storable(k: &str) -> Result<(), String> {
    if k.is_empty() {
        return Err("the key is empty".into());
    }
    let ns = key::namespace(k);
    if !ns.is_empty() {
        component_ok(ns).map_err(|e| format!("key {k}: namespace {ns:?} {e}"))?;
    }
    let f = key::file_name(k);
    component_ok(&f).map_err(|e| format!("key {k}: file name {e}"))?;
    if f.len() > MAX_FILE_NAME {
        return Err(format!(
            "key {k} is {} bytes long; keys of at most {MAX_FILE_NAME} bytes can be stored",
            f.len()
        ));
    }
    Ok(())
}

fn component_ok(s: &str) -> Result<(), &'static str> {
    if s == "." || s == ".." {
        return Err("is a relative path");
    }
    if s.starts_with('.') {
        return Err("starts with a dot");
    }
    if s.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
        return Err("contains a path separator or a control character");
    }
    Ok(())
}

/// Name of the lock file in the data directory (see [`Store::lock`]).
pub const LOCK_FILE: &str = "nacos-raft.lock";

/// The data directory held by this process, until it is dropped (or the process ends).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    /// The holder named by a lock file left behind by a process that no longer runs.
    pub stale: Option<String>,
}

/// The data directory.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    data: PathBuf,
    /// Whether term writes are fsync'd ([`Store::with_durable_term`]).
    durable_term: bool,
    /// Files per chunk of a grouped write, when a test sets it (else from the open-files limit).
    #[cfg(test)]
    chunk: Option<usize>,
    /// Per folder, once looked at: whether it may hold a legacy file (one whose name lacks
    /// `DEFAULT_GROUP@@`). A write through the log then skips the unlink of a legacy name that
    /// cannot exist: a lookup in a folder of many files, ~3 % of a node's CPU at 32
    /// connections (issue 13). Set again by every write of such a name ([`Store::apply`]).
    legacy_dirs: Mutex<HashMap<PathBuf, bool>>,
    /// The file a datum write under the log fills and swaps in ([`Spare`]).
    spare: Spare,
}

/// Name of the spare file in the data directory (beside `meta.properties`, outside `data/`, where
/// a Java node never looks).
pub const SPARE_FILE: &str = "nacos-raft.spare";

/// One file, `DIR/`[`SPARE_FILE`], that an overwrite under the log fills with the new content
/// and then exchanges with the datum's file (`renameat2(RENAME_EXCHANGE)`): the name points at the
/// whole new file at once, and the old file becomes the spare for the next write. A new key's
/// file is not written this way (see [`apply_one_unsynced`]): taking the spare for it cost more
/// than an unnamed file linked in its folder (writes/s at 32 connections 0.79× in the same run).
///
/// Why: an overwrite used to create a file (an unnamed one first, whose `linkat` fails on an
/// existing name, then a temporary one renamed over the name) and free the old one. On ext4
/// without a journal, with `discard` (this machine's root), each freed file is a discard and an
/// inode ext4 skips for a minute after; a benchmark of overwrites of 1,000 keys made 0.45× etcd's
/// writes/s at 32 connections (docs/benchmarks.md, 2026-12-06). An exchange allocates and frees
/// nothing. Where the kernel or file system refuses it, writes go the old way from then on.
#[derive(Debug)]
struct Spare {
    path: PathBuf,
    /// One write at a time uses the file.
    lock: Mutex<()>,
    off: std::sync::atomic::AtomicBool,
    /// Hashes of the datum files written under the log since start-up: a hint that a file
    /// exists, instead of a lookup per write in a folder of many files (that lookup cost new
    /// keys 6-13 % of their writes/s). Wrong either way is only slower: a hash of a file that
    /// is not there makes the exchange fail (`ENOENT`) and the write goes the new-key way; a file
    /// not in it (written before start-up) is found by `linkat` and replaced the old way once.
    written: Mutex<std::collections::HashSet<u64>>,
}

impl Spare {
    fn new(root: &Path) -> Spare {
        Spare {
            path: root.join(SPARE_FILE),
            lock: Mutex::new(()),
            off: std::sync::atomic::AtomicBool::new(!cfg!(target_os = "linux")),
            written: Mutex::new(std::collections::HashSet::new()),
        }
    }

    fn hash(path: &Path) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(path)
    }

    /// Whether a file was written at `path` since start-up (a hint, see `written`).
    fn known(&self, path: &Path) -> bool {
        let set = self.written.lock().unwrap_or_else(|e| e.into_inner());
        set.contains(&Spare::hash(path))
    }

    /// Notes that `path` holds a file now (`true`) or not (`false`).
    fn note(&self, path: &Path, exists: bool) {
        let mut set = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if exists {
            set.insert(Spare::hash(path));
        } else {
            set.remove(&Spare::hash(path));
        }
    }

    /// Makes the existing file `to` a whole file holding `bytes` (not fsync'd). `false`: nothing
    /// was done (no file `to`, or exchanges refused), write it another way.
    #[cfg(target_os = "linux")]
    fn put(&self, to: &Path, bytes: &[u8], early: bool) -> io::Result<bool> {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        use std::os::unix::fs::FileExt;
        use std::sync::atomic::Ordering;
        if self.off.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)?;
        // Written over in place and cut to length: a content of the same number of blocks
        // frees and allocates none.
        f.write_all_at(bytes, 0)?;
        f.set_len(bytes.len() as u64)?;
        if early {
            start_writeback(&f);
        }
        drop(f);
        let unsupported = |e: Errno| {
            matches!(
                e,
                Errno::INVAL | Errno::XDEV | Errno::NOSYS | Errno::OPNOTSUPP | Errno::PERM
            )
        };
        match renameat_with(CWD, &self.path, CWD, to, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            // No file of that name (gone since the caller looked): the caller writes a new one.
            Err(Errno::NOENT) => Ok(false),
            Err(e) if unsupported(e) => {
                self.off.store(true, Ordering::Relaxed);
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn put(&self, _to: &Path, _bytes: &[u8], _early: bool) -> io::Result<bool> {
        Ok(false)
    }
}

impl Store {
    /// Opens (creating if needed) `root` and `root/data`, and checks that files can be written.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        if root.exists() && !root.is_dir() {
            return Err(StoreError(format!(
                "data dir {} exists but is not a directory",
                root.display()
            )));
        }
        let data = root.join("data");
        fs::create_dir_all(&data)
            .map_err(|e| StoreError(format!("cannot create data dir {}: {e}", data.display())))?;
        fs::read_dir(&data)
            .map_err(|e| StoreError(format!("cannot read data dir {}: {e}", data.display())))?;
        let probe = data.join(format!(".probe-{}.tmp", std::process::id()));
        File::create(&probe)
            .and_then(|mut f| f.write_all(b"probe"))
            .and_then(|_| fs::remove_file(&probe))
            .map_err(|e| StoreError(format!("data dir {} is not writable: {e}", data.display())))?;
        Ok(Store {
            root: root.to_path_buf(),
            data,
            durable_term: false,
            #[cfg(test)]
            chunk: None,
            legacy_dirs: Mutex::new(HashMap::new()),
            spare: Spare::new(root),
        })
    }

    /// Makes every term write durable (the file and its directory fsync'd) before the batch
    /// that holds it is reported done. Needed under `term-on-restart`, where a restarted node
    /// takes its term back from `meta.properties`: a vote granted in a term the disk lost could
    /// be granted a second time after a crash.
    pub fn with_durable_term(mut self, durable: bool) -> Store {
        self.durable_term = durable;
        self
    }

    /// Takes the data directory for this process, as `me`: an exclusive lock on
    /// `DIR/`[`LOCK_FILE`], which then names this process's pid and address. Refused when another
    /// running process holds it (two nodes writing one directory would corrupt it; Nacos does
    /// not check). The lock is the kernel's (`flock`), so it dies with its process: the file a
    /// killed node leaves behind is taken over, and [`DirLock::stale`] says whose it was.
    pub fn lock(&self, me: &str) -> Result<DirLock, StoreError> {
        let path = self.root.join(LOCK_FILE);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                StoreError(format!("cannot open the lock file {}: {e}", path.display()))
            })?;
        let holder = |file: &mut File| {
            let mut text = String::new();
            let _ = io::Read::read_to_string(file, &mut text);
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .unwrap_or("unknown")
                    .to_string()
            };
            (field("pid"), field("address"))
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let (pid, addr) = holder(&mut file);
                return Err(StoreError(format!(
                    "data dir {} is in use by another running node (pid {pid}, address {addr}, \
                     lock file {}): stop it, or give this node its own --data-dir",
                    self.root.display(),
                    path.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(StoreError(format!("cannot lock {}: {e}", path.display())));
            }
        }
        let (pid, addr) = holder(&mut file);
        let stale = (pid != "unknown").then(|| format!("pid {pid}, address {addr}"));
        let mine = format!("pid={}\naddress={me}\n", std::process::id());
        io::Seek::seek(&mut file, io::SeekFrom::Start(0))
            .and_then(|_| file.set_len(0))
            .and_then(|_| file.write_all(mine.as_bytes()))
            .and_then(|_| file.sync_all())
            .map_err(|e| {
                StoreError(format!(
                    "cannot write the lock file {}: {e}",
                    path.display()
                ))
            })?;
        Ok(DirLock { _file: file, stale })
    }

    /// The directory given at start-up.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Folder and file name of a key (`None` when the key is not [`storable`]).
    pub fn location(&self, k: &str) -> Option<(PathBuf, String)> {
        storable(k).ok()?;
        let ns = key::namespace(k);
        let dir = if ns.is_empty() {
            self.data.clone()
        } else {
            self.data.join(ns)
        };
        Some((dir, key::file_name(k)))
    }

    /// Path of a key's file.
    pub fn path_of(&self, k: &str) -> Option<PathBuf> {
        self.location(k).map(|(d, f)| d.join(f))
    }

    // ---- loading ----------------------------------------------------------------------

    /// Reads every datum file (`RaftCore.init`): sub-folders of `data/` are namespaces, plain
    /// files directly in it have none; only names starting with `com.alibaba.nacos.naming` are
    /// read, empty files are skipped, the key is the one inside the JSON. Unreadable files are
    /// moved aside and listed in [`Loaded::moved_aside`].
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut out = Loaded::default();
        let mut by_key: HashMap<String, Datum> = HashMap::new();
        let entries = fs::read_dir(&self.data).map_err(|e| {
            StoreError(format!("cannot read data dir {}: {e}", self.data.display()))
        })?;
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir {
                let inner = fs::read_dir(&path)
                    .map_err(|e| StoreError(format!("cannot read {}: {e}", path.display())))?;
                files.extend(inner.flatten().map(|e| e.path()));
            } else {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.starts_with('.') && name.ends_with(".tmp") {
                // A write that crashed before its rename: the old file (if any) is intact.
                if fs::remove_file(&path).is_ok() {
                    out.temp_removed += 1;
                }
                continue;
            }
            if !name.starts_with(FILE_PREFIX) || !path.is_file() {
                continue;
            }
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    return Err(StoreError(format!("cannot read {}: {e}", path.display())));
                }
            };
            if bytes.is_empty() {
                continue;
            }
            match read_datum_file(name, &bytes) {
                Ok(d) => match by_key.get(&d.key) {
                    Some(old) if old.timestamp >= d.timestamp => {}
                    _ => {
                        by_key.insert(d.key.clone(), d);
                    }
                },
                Err(why) => {
                    let to = self.move_aside(&path)?;
                    out.moved_aside.push((path, to, why));
                }
            }
        }
        let mut datums: Vec<Datum> = by_key.into_values().collect();
        datums.sort_by(|a, b| a.key.cmp(&b.key));
        out.datums = datums;
        // `Properties.load` reads ISO 8859-1, where every byte is a character: a file that is
        // not UTF-8 is read too (and moved aside if it holds no term) instead of stopping
        // start-up (found by `make fuzz`, fuzz/regressions/store/).
        let latin1 = |b: &[u8]| Ok(b.iter().map(|&c| char::from(c)).collect::<String>());
        if let Some(t) = self.read_aside("meta.properties", latin1, parse_term, &mut out)? {
            out.term = t;
        }
        let utf8 = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|e| e.to_string());
        if let Some(at) = self.read_aside(POSITION_FILE, utf8, parse_position, &mut out)? {
            out.position = at;
        }
        if let Some(list) = self.read_aside(TOMBSTONES_FILE, utf8, parse_tombstones, &mut out)? {
            // A key written again after its delete holds a newer datum: the tombstone is
            // history (the core drops it too), and so is a second line of the same key.
            let newest: HashMap<&str, u64> = out
                .datums
                .iter()
                .map(|d| (d.key.as_str(), d.timestamp))
                .collect();
            let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
            let lines = list.len();
            for (k, at) in list {
                if newest.get(k.as_str()).is_some_and(|ts| *ts > at) {
                    continue;
                }
                let t = by_key.entry(k).or_insert(at);
                *t = (*t).max(at);
            }
            if by_key.len() < lines {
                self.rewrite_tombstones(&by_key)
                    .map_err(|e| StoreError(format!("cannot rewrite {TOMBSTONES_FILE}: {e}")))?;
            }
            out.tombstones = by_key.into_iter().collect();
        }
        Ok(out)
    }

    /// Reads `DIR/<name>` with `decode` then `parse`; `None` when it does not exist, and when it
    /// cannot be understood: then it is moved aside (noted in `out`) and start-up goes on.
    fn read_aside<T>(
        &self,
        name: &str,
        decode: impl Fn(&[u8]) -> Result<String, String>,
        parse: impl Fn(&str) -> Result<T, String>,
        out: &mut Loaded,
    ) -> Result<Option<T>, StoreError> {
        let path = self.root.join(name);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError(format!("cannot read {}: {e}", path.display())));
            }
        };
        match decode(&bytes).and_then(|text| parse(&text)) {
            Ok(v) => Ok(Some(v)),
            Err(why) => {
                let to = self.move_aside(&path)?;
                out.moved_aside.push((path, to, why));
                Ok(None)
            }
        }
    }

    /// Moves an unreadable file to `DIR/corrupt/<same relative path>.<unix ms>`.
    fn move_aside(&self, path: &Path) -> Result<PathBuf, StoreError> {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let mut to = self.root.join("corrupt").join(rel);
        let name = format!(
            "{}.{ms}",
            to.file_name().and_then(|n| n.to_str()).unwrap_or("file")
        );
        to.set_file_name(name);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| StoreError(format!("cannot create {}: {e}", parent.display())))?;
        }
        fs::rename(path, &to).map_err(|e| {
            StoreError(format!(
                "cannot move the unreadable file {} aside: {e}",
                path.display()
            ))
        })?;
        Ok(to)
    }

    // ---- writing ----------------------------------------------------------------------

    /// Carries out a batch of writes durably: the last write of each key wins, files are written
    /// atomically (several threads for large batches), every touched directory is fsync'd once,
    /// and the last term replaces `meta.properties` (atomically, without fsync, as in Nacos).
    pub fn apply(&self, ops: &[Persist]) -> io::Result<Applied> {
        self.apply_as(ops, true, false)
    }

    /// [`Store::apply`] without fsync of the datum files and their directories (the term is
    /// written as by `apply`): for writes already durable in the write-ahead log
    /// ([`crate::wal`]), made durable later by [`Store::flush_all`]. Each file is still replaced
    /// atomically (unnamed and linked, or temporary sibling and rename). The position is not
    /// written: the log holds it, and its checkpoint writes it ([`Store::write_position`]).
    pub fn apply_unsynced(&self, ops: &[Persist]) -> io::Result<Applied> {
        self.apply_as(ops, false, false)
    }

    /// [`Store::apply_unsynced`], and with `start_writeback` each file's write to the disk is
    /// started at once (asynchronously: `posix_fadvise(DONTNEED)` starts the write-back of dirty
    /// pages), so that the files reach the disk a few at a time rather than in the write-back
    /// thread's bursts.
    pub fn apply_unsynced_with(
        &self,
        ops: &[Persist],
        start_writeback: bool,
    ) -> io::Result<Applied> {
        self.apply_as(ops, false, start_writeback)
    }

    fn apply_as(&self, ops: &[Persist], durable: bool, early: bool) -> io::Result<Applied> {
        let mut last: HashMap<&str, usize> = HashMap::new();
        let mut term = None;
        let mut position = None;
        let mut tombstones = String::new();
        for (i, op) in ops.iter().enumerate() {
            match op {
                Persist::Datum(d) => {
                    last.insert(d.key.as_str(), i);
                }
                Persist::Remove { key } => {
                    last.insert(key.as_str(), i);
                }
                Persist::Term(t) => term = Some(*t),
                Persist::Position { term, index } => position = Some((*term, *index)),
                Persist::Tombstone { key, at } => tombstones.push_str(&tombstone_line(key, *at)),
            }
        }
        let mut work: Vec<(PathBuf, String, Option<&Datum>)> = Vec::new();
        let mut skipped = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let (k, datum) = match op {
                Persist::Datum(d) => (d.key.as_str(), Some(d)),
                Persist::Remove { key } => (key.as_str(), None),
                Persist::Term(_) | Persist::Position { .. } | Persist::Tombstone { .. } => continue,
            };
            if last.get(k) != Some(&i) {
                continue;
            }
            match self.location(k) {
                Some((dir, file)) => work.push((dir, file, datum)),
                None => skipped.push(k.to_string()),
            }
        }
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        for (dir, _, d) in &work {
            if d.is_some() && !dir.is_dir() {
                fs::create_dir_all(dir)?;
                // The new folder's own entry must reach the disk too.
                dirs.insert(self.data.clone());
            }
            dirs.insert(dir.clone());
        }
        let written = work.iter().filter(|w| w.2.is_some()).count();
        let removed = work.len() - written;
        for (dir, file, d) in &work {
            if d.is_some() {
                self.note_written(dir, file);
            }
        }
        if !durable {
            work.iter().try_for_each(|w| {
                apply_one_unsynced(w, &self.spare, |dir| self.may_hold_legacy(dir), early)
            })?;
            dirs.clear();
        } else if written >= FLUSH_ONCE_FROM {
            self.apply_grouped(&work)?;
        } else if work.len() >= PARALLEL_FROM {
            let threads = work.len().div_ceil(4).min(MAX_THREADS);
            in_threads(&work, threads, apply_one)?;
        } else {
            work.iter().try_for_each(apply_one)?;
        }
        if let Some(t) = term {
            self.write_term(t)?;
        }
        // Not Nacos': durable before the answers that count on it (a restarted voter that
        // forgot its position could elect a node without a write it acknowledged). Unless it
        // is already durable in the write-ahead log (`!durable`): the log's checkpoint writes
        // the file then ([`crate::wal::Wal::checkpoint`]), and start-up replays what is logged.
        // Replacing the file per batch cost ~5 % of a node's CPU at 32 connections (issue 13).
        if let Some((t, i)) = position.filter(|_| durable) {
            self.write_position(t, i)?;
            dirs.insert(self.root.clone());
        }
        if !tombstones.is_empty() {
            // Not Nacos': appended, durable with the removals they come with (unless the
            // write-ahead log holds them); a torn last line is a write never acknowledged.
            let path = self.root.join(TOMBSTONES_FILE);
            let existed = path.exists();
            let mut f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            f.write_all(tombstones.as_bytes())?;
            if durable {
                f.sync_data()?;
                if !existed {
                    dirs.insert(self.root.clone());
                }
            }
        }
        for d in &dirs {
            File::open(d)?.sync_all()?;
        }
        Ok(Applied {
            written,
            removed,
            skipped,
        })
    }

    /// Replaces `DIR/position` atomically (temporary sibling, fsync, rename); the caller
    /// fsyncs the directory.
    pub fn write_position(&self, term: u64, index: u64) -> io::Result<()> {
        write_atomic(
            &self.root,
            POSITION_FILE,
            format!("{term} {index}\n").as_bytes(),
        )
    }

    /// Replaces `meta.properties`. Under the faithful rules Nacos does not fsync the term and a
    /// restarted node starts at term 0 anyway: replaced atomically, without the two fsyncs
    /// that would double the cost of every write. With [`Store::with_durable_term`], fsync'd
    /// with its directory.
    fn write_term(&self, t: u64) -> io::Result<()> {
        if self.durable_term {
            write_atomic(&self.root, "meta.properties", meta_properties(t).as_bytes())?;
            return File::open(&self.root)?.sync_all();
        }
        let tmp = self.root.join(".meta.properties.tmp");
        fs::write(&tmp, meta_properties(t))?;
        fs::rename(&tmp, self.root.join("meta.properties"))
    }

    /// Replaces `DIR/tombstones` with one line per key (start-up compaction), durably.
    fn rewrite_tombstones(&self, by_key: &BTreeMap<String, u64>) -> io::Result<()> {
        let text: String = by_key
            .iter()
            .map(|(k, at)| tombstone_line(k, *at))
            .collect();
        write_atomic(&self.root, TOMBSTONES_FILE, text.as_bytes())?;
        File::open(&self.root)?.sync_all()
    }

    /// Makes everything written to the data directory durable: on Linux one `syncfs(2)` of its
    /// file system through `fs_handle` ([`Store::open_fs_handle`], opened before the writes: see
    /// [`flush_temps`] for the errors it reports), elsewhere an fsync of every file and folder.
    /// The write-ahead log's checkpoint.
    pub fn flush_all(&self, fs_handle: &File) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            rustix::fs::syncfs(fs_handle).map_err(io::Error::from)
        }
        #[cfg(not(target_os = "linux"))]
        {
            fn sync_tree(dir: &Path) -> io::Result<()> {
                for e in fs::read_dir(dir)? {
                    let e = e?;
                    if e.file_type()?.is_dir() {
                        sync_tree(&e.path())?;
                    } else {
                        File::open(e.path())?.sync_all()?;
                    }
                }
                File::open(dir)?.sync_all()
            }
            let _ = fs_handle;
            sync_tree(&self.data)?;
            File::open(&self.root)?.sync_all()
        }
    }

    /// A descriptor of the data directory for [`Store::flush_all`].
    pub fn open_fs_handle(&self) -> io::Result<File> {
        File::open(&self.data)
    }

    /// A large batch with one flush per chunk of files instead of one fsync each (a catch-up
    /// brings thousands at a time). A chunk's files are written first — a key without a file
    /// yet as an unnamed file in its folder (`O_TMPFILE`), any other as a named temporary file —
    /// then one `syncfs` makes them all durable, then each gets its name (`linkat` for an
    /// unnamed file, `rename` for a temporary one); the caller fsyncs each directory once. A
    /// name thus only ever points at a whole, durable file. A new follower's files are all
    /// new: one directory entry each instead of a temporary entry plus a rename, which is what
    /// the time went to (README, issue 14). Chunks bound the files held open at once. `syncfs`
    /// also flushes other programs' dirty data on the same file system, hence only from
    /// [`FLUSH_ONCE_FROM`] files on.
    ///
    /// The chunks are pipelined: a chunk's flush (waiting for the disk) runs on a thread of its
    /// own while the next chunk is written, and the chunk is named only once its flush has
    /// returned. A catch-up's time is mostly system calls competing for 2 cores; before, the
    /// flushes (about a quarter of it) left them idle.
    fn apply_grouped(&self, work: &[(PathBuf, String, Option<&Datum>)]) -> io::Result<()> {
        let fs_handle = File::open(&self.data)?;
        let start = Instant::now();
        let (present, existed) = names_present(work)?;
        // Two chunks are open at once (one flushing, the next being written): half each.
        let chunk = (open_files_per_chunk() / 2).max(32);
        #[cfg(test)]
        let chunk = self.chunk.unwrap_or(chunk);
        let mut spent = Spent::default();
        let fs = &fs_handle;
        let present = &present;
        std::thread::scope(|s| -> io::Result<()> {
            let mut pending = None;
            for (part, existed) in work.chunks(chunk).zip(existed.chunks(chunk)) {
                let t = Instant::now();
                let items: Vec<_> = part.iter().zip(existed.iter().copied()).collect();
                let staged =
                    map_in_threads(&items, GROUPED_THREADS, |(w, existed)| stage(w, *existed))?;
                spent.staging += t.elapsed();
                // Everything in `part` was written before this flush starts.
                let flush = s.spawn(move || flush_temps(fs, part));
                if let Some(previous) = pending.replace((part, staged, flush)) {
                    name_flushed(previous, present, &mut spent)?;
                }
            }
            match pending {
                Some(last) => name_flushed(last, present, &mut spent),
                None => Ok(()),
            }
        })?;
        // Where a large batch's time goes.
        tracing::debug!(
            files = work.len(),
            chunk,
            staging_ms = spent.staging.as_millis() as u64,
            flush_wait_ms = spent.waiting.as_millis() as u64,
            naming_ms = spent.naming.as_millis() as u64,
            total_ms = start.elapsed().as_millis() as u64,
            "grouped write"
        );
        Ok(())
    }

    /// Whether `dir` may hold a legacy file: looked at once (its names), then kept up to date
    /// by [`Store::note_written`]. A folder that cannot be read may.
    fn may_hold_legacy(&self, dir: &Path) -> bool {
        let mut dirs = self.legacy_dirs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(may) = dirs.get(dir) {
            return *may;
        }
        let may = match fs::read_dir(dir) {
            Ok(entries) => entries
                .into_iter()
                .any(|e| e.map_or(true, |e| !e.file_name().to_string_lossy().contains(GROUPED))),
            Err(e) => e.kind() != io::ErrorKind::NotFound,
        };
        dirs.insert(dir.to_path_buf(), may);
        may
    }

    /// Records that `file` is written in `dir`, before it is: a name without `DEFAULT_GROUP@@`
    /// can be a legacy file.
    fn note_written(&self, dir: &Path, file: &str) {
        if !file.contains(GROUPED) {
            let mut dirs = self.legacy_dirs.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(may) = dirs.get_mut(dir) {
                *may = true;
            }
        }
    }

    /// Writes one datum file directly, without fsync: for building test fixtures and benchmark
    /// data sets quickly, never on the protocol path.
    pub fn write_unsynced(&self, d: &Datum) -> io::Result<()> {
        let (dir, file) = self
            .location(&d.key)
            .ok_or_else(|| io::Error::other(format!("key {} cannot be stored", d.key)))?;
        self.note_written(&dir, &file);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(file), d.to_json())
    }
}

/// What [`Store::apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Files written.
    pub written: usize,
    /// Files removed.
    pub removed: usize,
    /// Keys that cannot be stored (see [`storable`]); nothing was written for them.
    pub skipped: Vec<String>,
}

fn apply_one(w: &(PathBuf, String, Option<&Datum>)) -> io::Result<()> {
    let (dir, file, datum) = w;
    match datum {
        Some(d) => {
            write_atomic(dir, file, d.to_json().as_bytes())?;
            remove_legacy(dir, d)
        }
        None => remove_if_present(&dir.join(file)),
    }
}

/// [`apply_one`] without fsync, for [`Store::apply_unsynced`]. An existing file is overwritten
/// through the [`Spare`] file, exchanged with it. A new key's file is written unnamed
/// (`O_TMPFILE`) and linked under its name; where exchanges are refused, an existing one
/// (`linkat` refuses to replace) gets the temporary sibling and rename.
/// Every way, a name only ever points at a whole file. The unnamed file saves the temporary
/// name's creation, lookups and rename in a folder of many files: per write the largest CPU item
/// of `--rules hardened` at 32 connections (issue 13, perf profile in native/README.md).
/// `may_hold_legacy` tells whether a folder can hold a legacy file at all.
fn apply_one_unsynced(
    w: &(PathBuf, String, Option<&Datum>),
    spare: &Spare,
    may_hold_legacy: impl Fn(&Path) -> bool,
    early: bool,
) -> io::Result<()> {
    let (dir, file, datum) = w;
    match datum {
        Some(d) => {
            let json = d.to_json();
            let path = dir.join(file);
            let linked = (spare.known(&path) && spare.put(&path, json.as_bytes(), early)?)
                || match open_unnamed(dir)? {
                    Some(mut f) => {
                        f.write_all(json.as_bytes())?;
                        let linked = link_new(&f, &dir.join(file))?;
                        if linked && early {
                            start_writeback(&f);
                        }
                        linked
                    }
                    None => false,
                };
            if !linked {
                let tmp = dir.join(temp_name(file));
                fs::write(&tmp, &json)?;
                fs::rename(&tmp, dir.join(file))?;
            }
            spare.note(&path, true);
            match legacy_name(d) {
                // A legacy name always lacks `DEFAULT_GROUP@@` (but for a key that holds it
                // twice, where removing one forms another: then unlink as before).
                Some(legacy) if legacy.contains(GROUPED) || may_hold_legacy(dir) => {
                    let legacy = dir.join(legacy);
                    spare.note(&legacy, false);
                    remove_if_present(&legacy)
                }
                _ => Ok(()),
            }
        }
        None => {
            let path = dir.join(file);
            spare.note(&path, false);
            remove_if_present(&path)
        }
    }
}

/// Starts writing a file's dirty pages to the disk without waiting (`posix_fadvise(DONTNEED)`
/// does that on Linux before it drops the clean ones). Only a hint: an error changes nothing,
/// since the write-back thread and the checkpoint's `syncfs` write the file anyway.
fn start_writeback(f: &File) {
    #[cfg(target_os = "linux")]
    let _ = rustix::fs::fadvise(f, 0, None, rustix::fs::Advice::DontNeed);
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

/// Names an unnamed file `to` if no file has that name (`linkat` never replaces); `false` if one
/// has (or `/proc` is missing), and nothing was done. By descriptor (`AT_EMPTY_PATH`) where the
/// kernel allows it (a process with `CAP_DAC_READ_SEARCH`), else through `/proc/self/fd`, whose
/// lookup took a quarter of `linkat`'s time in a catch-up's profile.
#[cfg(target_os = "linux")]
fn link_new(f: &File, to: &Path) -> io::Result<bool> {
    use rustix::fs::{linkat, AtFlags, CWD};
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, Ordering};
    /// Set once the kernel refused a link by descriptor: not asked again.
    static NO_EMPTY_PATH: AtomicBool = AtomicBool::new(false);
    let by_fd = if NO_EMPTY_PATH.load(Ordering::Relaxed) {
        Err(rustix::io::Errno::NOENT)
    } else {
        linkat(f, "", CWD, to, AtFlags::EMPTY_PATH)
    };
    let linked = match by_fd {
        // Refused without the capability (ENOENT), or an old kernel (EINVAL).
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::INVAL | rustix::io::Errno::PERM) => {
            NO_EMPTY_PATH.store(true, Ordering::Relaxed);
            let from = format!("/proc/self/fd/{}", f.as_raw_fd());
            linkat(CWD, from.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW)
        }
        other => other,
    };
    match linked {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST | rustix::io::Errno::NOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn link_new(_f: &File, _to: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Runs `f` on every item of `work`, split over `threads` scoped threads; the first error wins.
fn in_threads<T: Sync>(
    work: &[T],
    threads: usize,
    f: impl Fn(&T) -> io::Result<()> + Sync,
) -> io::Result<()> {
    let chunk = work.len().div_ceil(threads.max(1)).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().try_for_each(f)))
            .collect();
        // Scoped threads are all joined when the scope ends, even after an early error.
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")))
        })
    })
}

/// [`in_threads`], keeping each item's result, in order.
fn map_in_threads<T: Sync, R: Send>(
    work: &[T],
    threads: usize,
    f: impl Fn(&T) -> io::Result<R> + Sync,
) -> io::Result<Vec<R>> {
    let chunk = work.len().div_ceil(threads.max(1)).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<io::Result<Vec<R>>>()))
            .collect();
        let mut out = Vec::with_capacity(work.len());
        for h in handles {
            out.extend(
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")))?,
            );
        }
        Ok(out)
    })
}

/// A grouped write's file between its writing and its naming (see [`Store::apply_grouped`]).
enum Staged {
    /// Written, not yet linked into its folder.
    Unnamed(File),
    /// Written as the temporary sibling.
    Temporary,
    /// A removal: nothing written.
    Nothing,
}

/// Time a grouped write spent writing files, waiting for flushes, and naming files.
#[derive(Default)]
struct Spent {
    staging: Duration,
    waiting: Duration,
    naming: Duration,
}

/// A chunk of a grouped write, written, with its flush running.
type Flushing<'s, 'w, 'd> = (
    &'w [(PathBuf, String, Option<&'d Datum>)],
    Vec<Staged>,
    std::thread::ScopedJoinHandle<'s, io::Result<()>>,
);

/// Waits for a chunk's flush, then names its files ([`finish_staged`]): never before the
/// flush has returned without error.
fn name_flushed(
    (part, staged, flush): Flushing<'_, '_, '_>,
    present: &HashMap<PathBuf, HashSet<OsString>>,
    spent: &mut Spent,
) -> io::Result<()> {
    let t = Instant::now();
    flush
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("flush thread panicked")))?;
    spent.waiting += t.elapsed();
    let t = Instant::now();
    let done: Vec<_> = part.iter().zip(staged).collect();
    in_threads(&done, GROUPED_THREADS, |(w, staged)| {
        finish_staged(w, staged, present)
    })?;
    spent.naming += t.elapsed();
    Ok(())
}

/// Writes a datum's content without fsync: unnamed when its file did not exist (and the file
/// system allows it), else as its temporary sibling.
fn stage(w: &(PathBuf, String, Option<&Datum>), existed: bool) -> io::Result<Staged> {
    let (dir, file, Some(d)) = w else {
        return Ok(Staged::Nothing);
    };
    let json = d.to_json();
    if !existed {
        if let Some(mut f) = open_unnamed(dir)? {
            f.write_all(json.as_bytes())?;
            return Ok(Staged::Unnamed(f));
        }
    }
    fs::write(dir.join(temp_name(file)), json)?;
    Ok(Staged::Temporary)
}

/// The file names in each folder of a grouped batch before it, plus those it writes: the legacy
/// files that can exist. A catch-up then tries one unlink per legacy file present (none on a new
/// follower) instead of one per datum. Also, for each item, whether its file existed before.
#[allow(clippy::type_complexity)]
fn names_present(
    work: &[(PathBuf, String, Option<&Datum>)],
) -> io::Result<(HashMap<PathBuf, HashSet<OsString>>, Vec<bool>)> {
    let mut present: HashMap<PathBuf, HashSet<OsString>> = HashMap::new();
    let mut existed = Vec::with_capacity(work.len());
    for (dir, file, datum) in work {
        if !present.contains_key(dir) {
            let mut names = HashSet::new();
            match fs::read_dir(dir) {
                Ok(entries) => {
                    for e in entries {
                        names.insert(e?.file_name());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            present.insert(dir.clone(), names);
        }
        let names = present.get_mut(dir).expect("inserted above");
        existed.push(names.contains(OsStr::new(file)));
        if datum.is_some() {
            names.insert(OsString::from(file));
        }
    }
    Ok((present, existed))
}

/// Names a file staged by [`stage`] once it is durable (then unlinks its legacy file if it can
/// exist), or removes a key's file.
fn finish_staged(
    w: &(PathBuf, String, Option<&Datum>),
    staged: &Staged,
    present: &HashMap<PathBuf, HashSet<OsString>>,
) -> io::Result<()> {
    let (dir, file, datum) = w;
    let Some(d) = datum else {
        return remove_if_present(&dir.join(file));
    };
    match staged {
        Staged::Unnamed(f) => link_unnamed(f, dir, file, d)?,
        Staged::Temporary => fs::rename(dir.join(temp_name(file)), dir.join(file))?,
        Staged::Nothing => return Err(io::Error::other("a datum without its staged file")),
    }
    match legacy_name(d) {
        Some(legacy)
            if present
                .get(dir)
                .is_some_and(|n| n.contains(OsStr::new(&legacy))) =>
        {
            remove_if_present(&dir.join(legacy))
        }
        _ => Ok(()),
    }
}

/// Files held open at once by a grouped write: a quarter of the descriptors allowed, the rest
/// stays for connections (the node raises its limit at start-up).
fn open_files_per_chunk() -> usize {
    let soft = rlimit::Resource::NOFILE
        .get()
        .map_or(1024, |(soft, _)| soft);
    usize::try_from(soft / 4)
        .unwrap_or(usize::MAX)
        .clamp(64, 8192)
}

/// An unnamed file in `dir` (`O_TMPFILE`): it gets a name only once written and durable, and
/// disappears by itself if the process dies first. `None` when the file system cannot make one
/// or no descriptor is left: the caller then uses a temporary file.
#[cfg(target_os = "linux")]
fn open_unnamed(dir: &Path) -> io::Result<Option<File>> {
    use rustix::fs::{Mode, OFlags, CWD};
    match rustix::fs::openat(
        CWD,
        dir,
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    ) {
        Ok(fd) => Ok(Some(File::from(fd))),
        Err(
            rustix::io::Errno::OPNOTSUPP
            | rustix::io::Errno::ISDIR
            | rustix::io::Errno::INVAL
            | rustix::io::Errno::MFILE
            | rustix::io::Errno::NFILE,
        ) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn open_unnamed(_dir: &Path) -> io::Result<Option<File>> {
    Ok(None)
}

/// Gives a durable unnamed file its name. `linkat` never replaces: if the name appeared in the
/// meantime (or `/proc` is missing), the datum is written the slow way instead.
fn link_unnamed(f: &File, dir: &Path, file: &str, d: &Datum) -> io::Result<()> {
    if link_new(f, &dir.join(file))? {
        Ok(())
    } else {
        write_atomic(dir, file, d.to_json().as_bytes())
    }
}

/// What every file name of a grouped key in the default group holds, and no legacy name does.
const GROUPED: &str = "DEFAULT_GROUP@@";

fn temp_name(file: &str) -> String {
    format!(".{file}.tmp")
}

/// Nacos' migration from the pre-group layout: the old file of the same service without
/// `DEFAULT_GROUP@@` is deleted after each write.
fn remove_legacy(dir: &Path, d: &Datum) -> io::Result<()> {
    match legacy_name(d) {
        Some(legacy) => remove_if_present(&dir.join(legacy)),
        None => Ok(()),
    }
}

/// The file name of a `DEFAULT_GROUP@@` key's pre-group form.
fn legacy_name(d: &Datum) -> Option<String> {
    let group = format!("{}@@", key::DEFAULT_GROUP);
    d.key
        .contains(&group)
        .then(|| key::file_name(&d.key.replace(&group, "")))
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Makes the temporary files of `work` durable. On Linux one `syncfs(2)` of the file system that
/// holds them: data, inodes and the journal in one commit and one device flush. `fs_handle`
/// must have been opened before the files were written: since Linux 5.8 `syncfs` reports any
/// writeback error of that file system that happened after the descriptor was opened (possibly
/// another program's: the node then stops, the safe side).
#[cfg(target_os = "linux")]
fn flush_temps(fs_handle: &File, _work: &[(PathBuf, String, Option<&Datum>)]) -> io::Result<()> {
    rustix::fs::syncfs(fs_handle).map_err(io::Error::from)
}

/// Elsewhere, one fsync per temporary file (from several threads).
#[cfg(not(target_os = "linux"))]
fn flush_temps(_fs_handle: &File, work: &[(PathBuf, String, Option<&Datum>)]) -> io::Result<()> {
    in_threads(work, MAX_THREADS, |(dir, file, datum)| match datum {
        Some(_) => File::open(dir.join(temp_name(file)))?.sync_all(),
        None => Ok(()),
    })
}

/// Temporary sibling, fsync, rename. The caller fsyncs the directory.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(temp_name(name));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))
}

/// Parses one datum file; the reason when it is unusable.
pub fn parse_datum_file(bytes: &[u8]) -> Result<Datum, String> {
    let d: Datum =
        serde_json::from_slice(bytes).map_err(|e| format!("not a Datum JSON object: {e}"))?;
    if d.key.is_empty() {
        return Err("the datum has no key".into());
    }
    storable(&d.key)?;
    if d.value.as_ref().is_none_or(|v| v.is_null()) {
        return Err(format!("the datum {} has no value", d.key));
    }
    Ok(d)
}

/// Java's start-up reading of an instance-list file written before Instances existed
/// (RaftStore 196-222): when the file's value is a bare array of instances, the key gets
/// `DEFAULT_GROUP@@` in front of its service name, the array is wrapped as `{"instanceList":…}`
/// and every instance is marked `ephemeral: false`. Other datums are returned as they are. The
/// instances' fields come out in alphabetical order (Java writes its own order either way).
pub fn migrate_legacy(file_name: &str, d: Datum) -> Datum {
    if key::is_switch(file_name) {
        return d;
    }
    if key::is_meta(file_name) {
        return migrate_meta(d);
    }
    if !key::is_iplist(file_name) {
        return d;
    }
    let Some(value) = &d.value else { return d };
    let Ok(serde_json::Value::Array(mut list)) = serde_json::from_str(value.as_str()) else {
        return d;
    };
    for inst in &mut list {
        if let Some(o) = inst.as_object_mut() {
            o.insert("ephemeral".into(), serde_json::Value::Bool(false));
        }
    }
    let wrapped = serde_json::json!({ "instanceList": list }).to_string();
    let Ok(value) = nacos_raft_core::JsonValue::parse(&wrapped) else {
        return d;
    };
    let service = key::service(&d.key);
    let at = d.key.len() - service.len();
    let key = format!("{}{}@@{service}", &d.key[..at], key::DEFAULT_GROUP);
    if storable(&key).is_err() {
        return d;
    }
    Datum {
        key,
        value: Some(value),
        timestamp: d.timestamp,
    }
}

/// Java's start-up reading of a service (meta) file (RaftStore 169-193): the value is read with
/// every backslash removed when that still parses (else as it is), a blank `groupName` becomes
/// `DEFAULT_GROUP`, and a `name` without `@@` gets `DEFAULT_GROUP@@` in front. A value changed
/// by any of these is written back with its fields in alphabetical order; an unchanged one is
/// kept byte for byte. A value without `name` is kept as it is (Java's start-up fails there).
fn migrate_meta(d: Datum) -> Datum {
    let Some(value) = &d.value else { return d };
    let original = value.as_str();
    let stripped = original.replace('\\', "");
    let parsed = serde_json::from_str::<serde_json::Value>(&stripped)
        .ok()
        .filter(serde_json::Value::is_object)
        .or_else(|| serde_json::from_str(original).ok());
    let Some(serde_json::Value::Object(mut o)) = parsed else {
        return d;
    };
    let Some(name) = o.get("name").and_then(|n| n.as_str()).map(str::to_string) else {
        return d;
    };
    let group = format!("{}@@", key::DEFAULT_GROUP);
    let mut changed =
        stripped != original && serde_json::from_str::<serde_json::Value>(&stripped).is_ok();
    if o.get("groupName")
        .and_then(|g| g.as_str())
        .is_none_or(|g| g.trim().is_empty())
    {
        o.insert("groupName".into(), key::DEFAULT_GROUP.into());
        changed = true;
    }
    if !name.contains("@@") {
        o.insert("name".into(), format!("{group}{name}").into());
        changed = true;
    }
    if !changed {
        return d;
    }
    match nacos_raft_core::JsonValue::parse(&serde_json::Value::Object(o).to_string()) {
        Ok(value) => Datum {
            value: Some(value),
            ..d
        },
        Err(_) => d,
    }
}

/// `RaftStore.readDatum`: the file's datum, migrated as Java migrates it, its value typed by
/// the file name's kind (start-up and `datum/reload` both read files this way).
pub fn read_datum_file(file_name: &str, bytes: &[u8]) -> Result<Datum, String> {
    parse_datum_file(bytes)
        .map(|d| migrate_legacy(file_name, d))
        .and_then(|d| check_typed(file_name, d))
}

/// RaftStore 164-228 reads a file's value as the class its file name's kind names (switch,
/// meta, instance list), after the migrations above; a value that does not parse throws there
/// and stops Java's start-up. Here it is an unreadable file like the others (moved aside).
fn check_typed(file_name: &str, d: Datum) -> Result<Datum, String> {
    let (Some(kind), Some(value)) = (key::kind(file_name), &d.value) else {
        return Ok(d);
    };
    nacos_raft_core::naming::check_value(
        kind,
        value.as_str(),
        nacos_raft_core::naming::java_class(kind),
    )
    .map_err(|e| format!("the value of {} does not parse: {e}", d.key))?;
    Ok(d)
}

/// `term` from a `java.util.Properties` text (`#`/`!` comments, `=`, `:` or blank separators).
pub fn parse_term(text: &str) -> Result<u64, String> {
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') || l.starts_with('!') {
            continue;
        }
        let split = l
            .find(|c: char| c == '=' || c == ':' || c.is_whitespace())
            .unwrap_or(l.len());
        let (k, rest) = l.split_at(split);
        if k != "term" {
            continue;
        }
        let v = rest.trim_start().trim_start_matches(['=', ':']).trim();
        return v
            .parse::<u64>()
            .map_err(|_| format!("meta.properties: term {v:?} is not a number"));
    }
    Ok(0)
}

/// The hardened rules' log position (`Persist::Position`): `<term> <index>`, one line. Not a
/// Nacos file: Java never reads it.
pub const POSITION_FILE: &str = "position";

/// The two numbers of a `position` file.
pub fn parse_position(text: &str) -> Result<(u64, u64), String> {
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(t)), Some(Ok(i)), None) => Ok((t, i)),
        _ => Err(format!("position: {text:?} is not two numbers")),
    }
}

/// The hardened rules' tombstones (`Persist::Tombstone`, docs/hardened/dead-key.md): one line
/// per deleted key, `<timestamp> <key as a JSON string>`, appended; the newest line of a key
/// counts. Not a Nacos file: Java never reads it.
pub const TOMBSTONES_FILE: &str = "tombstones";

fn tombstone_line(key: &str, at: u64) -> String {
    format!("{at} {}\n", serde_json::Value::from(key))
}

/// The lines of a `tombstones` file. A last line without its newline is an append a crash cut
/// short (never acknowledged): left out. Any other line that does not read is an error.
pub fn parse_tombstones(text: &str) -> Result<Vec<(String, u64)>, String> {
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole
        .split('\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(n, line)| {
            let bad = || {
                format!(
                    "tombstones: line {} is not `<timestamp> \"<key>\"`: {line:?}",
                    n + 1
                )
            };
            let (at, key) = line.split_once(' ').ok_or_else(bad)?;
            let at = at.parse::<u64>().map_err(|_| bad())?;
            let key: String = serde_json::from_str(key).map_err(|_| bad())?;
            Ok((key, at))
        })
        .collect()
}

/// `meta.properties` as `Properties.store` writes it: a date comment, then `term=<n>`.
pub fn meta_properties(term: u64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format!("#{}\nterm={term}\n", java_date(secs))
}

/// `java.util.Date.toString()` in UTC: `Thu Jan 14 10:00:00 UTC 2021`.
pub fn java_date(unix_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs.div_euclid(86_400);
    let rem = unix_secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[(days + 4).rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nacos_raft_core::JsonValue;

    fn datum(k: &str, ts: u64) -> Datum {
        Datum {
            key: k.into(),
            value: Some(JsonValue::parse(r#"{"instanceList":[]}"#).unwrap()),
            timestamp: ts,
        }
    }

    const K: &str = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo";

    #[test]
    fn a_data_dir_is_held_by_one_lock_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        std::fs::write(
            dir.path().join(LOCK_FILE),
            "pid=999999\naddress=127.0.0.9:1\n",
        )
        .unwrap();
        let held = store.lock("127.0.0.1:8848").unwrap();
        assert_eq!(
            held.stale.as_deref(),
            Some("pid 999999, address 127.0.0.9:1")
        );
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(
            text,
            format!("pid={}\naddress=127.0.0.1:8848\n", std::process::id())
        );
        // A second lock (flock is per open file, so this process stands in for another one).
        let err = store.lock("127.0.0.1:8849").unwrap_err().to_string();
        assert!(err.contains("in use by another running node"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("address 127.0.0.1:8848"), "{err}");
        drop(held);
        assert!(store.lock("127.0.0.1:8849").unwrap().stale.is_some());
    }

    #[test]
    fn legacy_instance_arrays_are_wrapped_as_java_loads_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ns = dir.path().join("data").join("public");
        std::fs::create_dir_all(&ns).unwrap();
        let old_key = "com.alibaba.nacos.naming.iplist.public##legacy";
        std::fs::write(
            ns.join(old_key),
            format!(
                r#"{{"key":"{old_key}","value":[{{"ip":"127.0.0.1","port":80,"ephemeral":true}},{{"ip":"127.0.0.2","port":81}}],"timestamp":7}}"#
            ),
        )
        .unwrap();
        let loaded = store.load().unwrap();
        assert!(loaded.moved_aside.is_empty());
        assert_eq!(loaded.datums.len(), 1);
        let d = &loaded.datums[0];
        assert_eq!(
            d.key,
            "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@legacy"
        );
        assert_eq!(d.timestamp, 7);
        assert_eq!(
            d.value.as_ref().unwrap().as_str(),
            r#"{"instanceList":[{"ephemeral":false,"ip":"127.0.0.1","port":80},{"ephemeral":false,"ip":"127.0.0.2","port":81}]}"#
        );
        // Service files: default group and name added, backslashes removed; a current one is
        // kept byte for byte.
        let meta = |v: &str| {
            let d = Datum {
                key: "com.alibaba.nacos.naming.domains.meta.public##legacy".into(),
                value: Some(nacos_raft_core::JsonValue::parse(v).unwrap()),
                timestamp: 1,
            };
            let key = d.key.clone();
            migrate_legacy(&key, d).value.unwrap().as_str().to_string()
        };
        assert_eq!(
            meta(r#"{"name":"legacy","token":"a\b"}"#),
            r#"{"groupName":"DEFAULT_GROUP","name":"DEFAULT_GROUP@@legacy","token":"ab"}"#
        );
        let current = r#"{"name":"DEFAULT_GROUP@@x","groupName":"DEFAULT_GROUP","z":1}"#;
        assert_eq!(meta(current), current);
        assert_eq!(meta(r#"{"groupName":"g"}"#), r#"{"groupName":"g"}"#);
        // The switch is never migrated.
        let sw = Datum {
            key: key::SWITCH_KEY.into(),
            value: Some(nacos_raft_core::JsonValue::parse(r#"{"name":"x"}"#).unwrap()),
            timestamp: 1,
        };
        assert_eq!(migrate_legacy(key::SWITCH_KEY, sw.clone()), sw);
        // A current file is read as it is.
        let d = datum(
            "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@x",
            3,
        );
        assert_eq!(migrate_legacy(&d.key.clone(), d.clone()), d);
    }

    #[test]
    fn java_dates() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_610_618_400), "Thu Jan 14 10:00:00 UTC 2021");
        assert_eq!(java_date(951_782_400), "Tue Feb 29 00:00:00 UTC 2000");
    }

    /// The fsync'd term write (`term-on-restart`) lands like the plain one: read back, no
    /// temporary file left.
    #[test]
    fn a_durable_term_is_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap().with_durable_term(true);
        store.apply(&[Persist::Term(5), Persist::Term(9)]).unwrap();
        assert_eq!(store.load().unwrap().term, 9);
        assert!(!tmp.path().join(".meta.properties.tmp").exists());
    }

    /// Tombstones are appended with their removals, read back (newest line of a key, none older
    /// than a newer datum of its key), compacted at start-up; a torn last line is left out and
    /// a bad line moves the file aside without stopping start-up.
    #[test]
    fn tombstones_are_kept_across_a_restart() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        let odd = format!("{K}\"odd key\n");
        let tomb = |key: &str, at| Persist::Tombstone {
            key: key.into(),
            at,
        };
        s.apply(&[tomb(&format!("{K}1"), 3), tomb(&odd, 2)])
            .unwrap();
        s.apply_unsynced(&[tomb(&format!("{K}1"), 5), tomb(&format!("{K}2"), 4)])
            .unwrap();
        // Key 2 written again after its delete: its tombstone is history.
        s.apply(&[Persist::Datum(datum(&format!("{K}2"), 6))])
            .unwrap();
        let loaded = s.load().unwrap();
        assert!(loaded.moved_aside.is_empty(), "{:?}", loaded.moved_aside);
        let want = vec![(odd.clone(), 2), (format!("{K}1"), 5)];
        assert_eq!(loaded.tombstones, want);
        let path = tmp.path().join(TOMBSTONES_FILE);
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
        // An append cut short by a crash: the whole lines still count.
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"9 \"com.alibaba.na").unwrap();
        assert_eq!(s.load().unwrap().tombstones, want);
        // A line that does not read: moved aside, start-up goes on.
        fs::write(&path, "5 not-json\n").unwrap();
        let loaded = s.load().unwrap();
        assert!(loaded.tombstones.is_empty());
        assert!(
            loaded.moved_aside[0].2.contains("tombstones: line 1"),
            "{:?}",
            loaded.moved_aside
        );
        assert!(!path.exists());
    }

    #[test]
    fn terms_parse_like_properties() {
        assert_eq!(parse_term("#Thu Jan 14\nterm=305\n").unwrap(), 305);
        assert_eq!(parse_term("term : 7").unwrap(), 7);
        assert_eq!(parse_term("# only a comment").unwrap(), 0);
        assert!(parse_term("term=abc").is_err());
        assert_eq!(parse_position("3 17\n"), Ok((3, 17)));
        assert!(parse_position("3").is_err());
        assert!(parse_position("3 x").is_err());
        assert!(parse_position("1 2 3").is_err());
    }

    #[test]
    fn unsafe_keys_are_not_storable() {
        assert!(storable(K).is_ok());
        assert!(storable(key::SWITCH_KEY).is_ok());
        for bad in [
            "",
            "com.alibaba.nacos.naming.iplist..##x",
            "com.alibaba.nacos.naming.iplist.a/b##x",
            "com.alibaba.nacos.naming.iplist.ns##a/../../x",
            "com.alibaba.nacos.naming.iplist.ns##a\0",
        ] {
            assert!(storable(bad).is_err(), "{bad:?}");
        }
        let long = format!("{K}{}", "x".repeat(300));
        assert!(storable(&long).is_err());
    }

    #[test]
    fn round_trip_batches_and_last_write_wins() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let mut ops: Vec<Persist> = (0..20)
            .map(|i| Persist::Datum(datum(&format!("{K}{i}"), i)))
            .collect();
        ops.push(Persist::Datum(datum(&format!("{K}3"), 99)));
        ops.push(Persist::Remove {
            key: format!("{K}4"),
        });
        ops.push(Persist::Term(400));
        ops.push(Persist::Position { term: 3, index: 7 });
        ops.push(Persist::Datum(datum(key::SWITCH_KEY, 2)));
        let applied = s.apply(&ops).unwrap();
        assert_eq!((applied.written, applied.removed), (20, 1));
        assert!(dir
            .path()
            .join("data/public/com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo3")
            .is_file());
        assert!(dir.path().join("data").join(key::SWITCH_KEY).is_file());
        let loaded = s.load().unwrap();
        assert_eq!(loaded.term, 400);
        assert_eq!(loaded.position, (3, 7));
        assert_eq!(loaded.datums.len(), 20);
        let d3 = loaded
            .datums
            .iter()
            .find(|d| d.key == format!("{K}3"))
            .unwrap();
        assert_eq!(d3.timestamp, 99);
        assert!(!loaded.datums.iter().any(|d| d.key == format!("{K}4")));
        let meta = fs::read_to_string(dir.path().join("meta.properties")).unwrap();
        assert!(
            meta.starts_with('#') && meta.ends_with("term=400\n"),
            "{meta}"
        );
    }

    /// A batch of many chunks, each flushed while the next is written: every file lands once,
    /// new and replaced ones alike, and no temporary file is left.
    #[test]
    fn a_batch_of_many_pipelined_chunks_lands_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.chunk = Some(7);
        let ns = dir.path().join("data/public");
        // Existing files: replaced through a named temporary file, in several chunks.
        for i in (0..100).step_by(3) {
            s.write_unsynced(&datum(&format!("{K}{i}"), 1)).unwrap();
        }
        s.write_unsynced(&datum(&format!("{K}-gone"), 1)).unwrap();
        let mut ops: Vec<Persist> = (0..100)
            .map(|i| Persist::Datum(datum(&format!("{K}{i}"), 10 + i as u64)))
            .collect();
        ops.insert(
            50,
            Persist::Remove {
                key: format!("{K}-gone"),
            },
        );
        let applied = s.apply(&ops).unwrap();
        assert_eq!((applied.written, applied.removed), (100, 1));
        let names: Vec<String> = fs::read_dir(&ns)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 100, "{names:?}");
        assert!(names.iter().all(|n| !n.ends_with(".tmp")));
        let loaded = s.load().unwrap();
        assert_eq!(loaded.datums.len(), 100);
        for d in &loaded.datums {
            let i: u64 = d.key[K.len()..].parse().unwrap();
            assert_eq!(d.timestamp, 10 + i, "{}", d.key);
        }
    }

    #[test]
    fn a_large_batch_is_flushed_once_and_lands_like_a_small_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let ns = dir.path().join("data/public");
        // A legacy file (without the group) that the write of its grouped key deletes, and a
        // file that a removal in the same batch deletes.
        let legacy = "com.alibaba.nacos.naming.iplist.public##demo7";
        s.write_unsynced(&datum(legacy, 1)).unwrap();
        s.write_unsynced(&datum(&format!("{K}-gone"), 1)).unwrap();
        let n = FLUSH_ONCE_FROM + 44;
        let mut ops: Vec<Persist> = (0..n)
            .map(|i| Persist::Datum(datum(&format!("{K}{i}"), i as u64)))
            .collect();
        ops.push(Persist::Remove {
            key: format!("{K}-gone"),
        });
        ops.push(Persist::Datum(datum(&format!("{K}3"), 999)));
        ops.push(Persist::Datum(datum(
            "com.alibaba.nacos.naming.meta.new-ns##g@@s",
            5,
        )));
        let applied = s.apply(&ops).unwrap();
        assert_eq!((applied.written, applied.removed), (n + 1, 1));
        assert!(!ns.join(key::file_name(legacy)).exists());
        assert!(!ns.join(key::file_name(&format!("{K}-gone"))).exists());
        let temps = fs::read_dir(&ns)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with(".tmp")
            })
            .count();
        assert_eq!(temps, 0);
        let loaded = s.load().unwrap();
        assert_eq!(loaded.datums.len(), n + 1);
        let d3 = loaded.datums.iter().find(|d| d.key == format!("{K}3"));
        assert_eq!(d3.unwrap().timestamp, 999);
        assert_eq!(loaded.temp_removed, 0);
    }

    /// Writes through the log (unsynced): a new key's file is linked under its name, an
    /// existing one replaced, no temporary file stays, and a legacy file is deleted whether it
    /// was there before the folder was first looked at, written after by any path, or written
    /// by another process (a fresh store) — while a folder without one costs no unlink.
    #[test]
    fn unsynced_writes_replace_files_and_delete_legacy_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let ns = dir.path().join("data/public");
        let value = |k: &str| {
            let bytes = fs::read(ns.join(key::file_name(k))).unwrap();
            parse_datum_file(&bytes).unwrap().timestamp
        };
        let legacy = |n: &str| format!("com.alibaba.nacos.naming.iplist.public##{n}");
        let grouped =
            |n: &str| format!("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@{n}");
        s.apply_unsynced(&[Persist::Datum(datum(&grouped("a"), 1))])
            .unwrap();
        assert_eq!(s.legacy_dirs.lock().unwrap().get(&ns), Some(&false));
        s.apply_unsynced(&[Persist::Datum(datum(&grouped("a"), 2))])
            .unwrap();
        assert_eq!(value(&grouped("a")), 2);
        // Written after the folder was looked at (the durable path), then its grouped key.
        s.apply(&[Persist::Datum(datum(&legacy("b"), 1))]).unwrap();
        assert_eq!(s.legacy_dirs.lock().unwrap().get(&ns), Some(&true));
        s.apply_unsynced(&[Persist::Datum(datum(&grouped("b"), 3))])
            .unwrap();
        assert!(!ns.join(key::file_name(&legacy("b"))).exists());
        assert_eq!(value(&grouped("b")), 3);
        // On disk before a fresh store first looks at the folder.
        fs::write(ns.join(key::file_name(&legacy("c"))), b"{}").unwrap();
        let fresh = Store::open(dir.path()).unwrap();
        fresh
            .apply_unsynced(&[Persist::Datum(datum(&grouped("c"), 4))])
            .unwrap();
        assert!(!ns.join(key::file_name(&legacy("c"))).exists());
        let names: Vec<String> = fs::read_dir(&ns)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
        assert_eq!(names.len(), 3, "{names:?}");
    }

    /// Starting each file's write-back early changes nothing in what is written: a new key's
    /// file (unnamed, then linked) and an overwrite (the spare file exchanged) hold exactly the
    /// datum's bytes, as without it, and a fresh store reads them back.
    #[test]
    fn early_write_back_writes_the_same_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let file = dir.path().join("data/public").join(key::file_name(K));
        let other = format!("{K}-2");
        s.apply_unsynced_with(
            &[
                Persist::Datum(datum(K, 1)),
                Persist::Datum(datum(&other, 1)),
            ],
            true,
        )
        .unwrap();
        assert_eq!(fs::read(&file).unwrap(), datum(K, 1).to_json().as_bytes());
        s.apply_unsynced_with(&[Persist::Datum(datum(K, 2))], true)
            .unwrap();
        assert_eq!(fs::read(&file).unwrap(), datum(K, 2).to_json().as_bytes());
        s.apply_unsynced_with(&[Persist::Remove { key: other.clone() }], true)
            .unwrap();
        let again = Store::open(dir.path()).unwrap();
        let loaded = again.load().unwrap();
        assert_eq!(loaded.datums.len(), 1, "{:?}", loaded.datums);
        assert_eq!(loaded.datums[0].timestamp, 2);
    }

    /// Under the log, an overwrite fills the spare file and exchanges it with the datum's file:
    /// the two files swap (no file made or freed; the old content is the next spare), and a
    /// longer then a shorter content leave exactly the new bytes. A new key gets a file of its
    /// own. A fresh store (a restart) reads the datum, never the spare.
    #[cfg(target_os = "linux")]
    #[test]
    fn writes_under_the_log_exchange_the_spare_file_with_the_datums_file() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let spare = dir.path().join(SPARE_FILE);
        let file = dir.path().join("data/public").join(key::file_name(K));
        let ino = |p: &Path| fs::metadata(p).unwrap().ino();
        let big = |ts| Datum {
            key: K.into(),
            value: Some(JsonValue::parse(&format!(r#"{{"pad":"{}"}}"#, "x".repeat(9000))).unwrap()),
            timestamp: ts,
        };
        // A new key: its own file, no spare yet.
        s.apply_unsynced(&[Persist::Datum(datum(K, 1))]).unwrap();
        assert!(!spare.exists());
        let first = ino(&file);
        // An overwrite: a new spare, then exchanged; the old file is the spare now.
        s.apply_unsynced(&[Persist::Datum(datum(K, 2))]).unwrap();
        assert_eq!(ino(&spare), first);
        assert_eq!(
            parse_datum_file(&fs::read(&spare).unwrap())
                .unwrap()
                .timestamp,
            1
        );
        let second = ino(&file);
        assert_ne!(second, first);
        // Overwrites from then on only swap these two files.
        s.apply_unsynced(&[Persist::Datum(big(3))]).unwrap();
        assert_eq!((ino(&file), ino(&spare)), (first, second));
        s.apply_unsynced(&[Persist::Datum(datum(K, 4))]).unwrap();
        assert_eq!((ino(&file), ino(&spare)), (second, first));
        let bytes = fs::read(&file).unwrap();
        assert_eq!(bytes, datum(K, 4).to_json().as_bytes());
        // The spare held the 9,000-byte content and was cut to the new length before the swap.
        s.apply_unsynced(&[Persist::Datum(datum(K, 5))]).unwrap();
        assert_eq!(fs::read(&file).unwrap(), datum(K, 5).to_json().as_bytes());
        let loaded = Store::open(dir.path()).unwrap().load().unwrap();
        assert_eq!(loaded.datums.len(), 1);
        assert_eq!(loaded.datums[0].timestamp, 5);
        assert!(loaded.moved_aside.is_empty());
    }

    #[test]
    fn corrupt_files_are_moved_aside_and_temp_files_removed() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        s.apply(&[Persist::Datum(datum(K, 1))]).unwrap();
        let ns = dir.path().join("data/public");
        let bad = ns.join("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@torn");
        fs::write(&bad, b"{\"key\":\"com.alibaba.nacos.naming.iplist.pub").unwrap();
        fs::write(ns.join("com.alibaba.nacos.naming.empty"), b"").unwrap();
        fs::write(ns.join("README.txt"), b"not a datum").unwrap();
        fs::write(ns.join(".x.tmp"), b"half").unwrap();
        let loaded = s.load().unwrap();
        assert_eq!(loaded.datums.len(), 1);
        assert_eq!(loaded.temp_removed, 1);
        assert_eq!(loaded.moved_aside.len(), 1);
        let (from, to, why) = &loaded.moved_aside[0];
        assert_eq!(from, &bad);
        assert!(
            to.starts_with(dir.path().join("corrupt/data/public")),
            "{to:?}"
        );
        assert!(to.is_file() && !bad.exists());
        assert!(why.contains("not a Datum"), "{why}");
        assert!(ns.join("README.txt").exists());
        // A second start finds nothing more to move.
        assert!(s.load().unwrap().moved_aside.is_empty());
    }

    #[test]
    fn a_value_that_does_not_parse_as_its_kind_is_moved_aside_at_load() {
        // RaftStore 164-228 reads each file as its kind's class and fails start-up on a value
        // that does not parse; here such a file is set aside like any unreadable one.
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let ns = dir.path().join("data/public");
        fs::create_dir_all(&ns).unwrap();
        let bad = ns.join("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@bad");
        fs::write(
            &bad,
            br#"{"key":"com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@bad","value":{"instanceList":[{"port":"x"}]},"timestamp":1}"#,
        )
        .unwrap();
        let meta = ns.join("com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@m");
        fs::write(
            &meta,
            br#"{"key":"com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@m","value":{"name":"DEFAULT_GROUP@@m","groupName":"DEFAULT_GROUP","metadata":[1]},"timestamp":1}"#,
        )
        .unwrap();
        let good = br#"{"key":"com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@ok","value":{"instanceList":[],"other":1},"timestamp":1}"#;
        fs::write(
            ns.join("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@ok"),
            good,
        )
        .unwrap();
        let loaded = s.load().unwrap();
        assert_eq!(loaded.datums.len(), 1, "{:?}", loaded.datums);
        assert_eq!(
            loaded.datums[0].value.as_ref().unwrap().as_str(),
            r#"{"instanceList":[],"other":1}"#,
            "stored bytes are kept"
        );
        assert_eq!(loaded.moved_aside.len(), 2);
        for (from, _, why) in &loaded.moved_aside {
            assert!(!from.exists());
            assert!(why.contains("does not parse: errCode: 101"), "{why}");
        }
        assert!(loaded.moved_aside[0].2.contains("core.Service]"));
        assert!(loaded.moved_aside[1].2.contains("core.Instances]"));
    }

    #[test]
    fn meta_properties_is_read_as_latin1() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let meta = dir.path().join("meta.properties");
        fs::write(&meta, b"#\xe9t\xe9\nterm=305\n").unwrap();
        let loaded = s.load().unwrap();
        assert_eq!((loaded.term, loaded.moved_aside.len()), (305, 0));
        fs::write(&meta, b"term=\xff\n").unwrap();
        let loaded = s.load().unwrap();
        assert_eq!(loaded.term, 0);
        assert_eq!(loaded.moved_aside.len(), 1, "{:?}", loaded.moved_aside);
        assert!(!meta.exists());
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("file");
        fs::write(&f, b"x").unwrap();
        let e = Store::open(&f).unwrap_err();
        assert!(e.0.contains("not a directory"), "{e}");
    }
}
