"""Threshold CKKS lives in the encrypted layer: it imports and works without Dask, and
hetensor.distributed.threshold is the same module's names (the Dask side is tested in
tests/distributed/test_threshold.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest


def test_imports_without_dask(he):
    code = textwrap.dedent(
        """
        import sys
        sys.modules["dask"] = sys.modules["distributed"] = None  # importing them fails
        import hetensor.he.multiparty as mp
        assert "dask" not in [m.split(".")[0] for m in sys.modules if sys.modules[m]]
        print(mp.setup.__module__)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "hetensor.he.multiparty"


def test_two_parties_decrypt_jointly_without_dask(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = he.KeyPlan.for_sum(8)
        joint, parties = he.multiparty.setup(2, depth=2, rotations=plan, insecure=True)
    x = np.linspace(-1, 1, 8)
    y = (joint.encrypt(x) * 0.5).sum()
    with joint.count_ops() as ops:
        got = he.multiparty.joint_decrypt(joint, y, parties)
    np.testing.assert_allclose(got, 0.5 * x.sum(), atol=1e-4)
    assert ops == {}  # decryption shares are not ciphertext arithmetic
    assert [p.index for p in parties] == [0, 1] and parties[0].is_lead
    assert parties[1].public_key.GetKeyTag() == joint.openfhe[1].GetKeyTag()


def test_distributed_threshold_reexports_it(he):
    dist = pytest.importorskip("hetensor.distributed")
    for name in dist.threshold.__all__:
        assert getattr(dist.threshold, name) is getattr(he.multiparty, name)
