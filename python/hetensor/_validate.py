"""The argument checks every entry point shares: the validation rule of ``docs/errors.md``.

One place decides what bad input raises, so the same mistake gets the same error everywhere:

- integers where ints are meant (``depth``, ``k``, ``axis``, ``num_threads``, rotation steps):
  Python and NumPy ints only; a float (even ``2.0``), a bool or a string raises ``TypeError``
  naming the parameter; out of range raises ``ValueError`` naming the parameter and the range;
- real scalars (``p``, ``tol``): ints or floats, not bools or strings (``TypeError``); NaN or
  infinity raises :class:`~hetensor.errors.NonFiniteError`;
- arrays of real numbers: integer input is cast as NumPy casts it (to the computation's
  float dtype); boolean, complex, string and object input raises
  :class:`~hetensor.errors.InvalidDtypeError` naming the argument and its dtype; ragged
  nested sequences raise ``ValueError`` naming the argument; NaN or infinity raises
  :class:`~hetensor.errors.NonFiniteError` naming the argument and the first bad index;
- containers (state dicts, pairs): the wrong type raises ``TypeError`` naming what was expected.

This module sits at the package's top level (it imports only NumPy and :mod:`hetensor.errors`)
so that every layer, the encrypted one included, may use it.

Examples
--------
>>> from hetensor._validate import check_int
>>> check_int("num_threads", 4, 1)
4
>>> check_int("num_threads", 0, 1)
Traceback (most recent call last):
...
ValueError: num_threads must be >= 1, got 0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .errors import InvalidDtypeError, NonFiniteError

__all__ = [
    "as_array",
    "check_finite",
    "check_float_dtype",
    "check_int",
    "check_ints",
    "check_mapping",
    "check_optional_int",
    "check_real",
    "real_array",
]


def _describe(value: Any) -> str:
    """``float 1.5``, ``str 'a'``, ``NoneType``: a value's type and (short) repr."""
    name = type(value).__name__
    if value is None:
        return name
    text = repr(value)
    return f"{name} {text}" if len(text) <= 40 else name


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {lo} and {hi}"
    return f">= {lo}" if lo is not None else f"<= {hi}"


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int in ``[lo, hi]`` (either end optional).

    Raises
    ------
    TypeError
        ``value`` is not a Python or NumPy int (floats, even integral ones, bools and strings
        are refused, as NumPy refuses them for sizes and axes); the message names ``name``.
    ValueError
        Outside ``[lo, hi]``; the message names ``name`` and the range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be {_range_text(lo, hi)}, got {value}")
    return value


def check_optional_int(
    name: str, value: Any, lo: int | None = None, hi: int | None = None
) -> int | None:
    """``None``, or :func:`check_int` of ``value``."""
    return None if value is None else check_int(name, value, lo, hi)


def check_ints(
    name: str, values: Any, lo: int | None = None, hi: int | None = None
) -> tuple[int, ...]:
    """Every item of the iterable ``values`` checked by :func:`check_int`, as a tuple.

    Raises
    ------
    TypeError
        ``values`` is not an iterable (or is a string), or an item is not an int.
    ValueError
        An item is out of range.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of ints, got {_describe(values)}")
    return tuple(check_int(f"each entry of {name}", v, lo, hi) for v in values)


def check_real(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
) -> float:
    """``value`` (an int or a float, finite) as a float in ``[lo, hi]`` (``(lo, hi]`` with
    ``lo_open``).

    Raises
    ------
    TypeError
        Not a real number (bools, strings and complex numbers are refused).
    NonFiniteError
        NaN or infinity.
    ValueError
        Out of range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number (int or float), got {_describe(value)}")
    out = float(value)
    if not math.isfinite(out):
        raise NonFiniteError(f"{name} must be finite, got {out}")
    below = lo is not None and (out <= lo if lo_open else out < lo)
    if below or (hi is not None and out > hi):
        left = "(" if lo_open else "["
        if lo is not None and hi is not None:
            bound = f"in {left}{lo:g}, {hi:g}]"
        elif lo is not None:
            bound = f"{'>' if lo_open else '>='} {lo:g}"
        else:
            bound = f"<= {hi:g}"
        raise ValueError(f"{name} must be {bound}, got {out:g}")
    return out


def as_array(name: str, value: Any) -> np.ndarray:
    """``numpy.asarray(value)``; ragged nested sequences raise ``ValueError`` naming ``name``."""
    try:
        return np.asarray(value)
    except ValueError as err:
        if "inhomogeneous" in str(err) or "sequence" in str(err):
            raise ValueError(
                f"{name} is ragged: its nested sequences differ in length, so it is not an "
                "array; pass equal-length rows (e.g. pad them) or one array per row"
            ) from None
        raise ValueError(f"{name} cannot be read as an array: {err}") from None


def check_finite(name: str, arr: np.ndarray) -> None:
    """Raise :class:`NonFiniteError` naming ``name`` and the first NaN/infinite index."""
    finite = np.isfinite(arr)
    if finite.all():
        return
    flat = int(np.argmin(finite.ravel()))
    where = flat if arr.ndim <= 1 else tuple(int(i) for i in np.unravel_index(flat, arr.shape))
    raise NonFiniteError(
        f"{name} holds a non-finite value ({arr.ravel()[flat]}, the first at index {where}): "
        "NaN and infinity are not accepted"
    )


def real_array(
    name: str, value: Any, *, dtype: Any = None, finite: bool = True, allow_bool: bool = False
) -> np.ndarray:
    """``value`` as an array of real numbers, cast to ``dtype`` when given.

    Integers are accepted (and cast like NumPy casts them); booleans only with
    ``allow_bool`` (where they mean something, e.g. a mask).

    Raises
    ------
    ValueError
        Ragged nested sequences.
    InvalidDtypeError
        Boolean, complex, string or object data (the message names ``name`` and the dtype).
    NonFiniteError
        NaN or infinity, with ``finite``.
    """
    arr = as_array(name, value)
    if arr.dtype.kind not in ("biuf" if allow_bool else "iuf"):
        raise InvalidDtypeError(
            f"{name} has dtype {arr.dtype}: expected real numbers (integer or floating"
            f"{' or boolean' if allow_bool else ''} dtypes)"
        )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if finite:
        check_finite(name, arr)
    return arr


def check_float_dtype(name: str, dtype: Any) -> np.dtype:
    """A computation dtype: float32 or float64, else :class:`InvalidDtypeError` naming ``name``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise InvalidDtypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise InvalidDtypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def check_mapping(name: str, value: Any) -> Mapping[Any, Any]:
    """``value`` if it is a mapping (a dict), else ``TypeError`` naming ``name``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of names to arrays, got {_describe(value)}")
    return value
