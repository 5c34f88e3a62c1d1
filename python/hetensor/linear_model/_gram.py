"""Encrypted sufficient statistics and the folded Gram iteration (ARCHITECTURE decision 3).

Packing. ``X`` (n, d) arrives in the canonical row-major layout: rows of ``P = next_pow2(d)``
slots, ``R`` rows per ciphertext. The weights live P-periodically replicated over all slots
(the canonical layout of a (P,) vector), so a full-ciphertext rotation by ``r`` is a cyclic
rotation of ``w`` within every block. The Gram matrix is kept as its ``P`` generalized
diagonals ``D_r[j] = M[j, (j + r) mod P]``, each also P-periodic, so

    M @ w = sum_r D_r * rot(w, r)

needs no masks: one hoisted precomputation, one rotation and one ciphertext product per
non-zero diagonal (left unrelinearized and summed: one key switch for all products), one
level per iteration, and the result is again P-periodic.

Statistics. ``T_r = rowsum(X * rot(X, r))`` (one product per chunk and offset ``r < d``, then
``log2(period / P)`` rotations) holds ``G[j, j + r]`` for ``j + r < P``; the lower diagonals
follow from symmetry, ``G[j, j + r - P] = T_{P - r}[j + r - P]``, by one rotation. ``X^T y``
takes ``y`` with ``y_i`` in slot ``i * P`` of row ``i`` (:func:`target_layout`), spread over
the row by ``log2 P`` rotations. Folding ``-lr/n`` and ``alpha`` into the masks that pick the
valid entries costs one level, so the statistics use two levels and each iteration one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core
from ..he.array import EncryptedArray

_pk = _core.packing


def padded(d: int) -> int:
    return int(_pk.next_pow2(int(d)))


def target_layout(x_layout: Any) -> Any:
    """Layout for ``y`` (n,) aligned with the rows of ``X``: ``y_i`` in slot ``i * P``."""
    n = int(x_layout.shape[0])
    rows, p = int(x_layout.pads[0]), int(x_layout.pads[1])
    return _pk.ArrayLayout(
        (n,),
        (rows,),
        (p,),
        int(x_layout.period),
        int(x_layout.slots),
        int(x_layout.chunk_rows),
        int(x_layout.n_chunks),
    )


def row_steps(x_layout: Any) -> list[int]:
    """Rotation steps summing the rows of one chunk (result in every row)."""
    p, period = int(x_layout.pads[1]), int(x_layout.period)
    steps, s = [], p
    while s < period:
        steps.append(s)
        s *= 2
    return steps


def spread_steps(p: int) -> list[int]:
    """Steps spreading slot 0 of each row over its ``p`` slots (right rotations)."""
    steps, s = [], 1
    while s < p:
        steps.append(-s)
        s *= 2
    return steps


def nonzero_diagonals(d_eff: int, p: int) -> list[int]:
    """Diagonal offsets ``r`` of a symmetric ``d_eff x d_eff`` matrix padded to ``p``."""
    return [r for r in range(p) if r < d_eff or r > p - d_eff]


def _tile(block: np.ndarray, slots: int) -> np.ndarray:
    return np.tile(block, slots // block.size)


def gram_statistics(
    x: EncryptedArray, y: EncryptedArray, d_eff: int, *, progress: Callable[[], None] | None
) -> tuple[dict[int, Any], Any]:
    """Encrypted ``T_r`` (r < d_eff) and ``X^T y`` (P-periodic ciphertexts), one level."""
    eng, lay = x._eng, x._layout
    p = int(lay.pads[1])
    offsets = list(range(d_eff))
    eng.check_levels(list(x._cts) + list(y._cts), 1, "the Gram statistics")
    acc: dict[int, list[Any]] = {r: [] for r in offsets}
    xy: list[Any] = []
    for xc, yc in zip(x._cts, y._cts, strict=True):
        rot = eng.rotate_many(xc, offsets)
        for r in offsets:
            acc[r].append(eng.mul_no_relin(xc, rot[r], "X^T X"))
        xy.append(eng.mul_no_relin(xc, eng.rotate_sum(yc, spread_steps(p)), "X^T y"))
        if progress is not None:
            progress()
    steps = row_steps(lay)
    # relinearize once per offset, after summing the chunks
    t = {r: eng.rotate_sum(eng.relinearize(eng.add_many(acc[r])), steps) for r in offsets}
    b = eng.rotate_sum(eng.relinearize(eng.add_many(xy)), steps)
    return t, b


def fold_iteration(
    t: dict[int, Any],
    b: Any,
    *,
    d_eff: int,
    p: int,
    slots: int,
    eta: float,
    penalty: np.ndarray,
    scales: tuple[float, ...],
    eng: Any,
) -> tuple[list[dict[int, Any]], Any]:
    """Diagonals of ``s * M``, ``M = I - eta (G + diag(penalty))``, for each ``s`` in
    ``scales``, and ``c = eta X^T y``; one level (masks carry the constants)."""
    j = np.arange(p)
    valid = j < d_eff
    diag0 = np.where(valid, 1.0 - eta * np.pad(penalty, (0, p - d_eff)), 0.0)
    lower = {}
    for r in nonzero_diagonals(d_eff, p):
        if r > p - d_eff and r > 0:
            lower[r] = eng.rotate(t[p - r], r - p)
    out = []
    for s in scales:
        diags: dict[int, Any] = {}
        for r in nonzero_diagonals(d_eff, p):
            parts = []
            hi = valid & (j + r < d_eff)
            if r < d_eff and hi.any():
                parts.append(eng.mul_plain(t[r], _tile(-s * eta * hi, slots), "folding"))
            if r in lower:
                lo = valid & (j + r >= p) & (j + r - p < d_eff)
                parts.append(eng.mul_plain(lower[r], _tile(-s * eta * lo, slots), "folding"))
            ct = eng.add_many(parts)
            if r == 0:
                ct = eng.add_plain(ct, _tile(s * diag0, slots))
            diags[r] = ct
        out.append(diags)
    c = eng.mul_plain(b, _tile(eta * valid, slots), "folding")
    return out, c


def matvec(diags: dict[int, Any], rotated: dict[int, Any], eng: Any) -> Any:
    """``sum_r D_r * rot(w, r)`` given the rotations of ``w``."""
    prods = [eng.mul_no_relin(diags[r], rotated[r], "Gram iteration") for r in diags]
    return eng.relinearize(eng.add_many(prods))
