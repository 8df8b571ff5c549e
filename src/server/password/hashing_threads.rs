//! The hashing threads: one per slot, at a lower OS priority, each keeping its argon2
//! working memory while busy and giving it back when idle.

use super::HashError;
use std::{
    cell::RefCell,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

pub(super) type Job = Box<dyn FnOnce() + Send>;

/// Dedicated hashing threads, one per slot, at a lower OS scheduling priority: they use
/// every idle cycle, yet the threads serving requests win the CPU whenever they need it,
/// so a login storm does not add latency to other requests.
pub(super) struct HashPool {
    jobs: flume::Sender<Job>,
    /// Working memory held by the threads, in bytes.
    pub(super) held: Arc<AtomicUsize>,
}

/// `nice` value of the hashing threads (0 is normal, 19 the lowest priority).
const HASH_THREAD_NICE: i32 = 10;

impl HashPool {
    pub(super) fn new(threads: usize, release_after: Duration) -> Result<Self, HashError> {
        let (sender, receiver) = flume::unbounded::<Job>();
        let held = Arc::new(AtomicUsize::new(0));
        for index in 0..threads {
            let receiver = receiver.clone();
            let held = held.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    HELD.with(|counter| *counter.borrow_mut() = Some(held));
                    loop {
                        match receiver.recv_timeout(release_after) {
                            Ok(job) => job(),
                            Err(flume::RecvTimeoutError::Timeout) => release_blocks(),
                            // The hasher was dropped: nothing more to do.
                            Err(flume::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                })
                .map_err(|e| HashError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self { jobs: sender, held })
    }

    pub(super) fn submit(&self, job: Job) -> Result<(), HashError> {
        self.jobs
            .send(job)
            .map_err(|_| HashError::Internal("hashing threads are gone".into()))
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code, reason = "two system calls without pointers")]
fn lower_this_threads_priority() {
    // On Linux the nice value is per thread; `who` = this thread's id.
    // SAFETY: plain system calls without pointers.
    let result = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, HASH_THREAD_NICE)
    };
    if result != 0 {
        tracing::warn!("could not lower the priority of a hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

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
    // glibc keeps freed memory in the thread's arena; hand it back.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused pages of the allocator's own heaps.
    #[allow(unsafe_code, reason = "malloc_trim takes no pointers")]
    unsafe {
        libc::malloc_trim(0);
    }
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
