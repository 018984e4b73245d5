"""Models: constructors, specs, energies, input errors, pickling."""

import pickle

import numpy as np
import pytest

import ebm


def test_square_is_the_cli_spec():
    m = ebm.Ising.square(4, 4)
    assert m.spec == "ising:4x4" and m.n_units == 16 and m.dims == [4, 4] and m.periodic
    assert ebm.Ising.square(3, 5, periodic=False).spec == "ising:3x5:open"
    assert ebm.Ising.cubic(2, 2, 2).spec == "ising:2x2x2"
    assert ebm.Ising.chain(7).spec == "ising:7"
    assert ebm.Ising.spin_glass([4, 4], kind="gauss", disorder=3).spec == "glass:4x4:gauss:disorder=3"
    assert ebm.model("potts:3:3x3").spec == "potts:3:3x3"
    assert isinstance(ebm.model("glass:4x4"), ebm.Ising)


def test_energies_follow_the_conventions():
    m = ebm.Ising.square(4, 4, coupling=1.0, field=0.5)
    up = np.ones(16, dtype=np.int8)
    assert m.energy(up) == -32.0 - 8.0
    states = np.stack([up, -up]).astype(np.int8)
    np.testing.assert_array_equal(m.energy(states), [-40.0, -24.0])
    # any graph: E = -sum J s_a s_b - sum h s
    g = ebm.Ising.from_edges(3, np.array([[0, 1], [1, 2]]), np.array([1.0, -2.0]), np.array([0.1, 0.0, -0.3]))
    s = np.array([1, -1, -1], dtype=np.int8)
    assert g.energy(s) == pytest.approx(-(1.0 * -1) - (-2.0 * 1) - (0.1 - 0.0 + 0.3))
    assert g.spec is None and g.edges.shape == (2, 2)
    p = ebm.Potts.square(3, 2, 2)
    assert p.energy(np.zeros(4, dtype=np.uint8)) == -8.0  # 8 bonds of the 2x2 torus
    rbm = ebm.Rbm.from_numpy(np.array([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]]), np.zeros(3), np.array([0.1, 0.2]))
    x = np.array([1, 1, 0, 1, 1], dtype=np.int8)
    assert rbm.energy(x) == pytest.approx(-(0.1 + 0.2) - (1.0 + 2.0))
    bm = ebm.BoltzmannMachine(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0.5, -0.5]))
    assert bm.energy(np.array([1, 1], dtype=np.int8)) == pytest.approx(-1.0)


def test_rbm_from_sklearn_layout_and_free_energy():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 6))  # scikit-learn's components_: (n_hidden, n_visible)
    b, c = rng.normal(size=6), rng.normal(size=3)
    rbm = ebm.Rbm.from_numpy(W.T, b, c)  # a transposed view: any layout is fine for parameters
    np.testing.assert_array_equal(rbm.W, W.T)
    v = np.array([[1, 0, 1, 1, 0, 0]], dtype=np.int8)
    f = -v[0] @ b - np.sum(np.logaddexp(0, c + v[0] @ W.T))
    assert rbm.free_energy(v)[0] == pytest.approx(f, rel=1e-12)
    with pytest.raises(ValueError, match="components_.T"):
        ebm.Rbm.from_numpy(W, b, c)


def test_dtype_shape_and_contiguity_errors():
    m = ebm.Ising.square(4, 4)
    with pytest.raises(TypeError, match="int8"):
        m.energy(np.ones(16))  # float64
    with pytest.raises(TypeError, match="NumPy array"):
        m.energy([1] * 16)
    with pytest.raises(ValueError, match="length"):
        m.energy(np.ones(15, dtype=np.int8))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        m.energy(np.ones((2, 2, 4), dtype=np.int8))
    with pytest.raises(ValueError, match="C-contiguous"):
        m.energy(np.ones((16, 4), dtype=np.int8).T)
    with pytest.raises(ValueError):
        m.energy(np.zeros(16, dtype=np.int8))  # 0 is not a spin
    with pytest.raises(TypeError, match="float64"):
        ebm.Rbm.from_numpy(np.ones((2, 2), dtype=np.float32), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError):
        ebm.Rbm.from_numpy(np.full((2, 2), np.nan), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="unknown model"):
        ebm.model("isnig:4x4")
    with pytest.raises(ValueError, match="symmetric|asymmetry"):
        ebm.BoltzmannMachine(np.array([[0.0, 1.0], [2.0, 0.0]]), np.zeros(2))


def test_file_errors_are_oserrors(tmp_path):
    with pytest.raises(OSError):
        ebm.Rbm.load(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError):
        ebm.load(bad)


def test_save_and_load_roundtrip(tmp_path):
    rbm = ebm.Rbm.random(7, 3, 0.5, seed=2)
    rbm.save(tmp_path / "m.safetensors")
    back = ebm.Rbm.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(back.W, rbm.W)
    assert isinstance(ebm.load(tmp_path / "m.safetensors"), ebm.Rbm)


@pytest.mark.parametrize(
    "m",
    [
        ebm.Ising.square(4, 4, coupling=0.7, field=0.1),
        ebm.Ising.spin_glass([3, 3], disorder=5),
        ebm.Ising.from_edges(3, np.array([[0, 1], [1, 2]]), np.array([1.0, -2.0])),
        ebm.Potts.square(3, 3, coupling=0.5),
        ebm.Potts.from_edges([2, 3, 4], np.array([[0, 1], [1, 2]]), np.array([1.0, 0.5])),
        ebm.Rbm.random(5, 3, 0.5, seed=1),
        ebm.BoltzmannMachine.random(5, 3, 0.5, seed=1),
    ],
    ids=repr,
)
def test_models_pickle_exactly(m):
    back = pickle.loads(pickle.dumps(m))
    assert type(back) is type(m) and repr(back) == repr(m)
    assert ebm.exact(back, 0.4, moments=False).log_z == ebm.exact(m, 0.4, moments=False).log_z
