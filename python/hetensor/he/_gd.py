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
encrypting. ``hetensor.linear_model.gradient_descent`` is the same algorithm in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _bounds, _gram


def levels_per_step(beta: float) -> int:
    """Levels one step consumes from ``w``: prediction, mask, gradient product, and
    Nesterov's look-ahead mix when ``beta`` is non-zero."""
    return 3 + int(bool(beta))


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
    refresh: Callable[[list[Any], float], list[Any]],
    callback: Callable[[int, Any, float], None] | None,
    bounds: tuple[float, float],
) -> tuple[Any, int, float]:
    """The encrypted loop: returns the weight ciphertext, the number of refreshes and the
    weights' bound.

    ``weights`` are the (plaintext, public) sample weights in row order; ``refresh`` gives
    fresh levels to a list of weight ciphertexts of a bound (bootstrap or the owner's round);
    ``bounds`` are those of ``X`` and ``y``. The weights' bound assumes a convergent learning
    rate (:func:`~hetensor.he._bounds.weight_bounds`); each step's intermediate values are
    checked against their levels before the step's work.
    """
    p, slots, rows_per = int(layout.pads[1]), int(layout.slots), int(layout.chunk_rows)
    n = int(layout.shape[0])
    spread = _gram.spread_steps(p)
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

    # c_B = eta_B X_B^T S_B y_B: eta_B = lr / s_B folds the batch's sum over rows
    bx, by = bounds
    c_bound = learning_rate * bx * by
    c_norm = min(math.sqrt(d_eff) * c_bound, math.sqrt(learning_rate) * by)
    w_bounds = _bounds.weight_bounds(c_bound, c_norm, epochs * len(plans), beta)
    w_bound = 0.0
    peaks = [max(float(m.max()) for m in masks) for _, masks, _ in plans]  # eta_B max(s)
    params = eng.params
    step = 0

    w: Any = None
    prev: Any = None
    refreshes = 0
    for epoch in range(1, epochs + 1):
        for (chunks, masks, decay), peak in zip(plans, peaks, strict=True):
            live = [ct for ct in (w, prev) if ct is not None]
            if live and min(eng.levels_left(ct) for ct in live) < need:
                refreshes += 1
                fresh = refresh(live, w_bound)
                w, prev = fresh[0], (fresh[1] if len(fresh) > 1 else None)
            # bounds of this step, checked before its work: the look-ahead v, the
            # prediction u = X v, the residual r = eta s (u - y), the gradient sum_i r_i x_i
            used = max([eng.levels_used(ct) for ct in [*live, x_cts[chunks[0]]]])
            v_bound = (1.0 + 2.0 * beta) * w_bound
            u_bound = d_eff * bx * v_bound
            _bounds.check(params, u_bound, used + 1, "gd prediction")
            _bounds.check(params, (u_bound + by) * peak, used + 2, "gd residual")
            _bounds.check(params, learning_rate * bx * (u_bound + by), used + 3, "gd gradient")
            w_bound = w_bounds[step]
            step += 1
            _bounds.check(params, w_bound, used + 3, "gd step")
            v = w
            if beta and w is not None:
                v = eng.mul_scalar(w, 1.0 + beta, "Nesterov look-ahead")
                if prev is not None:
                    v = eng.sub(v, eng.mul_scalar(prev, beta, "Nesterov look-ahead"))
            spread_r = []
            for c, m in zip(chunks, masks, strict=True):
                if v is None:  # w = 0: the residual is -y
                    r = eng.mul_plain(y_cts[c], -m, "gd residual")
                else:
                    u = _gram.row_dots(eng, x_cts[c], v, p, "gd prediction")
                    r = eng.mul_plain(eng.sub(u, y_cts[c]), m, "gd residual")
                spread_r.append(eng.rotate_sum(r, spread))
            x_batch = [x_cts[c] for c in chunks]
            g = _gram.column_sums(eng, x_batch, spread_r, layout, "gd gradient")
            new = eng.neg(g) if v is None else eng.sub(eng.mul_plain(v, decay, "gd decay"), g)
            w, prev = new, (w if beta else None)
        if callback is not None:
            callback(epoch, w, w_bound)
    return w, refreshes, w_bound
