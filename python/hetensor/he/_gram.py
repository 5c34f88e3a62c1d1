"""Slot-level kernels of linear models on packed rows: statistics, the folded Gram iteration
and the row operations (``X @ w``, ``X^T r``) gradient methods are made of.

Packing. ``X`` (n, d) arrives in the canonical row-major layout: rows of ``P = next_pow2(d)``
slots, ``R`` rows per ciphertext. The weights live P-periodically replicated over all slots
(the canonical layout of a (P,) vector), so a full-ciphertext rotation by ``r`` is a cyclic
rotation of ``w`` within every block. The Gram matrix is kept as its ``P`` generalized
diagonals ``D_r[j] = M[j, (j + r) mod P]``, each also P-periodic, so

    M @ w = sum_r D_r * rot(w, r)

needs no masks: one hoisted precomputation, one rotation and one ciphertext product per
non-zero diagonal (left unrelinearized and summed: one key switch for all products), one
level per iteration, and the result is again P-periodic.

Baby-step giant-step. With ``r = g B + b``, ``D_r * rot(w, r) = rot(D'_r * rot(w, b), g B)``
for the pre-rotated ``D'_r = rot(D_r, -g B)``, so an iteration costs ``B - 1`` hoisted
rotations of ``w``, one relinearization and one rotation per giant step: about ``2 sqrt(P)``
key switches instead of ``P``. The products are left unrelinearized and summed.

Statistics. ``T_r = rowsum(X * rot(X, r))`` holds ``G[j, j + r]`` for ``j + r < P``; the same
split, ``X * rot(X, gB + b) = rot(rot(X, -gB) * rot(X, b), gB)``, needs ``B + G - 2`` hoisted
rotations per chunk of rows (not ``d - 1``), and one rotation per offset after the chunks are
summed, then ``log2(period / P)`` rotations for the row sum; the lower diagonals
follow from symmetry, ``G[j, j + r - P] = T_{P - r}[j + r - P]``, by one rotation. ``X^T y``
takes ``y`` with ``y_i`` in slot ``i * P`` of row ``i`` (:func:`target_layout`), spread over
the row by ``log2 P`` rotations. Folding ``-lr/n`` and ``alpha`` into the masks that pick the
valid entries costs one level, so the statistics use two levels and each iteration one.

Rows. ``X @ w`` for a P-periodic ``w``: one product per chunk and ``log2 P`` rotations put
``x_i . w`` in slot ``i P`` (:func:`row_dots`). ``X^T r`` for ``r_i`` in slot ``i P`` (zeros
elsewhere): ``r`` spread over its row (:func:`spread_steps`), one unrelinearized product per
chunk, the chunks summed and relinearized once, then the rows summed (:func:`row_steps`):
P-periodic again (:func:`column_sums`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core
from .array import EncryptedArray

_pk = _core.packing


def padded(d: int) -> int:
    return int(_pk.next_pow2(int(d)))


def vector_layout(length: int, p: int, slots: int) -> Any:
    """Layout of a vector of ``length <= p`` entries repeated every ``p`` slots."""
    return _pk.ArrayLayout((length,), (p,), (1,), p, slots, length, 1)


def row_layout(x_layout: Any, n_columns: int) -> Any:
    """``x_layout`` (rows of ``P`` slots) describing ``n_columns <= P`` columns instead."""
    lay = x_layout
    return _pk.ArrayLayout(
        (int(lay.shape[0]), n_columns),
        lay.pads,
        lay.strides,
        lay.period,
        lay.slots,
        lay.chunk_rows,
        lay.n_chunks,
    )


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
    return [-s for s in dot_steps(p)]


def dot_steps(p: int) -> list[int]:
    """Steps summing each row's ``p`` slots into its slot 0 (left rotations 1, 2, ..., p/2)."""
    return [1 << k for k in range(int(p).bit_length() - 1)]


def row_dots(eng: Any, x_ct: Any, w: Any, p: int, op: str) -> Any:
    """``x_i . w`` in slot ``i P`` of each row of a chunk (other slots: partial sums)."""
    return eng.rotate_sum(eng.mul(x_ct, w, op), dot_steps(p))


def column_sums(eng: Any, x_cts: list[Any], spread_cts: list[Any], x_layout: Any, op: str) -> Any:
    """``sum_i r_i x_i`` (P-periodic) from the chunks of ``X`` and of ``r`` spread over its
    rows: products left unrelinearized, summed, relinearized once, then the rows summed."""
    prods = [eng.mul_no_relin(x, r, op) for x, r in zip(x_cts, spread_cts, strict=True)]
    return eng.rotate_sum(eng.relinearize(eng.add_many(prods)), row_steps(x_layout))


def nonzero_diagonals(d_eff: int, p: int) -> list[int]:
    """Diagonal offsets ``r`` of a symmetric ``d_eff x d_eff`` matrix padded to ``p``."""
    return [r for r in range(p) if r < d_eff or r > p - d_eff]


def _tile(block: np.ndarray, slots: int) -> np.ndarray:
    return np.tile(block, slots // block.size)


def split(n: int) -> int:
    """Baby-step count for ``n`` offsets: about ``sqrt(n)``."""
    return max(1, int(np.ceil(np.sqrt(n))))


def plan_steps(d_eff: int, p: int) -> set[int]:
    """Every rotation the statistics and the iteration use (for ``key_plan``)."""
    steps: set[int] = set()
    bs = split(d_eff)
    for r in range(d_eff):
        g, b = divmod(r, bs)
        steps |= {b, -g * bs, g * bs}
    bi = split(p)
    for r in nonzero_diagonals(d_eff, p):
        g, b = divmod(r, bi)
        steps |= {b, g * bi, -g * bi}
        if r > p - d_eff and r > 0:
            steps.add(r - p - g * bi)
    steps |= set(spread_steps(p))
    steps.discard(0)
    return steps


def gram_statistics(
    x: EncryptedArray, y: EncryptedArray, d_eff: int, *, progress: Callable[[], None] | None
) -> tuple[dict[int, Any], Any]:
    """Encrypted ``T_r`` (r < d_eff) and ``X^T y`` (P-periodic ciphertexts), one level."""
    eng, lay = x._eng, x._layout
    p = int(lay.pads[1])
    bs = split(d_eff)
    pairs = [divmod(r, bs) for r in range(d_eff)]
    rots = sorted({b for _, b in pairs} | {-g * bs for g, _ in pairs})
    eng.check_levels(list(x._cts) + list(y._cts), 1, "the Gram statistics")
    # running sums over the chunks (memory O(d) ciphertexts, not O(chunks * d))
    acc: dict[tuple[int, int], Any] = {}
    xy: Any = None

    def accumulate(total: Any, term: Any) -> Any:
        return term if total is None else eng.add_into(total, term)

    for xc, yc in zip(x._cts, y._cts, strict=True):
        rot = eng.rotate_many(xc, rots)
        for g, b in pairs:
            prod = eng.mul_no_relin(rot[-g * bs], rot[b], "X^T X")
            acc[g, b] = accumulate(acc.get((g, b)), prod)
        del rot
        xy = accumulate(xy, eng.mul_no_relin(xc, eng.rotate_sum(yc, spread_steps(p)), "X^T y"))
        if progress is not None:
            progress()
    steps = row_steps(lay)
    t = {}

    def rescaled(ct: Any) -> Any:  # relinearized, then rescaled: the rotations after it
        ct = eng.relinearize(ct)  # work on one modulus tower fewer
        return eng.at_level(ct, eng.levels_used(ct))

    for g, b in pairs:  # relinearize once per offset, after summing the chunks
        summed = eng.rotate(rescaled(acc.pop((g, b))), g * bs)
        t[g * bs + b] = eng.rotate_sum(summed, steps)
    b_ct = eng.rotate_sum(rescaled(xy), steps)
    return t, b_ct


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
    """Pre-rotated diagonals ``D'_r = rot(s D_r, -gB)`` of ``s * M``, ``M = I - eta (G +
    diag(penalty))``, for each ``s`` in ``scales``, and ``c = eta X^T y``; one level (the
    masks carry the constants and are rotated in the clear)."""
    j = np.arange(p)
    valid = j < d_eff
    diag0 = np.where(valid, 1.0 - eta * np.pad(penalty, (0, p - d_eff)), 0.0)
    bi = split(p)
    upper, lower = {}, {}
    for r in nonzero_diagonals(d_eff, p):
        shift = (r // bi) * bi
        if r < d_eff:
            upper[r] = eng.rotate(t[r], -shift)
        if r > p - d_eff and r > 0:
            lower[r] = eng.rotate(t[p - r], r - p - shift)
    out = []
    for s in scales:
        diags: dict[int, Any] = {}
        for r in nonzero_diagonals(d_eff, p):
            shift = (r // bi) * bi
            parts = []
            hi = valid & (j + r < d_eff)
            if r in upper and hi.any():
                mask = np.roll(-s * eta * hi, shift)
                parts.append(eng.mul_plain(upper[r], _tile(mask, slots), "folding"))
            if r in lower:
                lo = valid & (j + r >= p) & (j + r - p < d_eff)
                mask = np.roll(-s * eta * lo, shift)
                parts.append(eng.mul_plain(lower[r], _tile(mask, slots), "folding"))
            if not parts:
                continue
            ct = eng.add_many(parts)
            if r == 0:
                ct = eng.add_plain(ct, _tile(s * diag0, slots))
            diags[r] = ct
        out.append(diags)
    c = eng.mul_plain(b, _tile(eta * valid, slots), "folding")
    return out, c


def baby_steps(diags: dict[int, Any], p: int) -> list[int]:
    """The rotations of ``w`` an iteration needs."""
    bi = split(p)
    return sorted({r % bi for r in diags})


def matvec(diags: dict[int, Any], rotated: dict[int, Any], p: int, eng: Any) -> Any:
    """``sum_r D_r * rot(w, r)`` from the pre-rotated diagonals and the baby-step rotations
    of ``w``: per giant step, unrelinearized products summed, relinearized, rotated."""
    bi = split(p)
    groups: dict[int, list[Any]] = {}
    for r, d in diags.items():
        g, b = divmod(r, bi)
        groups.setdefault(g, []).append(eng.mul_no_relin(d, rotated[b], "Gram iteration"))
    parts = [eng.rotate(eng.relinearize(eng.add_many(v)), g * bi) for g, v in groups.items()]
    return eng.add_many(parts)
