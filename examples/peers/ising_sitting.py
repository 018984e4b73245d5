#!/usr/bin/env python3
"""One same-sitting comparison of `ebm sample` with numba's fastest Ising kernel.

Runs `ising_numba.py` (cb_simd_prange, L = 256/512/1024, T = 2.269, 1 and 2
threads, 3 repeats) from the shared peers, then ROUNDS rounds of

    ebm sample --model ising:LxL --beta 0.4406868 --sampler S --n-chains 1
               --n-sweeps N --json          (RAYON_NUM_THREADS = 1, then 2)

for S in metropolis and block-gibbs (N = 20000 / 3000 / 300 for L = 256 /
512 / 1024), then numba again, and prints a Markdown table: ebm's ns per
attempt inside the sweeps (`ns_per_attempt`, ranges over the rounds), the
1 -> 2 thread scaling per round, numba's medians from its two runs, and the
ranges of ebm / numba; then a second table of the runs' wall time of the production
sweeps (`production_seconds`: sweeps and the observables recorded after each).

    # from the repository root, after `cargo build --release -p ebm-cli`
    python3 examples/peers/ising_sitting.py target/release/ebm 3

`PEERS_DIR` (default /work/shared/peers) and `PEERS_VENV` (default
~/.cache/ebm-peers-venv) say where the numba script and its venv are.
"""
import json
import os
import subprocess
import sys
import time

SIZES = (256, 512, 1024)
SWEEPS = {256: 20000, 512: 3000, 1024: 300}
SAMPLERS = ('metropolis', 'block-gibbs')


def numba():
    peers = os.environ.get('PEERS_DIR', '/work/shared/peers')
    python = os.path.join(os.path.expanduser(os.environ.get('PEERS_VENV', '~/.cache/ebm-peers-venv')), 'bin', 'python')
    out = subprocess.run([python, 'ising_numba.py', '--sizes', ','.join(map(str, SIZES)), '--temps', '2.269',
                          '--variants', 'cb_simd_prange', '--threads', '1,2', '--repeats', '3'],
                         cwd=peers, capture_output=True, text=True, check=True)
    res = {}
    for line in out.stdout.splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        for c in d.get('cases', []):
            res[(c['L'], c['threads'])] = c['ns_per_attempt']['median']
    return res


def ebm(binary, size, sampler, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([binary, 'sample', '--model', f'ising:{size}x{size}', '--beta', '0.4406868',
                          '--sampler', sampler, '--n-chains', '1', '--n-sweeps', str(SWEEPS[size]), '--json'],
                         capture_output=True, text=True, env=env, check=True)
    d = json.loads(out.stdout)
    return d['ns_per_attempt'], d['production_seconds']


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else 'target/release/ebm'
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print('numba run 1 at', time.strftime('%Y-%m-%d %H:%M:%S'), flush=True)
    n1 = numba()
    runs = {}
    for _ in range(rounds):
        for size in SIZES:
            for sampler in SAMPLERS:
                for threads in (1, 2):
                    runs.setdefault((size, sampler, threads), []).append(ebm(binary, size, sampler, threads))
    n2 = numba()
    print('numba run 2 ended at', time.strftime('%H:%M:%S'))
    print('| L | sampler | ebm 1 thread | ebm 2 threads | scaling (per round) | numba 1 / 2 threads | ratio 1 / 2 threads |')
    print('|---|---|---|---|---|---|---|')
    for size in SIZES:
        for sampler in SAMPLERS:
            a = [r[0] for r in runs[(size, sampler, 1)]]
            b = [r[0] for r in runs[(size, sampler, 2)]]
            scaling = [x / y for x, y in zip(a, b)]
            p1 = sorted([n1[(size, 1)], n2[(size, 1)]])
            p2 = sorted([n1[(size, 2)], n2[(size, 2)]])
            print(f'| {size} | {sampler} | {min(a):.3f}–{max(a):.3f} | {min(b):.3f}–{max(b):.3f} '
                  f'| {min(scaling):.2f}–{max(scaling):.2f}× ({" ".join(f"{x:.2f}" for x in scaling)}) '
                  f'| {p1[0]:.3f}–{p1[1]:.3f} / {p2[0]:.3f}–{p2[1]:.3f} '
                  f'| {min(a) / p1[1]:.2f}–{max(a) / p1[0]:.2f} / {min(b) / p2[1]:.2f}–{max(b) / p2[0]:.2f} |')
    print()
    print('| L | sampler | production_seconds, 1 thread | 2 threads |')
    print('|---|---|---|---|')
    for size in SIZES:
        for sampler in SAMPLERS:
            a = [r[1] for r in runs[(size, sampler, 1)]]
            b = [r[1] for r in runs[(size, sampler, 2)]]
            print(f'| {size} | {sampler} | {min(a):.3f}–{max(a):.3f} s | {min(b):.3f}–{max(b):.3f} s |')


if __name__ == '__main__':
    main()
