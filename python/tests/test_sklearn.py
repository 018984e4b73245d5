"""ebm.BernoulliRBM as a scikit-learn estimator."""

import io
import pickle
from contextlib import redirect_stdout

import numpy as np
import pytest

import ebm

sklearn = pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks([ebm.BernoulliRBM(n_iter=3)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def bits(n=300, d=12, seed=0):
    rng = np.random.default_rng(seed)
    proto = rng.random((3, d)) < 0.5
    X = proto[rng.integers(0, 3, n)] ^ (rng.random((n, d)) < 0.05)
    return X.astype(np.float64)


def test_attributes_and_shapes():
    X = bits()
    m = ebm.BernoulliRBM(8, n_iter=5, random_state=0).fit(X)
    assert m.components_.shape == (8, 12) and m.intercept_hidden_.shape == (8,)
    assert m.intercept_visible_.shape == (12,) and m.h_samples_.shape == (10, 8)
    assert m.n_features_in_ == 12
    h = m.transform(X[:5])
    assert h.shape == (5, 8) and h.dtype == np.float64 and np.all((0 < h) & (h < 1))
    # transform is sigmoid(X W^T + c), in f64 for bits
    np.testing.assert_allclose(h, 1 / (1 + np.exp(-(X[:5] @ m.components_.T + m.intercept_hidden_))), rtol=1e-12)
    v = m.gibbs(X[:4])
    assert v.dtype == bool and v.shape == (4, 12)
    assert not np.array_equal(m.gibbs(X[:4]), v) or True  # fresh streams per call
    assert m.get_params()["n_components"] == 8


def test_score_samples_is_the_exact_log_likelihood():
    X = bits()
    m = ebm.BernoulliRBM(6, n_iter=40, learning_rate=0.1, random_state=1).fit(X)
    rbm = m.to_rbm()
    ll = m.score_samples(X[:7])
    lnz = ebm.exact(rbm, 1.0, moments=False).log_z
    expect = -rbm.free_energy(np.ascontiguousarray(X[:7], dtype=np.int8)) - lnz
    np.testing.assert_allclose(ll, expect, rtol=1e-10)
    r = m.log_likelihood(X)
    assert r.method == "exact" and r.lower == r.mean == r.upper
    assert r.mean == pytest.approx(np.mean(m.score_samples(X)), rel=1e-12)
    # the model learned: better than independent bits at their base rates
    p = X.mean(0).clip(1e-3, 1 - 1e-3)
    base = np.mean(X @ np.log(p) + (1 - X) @ np.log(1 - p))
    assert r.mean > base + 1.0


def test_score_by_ais_when_large():
    X = bits(200, 30)
    m = ebm.BernoulliRBM(24, n_iter=3, random_state=2, score_ais_betas=2000, score_ais_runs=32).fit(X)
    r = m.log_likelihood(X)
    assert r.method == "ais" and r.lower < r.mean < r.upper
    exact = -np.mean(m.free_energy(X)) - m.to_rbm().exact_log_z()
    assert abs(r.mean - exact) < 4.5 * r.std_err + 1e-6


def test_pseudo_likelihood_by_definition():
    X = bits(20)
    m = ebm.BernoulliRBM(5, n_iter=2, random_state=0).fit(X)
    v = X[:3]
    f = m.free_energy(v)
    pl = np.zeros(3)
    for i in range(12):
        w = v.copy()
        w[:, i] = 1 - w[:, i]
        pl += -np.logaddexp(0, f - m.free_energy(w))  # ln sigma(F(v') - F(v))
    np.testing.assert_allclose(m.pseudo_likelihood(v), pl, rtol=1e-10)


def test_pickle_then_partial_fit_continues_bit_for_bit():
    X = bits()
    for kw in (dict(), dict(trainer="cd"), dict(sampler="tempering", n_replicas=3), dict(sampler="gibbs")):
        a = ebm.BernoulliRBM(8, n_iter=2, random_state=4, momentum="hinton", **kw).fit(X)
        b = pickle.loads(pickle.dumps(a))
        np.testing.assert_array_equal(a.components_, b.components_)
        for batch in (X[:10], X[10:50]):  # a batch larger than the chains, too
            a.partial_fit(batch)
            b.partial_fit(batch)
        np.testing.assert_array_equal(a.components_, b.components_)
        np.testing.assert_array_equal(a.h_samples_, b.h_samples_)
        np.testing.assert_array_equal(a.score_samples(X[:5]), b.score_samples(X[:5]))


def test_fit_is_reproducible_and_partial_fit_from_scratch():
    X = bits()
    a = ebm.BernoulliRBM(8, n_iter=2, random_state=5).fit(X)
    b = ebm.BernoulliRBM(8, n_iter=2, random_state=5).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    c = ebm.BernoulliRBM(8, random_state=5).partial_fit(X[:10])
    assert c.components_.shape == (8, 12)


def test_assigned_parameters_are_used():
    X = bits()
    m = ebm.BernoulliRBM(4, n_iter=1, random_state=0).fit(X)
    m.components_ = np.zeros((4, 12))
    m.intercept_hidden_ = np.zeros(4)
    np.testing.assert_allclose(m.transform(X[:2]), 0.5)


def test_sklearn_weights_scored_by_ebm():
    from sklearn.neural_network import BernoulliRBM as SkRBM

    X = bits()
    sk = SkRBM(n_components=8, n_iter=5, random_state=0).fit(X)
    rbm = ebm.Rbm.from_numpy(sk.components_.T, sk.intercept_visible_, sk.intercept_hidden_)
    np.testing.assert_allclose(
        sk.transform(X[:3]), rbm.hidden_probs(np.ascontiguousarray(X[:3], dtype=np.int8)), rtol=1e-12
    )
    r = ebm.log_z(rbm, 1.0, n_betas=2000, n_runs=64)
    assert abs(r.log_z - rbm.exact_log_z()) < 4.5 * r.std_err


def test_verbose_and_errors():
    X = bits(50)
    out = io.StringIO()
    with redirect_stdout(out):
        ebm.BernoulliRBM(4, n_iter=2, verbose=1, random_state=0).fit(X)
    assert out.getvalue().count("[BernoulliRBM] Iteration") == 2
    with pytest.raises(ValueError, match="trainer"):
        ebm.BernoulliRBM(4, trainer="sgd").fit(X)
    with pytest.raises(ValueError, match="tempering"):
        ebm.BernoulliRBM(4, trainer="cd", sampler="tempering").fit(X)
    with pytest.raises(ValueError, match="0/1"):
        ebm.BernoulliRBM(4, binarize=None).fit(X * 0.5)
    with pytest.raises(ValueError, match="features"):
        ebm.BernoulliRBM(4, n_iter=1).fit(X).transform(X[:, :5])
    with pytest.raises(sklearn.exceptions.NotFittedError):
        ebm.BernoulliRBM(4).transform(X)
    with pytest.raises(FloatingPointError):
        ebm.BernoulliRBM(4, n_iter=3, learning_rate=1e300, random_state=0).fit(X)
