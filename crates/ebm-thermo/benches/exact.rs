//! Exact enumeration throughput: states per second on a periodic 2D Ising
//! lattice with an O(degree) flip delta, and on q-state Potts lattices (the
//! mixed-radix Gray code with O(q + degree) local energies), one thread and
//! two.
//!
//! Run: `cargo bench -p ebm-thermo --bench exact`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebm_core::{Beta, BinaryModel, Domain, EnergyModel};
use std::hint::black_box;

/// Periodic L×M Ising, J = 1, h = 0.1.
struct Torus {
    l: usize,
    m: usize,
}

impl Torus {
    #[inline]
    fn neighbour_sum(&self, s: &[i8], i: usize) -> i32 {
        let (r, c) = (i / self.m, i % self.m);
        let up = ((r + self.l - 1) % self.l) * self.m + c;
        let down = ((r + 1) % self.l) * self.m + c;
        let left = r * self.m + (c + self.m - 1) % self.m;
        let right = r * self.m + (c + 1) % self.m;
        i32::from(s[up]) + i32::from(s[down]) + i32::from(s[left]) + i32::from(s[right])
    }
}

impl EnergyModel for Torus {
    type Space = Domain;

    fn n_units(&self) -> usize {
        self.l * self.m
    }
    fn space(&self) -> &Domain {
        &Domain::Spin
    }
    fn energy(&self, s: &[i8]) -> f64 {
        let bonds: i32 = (0..self.n_units())
            .map(|i| {
                let (r, c) = (i / self.m, i % self.m);
                i32::from(s[i])
                    * (i32::from(s[r * self.m + (c + 1) % self.m])
                        + i32::from(s[((r + 1) % self.l) * self.m + c]))
            })
            .sum();
        let mag: i32 = s.iter().map(|&x| i32::from(x)).sum();
        -f64::from(bonds) - 0.1 * f64::from(mag)
    }
}

impl BinaryModel for Torus {
    #[inline]
    fn flip_delta(&self, s: &[i8], i: usize) -> f64 {
        2.0 * f64::from(s[i]) * (f64::from(self.neighbour_sum(s, i)) + 0.1)
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("exact_enumeration");
    g.sample_size(10);
    for (l, m) in [(4usize, 5usize), (5, 5)] {
        let model = Torus { l, m };
        g.throughput(Throughput::Elements(1u64 << (l * m)));
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            g.bench_function(format!("ising_{l}x{m}_threads_{threads}"), |b| {
                b.iter(|| {
                    pool.install(|| {
                        ebm_thermo::exact(black_box(&model), Beta::new(0.44).unwrap()).unwrap()
                    })
                })
            });
        }
    }
    // q-state: 3^14 ≈ 4.8 M and 4^11 ≈ 4.2 M states
    for (q, dims) in [(3usize, vec![2usize, 7]), (4, vec![11])] {
        let model = ebm_models::potts::Potts::lattice(q, &dims, true, 1.0, 0.1).unwrap();
        let n: usize = dims.iter().product();
        g.throughput(Throughput::Elements((q as u64).pow(n as u32)));
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let shape: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            g.bench_function(format!("potts{q}_{}_threads_{threads}", shape.join("x")), |b| {
                b.iter(|| {
                    pool.install(|| {
                        ebm_thermo::exact(black_box(&model), Beta::new(0.9).unwrap()).unwrap()
                    })
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
