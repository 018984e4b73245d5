"""``ebm.BernoulliRBM``: a drop-in for ``sklearn.neural_network.BernoulliRBM``.

The estimator keeps scikit-learn's constructor, attributes and methods; the
work is ebm's: ``Rbm::init``, ``Cd``/``Pcd`` on the RBM kernel, exact ln Z or
AIS (``Ais::log_z_from`` from the base rate), all in Rust. With scikit-learn installed it
is a ``BaseEstimator`` and ``TransformerMixin``; without, a minimal
stand-in gives ``get_params``/``set_params``/``fit_transform``.
"""

from __future__ import annotations

import inspect
import numbers
import time
from typing import Optional, Union

import numpy as np

from . import _ebm
from ._result import Result

try:  # scikit-learn is optional
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_is_fitted

    try:
        from sklearn.utils.validation import validate_data as _sk_validate_data
    except ImportError:  # scikit-learn < 1.6
        _sk_validate_data = None
    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised in the no-sklearn test
    HAVE_SKLEARN = False
    _sk_validate_data = None

    class BaseEstimator:  # type: ignore[no-redef]
        """The part of scikit-learn's ``BaseEstimator`` ebm needs."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(
                p.name
                for p in sig.parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD
            )

        def get_params(self, deep=True):
            return {k: getattr(self, k) for k in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for k, v in params.items():
                if k not in valid:
                    raise ValueError(f"Invalid parameter {k!r} for estimator {self!r}")
                setattr(self, k, v)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class TransformerMixin:  # type: ignore[no-redef]
        """``fit_transform`` as scikit-learn defines it."""

        def fit_transform(self, X, y=None, **fit_params):
            return self.fit(X, y, **fit_params).transform(X)

    def check_random_state(seed):  # type: ignore[no-redef]
        if seed is None or seed is np.random:
            return np.random.mtrand._rand
        if isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        if isinstance(seed, np.random.RandomState):
            return seed
        raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")

    class NotFittedError(ValueError, AttributeError):
        """Raised when an estimator is used before fitting."""

    def check_is_fitted(estimator, attributes=None):  # type: ignore[no-redef]
        if not hasattr(estimator, "_trainer"):
            raise NotFittedError(
                f"This {type(estimator).__name__} instance is not fitted yet. "
                "Call 'fit' with appropriate arguments before using this estimator."
            )


_SEED_MAX = np.iinfo(np.int32).max

#: The recipe of ``ebm train`` (the CLI's defaults for ``--model rbm``):
#: centred PCD-10 (offsets sliding at ν = 0.01) with 100 chains, batch 100,
#: learning rate 0.05, momentum 0.5, weight cost 2e-4. Why these:
#: ``crates/ebm-cli/src/recipe.rs``.
EBM_RECIPE = dict(
    learning_rate=0.05,
    batch_size=100,
    trainer="pcd",
    k=10,
    n_chains=100,
    momentum=0.5,
    weight_decay=2e-4,
    centring=0.01,
)


class BernoulliRBM(TransformerMixin, BaseEstimator):
    """Bernoulli restricted Boltzmann machine, trained by ebm (Rust).

    A drop-in for :class:`sklearn.neural_network.BernoulliRBM`: the same
    parameters with the same meaning and defaults (scikit-learn's recipe:
    PCD-1 with ``batch_size`` persistent chains, plain SGD at
    ``learning_rate`` on the batch-mean gradient, no momentum, no weight
    cost), the same fitted attributes (``components_`` of shape
    (n_components, n_features), ``intercept_hidden_``,
    ``intercept_visible_``, ``h_samples_``) and methods (``fit``,
    ``partial_fit``, ``transform``, ``gibbs``, ``score_samples``,
    ``get_params``/``set_params``).

    Differences, all deliberate:

    - **Units are bits.** ``fit`` and the scores binarise ``X`` as
      ``X > binarize`` (0.5: intensities in [0, 1] are rounded; 0/1 data
      pass unchanged). ``binarize=None`` requires 0/1 values. ``transform``
      takes ``X`` as given (real values are mean-field inputs, as in
      scikit-learn). Sparse input is densified.
    - **Initialisation** is Hinton's (ebm's ``Rbm::init``): weights
      N(0, 0.01²) — as scikit-learn — and visible biases the logits of the
      data's means (scikit-learn: 0).
    - **score_samples is the log-likelihood**, ``log p(v) = −F(v) − ln Z``:
      ln Z exact (the smaller layer summed) when ``min(n_features,
      n_components) ≤ 20``, else by AIS along the base-rate path
      (``score_ais_betas`` β — 14,500 is Salakhutdinov & Murray's schedule —
      and ``score_ais_runs`` runs, as ``ebm eval``; cached until the
      parameters change). scikit-learn's score_samples is a stochastic
      pseudo-likelihood; ebm's exact pseudo-likelihood is
      :meth:`pseudo_likelihood`.
    - ``random_state``: an int is used as ebm's master seed (so
      ``random_state=S`` reproduces ``ebm train --seed S``); ``None`` or a
      ``RandomState`` draws one at ``fit``.

    ebm's extras: ``trainer`` (``"pcd"`` or ``"cd"``), ``k`` (Gibbs sweeps
    per step), ``n_chains`` (persistent chains, default ``batch_size``),
    ``sampler`` (``"block-gibbs"`` — the batched RBM kernel —, ``"gibbs"`` —
    sequential sweeps, generic path —, or ``"tempering"`` — PCD with
    parallel tempering over ``n_replicas`` rungs), ``momentum`` (a float, or
    ``"hinton"``: 0.5, then 0.9 after five epochs), ``weight_decay``,
    ``centring`` (centred gradients, Melchior et al. 2016: the sliding
    factor of the offsets, 0 for none), and
    :meth:`log_likelihood` (with the AIS interval), :meth:`to_rbm`,
    :meth:`save` (a ``.safetensors`` file the CLI reads). ``BernoulliRBM.
    ebm_recipe(n_components)`` gives ``ebm train``'s defaults.

    Fitted estimators pickle (the whole training state: parameters,
    optimizer, persistent chains and stream positions), and ``partial_fit``
    after unpickling continues bit for bit. Ctrl-C during ``fit`` stops
    after the step in flight, leaving the model as that step left it.
    """

    # estimators pickled before `centring` existed were not centred
    centring = 0.0

    def __init__(
        self,
        n_components: int = 256,
        *,
        learning_rate: float = 0.1,
        batch_size: int = 10,
        n_iter: int = 10,
        verbose: int = 0,
        random_state=None,
        trainer: str = "pcd",
        k: int = 1,
        n_chains: Optional[int] = None,
        sampler: str = "block-gibbs",
        n_replicas: int = 8,
        momentum: Union[float, str] = 0.0,
        weight_decay: float = 0.0,
        centring: float = 0.0,
        binarize: Optional[float] = 0.5,
        score_ais_betas: int = 14500,
        score_ais_runs: int = 100,
    ):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.trainer = trainer
        self.k = k
        self.n_chains = n_chains
        self.sampler = sampler
        self.n_replicas = n_replicas
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.centring = centring
        self.binarize = binarize
        self.score_ais_betas = score_ais_betas
        self.score_ais_runs = score_ais_runs

    @classmethod
    def ebm_recipe(cls, n_components: int = 256, **overrides) -> "BernoulliRBM":
        """An estimator with ``ebm train``'s recipe (:data:`EBM_RECIPE`)."""
        return cls(n_components, **{**EBM_RECIPE, **overrides})

    # ------------------------------------------------------------ helpers

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"preserves_dtype": [np.float64]}

    def _validate(self, X, reset: bool):
        if hasattr(X, "toarray") and hasattr(X, "tocsr"):  # scipy.sparse
            X = X.toarray()
        if HAVE_SKLEARN:
            if _sk_validate_data is not None:
                X = _sk_validate_data(self, X, reset=reset, dtype=np.float64)
            else:  # pragma: no cover
                X = self._validate_data(X, reset=reset, dtype=np.float64)
        else:
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2:
                raise ValueError(f"Expected 2D array, got {X.ndim}D array instead")
            if X.shape[0] < 1 or X.shape[1] < 1:
                raise ValueError(f"Found array with shape {X.shape}; a minimum of 1 is required")
            if not np.all(np.isfinite(X)):
                raise ValueError("Input X contains NaN or infinity.")
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} "
                    f"is expecting {self.n_features_in_} features as input."
                )
        return np.ascontiguousarray(X, dtype=np.float64)

    def _bits(self, X: np.ndarray) -> np.ndarray:
        if self.binarize is None:
            if not np.all((X == 0) | (X == 1)):
                raise ValueError("X must hold 0/1 values when binarize=None")
            return np.ascontiguousarray(X, dtype=np.int8)
        return np.ascontiguousarray(X > self.binarize, dtype=np.int8)

    def _seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and rs >= 0:
            return int(rs)
        return int(check_random_state(rs).randint(_SEED_MAX))

    def _momentum(self, n_rows: int):
        steps_per_epoch = max(1, -(-n_rows // self.batch_size))
        if isinstance(self.momentum, str):
            if self.momentum != "hinton":
                raise ValueError(f"momentum must be a float or 'hinton' (got {self.momentum!r})")
            return None, 5 * steps_per_epoch
        return float(self.momentum), 0

    def _check_params(self):
        for name in ("n_components", "batch_size", "k", "n_replicas", "score_ais_runs"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer (got {v!r})")
        if not isinstance(self.n_iter, numbers.Integral) or self.n_iter < 0:
            raise ValueError(f"n_iter must be a non-negative integer (got {self.n_iter!r})")
        if self.n_chains is not None and (
            not isinstance(self.n_chains, numbers.Integral) or self.n_chains < 1
        ):
            raise ValueError(f"n_chains must be None or a positive integer (got {self.n_chains!r})")
        if self.trainer not in ("pcd", "cd"):
            raise ValueError(f"trainer must be 'pcd' or 'cd' (got {self.trainer!r})")
        if self.sampler not in ("block-gibbs", "gibbs", "tempering"):
            raise ValueError(
                f"sampler must be 'block-gibbs', 'gibbs' or 'tempering' (got {self.sampler!r})"
            )

    def _new_trainer(self, bits: np.ndarray, seed: int):
        self._check_params()
        momentum, switch = self._momentum(bits.shape[0])
        return _ebm.RbmTrainer(
            int(self.n_components),
            bits,
            trainer=self.trainer,
            k=int(self.k),
            n_chains=int(self.n_chains or self.batch_size),
            sampler=self.sampler,
            n_replicas=int(self.n_replicas),
            learning_rate=float(self.learning_rate),
            momentum=momentum,
            momentum_switch=switch,
            weight_decay=float(self.weight_decay),
            centring=float(self.centring),
            seed=seed,
        )

    def _sync_attrs(self):
        """The fitted attributes from the Rust state."""
        W, b, c = self._trainer.params()
        self.components_ = np.ascontiguousarray(W.T)
        self.intercept_hidden_ = c
        self.intercept_visible_ = b
        self.h_samples_ = self._trainer.chain_hidden().astype(np.float64)
        self._snapshot = (self.components_.copy(), b.copy(), c.copy())

    def _push(self):
        """Parameters a user assigned to the attributes go to the Rust state."""
        check_is_fitted(self)
        W, b, c = self._snapshot
        if not (
            np.array_equal(self.components_, W)
            and np.array_equal(self.intercept_visible_, b)
            and np.array_equal(self.intercept_hidden_, c)
        ):
            self._trainer.set_params(
                np.asarray(self.components_, dtype=np.float64).T,
                np.asarray(self.intercept_visible_, dtype=np.float64),
                np.asarray(self.intercept_hidden_, dtype=np.float64),
            )
            self._sync_attrs()

    # ------------------------------------------------------------ fitting

    def fit(self, X, y=None):
        """Fits the model to ``X`` (n_samples, n_features): ``n_iter`` epochs
        of mini-batches of ``batch_size``, shuffled per epoch from the seed."""
        X = self._validate(X, reset=True)
        bits = self._bits(X)
        seed = self._seed()
        trainer = self._new_trainer(bits, seed)
        self._trainer = trainer
        self._seed_ = seed
        self._gibbs_calls = 0
        self._marginals = _ebm._data_marginals(bits)
        trainer.set_data(bits)
        self.epoch_seconds_ = []
        try:
            for epoch in range(int(self.n_iter)):
                t0 = time.perf_counter()
                seconds, _, _ = trainer.epoch(epoch, int(self.batch_size))
                self.epoch_seconds_.append(seconds)
                if self.verbose:
                    pl = float(np.mean(trainer.pseudo_likelihood(bits[:1000])))
                    print(
                        f"[{type(self).__name__}] Iteration {epoch + 1}, "
                        f"pseudo-likelihood = {pl:.2f}, time = {time.perf_counter() - t0:.2f}s"
                    )
        finally:
            trainer.clear_data()
            self._sync_attrs()
        return self

    def partial_fit(self, X, y=None):
        """One training step on the batch ``X`` (the first call initialises
        the model from ``X``, as ``fit`` does)."""
        first = not hasattr(self, "_trainer")
        X = self._validate(X, reset=first)
        bits = self._bits(X)
        if first:
            seed = self._seed()
            self._trainer = self._new_trainer(bits, seed)
            self._seed_ = seed
            self._gibbs_calls = 0
            self._marginals = _ebm._data_marginals(bits)
        else:
            self._push()
        try:
            self._trainer.step(bits)
        finally:
            self._sync_attrs()
        return self

    # ------------------------------------------------------------ inference

    def transform(self, X):
        """p(h = 1 | v) for each row, float64 (n_samples, n_components)."""
        self._push()
        X = self._validate(X, reset=False)
        return self._trainer.transform(X)

    def gibbs(self, v):
        """One block-Gibbs step from ``v``: h ~ p(h | v), then v' ~ p(v | h).
        Returns v' as a bool array (as scikit-learn). Reproducible from the
        seed; every call draws fresh streams."""
        self._push()
        v = self._validate(v, reset=False)
        out = self._trainer.gibbs(self._bits(v), self._seed_, self._gibbs_calls)
        self._gibbs_calls += 1
        return out.astype(bool)

    def _lnz_args(self):
        return dict(
            ais_betas=int(self.score_ais_betas),
            ais_runs=int(self.score_ais_runs),
            marginals=list(self._marginals),
            seed=self._seed_,
        )

    def score_samples(self, X):
        """The log-likelihood ``log p(v) = −F(v) − ln Z`` of each row
        (binarised as in ``fit``): exact when the smaller layer has at most
        20 units, with ln Z from AIS otherwise (see the class docs)."""
        self._push()
        X = self._validate(X, reset=False)
        bits = self._bits(X)
        lnz = self._trainer.log_z(**self._lnz_args())["log_z"]
        return -self._trainer.free_energy(bits) - lnz

    def log_likelihood(self, X) -> Result:
        """The mean log-likelihood of the rows of ``X`` with an interval
        (``mean``, ``lower``, ``upper``, ``std_err``; ``log_z`` and its
        interval; ``method``: ``"exact"`` or ``"ais"``), as ``ebm eval``."""
        self._push()
        X = self._validate(X, reset=False)
        return Result(self._trainer.log_likelihood(self._bits(X), **self._lnz_args()))

    def pseudo_likelihood(self, X):
        """``Σ_i ln p(v_i | v_−i)`` of each row, exactly (every unit, not
        scikit-learn's one random unit scaled by n_features)."""
        self._push()
        X = self._validate(X, reset=False)
        return self._trainer.pseudo_likelihood(self._bits(X))

    def free_energy(self, X):
        """F(v) of each row (binarised as in ``fit``)."""
        self._push()
        X = self._validate(X, reset=False)
        return self._trainer.free_energy(self._bits(X))

    def to_rbm(self):
        """The fitted model as an :class:`ebm.Rbm` (for ``ebm.exact``,
        ``ebm.sample``, ``ebm.log_z``)."""
        self._push()
        return self._trainer.rbm()

    def save(self, path) -> None:
        """Saves the model as a ``.safetensors`` file (``ebm eval`` reads it)."""
        self._push()
        self._trainer.save(str(path))

    def monitors(self, train, test) -> Result:
        """The numbers ``ebm train`` prints after each epoch, on ≤ 1000 rows
        of ``train`` and ``test`` (int8 bits or values binarised as in
        ``fit``)."""
        self._push()
        tr = self._bits(self._validate(train, reset=False))
        te = self._bits(self._validate(test, reset=False))
        return Result(self._trainer.monitors(tr, te, self._seed_))
