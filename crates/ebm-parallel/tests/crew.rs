//! `run_tasks` and `run_each`: every task runs exactly once and before the
//! call returns, on any pool, with or without polling workers, nested, under
//! concurrent callers, and a panicking task reaches the caller without
//! leaving the slot unusable.

use ebm_parallel::{run_each, run_tasks, with_workers_awake};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

/// `rounds` calls of `run_tasks(n)`: per task, how many times it ran, each
/// checked to have finished before its call returned.
fn count_runs(n: usize, rounds: u64) -> Vec<u64> {
    let counts: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    for round in 0..rounds {
        run_tasks(n, |i| {
            // a little work, uneven across tasks
            let mut x = i as u64 + round;
            for _ in 0..(i * 37) % 200 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            std::hint::black_box(x);
            counts[i].fetch_add(1, Ordering::Relaxed);
        });
        for (i, c) in counts.iter().enumerate() {
            assert_eq!(c.load(Ordering::Relaxed), round + 1, "task {i} of {n}, round {round}");
        }
    }
    counts.into_iter().map(AtomicU64::into_inner).collect()
}

#[test]
fn every_task_runs_once_before_the_call_returns() {
    for threads in [1, 2, 3, 4] {
        let pool = pool(threads);
        for n in [0, 1, 2, 3, 5, 8] {
            // with polling workers (the slot) and without (rayon)
            let polled = pool.install(|| with_workers_awake(1, || count_runs(n, 2000)));
            let plain = pool.install(|| count_runs(n, 200));
            assert!(polled.iter().all(|&c| c == 2000), "{threads} threads, {n} tasks");
            assert!(plain.iter().all(|&c| c == 200), "{threads} threads, {n} tasks");
        }
    }
}

#[test]
fn nested_and_item_tasks_run_once() {
    let pool = pool(2);
    let total = pool.install(|| {
        with_workers_awake(1, || {
            let sum = AtomicU64::new(0);
            for _ in 0..500 {
                run_tasks(3, |i| {
                    // a job inside a task runs as a plain parallel loop
                    run_tasks(4, |j| {
                        sum.fetch_add((10 * i + j) as u64, Ordering::Relaxed);
                    });
                });
            }
            let mut items = vec![0u64; 6];
            for _ in 0..500 {
                run_each(&mut items, |i, x| *x += i as u64);
            }
            (sum.into_inner(), items)
        })
    });
    // Σ_i Σ_j (10 i + j) = 4·10·3 + 3·6 = 138 per round
    assert_eq!(total.0, 500 * 138);
    assert_eq!(total.1, (0..6).map(|i| 500 * i).collect::<Vec<u64>>());
}

#[test]
fn a_panicking_task_reaches_the_caller_and_the_slot_stays_usable() {
    let pool = pool(2);
    pool.install(|| {
        with_workers_awake(1, || {
            for bad in [0, 1, 2] {
                let ran = AtomicU64::new(0);
                let r = catch_unwind(AssertUnwindSafe(|| {
                    run_tasks(3, |i| {
                        if i == bad {
                            panic!("task {i} fails");
                        }
                        ran.fetch_add(1, Ordering::Relaxed);
                    })
                }));
                assert!(r.is_err(), "task {bad}'s panic was lost");
                // the other tasks still ran (and finished before the panic
                // was raised)
                assert_eq!(ran.into_inner(), 2);
                assert!(count_runs(4, 100).iter().all(|&c| c == 100));
            }
        })
    });
}

#[test]
fn concurrent_callers_with_task_crews_all_finish() {
    let (tx, rx) = mpsc::channel();
    let callers = 4;
    for c in 0..callers {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let run = || with_workers_awake(1, || count_runs(3, 1000));
            let counts = if c % 2 == 0 { run() } else { rayon::scope(|_| run()) };
            tx.send(counts).expect("the test waits");
        });
    }
    for _ in 0..callers {
        let counts = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("callers of run_tasks did not finish within 120 s (deadlock)");
        assert_eq!(counts, vec![1000; 3]);
    }
}
