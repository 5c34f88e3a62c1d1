"""conv2d / conv2d_backward / Conv2d against a NumPy reference, PyTorch fixtures and finite
differences. Tolerances: float64 1e-12 relative to the output scale, float32 2e-5 (Winograd
and GEMM reassociate sums)."""

from __future__ import annotations

import itertools
import pathlib

import numpy as np
import pytest
from conv_reference import reference_conv2d, same_pads

import hetensor as ht
from hetensor.errors import InvalidDtypeError, NonFiniteError

F = ht.nn.functional
DATA = pathlib.Path(__file__).parent.parent / "data" / "conv2d_torch.npz"


def _pads(padding, kernel, dil):
    if padding == "same":
        return same_pads(kernel, dil)
    if padding == "valid":
        return (0, 0, 0, 0)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return (ph, ph, pw, pw)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _close(got, want, dtype):
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)


COMBOS = list(
    itertools.product(
        [0, 1, (2, 1), "same", "valid"],  # padding
        [1, 2, (2, 1)],  # stride
        [1, 2, (1, 3)],  # dilation
        [1, 2],  # groups
        [(3, 3), (2, 3), (1, 1)],  # kernel
    )
)


@pytest.mark.parametrize(("padding", "stride", "dilation", "groups", "kernel"), COMBOS)
def test_forward_and_backward_match_reference(padding, stride, dilation, groups, kernel):
    rng = np.random.default_rng(
        hash((str(padding), str(stride), str(dilation), groups, kernel)) % 2**32
    )
    x = rng.standard_normal((2, 4, 9, 11))
    w = rng.standard_normal((6, 4 // groups, *kernel))
    b = rng.standard_normal(6)
    st, dil = _pair(stride), _pair(dilation)
    if padding == "same" and st != (1, 1):
        with pytest.raises(ValueError, match="strided"):
            F.conv2d(x, w, b, stride, padding, dilation, groups)
        return
    pads = _pads(padding, kernel, dil)
    want = reference_conv2d(x, w, b, st, pads, dil, groups)
    algos = ["auto", "gemm", "tiled"]
    if kernel == (3, 3) and st == (1, 1) and dil == (1, 1):
        algos.append("winograd")
    for algo in algos:
        got = F.conv2d(x, w, b, stride, padding, dilation, groups, algorithm=algo)
        assert got.dtype == np.float64 and got.shape == want.shape
        _close(got, want, np.float64)
    # backward via the adjoint identity <gy, A dx> = <A^T gy, dx>, and bias = sums of gy
    gy = rng.standard_normal(want.shape)
    g = F.conv2d_backward(x, w, gy, stride, padding, dilation, groups)
    dx = rng.standard_normal(x.shape)
    dw = rng.standard_normal(w.shape)
    lhs_x = np.sum(gy * reference_conv2d(dx, w, None, st, pads, dil, groups))
    lhs_w = np.sum(gy * reference_conv2d(x, dw, None, st, pads, dil, groups))
    assert np.sum(g.input * dx) == pytest.approx(lhs_x, rel=1e-11, abs=1e-9)
    assert np.sum(g.weight * dw) == pytest.approx(lhs_w, rel=1e-11, abs=1e-9)
    np.testing.assert_allclose(g.bias, gy.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algo", ["auto", "gemm", "winograd"])
@pytest.mark.parametrize("shape", [(3, 16, 13, 17, 24), (2, 8, 30, 5, 8), (1, 32, 4, 4, 16)])
def test_float32_paths(algo, shape):
    n, c, h, w_, k = shape
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, w_)).astype(np.float32)
    w = rng.standard_normal((k, c, 3, 3)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    got = F.conv2d(x, w, b, padding=1, algorithm=algo)
    assert got.dtype == np.float32
    _close(got, reference_conv2d(x, w, b, pads=(1, 1, 1, 1)), np.float32)


def test_winograd_odd_sizes_and_asymmetric_padding():
    rng = np.random.default_rng(2)
    for h, w_ in [(3, 3), (4, 7), (9, 2), (17, 33)]:
        x = rng.standard_normal((2, 8, h, w_))
        wt = rng.standard_normal((8, 8, 3, 3))
        for pads in [(0, 0, 0, 0), (1, 1, 1, 1), (2, 0, 0, 2)]:
            if h + pads[0] + pads[1] < 3 or w_ + pads[2] + pads[3] < 3:
                continue
            got = ht._core.conv.conv2d_forward(x, wt, None, (1, 1), pads, (1, 1), 1, "winograd")
            _close(got, reference_conv2d(x, wt, None, pads=pads), np.float64)


def test_torch_fixtures():
    data = np.load(DATA)
    cases = sorted({k.split("_")[0] for k in data.files})
    assert len(cases) >= 8
    for c in cases:
        sh, sw, ph, pw, dh, dw, groups, same = (int(v) for v in data[c + "_params"])
        padding = "same" if same else (ph, pw)
        args = dict(stride=(sh, sw), padding=padding, dilation=(dh, dw), groups=groups)
        x, w, b, gy = (data[c + "_" + n] for n in ("x", "w", "b", "gy"))
        for algo in ("auto", "tiled"):
            np.testing.assert_allclose(
                F.conv2d(x, w, b, algorithm=algo, **args), data[c + "_y"], atol=1e-12
            )
            g = F.conv2d_backward(x, w, gy, algorithm=algo, **args)
            np.testing.assert_allclose(g.input, data[c + "_gx"], atol=1e-12)
            np.testing.assert_allclose(g.weight, data[c + "_gw"], atol=1e-11)
            np.testing.assert_allclose(g.bias, data[c + "_gb"], atol=1e-12)
        # float32 against the float64 golden values
        y32 = F.conv2d(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), **args)
        np.testing.assert_allclose(y32, data[c + "_y"], atol=2e-4)


@pytest.mark.parametrize(
    ("stride", "padding", "dilation", "groups"),
    [(1, 1, 1, 1), (2, (1, 2), 1, 2), ((1, 2), "same", (2, 1), 1), (1, 0, 1, 2)],
)
def test_gradients_by_finite_differences(stride, padding, dilation, groups):
    """Central differences of L = sum(gy * conv2d(x, w, b)) entry by entry (float64)."""
    if padding == "same" and stride != 1:
        stride = 1
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((4, 2 // groups, 3, 2))
    b = rng.standard_normal(4)
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    gy = rng.standard_normal(F.conv2d(x, w, b, **args).shape)

    def loss(xv, wv, bv):
        return float(np.sum(gy * F.conv2d(xv, wv, bv, **args)))

    g = F.conv2d_backward(x, w, gy, **args)
    eps = 1e-6
    for name, arr, grad in (("x", x, g.input), ("w", w, g.weight), ("b", b, g.bias)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += eps
            minus[idx] -= eps
            vals = {"x": x, "w": w, "b": b}
            vals[name] = plus
            lp = loss(vals["x"], vals["w"], vals["b"])
            vals[name] = minus
            lm = loss(vals["x"], vals["w"], vals["b"])
            num[idx] = (lp - lm) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-7, err_msg=name)


def test_unbatched_empty_batch_and_needs():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 6))
    w = rng.standard_normal((2, 3, 3, 3))
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (2, 6, 6)
    np.testing.assert_allclose(y, F.conv2d(x[None], w, padding=1)[0])
    g = F.conv2d_backward(x, w, np.ones_like(y), padding=1, needs=("input",))
    assert g.input.shape == x.shape and g.weight is None and g.bias is None
    empty = F.conv2d(np.zeros((0, 3, 6, 6)), w)
    assert empty.shape == (0, 2, 4, 4)
    g0 = F.conv2d_backward(np.zeros((0, 3, 6, 6)), w, np.zeros((0, 2, 4, 4)))
    assert g0.input.shape == (0, 3, 6, 6) and not g0.weight.any() and not g0.bias.any()


def test_dtype_promotion():
    x32 = np.ones((1, 2, 4, 4), np.float32)
    w32 = np.ones((1, 2, 3, 3), np.float32)
    assert F.conv2d(x32, w32).dtype == np.float32
    assert F.conv2d(x32, w32.astype(np.float64)).dtype == np.float64
    assert F.conv2d(x32.astype(np.float16), w32).dtype == np.float32
    y = F.conv2d(np.ones((1, 2, 4, 4), np.int64), np.ones((1, 2, 3, 3), np.int32))
    assert y.dtype == np.float64 and y[0, 0, 0, 0] == 18
    # non-contiguous and Fortran-ordered input
    xs = np.asfortranarray(np.random.default_rng(5).standard_normal((2, 3, 8, 8)))[:, :, ::2, 1::2]
    w = np.ones((2, 3, 2, 2))
    np.testing.assert_allclose(F.conv2d(xs, w), reference_conv2d(xs, w), atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(x=np.ones((3, 4, 4)), w=np.ones((1, 2, 3, 3))), ValueError, "expects input with 2"),
        (dict(x=np.ones((2, 4, 5, 5)), w=np.ones((1, 2, 3, 3)), groups=3), ValueError, "groups"),
        (dict(x=np.ones((2, 4, 5, 5)), w=np.ones((3, 2, 3, 3)), groups=2), ValueError, "divisible"),
        (dict(x=np.ones((1, 1, 2, 2)), w=np.ones((1, 1, 3, 3))), ValueError, "kernel"),
        (dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 3, 3)), stride=0), ValueError, "stride"),
        (dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 3, 3)), padding=-1), ValueError, "padding"),
        (
            dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 3, 3)), padding="full"),
            ValueError,
            "same",
        ),
        (dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 3, 3)), dilation=(1,)), TypeError, "pair"),
        (dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 3))), ValueError, "4-D"),
        (dict(x=np.ones((1, 5, 5)), w=np.ones((1, 1, 3, 3)), bias=np.ones(2)), ValueError, "bias"),
        (dict(x=np.ones((5, 5)), w=np.ones((1, 1, 3, 3))), ValueError, "4-D"),
        (dict(x=np.ones((1, 1, 5, 5)) * 1j, w=np.ones((1, 1, 3, 3))), InvalidDtypeError, "real"),
        (dict(x=np.ones((1, 1, 5, 5), bool), w=np.ones((1, 1, 3, 3))), InvalidDtypeError, "bool"),
        (dict(x=np.full((1, 1, 5, 5), np.nan), w=np.ones((1, 1, 3, 3))), NonFiniteError, "input"),
        (dict(x=np.ones((1, 1, 5, 5)), w=np.full((1, 1, 3, 3), np.inf)), NonFiniteError, "weight"),
        (
            dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 3, 3)), device="tpu"),
            ValueError,
            "device",
        ),
        (
            dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 3, 3)), algorithm="fft"),
            ValueError,
            "algorithm",
        ),
        (
            dict(x=np.ones((1, 1, 5, 5)), w=np.ones((1, 1, 2, 2)), algorithm="winograd"),
            ValueError,
            "3x3",
        ),
    ],
)
def test_errors(kwargs, exc, match):
    x = kwargs.pop("x")
    w = kwargs.pop("w")
    with pytest.raises(exc, match=match):
        F.conv2d(x, w, **kwargs)


def test_nan_propagates_without_check():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.nan
    y = F.conv2d(x, np.ones((1, 1, 2, 2)), check_finite=False)
    assert np.isnan(y[0, 0, 0, 0]) and np.isfinite(y[0, 0, 2, 2])


def test_backward_shape_errors():
    x, w = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3))
    with pytest.raises(ValueError, match="grad_output"):
        F.conv2d_backward(x, w, np.ones((1, 3, 4, 4)))
    with pytest.raises(ValueError, match="needs"):
        F.conv2d_backward(x, w, np.ones((1, 3, 3, 3)), needs=("inputs",))
    with pytest.raises(NonFiniteError):
        F.conv2d_backward(x, w, np.full((1, 3, 3, 3), np.nan))


def test_cuda_device_without_gpu_raises():
    if ht.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="cuda"):
        F.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), device="cuda")
    with pytest.raises(RuntimeError, match="cuda"):
        F.conv2d_backward(
            np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), device="cuda"
        )


def test_threads_do_not_change_results():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 16, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    one = F.conv2d(x, w, padding=1, num_threads=1)
    np.testing.assert_array_equal(one, F.conv2d(x, w, padding=1, num_threads=3))
    g1 = F.conv2d_backward(x, w, one, padding=1, num_threads=1)
    g3 = F.conv2d_backward(x, w, one, padding=1, num_threads=3)
    np.testing.assert_array_equal(g1.input, g3.input)
    np.testing.assert_allclose(g1.weight, g3.weight, rtol=1e-4, atol=1e-2)


# ---- Conv2d module ----------------------------------------------------------------------------


def test_module_init_forward_backward():
    layer = ht.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, rng=0)
    assert layer.weight.shape == (6, 2, 3, 2) and layer.bias.shape == (6,)
    assert layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(2 * 3 * 2)
    assert np.abs(layer.weight).max() <= bound and np.abs(layer.bias).max() <= bound
    assert np.abs(layer.weight).max() > 0.8 * bound  # uniform over the whole interval
    x = np.random.default_rng(1).standard_normal((3, 4, 7, 8)).astype(np.float32)
    y = layer(x)
    np.testing.assert_allclose(
        y, reference_conv2d(x, layer.weight, layer.bias, (2, 2), (1, 1, 1, 1), (1, 1), 2), atol=1e-5
    )
    gy = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    gx = layer.backward(gy)
    ref = F.conv2d_backward(x, layer.weight, gy, 2, 1, 1, 2)
    np.testing.assert_array_equal(gx, ref.input)
    np.testing.assert_array_equal(layer.grad_weight, ref.weight)
    np.testing.assert_array_equal(layer.grad_bias, ref.bias)
    layer.zero_grad()
    assert layer.grad_weight is None
    assert "groups=2" in repr(layer) and "Conv2d(4, 6" in repr(layer)


def test_module_state_dict_roundtrip_and_errors():
    a = ht.nn.Conv2d(3, 5, 3, rng=1, dtype=np.float64)
    b = ht.nn.Conv2d(3, 5, 3, rng=2, dtype=np.float64)
    state = a.state_dict()
    state["weight"][...] = 0  # a copy: the layer is unchanged
    assert a.weight.any()
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 3, 6, 6))
    np.testing.assert_array_equal(a(x), b(x))
    with pytest.raises(KeyError):
        b.load_state_dict({"weight": a.weight})
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict({"weight": np.ones((5, 3, 2, 2)), "bias": a.bias})
    nb = ht.nn.Conv2d(3, 5, 3, bias=False, rng=0)
    assert nb.bias is None and set(nb.state_dict()) == {"weight"} and "bias=False" in repr(nb)
    nb(x.astype(np.float32))
    nb.backward(np.ones((1, 5, 4, 4), np.float32))
    assert nb.grad_bias is None
    with pytest.raises(RuntimeError, match="forward"):
        ht.nn.Conv2d(1, 1, 1).backward(np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="divisible"):
        ht.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        ht.nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(TypeError, match="dtype"):
        ht.nn.Conv2d(3, 4, 3, dtype=np.int32)


def test_module_matches_torch_layout_init_statistics():
    """PyTorch's default init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), variance bound^2/3."""
    layer = ht.nn.Conv2d(64, 64, 3, rng=0)
    bound = 1 / np.sqrt(64 * 9)
    assert layer.weight.var() == pytest.approx(bound**2 / 3, rel=0.02)
    assert abs(layer.weight.mean()) < 0.01 * bound * 10
