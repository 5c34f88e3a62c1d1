"""Resource planning: the memory estimate, the budget, refusals before allocation, the ring
search of leveled contexts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from hetensor import errors


@pytest.fixture
def res(he):
    from hetensor.he import _resources

    return _resources


def _params(he, **kw):
    base = {
        "depth": 3,
        "total_depth": 3,
        "scale_bits": 40,
        "first_mod_bits": 60,
        "slots": 8192,
        "ring_dim": 16384,
        "security": 128,
        "bootstrapping": False,
        "level_budget": (3, 3),
        "log_q": 181,
    }
    return he.CKKSParameters(**{**base, **kw})


def test_resource_error_is_a_memory_error():
    assert issubclass(errors.ResourceError, MemoryError)
    assert issubclass(errors.ResourceError, errors.HetensorError)


def test_key_size_matches_openfhe_serialization(ctx, res):
    """The structural key size (D x 2 x (L + K) x N words) against OpenFHE's own bytes."""
    est = ctx.resources()
    serialized = ctx.key_sizes()["relinearization_key"]
    raw = est.key_bytes / res._CAL["key_factor"]
    assert abs(raw - serialized) / serialized < 0.02


def test_estimate_grows_with_keys_and_depth(he, res):
    small = res.estimate(_params(he), rotations=0)
    more = small.with_rotations(10)
    assert more.peak_bytes - small.peak_bytes == 10 * small.key_bytes
    deep = res.estimate(_params(he, depth=8, total_depth=8, ring_dim=32768, slots=16384))
    assert deep.key_bytes > 4 * small.key_bytes
    assert deep.keygen_seconds > small.keygen_seconds


def test_bootstrap_counts_against_openfhe_1_6(res):
    """Automorphism keys of sparse setups as OpenFHE 1.6 makes them (ring 2^12, measured)."""
    assert res.bootstrap_counts(16, 4096, (1, 1))[0] == 26
    assert res.bootstrap_counts(64, 4096, (1, 1))[0] == 40
    assert res.bootstrap_counts(16, 4096, (2, 2))[0] == 18
    assert res.bootstrap_counts(8, 4096, (3, 3))[0] == 17


def test_budget_is_least_limit(res, monkeypatch):
    monkeypatch.setattr(res, "memory_limits", lambda: {"RAM": 20 * 2**30, "RLIMIT_AS": 10 * 2**30})
    budget, source = res.memory_budget()
    assert budget == int(0.9 * 10 * 2**30) and "RLIMIT_AS" in source
    assert res.memory_budget(123456) == (123456, "memory_limit")
    with pytest.raises(ValueError):
        res.memory_budget(-1)
    with pytest.raises(TypeError, match="memory_limit"):
        res.memory_budget("1G")
    with pytest.raises(errors.NonFiniteError, match="memory_limit"):
        res.memory_budget(float("inf"))


def test_check_budget_refuses_with_estimate_budget_and_fix(res, monkeypatch):
    monkeypatch.setattr(res, "memory_limits", lambda: {"RAM": 2**30})
    with pytest.raises(errors.ResourceError) as info:
        res.check_budget(5 * 2**30, "a test", fixes=lambda: "What fits: less.")
    text = str(info.value)
    assert "5.00 GiB" in text and "922 MiB" in text and "What fits: less." in text
    res.check_budget(2**20, "a test")  # fits: no error


def test_low_available_memory_only_warns(res, monkeypatch):
    monkeypatch.setattr(res, "memory_limits", lambda: {"RAM": 100 * 2**30})
    monkeypatch.setattr(res, "_proc_kib", lambda path, field: 1024)  # 1 MiB available
    with pytest.warns(RuntimeWarning, match="available"):
        res.check_budget(2**30, "a test")


def test_context_refused_before_keys(he):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        with pytest.raises(errors.ResourceError, match="memory_limit"):
            he.Context.ckks(depth=2, insecure=True, memory_limit=2**20)


def test_generate_keys_refused_makes_no_key(ctx):
    before = ctx.rotation_keys
    with pytest.raises(errors.ResourceError, match="At most 0 of the 3 keys fit"):
        ctx.generate_keys(rotations=[101, 102, 103], memory_limit=1000)
    assert ctx.rotation_keys == before


def test_key_plan_reports_memory(ctx, he):
    plan = he.KeyPlan.rotations_of(201, 202)
    fresh = {ctx.normalize_rotation(k) for k in plan.rotations} - ctx.rotation_keys
    assert plan.memory_bytes(ctx) == len(fresh) * ctx.resources().key_bytes
    ctx.generate_keys(plan)
    assert plan.memory_bytes(ctx) == 0


def test_suggestion_names_sparse_bootstrapping(he, res):
    """Full-slot bootstrapping at ring 2^17 (the default setup) is far over 11 GiB; the
    sparse setup of the same depth is not."""
    p = _params(
        he,
        depth=12,
        total_depth=33,
        scale_bits=54,
        slots=65536,
        ring_dim=131072,
        bootstrapping=True,
        bootstrap_slots=65536,
    )
    assert res.estimate(p).peak_bytes > 12 * 2**30
    assert "bootstrap_slots=16" in res.suggest(p, None, 11 * 2**30)


def test_info_prints_the_estimate(ctx):
    info = ctx.info()["memory"]
    assert info["ring_dim"] == ctx.ring_dim and "peak" in info


@pytest.mark.parametrize(("depth", "ring"), [(1, 2**13), (2, 2**13), (3, 2**14), (5, 2**14)])
def test_leveled_ring_search(he, depth, ring):
    est = he.estimate_resources(depth=depth)
    assert est.ring_dim == ring


def test_leveled_small_ring_keeps_precision(he, rng):
    import numpy as np

    ctx = he.Context.ckks(depth=2)
    assert ctx.ring_dim == 2**13 and ctx.params.value_limit >= 2**14
    x = rng.uniform(-1, 1, 64)
    np.testing.assert_allclose(ctx.decrypt(ctx.encrypt(x) * ctx.encrypt(x)), x * x, atol=1e-6)


# The configurations, each in a child under an address-space cap: a ResourceError
# (before allocating) or success, never a signal. The refusals are immediate.
_CHILD = textwrap.dedent(
    """
    import json, sys
    import hetensor as ht
    from hetensor.linear_model import EncryptedLinearRegression
    kwargs, keys = json.loads(sys.argv[1])
    if "level_budget" in kwargs:
        kwargs["level_budget"] = tuple(kwargs["level_budget"])
    try:
        ctx = ht.Context.ckks(**kwargs)
        if keys:
            ctx.generate_keys(EncryptedLinearRegression(max_iter=30).key_plan(*keys))
    except ht.errors.ResourceError as err:
        print("refused", err)
    else:
        print("ok")
    """
)
_CASES = [
    # (cap in KiB, Context.ckks kwargs, key plan (n, d) or None, expected outcome)
    (12_000_000, {"depth": 12, "bootstrapping": True}, None, "refused"),
    (
        12_000_000,
        {"depth": 12, "bootstrapping": True, "bootstrap_slots": 16, "level_budget": [1, 1]},
        [300, 10],
        "refused",
    ),
    (
        3_000_000,
        {"depth": 5, "bootstrapping": True, "bootstrap_slots": 16, "level_budget": [1, 1]},
        [500, 10],
        "refused",
    ),
    (3_000_000, {"depth": 3}, [500, 10], "ok"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("cap", "kwargs", "keys", "outcome"), _CASES)
def test_no_signal_under_address_space_cap(cap, kwargs, keys, outcome):
    env = dict(os.environ, OMP_NUM_THREADS="1", CHILD=_CHILD, ARG=json.dumps([kwargs, keys]))
    cmd = f'ulimit -v {cap}; exec "{sys.executable}" -c "$CHILD" "$ARG"'
    proc = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith(outcome), proc.stdout


def test_quick_estimate_matches_openfhe_rings(he, res):
    """The planner's table-based ring and digit search gives OpenFHE's choice."""
    for depth in (1, 2, 3, 7, 8):
        quick, exact = res.quick_estimate(depth), he.estimate_resources(depth=depth)
        assert (quick.ring_dim, quick.digits, quick.towers) == (
            exact.ring_dim,
            exact.digits,
            exact.towers,
        )


def test_plan_leveled_workload(he):
    plan = he.plan_context(he.Workload(depth=2, rotations=8))
    assert plan.estimate.ring_dim == 2**13 and plan.parameters == {"depth": 2}
    ctx = plan.make()
    assert ctx.ring_dim == 2**13 and ctx.depth == 2 and ctx.security == 128


def test_linreg_plans(he):
    from hetensor.linear_model import EncryptedLinearRegression

    model = EncryptedLinearRegression(max_iter=30)
    client = model.plan_context(500, 10, refresh="client")
    # depth 3 at the default 40-bit scale: ring 2^14 (a 35-bit scale would fit 2^13 but
    # cannot hold the Gram statistics' bound)
    assert client.parameters == {"depth": 3}
    assert client.estimate.ring_dim == 2**14 and client.refreshes == 29
    server = model.plan_context(500, 10, refresh="server")
    p = server.parameters
    assert p["bootstrapping"] and p["bootstrap_slots"] == 16 and p["level_budget"] == (1, 1)
    assert server.estimate.run_peak_bytes < 8 * 2**30
    assert server.refreshes == -(-29 // (p["depth"] + 1))  # depth + 1 iterations each
    with pytest.raises(errors.ResourceError, match="no context"):
        model.plan_context(500, 10, refresh="server", memory_limit=2**30)


def test_secret_key_dist_is_checked(he):
    with pytest.raises(ValueError, match="secret_key_dist"):
        he.estimate_resources(depth=2, secret_key_dist="dense")


@pytest.mark.slow
def test_sparse_encapsulated_bootstraps_with_fewer_levels(he):
    """SPARSE_ENCAPSULATED: 4 levels fewer for (1, 1) than UNIFORM_TERNARY, the estimated
    key count is OpenFHE's, and bootstrapping stays accurate (measured ~1e-7)."""
    import numpy as np

    kw = {"depth": 2, "bootstrapping": True, "level_budget": (1, 1), "bootstrap_slots": 8}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InsecureParametersWarning)
        ctx = he.Context.ckks(**kw, insecure=True, secret_key_dist="sparse_encapsulated")
        uniform = he.estimate_resources(**kw, insecure=True)
    assert ctx.total_depth == uniform.towers - 1 - 4
    assert ctx.security_report()["secret_key_dist"] == "sparse encapsulated"
    cc, pk, _ = ctx.openfhe
    assert ctx.resources().bootstrap_keys == len(
        cc.GetExistingEvalAutomorphismKeyIndices(pk.GetKeyTag())
    )
    v = np.linspace(-0.9, 0.9, 8)
    out = ctx.bootstrap(ctx.encrypt(v) * ctx.encrypt(v))
    assert out.levels_left == 2
    np.testing.assert_allclose(ctx.decrypt(out), v * v, atol=1e-4)


@pytest.mark.slow
def test_cli_info_refuses_instead_of_dying(he, capsys, monkeypatch):
    """`hetensor info --bootstrapping --depth 12` (full-slot, ring 2^17, tens of GiB)."""
    from hetensor import cli
    from hetensor.he import _resources

    monkeypatch.setattr(_resources, "memory_limits", lambda: {"RAM": 16 * 2**30})
    assert cli.main(["info", "--bootstrapping", "--depth", "12", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "over the memory budget" in out["refused"] and "bootstrap_slots=" in out["refused"]
    assert out["memory"]["ring_dim"] == 2**17
