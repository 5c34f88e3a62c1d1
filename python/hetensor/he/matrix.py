"""Diagonal (Halevi-Shoup) matrix-vector products with baby-step giant-step rotations.

:class:`EncryptedMatrix` holds an ``m x n`` matrix (padded to ``P x P``, ``P`` a power of two)
in the doubled diagonal layout planned by :func:`hetensor._core.packing.plan_bsgs`: one
ciphertext, ``2 P^2 <= slots``. ``M @ x`` for an encrypted vector then costs
``B - 1`` hoisted rotations, ``B`` masks, one ciphertext product, ``log2 B + G - 1`` rotations
(``B * G = P``), about ``2 sqrt(P)`` rotations instead of the ``P`` of a row-by-row product,
and leaves ``y`` contiguous in the first ``P`` slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from . import _bounds
from ._base import Encrypted
from .array import EncryptedArray, as_plain

if TYPE_CHECKING:
    from .context import Context

__all__ = ["EncryptedMatrix", "bsgs_matvec"]

_pk = _core.packing


class EncryptedMatrix(Encrypted):
    """A matrix encrypted in the diagonal layout, for fast ``M @ x`` (see module docstring).

    Made by ``ctx.encrypt(A, layout="diagonal")``; supports ``@`` with a 1-D encrypted or
    plain vector, ``shape``, ``levels_left``, serialization and ``ctx.decrypt``.

    Examples
    --------
    >>> import numpy as np, hetensor as ht
    >>> ctx = ht.Context.ckks(depth=3, insecure=True)                      # doctest: +SKIP
    >>> A, x = np.eye(4) * 0.5, np.arange(4.0)
    >>> y = ctx.encrypt(A, layout="diagonal") @ ctx.encrypt(x)               # doctest: +SKIP
    >>> np.round(ctx.decrypt(y), 6)                                          # doctest: +SKIP
    array([0. , 0.5, 1. , 1.5])
    """

    __slots__ = ("_shape",)
    __array_ufunc__ = None  # NumPy defers to __matmul__ / __rmatmul__
    _kind = "matrix"
    _made_by = 'make encrypted matrices with Context.encrypt(A, layout="diagonal")'

    _shape: tuple[int, int]

    @classmethod
    def _make(
        cls,
        ctx: Context,
        ct: Any,
        plan: Any,
        shape: tuple[int, int],
        eng: Any = None,
        *,
        bound: float,
    ) -> EncryptedMatrix:
        obj = object.__new__(cls)
        obj._init(ctx, (ct,), plan, eng, bound)
        obj._shape = shape
        return obj

    @property
    def _ct(self) -> Any:
        return self._cts[0]

    @property
    def _plan(self) -> Any:
        return self._layout

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def ndim(self) -> int:
        return 2

    @property
    def plan(self) -> Any:
        """The :class:`hetensor._core.packing.BsgsPlan` (baby/giant steps, rotations)."""
        return self._layout

    def __repr__(self) -> str:
        return (
            f"<hetensor.EncryptedMatrix diagonal shape={self._shape} "
            f"plan=(baby={self._plan.baby}, giant={self._plan.giant}) "
            f"levels_left={self.levels_left}/{self._ctx.depth} bound={self._bound:g}>"
        )

    # ------------------------------------------------------------------ Encrypted hooks
    def _decode(self, slot_rows: np.ndarray, average: bool) -> np.ndarray:
        rows, cols = self._shape
        return _pk.decode_diagonals(slot_rows[0], self._layout, rows, cols)

    def _wire_meta(self) -> dict[str, Any]:
        return {"shape": list(self._shape)}

    @classmethod
    def _from_wire(cls, ctx: Context, cts: list[Any], meta: dict[str, Any]) -> EncryptedMatrix:
        shape = tuple(int(d) for d in meta["shape"])
        if len(shape) != 2:
            raise ValueError(f"an encrypted matrix has 2 dimensions, got shape {shape}")
        plan = _pk.plan_bsgs(max(shape), ctx.slots)
        return cls._make(ctx, cts[0], plan, shape, bound=_bounds.wire_bound(meta, ctx._params))

    def _rebuilt(self, ctx: Context, cts: Sequence[Any]) -> EncryptedMatrix:
        return EncryptedMatrix._make(ctx, cts[0], self._layout, self._shape, bound=self._bound)

    def __matmul__(self, x: Any) -> EncryptedArray:
        return bsgs_matvec(self, x)


def _as_vector(x: Any, n: int, plan: Any) -> EncryptedArray:
    if not isinstance(x, EncryptedArray) or x.ndim != 1:
        raise TypeError("the BSGS product needs a 1-D EncryptedArray vector")
    if x.shape[0] != n:
        raise ValueError(f"matmul: shapes ({plan.n}, {n}) and {x.shape} not aligned")
    canonical = _pk.plan_array(x.shape, x._ctx.slots)
    if x._layout != canonical:  # rotations must act cyclically on the vector
        x = x._gather(np.arange(x.size))
    return x


def bsgs_matvec(w: Any, x: Any) -> EncryptedArray:
    """``w @ x`` by the diagonal BSGS plan; ``w`` plain ``(m, n)`` or an EncryptedMatrix.

    Levels: 1 for a plain ``w`` (the baby-step masks are folded into the diagonals), 2 for an
    encrypted one. The result sits contiguously in the first ``P`` slots (not replicated).
    """
    if isinstance(w, EncryptedMatrix):
        m, n = w.shape
        plan = w._plan
        x = _as_vector(x, n, plan)
        x._ctx._check_compatible(w)
    else:
        wp = as_plain(w)
        if not isinstance(wp, np.ndarray) or wp.ndim != 2:
            raise TypeError("bsgs_matvec needs a 2-D matrix")
        if not isinstance(x, EncryptedArray):
            raise TypeError("bsgs_matvec needs an encrypted vector")
        m, n = wp.shape
        plan = _pk.plan_bsgs(max(m, n), x._ctx.slots)
        x = _as_vector(x, n, plan)
    eng = x._eng
    ct = x._cts[0]
    masks = _pk.bsgs_masks(plan)
    baby = [0, *plan.baby_steps]
    if isinstance(w, EncryptedMatrix):
        eng.check_levels([ct, w._ct], 2, "matmul (diagonal BSGS)")
        # |y_i| <= n * bound(W) * bound(x)
        bound = x._checked_bound(n * w._bound * x._bound, 2, "matmul (diagonal BSGS)", w)
        rotated = eng.rotate_many(ct, baby)
        xb = eng.add_many([eng.mul_plain(rotated[b], masks[b], "matmul") for b in baby])
        prod = eng.mul(xb, w._ct, "matmul")
    else:
        eng.check_levels([ct], 1, "matmul (diagonal BSGS)")
        # |y_i| <= sum_j |w_ij| * bound(x)
        bound = x._checked_bound(_bounds.row_sum(wp) * x._bound, 1, "matmul (diagonal BSGS)")
        diag = _pk.encode_diagonals(np.ascontiguousarray(wp), plan)
        rotated = eng.rotate_many(ct, baby)
        prod = eng.add_many([eng.mul_plain(rotated[b], diag * masks[b], "matmul") for b in baby])
    blocks = eng.rotate_sum(prod, plan.block_steps)
    giant = eng.rotate_many(blocks, list(plan.giant_steps))
    y = eng.add_many([blocks, *giant.values()])
    layout = _pk.ArrayLayout((m,), (plan.n,), (1,), plan.slots, plan.slots, m, 1)
    return EncryptedArray._make(x._ctx, [y], layout, False, eng, bound=bound)
