"""dropout: TensorFlow noise_shape semantics, inverted scaling, reproducibility, statistics."""

from __future__ import annotations

import numpy as np
import pytest

import hetensor as ht
from hetensor.errors import InvalidDtypeError, NonFiniteError

F = ht.nn.functional


def test_elementwise_statistics_and_scaling():
    x = np.ones((200, 500))
    y = F.dropout(x, 0.3, rng=np.random.default_rng(0))
    kept = y != 0
    # 100,000 Bernoulli(0.7) draws: std of the mean ~ 0.0014
    assert kept.mean() == pytest.approx(0.7, abs=0.006)
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert y.mean() == pytest.approx(1.0, abs=0.01)  # expectation preserved
    assert y.dtype == x.dtype


def test_channel_dropout_nchw_and_nhwc():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 32, 5, 6)).astype(np.float32)
    y, mask = F.dropout(x, 0.5, noise_shape=(64, 32, 1, 1), rng=rng, return_mask=True)
    assert mask.shape == (64, 32, 1, 1) and y.dtype == np.float32
    dropped = (y == 0).all(axis=(2, 3))
    kept = (y != 0).all(axis=(2, 3))
    assert np.all(dropped | kept)  # each feature map dropped or kept whole
    np.testing.assert_allclose(y[kept], 2 * x[kept])
    assert dropped.mean() == pytest.approx(0.5, abs=0.03)  # 2048 maps
    # decisions differ across batch and channels (not shared)
    assert 0 < dropped.sum(axis=0).min() and dropped.sum(axis=0).max() < 64
    xh = np.transpose(x, (0, 2, 3, 1))  # NHWC
    yh = F.dropout(xh, 0.5, noise_shape=(64, 1, 1, 32), rng=np.random.default_rng(2))
    assert np.all(((yh == 0).all(axis=(1, 2))) | ((yh != 0).all(axis=(1, 2))))


def test_none_entries_and_shared_axes():
    x = np.ones((4, 3, 8))
    y = F.dropout(x, 0.5, noise_shape=(None, 1, None), rng=3)
    assert np.all(y == y[:, :1, :])  # shared along axis 1
    y2 = F.dropout(x, 0.5, noise_shape=(1, 1, 1), rng=3)
    assert len(np.unique(y2)) == 1


def test_reproducible_with_generator_or_seed():
    x = np.arange(1.0, 101.0)
    a = F.dropout(x, 0.4, rng=np.random.default_rng(42))
    b = F.dropout(x, 0.4, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(F.dropout(x, 0.4, rng=42), a)
    assert not np.array_equal(F.dropout(x, 0.4, rng=43), a)


def test_edge_probabilities_and_inference():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert F.dropout(x, 0.0, rng=0) is not None
    np.testing.assert_array_equal(F.dropout(x, 0.0, rng=0), x)
    np.testing.assert_array_equal(F.dropout(x, 1.0, rng=0), np.zeros_like(x))
    assert F.dropout(x, 0.9, training=False) is x or np.array_equal(
        F.dropout(x, 0.9, training=False), x
    )
    _y, m = F.dropout(x, 0.5, training=False, return_mask=True)
    np.testing.assert_array_equal(m, 1)


def test_backward_with_mask():
    x = np.random.default_rng(5).standard_normal((6, 7))
    y, m = F.dropout(x, 0.25, rng=1, return_mask=True)
    np.testing.assert_array_equal(y, x * m)  # dy/dx = m: grad_x = grad_y * m


@pytest.mark.parametrize(
    ("x", "kwargs", "exc", "match"),
    [
        (np.ones(3), dict(p=1.5), ValueError, r"\[0, 1\]"),
        (np.ones(3), dict(p=-0.1), ValueError, r"\[0, 1\]"),
        (np.ones(3), dict(p="0.5"), TypeError, "float"),
        (np.ones(3, bool), dict(p=0.5), InvalidDtypeError, "bool"),
        (np.array([1.0, np.nan]), dict(p=0.5), NonFiniteError, "index 1"),
        (np.ones((2, 3)), dict(p=0.5, noise_shape=(2,)), ValueError, "one entry per dimension"),
        (np.ones((2, 3)), dict(p=0.5, noise_shape=(2, 2)), ValueError, "broadcastable"),
        (np.ones((2, 3)), dict(p=0.5, noise_shape=(2, 1.0)), TypeError, "ints"),
        (np.ones((2, 3)), dict(p=0.5, rng="seed"), TypeError, "Generator"),
    ],
)
def test_errors(x, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        F.dropout(x, **kwargs)


def test_integer_input_is_cast_to_float64():
    y, m = F.dropout(np.arange(6), 0.5, rng=0, return_mask=True)
    assert y.dtype == m.dtype == np.float64
    np.testing.assert_array_equal(y, np.arange(6.0) * m)
