//! One sweep's tasks on the calling thread and the polling workers.
//!
//! A lattice sweep forks once and joins once (`ebm-models`'
//! `sublattice/schedule.rs`); on a 256² lattice its two halves take about
//! 9 µs each, and a rayon fork and join between two polling workers costs
//! over a microsecond of it (the job pushed on a deque, stolen through
//! crossbeam's epoch machinery, the latch set and noticed). While
//! [`with_workers_awake`](crate::with_workers_awake) keeps the spare workers
//! polling, they also watch one shared slot: the operation's thread
//! publishes a sweep's tasks there, a worker takes one with a single atomic
//! add, and the publisher waits on one counter. Elsewhere (another thread,
//! no polling workers, tasks inside tasks) [`run_tasks`] is a rayon
//! parallel loop. Either way each task runs exactly once and the caller
//! returns only after all have finished.
//!
//! **The slot.** `ticket` packs the number of tasks n (high 32 bits, 0 when
//! no job is open) and the next task index (low 32 bits). The publisher
//! writes the job (a type-erased pointer to the closure and a trampoline),
//! then the ticket with `Release`; a worker's `fetch_add(1)` (`Acquire`)
//! returns an index, a task of the open job if it is below n, and the job's
//! fields are then visible. The job stays valid until the publisher has
//! run task 0 and counted the other n − 1 finished, which includes every
//! index below n handed out, so a worker never sees a job that has gone.
//! Task 0 is the publisher's own (the same stripes stay in the same core's
//! cache from sweep to sweep); it then takes what no worker has. A panic in
//! a task is caught where it happens, counted as finished and raised again
//! on the publisher's thread once every task is done.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// The one job slot of the process (one polling broadcast at a time, and
/// only its operation's thread publishes): one cache line, so a hand-over
/// moves one line between the cores.
#[repr(align(64))]
struct Slot {
    /// `n << 32 | next`.
    ticket: AtomicU64,
    /// The closure, type-erased.
    data: AtomicPtr<()>,
    /// `trampoline::<F>` as an address.
    call: AtomicUsize,
    /// Tasks finished.
    done: AtomicU32,
}

static SLOT: Slot = Slot {
    ticket: AtomicU64::new(0),
    data: AtomicPtr::new(std::ptr::null_mut()),
    call: AtomicUsize::new(0),
    done: AtomicU32::new(0),
};

/// The first panic of a job's tasks, raised on the publisher.
static PANIC: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);

thread_local! {
    /// Set on the thread running a polling broadcast's operation, while no
    /// job of its is open.
    static PUBLISHER: Cell<bool> = const { Cell::new(false) };
}

/// Calls the closure `data` points to (an `F`) with task `i`.
fn trampoline<F: Fn(usize) + Sync>(data: *const (), i: usize) {
    // SAFETY: `data` was made from a `&F` by `run_tasks::<F>`, which keeps
    // the closure alive until every task it published has finished.
    let f = unsafe { &*data.cast::<F>() };
    f(i)
}

/// Runs `op` with this thread as the slot's publisher (called by
/// `with_workers_awake` on the broadcast's index-0 worker).
pub(crate) fn as_publisher<R>(op: impl FnOnce() -> R) -> R {
    /// Clears the flag, also while unwinding.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            PUBLISHER.with(|p| p.set(false));
        }
    }
    PUBLISHER.with(|p| p.set(true));
    let _clear = Clear;
    op()
}

/// Takes and runs one task of the open job, if any; whether it ran one.
/// (The polling workers' first call on every round.)
pub(crate) fn help() -> bool {
    let t = SLOT.ticket.load(Ordering::Relaxed);
    if (t as u32) >= (t >> 32) as u32 {
        return false;
    }
    let t = SLOT.ticket.fetch_add(1, Ordering::Acquire);
    let (n, i) = ((t >> 32) as u32, t as u32);
    if i >= n {
        return false;
    }
    let data = SLOT.data.load(Ordering::Relaxed).cast_const();
    let call = SLOT.call.load(Ordering::Relaxed);
    // SAFETY: `call` holds a `fn(*const (), usize)` (`trampoline::<F>`),
    // written with `data` before the ticket this task came from.
    let call: fn(*const (), usize) = unsafe { std::mem::transmute(call) };
    #[cfg(test)]
    tests::TAKEN_BY_WORKERS.fetch_add(1, Ordering::Relaxed);
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| call(data, i as usize))) {
        keep_first(p);
    }
    SLOT.done.fetch_add(1, Ordering::Release);
    true
}

/// Runs `task(i)` for every i in `0..n`, each exactly once, on this thread
/// and whichever workers of the current rayon pool are free, and returns
/// when all have finished. A panic in a task is raised here afterwards.
///
/// On the thread that [`with_workers_awake`](crate::with_workers_awake) runs
/// its operation on, the polling workers take the tasks from a shared slot
/// (see the module docs); anywhere else, or for tasks published from inside
/// a task, this is `(0..n).into_par_iter().for_each(task)`.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// let sum = AtomicU64::new(0);
/// ebm_parallel::run_tasks(8, |i| {
///     sum.fetch_add(i as u64 + 1, Ordering::Relaxed);
/// });
/// assert_eq!(sum.into_inner(), 36);
/// ```
pub fn run_tasks<F: Fn(usize) + Sync>(n: usize, task: F) {
    let publisher = PUBLISHER.with(|p| p.get());
    if n <= 1 || !publisher || n > 1 << 16 {
        use rayon::prelude::*;
        (0..n).into_par_iter().for_each(&task);
        return;
    }
    // no nested job from inside a task of this one
    PUBLISHER.with(|p| p.set(false));
    SLOT.data.store((&raw const task).cast_mut().cast(), Ordering::Relaxed);
    SLOT.call.store(trampoline::<F> as fn(*const (), usize) as usize, Ordering::Relaxed);
    SLOT.done.store(0, Ordering::Relaxed);
    // task 0 is this thread's; the workers start at 1
    SLOT.ticket.store((n as u64) << 32 | 1, Ordering::Release);
    let run = |i: usize| {
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| task(i))) {
            keep_first(p);
        }
    };
    run(0);
    // then whatever no worker has taken (a load first: when the workers
    // have taken every task, no exclusive access to the line is needed)
    loop {
        if SLOT.ticket.load(Ordering::Relaxed) as u32 as usize >= n {
            break;
        }
        let i = SLOT.ticket.fetch_add(1, Ordering::Acquire) as u32 as usize;
        if i >= n {
            break;
        }
        run(i);
        SLOT.done.fetch_add(1, Ordering::Release);
    }
    // every task but 0 counts itself once finished (a panicking one too);
    // the closure must outlive them all
    let mut spins = 0u32;
    while (SLOT.done.load(Ordering::Acquire) as usize) < n - 1 {
        spins = spins.saturating_add(1);
        if spins < 1 << 14 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    SLOT.ticket.store(0, Ordering::Relaxed);
    PUBLISHER.with(|p| p.set(true));
    if let Some(p) = PANIC.lock().ok().and_then(|mut p| p.take()) {
        resume_unwind(p);
    }
}

/// [`run_tasks`] over work items: task i gets `&mut items[i]`.
///
/// ```
/// let mut blocks = vec![vec![0u32; 3]; 4];
/// ebm_parallel::run_each(&mut blocks, |i, b| b.fill(i as u32));
/// assert_eq!(blocks[3], [3, 3, 3]);
/// ```
pub fn run_each<I: Send, F: Fn(usize, &mut I) + Sync>(items: &mut [I], f: F) {
    /// The items' base pointer, shared by the tasks.
    struct Items<I>(*mut I);
    // SAFETY: each task dereferences only its own index (below).
    unsafe impl<I: Send> Sync for Items<I> {}
    let n = items.len();
    let base = Items(items.as_mut_ptr());
    let base = &base;
    run_tasks(n, |i| {
        // SAFETY: i < n, and `run_tasks` runs each index exactly once, so
        // this is the only reference to items[i]; `items` is borrowed
        // mutably until every task has finished.
        let item = unsafe { &mut *base.0.add(i) };
        f(i, item)
    });
}

/// Keeps the first panic of a job's tasks, to raise on the publisher.
fn keep_first(p: Box<dyn std::any::Any + Send>) {
    if let Ok(mut slot) = PANIC.lock() {
        slot.get_or_insert(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    /// Tasks the polling workers took from the slot (counted in `help`).
    pub(super) static TAKEN_BY_WORKERS: AtomicU64 = AtomicU64::new(0);

    /// Under `with_workers_awake` on two threads the polling worker takes
    /// tasks from the slot: task 0 (the caller's) waits for task 1 to start,
    /// which only the worker can do meanwhile, through `help`. Without the
    /// slot (the rayon loop) the count stays where it was.
    #[test]
    fn the_polling_workers_take_tasks_from_the_slot() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let before = TAKEN_BY_WORKERS.load(Ordering::Relaxed);
        pool.install(|| {
            crate::with_workers_awake(1, || {
                for _ in 0..20 {
                    let started = AtomicBool::new(false);
                    run_tasks(2, |i| {
                        if i == 1 {
                            started.store(true, Ordering::Release);
                        } else {
                            let t = Instant::now();
                            while !started.load(Ordering::Acquire)
                                && t.elapsed() < Duration::from_secs(5)
                            {
                                std::hint::spin_loop();
                            }
                        }
                    });
                }
            })
        });
        let taken = TAKEN_BY_WORKERS.load(Ordering::Relaxed) - before;
        assert!(taken >= 20, "the worker took {taken} of 20 tasks from the slot");
        // a one-thread pool has no polling worker: the caller runs both
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let before = TAKEN_BY_WORKERS.load(Ordering::Relaxed);
        one.install(|| crate::with_workers_awake(1, || run_tasks(2, |_| {})));
        assert_eq!(TAKEN_BY_WORKERS.load(Ordering::Relaxed), before);
    }
}
