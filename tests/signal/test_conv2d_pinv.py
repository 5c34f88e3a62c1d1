"""conv2d_pinv: exactness for circular convolution, agreement with the dense pseudo-inverse,
non-square channels, rank-deficient frequencies, and the border caveat."""

from __future__ import annotations

import numpy as np
import pytest

import hetensor as ht
from hetensor.errors import NonFiniteError


def _dense(op):
    """The operator's matrix, column by column from forward()."""
    _c_out, c_in = op.kernel.shape[:2]
    h, w = op.image_shape
    n = c_in * h * w
    eye = np.eye(n).reshape(n, c_in, h, w)
    return op.forward(eye).reshape(n, -1).T


def _circular_reference(x, k):
    """Circular cross-correlation by explicit rolls (independent of the FFT path)."""
    c_out, _c_in, kh, kw = k.shape
    y = np.zeros((*x.shape[:-3], c_out, *x.shape[-2:]))
    for r in range(kh):
        for s in range(kw):
            shifted = np.roll(x, (-r, -s), axis=(-2, -1))
            y += np.einsum("...chw,oc->...ohw", shifted, k[:, :, r, s])
    return y


@pytest.mark.parametrize(("c_out", "c_in"), [(4, 4), (5, 3), (2, 6)])
def test_exact_for_circular_convolution(c_out, c_in):
    rng = np.random.default_rng(0)
    k = rng.standard_normal((c_out, c_in, 3, 3))
    op = ht.signal.conv2d_pinv(k, (12, 10))
    x = rng.standard_normal((3, c_in, 12, 10))
    y = op.forward(x)
    np.testing.assert_allclose(y, _circular_reference(x, k), atol=1e-12)
    # A (A^+ y) = y on the range
    assert np.abs(op.forward(op.apply(y)) - y).max() < 1e-10
    if c_out >= c_in:  # full column rank: left inverse
        assert np.abs(op.apply(y) - x).max() < 1e-10
    else:  # wide: apply(y) is the minimum-norm solution, x's projection on the row space
        xh = op.apply(y)
        assert np.abs(op.apply(op.forward(xh)) - xh).max() < 1e-10
        assert np.linalg.norm(xh) < np.linalg.norm(x)


def test_interior_matches_conv2d_valid():
    rng = np.random.default_rng(1)
    k = rng.standard_normal((3, 2, 3, 4))
    op = ht.signal.conv2d_pinv(k, (9, 11))
    x = rng.standard_normal((2, 9, 11))
    np.testing.assert_allclose(op.forward(x)[:, :7, :8], ht.nn.functional.conv2d(x, k), atol=1e-12)


@pytest.mark.parametrize(("c_out", "c_in"), [(3, 2), (2, 3)])
def test_matches_dense_pseudo_inverse(c_out, c_in):
    rng = np.random.default_rng(2)
    op = ht.signal.conv2d_pinv(rng.standard_normal((c_out, c_in, 2, 3)), (5, 6))
    a = _dense(op)
    assert a.shape == op.shape
    y = rng.standard_normal((c_out, 5, 6))
    np.testing.assert_allclose(op.apply(y).ravel(), np.linalg.pinv(a) @ y.ravel(), atol=1e-12)
    # Penrose conditions through the operator
    p = np.linalg.pinv(a)
    np.testing.assert_allclose(a @ p @ a, a, atol=1e-11)


def test_rank_deficient_frequencies():
    """Rank-1 channel mixing (K[j, k] = a_j b_k h) and a zero-DC filter: ranks per frequency
    drop, and the result still equals the dense pseudo-inverse."""
    rng = np.random.default_rng(3)
    h = np.array([[1.0, -1.0], [2.0, -2.0]])  # sums to zero: no response at DC
    a, b = rng.standard_normal(3), rng.standard_normal(2)
    k = a[:, None, None, None] * b[None, :, None, None] * h
    op = ht.signal.conv2d_pinv(k, (4, 6))
    assert op.rank.max() == 1
    assert op.rank[0, 0] == 0  # DC
    # h's columns cancel: h_hat(u, v) = (1 + 2 e^{-iu}) (1 - e^{-iv}) vanishes for v = 0
    np.testing.assert_array_equal(op.rank[:, 0], 0)
    assert (op.rank == 0).sum() == 4
    dense = _dense(op)
    y = rng.standard_normal((3, 4, 6))
    np.testing.assert_allclose(
        op.apply(y).ravel(), np.linalg.pinv(dense, rcond=1e-12) @ y.ravel(), atol=1e-11
    )
    yr = op.forward(rng.standard_normal((2, 4, 6)))
    assert np.abs(op.forward(op.apply(yr)) - yr).max() < 1e-10


def test_rcond_and_cutoff_modes():
    rng = np.random.default_rng(4)
    k = rng.standard_normal((2, 2, 3, 3))
    k[:, :, :, :] += 10.0  # strong DC: other frequencies are relatively small
    tight = ht.signal.conv2d_pinv(k, (8, 8), rcond=0.5)
    loose = ht.signal.conv2d_pinv(k, (8, 8))
    per_f = ht.signal.conv2d_pinv(k, (8, 8), rcond=0.5, cutoff="frequency")
    assert tight.rank.sum() < loose.rank.sum() == 2 * 8 * 5
    assert per_f.rank.min() >= 1  # each frequency keeps at least its largest singular value
    p = loose.pinv_matrices()
    a = loose.transfer_matrices()
    np.testing.assert_allclose(a @ p @ a, a, atol=1e-9)
    assert "Conv2dPinv" in repr(loose)


def test_border_caveat_of_cropped_convolution():
    """conv2d with padding=0 crops the wrap-around: the pinv of the circular model is then only
    an approximation, with the error concentrated at the borders."""
    rng = np.random.default_rng(5)
    k = rng.standard_normal((4, 4, 3, 3))
    x = rng.standard_normal((4, 32, 32))
    y_valid = ht.nn.functional.conv2d(x, k)  # (4, 30, 30)
    y_pad = np.zeros((4, 32, 32))
    y_pad[:, :30, :30] = y_valid
    op = ht.signal.conv2d_pinv(k, (32, 32))
    err = np.abs(op.apply(y_pad) - x)
    assert err.max() > 1e-3  # not exact
    interior = err[:, 8:-8, 8:-8].mean()
    border = np.concatenate([err[:, :3].ravel(), err[:, -3:].ravel()]).mean()
    assert border > interior
    # the circular model on the same x is exact
    assert np.abs(op.apply(op.forward(x)) - x).max() < 1e-10


def test_float32_and_batch_dims():
    rng = np.random.default_rng(6)
    k = rng.standard_normal((3, 3, 3, 3)).astype(np.float32)
    op = ht.signal.conv2d_pinv(k, (16, 16))
    x = rng.standard_normal((2, 2, 3, 16, 16)).astype(np.float32)
    y = op.forward(x)
    assert y.dtype == np.float32 and y.shape == (2, 2, 3, 16, 16)
    xr = op.apply(y)
    assert xr.dtype == np.float32
    cond = float(op.singular_values.max() / op.singular_values.min())
    assert np.abs(xr - x).max() < 1e-5 * max(1.0, cond)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((np.ones((2, 2, 3)), (8, 8)), {}, ValueError, "4-D"),
        ((np.ones((2, 2, 3, 3)), (2, 8)), {}, ValueError, "smaller"),
        ((np.ones((2, 2, 3, 3)), (8,)), {}, ValueError, "image_shape"),
        ((np.ones((2, 2, 3, 3)), (8, 8)), {"rcond": -1.0}, ValueError, "rcond"),
        ((np.ones((2, 2, 3, 3)), (8, 8)), {"cutoff": "local"}, ValueError, "cutoff"),
        ((np.ones((2, 2, 3, 3)) * 1j, (8, 8)), {}, TypeError, "real"),
        ((np.full((2, 2, 3, 3), np.nan), (8, 8)), {}, NonFiniteError, "NaN"),
    ],
)
def test_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ht.signal.conv2d_pinv(*args, **kwargs)


def test_apply_shape_errors():
    op = ht.signal.conv2d_pinv(np.ones((2, 3, 3, 3)), (8, 8))
    with pytest.raises(ValueError, match=r"\(\.\.\., 2, 8, 8\)"):
        op.apply(np.ones((3, 8, 8)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, 8, 8\)"):
        op.forward(np.ones((3, 8, 9)))
    with pytest.raises(NonFiniteError):
        op.apply(np.full((2, 8, 8), np.inf))


def _mixed_kernel(dtype):
    """K[j, k] = Q[j, k] h_k (1x2 filters, Q orthogonal): A_f = Q diag(conj h_hat_k(f)), so the
    singular values are |h_hat_k| = {1, |1 + 0.9 e^{-iv}|, |1 - e^{-iv}|}: rank 2 on the v = 0
    column (h_2 has no DC), 0.1 next to s_max = 2 at v = pi, well conditioned elsewhere."""
    q, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((3, 3)))
    h = np.array([[1.0, 0.0], [1.0, 0.9], [1.0, -1.0]])
    return (q[:, :, None, None] * h[None, :, None, :]).astype(dtype)


def _svd_pinv(a, rcond):
    """Global-cut-off pinv of a stack of matrices by NumPy SVDs (the operator's s_max)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    keep = s > rcond * s.max()
    sinv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    p = (np.conj(np.swapaxes(vh, -1, -2)) * sinv[..., None, :]) @ np.conj(np.swapaxes(u, -1, -2))
    return p, keep.sum(axis=-1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rel", [None, 1.0 - 1e-3, 1.0 + 1e-3, 0.42 / 0.05])
@pytest.mark.parametrize("cutoff", ["global", "frequency"])
def test_lu_and_svd_frequencies_match_numpy(dtype, rel, cutoff):
    """Well-conditioned frequencies go through LU, rank-deficient and borderline ones through the
    SVD; every pseudo-inverse matches NumPy's, with the rcond semantics of each cut-off mode."""
    k = _mixed_kernel(dtype)
    rcond = None if rel is None else 0.05 * rel  # 0.05 * s_max = 0.1: the borderline value
    op = ht.signal.conv2d_pinv(k, (6, 8), rcond=rcond, cutoff=cutoff)
    a = np.conj(np.moveaxis(np.fft.rfft2(k.astype(np.float64), s=(6, 8)), (0, 1), (2, 3)))
    np.testing.assert_allclose(
        op.transfer_matrices(), a, atol=1e-6 if dtype == np.float32 else 1e-13
    )
    r = op.rcond
    if cutoff == "frequency":  # numpy's rcond is relative to each matrix's largest value
        ref = np.linalg.pinv(a, rcond=r)
        ref_rank = (
            np.linalg.svd(a, compute_uv=False) > r * np.linalg.svd(a, compute_uv=False)[..., :1]
        ).sum(-1)
    else:
        ref, ref_rank = _svd_pinv(a, r)
    np.testing.assert_array_equal(op.rank, ref_rank)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(op.pinv_matrices(), ref, atol=tol * np.abs(ref).max())
    stats = op._stats
    assert stats["inverted"] + stats["svd"] == 6 * 5
    assert stats["svd"] >= 6  # the rank-2 v = 0 column never goes through LU
    assert (stats["smax_svds"] > 0) == (cutoff == "global")  # exact s_max only when needed
    if rel is None or rel < 8:  # v = pi/4 .. 3 pi/4: provably above the cut-off, so LU
        assert stats["inverted"] == 6 * (4 if rel is None else 3)  # v = pi too when rcond tiny
    if rel is not None and rel < 8:  # the borderline column: 0.1 dropped iff rcond * 2 >= 0.1
        np.testing.assert_array_equal(op.rank[:, 4], 3 if rel < 1.0 else 2)
    np.testing.assert_allclose(
        op.singular_values, np.linalg.svd(a, compute_uv=False), atol=10 * tol
    )


def test_cutoff_modes_differ_where_frequency_s_max_is_smaller():
    k = _mixed_kernel(np.float64)
    glob = ht.signal.conv2d_pinv(k, (6, 8), rcond=0.42)
    per_f = ht.signal.conv2d_pinv(k, (6, 8), rcond=0.42, cutoff="frequency")
    # v = pi/4: singular values 1.76, 1, 0.765; the global cut 0.84 drops 0.765,
    # the per-frequency cut 0.74 keeps it
    np.testing.assert_array_equal(glob.rank[:, 1], 2)
    np.testing.assert_array_equal(per_f.rank[:, 1], 3)


@pytest.mark.parametrize("rcond", [None, 0.05 * (1 - 1e-6), 0.05 * (1 + 1e-6)])
def test_mixed_frequencies_match_dense_pseudo_inverse(rcond):
    rng = np.random.default_rng(8)
    op = ht.signal.conv2d_pinv(_mixed_kernel(np.float64), (6, 8), rcond=rcond)
    dense = _dense(op)
    y = rng.standard_normal((3, 6, 8))
    ref = np.linalg.pinv(dense, rcond=op.rcond) @ y.ravel()
    np.testing.assert_allclose(op.apply(y).ravel(), ref, atol=1e-10 * np.abs(ref).max())
    yr = op.forward(rng.standard_normal((3, 6, 8)))
    if rcond is None or rcond < 0.05:  # only the DC-free channel is lost: y in the range
        assert np.abs(op.forward(op.apply(yr)) - yr).max() < 1e-10


def test_well_conditioned_square_kernel_needs_no_svd():
    rng = np.random.default_rng(9)
    k = rng.standard_normal((8, 8, 3, 3))
    op = ht.signal.conv2d_pinv(k, (16, 16))
    assert op._stats == {"inverted": 16 * 9, "svd": 0, "smax_svds": 0}
    assert op._singular_values is None  # lazy
    a = op.transfer_matrices()
    np.testing.assert_allclose(op.pinv_matrices(), np.linalg.inv(a), atol=1e-10)
    s = op.singular_values
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    x = rng.standard_normal((2, 8, 16, 16))
    assert np.abs(op.apply(op.forward(x)) - x).max() < 1e-10
