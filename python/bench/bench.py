#!/usr/bin/env python3
"""Benchmarks of the Python package, run in one sitting.

1. ebm.BernoulliRBM vs sklearn.neural_network.BernoulliRBM on binarised
   MNIST (784 × 500), the same hyperparameters (scikit-learn's recipe:
   PCD-1 with batch_size chains, lr 0.1, batch 100, no momentum or weight
   cost, random_state 0): seconds per epoch, and the test log-likelihood of
   every model scored by ebm's AIS (scikit-learn's weights loaded through
   ebm.Rbm.from_numpy). Then ebm's own recipe (`ebm train`'s defaults) for
   as many epochs as fit in scikit-learn's wall time.
2. Python overhead over the CLI for the same work (same arguments, seeds):
   sampling, exact enumeration, AIS, one CD-1 training epoch.

Usage: python bench/bench.py [--mnist DIR] [--cli PATH] [--repeats 3] [--quick]
Prints a Markdown summary and writes bench/results.json.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import ebm

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]


def median_time(f, repeats):
    ts = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts, out


def test_ll(rbm, train, test, n_betas, n_runs):
    """ebm's AIS (base rates of the training data) and the mean test
    log-likelihood -F(v) - ln Z with its interval."""
    z = ebm.log_z(rbm, 1.0, n_betas=n_betas, n_runs=n_runs, seed=0, data=train)
    f = -np.mean(rbm.free_energy(test))
    return dict(mean=f - z.log_z, lower=f - z.upper, upper=f - z.lower, log_z=z.log_z, log_z_std_err=z.std_err)


def rbm_part(args, results):
    from sklearn.neural_network import BernoulliRBM as SkRBM

    data = ebm.load_data(f"mnist:{args.mnist}", seed=0)
    train8, test8 = data.train, data.test
    if args.quick:
        train8, test8 = train8[:6000], test8[:2000]
    X64 = train8.astype(np.float64)
    X32 = train8.astype(np.float32)
    hp = dict(n_components=500, learning_rate=0.1, batch_size=100, random_state=0)
    rows = {}

    def sk_fit(X, n_iter):
        return SkRBM(n_iter=n_iter, **hp).fit(X)

    def ebm_fit(n_iter, **kw):
        return ebm.BernoulliRBM(n_iter=n_iter, **{**hp, **kw}).fit(X64)

    sk_fit(X64[:2000], 1)  # warm-up (BLAS threads, imports)
    ebm_fit(1)
    runs = {"sklearn float64": [], "sklearn float32": [], "ebm (sklearn's recipe)": [], "ebm epoch alone": []}
    for _ in range(args.repeats):  # alternate, so the machine's load hits all alike
        for name, f in [
            ("sklearn float64", lambda: sk_fit(X64, 1)),
            ("sklearn float32", lambda: sk_fit(X32, 1)),
            ("ebm (sklearn's recipe)", lambda: ebm_fit(1)),
        ]:
            t0 = time.perf_counter()
            model = f()
            runs[name].append(time.perf_counter() - t0)
            if name.startswith("ebm"):
                runs["ebm epoch alone"].append(model.epoch_seconds_[0])
    for name, ts in runs.items():
        rows[name] = dict(seconds_per_epoch=statistics.median(ts), all=ts)
        print(f"  {name}: {statistics.median(ts):.2f} s/epoch ({', '.join(f'{x:.2f}' for x in ts)})", flush=True)
    # equal epochs, equal hyperparameters: the test log-likelihood
    epochs = args.epochs
    t_sk = time.perf_counter()
    sk = sk_fit(X32, epochs)
    t_sk = time.perf_counter() - t_sk
    t_e = time.perf_counter()
    em = ebm_fit(epochs)
    t_e = time.perf_counter() - t_e
    sk_rbm = ebm.Rbm.from_numpy(
        sk.components_.T.astype(np.float64),
        sk.intercept_visible_.astype(np.float64),
        sk.intercept_hidden_.astype(np.float64),
    )
    ll_sk = test_ll(sk_rbm, train8, test8, args.ais_betas, args.ais_runs)
    ll_e = test_ll(em.to_rbm(), train8, test8, args.ais_betas, args.ais_runs)
    rows["same_hyperparameters"] = dict(
        epochs=epochs, sklearn_float32_seconds=t_sk, ebm_seconds=t_e, sklearn_test_ll=ll_sk, ebm_test_ll=ll_e
    )
    print(f"  {epochs} epochs: sklearn {t_sk:.1f} s, test LL {ll_sk['mean']:.2f} [{ll_sk['lower']:.2f}, {ll_sk['upper']:.2f}]")
    print(f"  {epochs} epochs: ebm     {t_e:.1f} s, test LL {ll_e['mean']:.2f} [{ll_e['lower']:.2f}, {ll_e['upper']:.2f}]", flush=True)
    # ebm's recipe in no more wall time than scikit-learn's run
    t0 = time.perf_counter()
    rec = ebm.BernoulliRBM.ebm_recipe(500, random_state=0, n_iter=1).fit(X64)
    per_epoch = time.perf_counter() - t0
    n_rec = max(1, int(t_sk / per_epoch))
    t0 = time.perf_counter()
    rec = ebm.BernoulliRBM.ebm_recipe(500, random_state=0, n_iter=n_rec).fit(X64)
    t_rec = time.perf_counter() - t0
    ll_rec = test_ll(rec.to_rbm(), train8, test8, args.ais_betas, args.ais_runs)
    rows["ebm_recipe_same_time"] = dict(epochs=n_rec, seconds=t_rec, test_ll=ll_rec)
    print(f"  ebm recipe {n_rec} epochs: {t_rec:.1f} s, test LL {ll_rec['mean']:.2f} [{ll_rec['lower']:.2f}, {ll_rec['upper']:.2f}]", flush=True)
    results["rbm"] = rows


def cli_json(cli, args):
    t0 = time.perf_counter()
    out = subprocess.run([cli, *map(str, args), "--json", "--quiet"], check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    return wall, [json.loads(l) for l in out.splitlines() if l.strip()]


def overhead_part(args, results):
    cli = args.cli
    rows = {}
    work = [
        (
            "sample ising:256x256 metropolis, 2 chains × 2000 sweeps",
            ["sample", "--model", "ising:256x256", "--beta", 0.4406868, "--sampler", "metropolis",
             "--n-chains", 2, "--n-sweeps", 2000, "--seed", 1],
            lambda: ebm.sample(ebm.Ising.square(256, 256), 0.4406868, "metropolis", n_chains=2, n_sweeps=2000, seed=1),
        ),
        (
            "sample ising:64x64 wolff, 4 chains × 5000 sweeps",
            ["sample", "--model", "ising:64x64", "--beta", 0.4406868, "--sampler", "wolff",
             "--n-chains", 4, "--n-sweeps", 5000, "--seed", 1],
            lambda: ebm.sample(ebm.Ising.square(64, 64), 0.4406868, "wolff", n_chains=4, n_sweeps=5000, seed=1),
        ),
        (
            "exact ising:5x5 (2^25 states)",
            ["exact", "--model", "ising:5x5", "--beta", 0.3],
            lambda: ebm.exact(ebm.Ising.square(5, 5), 0.3, moments=False),
        ),
        (
            "logz ising:32x32 AIS 2000 β × 16 runs",
            ["logz", "--model", "ising:32x32", "--beta", 0.4, "--n-betas", 2000, "--n-runs", 16],
            lambda: ebm.log_z(ebm.Ising.square(32, 32), 0.4, n_betas=2000, n_runs=16),
        ),
    ]
    if args.mnist and not args.quick:
        data = ebm.load_data(f"mnist:{args.mnist}", seed=0)
        X = data.train.astype(np.float64)

        epoch_alone = []

        def py_epoch():
            m = ebm.BernoulliRBM.ebm_recipe(500, trainer="cd", k=1, n_iter=1, random_state=0)
            t0 = time.perf_counter()
            m.fit(X)
            epoch_alone.append(m.epoch_seconds_[0])
            return time.perf_counter() - t0

        work.append((
            "train MNIST 784×500 CD-1, 1 epoch (CLI: epoch `seconds`; Python: fit())",
            ["train", "--data", f"mnist:{args.mnist}", "--n-hidden", 500, "--trainer", "cd", "--epochs", 1,
             "--out", "/tmp/ebm-bench-cd.safetensors"],
            py_epoch,
        ))
    for name, cargs, f in work:
        cli_t, py_t, cli_inner = [], [], []
        for _ in range(args.repeats):  # alternate, so load changes hit both
            wall, lines = cli_json(cli, cargs)
            inner = lines[-1].get("seconds")
            cli_t.append(wall)
            cli_inner.append(inner)
            t0 = time.perf_counter()
            r = f()
            py_t.append(r if isinstance(r, float) else time.perf_counter() - t0)
        if name.startswith("train"):
            ref = statistics.median(cli_inner)  # the epoch alone, as Python's fit()
            ref_name = "CLI epoch seconds"
        else:
            ref = statistics.median(cli_t)
            ref_name = "CLI process wall time"
        py = statistics.median(py_t)
        rows[name] = dict(cli=ref, cli_kind=ref_name, cli_all=cli_t, cli_inner=cli_inner, python=py,
                          python_all=py_t, overhead=py / ref - 1)
        if name.startswith("train"):
            e = statistics.median(epoch_alone)
            rows[name].update(python_epoch_alone=e, python_epoch_alone_all=list(epoch_alone), overhead_epoch_alone=e / ref - 1)
            print(f"    (Python's epoch alone {e:.3f} s: {100 * (e / ref - 1):+.1f}%; fit() adds validation and binarisation)")
        print(f"  {name}: CLI {ref:.3f} s ({ref_name}), Python {py:.3f} s, overhead {100 * (py / ref - 1):+.1f}%", flush=True)
    results["overhead"] = rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", default=os.environ.get("EBM_MNIST_DIR", str(REPO.parent / "shared" / "data" / "mnist")))
    ap.add_argument("--cli", default=os.environ.get("EBM_CLI", str(REPO / "target" / "release" / "ebm")))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--ais-betas", type=int, default=5000)
    ap.add_argument("--ais-runs", type=int, default=32)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-rbm", action="store_true")
    args = ap.parse_args()
    results = dict(
        date=time.strftime("%Y-%m-%d %H:%M"),
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        ebm_threads=ebm.num_threads(),
        python=sys.version.split()[0],
        numpy=np.__version__,
        args=vars(args),
    )
    try:
        import sklearn

        results["sklearn"] = sklearn.__version__
    except ImportError:
        pass
    if not args.skip_rbm:
        if pathlib.Path(args.mnist).is_dir():
            print("RBM 784×500 on MNIST, ebm.BernoulliRBM vs sklearn.neural_network.BernoulliRBM", flush=True)
            rbm_part(args, results)
        else:
            print(f"no MNIST at {args.mnist}: the RBM comparison is skipped")
    if pathlib.Path(args.cli).is_file():
        print("Python overhead over the CLI, the same work", flush=True)
        overhead_part(args, results)
    else:
        print(f"no CLI at {args.cli} (cargo build --release -p ebm-cli): the overhead part is skipped")
    (HERE / "results.json").write_text(json.dumps(results, indent=1))
    print(f"written {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
