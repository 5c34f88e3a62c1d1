"""Hyperparameter search on encrypted statistics: fits in parallel, scores into a Summary.

The expensive part, one :meth:`EncryptedLinearRegression.fit_statistics` per grid point, runs
on the workers without any secret key, all of them on the same merged statistics (sent to
each worker once). A score needs a decryption, so it is computed where the secret key is: the
client process, by a ``scorer(model) -> float`` the data owner supplies. The default,
:class:`ValidationMSE`, decrypts the ``d + 1`` weights of each candidate (the owner's own
model, nothing leaves the owner) and evaluates the mean squared error on the owner's
plaintext validation rows. Each scored candidate becomes ``Summary.of(score, label)`` and the
summaries are merged as results arrive (any order: :class:`Summary` is a commutative monoid),
so searches run on different clusters, or resumed later, merge into the same summary.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..linear_model import EncryptedLinearRegression, GramStatistics
from ._fit import DEFAULT_TIMEOUT, _key, _maybe_local, _result, _statistics_future
from ._summary import Summary
from ._transport import install_context

__all__ = ["ValidationMSE", "grid", "search"]

_GRID_KEYS = ("alpha", "learning_rate", "max_iter")


def grid(
    alpha: Iterable[float] = (0.0,),
    learning_rate: Iterable[float | None] = (None,),
    max_iter: Iterable[int] = (10,),
) -> list[tuple[float, float | None, int]]:
    """All ``(alpha, learning_rate, max_iter)`` combinations, in a fixed order.

    Examples
    --------
    >>> grid(alpha=[0.0, 1.0], max_iter=[4])
    [(0.0, None, 4), (1.0, None, 4)]
    """
    return [
        (float(a), None if lr is None else float(lr), int(it))
        for a, lr, it in itertools.product(alpha, learning_rate, max_iter)
    ]


class ValidationMSE:
    """The data owner's score: mean squared error of a decrypted candidate on validation rows.

    Runs where the owner's secret key is (the client). Decrypts ``coef_`` and ``intercept_``
    (``d + 1`` numbers) and evaluates ``mean((X_val @ coef + intercept - y_val)^2)`` in float64.

    Examples
    --------
    >>> scorer = ValidationMSE(owner, X_val, y_val)                   # doctest: +SKIP
    >>> scorer(fitted_model)                                          # doctest: +SKIP
    0.0123
    """

    def __init__(self, owner: Any, X_val: Any, y_val: Any) -> None:
        if not getattr(owner, "has_secret_key", False):
            raise ValueError("ValidationMSE decrypts: it needs the data owner's context")
        self.owner = owner
        self.X_val = np.asarray(X_val, dtype=np.float64)
        self.y_val = np.asarray(y_val, dtype=np.float64)
        if self.X_val.ndim != 2 or self.y_val.shape != (self.X_val.shape[0],):
            raise ValueError(
                f"X_val must be (n, d) and y_val (n,), got {self.X_val.shape}, {self.y_val.shape}"
            )

    def __call__(self, model: EncryptedLinearRegression) -> float:
        twin = model.to_plaintext(self.owner)
        return float(np.mean((twin.predict(self.X_val) - self.y_val) ** 2))


def _fit_one(params: dict[str, Any], stats: GramStatistics) -> EncryptedLinearRegression:
    return EncryptedLinearRegression(**params).fit_statistics(stats)


def _points(
    candidates: Sequence[Any] | Mapping[str, Iterable[Any]], n_iter: int | None, seed: int
) -> list[tuple[float, float | None, int]]:
    if isinstance(candidates, Mapping):
        unknown = set(candidates) - set(_GRID_KEYS)
        if unknown:
            raise ValueError(f"unknown grid keys {sorted(unknown)}; use {list(_GRID_KEYS)}")
        points = grid(**candidates)
    else:
        points = []
        for c in candidates:
            if len(c) != 3:
                raise ValueError(f"grid points are (alpha, learning_rate, max_iter), got {c!r}")
            points.append(grid([c[0]], [c[1]], [c[2]])[0])
    if not points:
        raise ValueError("the grid is empty")
    if n_iter is not None:
        if n_iter < 1:
            raise ValueError(f"n_iter must be >= 1, got {n_iter}")
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(points), size=min(n_iter, len(points)), replace=False)
        points = [points[i] for i in sorted(picked)]
    return points


def search(
    model: EncryptedLinearRegression,
    data: Any,
    candidates: Sequence[Any] | Mapping[str, Iterable[Any]],
    *,
    scorer: Callable[[EncryptedLinearRegression], float],
    client: Any = None,
    context: Any = None,
    n_best: int = 5,
    n_iter: int | None = None,
    seed: int = 0,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Summary:
    """Evaluate ``(alpha, learning_rate, max_iter)`` candidates in parallel on encrypted data.

    Parameters
    ----------
    model : EncryptedLinearRegression
        The other parameters (``fit_intercept``, ``momentum``, ...) of every candidate.
    data : GramStatistics, or partitions as for :func:`fit`
        Merged statistics of the training rows, or partitions to reduce first (on the workers).
    candidates : list of (alpha, learning_rate, max_iter), or a dict of lists
        Explicit points, or ``{"alpha": [...], "learning_rate": [...], "max_iter": [...]}``
        for their product (:func:`grid`).
    scorer : callable ``(fitted model) -> float``
        A loss computed by the data owner (it decrypts), e.g. :class:`ValidationMSE`.
    client : distributed.Client, optional
        Default: a ``LocalCluster`` for this call.
    context : Context, optional
        As in :func:`fit` (file or plaintext partitions).
    n_best : int, default 5
        Candidates kept in ``Summary.best``.
    n_iter : int, optional
        Evaluate only this many candidates, drawn without replacement by
        ``numpy.random.default_rng(seed)`` (random search); the same seed, the same draw.
    seed : int, default 0
        Seed of that draw and of the submission order (results do not depend on the order).
    timeout : float or None
        Seconds to wait for each result.

    Returns
    -------
    Summary
        Labels are ``(alpha, learning_rate, max_iter)`` (``learning_rate`` ``-1.0`` for the
        default step, so labels stay comparable).

    Examples
    --------
    >>> summary = ht.distributed.search(                                       # doctest: +SKIP
    ...     EncryptedLinearRegression(), stats, {"alpha": [0, 1, 10], "max_iter": [4, 8]},
    ...     scorer=ValidationMSE(owner, X_val, y_val), client=client, seed=0)
    >>> summary.best[0]                                                        # doctest: +SKIP
    (0.0311, (1.0, -1.0, 8))
    """
    from distributed import as_completed

    if not isinstance(model, EncryptedLinearRegression):
        raise TypeError(f"model must be an EncryptedLinearRegression, got {type(model).__name__}")
    if not callable(scorer):
        raise TypeError("scorer must be callable: model -> float (see ValidationMSE)")
    points = _points(candidates, n_iter, seed)
    base = model.get_params()
    order = np.random.default_rng(seed).permutation(len(points))
    summary = Summary.identity(n_best)
    with _maybe_local(client) as cl:
        if isinstance(data, GramStatistics):
            if data.is_identity:
                raise ValueError("the statistics hold no rows (the identity)")
            install_context(cl, data.context)
            # every worker gets the statistics once, not once per candidate
            stats: Any = cl.scatter(data, broadcast=True, hash=False)
        else:
            stats = _statistics_future(model, data, cl, context, 2, seed)
        futures, labels = [], {}
        for i in order:
            alpha, lr, max_iter = points[i]
            params = dict(base, alpha=alpha, learning_rate=lr, max_iter=max_iter)
            EncryptedLinearRegression(**params).check_params()
            fut = cl.submit(_fit_one, params, stats, key=_key("candidate"))
            futures.append(fut)
            labels[fut.key] = (alpha, -1.0 if lr is None else lr, max_iter)
        for fut in as_completed(futures, timeout=timeout):
            fitted = _result(fut, timeout)
            summary = summary.merge(Summary.of(scorer(fitted), labels[fut.key], n_best=n_best))
    return summary
