"""EncryptedLinearRegression and its plaintext twin (see the package docstring)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from .. import _core
from ..errors import DepthError, NonFiniteError
from ..he.array import EncryptedArray
from ..he.keys import KeyPlan
from . import _gd, _gram
from ._statistics import GramStatistics

_pk = _core.packing
_SCALE_LIMIT = 10.0  # |mean| or std of a feature above this: CKKS precision suffers


class ScaleWarning(UserWarning):
    """Features far from unit scale: standardize them before encrypting."""


# ---------------------------------------------------------------------- plaintext reference
def _step(learning_rate: float | None, d_eff: int, alpha: float, n: int) -> float:
    """The step: given, or 1 / (trace bound of the Hessian) for standardized features."""
    if learning_rate is not None:
        return float(learning_rate)
    return 1.0 / (d_eff + alpha / n)


def _penalty(d: int, alpha: float, fit_intercept: bool) -> np.ndarray:
    return np.r_[np.full(d, float(alpha)), [0.0] * int(fit_intercept)]


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

    Example
    -------
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
    eta = _step(learning_rate, d_eff, alpha, total) / total
    M = np.eye(d_eff) - eta * (X.T @ (s[:, None] * X) + np.diag(_penalty(d, alpha, fit_intercept)))
    c = eta * (X.T @ (s * y))
    w, prev = c.copy(), np.zeros(d_eff)
    if callback is not None:
        callback(1, w)
    for k in range(2, max_iter + 1):
        w, prev = (1 + beta) * (M @ w) - beta * (M @ prev) + c, w
        if callback is not None:
            callback(k, w)
    return w


class _Params:
    """Shared parameter handling of the encrypted and the plaintext estimator."""

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
            if isinstance(self.batch_size, bool) or not isinstance(
                self.batch_size, (int, np.integer)
            ):
                raise TypeError(
                    f"batch_size must be an int or None, got {type(self.batch_size).__name__}"
                )
            if self.batch_size < 1:
                raise ValueError(f"batch_size must be >= 1 or None, got {self.batch_size}")
            if self.solver != "gd":
                raise ValueError("batch_size applies to solver='gd' only")
        if not np.isfinite(self.alpha) or self.alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if self.learning_rate is not None and not (
            np.isfinite(self.learning_rate) and self.learning_rate > 0
        ):
            raise ValueError(f"learning_rate must be > 0 or None, got {self.learning_rate!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, (int, np.integer)):
            raise TypeError(f"max_iter must be an int, got {type(self.max_iter).__name__}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}")
        self._beta()


def _check_plain_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y)
    if X.dtype.kind not in "iuf" or y.dtype.kind not in "iuf":
        raise TypeError("X and y must be real numeric arrays")
    X, y = X.astype(np.float64), y.astype(np.float64)
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


def _check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """``None`` or a validated float64 vector of ``n`` finite weights >= 0, not all zero."""
    if sample_weight is None:
        return None
    s = np.asarray(sample_weight)
    if s.dtype.kind not in "iuf":
        raise TypeError("sample_weight must be a real numeric array")
    s = s.astype(np.float64)
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise NonFiniteError("sample_weight holds NaN or infinity")
    if np.any(s < 0) or not s.sum() > 0:
        raise ValueError("sample_weight must be >= 0 with a positive sum")
    return s


def _warn_scale(X: np.ndarray, y: np.ndarray) -> None:
    scale = max(float(np.max(np.abs(X.mean(0)))), float(np.max(X.std(0))))
    scale = max(scale, abs(float(y.mean())), float(y.std()))
    if scale > _SCALE_LIMIT:
        warnings.warn(
            f"features or target have means/standard deviations up to {scale:.3g}: CKKS "
            "keeps about 1e-7 relative precision and bootstrapping needs |weights| <= 1, so "
            "standardize X and y first (e.g. sklearn.preprocessing.StandardScaler)",
            ScaleWarning,
            stacklevel=3,
        )


class GramDescentRegression(_Params, RegressorMixin, BaseEstimator):
    """Plaintext float64 twin of :class:`EncryptedLinearRegression` (same algorithm).

    ``solver="gram"`` runs :func:`gram_descent`, ``solver="gd"`` the per-epoch mini-batch
    descent (:func:`hetensor.linear_model._gd.gradient_descent`); parameters as in the
    encrypted estimator.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3))
    >>> model = GramDescentRegression(max_iter=100).fit(X, X @ [1.0, -2.0, 0.5] + 3.0)
    >>> np.round(model.coef_, 3), round(model.intercept_, 3)
    (array([ 1. , -2. ,  0.5]), 3.0)
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GramDescentRegression:
        self._validate_params()
        X, y = _check_plain_xy(X, y)
        s = _check_sample_weight(sample_weight, X.shape[0])
        common = {
            "alpha": self.alpha,
            "max_iter": self.max_iter,
            "fit_intercept": self.fit_intercept,
            "beta": self._beta(),
            "sample_weight": s,
        }
        if self.solver == "gd":
            total = X.shape[0] if s is None else float(s.sum())
            d_eff = X.shape[1] + int(self.fit_intercept)
            step = _step(self.learning_rate, d_eff, self.alpha, total)
            w = _gd.gradient_descent(X, y, learning_rate=step, batch_size=self.batch_size, **common)
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


# ---------------------------------------------------------------------- owner-side helpers
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


def encrypt_dataset(ctx: Any, X: Any, y: Any) -> tuple[EncryptedArray, EncryptedArray]:
    """Validate and encrypt a training set for :meth:`EncryptedLinearRegression.fit`.

    ``X`` gets the canonical row-major layout; ``y`` the layout aligned with the rows of
    ``X`` (``y_i`` at the first slot of row ``i``), which makes ``X^T y`` cost ``log2 P``
    rotations per ciphertext. ``ctx.encrypt(y)`` works too, but ``fit`` must then move every
    element of ``y`` (about one rotation per sample).

    Raises
    ------
    ValueError, NonFiniteError
        Mismatched lengths or NaN/infinity; warns :class:`ScaleWarning` on unscaled data.
    """
    X, y = _check_plain_xy(X, y)
    _warn_scale(X, y)
    X, y = ctx._checked_values(X), ctx._checked_values(y)
    # With bootstrapping, encrypt 3 levels above where fresh ciphertexts start: the
    # statistics' two levels (three with sample weights) then come from levels a bootstrap
    # never restores, and the folded diagonals sit at the bootstrapped weights' level, so every
    # bootstrap buys `depth` iterations (not depth - 2). Higher would only cost: every tower
    # of the modulus chain makes the statistics' operations and ciphertexts larger.
    level = max(0, ctx._fresh_level - 3) if ctx.bootstrapping else None

    def encrypt(values: np.ndarray, lay: Any) -> EncryptedArray:
        slot_values = _pk.encode_array(np.ascontiguousarray(values), lay)
        cts = [ctx._encrypt_slots(r, level) for r in slot_values]
        return EncryptedArray._make(ctx, cts, lay, True)

    # rows of next_pow2(d + 1) slots: room for the intercept's ones column, so fit never
    # moves X to wider rows (a relayout whose rotations key_plan does not cover)
    wide = _pk.plan_array((X.shape[0], _gram.padded(X.shape[1] + 1)), ctx.slots)
    x_lay = _pk.ArrayLayout(
        X.shape, wide.pads, wide.strides, wide.period, wide.slots, wide.chunk_rows, wide.n_chunks
    )
    return encrypt(X, x_lay), encrypt(y, _gram.target_layout(x_lay))


class OwnerRefresh:
    """The client-side refresh round (``refresh="client"``), performed by the data owner.

    The server sends the weight ciphertexts; the owner decrypts and re-encrypts them. This is
    the pTensor protocol: **the owner sees the intermediate weights and must be online**; the
    server still learns nothing. Pass an instance as ``fit(..., refresh_client=...)``. In a
    real deployment the arrays travel as bytes (``to_bytes``/``from_bytes``).

    Attributes
    ----------
    rounds : int
        Refresh rounds performed. ``history`` keeps the decrypted weights when
        ``keep=True`` (the owner may use them, e.g. for a training curve).
    """

    def __init__(self, owner: Any, *, keep: bool = False) -> None:
        if not owner.has_secret_key:
            raise ValueError("OwnerRefresh needs the data owner's context (with secret key)")
        self.owner = owner
        self.keep = keep
        self.rounds = 0
        self.history: list[np.ndarray] = []

    def __call__(self, arrays: Sequence[EncryptedArray]) -> list[EncryptedArray]:
        self.rounds += 1
        out = []
        for arr in arrays:
            plain = self.owner.decrypt(arr)
            if self.keep:
                self.history.append(plain)
            out.append(arr.context.receive(self.owner.encrypt(plain)))
        return out


def _with_ones(x: EncryptedArray, d: int) -> EncryptedArray:
    """``[X, 1]``: the intercept's ones column added in X's padding (plaintext, no level)."""
    lay = x.layout
    n = x.shape[0]
    aug = _pk.ArrayLayout(
        (n, d + 1), lay.pads, lay.strides, lay.period, lay.slots, lay.chunk_rows, lay.n_chunks
    )
    ones = np.zeros((n, d + 1))
    ones[:, d] = 1.0
    slot_ones = _pk.encode_array(ones, aug)
    return x._new([x._eng.add_plain(ct, slot_ones[i]) for i, ct in enumerate(x._cts)], aug)


# ---------------------------------------------------------------------- encrypted estimator
class EncryptedLinearRegression(_Params, RegressorMixin, BaseEstimator):
    """Ridge regression trained by a server on encrypted data, without the secret key.

    Minimizes ``||y - X w - b||^2 + alpha ||w||^2`` (scikit-learn Ridge's objective, intercept
    unpenalized) by gradient descent on encrypted sufficient statistics: ``X^T X`` and
    ``X^T y`` are computed once (O(n d) products, two levels), then every iteration is
    ``w <- (1 + beta) M w - beta M w_prev + c`` with ``M = I - (lr/n)(X^T X + alpha I)`` and
    ``c = (lr/n) X^T y`` folded in once: one multiplicative level per iteration, ``P``
    ciphertext products and ``P - 1`` hoisted rotations for ``P = next_pow2(d + 1)``.
    The intercept is an appended ones column (a plaintext addition; no extra level and the
    same minimizer as centring); for ``d + 1`` beyond a power of two ``X`` is first moved to
    wider rows (about one rotation per row).

    Parameters
    ----------
    solver : {"gram", "gd"}, default "gram"
        ``"gram"``: the statistics once, then one level per iteration on the ``P x P`` system
        (fast; ``max_iter`` iterations). ``"gd"``: gradient descent over the encrypted samples
        every step (``max_iter`` epochs of ``ceil(n / batch_size)`` steps, three levels per
        step, four with Nesterov); the pTensor baseline done well, for comparison or when
        mini-batches are wanted. A full batch gives the Gram solver's iterates.
    alpha : float, default 0.0
        Ridge penalty, exactly as scikit-learn's ``Ridge(alpha=...)``.
    learning_rate : float, optional
        Step ``lr`` of the update ``w -= (lr/n) * gradient``. Default: ``1 / (d + 1 +
        alpha/n)``, safe for standardized features (the trace of ``X^T X / n`` is then ``d``
        and bounds its largest eigenvalue). :func:`suggest_learning_rate` gives the owner a
        tighter (Gershgorin) bound from the plaintext.
    max_iter : int, default 30
        Iterations (the server cannot read convergence, so it always runs them all).
    fit_intercept : bool, default True
    momentum : {"nesterov", None}, default "nesterov"
        Nesterov acceleration with constant ``momentum_beta`` (same level cost; two products
        per diagonal).
    momentum_beta : float, default 0.8
    batch_size : int, optional
        ``solver="gd"`` only: rows per step, rounded up to whole ciphertexts (the effective
        value is ``batch_size_``); None is full batch. Batches are consecutive rows, so
        shuffle before encrypting.
    refresh : {"server", "client"}, default "server"
        How the weights get fresh levels: ``"server"`` bootstraps them (the context must have
        ``bootstrapping=True``, best with ``bootstrap_slots`` = the padded weight length
        (sparse: far cheaper), or enough depth for ``max_iter`` iterations; a bootstrapping
        context's default 54-bit scale takes standardized data, ``|X|, |y| < 32``, and the
        weights must stay within ``[-1, 1]``); ``"client"`` is
        the pTensor protocol round :class:`OwnerRefresh` (leaks the weights to the owner,
        needs the owner online).

    Attributes
    ----------
    coef_ : EncryptedArray, shape (n_features,)
    intercept_ : EncryptedArray of shape () or 0.0
    n_features_in_, n_iter_ : int
    n_refreshes_ : int
        Bootstraps or client rounds used.
    batch_size_ : int
        Rows per step actually used (``solver="gd"``; ``n`` for the Gram solver).

    Example
    -------
    >>> import numpy as np, hetensor as ht                                   # doctest: +SKIP
    >>> from hetensor.linear_model import EncryptedLinearRegression, encrypt_dataset
    >>> owner = ht.Context.ckks(depth=8, insecure=True)                      # doctest: +SKIP
    >>> model = EncryptedLinearRegression(max_iter=5)                        # doctest: +SKIP
    >>> owner.generate_keys(model.key_plan(100, 3))                          # doctest: +SKIP
    >>> server = owner.public()                                              # doctest: +SKIP
    >>> Xe, ye = (server.receive(a) for a in encrypt_dataset(owner, X, y))   # doctest: +SKIP
    >>> model.fit(Xe, ye)                                                    # doctest: +SKIP
    >>> owner.decrypt(model.coef_)                                           # doctest: +SKIP
    """

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
        refresh: str = "server",
    ) -> None:
        super().__init__(
            solver=solver,
            alpha=alpha,
            learning_rate=learning_rate,
            max_iter=max_iter,
            fit_intercept=fit_intercept,
            momentum=momentum,
            momentum_beta=momentum_beta,
            batch_size=batch_size,
        )
        self.refresh = refresh

    # ------------------------------------------------------------------ planning
    def _p(self, n_features: int) -> int:
        return _gram.padded(n_features + int(self.fit_intercept))

    def key_plan(self, n_samples: int, n_features: int) -> KeyPlan:
        """Rotation keys ``fit`` and ``predict`` need (any slot count; before ``public()``)."""
        n_samples, n_features = int(n_samples), int(n_features)
        if n_samples < 1 or n_features < 1:
            raise ValueError("n_samples and n_features must be >= 1")
        d_eff = n_features + int(self.fit_intercept)
        # rows of next_pow2(d_eff) slots (ctx.encrypt's canonical layout when they fit) or of
        # next_pow2(n_features + 1) (encrypt_dataset's, which has room for the ones column)
        widths = {self._p(n_features), _gram.padded(n_features + 1)}
        steps: set[int] = set()
        for width in widths:
            steps |= _gram.plan_steps(d_eff, width)  # statistics and iterations
        p = min(widths)
        s = p
        while s <= 2**16:  # row sums for any slot count
            steps.add(s)
            s *= 2
        s = 1
        while s < max(widths):  # predict: sum over a row
            steps.add(s)
            s *= 2
        steps |= {n_features, -n_features}  # intercept_ extraction
        steps.discard(0)
        return KeyPlan(frozenset(steps))

    # ------------------------------------------------------------------ fit
    def _prepare(self, X: Any, y: Any, context: Any) -> tuple[EncryptedArray, EncryptedArray]:
        if not isinstance(X, EncryptedArray):
            if context is None:
                raise TypeError(
                    "fit needs EncryptedArrays (X, y), or plaintext arrays with context="
                )
            if isinstance(y, EncryptedArray):
                raise TypeError("X is plaintext but y is encrypted: pass both alike")
            return encrypt_dataset(context, X, y)
        if not isinstance(y, EncryptedArray):
            raise TypeError("X is encrypted but y is not: encrypt y with the same context")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {X.shape[0]} != {y.shape[0]}"
            )
        X._check_same_context(y)
        if X._eng.dry:
            raise TypeError("fit needs encrypted data, not placeholders")
        return X, y

    def _widen(self, x: EncryptedArray, d_eff: int) -> EncryptedArray:
        """X in row-major layout with room for the ones column (rows of >= d_eff slots)."""
        lay = x._layout
        if int(lay.pads[1]) >= d_eff and tuple(lay.strides) == (int(lay.pads[1]), 1):
            return x if x._clean else x._cleaned()
        n, d = x.shape
        wide = _pk.plan_array((n, _gram.padded(d_eff)), x._ctx.slots)
        dst = _pk.ArrayLayout(
            (n, d),
            wide.pads,
            wide.strides,
            wide.period,
            wide.slots,
            wide.chunk_rows,
            wide.n_chunks,
        )
        return x._relayout(dst, np.arange(n * d))

    def _check_depth(self, ctx: Any, *, iterations: bool = True) -> None:
        depth = ctx.depth
        if depth < 3:
            raise DepthError(
                f"EncryptedLinearRegression needs depth >= 3 (2 levels for the statistics, "
                f"1 per iteration, 1 for predict), got {depth}"
            )
        server = self.refresh == "server"
        if iterations and server and not (ctx.bootstrapping and ctx.has_bootstrap_keys):
            need = 2 + self.max_iter
            if depth < need:
                raise DepthError(
                    f"{self.max_iter} iterations need depth >= {need} without bootstrapping "
                    f"(got {depth}); use a bootstrapping context, refresh='client', a larger "
                    "depth or fewer iterations"
                )

    def _prepared(
        self, X: Any, y: Any, context: Any, sample_weight: Any
    ) -> tuple[EncryptedArray, EncryptedArray, np.ndarray | None]:
        """X widened to rows of ``P`` slots with the ones column, ``y`` row-aligned, weights."""
        X, y = self._prepare(X, y, context)
        n, d = X.shape
        s = _check_sample_weight(sample_weight, n)
        d_eff = d + int(self.fit_intercept)
        x = self._widen(X, d_eff)
        lay = x._layout
        if self.fit_intercept:  # ones column: a plaintext addition, no level
            x = _with_ones(x, d)
        target = _gram.target_layout(lay)
        if y._layout != target:
            y = y._relayout(target, np.arange(n))
        elif not y._clean:
            y = y._cleaned()
        return x, y, s

    def statistics(
        self, X: Any, y: Any, *, sample_weight: Any = None, context: Any = None
    ) -> GramStatistics:
        """Encrypted sufficient statistics of ``(X, y)`` (two levels, no secret key).

        The first half of :meth:`fit`: partitions of the rows can be reduced with
        :meth:`GramStatistics.merge` (``a + b``) before :meth:`fit_statistics`, e.g. on
        several machines (:mod:`hetensor.distributed`). Arguments as in :meth:`fit`; sample
        weights cost one more level (rows scaled by ``sqrt(s_i)``).
        """
        x, y, s = self._prepared(X, y, context, sample_weight)
        ctx, eng = x._ctx, x._eng
        self._check_depth(ctx, iterations=False)
        n, d = x.shape[0], x.shape[1] - int(self.fit_intercept)
        d_eff = d + int(self.fit_intercept)
        lay = x._layout
        p, slots = int(lay.pads[1]), int(lay.slots)
        if s is not None:  # sqrt(s_i) on row i of X and on y_i: X^T S X and X^T S y
            root = np.sqrt(s)
            x = x._new(
                [
                    eng.mul_plain(ct, m, "sample weights")
                    for ct, m in zip(
                        x._cts,
                        _pk.encode_array(np.repeat(root[:, None], x.shape[1], 1), lay),
                        strict=True,
                    )
                ]
            )
            y = y._new(
                [
                    eng.mul_plain(ct, m, "sample weights")
                    for ct, m in zip(y._cts, _pk.encode_array(root, y._layout), strict=True)
                ]
            )
        t, b = _gram.gram_statistics(x, y, d_eff, progress=None)
        vec = _pk.ArrayLayout((p,), (p,), (1,), p, slots, p, 1)

        def wrap(ct: Any) -> EncryptedArray:
            return EncryptedArray._make(ctx, [ct], vec, True, eng)

        return GramStatistics(
            n,
            d,
            bool(self.fit_intercept),
            tuple(wrap(t[r]) for r in range(d_eff)),
            wrap(b),
            float(n if s is None else s.sum()),
        )

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        sample_weight: Any = None,
        context: Any = None,
        refresh_client: Callable[[Sequence[EncryptedArray]], list[EncryptedArray]] | None = None,
        callback: Callable[[int, EncryptedArray], None] | None = None,
    ) -> EncryptedLinearRegression:
        """Fit on encrypted ``X`` (n, d) and ``y`` (n,); no secret key is used.

        For ``solver="gram"`` this is ``fit_statistics(statistics(X, y))``.

        Parameters
        ----------
        X, y : EncryptedArray, or ndarrays with ``context=``
            ``y`` is fastest in the row-aligned layout of :func:`encrypt_dataset`.
        sample_weight : array-like of shape (n,), optional
            Plaintext weights ``s_i >= 0`` (objective ``sum_i s_i (y_i - x_i w - b)^2 + alpha
            ||w||^2``, as scikit-learn's Ridge). They are public to the server, like the
            shapes; the Gram solver spends one more level on them, ``"gd"`` none.
        refresh_client : callable, optional
            Required for ``refresh="client"``: the owner's round (:class:`OwnerRefresh`).
        callback : callable, optional
            ``callback(k, w)`` after iteration ``k`` with the encrypted weights (intercept
            last); e.g. the owner's checkpoints for a training curve.
        """
        self._check_refresh(refresh_client)
        ctx = X.context if isinstance(X, EncryptedArray) else context
        if ctx is not None:  # fail before the statistics' work
            self._check_depth(ctx)
            if self.refresh == "server" and len(np.shape(X)) == 2:
                # a sparse bootstrapping setup must be able to take the weight vector, whose
                # period is the row width fit will use (X's own, or widened for the intercept)
                p = self._p(int(np.shape(X)[1]))
                if isinstance(X, EncryptedArray):
                    p = max(p, int(X._layout.pads[1]))
                ctx._engine.sparse_slots(p)
        if self.solver == "gd":
            return self._fit_gd(X, y, sample_weight, context, refresh_client, callback)
        stats = self.statistics(X, y, sample_weight=sample_weight, context=context)
        return self.fit_statistics(stats, refresh_client=refresh_client, callback=callback)

    def _refresher(
        self, refresh_client: Any, wrap: Callable[[Any], EncryptedArray], eng: Any, period: int
    ) -> Callable[[list[Any]], list[Any]]:
        """Fresh levels for weight ciphertexts (``period``-periodic: the weights replicated
        over all slots, so a sparse setup bootstraps them cheaply): a server bootstrap or the
        owner's round."""
        if self.refresh == "client":
            return lambda cts: [f._cts[0] for f in refresh_client([wrap(ct) for ct in cts])]
        eng.sparse_slots(period)  # raises now if a sparse setup cannot take the weights
        return lambda cts: [eng.bootstrap(ct, period=period) for ct in cts]

    def _fit_gd(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        context: Any,
        refresh_client: Any,
        callback: Callable[[int, EncryptedArray], None] | None,
    ) -> EncryptedLinearRegression:
        """``solver="gd"``: :mod:`._gd`'s per-epoch descent over the encrypted samples."""
        x, y, s = self._prepared(X, y, context, sample_weight)
        ctx, eng, lay = x._ctx, x._eng, x._layout
        n, d = x.shape[0], x.shape[1] - int(self.fit_intercept)
        d_eff = d + int(self.fit_intercept)
        p, slots, rows_per = int(lay.pads[1]), int(lay.slots), int(lay.chunk_rows)
        weights = np.ones(n) if s is None else s
        need = _gd.levels_per_step(self._beta())
        if not (ctx.bootstrapping and ctx.has_bootstrap_keys) and self.refresh == "server":
            if ctx.depth < need + 1:
                raise DepthError(f"solver='gd' needs depth >= {need + 1}, got {ctx.depth}")
        eng.check_levels(list(x._cts) + list(y._cts), need, "solver='gd'")
        batch = n if self.batch_size is None else min(n, int(self.batch_size))
        chunks = -(-batch // rows_per)
        vec = _pk.ArrayLayout((d_eff,), (p,), (1,), p, slots, d_eff, 1)

        def wrap(ct: Any) -> EncryptedArray:
            return EncryptedArray._make(ctx, [ct], vec, False, eng)

        refresh = self._refresher(refresh_client, wrap, eng, p)
        w, refreshes = _gd.run(
            x._cts,
            y._cts,
            layout=lay,
            d_eff=d_eff,
            weights=weights,
            penalty=_penalty(d, self.alpha, self.fit_intercept),
            learning_rate=_step(self.learning_rate, d_eff, self.alpha, float(weights.sum())),
            beta=self._beta(),
            batch_chunks=chunks,
            epochs=int(self.max_iter),
            eng=eng,
            refresh=refresh,
            callback=None if callback is None else (lambda k, ct: callback(k, wrap(ct))),
        )
        self.batch_size_ = min(n, chunks * rows_per)
        return self._finish(w, refreshes, refresh, d, p, slots, ctx, eng)

    def _check_refresh(self, refresh_client: Any) -> None:
        self._validate_params()
        if self.refresh not in ("server", "client"):
            raise ValueError(f"refresh must be 'server' or 'client', got {self.refresh!r}")
        if self.refresh == "client" and refresh_client is None:
            raise ValueError("refresh='client' needs fit(..., refresh_client=OwnerRefresh(owner))")

    def fit_statistics(
        self,
        stats: GramStatistics,
        *,
        refresh_client: Callable[[Sequence[EncryptedArray]], list[EncryptedArray]] | None = None,
        callback: Callable[[int, EncryptedArray], None] | None = None,
    ) -> EncryptedLinearRegression:
        """Run the solver's iterations on (merged) encrypted statistics.

        Parameters
        ----------
        stats : GramStatistics
            From :meth:`statistics` with the same ``fit_intercept``, possibly merged over
            partitions of the rows.
        refresh_client, callback
            As in :meth:`fit`.
        """
        self._check_refresh(refresh_client)
        if not isinstance(stats, GramStatistics):
            raise TypeError(f"stats must be GramStatistics, got {type(stats).__name__}")
        if stats.is_identity:
            raise ValueError("the statistics hold no rows (the identity): nothing to fit")
        if stats.fit_intercept != bool(self.fit_intercept):
            raise ValueError(
                f"statistics were computed with fit_intercept={stats.fit_intercept}, "
                f"the model has fit_intercept={self.fit_intercept}"
            )
        assert stats.xty is not None
        ctx = stats.xty._ctx
        self._check_depth(ctx)
        if self.solver != "gram":
            raise ValueError(f"fit_statistics needs solver='gram', got {self.solver!r}")
        n, d, d_eff = stats.weight_sum, stats.n_features, stats.d_eff
        vec_in = stats.xty._layout
        p, slots = int(vec_in.pads[0]), int(vec_in.slots)
        eng = stats.xty._eng
        t = {r: arr._cts[0] for r, arr in enumerate(stats.diagonals)}
        b = stats.xty._cts[0]

        eta = _step(self.learning_rate, d_eff, self.alpha, n) / n
        beta = self._beta()
        scales = (1.0 + beta, beta) if beta else (1.0,)
        diags, c = _gram.fold_iteration(
            t,
            b,
            d_eff=d_eff,
            p=p,
            slots=slots,
            eta=eta,
            penalty=_penalty(d, self.alpha, self.fit_intercept),
            scales=scales,
            eng=eng,
        )
        vec = _pk.ArrayLayout((d_eff,), (p,), (1,), p, slots, d_eff, 1)

        def wrap(ct: Any) -> EncryptedArray:
            return EncryptedArray._make(ctx, [ct], vec, False, eng)

        refreshes = 0
        refresh = self._refresher(refresh_client, wrap, eng, p)
        w, prev, rot_prev = c, None, None
        if callback is not None:
            callback(1, wrap(w))
        steps = _gram.baby_steps(diags[0], p)
        # Every product of an iteration pairs a diagonal with a rotation of w (or of the
        # previous w), so all operands are brought to one level first: the diagonals and c
        # once per level (cached), w once per iteration. Otherwise OpenFHE adjusts an operand
        # inside every one of the P products, which costs several times the product.
        at_level: dict[int, tuple[list[dict[int, Any]], Any]] = {}

        def folded(used: int) -> tuple[list[dict[int, Any]], Any]:
            if used not in at_level:
                at_level[used] = (
                    [{r: eng.at_level(ct, used) for r, ct in ds.items()} for ds in diags],
                    eng.at_level(c, used + 1),
                )
            return at_level[used]

        base = max(eng.levels_used(ct) for ds in diags for ct in ds.values())
        for k in range(2, self.max_iter + 1):
            live = [w] if prev is None else [w, prev]
            if min(eng.levels_left(ct) for ct in live) < 1:
                refreshes += 1
                live = refresh(live)
                w = live[0]
                prev = live[1] if len(live) > 1 else None
                rot_prev = None
            used = max(base, *(eng.levels_used(ct) for ct in live))
            ds, c_next = folded(used)
            w = eng.at_level(w, used)
            rot_w = eng.rotate_many(w, steps)
            new = _gram.matvec(ds[0], rot_w, p, eng)
            if prev is not None:
                if rot_prev is None:
                    rot_prev = eng.rotate_many(eng.at_level(prev, used), steps)
                else:
                    rot_prev = {s: eng.at_level(ct, used) for s, ct in rot_prev.items()}
                new = eng.sub(new, _gram.matvec(ds[1], rot_prev, p, eng))
            new = eng.add(eng.at_level(new, used + 1), c_next)
            w, prev, rot_prev = new, w, (rot_w if beta else None)
            if not beta:
                prev = None
            if callback is not None:
                callback(k, wrap(w))

        self.batch_size_ = stats.n_samples
        return self._finish(w, refreshes, refresh, d, p, slots, ctx, eng)

    def _finish(
        self,
        w: Any,
        refreshes: int,
        refresh: Callable[[list[Any]], list[Any]],
        d: int,
        p: int,
        slots: int,
        ctx: Any,
        eng: Any,
    ) -> EncryptedLinearRegression:
        """Set the fitted attributes from the final weight ciphertext (intercept last)."""
        if eng.levels_left(w) < 1:  # predict needs one level of the weights
            refreshes += 1
            w = refresh([w])[0]
        d_eff = d + int(self.fit_intercept)
        vec = _pk.ArrayLayout((d_eff,), (p,), (1,), p, slots, d_eff, 1)
        # padding slots of w are masked zeros (c and the diagonals are), so it is clean
        self._w = EncryptedArray._make(ctx, [w], vec, True, eng)
        coef_lay = _pk.ArrayLayout((d,), (p,), (1,), p, slots, d, 1)
        self.coef_ = EncryptedArray._make(ctx, [w], coef_lay, False, eng)
        self.n_features_in_ = d
        self.intercept_ = self._intercept(w, p, slots, ctx, eng) if self.fit_intercept else 0.0
        self.n_iter_ = int(self.max_iter)
        self.n_refreshes_ = refreshes
        return self

    def _intercept(self, w: Any, p: int, slots: int, ctx: Any, eng: Any) -> EncryptedArray:
        # One rotation, no mask, no level: w[d] lands in the first slot of every P-block.
        scalar = _pk.ArrayLayout((), (), (), p, slots, 1, 1)
        return EncryptedArray._make(ctx, [eng.rotate(w, self.n_features_in_)], scalar, False, eng)

    # ------------------------------------------------------------------ predict
    def predict(self, X: Any) -> EncryptedArray:
        """``X @ coef_ + intercept_``: encrypted (or plaintext) X in, encrypted out."""
        check_is_fitted(self, "coef_")
        d = self.n_features_in_
        shape = X.shape if isinstance(X, EncryptedArray) else np.shape(X)
        if len(shape) != 2 or shape[1] != d:
            raise ValueError(f"X must have shape (n_samples, {d}), got {shape}")
        if not isinstance(X, EncryptedArray):
            X = np.asarray(X, dtype=np.float64)
            if not np.all(np.isfinite(X)):
                raise NonFiniteError("X holds NaN or infinity")
        w = self._w
        p = int(w.layout.pads[0])
        if not isinstance(X, EncryptedArray):
            if self.fit_intercept:
                X = np.hstack([X, np.ones((X.shape[0], 1))])
            return X @ w
        lay = X.layout
        if X._clean and int(lay.pads[1]) == p and tuple(lay.strides) == (p, 1):
            # X with the ones column (plaintext addition), times w: one level
            x = _with_ones(X, d) if self.fit_intercept else X
            # w is P-periodic over all slots: a slot-wise product with every chunk (no
            # broadcast relayout), then log2(P) rotations per chunk
            eng = x._eng
            eng.check_levels(list(x._cts) + list(w._cts), 1, "predict")
            prod = x._new([eng.mul(ct, w._cts[0], "predict") for ct in x._cts])
            return prod.sum(axis=1)
        out = X @ self.coef_  # other layouts: generic path (masks coef_: one more level)
        return out + self.intercept_ if self.fit_intercept else out

    def to_plaintext(self, ctx: Any) -> GramDescentRegression:
        """Decrypt the fitted model (data owner) into a fitted plaintext twin."""
        check_is_fitted(self, "coef_")
        params = self.get_params()
        params.pop("refresh")
        if self.solver == "gd":
            params["batch_size"] = self.batch_size_
        twin = GramDescentRegression(**params)
        twin.coef_ = ctx.decrypt(self.coef_)
        twin.intercept_ = float(ctx.decrypt(self.intercept_)) if self.fit_intercept else 0.0
        twin.n_features_in_ = self.n_features_in_
        twin.n_iter_ = self.n_iter_
        return twin


__all__ = [
    "EncryptedLinearRegression",
    "GramDescentRegression",
    "NotFittedError",
    "OwnerRefresh",
    "ScaleWarning",
    "encrypt_dataset",
    "gram_descent",
    "suggest_learning_rate",
]
