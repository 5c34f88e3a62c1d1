"""Operations on EncryptedArray, shared by its operators, the NumPy protocols and ``ht.*``.

``UFUNCS`` maps NumPy ufuncs to implementations (every operator goes through
``__array_ufunc__``); ``HANDLED_FUNCTIONS`` maps NumPy functions (``np.sum``, ``np.dot``, ...)
for ``__array_function__``. The same callables are exported as ``ht.sum``, ``ht.dot``, ...
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _core
from .._validate import check_int, check_ints
from . import _bounds
from ._engine import poly_depth
from .array import EncryptedArray, _normalize_axes, as_plain

__all__ = [
    "HANDLED_FUNCTIONS",
    "UFUNCS",
    "chebyshev",
    "concatenate",
    "dot",
    "matmul",
    "matvec",
    "mean",
    "polyval",
    "reshape",
    "stack",
    "sum",
    "transpose",
]

_pk = _core.packing
HANDLED_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}


def implements(
    np_function: Callable[..., Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        HANDLED_FUNCTIONS[np_function] = fn
        return fn

    return register


def _shape_of(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, (EncryptedArray, np.ndarray)) else np.shape(x)


def _layout_without(layout: Any, axes: Sequence[int]) -> Any:
    """Layout with the (size-1, kept) ``axes`` dropped."""
    keep = [k for k in range(layout.ndim) if k not in set(axes)]
    shape = tuple(layout.shape[k] for k in keep)
    chunk_rows = layout.chunk_rows if 0 in keep else (shape[0] if shape else 1)
    return _pk.ArrayLayout(
        shape,
        tuple(layout.pads[k] for k in keep),
        tuple(layout.strides[k] for k in keep),
        layout.period,
        layout.slots,
        chunk_rows,
        layout.n_chunks,
    )


# ---------------------------------------------------------------------- elementwise
def _binary(kind: str, x: Any, y: Any) -> EncryptedArray:
    ex = x if isinstance(x, EncryptedArray) else None
    ey = y if isinstance(y, EncryptedArray) else None
    base = ex if ex is not None else ey
    assert base is not None
    if ex is not None and ey is not None:
        ex._check_same_context(ey)
        if ex._layout is ey._layout or ex._layout == ey._layout:  # hot path: no broadcasting
            return _same_layout(kind, ex, ey)
    plain = None
    if ex is None or ey is None:
        plain = as_plain(y if ex is not None else x)
        if plain is None:
            other = y if ex is not None else x
            raise TypeError(f"unsupported operand type for {kind}: {type(other).__name__}")
    shape = np.broadcast_shapes(_shape_of(x), _shape_of(y))
    if ex is not None and ex.shape == shape:
        layout = ex._layout
    elif ey is not None and ey.shape == shape:
        layout = ey._layout
    else:
        layout = _pk.plan_array(shape, base._ctx.slots)
    eng = base._eng
    if ex is not None and ey is not None:
        _check_pair(kind, ex, ey)  # before any data movement
        return _same_layout(kind, ex._as_shape(shape, layout), ey._as_shape(shape, layout))
    assert plain is not None  # one operand is plain (checked above)

    peak = _bounds.plain_max(plain)
    if kind == "mul":
        free = isinstance(plain, float) and plain in (1.0, -1.0, 2.0, -2.0)  # no level
        bound, levels, op = base._bound * peak, 0 if free else 1, "multiply"
    else:
        bound, levels, op = base._bound + peak, 0, _OP_NAMES[kind]
    base._checked_bound(bound, levels, op)  # before any data movement
    enc = base._as_shape(shape, layout)
    enc._checked_bound(bound, levels, op)
    enc_first = ex is not None
    if kind == "mul":
        eng.check_levels(enc._cts, 1, "multiply")
        if isinstance(plain, float):
            return enc._new([eng.mul_scalar(ct, plain) for ct in enc._cts], bound=bound)
        slots = enc._encode_plain(plain, layout)
        cts = [eng.mul_plain(ct, slots[i]) for i, ct in enumerate(enc._cts)]
        return enc._new(cts, clean=True, bound=bound)
    if kind == "sub" and not enc_first:  # plain - enc
        enc = enc._new([eng.neg(ct) for ct in enc._cts])
    elif kind == "sub":
        plain = -plain
    full = layout.size == layout.period * layout.n_chunks  # no slot without an element
    if isinstance(plain, float) and (full or not enc._clean):
        return enc._new([eng.add_scalar(ct, plain) for ct in enc._cts], bound=bound)
    slots = enc._encode_plain(plain, layout)  # zeros elsewhere: stays clean
    return enc._new([eng.add_plain(ct, slots[i]) for i, ct in enumerate(enc._cts)], bound=bound)


_OP_NAMES = {"add": "add", "sub": "subtract", "mul": "multiply"}


def _check_pair(kind: str, a: EncryptedArray, b: EncryptedArray) -> float:
    """The bound of ``a (kind) b`` (product or sum of the bounds), checked at its level."""
    if kind == "mul":
        return a._checked_bound(a._bound * b._bound, 1, "multiply", b)
    return a._checked_bound(a._bound + b._bound, 0, _OP_NAMES[kind], b)


def _same_layout(kind: str, a: EncryptedArray, b: EncryptedArray) -> EncryptedArray:
    """Elementwise op of two encrypted arrays that share one layout."""
    eng = a._eng
    if kind == "mul":
        eng.check_levels(a._cts + b._cts, 1, "multiply")
        bound = _check_pair(kind, a, b)
        cts = [eng.mul(p, q) for p, q in zip(a._cts, b._cts, strict=True)]
        return a._new(cts, clean=a._clean or b._clean, bound=bound)
    bound = _check_pair(kind, a, b)
    op = eng.add if kind == "add" else eng.sub
    return a._new(
        [op(p, q) for p, q in zip(a._cts, b._cts, strict=True)],
        clean=a._clean and b._clean,
        bound=bound,
    )


def add(x: Any, y: Any) -> EncryptedArray:
    """Elementwise ``x + y`` with broadcasting (no level)."""
    return _binary("add", x, y)


def subtract(x: Any, y: Any) -> EncryptedArray:
    """Elementwise ``x - y`` with broadcasting (no level)."""
    return _binary("sub", x, y)


def multiply(x: Any, y: Any) -> EncryptedArray:
    """Elementwise ``x * y`` with broadcasting (one level; 1, -1, 2, -2 cost none)."""
    return _binary("mul", x, y)


def divide(x: Any, y: Any) -> EncryptedArray:
    """``x / y`` for a plain divisor (multiplication by its reciprocal)."""
    if isinstance(y, EncryptedArray):
        raise TypeError(
            "division by an encrypted array is not supported: approximate 1/x with "
            "ht.he.chebyshev(lambda t: 1 / t, x, interval=(a, b))"
        )
    divisor = as_plain(y)
    if divisor is None:
        raise TypeError(f"unsupported divisor type {type(y).__name__}")
    if np.any(np.asarray(divisor) == 0):
        raise ZeroDivisionError("division of an encrypted array by zero")
    return multiply(
        x, 1.0 / np.asarray(divisor) if isinstance(divisor, np.ndarray) else 1.0 / divisor
    )


def negative(x: EncryptedArray) -> EncryptedArray:
    return x._new([x._eng.neg(ct) for ct in x._cts])


def positive(x: EncryptedArray) -> EncryptedArray:
    return x


def square(x: EncryptedArray) -> EncryptedArray:
    """Elementwise square (one level)."""
    x._eng.check_levels(x._cts, 1, "square")
    bound = x._checked_bound(x._bound**2, 1, "square")
    return x._new([x._eng.square(ct) for ct in x._cts], bound=bound)


def power(x: Any, n: Any) -> EncryptedArray:
    """``x ** n`` for a non-negative integer ``n`` (ceil(log2 n) levels, square-and-multiply)."""
    if not isinstance(x, EncryptedArray) or isinstance(n, EncryptedArray):
        raise TypeError("only EncryptedArray ** (non-negative int) is supported")
    if isinstance(n, np.ndarray) and n.ndim == 0:
        n = n.item()
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 0 <= int(n) <= 2**16:
        raise TypeError(f"exponent must be a non-negative int (at most 65536), got {n!r}")
    n = int(n)
    if n == 0:
        return x._ctx._encrypt_in(np.ones(x.shape), x._layout, eng=x._eng)
    levels = max(1, math.ceil(math.log2(n))) if n > 1 else 0
    x._eng.check_levels(x._cts, levels, "power")
    x._checked_bound(_bounds.power(x._bound, n), levels, f"power (x ** {n})")
    result: EncryptedArray | None = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else multiply(result, base)
        n >>= 1
        if n:
            base = square(base)
    assert result is not None
    return result


# ---------------------------------------------------------------------- reductions
@implements(np.sum)
def sum(
    a: EncryptedArray, axis: Any = None, keepdims: bool = False, **kwargs: Any
) -> EncryptedArray:
    """Sum over ``axis`` (None, int or tuple): log2(extent) rotations per axis."""
    _no_kwargs("sum", kwargs, dtype=None, out=None)
    return _reduce(a, _normalize_axes(axis, a.ndim), keepdims)


def _reduce(
    a: EncryptedArray, axes: tuple[int, ...], keepdims: bool, bound: float | None = None
) -> EncryptedArray:
    """Sum over ``axes``; the result's bound is ``count * a.bound`` or ``bound``, a tighter
    one the caller knows (a product with a plain matrix: its largest absolute row sum)."""
    if not axes:
        return a
    count = math.prod(a.shape[k] for k in axes)
    bound = a._bound * count if bound is None else min(bound, a._bound * count)
    a._checked_bound(bound, 0 if a._clean else 1, "sum")  # cleaning may take a level
    eng = a._eng
    arr = a
    lay = arr._layout
    if 0 in axes and lay.n_chunks > 1:
        arr = arr._cleaned()  # padding rows of the last chunk must be zero
        tile = _pk.ArrayLayout(
            (lay.chunk_rows, *lay.shape[1:]),
            lay.pads,
            lay.strides,
            lay.period,
            lay.slots,
            lay.chunk_rows,
            1,
        )
        arr = EncryptedArray._make(
            arr._ctx, [eng.add_many(arr._cts)], tile, arr._clean, eng, bound=bound
        )
    for ax in axes:
        lay = arr._layout
        if not arr._clean and lay.pads[ax] > lay.shape[ax]:
            arr = arr._cleaned()  # padding along the axis must be zero
            lay = arr._layout
        steps = _pk.reduce_steps(lay, ax)
        cts = [eng.rotate_sum(ct, steps) for ct in arr._cts]
        new_lay, cyclic = _pk.reduced_layout(lay, ax, True)
        arr = arr._new(cts, new_lay, clean=arr._clean and cyclic, bound=bound)
    if not keepdims:
        arr = arr._new(arr._cts, _layout_without(arr._layout, axes))
    return arr


@implements(np.mean)
def mean(
    a: EncryptedArray, axis: Any = None, keepdims: bool = False, **kwargs: Any
) -> EncryptedArray:
    """Mean over ``axis``: a sum and one scalar product."""
    _no_kwargs("mean", kwargs, dtype=None, out=None)
    axes = _normalize_axes(axis, a.ndim)
    count = math.prod(a.shape[k] for k in axes)
    total = sum(a, axis=axes, keepdims=keepdims)
    return total if count == 1 else multiply(total, 1.0 / count)


def _no_kwargs(name: str, kwargs: dict[str, Any], **allowed_defaults: Any) -> None:
    for key, value in kwargs.items():
        if key not in allowed_defaults or value is not allowed_defaults[key]:
            raise TypeError(
                f"numpy.{name} argument {key}={value!r} is not supported on EncryptedArray"
            )


# ---------------------------------------------------------------------- shape
@implements(np.transpose)
def transpose(a: EncryptedArray, axes: Any = None) -> EncryptedArray:
    """Permute axes: free (no ciphertext work) for single-ciphertext arrays."""
    axes = (
        tuple(range(a.ndim))[::-1]
        if axes is None
        else tuple(x % max(a.ndim, 1) for x in check_ints("axes", axes))
    )
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError("axes don't match array")
    if a._layout.n_chunks == 1:
        return a._new(a._cts, _pk.transpose_layout(a._layout, list(axes)))
    return a._gather(np.arange(a.size).reshape(a.shape).transpose(axes))


@implements(np.reshape)
def reshape(a: EncryptedArray, shape: Any, **kwargs: Any) -> EncryptedArray:
    """Reshape (C order): free when the slot structure allows, else masked rotations."""
    _no_kwargs("reshape", kwargs, order="C")
    shape = check_ints("shape", (shape,) if isinstance(shape, (int, np.integer)) else shape)
    index = np.arange(a.size).reshape(shape)  # numpy validates and resolves -1
    if index.shape == a.shape:
        return a
    return a._gather(index)


@implements(np.concatenate)
def concatenate(arrays: Sequence[Any], axis: int = 0, **kwargs: Any) -> EncryptedArray:
    """Join arrays (encrypted or plain) along an existing axis."""
    _no_kwargs("concatenate", kwargs, out=None, dtype=None, casting="same_kind")
    arrays = list(arrays)
    encs = [x for x in arrays if isinstance(x, EncryptedArray)]
    if not encs:
        raise TypeError("concatenate needs at least one EncryptedArray")
    base = encs[0]
    for e in encs[1:]:
        base._check_same_context(e)
    shapes = [_shape_of(x) for x in arrays]
    # numpy checks the shapes and gives the output layout of the indices
    pieces = [np.full(s, -1, dtype=np.int64) for s in shapes]
    joined = np.concatenate(pieces, axis=axis)
    ax = _normalize_axes(axis, joined.ndim)[0]
    dst = _pk.plan_array(joined.shape, base._ctx.slots)
    eng = base._eng
    eng.check_levels([ct for e in encs for ct in e._cts], 1, "concatenate")
    plains = [as_plain(x) for x in arrays if not isinstance(x, EncryptedArray)]
    bound = max([e._bound for e in encs] + [_bounds.plain_max(v) for v in plains if v is not None])
    base._checked_bound(bound, 1, "concatenate", *encs)  # the parts do not overlap: max
    parts: list[list[Any]] = [[] for _ in range(dst.n_chunks)]
    plain_total = np.zeros(joined.shape)
    offset = 0
    for x, s in zip(arrays, shapes, strict=True):
        sl = [slice(None)] * joined.ndim
        sl[ax] = slice(offset, offset + s[ax])
        offset += s[ax]
        if isinstance(x, EncryptedArray):
            index = np.full(joined.shape, -1, dtype=np.int64)
            index[tuple(sl)] = np.arange(x.size).reshape(s)
            terms, _ = _pk.plan_relayout(x._layout, dst, index.ravel())
            for i, ct in enumerate(x._apply_terms(terms, dst.n_chunks)):
                if ct is not None:
                    parts[i].append(ct)
        else:
            value = as_plain(x)
            if value is None:
                raise TypeError(f"cannot concatenate {type(x).__name__}")
            plain_total[tuple(sl)] = value
    cts = [eng.add_many(p) for p in parts]
    out = EncryptedArray._make(base._ctx, cts, dst, True, eng, bound=bound)
    if np.any(plain_total):
        slots = out._encode_plain(plain_total, dst)
        out = out._new([eng.add_plain(ct, slots[i]) for i, ct in enumerate(out._cts)])
    return out


@implements(np.stack)
def stack(arrays: Sequence[Any], axis: int = 0, **kwargs: Any) -> EncryptedArray:
    """Join arrays along a new axis."""
    _no_kwargs("stack", kwargs, out=None, dtype=None, casting="same_kind")
    arrays = list(arrays)
    shapes = {_shape_of(x) for x in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    ndim = len(next(iter(shapes))) + 1
    ax = _normalize_axes(axis, ndim)[0]
    expanded = [
        reshape(x, (*x.shape[:ax], 1, *x.shape[ax:]))
        if isinstance(x, EncryptedArray)
        else np.expand_dims(np.asarray(x), ax)
        for x in arrays
    ]
    return concatenate(expanded, axis=ax)


@implements(np.shape)
def _shape(a: EncryptedArray) -> tuple[int, ...]:
    return a.shape


@implements(np.ndim)
def _ndim(a: EncryptedArray) -> int:
    return a.ndim


@implements(np.size)
def _size(a: EncryptedArray, axis: Any = None) -> int:
    return a.size if axis is None else a.shape[axis]


# ---------------------------------------------------------------------- products
def _rowmajor_matvec(m: EncryptedArray, v: Any) -> EncryptedArray:
    """(r, n) encrypted @ (n,) -> (r,): one product, log2(n) rotations (strided output)."""
    if isinstance(v, EncryptedArray):
        return sum(multiply(m, v), axis=1)
    plain = as_plain(v)
    return _reduce(multiply(m, v), (1,), False, m._bound * _bounds.row_sum(plain))


def matvec(w: Any, x: Any, *, method: str = "auto") -> EncryptedArray:
    """Matrix-vector product ``w @ x`` with one of the two packing plans.

    Parameters
    ----------
    w : ndarray or EncryptedArray, shape (m, n)
    x : EncryptedArray or ndarray, shape (n,)
    method : {"auto", "rowmajor", "bsgs"}
        ``rowmajor``: multiply by ``x`` broadcast over rows and sum each row (1 level,
        log2(n) rotations; the result sits strided). ``bsgs``: Halevi-Shoup diagonals with
        baby-step giant-step rotations (plain ``w`` and encrypted ``x`` only; 2 levels,
        about 2*sqrt(n) rotations; the result is contiguous). ``auto`` = ``rowmajor``.
    """
    if method not in ("auto", "rowmajor", "bsgs"):
        raise ValueError(f"method must be 'auto', 'rowmajor' or 'bsgs', got {method!r}")
    if method == "bsgs":
        from .matrix import bsgs_matvec

        return bsgs_matvec(w, x)
    if isinstance(w, EncryptedArray):
        return _rowmajor_matvec(w, x)
    wp = as_plain(w)
    if not isinstance(wp, np.ndarray) or wp.ndim != 2 or not isinstance(x, EncryptedArray):
        raise TypeError("matvec needs a 2-D matrix and a 1-D EncryptedArray")
    if wp.shape[1] != x.shape[0]:
        raise ValueError(f"matmul: shapes {wp.shape} and {x.shape} not aligned")
    # x broadcasts over the rows of w; |(w x)_i| <= sum_j |w_ij| * bound
    return _reduce(multiply(x, wp), (1,), False, x._bound * _bounds.row_sum(wp))


def _matmul_2d(x: Any, y: Any) -> EncryptedArray:
    (m, n), (_, p) = _shape_of(x), _shape_of(y)
    if isinstance(x, EncryptedArray) and isinstance(y, EncryptedArray):
        # C[i, k] = sum_j X[i, j] Y[j, k] on (m, n, p) broadcasts
        shape = (m, n, p)
        x3 = x._gather(np.broadcast_to(np.arange(x.size).reshape(m, n)[:, :, None], shape))
        y3 = y._gather(np.broadcast_to(np.arange(y.size).reshape(n, p)[None, :, :], shape))
        return sum(multiply(x3, y3), axis=1)
    if isinstance(y, EncryptedArray):  # plain @ enc = (enc.T @ plain.T).T
        return transpose(_matmul_2d(transpose(y), np.asarray(x).T))
    # enc (m, n) @ plain (n, p): one column at a time, assembled by masked rotations
    w = as_plain(y)
    if not isinstance(w, np.ndarray):
        raise TypeError(f"unsupported operand type for matmul: {type(y).__name__}")
    cols = [_rowmajor_matvec(x, w[:, k]) for k in range(p)]
    return stack(cols, axis=1)


def matmul(x: Any, y: Any, **kwargs: Any) -> EncryptedArray:
    """``x @ y`` for 1-D and 2-D operands, encrypted or plain (NumPy's matmul rules)."""
    _no_kwargs("matmul", kwargs, out=None)
    if not isinstance(x, EncryptedArray) and not isinstance(y, EncryptedArray):
        return NotImplemented
    from .matrix import EncryptedMatrix

    if isinstance(x, EncryptedMatrix) or isinstance(y, EncryptedMatrix):
        return x @ y
    for v in (x, y):
        if not isinstance(v, EncryptedArray) and as_plain(v) is None:
            raise TypeError(f"unsupported operand type for @: {type(v).__name__}")
    sx, sy = _shape_of(x), _shape_of(y)
    if not sx or not sy:
        raise ValueError("matmul: input operand does not have enough dimensions")
    if len(sx) > 2 or len(sy) > 2:
        raise ValueError(
            "matmul of arrays with more than 2 dimensions is not supported on EncryptedArray"
        )
    if sx[-1] != sy[0]:
        raise ValueError(
            f"matmul: shapes {sx} and {sy} not aligned: {sx[-1]} (dim "
            f"{len(sx) - 1}) != {sy[0]} (dim 0)"
        )
    if len(sx) == 1 and len(sy) == 1:
        return vdot(x, y)
    if len(sy) == 1:
        return matvec(x, y)
    if len(sx) == 1:  # v @ M = M.T @ v
        yt = transpose(y) if isinstance(y, EncryptedArray) else np.asarray(y).T
        return matvec(yt, x)
    return _matmul_2d(x, y)


@implements(np.dot)
def dot(a: Any, b: Any, **kwargs: Any) -> EncryptedArray:
    """``np.dot`` for scalars, 1-D and 2-D operands."""
    _no_kwargs("dot", kwargs, out=None)
    if not _shape_of(a) or not _shape_of(b):
        return multiply(a, b)
    return matmul(a, b)


@implements(np.vdot)
def vdot(a: Any, b: Any) -> EncryptedArray:
    prod = multiply(a, b)
    enc, other = (a, b) if isinstance(a, EncryptedArray) else (b, a)
    if isinstance(other, EncryptedArray):
        return sum(prod)
    return _reduce(
        prod, tuple(range(prod.ndim)), False, enc._bound * _bounds.row_sum(np.ravel(other))
    )


# ---------------------------------------------------------------------- polynomials
@implements(np.polyval)
def polyval(p: Any, x: EncryptedArray) -> EncryptedArray:
    """``np.polyval(p, x)``: coefficients highest degree first (OpenFHE's EvalPoly)."""
    if isinstance(p, EncryptedArray) or not isinstance(x, EncryptedArray):
        raise TypeError("polyval needs plain coefficients and an EncryptedArray")
    coeffs = as_plain(p)
    if not isinstance(coeffs, np.ndarray) or coeffs.ndim != 1 or coeffs.size == 0:
        raise ValueError("polyval coefficients must be a non-empty 1-D sequence")
    low_first = np.trim_zeros(coeffs[::-1], "b")
    if low_first.size <= 1:  # constant polynomial
        c = float(low_first[0]) if low_first.size else 0.0
        return add(multiply(x, 0.0), c) if c else multiply(x, 0.0)
    if low_first.size == 2:
        return add(multiply(x, float(low_first[1])), float(low_first[0]))
    depth = poly_depth(low_first.size)
    x._eng.check_levels(x._cts, depth, "polyval")
    degree = low_first.size - 1
    # |p(x)| <= sum_k |c_k| b^k; the powers up to x^degree are formed on the way
    powers = np.array([_bounds.power(x._bound, k) for k in range(degree + 1)])
    bound = float(np.sum(np.abs(low_first) * powers))
    x._checked_bound(float(powers[-1]), depth - 1, f"polyval (x ** {degree} on the way)")
    x._checked_bound(bound, depth, "polyval")
    cts = [x._eng.poly(ct, low_first.tolist(), depth) for ct in x._cts]
    return x._new(cts, clean=False, bound=bound)


def chebyshev_depth(degree: int) -> int:
    """Levels OpenFHE's Chebyshev evaluation of ``degree`` uses (its documented table)."""
    return poly_depth(int(degree) + 1)


def chebyshev(
    func: Callable[[float], float],
    x: EncryptedArray,
    interval: tuple[float, float],
    degree: int = 27,
) -> EncryptedArray:
    """Approximate a smooth ``func`` elementwise with a Chebyshev series on ``interval``.

    Values of ``x`` must lie in ``interval``; outside it the approximation diverges. Uses
    OpenFHE's ``EvalChebyshevFunction``; levels needed: :func:`chebyshev_depth` (degree 27:
    6 levels).

    Examples
    --------
    >>> import numpy as np, hetensor as ht
    >>> ctx = ht.Context.ckks(depth=8, insecure=True)                      # doctest: +SKIP
    >>> x = np.linspace(-4, 4, 9)
    >>> sigmoid = lambda t: 1 / (1 + np.exp(-t))
    >>> s = ht.he.chebyshev(sigmoid, ctx.encrypt(x), (-5, 5))             # doctest: +SKIP
    >>> np.abs(ctx.decrypt(s) - 1 / (1 + np.exp(-x))).max() < 1e-3       # doctest: +SKIP
    True
    """
    if not isinstance(x, EncryptedArray):
        raise TypeError("chebyshev needs an EncryptedArray")
    lo, hi = (float(v) for v in interval)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"interval must be finite with lo < hi, got {interval!r}")
    degree = check_int("degree", degree, 2)
    probe = float(func((lo + hi) / 2))
    if not math.isfinite(probe):
        raise ValueError("func must return finite values on the interval")
    depth = chebyshev_depth(int(degree))
    x._eng.check_levels(x._cts, depth, "chebyshev")
    _bounds.check_interval(x._bound, lo, hi, "chebyshev")
    bound = x._checked_bound(_chebyshev_bound(func, lo, hi, int(degree)), depth, "chebyshev")
    cts = [x._eng.chebyshev(ct, func, lo, hi, int(degree), depth) for ct in x._cts]
    return x._new(cts, clean=False, bound=bound)


def _chebyshev_bound(func: Callable[[float], float], lo: float, hi: float, degree: int) -> float:
    """``sum_k |c_k|`` of the degree-``degree`` Chebyshev interpolant of ``func`` on
    ``[lo, hi]``: a bound on it over the interval (``|T_k| <= 1`` there)."""
    nodes = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
    values = np.array([float(func(lo + (t + 1) * (hi - lo) / 2)) for t in nodes])
    if not np.all(np.isfinite(values)):
        raise ValueError("func must return finite values on the interval")
    coeffs = np.polynomial.chebyshev.chebfit(nodes, values, degree)
    return float(np.sum(np.abs(coeffs)))


UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: add,
    np.subtract: subtract,
    np.multiply: multiply,
    np.true_divide: divide,
    np.negative: negative,
    np.positive: positive,
    np.square: square,
    np.power: power,
    np.matmul: matmul,
}
