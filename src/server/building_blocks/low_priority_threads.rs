//! Dedicated worker threads at a lower OS scheduling priority, for the CPU-heavy work
//! requests cause (password hashing, image decoding): they use every idle cycle, yet the
//! threads serving requests win the CPU whenever they need it, so a storm of such work
//! adds no latency to other requests.

use std::{panic::AssertUnwindSafe, time::Duration};

type Job = Box<dyn FnOnce() + Send>;

/// `nice` value of the worker threads (0 is normal, 19 the lowest priority).
const WORKER_NICE: i32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot start a {name} thread: {source}")]
    Start {
        name: &'static str,
        source: std::io::Error,
    },
    /// The job panicked (its thread lives on), or the threads are gone.
    #[error("a job on the {0} threads did not finish")]
    Lost(&'static str),
}

/// A fixed set of low-priority threads taking jobs in arrival order. The queue itself is
/// unbounded: callers bound it by admitting only so many jobs (`load_shedding`).
pub struct LowPriorityThreads {
    name: &'static str,
    jobs: flume::Sender<Job>,
}

impl LowPriorityThreads {
    /// Starts `count` threads named `<name>-<n>`. Each runs `on_start` once, then jobs;
    /// after `idle_after` without a job it runs `on_idle` (to give memory back).
    pub fn start(
        name: &'static str,
        count: usize,
        idle_after: Duration,
        on_start: impl Fn() + Send + Clone + 'static,
        on_idle: impl Fn() + Send + Clone + 'static,
    ) -> Result<Self, WorkerError> {
        let (sender, receiver) = flume::unbounded::<Job>();
        for index in 0..count.max(1) {
            let receiver = receiver.clone();
            let (on_start, on_idle) = (on_start.clone(), on_idle.clone());
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    lower_this_threads_priority(name);
                    on_start();
                    loop {
                        match receiver.recv_timeout(idle_after) {
                            // A job that panics (a decoder bug on a hostile file) is
                            // reported to its caller as lost; the thread carries on.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                            }
                            Err(flume::RecvTimeoutError::Timeout) => on_idle(),
                            // The owner was dropped: nothing more to do.
                            Err(flume::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                })
                .map_err(|source| WorkerError::Start { name, source })?;
        }
        Ok(Self { name, jobs: sender })
    }

    /// Runs `work` on one of the threads and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkerError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| WorkerError::Lost(self.name))?;
        result.await.map_err(|_| WorkerError::Lost(self.name))
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code, reason = "two system calls without pointers")]
fn lower_this_threads_priority(name: &str) {
    // On Linux the nice value is per thread; `who` = this thread's id.
    // SAFETY: plain system calls without pointers.
    let result = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, WORKER_NICE)
    };
    if result != 0 {
        tracing::warn!(
            thread = name,
            "could not lower the priority of a worker thread"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority(_name: &str) {}

/// Hands the allocator's free pages back to the operating system: glibc keeps freed
/// memory in each thread's arena, so a burst of work would otherwise stay resident.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused pages of the allocator's own heaps.
    #[allow(unsafe_code, reason = "malloc_trim takes no pointers")]
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    #[tokio::test]
    async fn jobs_run_on_the_named_low_priority_threads() {
        let idled = Arc::new(AtomicUsize::new(0));
        let counter = idled.clone();
        let threads = LowPriorityThreads::start(
            "worker-test",
            2,
            Duration::from_millis(50),
            || {},
            move || {
                counter.fetch_add(1, Ordering::Relaxed);
            },
        )
        .unwrap();
        let name = threads
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("worker-test-"));
        #[cfg(target_os = "linux")]
        {
            #[allow(unsafe_code, reason = "reads this thread's nice value")]
            // SAFETY: plain system calls without pointers.
            let nice = threads
                .run(|| unsafe {
                    let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                    libc::getpriority(libc::PRIO_PROCESS, tid)
                })
                .await
                .unwrap();
            assert_eq!(nice, WORKER_NICE);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(idled.load(Ordering::Relaxed) > 0, "idle hook ran");
    }

    #[tokio::test]
    async fn a_panicking_job_is_lost_but_its_thread_carries_on() {
        let threads =
            LowPriorityThreads::start("panic-test", 1, Duration::from_secs(10), || {}, || {})
                .unwrap();
        let lost = threads.run(|| -> u8 { panic!("a decoder bug") }).await;
        assert!(matches!(lost, Err(WorkerError::Lost("panic-test"))));
        assert_eq!(threads.run(|| 42).await.unwrap(), 42);
    }
}
