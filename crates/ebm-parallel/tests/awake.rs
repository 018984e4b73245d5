//! `with_workers_awake` under concurrent callers: several threads training or
//! sampling at once (each keeping the pool's workers awake for its own
//! forks) must all finish. Two polling broadcasts at once could deadlock, a
//! worker polling for one holding a stolen part of the other's work.

use ebm_parallel::with_workers_awake;
use rayon::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

/// Many short forking sections, as a training step's.
fn forks(i: u64) -> u64 {
    (0..4u64)
        .map(|j| {
            (0..16u64)
                .into_par_iter()
                .map(|k| {
                    (0..64u64).into_par_iter().map(|l| (k ^ j ^ l).wrapping_mul(i + 1)).sum::<u64>()
                })
                .sum::<u64>()
        })
        .sum()
}

#[test]
fn concurrent_callers_keeping_workers_awake_all_finish() {
    let (tx, rx) = mpsc::channel();
    let callers = 4;
    for c in 0..callers {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut total = 0u64;
            for i in 0..3000u64 {
                // half the callers from outside the pool, half from inside
                // it (as the CLI runs its commands on a worker)
                total = total.wrapping_add(if c % 2 == 0 {
                    with_workers_awake(1, || forks(i))
                } else {
                    rayon::scope(|_| with_workers_awake(1, || forks(i)))
                });
            }
            tx.send(total).expect("the test waits");
        });
    }
    let want: u64 = (0..3000u64).fold(0u64, |t, i| t.wrapping_add(forks(i)));
    for _ in 0..callers {
        let got = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("callers of with_workers_awake did not finish within 120 s (deadlock)");
        assert_eq!(got, want);
    }
}
