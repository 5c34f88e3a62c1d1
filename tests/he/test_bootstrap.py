"""Bootstrapping: automatic refresh when depth runs out. Slow: run with `make test-slow`."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hetensor import errors

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def boot_ctx(he):
    """Insecure toy ring 2^12, sparse 8 slots: bootstrap logic in seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        return he.Context.ckks(
            depth=2, bootstrapping=True, slots=8, level_budget=(2, 2), insecure=True
        )


def test_depth_semantics_with_bootstrapping(boot_ctx):
    a = boot_ctx.encrypt(np.linspace(-0.9, 0.9, 8))
    assert a.levels_left == boot_ctx.depth == 2
    b = boot_ctx.bootstrap(a * a)
    assert b.levels_left == 2
    assert b.bound == (a * a).bound == 1.0  # the values, and so the bound, do not change


def test_long_chain_bootstraps_itself(boot_ctx):
    x = np.linspace(-0.95, 0.95, 8)
    a = boot_ctx.encrypt(x)
    c, ref = a, x.copy()
    for i in range(7):  # 7 multiplications with 2 levels per bootstrap
        c = c * a if i % 2 == 0 else c * x
        ref = ref * x
    np.testing.assert_allclose(boot_ctx.decrypt(c), ref, atol=1e-4)


def test_public_side_bootstraps(boot_ctx, he):
    x = np.linspace(-0.5, 0.5, 8)
    server = he.Context.deserialize(boot_ctx.public().serialize())
    a = server.from_bytes(boot_ctx.encrypt(x).to_bytes())
    c = a * a * a * a  # needs a bootstrap after the second product
    np.testing.assert_allclose(boot_ctx.decrypt(boot_ctx.from_bytes(c.to_bytes())), x**4, atol=1e-4)


def test_missing_bootstrap_keys(ctx):
    with pytest.raises(errors.MissingKeyError, match="bootstrapping=True"):
        ctx.bootstrap(ctx.encrypt(np.ones(2)))


def test_bootstrap_128bit_end_to_end(he):
    """The one 128-bit case: ring chosen by OpenFHE (2^16 with 6 digits), 8 sparse slots."""
    ctx = he.Context.ckks(depth=2, bootstrapping=True, slots=8)
    assert ctx.security == 128 and ctx.ring_dim == 2**16
    x = np.linspace(-0.9, 0.9, 8)
    a = ctx.encrypt(x)
    c = a * a * a  # the third product bootstraps first
    np.testing.assert_allclose(ctx.decrypt(c), x**3, atol=1e-3)


def test_encrypted_array_bootstraps_itself(boot_ctx):
    x = np.linspace(-0.9, 0.9, 8).reshape(2, 4)
    a = boot_ctx.encrypt(x)
    c = a
    for _ in range(4):  # 4 products on a depth-2 context: bootstraps on the way
        c = c * a
    np.testing.assert_allclose(boot_ctx.decrypt(c), x**5, atol=1e-4)
    with boot_ctx.count_ops() as ops:
        _ = (c * a) * a * a
    assert ops["bootstrap"] >= 1
