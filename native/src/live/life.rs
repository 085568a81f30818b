//! Crash and restart through the fault API. A crash stops the actor as a killed process stops
//! (its timers, its unsent outputs and its memory go; what its writer thread had been handed is
//! finished first, as the kernel would finish a write already issued). A restart builds a new
//! actor with the same [`Boot`] start-up used: the data directory is read again, the term starts
//! at 0, and the node serves again.

use super::Live;
use crate::actor::Handle;
use std::sync::OnceLock;
use tokio::sync::Mutex;

/// Starts a node from the data directory exactly as start-up does and returns its actor; the
/// argument counts the restarts so far (it varies the timer seed, as a new process would).
pub type Boot = Box<dyn Fn(u64) -> Result<Handle, String> + Send + Sync>;

#[derive(Default)]
pub(super) struct Life {
    handle: OnceLock<Handle>,
    boot: OnceLock<Boot>,
    /// Crash and restart one at a time; the count of restarts.
    lock: Mutex<u64>,
}

impl Life {
    pub(super) fn attach(&self, handle: Handle, boot: Boot) {
        let _ = self.handle.set(handle);
        let _ = self.boot.set(boot);
    }

    pub(super) fn handle(&self) -> Option<&Handle> {
        self.handle.get()
    }
}

impl Live {
    /// The actor's handle (`None` before [`Live::attach`]).
    pub(super) fn handle(&self) -> Option<&Handle> {
        self.0.life.handle()
    }

    /// Crashes the node: the edges reset and refuse from now on, then the actor stops.
    pub(super) async fn crash(&self) -> Result<(), String> {
        let _one = self.0.life.lock.lock().await;
        self.crash_locked().await
    }

    async fn crash_locked(&self) -> Result<(), String> {
        let handle = self.handle().ok_or("the node is not started yet")?;
        if self.0.faults.crashed() {
            return Ok(());
        }
        let view = self.0.faults.update(|s| s.crashed = true);
        // Stops the actor; an actor already gone (it cannot be, short of a bug) is as good.
        let _ = handle.crash().await;
        tracing::warn!("crashed by the fault API: not serving, not sending, memory dropped");
        self.on_faults(&view);
        Ok(())
    }

    /// Restarts the node from its data directory (crashing it first if it runs).
    pub(super) async fn restart(&self) -> Result<(), String> {
        let mut restarts = self.0.life.lock.lock().await;
        self.crash_locked().await?;
        let handle = self.handle().ok_or("the node is not started yet")?;
        let boot = self
            .0
            .life
            .boot
            .get()
            .ok_or("the node is not started yet")?;
        *restarts += 1;
        // Reading the data directory blocks; this runtime is multi-threaded.
        let fresh = tokio::task::block_in_place(|| boot(*restarts))?;
        handle.replace(&fresh);
        self.0.faults.update(|s| s.crashed = false);
        tracing::warn!("restarted by the fault API from the data directory");
        // Every viewer takes a fresh snapshot of the new node (it carries the faults).
        self.resync_all();
        Ok(())
    }
}
