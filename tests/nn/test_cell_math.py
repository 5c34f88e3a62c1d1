"""The recurrent cells' vectorized exp / expm1 / sigmoid / tanh against NumPy.

``_core.nn.activation`` runs the element code of the LSTM / GRU / RNN kernels in the
instruction-set clone this machine selects (AVX-512, AVX2 or baseline). References are NumPy in
extended precision (``np.longdouble``, 64-bit mantissa on x86-64). Tolerances: at most 3 ulp of
the rounded reference for every finite result at or above the dtype's smallest normal number
(measured: 2.5 ulp worst, for sigmoid and tanh; exp 1.0 ulp); results below it (sigmoid of
x < -87 in float32) within 1e-37 absolute. Arguments beyond the range saturate, never inf/NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

from hetensor import _core

FUNCTIONS = ("exp", "expm1", "sigmoid", "tanh")
MAX_ULP = 3.0


def _reference(fn: str, x: np.ndarray) -> np.ndarray:
    xl = x.astype(np.longdouble)
    if fn == "exp":
        return np.exp(xl)
    if fn == "expm1":
        return np.expm1(xl)
    if fn == "sigmoid":
        return 1 / (1 + np.exp(-xl))
    return np.tanh(xl)


def _exp_range(dtype: type) -> tuple[float, float]:
    # exp / expm1 clamp their argument to keep 2^k a normal number and e^x finite.
    return (-87.0, 88.0) if dtype == np.float32 else (-708.0, 709.0)


def _arguments(dtype: type) -> np.ndarray:
    rng = np.random.default_rng(0)
    tiny = np.logspace(-40 if dtype == np.float32 else -300, 1, 4000)
    x = np.concatenate(
        [
            np.linspace(-100.0, 100.0, 200_001),  # saturation on both sides, incl. exact 0
            rng.standard_normal(20_000) * 4.0,  # where the gates live
            tiny,  # tiny |x|: tanh and expm1 must keep their relative accuracy
            -tiny,
            [0.0, -0.0, 1e-45 if dtype == np.float32 else 5e-324],  # zeros, a subnormal
        ]
    )
    return x.astype(dtype)


def _ulp_errors(got: np.ndarray, want: np.ndarray, dtype: type) -> np.ndarray:
    rounded = want.astype(dtype)
    return np.abs(got.astype(np.longdouble) - want) / np.spacing(np.abs(rounded)).astype(
        np.longdouble
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", FUNCTIONS)
def test_activation_matches_numpy(fn: str, dtype: type) -> None:
    x = _arguments(dtype)
    if fn in ("exp", "expm1"):
        lo, hi = _exp_range(dtype)
        x = x[(x >= lo) & (x <= hi)]
    got = _core.nn.activation(fn, x)
    assert got.dtype == dtype and got.shape == x.shape
    assert np.isfinite(got).all()
    want = _reference(fn, x)
    normal = np.abs(want) >= np.finfo(dtype).tiny
    ulp = _ulp_errors(got[normal], want[normal], dtype)
    worst = int(np.argmax(ulp))
    assert ulp[worst] <= MAX_ULP, f"{fn}({x[normal][worst]!r}): {ulp[worst]:.2f} ulp"
    if not normal.all():
        np.testing.assert_allclose(got[~normal], want[~normal].astype(dtype), rtol=0, atol=1e-37)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_values_and_saturation(dtype: type) -> None:
    big = np.finfo(dtype).max
    x = np.array([-np.inf, -big, -1e30, -50.0, 0.0, -0.0, 50.0, 1e30, big, np.inf], dtype=dtype)
    sig = _core.nn.activation("sigmoid", x)
    tanh = _core.nn.activation("tanh", x)
    np.testing.assert_array_equal(tanh, [-1, -1, -1, -1, 0, 0, 1, 1, 1, 1])
    assert sig[4] == sig[5] == 0.5
    np.testing.assert_array_equal(sig[6:], 1.0)
    assert (sig[:4] >= 0).all() and (sig[:4] < 1e-21).all()
    exp = _core.nn.activation("exp", x)
    assert exp[4] == exp[5] == 1.0
    assert np.isfinite(exp).all() and (exp[:4] > 0).all()
    assert _core.nn.activation("expm1", np.zeros(3, dtype)).tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(_core.nn.activation("tanh", np.array([np.nan], dtype))).all()


@pytest.mark.parametrize("n", [1, 7, 15, 16, 17, 33, 1000])
def test_vector_body_and_tail_agree(n: int) -> None:
    # The vectorized loop body and its scalar / masked tail run the same math.
    x = np.random.default_rng(n).uniform(-12, 12, 1024).astype(np.float32)
    whole = _core.nn.activation("tanh", x)
    for start in range(0, 1024 - n, 97):
        part = _core.nn.activation("tanh", x[start : start + n])
        np.testing.assert_array_equal(part, whole[start : start + n])


def test_shape_dtype_and_errors() -> None:
    x = np.linspace(-3, 3, 24, dtype=np.float64).reshape(2, 3, 4)
    y = _core.nn.activation("sigmoid", x)
    assert y.shape == (2, 3, 4) and y.dtype == np.float64
    assert _core.nn.activation("tanh", np.empty(0, np.float32)).shape == (0,)
    with pytest.raises(ValueError, match="unknown activation 'relu'"):
        _core.nn.activation("relu", x)
