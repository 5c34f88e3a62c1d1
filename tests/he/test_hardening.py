"""Flooding decryption (NOISE_FLOODING_DECRYPT) and the security report."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hetensor.errors import KeyRoleError

# Stated tolerance for flooding: OpenFHE (64-bit) runs flooding contexts with a 2^59 scale, so
# even with the flooding noise the error of x**3 + x on [-1, 1] stays far below 1e-6.
FLOODING_ATOL = 1e-6


def _computation(ctx, x):
    a = ctx.encrypt(x)
    return a * a * a + a


def test_flooding_two_phases_and_precision(he):
    x = np.linspace(-0.9, 0.9, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = he.Context.ckks(depth=3, decryption="flooding", insecure=True)
        with pytest.raises(KeyRoleError, match="noise-estimation"):
            estimator.decrypt(estimator.encrypt(x))
        noise = estimator.decryption_noise(_computation(estimator, x))
        assert 0 < noise < 30
        ctx = he.Context.flooding(lambda c: _computation(c, x), depth=3, insecure=True)
        standard = he.Context.ckks(depth=3, insecure=True)
        same_scale = he.Context.ckks(depth=3, scale_bits=59, insecure=True)
    assert ctx.decryption == "flooding" and ctx.params.noise_estimate is not None
    assert ctx.params.scale_bits == 59
    ref = x**3 + x
    flooded = [np.max(np.abs(ctx.decrypt(_computation(ctx, x)) - ref)) for _ in range(2)]
    plain_err = np.max(np.abs(standard.decrypt(_computation(standard, x)) - ref))
    same_err = np.max(np.abs(same_scale.decrypt(_computation(same_scale, x)) - ref))
    print(
        f"flooding max error {max(flooded):.3g} (noise 2^{ctx.params.noise_estimate:.1f}); "
        f"standard 59-bit scale {same_err:.3g}; standard 40-bit (default) {plain_err:.3g}"
    )
    assert max(flooded) < FLOODING_ATOL
    report = ctx.security_report()
    assert report["decryption"] == "flooding"
    assert not any("Li-Micciancio" in w for w in report["warnings"])


def test_flooding_argument_errors(he):
    with pytest.raises(ValueError, match="standard"):
        he.Context.ckks(depth=1, decryption="noisy", insecure=True)
    with pytest.raises(ValueError, match="only applies"):
        he.Context.ckks(depth=1, noise_estimate=10.0, insecure=True)
    with pytest.raises(ValueError, match="bootstrapping"):
        he.Context.ckks(depth=1, decryption="flooding", bootstrapping=True, insecure=True)
    with pytest.raises(ValueError, match=r"\(0, 60\)"):
        he.Context.ckks(depth=1, decryption="flooding", noise_estimate=-1.0, insecure=True)


def test_security_report(ctx, secure_ctx):
    r = secure_ctx.security_report()
    assert r["ring_dim"] == 16384 and r["security_bits"] == 128 and r["slots"] == 8192
    assert r["log_q"] <= r["max_log_qp"] == 438
    assert any("Li-Micciancio" in w for w in r["warnings"])
    assert any("secret key" in w for w in r["warnings"])
    assert not any("INSECURE" in w for w in r["warnings"])
    weak = ctx.security_report()
    assert weak["security_bits"] is None
    assert weak["warnings"][0].startswith("INSECURE") and "exceeds" in weak["warnings"][0]
    assert not any("secret key:" in w for w in ctx.public().security_report()["warnings"])
