"""Same numbers as the Rust CLI: for the same arguments and seed, the
Python results equal `ebm ... --json` bit for bit (every key the CLI
prints, timings aside)."""

import numpy as np
import pytest

import ebm

TIMINGS = {"seconds", "production_seconds", "sweep_seconds", "ns_per_attempt", "monitor_seconds", "ais_seconds"}


def same(py: dict, cli: dict):
    plain = ebm.Result(py).to_json()
    for k, v in cli.items():
        if k in TIMINGS:
            continue
        assert k in plain, k
        assert plain[k] == v, (k, plain[k], v)
    # what the CLI leaves out (skip_serializing_if) is None here
    for k, v in plain.items():
        if k not in cli and k not in ("moments", "states", "final_states", "traces", "energy_variance", "min_energy"):
            assert v is None, (k, v)


@pytest.mark.parametrize(
    "spec,beta,extra",
    [
        ("ising:4x4", 0.3, []),
        ("ising:3x3:open", 0.7, ["--coupling", "-1", "--field", "0.25"]),
        ("potts:3:3x3", 1.0, []),
        ("glass:4x4:gauss:disorder=2", 1.5, []),
    ],
)
def test_exact(cli, spec, beta, extra):
    c = cli("exact", "--model", spec, "--beta", beta, *extra)
    j = float(extra[1]) if extra else 1.0
    h = float(extra[3]) if extra else 0.0
    same(ebm.exact(ebm.model(spec, j, h), beta), c)


@pytest.mark.parametrize(
    "spec,beta,sampler",
    [
        ("ising:8x8", 0.3, "block-gibbs"),
        ("ising:8x8", 0.44, "metropolis"),
        ("ising:16x16", 0.4406868, "wolff"),
        ("ising:8x8", 0.44, "swendsen-wang"),
        ("ising:6x6", 0.44, "tempering"),
        ("ising:5x5:open", 0.3, "gibbs"),
        ("potts:3:8x8", 1.0, "wolff"),
        ("potts:3:8x8", 1.0, "block-gibbs"),
        ("glass:4x4", 1.0, "metropolis-random"),
    ],
)
def test_sample(cli, spec, beta, sampler):
    args = dict(n_chains=3, n_sweeps=500, n_warmup=200, seed=11)
    c = cli("sample", "--model", spec, "--beta", beta, "--sampler", sampler,
            "--n-chains", 3, "--n-sweeps", 500, "--n-warmup", 200, "--seed", 11)
    same(ebm.sample(ebm.model(spec), beta, sampler, **args), c)


@pytest.mark.parametrize("method", ["ais", "ti"])
def test_logz(cli, method):
    c = cli("logz", "--model", "ising:4x4", "--beta", 0.4, "--method", method,
            "--n-betas", 200, "--n-runs", 16, "--seed", 2)
    same(ebm.log_z(ebm.Ising.square(4, 4), 0.4, method, n_betas=200, n_runs=16, seed=2), c)


def test_train_and_eval(cli, tmp_path):
    """`ebm train` and ebm.BernoulliRBM with the CLI's recipe train the same
    model; `ebm eval` and `ebm logz` on the saved file agree with Python."""
    seed, out = 3, tmp_path / "bas.safetensors"
    # BernoulliRBM.ebm_recipe is the CLI's default recipe (centred PCD-10)
    lines = cli("train", "--data", "default", "--n-hidden", 16, "--epochs", 2, "--seed", seed,
                "--out", out, lines=True)
    data = ebm.load_data("default", seed=seed)
    est = ebm.BernoulliRBM.ebm_recipe(16, n_iter=2, random_state=seed).fit(data.train)
    assert est._trainer.n_steps == lines[-1]["steps"]
    mon = est.monitors(data.train, data.test)
    for k, v in mon.items():
        assert lines[-1][k] == v, (k, lines[-1][k], v)
    saved = ebm.Rbm.load(out)
    np.testing.assert_array_equal(saved.W, est.components_.T)
    # the file the Python estimator writes is the CLI's model
    est.save(tmp_path / "py.safetensors")
    np.testing.assert_array_equal(ebm.Rbm.load(tmp_path / "py.safetensors").W, saved.W)
    ev = cli("eval", "--model", out, "--data", "default", "--ais-betas", 500, "--ais-runs", 16, "--seed", seed)
    r = ebm.log_z(saved, 1.0, n_betas=500, n_runs=16, seed=seed, data=data.train)
    assert (r.log_z, r.std_err, r.lower, r.upper) == (ev["log_z"], ev["log_z_std_err"], ev["log_z_lower"], ev["log_z_upper"])
    assert ev["exact_log_z"] == est.log_likelihood(data.test).log_z
    # and PCD-1 with Hinton's momentum, not centred, through the flags
    lines = cli("train", "--data", "default", "--n-hidden", 16, "--epochs", 2, "--seed", seed,
                "--k", 1, "--centring", 0, "--momentum", "0.5:0.9:5", "--out", tmp_path / "p1.safetensors",
                lines=True)
    est = ebm.BernoulliRBM.ebm_recipe(16, n_iter=2, random_state=seed, k=1, centring=0.0,
                                      momentum="hinton").fit(data.train)
    mon = est.monitors(data.train, data.test)
    for k, v in mon.items():
        assert lines[-1][k] == v, (k, lines[-1][k], v)
    lz = cli("logz", "--model", out, "--beta", 1, "--n-betas", 300, "--n-runs", 8, "--seed", 1)
    same(ebm.log_z(saved, 1.0, n_betas=300, n_runs=8, seed=1), {**lz, "model": None})
