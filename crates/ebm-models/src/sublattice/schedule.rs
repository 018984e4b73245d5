//! The parallel schedule of a checkerboard sweep: one fork per sweep, the
//! two colours overlapping where the neighbourhoods allow.
//!
//! A sweep updates colour 0, then colour 1, stripe by stripe; the unit of
//! work is `(c, s)`, colour c of stripe s, with its own random stream.
//! Unit `(0, s)` reads the colour-1 rows neighbouring stripe s; unit
//! `(1, s)` reads the colour-0 rows neighbouring it, which must be final.
//! With `deps(s)` the stripes holding a row neighbour of a row of s (s
//! included; the relation is symmetric), the sweep gives the same result as
//! running colour 0 then colour 1 in order as long as `(1, s)` starts after
//! every `(0, d)`, d ∈ `deps(s)`, is done. Nothing else orders the units.
//!
//! So instead of one fork per colour (two per sweep, each paying a hand-over
//! to the other threads and a wait for the slowest), a sweep forks once:
//! one task per thread, task t owning a block of consecutive stripes. A
//! task runs its colour-0 units, then its colour-1 units (those whose
//! neighbourhood is its own block first), then helps with any unit nobody
//! has taken. Each unit is *claimed* (free → claimed → done, atomically)
//! before it runs, so it runs exactly once, by whichever task gets it first;
//! a colour-1 unit whose colour-0 neighbour is still free claims and runs
//! that neighbour itself, and one whose neighbour is claimed waits for it
//! (a colour-0 unit never waits, so neither does anything for long). A task
//! that starts late, or never (a busy pool, one thread), only means the
//! others do more. Which thread runs a unit never changes its random words
//! or its inputs: the result is bit-identical to the in-order sweep, for
//! any number of threads.
//!
//! The one fork goes through `ebm_parallel::run_tasks`: with the chain
//! runner's workers polling, a hand-over through its slot instead of a rayon
//! fork and join. Measured on the 2-core machine of the README (256² Ising,
//! Metropolis): a rayon fork and join cost about 1.2 µs with the workers
//! polling, against about 17 µs for a 2-thread sweep; two of them per sweep
//! held 1 → 2 thread scaling to 1.74×.

use super::Layout;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// At most this many stripes (dependency sets are 64-bit masks).
pub(crate) const MAX_STRIPES: usize = 64;

/// Unit states.
const FREE: u8 = 0;
const CLAIMED: u8 = 1;
const DONE: u8 = 2;

/// The rows of the other colour, as one unit may read them: those of the
/// stripes in its dependency set (any other row panics).
pub(crate) struct OtherRows<'a, T> {
    ptr: *const T,
    half: usize,
    row_stripe: &'a [u8],
    readable: u64,
    _rows: PhantomData<&'a [T]>,
}

impl<'a, T> OtherRows<'a, T> {
    /// Every row of `y` (an array of the layout's shape), readable.
    pub(crate) fn all(y: &'a [T], layout: &'a Layout) -> Self {
        assert_eq!(y.len(), layout.n_rows() * layout.half, "a colour array of the layout");
        OtherRows {
            ptr: y.as_ptr(),
            half: layout.half,
            row_stripe: &layout.row_stripe,
            readable: u64::MAX,
            _rows: PhantomData,
        }
    }

    /// Row `r`.
    ///
    /// # Panics
    /// If the row is not one the unit may read (a stripe outside its
    /// dependency set, or past the end).
    #[inline]
    pub(crate) fn row(&self, r: usize) -> &'a [T] {
        let s = self.row_stripe[r];
        if self.readable >> s & 1 == 0 {
            outside(r);
        }
        // SAFETY: r < n_rows (the index above), so the row is inside the
        // array `ptr` points to. Its stripe is in the unit's dependency set,
        // so no unit writing it runs until this unit is done (`sweep`), and
        // the array outlives 'a.
        unsafe { std::slice::from_raw_parts(self.ptr.add(r * self.half), self.half) }
    }
}

#[cold]
#[inline(never)]
fn outside(r: usize) -> ! {
    panic!("row {r} is outside the unit's neighbourhood")
}

/// The two colour arrays and the stripes' scratch as raw pointers, shared by
/// the tasks of one sweep.
struct Shared<T, S> {
    x: [*mut T; 2],
    scratch: *mut S,
}

// SAFETY: the tasks only touch what the schedule gives each unit: its own
// rows and scratch exclusively, and rows of the other colour no one writes
// meanwhile (see `Sweep::run`). T: Send + Sync and S: Send make that sound.
// (Only shared references cross threads, so Send is not needed.)
unsafe impl<T: Send + Sync, S: Send> Sync for Shared<T, S> {}

/// One sweep in progress.
struct Sweep<'a, T, S, F> {
    layout: &'a Layout,
    shared: Shared<T, S>,
    states: &'a [AtomicU8],
    unit: &'a F,
}

/// Marks a unit done when dropped, also while unwinding (its waiters then
/// go on, and the panic reaches the caller through the join).
struct MarkDone<'a>(&'a AtomicU8);

impl Drop for MarkDone<'_> {
    fn drop(&mut self) {
        self.0.store(DONE, Ordering::Release);
    }
}

impl<T, S, F> Sweep<'_, T, S, F>
where
    T: Send + Sync,
    S: Send,
    F: Fn(usize, usize, &mut [T], &OtherRows<'_, T>, &mut S) -> u64 + Sync,
{
    fn state(&self, c: usize, s: usize) -> &AtomicU8 {
        &self.states[c * MAX_STRIPES + s]
    }

    fn claim(&self, c: usize, s: usize) -> bool {
        let st = self.state(c, s);
        st.load(Ordering::Relaxed) == FREE
            && st.compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// Runs unit `(c, s)` if it is free (and, for colour 1, once its
    /// neighbourhood's colour 0 is done); the flips of the units it ran.
    fn take(&self, c: usize, s: usize) -> u64 {
        if !self.claim(c, s) {
            return 0;
        }
        let mut flips = 0;
        if c == 1 {
            let mut deps = self.layout.deps[s];
            while deps != 0 {
                let d = deps.trailing_zeros() as usize;
                deps &= deps - 1;
                flips += self.await_colour_0(d);
            }
        }
        flips + self.run(c, s)
    }

    /// Returns once unit `(0, d)` is done, running it here if it is free.
    fn await_colour_0(&self, d: usize) -> u64 {
        let mut spins = 0u32;
        loop {
            match self.state(0, d).load(Ordering::Acquire) {
                DONE => return 0,
                FREE if self.claim(0, d) => return self.run(0, d),
                _ => {
                    // claimed: running on another thread, without waits
                    spins = spins.saturating_add(1);
                    if spins < 1 << 12 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
        }
    }

    /// Runs the claimed unit `(c, s)` and marks it done.
    fn run(&self, c: usize, s: usize) -> u64 {
        let _done = MarkDone(self.state(c, s));
        let layout = self.layout;
        let (r0, r1) = (layout.stripe_rows[s], layout.stripe_rows[s + 1]);
        // SAFETY: this thread claimed (c, s), so no other reference to its
        // rows or scratch exists: units of colour c own disjoint rows, the
        // other colour's units of stripe s are not running (colour 1 starts
        // after (0, s) is done, colour 0 of the next sweep after the join),
        // and no unit reads colour c's rows of s meanwhile: those reading
        // them are the other colour's units of deps(s), which wait for
        // (0, ·) (c = 0) or have finished before (1, s) began (c = 1).
        let rows = unsafe {
            std::slice::from_raw_parts_mut(
                self.shared.x[c].add(r0 * layout.half),
                (r1 - r0) * layout.half,
            )
        };
        // SAFETY: as for the rows: scratch s is used by units of stripe s
        // only, and never by two at once.
        let scratch = unsafe { &mut *self.shared.scratch.add(s) };
        let other = OtherRows {
            ptr: self.shared.x[1 - c].cast_const(),
            half: layout.half,
            row_stripe: &layout.row_stripe,
            readable: layout.deps[s],
            _rows: PhantomData,
        };
        (self.unit)(c, s, rows, &other, scratch)
    }

    /// Task `t` of `tasks`: its block of stripes, then whatever is left.
    fn task(&self, t: usize, tasks: usize) -> u64 {
        let n = self.layout.n_stripes();
        let block = task_block(n, t, tasks);
        let own: u64 = block.clone().fold(0, |m, s| m | 1 << s);
        let mut flips = 0;
        for s in block.clone() {
            flips += self.take(0, s);
        }
        // colour 1: the stripes that need nobody else's colour 0 first
        for inside in [true, false] {
            for s in block.clone() {
                if (self.layout.deps[s] & !own == 0) == inside {
                    flips += self.take(1, s);
                }
            }
        }
        for c in 0..2 {
            for s in 0..n {
                flips += self.take(c, s);
            }
        }
        flips
    }
}

/// The stripes task `t` of `tasks` starts with: a fixed block, so that a
/// core keeps updating (and [`Layout::join`] reading) the same rows.
pub(crate) fn task_block(n_stripes: usize, t: usize, tasks: usize) -> std::ops::Range<usize> {
    t * n_stripes / tasks..(t + 1) * n_stripes / tasks
}

/// The number of tasks a parallel sweep of `n_stripes` stripes forks into:
/// one per thread of the current pool.
pub(crate) fn n_tasks(n_stripes: usize) -> usize {
    rayon::current_num_threads().min(n_stripes)
}

/// One sweep of the two colour arrays `values` (the layout's shape):
/// `unit(c, s, rows, other, scratch)` updates the rows of colour c in
/// stripe s reading the other colour's rows from `other`, and returns its
/// flip (or change) count; the total is returned. In parallel over the
/// stripes when `parallel` (one fork, see the module docs), in order
/// otherwise: the same result either way.
///
/// # Panics
/// If `scratch` does not hold one entry per stripe or `values` does not
/// have the layout's shape.
pub(crate) fn sweep<T, S, F>(
    layout: &Layout,
    values: &mut [Vec<T>; 2],
    scratch: &mut [S],
    parallel: bool,
    unit: F,
) -> u64
where
    T: Send + Sync,
    S: Send,
    F: Fn(usize, usize, &mut [T], &OtherRows<'_, T>, &mut S) -> u64 + Sync,
{
    let n = layout.n_stripes();
    let len = layout.n_rows() * layout.half;
    assert!(scratch.len() == n && values.iter().all(|v| v.len() == len), "the layout's shape");
    let tasks = n_tasks(n);
    if !parallel || tasks < 2 {
        let mut flips = 0;
        for c in 0..2 {
            let [a, b] = values;
            let (x, y) = if c == 0 { (a, &*b) } else { (b, &*a) };
            let other = OtherRows::all(y, layout);
            let mut rest: &mut [T] = x;
            for (s, scratch) in scratch.iter_mut().enumerate() {
                let rows = layout.stripe_rows[s + 1] - layout.stripe_rows[s];
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut(rows * layout.half);
                rest = tail;
                flips += unit(c, s, mine, &other, scratch);
            }
        }
        return flips;
    }
    let states = [const { AtomicU8::new(FREE) }; 2 * MAX_STRIPES];
    let [a, b] = values;
    let run = Sweep {
        layout,
        shared: Shared { x: [a.as_mut_ptr(), b.as_mut_ptr()], scratch: scratch.as_mut_ptr() },
        states: &states,
        unit: &unit,
    };
    // an integer sum is the same in any order and grouping
    let flips = AtomicU64::new(0);
    ebm_parallel::run_tasks(tasks, |t| {
        flips.fetch_add(run.task(t, tasks), Ordering::Relaxed);
    });
    flips.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy update with the kernels' data flow: each site of colour c
    /// becomes a hash of its old value, its unit and the other colour's
    /// values in its row and the neighbouring rows. Any schedule that reads
    /// a row too early or too late changes the result.
    fn toy(
        c: usize,
        s: usize,
        rows: &mut [u64],
        other: &OtherRows<'_, u64>,
        layout: &Layout,
    ) -> u64 {
        let half = layout.half;
        let r0 = layout.stripe_rows[s];
        for (i, row) in rows.chunks_exact_mut(half).enumerate() {
            let r = r0 + i;
            let mut acc = other.row(r).iter().fold(c as u64 + 1, |h, &v| h.wrapping_mul(31) ^ v);
            for m in 0..layout.n_row_nbrs {
                let rn = layout.row_nbrs[r][m] as usize;
                acc = other.row(rn).iter().fold(acc, |h, &v| h.rotate_left(7) ^ v);
            }
            for (k, v) in row.iter_mut().enumerate() {
                *v = (*v ^ acc ^ k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            }
        }
        rows.len() as u64
    }

    #[test]
    fn the_parallel_sweep_equals_the_in_order_one_for_any_thread_count() {
        for dims in [vec![64], vec![16, 12], vec![4, 6, 8], vec![6, 2, 10]] {
            for stripes in [1, 3, 8, 64] {
                let layout = Layout::new(&dims, stripes);
                let len = layout.n_rows() * layout.half;
                let start: [Vec<u64>; 2] =
                    [(0..len as u64).collect(), (0..len as u64).map(|i| i * i + 5).collect()];
                let mut results = Vec::new();
                for (threads, parallel) in [(1, false), (2, true), (3, true), (5, true)] {
                    let pool =
                        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let mut v = start.clone();
                    let mut scratch = vec![0u32; layout.n_stripes()];
                    let n = pool.install(|| {
                        (0..3)
                            .map(|_| {
                                sweep(
                                    &layout,
                                    &mut v,
                                    &mut scratch,
                                    parallel,
                                    |c, s, rows, other, sc| {
                                        *sc += 1;
                                        toy(c, s, rows, other, &layout)
                                    },
                                )
                            })
                            .sum::<u64>()
                    });
                    assert_eq!(n, 3 * 2 * len as u64);
                    // every unit ran once per sweep
                    assert!(scratch.iter().all(|&k| k == 6), "{scratch:?}");
                    results.push(v);
                }
                for r in &results[1..] {
                    assert_eq!(r, &results[0], "{dims:?}, {stripes} stripes");
                }
                // the control: colour 1 reading colour 0 as it was before
                // the sweep (a schedule ignoring the dependencies at worst)
                // gives another result, so the comparison above can fail
                let mut v = start.clone();
                let mut scratch = vec![0u32; layout.n_stripes()];
                let stale = start[0].clone();
                sweep(&layout, &mut v, &mut scratch, false, |c, s, rows, other, _| {
                    let old = OtherRows::all(&stale, &layout);
                    toy(c, s, rows, if c == 1 { &old } else { other }, &layout)
                });
                let mut w = start.clone();
                sweep(&layout, &mut w, &mut scratch, false, |c, s, rows, other, _| {
                    toy(c, s, rows, other, &layout)
                });
                assert_ne!(v, w, "{dims:?}, {stripes} stripes");
            }
        }
    }

    #[test]
    #[should_panic(expected = "outside the unit's neighbourhood")]
    fn a_unit_cannot_read_rows_outside_its_neighbourhood() {
        let layout = Layout::new(&[16, 4], 8);
        let mut v = [vec![0u8; 32], vec![0u8; 32]];
        let mut scratch = vec![(); 8];
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(|| {
            sweep(&layout, &mut v, &mut scratch, true, |_, s, _, other, _| {
                // stripe s + 4 neighbours neither s nor its neighbours
                other.row(layout.stripe_rows[(s + 4) % 8]).len() as u64
            })
        });
    }
}
