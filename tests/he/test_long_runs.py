"""Slow long runs: scale/level bookkeeping stays consistent over hundreds of operations.

(The 200-iteration bootstrapped regression is in tests/linear_model/test_linear_regression.py.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.mark.slow
def test_drift_over_many_operations_and_bootstraps(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = he.Context.ckks(depth=5, bootstrapping=True, slots=8, insecure=True)
    ctx.generate_keys(rotations=[1])
    eng = ctx._engine
    rng = np.random.default_rng(0)
    ref = rng.uniform(-0.5, 0.5, 8)
    ct = ctx.encrypt_vector(ref)
    after_boot_levels, after_boot_scales, worst = set(), set(), 0.0
    for i in range(60):  # 60 x (add, multiply, rotate) = 180 operations, 12 bootstraps
        used = eng.levels_used(ct._ct)
        ct = (ct * 0.9 + 0.05).rotate(1)
        ref = np.roll(ref * 0.9 + 0.05, -1)
        assert eng.levels_used(ct._ct) == used + 1  # one level per multiplication, no drift
        assert int(ct._ct.GetNoiseScaleDeg()) in (1, 2)
        if i % 5 == 4:
            ct = ctx.bootstrap(ct)
            after_boot_levels.add(int(ct._ct.GetLevel()))
            after_boot_scales.add(round(float(np.log2(ct._ct.GetScalingFactor())), 6))
            worst = max(worst, float(np.max(np.abs(ctx.decrypt(ct) - ref))))
    assert len(after_boot_levels) == 1, f"level after bootstrap drifted: {after_boot_levels}"
    assert len(after_boot_scales) == 1, f"scale after bootstrap drifted: {after_boot_scales}"
    print(f"drift: worst error {worst:.3g} over 12 bootstraps, levels {after_boot_levels}")
    assert worst < 1e-2, worst
