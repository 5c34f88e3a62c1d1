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
