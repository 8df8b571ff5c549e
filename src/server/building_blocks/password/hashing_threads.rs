//! The hashing threads: low-priority worker threads (`low_priority_threads`), one per
//! slot, each keeping its argon2 working memory while busy and giving it back when idle.

use super::HashError;
use crate::server::building_blocks::low_priority_threads::{
    return_free_memory, LowPriorityThreads,
};
use std::{
    cell::RefCell,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

/// The hashing threads and the working memory they hold.
pub(super) struct HashPool {
    threads: LowPriorityThreads,
    /// Working memory held by the threads, in bytes.
    pub(super) held: Arc<AtomicUsize>,
}

impl HashPool {
    pub(super) fn new(threads: usize, release_after: Duration) -> Result<Self, HashError> {
        let held = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&held);
        let threads = LowPriorityThreads::start(
            "argon2",
            threads,
            release_after,
            move || HELD.with(|held| *held.borrow_mut() = Some(Arc::clone(&counter))),
            release_blocks,
        )
        .map_err(|e| HashError::Internal(e.to_string()))?;
        Ok(Self { threads, held })
    }

    /// Runs `work` on a hashing thread and waits for its result.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        self.threads
            .run(work)
            .await
            .map_err(|e| HashError::Internal(e.to_string()))
    }
}

thread_local! {
    /// Each hashing thread keeps its argon2 working memory (19 MiB by default) from one
    /// hash to the next while it is busy, instead of allocating and freeing it every
    /// time: the process's memory stays at threads × memory cost, and no time goes to
    /// page faults. An idle thread gives it back (`RELEASE_AFTER`).
    static BLOCKS: RefCell<Vec<argon2::Block>> = const { RefCell::new(Vec::new()) };
    /// The pool's count of held bytes, on the pool's threads.
    static HELD: RefCell<Option<Arc<AtomicUsize>>> = const { RefCell::new(None) };
}

const BLOCK_BYTES: usize = size_of::<argon2::Block>();

/// Runs `hash` with `count` blocks of this thread's reusable working memory.
pub(super) fn with_blocks<T>(count: usize, hash: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            count_held((count - blocks.len()) * BLOCK_BYTES, true);
            blocks.resize(count, argon2::Block::default());
        }
        hash(&mut blocks[..count])
    })
}

/// Frees this thread's working memory and returns it to the operating system.
pub(super) fn release_blocks() {
    let freed = BLOCKS.with(|blocks| std::mem::take(&mut *blocks.borrow_mut()).len());
    if freed == 0 {
        return;
    }
    count_held(freed * BLOCK_BYTES, false);
    return_free_memory();
}

fn count_held(bytes: usize, added: bool) {
    HELD.with(|counter| {
        if let Some(counter) = counter.borrow().as_ref() {
            if added {
                counter.fetch_add(bytes, Ordering::Relaxed);
            } else {
                counter.fetch_sub(bytes, Ordering::Relaxed);
            }
        }
    });
}
