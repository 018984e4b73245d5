"""Exact thermodynamics against known values and identities."""

import math

import numpy as np
import pytest

import ebm


def test_ising_4x4_value_of_the_readme():
    t = ebm.exact(ebm.Ising.square(4, 4), beta=0.3)
    assert f"{t.log_z:.12f}" == "12.785523325714"
    assert t.n_states == 65536 and t.n_units == 16
    assert t.free_energy == pytest.approx(-t.log_z / 0.3, rel=1e-15)
    assert t.entropy == pytest.approx(0.3 * (t.mean_energy - t.free_energy), rel=1e-12)
    assert t.heat_capacity == pytest.approx(0.09 * t.energy_variance, rel=1e-12)
    assert t.mean_energy_per_unit == t.mean_energy / 16


def test_potts_3x3_value_of_the_readme():
    t = ebm.exact(ebm.Potts.square(3, 3), beta=1.0)
    assert t.n_states == 19683
    assert f"{t.log_z:.12f}" == "19.609853410535"
    assert t.moments is None  # moments are for binary units


def test_moments_of_the_torus_are_symmetric():
    t = ebm.exact(ebm.Ising.square(3, 3), beta=0.4)
    m = t.moments
    assert m.mean.shape == (9,) and m.pair.shape == (9, 9)
    np.testing.assert_allclose(m.mean, 0.0, atol=1e-12)  # no field
    np.testing.assert_allclose(np.diag(m.pair), 1.0, rtol=1e-12)
    # the energy from the nearest-neighbour correlations
    g = ebm.Ising.square(3, 3)
    e = -sum(m.pair[a, b] for a, b in g.edges)
    assert e == pytest.approx(t.mean_energy, rel=1e-10)


def test_rbm_joint_enumeration_equals_its_layer_sum():
    rbm = ebm.Rbm.random(6, 4, 0.7, seed=3)
    assert ebm.exact(rbm, 1.0).log_z == pytest.approx(rbm.exact_log_z(1.0), rel=1e-12)
    assert ebm.exact(rbm, 0.5).log_z == pytest.approx(rbm.exact_log_z(0.5), rel=1e-12)


def test_two_spins_by_hand():
    # E = -J s0 s1 - h (s0 + s1): Z = 2 e^{bJ} cosh(2bh) + 2 e^{-bJ}
    j, h, b = 0.8, 0.3, 0.9
    m = ebm.Ising.from_edges(2, np.array([[0, 1]]), np.array([j]), np.array([h, h]))
    z = 2 * math.exp(b * j) * math.cosh(2 * b * h) + 2 * math.exp(-b * j)
    assert ebm.exact(m, b).log_z == pytest.approx(math.log(z), rel=1e-14)


def test_bad_beta_and_too_many_states():
    with pytest.raises(ValueError):
        ebm.exact(ebm.Ising.square(2, 2), beta=-1.0)
    with pytest.raises(ValueError):
        ebm.exact(ebm.Ising.square(6, 6), beta=0.3)  # 2^36 states
