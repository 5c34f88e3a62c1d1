"""The linear models' algorithms in plaintext float64: the references the encrypted
coefficients are checked against, and what ``EncryptedLinearRegression.to_plaintext`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._base import Params, check_plain_xy, check_sample_weight, penalty, step


def gram_descent(
    X: np.ndarray,
    y: np.ndarray,
    *,
    alpha: float = 0.0,
    learning_rate: float | None = None,
    max_iter: int = 30,
    fit_intercept: bool = True,
    beta: float = 0.0,
    sample_weight: np.ndarray | None = None,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> np.ndarray:
    """The encrypted Gram iteration in float64: returns ``w`` (with the intercept last).

    ``M = I - (lr/n)(X^T X + alpha I)``, ``c = (lr/n) X^T y``, ``w_1 = c``,
    (with sample weights ``S``: ``X^T S X``, ``X^T S y`` and ``n = sum(S)``),
    ``w_{k+1} = (1 + beta) M w_k - beta M w_{k-1} + c`` (Nesterov with constant momentum;
    ``beta = 0`` is plain gradient descent). With ``fit_intercept`` a ones column is appended
    and not penalized, as in scikit-learn's Ridge.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    >>> w = gram_descent(X, X @ [0.5, -0.25] + 0.1, max_iter=300, learning_rate=0.5)
    >>> np.round(w, 4)
    array([ 0.5 , -0.25,  0.1 ])
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    if fit_intercept:
        X = np.hstack([X, np.ones((n, 1))])
    d_eff = X.shape[1]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = float(s.sum())
    eta = step(learning_rate, d_eff, alpha, total) / total
    M = np.eye(d_eff) - eta * (X.T @ (s[:, None] * X) + np.diag(penalty(d, alpha, fit_intercept)))
    c = eta * (X.T @ (s * y))
    w, prev = c.copy(), np.zeros(d_eff)
    if callback is not None:
        callback(1, w)
    for k in range(2, max_iter + 1):
        w, prev = (1 + beta) * (M @ w) - beta * (M @ prev) + c, w
        if callback is not None:
            callback(k, w)
    return w


def batches(n: int, batch_rows: int) -> list[range]:
    """Consecutive row ranges of ``batch_rows`` rows (the last may be shorter)."""
    return [range(s, min(n, s + batch_rows)) for s in range(0, n, batch_rows)]


def gradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    *,
    alpha: float,
    learning_rate: float,
    max_iter: int,
    fit_intercept: bool,
    beta: float,
    batch_size: int | None,
    sample_weight: np.ndarray | None = None,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> np.ndarray:
    """Mini-batch (or full-batch) gradient descent in float64: ``w`` with the intercept last.

    Each step on batch ``B`` (consecutive rows), with ``s_B = sum_{i in B} s_i``,
    ``eta_B = learning_rate / s_B`` and the look-ahead ``v = (1 + beta) w - beta w_prev``:
    ``w <- v - eta_B (X_B^T S_B (X_B v - y_B) + alpha (s_B / s) v_penalized)``, which is
    gradient descent on scikit-learn Ridge's objective ``sum_i s_i (y_i - x_i w)^2 +
    alpha ||w||^2`` split over the batches. ``max_iter`` counts epochs; ``callback(k, w)``
    runs after epoch ``k``. A full batch gives exactly the Gram solver's iterates.
    """
    n, d = X.shape
    if fit_intercept:
        X = np.hstack([X, np.ones((n, 1))])
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    pen = np.r_[np.ones(d), [0.0] * int(fit_intercept)] * float(alpha)
    total = float(s.sum())
    w, prev = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    for epoch in range(1, max_iter + 1):
        for rows in batches(n, batch_size or n):
            sl = slice(rows.start, rows.stop)
            xb, yb, sb = X[sl], y[sl], s[sl]
            eta = learning_rate / float(sb.sum())
            v = (1.0 + beta) * w - beta * prev if beta else w
            grad = xb.T @ (sb * (xb @ v - yb)) + pen * (float(sb.sum()) / total) * v
            w, prev = v - eta * grad, w
        if callback is not None:
            callback(epoch, w)
    return w


class GramDescentRegression(Params, RegressorMixin, BaseEstimator):
    """Plaintext float64 twin of :class:`EncryptedLinearRegression` (same algorithm).

    ``solver="gram"`` runs :func:`gram_descent`, ``solver="gd"`` the per-epoch mini-batch
    descent (:func:`gradient_descent`); parameters as in the
    encrypted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3))
    >>> model = GramDescentRegression(max_iter=100).fit(X, X @ [1.0, -2.0, 0.5] + 3.0)
    >>> np.round(model.coef_, 3), round(model.intercept_, 3)
    (array([ 1. , -2. ,  0.5]), 3.0)
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GramDescentRegression:
        self._validate_params()
        X, y = check_plain_xy(X, y)
        s = check_sample_weight(sample_weight, X.shape[0])
        common: dict[str, Any] = {
            "alpha": self.alpha,
            "max_iter": self.max_iter,
            "fit_intercept": self.fit_intercept,
            "beta": self._beta(),
            "sample_weight": s,
        }
        if self.solver == "gd":
            total = X.shape[0] if s is None else float(s.sum())
            d_eff = X.shape[1] + int(self.fit_intercept)
            lr = step(self.learning_rate, d_eff, self.alpha, total)
            w = gradient_descent(X, y, learning_rate=lr, batch_size=self.batch_size, **common)
        else:
            w = gram_descent(X, y, learning_rate=self.learning_rate, **common)
        d = X.shape[1]
        self.coef_ = w[:d]
        self.intercept_ = float(w[d]) if self.fit_intercept else 0.0
        self.n_features_in_ = d
        self.n_iter_ = int(self.max_iter)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}), got {X.shape}")
        return X @ self.coef_ + self.intercept_


def suggest_learning_rate(X: Any, *, alpha: float = 0.0, fit_intercept: bool = True) -> float:
    """A safe step from the owner's plaintext data: ``1 / Gershgorin bound`` of the Hessian.

    ``max_j sum_k |(X^T X)_jk| / n + alpha / n`` bounds the largest eigenvalue of the scaled
    Gram matrix, so gradient descent with this step never diverges. Only this one number
    leaves the owner; it is usually 3-5x larger than the default trace bound.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if fit_intercept:
        X = np.hstack([X, np.ones((n, 1))])
    g = np.abs(X.T @ X).sum(axis=1).max() / n
    return float(1.0 / (g + alpha / n))
