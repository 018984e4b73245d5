#!/usr/bin/env bash
# The Python package from this checkout: a fresh virtual environment, the
# one install command of the README (`pip install ./python`: maturin builds
# the Rust extension), the test dependencies, then pytest.
#
# EBM_CLI (or target/release/ebm, which `cargo test --workspace --release`
# builds) enables the bit-identity tests against the command line; without
# it they are skipped. CARGO_TARGET_DIR is honoured (default python/target).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
cargo fmt --manifest-path python/Cargo.toml -- --check

venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
t0=$(date +%s)
"$venv/bin/pip" install --quiet --disable-pip-version-check ./python
t1=$(date +%s)
echo "python: pip install ./python took $((t1 - t0)) s"
"$venv/bin/pip" install --quiet --disable-pip-version-check pytest numpy scikit-learn
cd "$here"
"$venv/bin/python" -m pytest -q tests
echo "python: tests took $(($(date +%s) - t1)) s (with the test dependencies)"
