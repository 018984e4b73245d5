//! Keeping idle rayon workers awake while fewer chains than threads run.
//!
//! A chain whose sweep forks (a lattice kernel splitting its stripes over
//! threads) hands work to the other workers once or twice per sweep. Between sweeps
//! the chain's own thread observes the state, and rayon puts the workers
//! with nothing to do to sleep within microseconds; every fork then pays a
//! wake-up, which on a virtual machine can cost more than the half-sweep
//! it hands over (measured: a 256² sweep was 2.3× *slower* on 2 threads
//! than on 1). While such a run lasts, the spare workers poll the pool for
//! work instead (`rayon::yield_now`), as OpenMP runtimes spin between
//! parallel regions; they also take the tasks the operation's thread
//! publishes through [`run_tasks`](crate::run_tasks) (`crew.rs`), the
//! cheaper hand-over. Scheduling changes nothing in the results: which
//! thread runs a stripe never affects its random numbers. The RBM training
//! kernel's steps (a dozen short parallel sections each) run the same way.

use rayon::Yield;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Whether a polling broadcast is running (see [`with_workers_awake`]).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Runs `op` on a rayon worker with every other worker polling for work
/// until it returns, when the pool has more threads than `busy` (the number
/// of independent tasks `op` runs; each already keeps a worker busy);
/// otherwise `op` runs as is. Called from a worker of the pool (the CLI runs
/// its commands on one), the caller takes part in the broadcast like the
/// others.
pub fn with_workers_awake<R: Send>(busy: usize, op: impl FnOnce() -> R + Send) -> R {
    let threads = rayon::current_num_threads();
    if busy >= threads {
        return op();
    }
    // One polling broadcast at a time in the process: a second one (another
    // thread training or sampling meanwhile, or a call nested in `op`) runs
    // its `op` as is. Two at once can deadlock: a worker polling for the
    // second may hold, lower on its stack, a stolen half of the first `op`'s
    // fork, while the first `op` (the second's index-0 worker) waits for it.
    if ACTIVE.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        return op();
    }
    /// Frees the slot when dropped, also while unwinding.
    struct Free;
    impl Drop for Free {
        fn drop(&mut self) {
            ACTIVE.store(false, Ordering::Release);
        }
    }
    let _free = Free;
    /// Sets the flag when dropped, also while unwinding from a panic in
    /// `op` (the pollers would otherwise wait for ever).
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let done = AtomicBool::new(false);
    let op = Mutex::new(Some(op));
    // `op` starts only once every other worker polls. A worker that had
    // not yet picked up its share of the broadcast could otherwise steal
    // part of `op`'s own parallel work, then, waiting inside it, pick up its
    // share and poll there, above the stolen part, until `op` is done: and
    // `op` waits for that part (a hang seen once in `rbm_training`).
    let polling = AtomicUsize::new(0);
    let results = rayon::broadcast(|ctx| {
        if ctx.index() == 0 {
            let _done = Done(&done);
            let mut spins = 0u32;
            while polling.load(Ordering::Acquire) + 1 < ctx.num_threads() {
                spins = spins.saturating_add(1);
                if spins < 1 << 10 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            let op = op.lock().ok().and_then(|mut o| o.take());
            return op.map(|f| crate::crew::as_publisher(f));
        }
        polling.fetch_add(1, Ordering::Release);
        let mut idle = 0u32;
        while !done.load(Ordering::Acquire) {
            if crate::crew::help() {
                idle = 0;
                continue;
            }
            match rayon::yield_now() {
                Some(Yield::Executed) => idle = 0,
                _ => {
                    idle = idle.saturating_add(1);
                    if idle < 1 << 16 {
                        std::hint::spin_loop();
                    } else {
                        // a long serial stretch: let the OS run others
                        std::thread::yield_now();
                    }
                }
            }
        }
        None
    });
    // worker 0 took `op` (the only taker): its result is the first
    results.into_iter().flatten().next().unwrap_or_else(|| unreachable!("broadcast runs index 0"))
}
