"""Parameters and input checks shared by the encrypted and the plaintext linear models."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_int, check_real, real_array
from ..errors import NonFiniteError


def step(learning_rate: float | None, d_eff: int, alpha: float, n: float) -> float:
    """The step: given, or 1 / (trace bound of the Hessian) for standardized features."""
    if learning_rate is not None:
        return float(learning_rate)
    return 1.0 / (d_eff + alpha / n)


def penalty(d: int, alpha: float, fit_intercept: bool) -> np.ndarray:
    return np.r_[np.full(d, float(alpha)), [0.0] * int(fit_intercept)]


class Params:
    """Parameter handling shared by the encrypted and the plaintext estimator."""

    solver: str
    alpha: float
    learning_rate: float | None
    max_iter: int
    fit_intercept: bool
    momentum: str | None
    momentum_beta: float
    batch_size: int | None

    def __init__(
        self,
        *,
        solver: str = "gram",
        alpha: float = 0.0,
        learning_rate: float | None = None,
        max_iter: int = 30,
        fit_intercept: bool = True,
        momentum: str | None = "nesterov",
        momentum_beta: float = 0.8,
        batch_size: int | None = None,
    ) -> None:
        self.solver = solver
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.momentum = momentum
        self.momentum_beta = momentum_beta
        self.batch_size = batch_size

    def _beta(self) -> float:
        if self.momentum is None:
            return 0.0
        if self.momentum != "nesterov":
            raise ValueError(f"momentum must be 'nesterov' or None, got {self.momentum!r}")
        if not 0.0 <= float(self.momentum_beta) < 1.0:
            raise ValueError(f"momentum_beta must be in [0, 1), got {self.momentum_beta!r}")
        return float(self.momentum_beta)

    def _validate_params(self) -> None:
        if self.solver not in ("gram", "gd"):
            raise ValueError(f"solver must be 'gram' or 'gd', got {self.solver!r}")
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, 1)
            if self.solver != "gd":
                raise ValueError("batch_size applies to solver='gd' only")
        check_real("alpha", self.alpha, 0.0)
        if self.learning_rate is not None:
            check_real("learning_rate", self.learning_rate, 0.0, lo_open=True)
        check_int("max_iter", self.max_iter, 1)
        self._beta()


def check_plain_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = real_array("X", X, finite=False).astype(np.float64)
    y = real_array("y", y, finite=False).astype(np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {X.shape[0]} != {y.shape[0]}"
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one sample and one feature, got {X.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise NonFiniteError("X or y holds NaN or infinity")
    return X, y


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """``None`` or a validated float64 vector of ``n`` finite weights >= 0, not all zero."""
    if sample_weight is None:
        return None
    s = real_array("sample_weight", sample_weight, finite=False).astype(np.float64)
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise NonFiniteError("sample_weight holds NaN or infinity")
    if np.any(s < 0) or not s.sum() > 0:
        raise ValueError("sample_weight must be >= 0 with a positive sum")
    return s
