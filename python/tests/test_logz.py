"""ln Z estimators: intervals that contain the exact value."""

import numpy as np
import pytest

import ebm


@pytest.mark.parametrize(
    "model,beta",
    [
        (ebm.Ising.square(4, 4), 0.3),
        (ebm.Ising.square(4, 4), 0.44),
        (ebm.Potts.square(3, 3), 1.0),
        (ebm.BoltzmannMachine.random(10, 10, 0.5, seed=2), 1.0),
    ],
    ids=repr,
)
@pytest.mark.parametrize("method", ["ais", "ti"])
def test_intervals_contain_exact(model, beta, method):
    exact = ebm.exact(model, beta, moments=False).log_z
    r = ebm.log_z(model, beta, method, n_betas=400 if method == "ais" else 40, n_runs=32, seed=5)
    assert r.exact_log_z == exact
    assert r.method == method and r.n_runs == 32
    assert r.lower <= r.log_z <= r.upper
    assert abs(r.log_z - exact) < 4.5 * r.std_err + 1e-9, r


def test_rbm_ais_path_and_base_rates():
    rbm = ebm.Rbm.random(20, 8, 0.3, seed=3)
    exact = rbm.exact_log_z()
    r = ebm.log_z(rbm, 1.0, n_betas=1000, n_runs=64)
    assert r.exact_log_z == pytest.approx(exact, rel=1e-14)
    assert abs(r.log_z - exact) < 4.5 * r.std_err
    data = (np.random.default_rng(1).random((50, 20)) < 0.3).astype(np.int8)
    rb = ebm.log_z(rbm, 1.0, n_betas=1000, n_runs=64, data=data)
    assert abs(rb.log_z - exact) < 4.5 * rb.std_err and rb.log_z != r.log_z


def test_kaufman_for_large_tori():
    r = ebm.log_z(ebm.Ising.square(16, 16), 0.3, n_betas=200, n_runs=16)
    assert r.exact_log_z is not None and abs(r.log_z - r.exact_log_z) < 5 * r.std_err


def test_bad_method():
    with pytest.raises(ValueError, match="method"):
        ebm.log_z(ebm.Ising.square(2, 2), 0.3, "bridge")
