"""Shared fixtures. CKKS contexts are session-scoped: key generation is the slow part."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.fixture(scope="session")
def ht():
    import hetensor

    return hetensor


@pytest.fixture(scope="session")
def he(ht):
    """The encrypted layer; tests using it are skipped where openfhe cannot be imported."""
    return pytest.importorskip("hetensor.he", exc_type=ImportError)


@pytest.fixture(scope="session")
def ctx(he):
    """Small insecure owner context (ring 2^12, 2048 slots, depth 3): fast, for logic tests."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)
        return he.Context.ckks(depth=3, insecure=True)


@pytest.fixture(scope="session")
def secure_ctx(he):
    """128-bit owner context with the default parameters (ring 2^14, depth 3, 40-bit scale)."""
    return he.Context.ckks(depth=3)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


SIMD_ISAS = ("baseline", "avx2", "avx512")


@pytest.fixture(params=SIMD_ISAS)
def simd_isa(request):
    """Caps the register-tiled kernels (recurrent step GEMM, dense power-iteration product) at
    each instruction set in turn, so every path is tested on a machine that has it; sets this
    CPU lacks are skipped. The cap is lifted afterwards."""
    from hetensor import _core

    native = _core.simd_isa()
    if SIMD_ISAS.index(request.param) > SIMD_ISAS.index(native):
        pytest.skip(f"this CPU's widest instruction set is {native}")
    _core.set_simd_isa_cap(request.param)
    assert _core.simd_isa() == request.param
    yield request.param
    _core.set_simd_isa_cap("avx512")
