"""Ciphertext arithmetic against NumPy, level tracking, and operand errors.

Tolerance: 1e-6 absolute on values in [-2, 2] (measured errors are ~1e-8 at ring 2^12 with
40-bit scaling and replica averaging).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hetensor import errors

ATOL = 1e-6


def padded_roll(x: np.ndarray, k: int) -> np.ndarray:
    p = 1
    while p < len(x):
        p *= 2
    return np.roll(np.pad(x, (0, p - len(x))), -k)[: len(x)]


vectors = st.integers(1, 40).flatmap(
    lambda n: st.lists(st.floats(-1, 1, allow_nan=False), min_size=n, max_size=n)
)
scalars = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(xs=vectors, s=scalars, seed=st.integers(0, 2**32 - 1))
def test_elementwise_matches_numpy(ctx, xs, s, seed):
    x = np.array(xs)
    y = np.random.default_rng(seed).uniform(-1, 1, len(x))
    a, b = ctx.encrypt_vector(x), ctx.encrypt_vector(y)
    cases = {
        "a+b": (a + b, x + y),
        "a-b": (a - b, x - y),
        "a*b": (a * b, x * y),
        "-a": (-a, -x),
        "a+s": (a + s, x + s),
        "s-a": (s - a, s - x),
        "s*a": (s * a, s * x),
        "y+a": (y + a, y + x),
        "a-y": (a - y, x - y),
        "y-a": (y - a, y - x),
        "y*a": (y * a, y * x),
        "a*a*b+y": (a * a * b + y, x * x * y + y),
        "square": (a.square(), x * x),
    }
    for name, (ct, ref) in cases.items():
        np.testing.assert_allclose(ctx.decrypt(ct), ref, atol=ATOL, err_msg=name)


@settings(max_examples=15, deadline=None)
@given(xs=vectors, k=st.integers(-70, 70))
def test_rotate_matches_padded_roll(ctx, xs, k):
    x = np.array(xs)
    np.testing.assert_allclose(
        ctx.decrypt(ctx.encrypt_vector(x).rotate(k)), padded_roll(x, k), atol=ATOL
    )


@settings(max_examples=15, deadline=None)
@given(xs=vectors)
def test_sum_and_broadcast(ctx, xs):
    x = np.array(xs)
    a = ctx.encrypt_vector(x)
    total = a.sum()
    assert total.shape == (1,)
    np.testing.assert_allclose(ctx.decrypt(total), [x.sum()], atol=ATOL * len(x))
    np.testing.assert_allclose(ctx.decrypt(total * a), x.sum() * x, atol=ATOL * len(x))


def test_sum_uses_log_rotations(ctx, rng):
    from hetensor._core import packing

    assert len(packing.rotation_sum_steps(packing.plan_vector(1000, 2048).period)) == 10


def test_levels_are_tracked_and_exhaustion_raises_before_work(ctx, rng):
    x = rng.uniform(0.5, 1, 8)
    a = ctx.encrypt_vector(x)
    assert (a.level, a.levels_left) == (0, 3)
    assert a.scale == pytest.approx(2.0**40, rel=1e-3)
    b = a * a
    assert (b.level, b.levels_left) == (1, 2)
    assert (a + 1.0).levels_left == 3 and a.rotate(1).levels_left == 3
    assert (2 * a).levels_left == 3 and (-2 * a).levels_left == 3  # additions, no level
    assert (a * 0.5).levels_left == 2
    c = b * a * a
    assert c.levels_left == 0
    np.testing.assert_allclose(ctx.decrypt(c), x**4, atol=ATOL)
    for op in (lambda: c * a, lambda: c * 0.5, lambda: c * x, lambda: c.square()):
        with pytest.raises(errors.DepthError, match=r"needs 1 .* has 0 of 3 left"):
            op()
    np.testing.assert_allclose(ctx.decrypt(c + a), x**4 + x, atol=ATOL)  # additions still fine


def test_operand_errors(ctx):
    a = ctx.encrypt_vector(np.arange(4.0))
    with pytest.raises(ValueError, match="could not be broadcast"):
        _ = a + np.ones(3)
    with pytest.raises(ValueError, match="could not be broadcast"):
        _ = a * ctx.encrypt_vector(np.ones(5))
    with pytest.raises(errors.NonFiniteError):
        _ = a + float("nan")
    with pytest.raises(errors.NonFiniteError):
        _ = a * np.array([1.0, np.inf, 0.0, 0.0])
    with pytest.raises(errors.InvalidDtypeError):
        _ = a + np.array(["x"] * 4)
    with pytest.raises(TypeError):
        _ = a + "text"
    with pytest.raises(TypeError):
        _ = a + None


def test_no_implicit_decryption(ctx):
    a = ctx.encrypt_vector(np.ones(3))
    with pytest.raises(TypeError, match="decrypt"):
        np.asarray(a)
    with pytest.raises(TypeError):
        bool(a)
    with pytest.raises(TypeError):
        hash(a)
    with pytest.raises(TypeError, match=r"Context\.encrypt"):
        type(a)()
    assert len(a) == 3 and a.shape == (3,) and a.size == 3
    assert "levels_left=3/3" in repr(a)


def test_at_level_matches_openfhes_implicit_adjustment(ctx, rng):
    """Engine.at_level (one explicit FLEXIBLEAUTO adjustment) gives the same product as
    OpenFHE's adjustment inside EvalMult, within CKKS rounding, and refuses to go up."""
    eng, cc = ctx._engine, ctx._cc
    x, y = rng.uniform(-1, 1, ctx.slots), rng.uniform(-1, 1, ctx.slots)
    a, b = eng.encrypt(x, 0), eng.encrypt(y, 0)
    prod = cc.EvalMult(a, b)  # 1 level used, not yet rescaled (degree 2)
    assert eng.levels_used(prod) == 1 and prod.GetNoiseScaleDeg() == 2
    for used in (1, 2):
        lowered = eng.at_level(prod, used)
        assert eng.levels_used(lowered) == used and lowered.GetNoiseScaleDeg() == 1
        np.testing.assert_allclose(eng.decrypt(lowered), x * y, atol=ATOL)
        a_low = eng.at_level(a, used)
        explicit = eng.decrypt(cc.EvalMult(a_low, lowered))
        implicit = eng.decrypt(cc.EvalMult(a, prod))
        np.testing.assert_allclose(explicit, x * x * y, atol=ATOL)
        np.testing.assert_allclose(explicit, implicit, atol=ATOL)
    assert eng.at_level(a, 0) is a  # already there: no operation
    with pytest.raises(errors.DepthError, match="cannot raise"):
        eng.at_level(prod, 0)
