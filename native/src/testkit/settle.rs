//! Benchmarks that follow a mass deletion on ext4 without a journal measure the deletion, not
//! themselves. There (this machine's root file system), for 60 s after an inode is freed (360 s
//! while its inode-table block is dirty, and creating files next to it dirties the block again)
//! ext4 skips it when it allocates a new one, and checks every such inode one by one, from the
//! start of the group, for every new file: with tens of thousands freed, creating a file costs
//! many times more. One probe of three hardened nodes under `wrk -c 8` made 1,795 writes/s right
//! after the previous probe deleted its files and 3,267 writes/s once they had aged;
//! `recently_deleted` was 11 % of the machine's CPU in the first. A catch-up of 100,000 datums
//! took 9-12 s within 5 minutes of a deletion and 3.5-3.8 s after (docs/benchmarks.md,
//! 2026-12-06).
//!
//! So the benchmarks remove their files through [`remove_tree`], which leaves a mark, and start
//! with [`wait_until_settled`], which waits until the last mark is [`SETTLE`] old (env
//! `SETTLE_SECS` overrides it; 0 skips the wait). The mark is a file in the system's temporary
//! directory, so it also covers `scripts/beat-probe.sh` and runs of different benchmarks.
//!
//! While a removal runs, the mark holds the remover's process id: a benchmark's removal of
//! millions of files takes minutes after its table is printed, and a benchmark started in those
//! minutes (one started at 11:01 on 2026-12-06 did) would otherwise see only the previous mark
//! and measure the deletion. [`wait_until_settled`] first waits for that process to be gone.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long after a marked deletion a benchmark waits: ext4's 360 s for a dirty inode-table
/// block, plus a margin.
pub const SETTLE: Duration = Duration::from_secs(370);

/// The mark: its modification time is the end of the last benchmark's deletion.
pub fn mark_path() -> PathBuf {
    std::env::temp_dir().join("nacos-raft-bench-deleted")
}

/// How long to wait before measuring, given the mark's age (`None`: no mark).
pub fn wait_needed(mark_age: Option<Duration>, settle: Duration) -> Duration {
    match mark_age {
        Some(age) => settle.saturating_sub(age),
        None => Duration::ZERO,
    }
}

/// The process id a mark's text names, if that process is still running: a removal under way.
/// An empty mark (a finished removal), a stale id or anything else is not.
pub fn remover_running(mark_text: &str) -> Option<u32> {
    let pid: u32 = mark_text.trim().parse().ok()?;
    (pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()).then_some(pid)
}

/// Waits (blocking, printing why on stderr under `who`) until no marked removal is running
/// and the last one is [`SETTLE`] old. Returns how long it waited.
pub fn wait_until_settled(who: &str) -> Duration {
    let settle = std::env::var("SETTLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(SETTLE, Duration::from_secs);
    if settle.is_zero() {
        return Duration::ZERO;
    }
    let start = std::time::Instant::now();
    let mut said = false;
    // Bounded: a removal ends, and each pass after it waits for what is left of `settle`.
    loop {
        let mark = mark_path();
        let age = std::fs::metadata(&mark)
            .and_then(|m| m.modified())
            .ok()
            .map(|t| SystemTime::now().duration_since(t).unwrap_or_default());
        let text = std::fs::read_to_string(&mark).unwrap_or_default();
        // A mark left by a remover that was killed names a process id that may have been
        // handed out again since: after an hour it is not a removal any more.
        let recent = age.is_some_and(|a| a < Duration::from_secs(3600));
        if let Some(pid) = remover_running(&text).filter(|_| recent) {
            if !said {
                eprintln!(
                    "[{who}] waiting: a benchmark (process {pid}) is still deleting its files \
                     (SETTLE_SECS=0 skips the wait)"
                );
                said = true;
            }
            std::thread::sleep(Duration::from_secs(2));
            continue;
        }
        let wait = wait_needed(age, settle);
        if wait.is_zero() {
            return start.elapsed();
        }
        eprintln!(
            "[{who}] waiting {} s: a benchmark deleted its files {} s ago, and on ext4 without a \
             journal new files cost more for up to 6 minutes after a mass deletion \
             (SETTLE_SECS=0 skips the wait)",
            wait.as_secs().max(1),
            age.unwrap_or_default().as_secs()
        );
        std::thread::sleep(wait);
    }
}

/// Removes `dir` and everything in it (a missing one is fine), makes the removal durable
/// (`sync`, so that the next benchmark's fsyncs do not write it back) and marks it for
/// [`wait_until_settled`].
pub fn remove_tree(dir: &Path) -> std::io::Result<()> {
    remove_and_mark(dir, &mark_path())
}

fn remove_and_mark(dir: &Path, mark: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    // Under way: our process id, until the removal is durable.
    std::fs::write(mark, std::process::id().to_string())?;
    let removed = match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    let _ = std::process::Command::new("sync").status();
    std::fs::write(mark, b"")?;
    removed
}

/// A directory removed with [`remove_tree`] when dropped (also when a benchmark is interrupted).
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = remove_tree(&self.0) {
            eprintln!("cannot remove {}: {e}", self.0.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_what_is_left_of_the_settling_time() {
        let s = SETTLE;
        assert_eq!(wait_needed(None, s), Duration::ZERO);
        assert_eq!(
            wait_needed(Some(Duration::from_secs(5)), s),
            Duration::from_secs(365)
        );
        assert_eq!(wait_needed(Some(SETTLE), s), Duration::ZERO);
        assert_eq!(
            wait_needed(Some(Duration::from_secs(600)), s),
            Duration::ZERO
        );
        assert_eq!(
            wait_needed(Some(Duration::from_secs(5)), Duration::ZERO),
            Duration::ZERO
        );
    }

    #[test]
    fn a_removed_tree_is_gone_and_marked() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("f"), b"x").unwrap();
        let mark = t.path().join("mark");
        remove_and_mark(&t.path().join("a"), &mark).unwrap();
        assert!(!t.path().join("a").exists());
        let at = std::fs::metadata(&mark).unwrap().modified().unwrap();
        assert!(SystemTime::now().duration_since(at).unwrap_or_default() < SETTLE);
        // Done: the mark names no remover.
        assert_eq!(std::fs::read_to_string(&mark).unwrap(), "");
        // Missing: nothing to do, no error, no new mark.
        std::fs::remove_file(&mark).unwrap();
        remove_and_mark(&t.path().join("a"), &mark).unwrap();
        assert!(!mark.exists());
    }

    #[test]
    fn a_removal_under_way_is_one_by_a_live_process() {
        // pid 1 always runs; our own id is never a reason to wait for ourselves.
        assert_eq!(remover_running("1"), Some(1));
        assert_eq!(remover_running(" 1\n"), Some(1));
        assert_eq!(remover_running(&std::process::id().to_string()), None);
        assert_eq!(remover_running(""), None);
        assert_eq!(remover_running("not a pid"), None);
        // The highest pid Linux hands out is 4,194,304.
        assert_eq!(remover_running("4294967295"), None);
    }
}
