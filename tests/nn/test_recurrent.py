"""ht.nn.RNN / LSTM / GRU against NumPy references and finite differences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import hetensor as ht
from hetensor.errors import InvalidDtypeError, NonFiniteError


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- NumPy references
def ref_cell(kind, p, sfx, x, h, c, H, flags):
    """One step of one layer/direction; x (B, I), h, c (B, H). Returns (h, c)."""
    gi = x @ p[f"weight_ih{sfx}"].T + p.get(f"bias_ih{sfx}", 0.0)
    gh = h @ p[f"weight_hh{sfx}"].T + p.get(f"bias_hh{sfx}", 0.0)
    if kind in ("rnn_tanh", "rnn_relu"):
        a = gi + gh
        return (np.tanh(a) if kind == "rnn_tanh" else np.maximum(a, 0.0)), None
    if kind == "gru":
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
        return (1 - z) * n + z * h, None
    a = gi + gh
    peep = p.get(f"weight_peephole{sfx}")
    if flags.get("coupled"):
        pf, po = (peep[0], peep[1]) if peep is not None else (0.0, 0.0)
        f = sigmoid(a[:, :H] + pf * c)
        i = 1 - f
        g = np.tanh(a[:, H : 2 * H])
        c_new = f * c + i * g
        o = sigmoid(a[:, 2 * H :] + po * c_new)
    else:
        pi, pf, po = (peep[0], peep[1], peep[2]) if peep is not None else (0.0, 0.0, 0.0)
        i = sigmoid(a[:, :H] + pi * c)
        f = sigmoid(a[:, H : 2 * H] + pf * c)
        g = np.tanh(a[:, 2 * H : 3 * H])
        c_new = f * c + i * g
        o = sigmoid(a[:, 3 * H :] + po * c_new)
    return o * np.tanh(c_new), c_new


def ref_forward(kind, p, x, h0, c0, L, D, H, flags):
    """Time-major reference: x (T, B, I) -> output (T, B, D*H), h_n, c_n (L*D, B, H)."""
    T, B, _ = x.shape
    inp = x
    h_n, c_n = [], []
    for layer in range(L):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            h = h0[layer * D + d]
            c = c0[layer * D + d] if c0 is not None else np.zeros((B, H))
            seq = [None] * T
            for t in range(T - 1, -1, -1) if d else range(T):
                h, c = ref_cell(kind, p, sfx, inp[t], h, c, H, flags)
                seq[t] = h
            outs.append(np.stack(seq))
            h_n.append(h)
            c_n.append(c)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(h_n), np.stack(c_n)


CASES = [
    # kind, layers, bidirectional, bias, flags
    ("rnn_tanh", 1, False, True, {}),
    ("rnn_relu", 2, True, True, {}),
    ("rnn_tanh", 2, False, False, {}),
    ("lstm", 1, False, True, {}),
    ("lstm", 2, True, True, {}),
    ("lstm", 1, True, False, {"peepholes": True}),
    ("lstm", 2, False, True, {"coupled_input_forget": True}),
    ("lstm", 1, True, True, {"peepholes": True, "coupled_input_forget": True}),
    ("gru", 1, False, True, {}),
    ("gru", 2, True, True, {}),
    ("gru", 1, False, False, {}),
]


def make_layer(kind, layers, bidir, bias, flags, n_in=3, H=4, dtype=np.float64, seed=0, **kw):
    common = dict(num_layers=layers, bias=bias, bidirectional=bidir, dtype=dtype, seed=seed)
    common.update(kw)
    if kind.startswith("rnn"):
        return ht.nn.RNN(n_in, H, nonlinearity=kind[4:], **common)
    if kind == "lstm":
        return ht.nn.LSTM(n_in, H, **common, **flags)
    return ht.nn.GRU(n_in, H, **common)


def run(layer, x, h0, c0):
    if isinstance(layer, ht.nn.LSTM):
        out, (h_n, c_n) = layer(x, (h0, c0))
        return out, h_n, c_n
    out, h_n = layer(x, h0)
    return out, h_n, None


def back(layer, gout, gh, gc):
    if isinstance(layer, ht.nn.LSTM):
        g = layer.backward(gout, (gh, gc))
        return g.input, g.hx[0], g.hx[1], g.params
    g = layer.backward(gout, gh)
    return g.input, g.hx, None, g.params


def case_id(case):
    kind, layers, bidir, bias, flags = case
    return f"{kind}-L{layers}-{'bi' if bidir else 'uni'}-{'bias' if bias else 'nobias'}" + "".join(
        f"-{k}" for k in flags
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forward_matches_numpy_reference(case):
    kind, layers, bidir, _bias, flags = case
    T, B, n_in, H = 5, 3, 3, 4
    layer = make_layer(*case, n_in=n_in, H=H)
    rng = np.random.default_rng(1)
    D = 2 if bidir else 1
    x = rng.standard_normal((T, B, n_in))
    h0 = rng.standard_normal((layers * D, B, H))
    c0 = rng.standard_normal((layers * D, B, H)) if kind == "lstm" else None
    out, h_n, c_n = run(layer, x, h0, c0)
    rflags = {"coupled": flags.get("coupled_input_forget", False)}
    r_out, r_h, r_c = ref_forward(kind, layer.state_dict(), x, h0, c0, layers, D, H, rflags)
    np.testing.assert_allclose(out, r_out, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(h_n, r_h, rtol=1e-12, atol=1e-13)
    if kind == "lstm":
        np.testing.assert_allclose(c_n, r_c, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_match_finite_differences(case):
    """Central differences of L = <R, out> + <Rh, h_n> (+ <Rc, c_n>) for every entry of every
    parameter, the input and the initial states (float64, eps 1e-6: error ~1e-9)."""
    kind, layers, bidir, _bias, _flags = case
    T, B, n_in, H = 4, 2, 3, 3
    layer = make_layer(*case, n_in=n_in, H=H, seed=3)
    rng = np.random.default_rng(2)
    D = 2 if bidir else 1
    x = rng.standard_normal((T, B, n_in))
    h0 = rng.standard_normal((layers * D, B, H)) * 0.5
    c0 = rng.standard_normal((layers * D, B, H)) * 0.5 if kind == "lstm" else None
    out, h_n, _c_n = run(layer, x, h0, c0)
    r_out = rng.standard_normal(out.shape)
    r_h = rng.standard_normal(h_n.shape)
    r_c = rng.standard_normal(h_n.shape) if kind == "lstm" else None
    dx, dh0, dc0, dparams = back(layer, r_out, r_h, r_c)

    def loss():
        o, hn, cn = run(layer, x, h0, c0)
        v = np.sum(o * r_out) + np.sum(hn * r_h)
        return v + (np.sum(cn * r_c) if cn is not None else 0.0)

    def numeric(arr):
        g = np.zeros_like(arr)
        for idx in itertools.product(*map(range, arr.shape)):
            old = arr[idx]
            arr[idx] = old + 1e-6
            up = loss()
            arr[idx] = old - 1e-6
            down = loss()
            arr[idx] = old
            g[idx] = (up - down) / 2e-6
        return g

    assert set(dparams) == {name for name, _ in layer.named_parameters()}
    for name, param in layer.named_parameters():
        np.testing.assert_allclose(dparams[name], numeric(param), atol=1e-7, err_msg=name)
    np.testing.assert_allclose(dx, numeric(x), atol=1e-7, err_msg="input")
    np.testing.assert_allclose(dh0, numeric(h0), atol=1e-7, err_msg="h0")
    if kind == "lstm":
        np.testing.assert_allclose(dc0, numeric(c0), atol=1e-7, err_msg="c0")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_batch_split_matches_one_thread(case, monkeypatch):
    """With 2 kernel threads the step loops run on two batch-row blocks (5 and 6 rows here);
    forward against the NumPy reference, and every gradient against the 1-thread run."""
    kind, layers, bidir, _bias, flags = case
    T, B, n_in, H = 6, 11, 3, 5
    layer = make_layer(*case, n_in=n_in, H=H, seed=4)
    rng = np.random.default_rng(5)
    D = 2 if bidir else 1
    x = rng.standard_normal((T, B, n_in))
    h0 = rng.standard_normal((layers * D, B, H))
    c0 = rng.standard_normal((layers * D, B, H)) if kind == "lstm" else None
    r_out = rng.standard_normal((T, B, D * H))
    r_h = rng.standard_normal((layers * D, B, H))
    r_c = rng.standard_normal((layers * D, B, H)) if kind == "lstm" else None
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("HETENSOR_NUM_THREADS", threads)
        fwd = run(layer, x, h0, c0)
        results[threads] = (fwd, back(layer, r_out, r_h, r_c))
    rflags = {"coupled": flags.get("coupled_input_forget", False)}
    ref = ref_forward(kind, layer.state_dict(), x, h0, c0, layers, D, H, rflags)
    (out, h_n, c_n), (dx, dh0, dc0, dparams) = results["2"]
    (out1, h_n1, c_n1), (dx1, dh01, dc01, dparams1) = results["1"]
    for got, one, want in zip((out, h_n, c_n), (out1, h_n1, c_n1), ref, strict=True):
        if one is None:
            continue
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(got, one, rtol=1e-13, atol=1e-14)
    for name in dparams1:
        np.testing.assert_allclose(dparams[name], dparams1[name], rtol=1e-12, atol=1e-13)
    for got, one in ((dx, dx1), (dh0, dh01), (dc0, dc01)):
        if one is not None:
            np.testing.assert_allclose(got, one, rtol=1e-12, atol=1e-13)


def test_seed_elman_rnn_with_sigmoid_readout():
    """Seed 002: M = 4 one-hot inputs, N = 3 hidden, P = 4 outputs, no biases:
    h_t = tanh(W_xh [x_t; h_{t-1}]), y_t = sigmoid(W_hy h_t), h_{-1} = 0."""
    M, N, P = 4, 3, 4
    rnn = ht.nn.RNN(M, N, output_size=P, bias=False, dtype=np.float64, seed=7)
    W_xh = np.concatenate([rnn.weight_ih_l0, rnn.weight_hh_l0], axis=1)  # (N, M + N)
    W_hy = rnn.weight_hy  # (P, N)
    xs = np.eye(M)[[0, 1, 2, 3, 1]]  # one-hot sequence
    h = np.zeros(N)
    ys, hs = [], []
    for x_t in xs:
        h = np.tanh(W_xh @ np.concatenate([x_t, h]))
        hs.append(h)
        ys.append(sigmoid(W_hy @ h))
    y, h_n = rnn(xs)  # unbatched (seq, features)
    np.testing.assert_allclose(y, np.array(ys), rtol=1e-13)
    np.testing.assert_allclose(h_n, h[None, :], rtol=1e-13)
    # batched + batch_first gives the same numbers
    rnn_bf = ht.nn.RNN(M, N, output_size=P, bias=False, batch_first=True, dtype=np.float64)
    rnn_bf.load_state_dict(rnn.state_dict())
    y_bf, _ = rnn_bf(np.stack([xs, xs]))
    np.testing.assert_allclose(y_bf[1], y, rtol=1e-13)
    # read-out gradients: d sum(y) / d W_hy = sum_t (y (1 - y)) h_t^T
    g = rnn.backward(np.ones_like(y))
    ys = np.array(ys)
    np.testing.assert_allclose(g.params["weight_hy"], (ys * (1 - ys)).T @ np.array(hs), rtol=1e-12)


@pytest.mark.parametrize("readout_bias", [False, True])
def test_readout_gradients_finite_differences(readout_bias):
    rnn = ht.nn.RNN(3, 4, output_size=2, bias=readout_bias, dtype=np.float64, seed=5)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 3))
    r = rng.standard_normal((4, 2, 2))
    _y, _ = rnn(x)
    g = rnn.backward(r)
    for name, p in rnn.named_parameters():
        num = np.zeros_like(p)
        for idx in itertools.product(*map(range, p.shape)):
            old = p[idx]
            p[idx] = old + 1e-6
            up = np.sum(rnn(x)[0] * r)
            p[idx] = old - 1e-6
            down = np.sum(rnn(x)[0] * r)
            p[idx] = old
            num[idx] = (up - down) / 2e-6
        np.testing.assert_allclose(g.params[name], num, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("cls", [ht.nn.RNN, ht.nn.LSTM, ht.nn.GRU])
def test_batch_first_and_unbatched_agree(cls):
    layer = cls(3, 5, num_layers=2, bidirectional=True, dtype=np.float64, seed=0)
    bf = cls(3, 5, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    bf.load_state_dict(layer.state_dict())
    x = np.random.default_rng(0).standard_normal((6, 2, 3))
    out = layer(x)[0]
    out_bf = bf(x.transpose(1, 0, 2))[0]
    np.testing.assert_allclose(out_bf, out.transpose(1, 0, 2), rtol=1e-14)
    g = layer.backward(np.ones_like(out))
    g_bf = bf.backward(np.ones_like(out_bf))
    np.testing.assert_allclose(g_bf.input, g.input.transpose(1, 0, 2), rtol=1e-12)
    single = layer(x[:, 1])[0]  # unbatched
    np.testing.assert_allclose(single, out[:, 1], rtol=1e-14)


@pytest.mark.parametrize("cls", [ht.nn.RNN, ht.nn.LSTM, ht.nn.GRU])
def test_float32_close_to_float64(cls):
    l64 = cls(6, 8, num_layers=2, dtype=np.float64, seed=0)
    l32 = cls(6, 8, num_layers=2, dtype=np.float32)
    l32.load_state_dict(l64.state_dict())
    x = np.random.default_rng(0).standard_normal((20, 4, 6))
    o64, o32 = l64(x)[0], l32(x)[0]
    assert o32.dtype == np.float32
    np.testing.assert_allclose(o32, o64, atol=2e-6)
    g64 = l64.backward(np.ones_like(o64))
    g32 = l32.backward(np.ones_like(o32))
    for name in g64.params:
        assert g32.params[name].dtype == np.float32
        np.testing.assert_allclose(g32.params[name], g64.params[name], atol=5e-5, rtol=1e-4)


def test_errors():
    lstm = ht.nn.LSTM(3, 4, dtype=np.float64)
    with pytest.raises(ValueError, match="expected input_size=3"):
        lstm(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match="3-D"):
        lstm(np.zeros(5))
    with pytest.raises(ValueError, match=r"h0 has shape \(2, 2, 4\), expected \(1, 2, 4\)"):
        lstm(np.zeros((5, 2, 3)), (np.zeros((2, 2, 4)), np.zeros((1, 2, 4))))
    with pytest.raises(TypeError, match="pair"):
        lstm(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(NonFiniteError):
        lstm(np.full((5, 2, 3), np.nan))
    with pytest.raises(InvalidDtypeError):
        lstm(np.zeros((5, 2, 3), dtype=complex))
    with pytest.raises(InvalidDtypeError):
        ht.nn.GRU(3, 4, dtype=np.int32)
    with pytest.raises(ValueError, match="hidden_size"):
        ht.nn.GRU(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        ht.nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="forward pass first"):
        ht.nn.GRU(3, 4).backward(np.zeros((5, 2, 4)))
    out, _ = lstm(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match="grad_output has shape"):
        lstm.backward(np.zeros((5, 2, 5)))
    lstm.backward(np.ones_like(out))
    with pytest.raises(RuntimeError, match="already ran"):
        lstm.backward(np.ones_like(out))
    with pytest.raises(KeyError, match="missing"):
        lstm.load_state_dict({"weight_ih_l0": np.zeros((16, 3))})
    bad = lstm.state_dict()
    bad["weight_hh_l0"] = np.zeros((16, 5))
    with pytest.raises(ValueError, match=r"weight_hh_l0 has shape \(16, 5\)"):
        lstm.load_state_dict(bad)
    bad["weight_hh_l0"] = np.full((16, 4), np.inf)
    with pytest.raises(NonFiniteError):
        lstm.load_state_dict(bad)
    with pytest.raises(ValueError, match="unknown cell kind"):
        ht._core.nn.recurrent_forward(
            "lstmx", np.zeros((1, 1, 1)), None, None, [], 1, 1, 1, False, False
        )
    with pytest.raises(ValueError, match="weight_hh_l0 has shape"):
        ht._core.nn.recurrent_forward(
            "gru",
            np.zeros((1, 1, 3)),
            None,
            None,
            [np.zeros((12, 3)), np.zeros((12, 5))],
            3,
            4,
            1,
            False,
            False,
        )


def test_parameter_names_and_repr():
    lstm = ht.nn.LSTM(3, 4, num_layers=2, bidirectional=True, peepholes=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:5] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_peephole_l0",
    ]
    assert "weight_ih_l1_reverse" in names and lstm.weight_ih_l1.shape == (16, 8)
    assert lstm.weight_peephole_l0.shape == (3, 4)
    assert "LSTM(3, 4, num_layers=2, bidirectional=True" in repr(lstm)
    assert all(p.dtype == np.float32 for p in lstm.parameters())


def directional_derivative_error(layer, x, h0, c0, rng):
    """|numeric - analytic| / max(1, |analytic|) for the derivative of
    L = <R, out> + <Rh, h_n> (+ <Rc, c_n>) along one random direction of every parameter, the
    input and the initial states (central difference, step 1e-6, float64)."""
    out, h_n, _ = run(layer, x, h0, c0)
    r_out, r_h = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape)
    r_c = rng.standard_normal(h_n.shape) if c0 is not None else None
    dx, dh0, dc0, dparams = back(layer, r_out, r_h, r_c)
    named = list(layer.named_parameters())
    arrays = [x, h0, *([c0] if c0 is not None else []), *(p for _, p in named)]
    grads = [dx, dh0, *([dc0] if c0 is not None else []), *(dparams[n] for n, _ in named)]
    dirs = [rng.standard_normal(a.shape) for a in arrays]

    def loss(step):
        for a, v in zip(arrays, dirs, strict=True):
            a += step * v
        o, hn, cn = run(layer, x, h0, c0)
        for a, v in zip(arrays, dirs, strict=True):
            a -= step * v
        return np.sum(o * r_out) + np.sum(hn * r_h) + (np.sum(cn * r_c) if c0 is not None else 0)

    numeric = (loss(1e-6) - loss(-1e-6)) / 2e-6
    analytic = sum(float(np.sum(g * v)) for g, v in zip(grads, dirs, strict=True))
    return abs(numeric - analytic) / max(1.0, abs(analytic))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_every_simd_path_matches_reference(kind, dtype, simd_isa, monkeypatch):
    """Each instruction set's step GEMM (tiles of its vector width; H = 37 leaves partial
    panels) on one thread for batch sizes 1-13 (every row-tile split): forward against the
    NumPy reference; backward (float64) by a directional derivative."""
    monkeypatch.setenv("HETENSOR_NUM_THREADS", "1")
    T, n_in, H = 3, 5, 37
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=0, atol=2e-5)
    for B in range(1, 14):
        layer = make_layer(kind, 1, True, True, {}, n_in=n_in, H=H, dtype=dtype, seed=B)
        rng = np.random.default_rng(B)
        x = rng.standard_normal((T, B, n_in)).astype(dtype)
        h0 = (rng.standard_normal((2, B, H)) * 0.5).astype(dtype)
        c0 = (rng.standard_normal((2, B, H)) * 0.5).astype(dtype) if kind == "lstm" else None
        got = run(layer, x, h0, c0)
        p64 = {k: v.astype(np.float64) for k, v in layer.state_dict().items()}
        c64 = c0.astype(np.float64) if c0 is not None else None
        ref = ref_forward(kind, p64, x.astype(np.float64), h0.astype(np.float64), c64, 1, 2, H, {})
        for g, want in zip(got, ref, strict=True):
            if g is not None:
                np.testing.assert_allclose(g, want, **tol, err_msg=f"{simd_isa} B={B}")
        if dtype == np.float64:
            assert directional_derivative_error(layer, x, h0, c0, rng) < 1e-6, (simd_isa, B)
