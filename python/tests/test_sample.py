"""Sampler statistics against exact enumeration, with bounds from the sample size."""

import math
import threading
import time

import numpy as np
import pytest

import ebm

N_CHAINS, N_SWEEPS = 4, 5000

CASES = [
    (ebm.Ising.square(4, 4), 0.3, "gibbs"),
    (ebm.Ising.square(4, 4), 0.3, "block-gibbs"),
    (ebm.Ising.square(4, 4), 0.3, "metropolis"),
    (ebm.Ising.square(4, 4), 0.3, "metropolis-random"),
    (ebm.Ising.square(4, 4), 0.44, "wolff"),
    (ebm.Ising.square(4, 4), 0.44, "swendsen-wang"),
    (ebm.Ising.square(4, 4), 0.44, "tempering"),
    (ebm.Ising.square(4, 4, field=0.2, periodic=False), 0.5, "block-gibbs"),
    (ebm.Potts.square(3, 3), 1.0, "gibbs"),
    (ebm.Potts.square(3, 3), 1.0, "wolff"),
    (ebm.Potts.square(3, 3), 1.0, "sw"),
    (ebm.Rbm.random(8, 4, 0.6, seed=1), 1.0, "block-gibbs"),
    (ebm.BoltzmannMachine.random(8, 8, 0.4, seed=1), 1.0, "gibbs"),
    (ebm.Ising.spin_glass([3, 3], disorder=2), 1.0, "metropolis"),
]


@pytest.mark.parametrize("model,beta,sampler", CASES, ids=lambda x: repr(x) if not isinstance(x, float) else str(x))
def test_energy_and_heat_capacity_against_exact(model, beta, sampler):
    t = ebm.exact(model, beta)
    r = ebm.sample(model, beta, sampler, n_chains=N_CHAINS, n_sweeps=N_SWEEPS, seed=7)
    e, se = r.energy_per_unit
    exact_e = t.mean_energy_per_unit
    assert abs(e - exact_e) < 4.5 * se, (e, se, exact_e)
    # the error bar is what the sample size allows: no better than independent
    # draws, and no worse than τ_int of them say
    sigma = math.sqrt(t.energy_variance) / t.n_units
    iid = sigma / math.sqrt(N_CHAINS * N_SWEEPS)
    assert 0.5 * iid < se < 3.0 * iid * math.sqrt(max(r.tau_int, 1.0)), (se, iid, r.tau_int)
    c, c_se = r.heat_capacity_per_unit
    assert abs(c - t.heat_capacity_per_unit) < 4.5 * c_se + 1e-12
    if t.moments is not None and isinstance(model, ebm.Ising):
        m2 = t.moments.pair.sum() / t.n_units**2
        assert abs(r.magnetization_sq.mean - m2) < 4.5 * r.magnetization_sq.std_err
    assert len(r.per_chain) == N_CHAINS
    assert r.r_hat < 1.1


def test_states_and_traces():
    m = ebm.Ising.square(8, 8)
    r = ebm.sample(m, 0.3, "wolff", n_chains=3, n_sweeps=100, seed=1, return_states=True, states_every=10)
    assert r.states.shape == (3, 10, 64) and r.states.dtype == np.int8
    assert set(np.unique(r.states)) <= {-1, 1}
    assert r.final_states.shape == (3, 64)
    assert r.traces.energy_per_unit.shape == (3, 100)
    # the recorded states are the chain's: their energies are the trace
    e = m.energy(np.ascontiguousarray(r.states[1])) / 64
    np.testing.assert_array_equal(e, r.traces.energy_per_unit[1, ::10])
    np.testing.assert_array_equal(r.states[:, -1], r.states[:, 9])
    # recording the states changes nothing else
    plain = ebm.sample(m, 0.3, "wolff", n_chains=3, n_sweeps=100, seed=1)
    assert plain.energy_per_unit == r.energy_per_unit and plain.binder == r.binder
    p = ebm.sample(ebm.Potts.square(3, 4), 1.0, "sw", n_chains=2, n_sweeps=20, return_states=True)
    assert p.states.dtype == np.uint8 and p.states.max() <= 2


def test_seeds_reproduce_and_differ():
    m = ebm.Ising.square(6, 6)
    a = ebm.sample(m, 0.35, "metropolis", n_sweeps=300, seed=3)
    b = ebm.sample(m, 0.35, "metropolis", n_sweeps=300, seed=3)
    c = ebm.sample(m, 0.35, "metropolis", n_sweeps=300, seed=4)
    assert a.energy_per_unit == b.energy_per_unit
    np.testing.assert_array_equal(a.final_states, b.final_states)
    assert a.energy_per_unit != c.energy_per_unit


def test_bad_arguments():
    m = ebm.Ising.square(4, 4)
    with pytest.raises(ValueError, match="sampler"):
        ebm.sample(m, 0.3, "hmc")
    with pytest.raises(ValueError):
        ebm.sample(ebm.Rbm.random(4, 2), 1.0, "wolff", n_sweeps=10)  # no pair form
    with pytest.raises(ValueError, match="beta_min"):
        ebm.sample(m, 0.3, "tempering", beta_min=0.5)
    with pytest.raises(ValueError):
        ebm.sample(m, 0.3, n_chains=0)


def test_the_gil_is_released_while_sampling():
    """A Python thread keeps running while a long sample runs."""
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    th = threading.Thread(target=tick)
    th.start()
    t0 = time.perf_counter()
    # long enough to see (the observables got 9x cheaper: 128² × 1500 ran in 0.06 s)
    ebm.sample(ebm.Ising.square(256, 256), 0.44, "metropolis", n_chains=2, n_sweeps=3000, n_warmup=0)
    dt = time.perf_counter() - t0
    stop.set()
    th.join()
    during = [t for t in ticks if t0 < t < t0 + dt]
    assert dt > 0.1 and len(during) > 0.3 * dt / 0.005, (dt, len(during))


def test_undefined_statistics_are_nan_and_absent_ones_none():
    """Two recorded sweeps: R̂ is undefined (a float NaN, not None), the
    jackknife observables have no value (None, where the CLI's JSON leaves
    them out); a model without a lattice has no correlation length."""
    r = ebm.sample(ebm.Rbm.random(4, 3, 0.5, seed=1), 1.0, "block-gibbs", n_chains=1, n_sweeps=2, n_warmup=0)
    assert isinstance(r.r_hat, float) and math.isnan(r.r_hat)
    for k in ("correlation_length", "mean_cluster_size", "clusters_per_sweep"):
        assert getattr(r, k) is None, k
    r = ebm.sample(ebm.Ising.square(4, 4), 0.3, "metropolis", n_chains=2, n_sweeps=50)
    assert r.mean_cluster_size is None and r.correlation_length is not None
