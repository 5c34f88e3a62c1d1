"""hetensor._core.packing against plain NumPy references."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hetensor import _core, errors

packing = _core.packing


def reference_encode(x: np.ndarray, slots: int) -> np.ndarray:
    period = 1
    while period < len(x):
        period *= 2
    block = np.zeros(period)
    block[: len(x)] = x
    return np.tile(block, slots // period)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 64),
    log_slots=st.integers(6, 10),
    seed=st.integers(0, 2**31 - 1),
)
def test_encode_decode_matches_reference(n, log_slots, seed):
    slots = 2**log_slots
    x = np.random.default_rng(seed).normal(size=n)
    layout = packing.plan_vector(n, slots)
    assert layout.period >= n and layout.period & (layout.period - 1) == 0
    assert layout.copies * layout.period == slots and layout.replicated
    enc = packing.encode_vector(x, layout)
    np.testing.assert_array_equal(enc, reference_encode(x, slots))
    # averaging sums `copies` replicas: rounding grows like copies * eps
    rtol = layout.copies * np.finfo(float).eps
    np.testing.assert_allclose(packing.decode_vector(enc, layout), x, rtol=rtol, atol=1e-15)
    np.testing.assert_array_equal(packing.decode_vector(enc, layout, average=False), x)


def test_decode_averages_replicas():
    layout = packing.plan_vector(2, 8)  # period 2, 4 copies
    slots = np.array([1.0, 10.0, 3.0, 10.0, 1.0, 10.0, 3.0, 14.0])
    np.testing.assert_allclose(packing.decode_vector(slots, layout), [2.0, 11.0])


def test_non_replicated_layout():
    layout = packing.plan_vector(3, 16, replicate=False)
    assert (layout.period, layout.copies, layout.replicated) == (4, 1, False)
    np.testing.assert_array_equal(
        packing.encode_vector(np.array([1.0, 2.0, 3.0]), layout)[:5], [1, 2, 3, 0, 0]
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected(bad):
    layout = packing.plan_vector(3, 8)
    with pytest.raises(errors.NonFiniteError, match="index 1"):
        packing.encode_vector(np.array([0.0, bad, 1.0]), layout)


def test_capacity_and_argument_errors():
    with pytest.raises(errors.CapacityError, match="does not fit"):
        packing.plan_vector(9, 8)
    with pytest.raises(ValueError, match="power of two"):
        packing.plan_vector(3, 12)
    with pytest.raises(ValueError, match="empty"):
        packing.plan_vector(0, 8)
    layout = packing.plan_vector(3, 8)
    with pytest.raises(ValueError, match="expects 3"):
        packing.encode_vector(np.zeros(4), layout)
    with pytest.raises(ValueError, match="1-D"):
        packing.encode_vector(np.zeros((3, 1)), layout)
    with pytest.raises(ValueError, match="layout needs"):
        packing.decode_vector(np.zeros(4), layout)
    with pytest.raises(ValueError, match="inconsistent"):
        packing.VectorLayout(4, 2, 1, 8)


def test_layout_value_semantics():
    a = packing.plan_vector(5, 16)
    b = pickle.loads(pickle.dumps(a))
    assert a == b and hash(a) == hash(b)
    assert repr(a) == "VectorLayout(length=5, period=8, copies=2, slots=16)"
    with pytest.raises(AttributeError):
        a.length = 3


@given(st.integers(-10_000, 10_000), st.integers(0, 12))
def test_normalize_rotation_is_python_modulo(k, log_slots):
    assert packing.normalize_rotation(k, 2**log_slots) == k % 2**log_slots


def test_rotation_sum_steps_logarithmic():
    assert packing.rotation_sum_steps(1) == []
    assert packing.rotation_sum_steps(16) == [1, 2, 4, 8]
    with pytest.raises(ValueError):
        packing.rotation_sum_steps(12)
    assert packing.next_pow2(1) == 1 and packing.next_pow2(1025) == 2048
