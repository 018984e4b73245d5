"""Ctrl-C stops long calls promptly (KeyboardInterrupt)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent(
    """
    import signal, sys, time, ebm, numpy as np
    # a shell may start background jobs with SIGINT ignored: restore the
    # interactive default (Python raises KeyboardInterrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    what = sys.argv[1]
    print("ready", flush=True)
    t0 = time.perf_counter()
    try:
        if what == "sample":
            ebm.sample(ebm.Ising.square(256, 256), 0.44, "metropolis", n_chains=2, n_sweeps=10**6)
        elif what == "fit":
            X = (np.random.default_rng(0).random((20000, 200)) < 0.3).astype(float)
            m = ebm.BernoulliRBM(200, n_iter=10**4, batch_size=100)
            try:
                m.fit(X)
            finally:
                # the model is usable after the interrupt
                assert m.transform(X[:2]).shape == (2, 200)
        else:
            ebm.log_z(ebm.Ising.square(64, 64), 0.44, n_betas=10**6, n_runs=2)
    except KeyboardInterrupt:
        print("interrupted after %.2f s" % (time.perf_counter() - t0), flush=True)
        sys.exit(0)
    sys.exit(3)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
@pytest.mark.parametrize("what", ["sample", "fit", "logz"])
def test_ctrl_c(what):
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, what], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=30)
    finally:
        p.kill()
    dt = time.perf_counter() - t0
    assert p.returncode == 0, out
    assert "interrupted" in out
    assert dt < 5.0, dt
