"""ht.nn layers against PyTorch golden outputs and gradients (tests/data/recurrent_*.npz,
made by scripts/fixtures/recurrent.py with torch 2.13.0; `make fixtures` regenerates them).

The PyTorch state_dict loads by name; float64 cases agree to ~1e-12, float32 to ~1e-5."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import hetensor as ht

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
FIXTURES = sorted(DATA.glob("recurrent_*.npz"))


def test_fixtures_present():
    assert len(FIXTURES) >= 6, "run `make fixtures` to regenerate tests/data/recurrent_*.npz"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_matches_pytorch(path):
    f = np.load(path)
    meta = ast.literal_eval(str(f["meta"]))
    cls = getattr(ht.nn, meta.pop("cls"))
    dtype = np.dtype(meta.pop("dtype"))
    num_layers = meta.pop("num_layers", 1)
    layer = cls(f["x"].shape[-1], f["h0"].shape[-1], num_layers, dtype=dtype, **meta)
    state = {k[len("param.") :]: f[k] for k in f.files if k.startswith("param.")}
    layer.load_state_dict(state)  # strict: PyTorch's names are ours
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 2e-5}
    if cls is ht.nn.LSTM:
        out, (h_n, c_n) = layer(f["x"], (f["h0"], f["c0"]))
        np.testing.assert_allclose(c_n, f["c_n"], **tol)
        g = layer.backward(f["r_out"], (f["r_h"], f["r_c"]))
        np.testing.assert_allclose(g.hx[0], f["grad.h0"], **tol)
        np.testing.assert_allclose(g.hx[1], f["grad.c0"], **tol)
    else:
        out, h_n = layer(f["x"], f["h0"])
        g = layer.backward(f["r_out"], f["r_h"])
        np.testing.assert_allclose(g.hx, f["grad.h0"], **tol)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, f["out"], **tol)
    np.testing.assert_allclose(h_n, f["h_n"], **tol)
    np.testing.assert_allclose(g.input, f["grad.x"], **tol)
    assert set(g.params) == set(state)
    for name, grad in g.params.items():
        np.testing.assert_allclose(grad, f[f"grad.param.{name}"], err_msg=name, **tol)
