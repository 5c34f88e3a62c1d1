"""Argument checks shared by the functional kernels and the layers of :mod:`hetensor.nn`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["IntPair", "Padding", "generator", "padding_amounts", "pair"]

IntPair = int | Sequence[int]
Padding = int | Sequence[int] | Literal["same", "valid"]


def pair(value: IntPair, name: str, minimum: int) -> tuple[int, int]:
    """``value`` (an int or two ints, each >= ``minimum``) as a pair of ints."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, (int, np.integer)):
        out = (int(value), int(value))
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
        if len(items) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in items
        ):
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
        out = (int(items[0]), int(items[1]))
    if min(out) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return out


def padding_amounts(
    padding: Padding, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) as PyTorch pads: "same" puts an odd extra row/column last."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            out = []
            for k, d in zip(kernel, dilation, strict=True):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]
            return (out[0], out[1], out[2], out[3])
        raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    ph, pw = pair(padding, "padding", 0)
    return (ph, ph, pw, pw)


def generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """``rng`` itself, or a fresh Generator seeded by ``rng`` (``None``: OS entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {rng!r}")
