"""Encrypted least-squares solvers on packed data: the kernels behind the linear models.

Two solvers of ``min_w sum_i s_i (y_i - x_i w)^2 + sum_j penalty_j w_j^2`` by (Nesterov
accelerated) gradient descent, run by a server without the secret key:

- :func:`fit_gram` iterates on encrypted sufficient statistics
  (:class:`~hetensor.he.statistics.GramStatistics`): ``w <- (1 + beta) M w - beta M w_prev +
  c`` with ``M = I - eta (X^T S X + diag(penalty))`` and ``c = eta X^T S y`` folded in once
  (``eta = learning_rate / sum(s)``), one level per iteration, ``P`` products and about
  ``2 sqrt(P)`` rotations for ``P`` the row width;
- :func:`fit_gd` steps over the encrypted rows of an
  :class:`~hetensor.he.dataset.EncryptedDataset` (full or mini-batch; three levels per step,
  four with Nesterov).

Weights live repeated every ``P`` slots; when they run out of levels they are refreshed by
server-side bootstrapping (nothing decrypted; sparse setups bootstrap the ``P``-periodic
weights cheaply) or by a ``refresh`` callable the caller supplies (e.g. the data owner's
decrypt/re-encrypt round). Both return a :class:`LinearFit`; :func:`predict` applies one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from .._validate import check_int
from ..errors import DepthError
from . import _bounds, _gd, _gram
from .array import EncryptedArray
from .dataset import EncryptedDataset, _packed_width
from .keys import KeyPlan
from .statistics import GramStatistics

__all__ = ["LinearFit", "Refresh", "fit_gd", "fit_gram", "key_plan", "predict"]

_pk = _core.packing
Refresh = Callable[[Sequence[EncryptedArray]], list[EncryptedArray]]
"""Gives fresh levels to encrypted arrays (the weights): ``refresh(arrays) -> arrays``."""


@dataclass(frozen=True)
class LinearFit:
    """Encrypted weights of a linear model, as the solvers leave them.

    Attributes
    ----------
    weights : EncryptedArray, shape (n_columns,)
        All weights, the intercept last when the data had a ones column, repeated every
        ``P`` slots (padding zero) and with at least one level left.
    coef : EncryptedArray, shape (n_features,)
        The weights without the intercept (a view of the same ciphertext: no work).
    intercept : EncryptedArray of shape () or None
        The intercept (one rotation of the weights), or None without a ones column.
    n_refreshes : int
        Bootstraps or refresh rounds used.
    batch_size : int
        Rows per step (all rows for :func:`fit_gram`).
    """

    weights: EncryptedArray
    coef: EncryptedArray
    intercept: EncryptedArray | None
    n_refreshes: int
    batch_size: int


def key_plan(n_features: int, *, fit_intercept: bool = True) -> KeyPlan:
    """Every rotation :func:`fit_gram`, :func:`fit_gd` and :func:`predict` need on data of
    ``n_features`` features (the intercept's ones column added if ``fit_intercept``), as
    packed by :meth:`EncryptedDataset.encrypt` or ``from_arrays``, for any slot count."""
    d = check_int("n_features", n_features, 1)
    plan = EncryptedDataset.key_plan(d, ones=fit_intercept)
    return plan | KeyPlan.rotations_of(d, -d)  # the intercept's extraction


# ---------------------------------------------------------------------- refresh and result
def _weight_ops(
    ctx: Any, eng: Any, n_columns: int, p: int, refresh: Refresh | None
) -> tuple[Callable[[Any, float], EncryptedArray], Callable[[list[Any], float], list[Any]]]:
    """``wrap(ct, bound)``: a weight ciphertext as an EncryptedArray; ``renew(cts, bound)``:
    fresh levels for weight ciphertexts, by ``refresh`` or (None) by bootstrapping on the
    server."""
    vec = _gram.vector_layout(n_columns, p, ctx.slots)

    def wrap(ct: Any, bound: float) -> EncryptedArray:
        return EncryptedArray._make(ctx, [ct], vec, False, eng, bound=bound)

    def bootstrap_all(arrays: Sequence[EncryptedArray]) -> list[EncryptedArray]:
        return [ctx.bootstrap(a) for a in arrays]

    if refresh is None:
        ctx.check_bootstrappable(p)  # raises now if a sparse setup cannot take the weights
    fresh = bootstrap_all if refresh is None else refresh

    def renew(cts: list[Any], bound: float) -> list[Any]:
        return [a._cts[0] for a in fresh([wrap(ct, bound) for ct in cts])]

    return wrap, renew


def _finish(
    ctx: Any,
    eng: Any,
    w: Any,
    *,
    n_features: int,
    ones: bool,
    p: int,
    refreshes: int,
    renew: Callable[[list[Any], float], list[Any]],
    batch_size: int,
    bound: float,
) -> LinearFit:
    """The :class:`LinearFit` of the final weight ciphertext (intercept last if ``ones``)."""
    if eng.levels_left(w) < 1:  # predict needs one level of the weights
        refreshes += 1
        w = renew([w], bound)[0]
    d, slots = n_features, ctx.slots
    # padding slots of w are masked zeros (c and the diagonals are), so it is clean
    weights = EncryptedArray._make(
        ctx, [w], _gram.vector_layout(d + int(ones), p, slots), True, eng, bound=bound
    )
    coef = EncryptedArray._make(ctx, [w], _gram.vector_layout(d, p, slots), False, eng, bound=bound)
    intercept = None
    if ones:  # one rotation, no mask, no level: w[d] lands in the first slot of every P-block
        scalar = _pk.ArrayLayout((), (), (), p, slots, 1, 1)
        intercept = EncryptedArray._make(ctx, [eng.rotate(w, d)], scalar, False, eng, bound=bound)
    return LinearFit(weights, coef, intercept, refreshes, batch_size)


# ---------------------------------------------------------------------- solvers
def fit_gram(
    stats: GramStatistics,
    *,
    learning_rate: float,
    penalty: np.ndarray,
    beta: float = 0.0,
    n_iter: int = 30,
    refresh: Refresh | None = None,
    callback: Callable[[int, EncryptedArray], None] | None = None,
) -> LinearFit:
    """Gradient descent on encrypted statistics (see the module docstring).

    Parameters
    ----------
    stats : GramStatistics
        Statistics of all rows (possibly merged over partitions); not the identity.
    learning_rate : float
        ``lr`` of the update ``w -= (lr / sum(s)) * gradient``.
    penalty : ndarray of shape (n_columns,)
        Ridge penalty per weight (0 for the intercept).
    beta : float, default 0.0
        Nesterov momentum (constant); 0 is plain gradient descent.
    n_iter : int, default 30
        Iterations (``w_1 = c``, then ``n_iter - 1`` updates).
    refresh : callable, optional
        Fresh levels for the weights; default: bootstrapping on the server.
    callback : callable, optional
        ``callback(k, w)`` after iteration ``k`` with the encrypted weights.
    """
    if not isinstance(stats, GramStatistics):
        raise TypeError(f"stats must be GramStatistics, got {type(stats).__name__}")
    if stats.is_identity:
        raise ValueError("the statistics hold no rows (the identity): nothing to fit")
    assert stats.xty is not None
    xty = stats.xty
    ctx, eng = xty.context, xty._eng
    d_eff = stats.d_eff
    p, slots = int(xty._layout.pads[0]), ctx.slots
    penalty = np.asarray(penalty, dtype=np.float64)
    if penalty.shape != (d_eff,):
        raise ValueError(f"penalty must have shape ({d_eff},), got {penalty.shape}")
    t = {r: arr._cts[0] for r, arr in enumerate(stats.diagonals)}
    eta = float(learning_rate) / float(stats.weight_sum)
    scales = (1.0 + beta, beta) if beta else (1.0,)
    # c = eta X^T y: eta = lr / sum(s) folds the sum over the rows; the diagonals of s * M
    t_bound = max(arr._bound for arr in stats.diagonals)
    diag0 = float(np.abs(1.0 - eta * penalty).max())
    d_bound = max(scales) * (eta * t_bound + diag0)
    xty._checked_bound(d_bound, 1, "folding the Gram iteration", *stats.diagonals)
    c_bound = xty._checked_bound(eta * xty._bound, 1, "folding the Gram iteration")
    c_norm = math.sqrt(d_eff) * c_bound  # ||c||_2, or from y^T S y (see weight_bounds)
    if stats.y_sq_bound is not None:
        lr = float(learning_rate)
        c_norm = min(c_norm, math.sqrt(lr * stats.y_sq_bound / float(stats.weight_sum)))
    bounds = _bounds.weight_bounds(c_bound, c_norm, int(n_iter), beta)
    diags, c = _gram.fold_iteration(
        t,
        xty._cts[0],
        d_eff=d_eff,
        p=p,
        slots=slots,
        eta=eta,
        penalty=penalty,
        scales=scales,
        eng=eng,
    )
    wrap, renew = _weight_ops(ctx, eng, d_eff, p, refresh)
    refreshes = 0
    w, prev, rot_prev = c, None, None
    if callback is not None:
        callback(1, wrap(w, c_bound))
    steps = _gram.baby_steps(diags[0], p)
    # Every product of an iteration pairs a diagonal with a rotation of w (or of the
    # previous w), so all operands are brought to one level first: the diagonals and c
    # once per level (cached), w once per iteration. Otherwise OpenFHE adjusts an operand
    # inside every one of the P products, which costs several times the product.
    at_level: dict[int, tuple[list[dict[int, Any]], Any]] = {}

    def folded(used: int) -> tuple[list[dict[int, Any]], Any]:
        if used not in at_level:
            # one level at a time: each holds a copy of every diagonal, and keeping all of
            # them (one per level of a bootstrapped segment) cost GiBs at ring 2^16
            at_level.clear()
            at_level[used] = (
                [{r: eng.at_level(ct, used) for r, ct in ds.items()} for ds in diags],
                eng.at_level(c, used + 1),
            )
        return at_level[used]

    base = max(eng.levels_used(ct) for ds in diags for ct in ds.values())
    for k in range(2, int(n_iter) + 1):
        live = [w] if prev is None else [w, prev]
        if min(eng.levels_left(ct) for ct in live) < 1:
            refreshes += 1
            live = renew(live, bounds[k - 2])
            w = live[0]
            prev = live[1] if len(live) > 1 else None
            rot_prev = None
        used = max(base, *(eng.levels_used(ct) for ct in live))
        # (1 + beta) M w - beta M w_prev, then + c: checked before the iteration's work
        _bounds.check(eng.params, (1 + 2 * beta) * bounds[k - 2], used + 1, "Gram iteration")
        _bounds.check(eng.params, bounds[k - 1], used + 1, "Gram iteration")
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
            callback(k, wrap(w, bounds[k - 1]))
    return _finish(
        ctx,
        eng,
        w,
        n_features=stats.n_features,
        ones=stats.fit_intercept,
        p=p,
        refreshes=refreshes,
        renew=renew,
        batch_size=stats.n_samples,
        bound=bounds[max(int(n_iter), 1) - 1],
    )


def fit_gd(
    data: EncryptedDataset,
    *,
    learning_rate: float,
    penalty: np.ndarray,
    beta: float = 0.0,
    epochs: int = 30,
    batch_size: int | None = None,
    sample_weight: np.ndarray | None = None,
    refresh: Refresh | None = None,
    callback: Callable[[int, EncryptedArray], None] | None = None,
) -> LinearFit:
    """Gradient descent over the encrypted rows, ``epochs`` passes of consecutive batches.

    Parameters
    ----------
    data : EncryptedDataset
        With its target ``y`` (and the ones column, for an intercept).
    learning_rate, penalty, beta, refresh, callback
        As in :func:`fit_gram` (``callback`` after each epoch).
    epochs : int, default 30
    batch_size : int, optional
        Rows per step, rounded up to whole ciphertexts (``LinearFit.batch_size`` says how
        many); None: all rows.
    sample_weight : ndarray of shape (n,), optional
        Plaintext weights ``s_i >= 0`` (public, like the shapes; cost no level).

    Raises
    ------
    DepthError
        Fewer levels than one step needs, or (without bootstrapping keys and ``refresh``)
        a context of less depth than a step and the prediction after it.
    """
    if data.y is None:
        raise ValueError("fit_gd needs a dataset with its target y")
    x, y = data.X, data.y
    ctx, eng, lay = x.context, x._eng, x._layout
    n, d_eff = data.n_samples, data.n_columns
    p, rows_per = data.width, data.rows_per_ciphertext
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    need = _gd.levels_per_step(beta)
    if refresh is None and not (ctx.bootstrapping and ctx.has_bootstrap_keys):
        if ctx.depth < need + 1:
            raise DepthError(f"solver='gd' needs depth >= {need + 1}, got {ctx.depth}")
    eng.check_levels([*x._cts, *y._cts], need, "solver='gd'")
    batch = n if batch_size is None else min(n, int(batch_size))
    chunks = -(-batch // rows_per)
    wrap, renew = _weight_ops(ctx, eng, d_eff, p, refresh)
    w, refreshes, bound = _gd.run(
        x._cts,
        y._cts,
        layout=lay,
        d_eff=d_eff,
        weights=weights,
        penalty=np.asarray(penalty, dtype=np.float64),
        learning_rate=float(learning_rate),
        beta=beta,
        batch_chunks=chunks,
        epochs=int(epochs),
        eng=eng,
        refresh=renew,
        callback=None if callback is None else (lambda k, ct, b: callback(k, wrap(ct, b))),
        bounds=(x._bound, y._bound),
    )
    return _finish(
        ctx,
        eng,
        w,
        n_features=data.n_features,
        ones=data.ones,
        p=p,
        refreshes=refreshes,
        renew=renew,
        batch_size=min(n, chunks * rows_per),
        bound=bound,
    )


# ---------------------------------------------------------------------- prediction
def predict(
    X: Any,
    coef: EncryptedArray,
    intercept: EncryptedArray | None = None,
    *,
    weights: EncryptedArray | None = None,
) -> EncryptedArray:
    """``X @ coef + intercept`` for encrypted or plain ``X`` (n, n_features): encrypted out.

    With ``weights`` (a :class:`LinearFit`'s, the intercept last when there is one) and ``X``
    packed with rows of the weights' width (as :meth:`EncryptedDataset.encrypt` leaves it),
    this is one product per ciphertext and a rotate-and-sum per row (:meth:`matvec`), the
    intercept riding on a plaintext ones column; other layouts take the generic product,
    which masks ``coef`` (one more level).
    """
    if weights is not None:
        p = int(weights._layout.pads[0])
        if not isinstance(X, EncryptedArray):
            if intercept is not None:
                X = np.hstack([X, np.ones((X.shape[0], 1))])
            return X @ weights
        if X._clean and _packed_width(X) == p:
            data = EncryptedDataset(X, None)
            return (data.with_ones() if intercept is not None else data).matvec(weights)
    out = X @ coef
    return out + intercept if intercept is not None else out
