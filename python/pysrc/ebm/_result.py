"""Result containers: plain data, no computation."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Measured(NamedTuple):
    """A mean with its standard error (unpacks as ``mean, std_err``)."""

    mean: float
    std_err: float

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """``mean ± z·std_err`` (1.96: a 95% normal interval)."""
        return (self.mean - z * self.std_err, self.mean + z * self.std_err)

    def __repr__(self) -> str:
        return f"{self.mean:.6g} ± {self.std_err:.2g}"


class Result(dict):
    """A dict whose keys are also attributes (``r.log_z`` is ``r["log_z"]``).

    The keys and values are those of the command line's ``--json`` output,
    with ``Measured`` pairs for ``{"mean", "std_err"}`` objects and NumPy
    arrays for states, traces and moments.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return list(self.keys()) + list(super().__dir__())

    def __repr__(self) -> str:
        items = []
        for k, v in self.items():
            if isinstance(v, np.ndarray):
                v = f"array(shape={v.shape}, dtype={v.dtype})"
            elif isinstance(v, list) and len(v) > 4:
                v = f"[{len(v)} items]"
            items.append(f"  {k}: {v}" if isinstance(v, str) else f"  {k}: {v!r}")
        return "Result(\n" + "\n".join(items) + "\n)"

    def to_json(self) -> dict:
        """The same as plain JSON-like data (``Measured`` → ``{"mean", "std_err"}``,
        arrays → lists): what ``ebm ... --json`` prints, plus the extras."""
        return _plain(self)


def _plain(v: Any) -> Any:
    if isinstance(v, Measured):
        return {"mean": v.mean, "std_err": v.std_err}
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def wrap(v: Any) -> Any:
    """Nested dicts as ``Result``s."""
    if isinstance(v, dict):
        return Result({k: wrap(x) for k, x in v.items()})
    if isinstance(v, list):
        return [wrap(x) for x in v]
    return v
