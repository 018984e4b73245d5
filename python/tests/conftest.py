"""Shared fixtures: the CLI binary for the bit-identity tests."""

import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _cli_path():
    env = os.environ.get("EBM_CLI")
    if env:
        return pathlib.Path(env)
    for target in (os.environ.get("CARGO_TARGET_DIR"), REPO / "target"):
        if target:
            p = pathlib.Path(target) / "release" / "ebm"
            if p.is_file():
                return p
    return None


@pytest.fixture(scope="session")
def cli():
    """Runs `ebm ARGS --json --quiet` and returns the parsed JSON (the last
    line for JSON lines). Skips when no built CLI is found (set EBM_CLI or
    build with `cargo build --release -p ebm-cli`)."""
    path = _cli_path()
    if path is None:
        pytest.skip("no ebm binary (set EBM_CLI or run `cargo build --release -p ebm-cli`)")

    def run(*args, lines=False):
        out = subprocess.run(
            [str(path), *map(str, args), "--json", "--quiet"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows = [json.loads(l) for l in out.splitlines() if l.strip()]
        return rows if lines else rows[-1]

    return run


MNIST = pathlib.Path(os.environ.get("EBM_MNIST_DIR", REPO.parent / "shared" / "data" / "mnist"))
