"""EncryptedArray: NumPy semantics over packed CKKS ciphertexts.

Elements sit in ciphertext slots by a bit-field layout planned in C++
(:class:`hetensor._core.packing.ArrayLayout`); arrays larger than one ciphertext are split
along axis 0. Every operation plans its slot movements in C++ and issues OpenFHE operations
through the context's engine, which checks levels (bootstrapping when the context allows) and
rotation keys before any work.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from .._validate import as_array, check_int, check_ints
from ..errors import ContextMismatchError, InvalidDtypeError, NonFiniteError
from . import _bounds
from ._base import Encrypted

if TYPE_CHECKING:
    from .context import Context

__all__ = ["EncryptedArray"]

_pk = _core.packing


def _normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Iterable) and not isinstance(axis, str):
        axes = check_ints("axis", axis)
    else:
        axes = (check_int("axis", axis),)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError("duplicate value in 'axis'")
    return tuple(sorted(out))


class EncryptedArray(Encrypted, np.lib.mixins.NDArrayOperatorsMixin):
    """An N-d float64 array encrypted with CKKS, with NumPy semantics.

    Made by ``ctx.encrypt(ndarray)``. Supports ``+ - *`` and ``**`` (small ints) with
    broadcasting against EncryptedArrays, ndarrays and scalars, ``@``, ``sum``/``mean`` over
    axes, ``.T``/``transpose``, ``reshape``, indexing and slicing, ``concatenate``/``stack``,
    :func:`polyval` and :func:`chebyshev`; NumPy functions dispatch through the array
    protocols, and any other NumPy function raises ``TypeError`` naming it. Decryption is
    always explicit: ``ctx.decrypt(arr)``.

    Examples
    --------
    >>> import numpy as np
    >>> import hetensor as ht
    >>> ctx = ht.Context.ckks(depth=4, insecure=True)                  # doctest: +SKIP
    >>> a = ctx.encrypt(np.arange(12.0).reshape(3, 4) / 10)              # doctest: +SKIP
    >>> np.round(ctx.decrypt((a * 2 + a).sum(axis=0)), 6)                # doctest: +SKIP
    array([3.6, 4.5, 5.4, 6.3])
    >>> np.round(ctx.decrypt(a.T @ a), 4).shape                          # doctest: +SKIP
    (4, 4)
    """

    __slots__ = ("_clean",)
    dtype = np.dtype("float64")
    _kind = "array"
    _made_by = "make encrypted arrays with Context.encrypt(...)"

    _clean: bool

    @classmethod
    def _make(
        cls,
        ctx: Context,
        cts: Sequence[Any],
        layout: Any,
        clean: bool,
        eng: Any = None,
        *,
        bound: float,
    ) -> EncryptedArray:
        obj = object.__new__(cls)
        obj._init(ctx, cts, layout, eng, bound)
        obj._clean = clean
        return obj

    def _new(
        self,
        cts: Sequence[Any],
        layout: Any = None,
        clean: bool | None = None,
        bound: float | None = None,
    ) -> EncryptedArray:
        """An array over ``cts`` with this one's context and engine; layout, cleanliness and
        bound default to this one's (right for data movement, which changes no value)."""
        return EncryptedArray._make(
            self._ctx,
            cts,
            self._layout if layout is None else layout,
            self._clean if clean is None else clean,
            self._eng,
            bound=self._bound if bound is None else bound,
        )

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._layout.shape)

    @property
    def ndim(self) -> int:
        return len(self._layout.shape)

    @property
    def size(self) -> int:
        return int(self._layout.size)

    def __len__(self) -> int:
        if not self.ndim:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    @property
    def layout(self) -> Any:
        """Read-only :class:`hetensor._core.packing.ArrayLayout`: where elements sit in slots."""
        return self._layout

    @property
    def T(self) -> EncryptedArray:
        return self.transpose()

    def __repr__(self) -> str:
        kind = "symbolic " if self._eng.dry else ""
        return (
            f"<hetensor.EncryptedArray {kind}shape={self.shape} ciphertexts={len(self._cts)} "
            f"levels_left={self.levels_left}/{self._ctx.depth} bound={self._bound:g} "
            f"context={self._ctx.role}:{self._ctx.fingerprint[:12]}>"
        )

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------------ Encrypted hooks
    @property
    def _period(self) -> int:
        return int(self._layout.period)

    def _decode(self, slot_rows: np.ndarray, average: bool) -> np.ndarray:
        return _pk.decode_array(slot_rows, self._layout, average).reshape(self.shape)

    def _wire_meta(self) -> dict[str, Any]:
        state = self._layout.__getstate__()
        return {
            "layout": [list(x) if isinstance(x, tuple) else x for x in state],
            "clean": self._clean,
        }

    @classmethod
    def _from_wire(cls, ctx: Context, cts: list[Any], meta: dict[str, Any]) -> EncryptedArray:
        layout = _pk.ArrayLayout(*meta["layout"])
        if layout.slots != ctx.slots or layout.n_chunks != len(cts):
            raise ValueError("slot count or chunking differs from the context's")
        return cls._make(
            ctx,
            cts,
            layout,
            bool(meta.get("clean", False)),
            bound=_bounds.wire_bound(meta, ctx._params),
        )

    def _rebuilt(self, ctx: Context, cts: Sequence[Any]) -> EncryptedArray:
        return EncryptedArray._make(ctx, cts, self._layout, self._clean, bound=self._bound)

    # ------------------------------------------------------------------ NumPy protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from ._functions import UFUNCS

        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        if set(kwargs) - {"out"}:
            raise TypeError(
                f"numpy.{ufunc.__name__} keyword arguments {sorted(kwargs)} are not supported "
                "on EncryptedArray"
            )
        for x in inputs:
            if not isinstance(x, (EncryptedArray, np.ndarray, numbers.Number, list, tuple)):
                return NotImplemented
        fn = UFUNCS.get(ufunc)
        if fn is None:
            raise TypeError(f"numpy.{ufunc.__name__} is not supported on EncryptedArray")
        return fn(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from ._functions import HANDLED_FUNCTIONS

        if not all(issubclass(t, (EncryptedArray, np.ndarray)) for t in types):
            return NotImplemented
        fn = HANDLED_FUNCTIONS.get(func)
        if fn is None:
            name = getattr(func, "__name__", str(func))
            raise TypeError(f"numpy.{name} is not supported on EncryptedArray")
        return fn(*args, **kwargs)

    # ------------------------------------------------------------------ methods
    def sum(self, axis: Any = None, keepdims: bool = False) -> EncryptedArray:
        from ._functions import sum as _sum

        return _sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> EncryptedArray:
        from ._functions import mean as _mean

        return _mean(self, axis=axis, keepdims=keepdims)

    def transpose(self, *axes: Any) -> EncryptedArray:
        from ._functions import transpose as _transpose

        order: Any = axes
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], (int, np.integer))):
            order = axes[0]
        return _transpose(self, order if order else None)

    def reshape(self, *shape: Any) -> EncryptedArray:
        from ._functions import reshape as _reshape

        if len(shape) == 1 and isinstance(shape[0], Iterable):
            shape = tuple(shape[0])
        return _reshape(self, shape)

    def dot(self, other: Any) -> EncryptedArray:
        from ._functions import dot as _dot

        return _dot(self, other)

    def __getitem__(self, key: Any) -> EncryptedArray:
        index = np.arange(self.size).reshape(self.shape)[key]
        return self._gather(np.asarray(index))

    # ------------------------------------------------------------------ internals
    def _check_same_context(self, other: EncryptedArray) -> None:
        if other._ctx._fingerprint != self._ctx._fingerprint:
            raise ContextMismatchError(
                "the arrays belong to another context each (different keys or "
                f"parameters: {self._ctx.fingerprint[:12]} vs {other._ctx.fingerprint[:12]})"
            )
        if other._eng.dry != self._eng.dry:
            raise TypeError("cannot mix symbolic (recording) and encrypted arrays")

    def _cleaned(self) -> EncryptedArray:
        """This array with every slot that holds no element set to zero (one level)."""
        if self._clean:
            return self
        masks = _pk.layout_mask(self._layout)
        eng = self._eng
        eng.check_levels(self._cts, 1, "masking")
        self._checked_bound(self._bound, 1, "masking")
        cts = [eng.mul_plain(ct, masks[i], "masking") for i, ct in enumerate(self._cts)]
        return self._new(cts, clean=True)

    def _relayout(self, dst: Any, source_index: np.ndarray) -> EncryptedArray:
        """Move elements into layout ``dst``: dst element e <- self element source_index[e]."""
        terms, free = _pk.plan_relayout(
            self._layout, dst, np.ascontiguousarray(source_index, dtype=np.int64).ravel()
        )
        if free:
            return self._new(self._cts, dst, clean=False)
        return self._new(self._apply_terms(terms, dst.n_chunks), dst, clean=True)

    def _apply_terms(self, terms: list[Any], n_out: int) -> list[Any]:
        """Sum of mask * rotate(source chunk, r) per output chunk, rotations hoisted (None for
        an output chunk no term reaches)."""
        eng = self._eng
        eng.check_levels(self._cts, 1, "data movement (masked rotations)")
        self._checked_bound(self._bound, 1, "data movement (masked rotations)")
        by_src: dict[int, list[Any]] = {}
        for term in terms:
            by_src.setdefault(term[1], []).append(term)
        parts: list[list[Any]] = [[] for _ in range(n_out)]
        for src, group in by_src.items():
            rotated = eng.rotate_many(self._cts[src], sorted({t[2] for t in group}))
            for dst_chunk, _, rot, mask in group:
                parts[dst_chunk].append(eng.mul_plain(rotated[rot], mask, "data movement"))
        return [eng.add_many(p) if p else None for p in parts]

    def _gather(self, index: np.ndarray) -> EncryptedArray:
        """Array of shape index.shape whose elements are self.flat[index]."""
        dst = _pk.plan_array(index.shape, self._ctx.slots)
        return self._relayout(dst, index.ravel())

    def _as_shape(self, shape: tuple[int, ...], layout: Any = None) -> EncryptedArray:
        """Broadcast to ``shape`` in ``layout`` (default: own layout if shapes match, else
        canonical); free when the periodic slot structure already holds the data."""
        if layout is None:
            if self.shape == shape:
                return self
            layout = _pk.plan_array(shape, self._ctx.slots)
        if self.shape == shape and self._layout == layout:
            return self
        index = np.broadcast_to(np.arange(self.size).reshape(self.shape), shape)
        return self._relayout(layout, index.ravel())

    def _encode_plain(self, values: Any, layout: Any) -> np.ndarray:
        """Slot vectors (n_chunks, slots) for a plain operand broadcast to ``layout.shape``."""
        arr = np.broadcast_to(values, tuple(layout.shape))
        return _pk.encode_array(np.ascontiguousarray(arr, dtype=np.float64), layout)


def as_plain(value: Any) -> np.ndarray | float | None:
    """A plain operand as float or float64 array; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            raise NonFiniteError(f"cannot combine an encrypted array with {v}")
        return v
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = as_array("the plain operand", value)
        if arr.dtype.kind not in "iuf":
            raise InvalidDtypeError(
                f"cannot combine an encrypted array with an array of dtype {arr.dtype}"
            )
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise NonFiniteError("plain operand holds NaN or infinity")
        return arr
    return None
