"""Per-epoch gradient descent over the encrypted samples (``solver="gd"``).

The pTensor baseline done well: the same packing as the Gram solver (rows of ``P =
next_pow2(d_eff)`` slots, ``R`` rows per ciphertext; ``y_i`` in slot ``i P``; ``w``
replicated every ``P`` slots), but every step touches the samples of its batch:

1. ``u = X_c * w`` and a rotate-sum over the ``P`` slots of each row: the prediction
   ``x_i . w`` in slot ``i P`` (one level);
2. ``r = (u - y) * m``, the mask ``m`` holding ``eta_B s_i`` in slot ``i P`` and zero
   elsewhere, so the step size and sample weights cost the level the mask needs anyway,
   then spread over the row's ``P`` slots by ``log2 P`` rotations (one level);
3. ``X_c * r`` summed over the batch's ciphertexts, one relinearization, then the row sum
   (``log2(R)`` rotations): the scaled gradient ``eta_B X_B^T S_B (X_B w - y_B)``, P-periodic
   (one level);
4. ``w <- w * decay - g`` with ``decay = 1 - eta_B alpha (s_B / s)`` on the penalized
   coordinates (plaintext; in parallel with 1-3).

Three levels per step (four with Nesterov, whose look-ahead point ``(1 + beta) w - beta
w_prev`` costs a scalar product). A batch is a run of whole ciphertexts (``batch_size``
rounded up to ``R`` rows); batches are consecutive in row order, so shuffle the rows before
encrypting. :func:`gradient_descent` is the same algorithm in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _gram


def levels_per_step(beta: float) -> int:
    """Levels one step consumes from ``w``: prediction, mask, gradient product, and
    Nesterov's look-ahead mix when ``beta`` is non-zero."""
    return 3 + int(bool(beta))


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


def run(
    x_cts: Sequence[Any],
    y_cts: Sequence[Any],
    *,
    layout: Any,
    d_eff: int,
    weights: np.ndarray,
    penalty: np.ndarray,
    learning_rate: float,
    beta: float,
    batch_chunks: int,
    epochs: int,
    eng: Any,
    refresh: Callable[[list[Any]], list[Any]],
    callback: Callable[[int, Any], None] | None,
) -> tuple[Any, int]:
    """The encrypted loop: returns the weight ciphertext and the number of refreshes.

    ``weights`` are the (plaintext, public) sample weights in row order; ``refresh`` gives
    fresh levels to a list of weight ciphertexts (bootstrap or the owner's round).
    """
    p, slots, rows_per = int(layout.pads[1]), int(layout.slots), int(layout.chunk_rows)
    n = int(layout.shape[0])
    dot_steps = [1 << k for k in range(int(p).bit_length() - 1)]  # 1, 2, ..., P/2
    spread = _gram.spread_steps(p)
    row_sum = _gram.row_steps(layout)
    total = float(weights.sum())
    valid = np.arange(p) < d_eff
    penalty = np.pad(np.asarray(penalty, dtype=np.float64), (0, p - d_eff))
    need = levels_per_step(beta)

    period = int(layout.period)

    def mask(chunk: int, eta: float) -> np.ndarray:
        """``eta * s_i`` in slot ``i P`` of each row of the chunk (in every replica of the
        chunk when it fills less than a ciphertext), zero elsewhere."""
        out = np.zeros(period)
        rows = np.arange(chunk * rows_per, min(n, (chunk + 1) * rows_per))
        out[(rows - chunk * rows_per) * p] = eta * weights[rows]
        return np.tile(out, slots // period)

    groups = [
        list(range(c, min(len(x_cts), c + batch_chunks)))
        for c in range(0, len(x_cts), batch_chunks)
    ]
    plans = []
    for chunks in groups:
        rows = np.arange(chunks[0] * rows_per, min(n, (chunks[-1] + 1) * rows_per))
        s_b = float(weights[rows].sum())
        eta = learning_rate / s_b
        decay = np.where(valid, 1.0 - eta * penalty * (s_b / total), 0.0)
        plans.append((chunks, [mask(c, eta) for c in chunks], np.tile(decay, slots // p)))

    w: Any = None
    prev: Any = None
    refreshes = 0
    for epoch in range(1, epochs + 1):
        for chunks, masks, decay in plans:
            live = [ct for ct in (w, prev) if ct is not None]
            if live and min(eng.levels_left(ct) for ct in live) < need:
                refreshes += 1
                fresh = refresh(live)
                w, prev = fresh[0], (fresh[1] if len(fresh) > 1 else None)
            v = w
            if beta and w is not None:
                v = eng.mul_scalar(w, 1.0 + beta, "Nesterov look-ahead")
                if prev is not None:
                    v = eng.sub(v, eng.mul_scalar(prev, beta, "Nesterov look-ahead"))
            grads = []
            for c, m in zip(chunks, masks, strict=True):
                if v is None:  # w = 0: the residual is -y
                    r = eng.mul_plain(y_cts[c], -m, "gd residual")
                else:
                    u = eng.rotate_sum(eng.mul(x_cts[c], v, "gd prediction"), dot_steps)
                    r = eng.mul_plain(eng.sub(u, y_cts[c]), m, "gd residual")
                r = eng.rotate_sum(r, spread)
                grads.append(eng.mul_no_relin(x_cts[c], r, "gd gradient"))
            g = eng.rotate_sum(eng.relinearize(eng.add_many(grads)), row_sum)
            new = eng.neg(g) if v is None else eng.sub(eng.mul_plain(v, decay, "gd decay"), g)
            w, prev = new, (w if beta else None)
        if callback is not None:
            callback(epoch, w)
    return w, refreshes
