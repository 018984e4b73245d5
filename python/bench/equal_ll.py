#!/usr/bin/env python3
"""Time to equal test log-likelihood: scikit-learn's BernoulliRBM (float32,
its recipe: PCD-1, lr 0.1, batch 100, no momentum) trained for 1, 2, 4, 8
and 16 epochs, against ebm.BernoulliRBM with the same hyperparameters and
with ebm's default recipe (ebm_recipe: centred PCD-10), 1 and 2 epochs;
every model scored by ebm's AIS (5000 β × 32 runs, base rates of the
training data; scikit-learn's weights through ebm.Rbm.from_numpy).

Usage: python bench/equal_ll.py [MNIST_DIR]   (writes bench/equal_ll.json)
"""
import json, pathlib, sys, time

import numpy as np

import ebm
from sklearn.neural_network import BernoulliRBM as Sk
HERE = pathlib.Path(__file__).resolve().parent
mnist = sys.argv[1] if len(sys.argv) > 1 else str(HERE.parents[2] / "shared" / "data" / "mnist")
d = ebm.load_data(f"mnist:{mnist}", seed=0)
train, test = d.train, d.test
X64 = train.astype(np.float64); X32 = train.astype(np.float32)
def ll(rbm):
    z = ebm.log_z(rbm, 1.0, n_betas=5000, n_runs=32, seed=0, data=train)
    f = -np.mean(rbm.free_energy(test))
    return float(round(f - z.log_z, 2)), float(round(f - z.upper, 2)), float(round(f - z.lower, 2))
hp = dict(n_components=500, learning_rate=0.1, batch_size=100, random_state=0)
Sk(n_iter=1, **hp).fit(X32[:2000])
out = {}
for n in [1, 2, 4, 8, 16]:
    t = time.perf_counter(); sk = Sk(n_iter=n, **hp).fit(X32); dt = time.perf_counter() - t
    r = ebm.Rbm.from_numpy(sk.components_.T.astype(np.float64), sk.intercept_visible_.astype(np.float64), sk.intercept_hidden_.astype(np.float64))
    out[f"sklearn f32 {n} epochs"] = (round(dt, 2), ll(r)); print(f"sklearn f32 {n} epochs", out[f"sklearn f32 {n} epochs"], flush=True)
for n in [1, 2]:
    t = time.perf_counter(); m = ebm.BernoulliRBM(n_iter=n, **hp).fit(X64); dt = time.perf_counter() - t
    out[f"ebm sklearn-recipe {n} epochs"] = (round(dt, 2), ll(m.to_rbm())); print(f"ebm same hp {n}", out[f"ebm sklearn-recipe {n} epochs"], flush=True)
for n in [1, 2]:
    t = time.perf_counter(); m = ebm.BernoulliRBM.ebm_recipe(500, random_state=0, n_iter=n).fit(X64); dt = time.perf_counter() - t
    out[f"ebm recipe {n} epochs"] = (round(dt, 2), ll(m.to_rbm())); print(f"ebm recipe {n}", out[f"ebm recipe {n} epochs"], flush=True)
json.dump(out, open(HERE / "equal_ll.json", "w"), indent=1)
