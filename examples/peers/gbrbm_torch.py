#!/usr/bin/env python3
"""PyTorch (CPU) Gaussian-Bernoulli RBM, 784 x 500, CD-1: the peer of
`ebm train --model gbrbm --data mnist-real:DIR --trainer cd --k 1`.

Recipe (it must match ebm's, so that epoch times compare):

  Data : MNIST training images as float intensities x/255 (60000 x 784),
         standardised per pixel: z = (x - mean_i) / max(std_i, 0.1), mean and
         std (population, ddof=0) over the 60000 training images.
  Model: 784 visible (Gaussian) x 500 hidden (Bernoulli), energy
           E(v,h) = sum_i (v_i - b_i)^2 / (2 s_i^2) - sum_ij (v_i / s_i^2) W_ij h_j
                    - sum_j c_j h_j
         with learned log-variances z_i = ln s_i^2 (Cho, Ilin & Raiko 2011).
         Init W ~ 0.01*N(0,1), b = 0, c = 0, z = 0. float32.
  CD-1 : per minibatch of 100 (fresh shuffle each epoch, 600 minibatches):
           p0 = sigmoid(c + (v0/s^2) W);  h0 ~ Bernoulli(p0)
           v1 ~ N(b + W h0, s^2)          (a sample, not the mean)
           p1 = sigmoid(c + (v1/s^2) W)
         Gradient = mean over the batch of the statistic at (v0, p0) minus the
         same at (v1, p1), all four at the current (old) parameters:
           dW_ij = v_i p_j / s_i^2
           db_i  = (v_i - b_i) / s_i^2
           dc_j  = p_j
           dz_i  = e^{-z_i} ((v_i - b_i)^2 / 2 - v_i sum_j W_ij p_j)
         Plain SGD theta += lr * grad, lr = 0.001 for all four; no momentum,
         no weight decay.
         Five GEMMs of 100x784x500 per minibatch, as a Bernoulli RBM's CD-1:
         the sum_j W_ij p_j term of dz is not a sixth and seventh GEMM but is
         taken from the dW accumulators, using
           sum_n v_ni sum_j W_ij p_nj = e^{z_i} sum_j W_ij G_ij,  G = (v/s^2)^T p,
         which is the same quantity (exactly, up to float rounding).

Per thread count (torch.set_num_threads, as rbm_torch.py): one warm-up of 30
minibatches, then `--repeats` independent 1-epoch runs from the same seeded
init (and the same seeded shuffle/sampling stream). Reports seconds/epoch
(median, min) and, outside the timed region, the mean squared error of the
deterministic mean-field reconstruction v -> p(h|v) -> E[v|h] = b + W p on the
first 10000 training images in standardised units, both for the untrained init
and after the epoch, plus the learned s = sqrt(e^z) range.

Imports peerlib from $PEERS_DIR (default /work/shared/peers, else
../../../shared/peers relative to this file) for the MNIST IDX reader, the
JSON emit, machine info and the OPENBLAS_* env handling. MNIST is found the
way peerlib finds it ($PEERS_MNIST_DIR, default shared/data/mnist).

Usage: gbrbm_torch.py [--threads 1,2] [--repeats 3] [--lr 0.001] [--seed 42]
Prints one JSON line on stdout (logs go to stderr).
"""
import argparse
import os
import sys
import time


def _peers_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (os.environ.get("PEERS_DIR"), "/work/shared/peers",
              os.path.join(here, "..", "..", "..", "shared", "peers")):
        if d and os.path.isfile(os.path.join(d, "peerlib.py")):
            return os.path.abspath(d)
    sys.stderr.write("gbrbm_torch: peerlib.py not found; set PEERS_DIR to the shared peers folder\n")
    sys.exit(2)


sys.path.insert(0, _peers_dir())
import peerlib  # noqa: E402

peerlib.drop_openblas_env_and_reexec()

import numpy as np  # noqa: E402

try:
    import torch  # noqa: E402
except Exception as e:  # record why and stop
    peerlib.emit({"bench": "gbrbm_torch", "timestamp": peerlib.now_iso(), "error": f"torch import failed: {e!r}"})
    sys.exit(0)

N_VIS, N_HID, BATCH = 784, 500, 100
STD_FLOOR = 0.1
N_EVAL = 10000


def load_standardised_mnist():
    """MNIST train images x/255, standardised per pixel (ddof=0, std floored at 0.1)."""
    path = peerlib.find_mnist_train_images()
    if path is None:
        raise FileNotFoundError(f"no train-images-idx3-ubyte[.gz] under {peerlib.MNIST_DIR}")
    imgs = peerlib._read_idx(path)
    x = imgs.reshape(imgs.shape[0], -1).astype(np.float64) / 255.0
    mean = x.mean(axis=0)
    std = x.std(axis=0)  # population (ddof=0)
    X = ((x - mean) / np.maximum(std, STD_FLOOR)).astype(np.float32)
    info = {"source": "mnist", "path": path, "n": int(X.shape[0]), "d": int(X.shape[1]),
            "transform": "x/255, (x - mean_i)/max(std_i, 0.1), population std over the 60000 training images",
            "pixels_at_std_floor": int((std < STD_FLOOR).sum()),
            "standardised_mean": float(X.mean(dtype=np.float64)),
            "standardised_var": float(X.var(dtype=np.float64))}
    return X, info


class Params:
    def __init__(self, seed, dtype=torch.float32):
        g = torch.Generator().manual_seed(seed)
        self.W = 0.01 * torch.randn(N_VIS, N_HID, generator=g, dtype=dtype)
        self.b = torch.zeros(N_VIS, dtype=dtype)   # visible means
        self.c = torch.zeros(N_HID, dtype=dtype)   # hidden biases
        self.z = torch.zeros(N_VIS, dtype=dtype)   # log-variances ln s^2


@torch.inference_mode()
def train_epoch(X, p, gen, lr, max_batches=None):
    n = X.shape[0]
    nb = n // BATCH
    if max_batches is not None:
        nb = min(nb, max_batches)
    perm = torch.randperm(n, generator=gen)
    W, b, c, z = p.W, p.b, p.c, p.z
    a = lr / BATCH
    for k in range(nb):
        v0 = X.index_select(0, perm[k * BATCH:(k + 1) * BATCH])
        inv_var = torch.exp(-z)                       # 1/s^2
        sd = torch.exp(0.5 * z)                       # s
        vs0 = v0 * inv_var
        p0 = torch.sigmoid(torch.addmm(c, vs0, W))                            # GEMM 1
        h0 = (torch.rand(p0.shape, generator=gen) < p0).to(p0.dtype)
        v1 = torch.addmm(b, h0, W.t()).addcmul_(                               # GEMM 2
            torch.randn(v0.shape, generator=gen), sd)
        vs1 = v1 * inv_var
        p1 = torch.sigmoid(torch.addmm(c, vs1, W))                            # GEMM 3
        # sum over the batch of (v/s^2)^T p, positive minus negative
        G = torch.mm(vs0.t(), p0).addmm_(vs1.t(), p1, alpha=-1.0)              # GEMMs 4, 5
        # all four gradients at the old parameters, then the updates
        d0 = v0 - b
        d1 = v1 - b
        db = (d0.sum(0) - d1.sum(0)) * inv_var
        dc = p0.sum(0) - p1.sum(0)
        # e^{-z_i} sum_n ((v-b)^2/2) minus sum_n v_i sum_j W_ij p_j (= sum_j W_ij G_ij, see docstring)
        dz = (d0.pow(2).sum(0) - d1.pow(2).sum(0)).mul_(0.5 * inv_var) - (W * G).sum(1)
        W.add_(G, alpha=a)
        b.add_(db, alpha=a)
        c.add_(dc, alpha=a)
        z.add_(dz, alpha=a)
    return nb


@torch.inference_mode()
def recon_mse(X, W, b, c, z):
    """Mean-field reconstruction error on X (standardised units), float64 accumulation."""
    W = torch.as_tensor(W); b = torch.as_tensor(b); c = torch.as_tensor(c); z = torch.as_tensor(z)
    ph = torch.sigmoid(torch.addmm(c, X * torch.exp(-z), W))
    r = torch.addmm(b, ph, W.t())
    return float((X - r).double().pow(2).mean())


def sigma_range(z):
    s = np.sqrt(np.exp(np.asarray(z, dtype=np.float64)))
    return {"min": float(s.min()), "median": float(np.median(s)), "max": float(s.max())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep-openblas-env", action="store_true")
    args = ap.parse_args()

    try:
        X_np, data_info = load_standardised_mnist()
    except Exception as e:
        peerlib.emit({"bench": "gbrbm_torch", "timestamp": peerlib.now_iso(), "error": f"MNIST load failed: {e!r}"})
        return 0
    X = torch.from_numpy(X_np)
    X_eval = X[:N_EVAL]
    torch.manual_seed(args.seed)

    p_init = Params(args.seed)
    untrained = recon_mse(X_eval, p_init.W, p_init.b, p_init.c, p_init.z)
    peerlib.log(f"torch gbrbm untrained: recon={untrained:.5f}")

    runs = []
    for th in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(th)
        # warm-up (allocator, MKL/OpenMP thread pools)
        train_epoch(X, Params(args.seed), torch.Generator().manual_seed(1), args.lr, max_batches=30)
        times, params = [], []
        for r in range(args.repeats):
            p = Params(args.seed)
            gen = torch.Generator().manual_seed(args.seed + 1)
            t0 = time.perf_counter()
            nb = train_epoch(X, p, gen, args.lr)
            dt = time.perf_counter() - t0
            times.append(dt)
            params.append((p.W.clone(), p.b.clone(), p.c.clone(), p.z.clone()))
            peerlib.log(f"torch gbrbm cd1 t={th} rep{r}: {dt:.3f} s/epoch")
        # quality after the timed epochs (kept out of the timed region)
        quals = []
        for W, b, c, z in params:
            quals.append({
                "recon_mse_meanfield_first10k": recon_mse(X_eval, W, b, c, z),
                "sigma": sigma_range(z.numpy()),
                "finite": bool(all(torch.isfinite(t).all() for t in (W, b, c, z))),
            })
        peerlib.log(f"torch gbrbm cd1 t={th}: recon={quals[0]['recon_mse_meanfield_first10k']:.5f} "
                    f"sigma=[{quals[0]['sigma']['min']:.4f}, {quals[0]['sigma']['max']:.4f}]")
        st = peerlib.summarize(times)
        runs.append({
            "method": "cd1", "threads": th, "batches": nb,
            "sec_per_epoch": st,
            "samples_per_sec_median": nb * BATCH / st["median"],
            "quality_after_1_epoch": quals[0],
            "quality_spread": {"recon_mse_meanfield_first10k": [q["recon_mse_meanfield_first10k"] for q in quals]},
        })

    peerlib.emit({
        "bench": "gbrbm_torch",
        "timestamp": peerlib.now_iso(),
        "versions": peerlib.versions("torch", "numpy"),
        "torch_build": {
            "mkl_available": torch.backends.mkl.is_available(),
            "cuda_build": torch.version.cuda,
            "cuda_available_here": torch.cuda.is_available(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "parallel_backend": [l.strip() for l in torch.__config__.parallel_info().splitlines() if "backend" in l],
        },
        "openblas_env": peerlib.openblas_env_note(),
        "machine": peerlib.machine_info(),
        "data": data_info,
        "config": {"model": "gbrbm", "n_visible": N_VIS, "n_hidden": N_HID, "batch": BATCH,
                   "trainer": "cd", "k": 1, "lr": args.lr, "momentum": 0.0, "weight_decay": 0.0,
                   "init": "W~0.01*N(0,1), b=0, c=0, z=ln s^2=0", "dtype": "float32",
                   "negative_visible": "sample from N(b + W h0, s^2)",
                   "eval": f"mean-field recon MSE on the first {N_EVAL} training images, standardised units",
                   "seed": args.seed, "repeats": args.repeats},
        "recon_mse_untrained_first10k": untrained,
        "runs": runs,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
