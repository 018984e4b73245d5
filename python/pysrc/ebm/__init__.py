"""ebm: energy-based models whose statistical mechanics composes.

Thin bindings over the Rust crates of ebm (NumPy in and out). Every number
comes from the same library calls as the ``ebm`` command line, with the same
seeds, so ``ebm.exact``, ``ebm.sample`` and ``ebm.log_z`` give bit for bit
the numbers of ``ebm exact|sample|logz --json``::

    >>> import ebm
    >>> round(ebm.exact(ebm.Ising.square(4, 4), beta=0.3).log_z, 9)
    12.785523326
    >>> r = ebm.sample(ebm.Ising.square(8, 8), beta=0.3, sampler="wolff", seed=1)
    >>> r.energy_per_unit.std_err < 0.01
    True

Arrays: states are int8 (±1 spins, 0/1 bits) or uint8 (Potts values),
parameters float64. Inputs are never converted silently: a wrong dtype is a
``TypeError``, a wrong shape a ``ValueError``; states and data must be
C-contiguous (parameters may have any layout, they are copied once).

Long calls release the GIL and honour Ctrl-C (``KeyboardInterrupt``).
ebm's errors become ``ValueError`` (bad values, shapes, malformed files),
``OSError`` (files), ``FloatingPointError`` (a diverged training step).
"""

from __future__ import annotations

from typing import Optional

from . import _ebm
from ._ebm import (
    BoltzmannMachine,
    Ising,
    Potts,
    Rbm,
    load,
    load_mnist_images,
    num_threads,
)
from ._result import Measured, Result, wrap
from ._sklearn import BernoulliRBM

__version__ = _ebm.__version__

__all__ = [
    "BernoulliRBM",
    "BoltzmannMachine",
    "Ising",
    "Measured",
    "Potts",
    "Rbm",
    "Result",
    "exact",
    "load",
    "load_data",
    "load_mnist_images",
    "log_z",
    "model",
    "num_threads",
    "sample",
]

# the names `ebm sample --sampler` takes (ebm_run::sample::SAMPLERS), and
# the short name of Swendsen–Wang
SAMPLERS = tuple(_ebm.SAMPLERS) + ("sw",)


def model(spec: str, coupling: float = 1.0, field: float = 0.0):
    """The model of a command-line spec, as ``ebm ... --model SPEC``:
    ``ising:L``, ``ising:LxM``, ``ising:LxMxK``, ``potts:Q:LxM`` (add
    ``:open``), ``glass:LxM[:gauss][:open][:disorder=N]``, or a saved
    ``.safetensors`` model file."""
    return _ebm.model(spec, coupling, field)


def load_data(spec: str, seed: int = 0, binarize: Optional[str] = None) -> Result:
    """A data set exactly as ``ebm train --data SPEC --binarize B`` loads it:
    ``default`` (procedural 10×10 digits), ``bars-and-stripes:N``,
    ``mnist:DIR`` or ``fashion:DIR``. Images become bits by ``binarize``
    (``"stochastic[:SEED]"`` or ``"threshold[:T]"``, as the CLI's flag), by
    default stochastically from ``seed`` (Salakhutdinov & Murray; the CLI's
    default is ``stochastic:0``). A :class:`Result` with int8 (rows, width)
    arrays ``train`` and ``test``, ``name``, ``image_shape`` and, for
    (Fashion-)MNIST, ``labels``."""
    return wrap(_ebm.load_data(spec, seed, binarize))


def exact(model, beta: float, *, moments: bool = True) -> Result:
    """Exact thermodynamics by enumeration of every state (``ebm exact``).

    Returns a :class:`Result` with ``log_z``, ``free_energy`` (F = −T ln Z),
    ``mean_energy`` (U), ``entropy`` (S = β(U − F)), ``heat_capacity``
    (C = β² Var E), their ``*_per_unit`` values, ``n_states``,
    ``energy_variance``, ``min_energy`` and, for binary models of at most 24
    units (``moments=True``), ``moments.mean`` (⟨x_i⟩) and ``moments.pair``
    (⟨x_i x_j⟩). At most 2^32 states (32 binary units).
    """
    return wrap(_ebm.exact(model, beta, moments))


def sample(
    model,
    beta: float,
    sampler: str = "block-gibbs",
    *,
    n_chains: int = 4,
    n_sweeps: int = 2000,
    n_warmup: int = 200,
    n_replicas: int = 8,
    beta_min: Optional[float] = None,
    seed: int = 0,
    return_states: bool = False,
    states_every: int = 1,
) -> Result:
    """Markov chains with error bars (``ebm sample``; same defaults).

    ``sampler`` is one of ``gibbs`` (sequential heat bath), ``block-gibbs``,
    ``metropolis`` (block scan; both run the checkerboard kernel on a
    uniform periodic lattice), ``metropolis-random``, ``tempering`` (parallel
    tempering over block Gibbs, ``n_replicas`` rungs from ``beta_min``,
    default 0.3 β), ``wolff`` and ``swendsen-wang`` (``sw``; Ising and Potts
    models).

    The :class:`Result` holds what ``ebm sample --json`` prints, bit for bit
    for the same arguments and seed: ``energy_per_unit``,
    ``order_parameter`` (and ``abs_magnetization`` for binary units),
    ``magnetization_sq``, ``magnetization_4``, ``binder``,
    ``susceptibility``, ``susceptibility_full``, ``heat_capacity_per_unit``,
    ``correlation_length`` (lattices), each a :class:`Measured` with a
    block-jackknife error; ``tau_int``, ``ess``, ``r_hat`` of the energy;
    ``per_chain``; timings. Besides: ``final_states`` (n_chains, n_units),
    ``traces.energy_per_unit`` and ``traces.order_parameter`` (n_chains,
    n_sweeps), and with ``return_states=True`` ``states`` of shape
    (n_chains, ⌈n_sweeps/states_every⌉, n_units) — every ``states_every``-th
    recorded sweep (int8 or uint8; mind the memory).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)} (got {sampler!r})")
    if return_states and states_every < 1:
        raise ValueError("states_every must be at least 1")
    every = states_every if return_states else 0
    return wrap(
        _ebm.sample(
            model,
            beta,
            sampler,
            n_chains,
            n_sweeps,
            n_warmup,
            n_replicas,
            beta_min,
            seed,
            every,
        )
    )


def log_z(
    model,
    beta: float,
    method: str = "ais",
    *,
    n_betas: int = 1000,
    n_runs: int = 64,
    seed: int = 0,
    data=None,
) -> Result:
    """ln Z with an interval (``ebm logz``; same defaults).

    ``method="ais"``: annealed importance sampling from the uniform
    distribution over ``n_betas`` linearly spaced β with block Gibbs, or for
    an :class:`Rbm` at β = 1 the RBM's own path (hidden units summed, the
    standard schedule scaled to ``n_betas``; ``data``, int8 rows, sets the
    base rates of Salakhutdinov & Murray). ``method="ti"``: thermodynamic
    integration over ``⌈n_betas/4⌉·4`` Simpson intervals, ``n_runs`` chains
    per node. The :class:`Result` has ``log_z``, ``std_err``, ``lower``,
    ``upper``, ``ess``, ``n_runs`` and ``exact_log_z`` where that is cheap
    (enumeration up to 2^24 states, an RBM's smaller layer up to 25 units,
    Kaufman's formula for the periodic 2D Ising lattice without a field).
    """
    return wrap(_ebm.log_z(model, beta, method, n_betas, n_runs, seed, data))
