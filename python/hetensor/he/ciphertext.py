"""One CKKS ciphertext holding a 1-D vector, with level tracking and key checks.

:class:`Ciphertext` is the low-level handle under ``EncryptedArray``: elementwise ``+ - *``
with other ciphertexts, NumPy vectors and scalars, rotations and a logarithmic rotate-and-sum.
Every operation checks, before any OpenFHE work, that the operands share a context, that the
needed rotation keys exist, and that enough multiplicative levels are left (bootstrapping first
when the context allows it, raising :class:`~hetensor.errors.DepthError` otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from .._validate import check_int
from . import _bounds
from ._base import Encrypted
from .array import as_plain

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Ciphertext"]


class Ciphertext(Encrypted):
    """A CKKS ciphertext of a 1-D real vector, bound to a :class:`~hetensor.Context`.

    Made by :meth:`Context.encrypt`, never directly. Immutable: every operation returns a
    new ciphertext. NumPy arrays on either side of an operator work (``x + ct``), but a
    ciphertext never turns into an array implicitly; use ``ctx.decrypt(ct)``.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> ctx = ht.Context.ckks(depth=2, insecure=True)                  # doctest: +SKIP
    >>> x = np.array([0.5, -1.0, 2.0])
    >>> ct = ctx.encrypt(x)                                              # doctest: +SKIP
    >>> np.allclose(ctx.decrypt(2 * ct * ct - x), 2 * x * x - x, atol=1e-6)   # doctest: +SKIP
    True
    >>> float(ctx.decrypt(ct.sum())[0])                                  # doctest: +SKIP
    1.5
    """

    __slots__ = ()
    __array_ufunc__ = None  # NumPy defers to the reflected operators below
    _kind = "ciphertext"
    _made_by = "make ciphertexts with Context.encrypt(...)"

    @classmethod
    def _wrap(cls, ct: Any, ctx: Context, layout: Any, bound: float) -> Ciphertext:
        obj = object.__new__(cls)
        obj._init(ctx, (ct,), layout, None, bound)
        return obj

    @property
    def _ct(self) -> Any:
        return self._cts[0]

    # ------------------------------------------------------------------ metadata
    @property
    def layout(self) -> Any:
        """Read-only :class:`hetensor._core.packing.VectorLayout` of the elements in slots."""
        return self._layout

    @property
    def size(self) -> int:
        return int(self._layout.length)

    @property
    def shape(self) -> tuple[int]:
        return (self.size,)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (
            f"<hetensor.Ciphertext size={self.size} slots={self._layout.slots} "
            f"levels_left={self.levels_left}/{self._ctx.depth} bound={self._bound:g} "
            f"context={self._ctx.role}:{self._ctx.fingerprint[:12]}>"
        )

    # ------------------------------------------------------------------ Encrypted hooks
    @property
    def _period(self) -> int:
        return int(self._layout.period)

    def _decode(self, slot_rows: np.ndarray, average: bool) -> np.ndarray:
        return _core.packing.decode_vector(slot_rows[0], self._layout, average)

    def _wire_meta(self) -> dict[str, Any]:
        lay = self._layout
        return {"layout": [lay.length, lay.period, lay.copies, lay.slots]}

    @classmethod
    def _from_wire(cls, ctx: Context, cts: list[Any], meta: dict[str, Any]) -> Ciphertext:
        layout = _core.packing.VectorLayout(*meta["layout"])
        if layout.slots != ctx.slots:
            raise ValueError("slot count or chunking differs from the context's")
        return cls._wrap(cts[0], ctx, layout, _bounds.wire_bound(meta, ctx._params))

    def _rebuilt(self, ctx: Context, cts: Sequence[Any]) -> Ciphertext:
        return Ciphertext._wrap(cts[0], ctx, self._layout, self._bound)

    # ------------------------------------------------------------------ helpers
    def _new(self, ct: Any, layout: Any = None, bound: float | None = None) -> Ciphertext:
        return Ciphertext._wrap(
            ct,
            self._ctx,
            self._layout if layout is None else layout,
            self._bound if bound is None else bound,
        )

    def _is_broadcast_scalar(self) -> bool:
        lay = self._layout
        return lay.length == 1 and lay.period == 1

    def _join_layout(self, other: Ciphertext) -> Any:
        if self._layout == other._layout:
            return self._layout
        if other._is_broadcast_scalar():
            return self._layout
        if self._is_broadcast_scalar():
            return other._layout
        raise ValueError(
            f"operands could not be broadcast together with shapes {self.shape} {other.shape}"
        )

    def _slot_values(self, values: np.ndarray) -> np.ndarray:
        """Slot vector of a NumPy vector in this ciphertext's layout."""
        if values.ndim != 1 or values.shape[0] != self.size:
            raise ValueError(
                f"operands could not be broadcast together with shapes {self.shape} {values.shape}"
            )
        return _core.packing.encode_vector(values, self._layout)  # NonFiniteError

    def _coerce(self, other: Any) -> Ciphertext | float | np.ndarray | None:
        """Classify an operand: Ciphertext, finite float, float64 vector, or None."""
        if isinstance(other, Ciphertext):
            self._ctx._check_compatible(other)
            return other
        value = as_plain(other)  # the plain-operand rules EncryptedArray uses
        if isinstance(value, np.ndarray) and (value.ndim == 0 or value.shape == (1,)):
            return float(value.reshape(()))
        return value

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, other: Any, kind: str) -> Ciphertext:
        eng = self._eng
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        op = {"add": "add", "sub": "subtract", "mul": "multiply"}[kind]
        if isinstance(o, Ciphertext):
            layout = self._join_layout(o)
            if kind == "mul":
                bound = self._checked_bound(self._bound * o._bound, 1, op, o)
            else:
                bound = self._checked_bound(self._bound + o._bound, 0, op, o)
            fn = {"add": eng.add, "sub": eng.sub, "mul": eng.mul}[kind]
            return self._new(fn(self._ct, o._ct), layout, bound)
        peak = _bounds.plain_max(o)
        if kind == "mul":
            free = isinstance(o, float) and o in (1.0, -1.0, 2.0, -2.0)  # no level
            bound = self._checked_bound(self._bound * peak, 0 if free else 1, op)
        else:
            bound = self._checked_bound(self._bound + peak, 0, op)
        if isinstance(o, float):
            if kind == "mul":
                return self._new(eng.mul_scalar(self._ct, o), bound=bound)
            return self._new(eng.add_scalar(self._ct, o if kind == "add" else -o), bound=bound)
        values = self._slot_values(o)
        if kind == "mul":
            return self._new(eng.mul_plain(self._ct, values), bound=bound)
        return self._new(eng.add_plain(self._ct, values if kind == "add" else -values), bound=bound)

    def __add__(self, other: Any) -> Ciphertext:
        return self._binary(other, "add")

    __radd__ = __add__

    def __sub__(self, other: Any) -> Ciphertext:
        return self._binary(other, "sub")

    def __rsub__(self, other: Any) -> Ciphertext:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return (-self)._binary(o, "add")

    def __mul__(self, other: Any) -> Ciphertext:
        return self._binary(other, "mul")

    __rmul__ = __mul__

    def __neg__(self) -> Ciphertext:
        return self._new(self._eng.neg(self._ct))

    def __pos__(self) -> Ciphertext:
        return self

    def square(self) -> Ciphertext:
        """Elementwise square (one level)."""
        bound = self._checked_bound(self._bound**2, 1, "square")
        return self._new(self._eng.square(self._ct), bound=bound)

    # ------------------------------------------------------------------ rotations
    def rotate(self, k: int) -> Ciphertext:
        """Rotate the padded block left by ``k`` (cyclic): slot ``i`` gets element ``i + k``.

        For a vector of length ``n`` padded to a block of ``p = next_pow2(n)`` slots this
        equals ``np.roll(np.pad(x, (0, p - n)), -k)[:n]``. Uses the rotation key for ``k``;
        the owner's context makes a missing one on demand, a public one raises
        :class:`~hetensor.errors.MissingKeyError`.
        """
        return self._new(self._eng.rotate(self._ct, check_int("k", k)))

    def sum(self) -> Ciphertext:
        """Sum of the elements, in every slot: log2(period) rotations and additions.

        The result behaves as a scalar: it broadcasts against ciphertexts of any length.
        Needs the rotation keys of ``KeyPlan.for_sum(len(ct))``.
        """
        period = int(self._layout.period)
        steps = _core.packing.rotation_sum_steps(period)
        slots = int(self._layout.slots)
        # every slot of the block counts: a scalar added earlier sits in the padding too
        bound = self._checked_bound(self._bound * period, 0, "sum")
        return self._new(
            self._eng.rotate_sum(self._ct, steps),
            _core.packing.VectorLayout(1, 1, slots, slots),
            bound,
        )
