"""The peer benchmark's driver and hetensor's worker, without the peers' venvs.

The peers (TenSEAL, openfhe-numpy) live in venvs CI does not make; here their absence must
be reported as a skipped library, and hetensor's and raw OpenFHE's workers must compute
the right thing through the same protocol the peers speak.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hetensor.bench import peers
from hetensor.bench._peers import _protocol, hetensor_worker

INSECURE = {"context": {"depth": 2, "insecure": True}}


@pytest.fixture
def no_peer_venvs(monkeypatch, tmp_path):
    monkeypatch.setenv("HETENSOR_TENSEAL_VENV", str(tmp_path / "no-tenseal"))
    monkeypatch.setenv("HETENSOR_OFNUMPY_VENV", str(tmp_path / "no-ofnumpy"))


def test_missing_venvs_are_reported(no_peer_venvs):
    by_label = {w.label: w for w in peers.workers()}
    assert by_label["tenseal"].missing.endswith("missing (make bench-peers)")
    assert by_label["openfhe-numpy"].missing
    assert by_label["openfhe 1.5.1"].missing
    assert not by_label["hetensor"].missing and not by_label["openfhe 1.6.1"].missing
    assert [w.label for w in peers.workers() if w.peer] == ["tenseal", "openfhe-numpy"]


@pytest.mark.parametrize(
    ("op", "operands", "expected"),
    [
        ("add", ("x", "y"), lambda d: d["x"] + d["y"]),
        ("multiply", ("x", "y"), lambda d: d["x"] * d["y"]),
        ("total_sum", ("x",), lambda d: np.array([d["x"].sum()])),
        ("sum_axis0", ("M",), lambda d: d["M"].sum(axis=0)),
        ("sum_axis1", ("M",), lambda d: d["M"].sum(axis=1)),
        ("matvec_plain", ("A", "v"), lambda d: d["A"] @ d["v"]),
        ("matvec_enc", ("A", "v"), lambda d: d["A"] @ d["v"]),
        ("encrypt", ("x",), lambda d: d["x"]),
        ("decrypt", ("x",), lambda d: d["x"]),
    ],
)
def test_hetensor_worker_matches_numpy(op, operands, expected):
    rng = np.random.default_rng(0)
    data = {
        "x": rng.uniform(-1, 1, 300),
        "y": rng.uniform(-1, 1, 300),
        "M": rng.uniform(-1, 1, (8, 16)),
        "A": rng.uniform(-1, 1, (8, 8)),
        "v": rng.uniform(-1, 1, 8),
    }
    data = {k: data[k] for k in operands}
    prep = hetensor_worker.prepare(op, data, INSECURE)
    times, value = _protocol.timed(prep.run, 2)
    assert len(times) == 2
    got = np.reshape(prep.result(value), np.shape(expected(data)))
    np.testing.assert_allclose(got, expected(data), atol=1e-4)
    assert prep.params["ring_dim"] == 2**12


def test_hetensor_ridge_reaches_the_plain_iterates():
    from hetensor.linear_model import gram_descent

    X, y = peers.ridge_data(64, 3)
    np.testing.assert_allclose(X.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(0), 1)
    params = {
        "learning_rate": 0.3,
        "alpha": 1.0,
        "epochs": 3,
        "context": {"depth": 9, "insecure": True},
    }
    prep = hetensor_worker.prepare("ridge", {"X": X, "y": y}, params)
    assert prep.one_shot
    w = prep.result(prep.run())
    ref = gram_descent(X, y, alpha=1.0, learning_rate=0.3, max_iter=3)
    np.testing.assert_allclose(w, ref, atol=1e-4)
    assert {"keygen", "encrypt", "fit"} <= set(prep.split)


def test_worker_command_line(tmp_path):
    """The protocol end to end: a JSON line on stdout, the result in OUT, unknown ops refused."""
    inp, out = tmp_path / "in.npz", tmp_path / "out.npz"
    x = np.linspace(-1, 1, 16)
    np.savez(inp, x=x, y=x)
    cmd = [sys.executable, "-m", "hetensor.bench._peers.hetensor_worker"]
    args = [str(inp), str(out), "2", json.dumps(INSECURE)]
    proc = subprocess.run([*cmd, "add", *args], capture_output=True, text=True, check=True)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["library"] == "hetensor" and len(report["times"]) == 2
    assert report["peak_rss_mib"] > 0 and report["params"]["ring_dim"] == 2**12
    np.testing.assert_allclose(np.load(out)["result"], 2 * x, atol=1e-4)
    bad = subprocess.run([*cmd, "nope", *args], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "unknown op" in bad.stderr


def test_measure_and_rows_without_peers(no_peer_venvs):
    x = np.random.default_rng(1).uniform(-1, 1, 64)
    res = peers.measure(
        "add",
        {"x": x, "y": x},
        2 * x,
        rounds=2,
        repeat=2,
        params={"hetensor": INSECURE},
        labels=("hetensor", "openfhe 1.6.1", "tenseal"),
    )
    assert len(res["hetensor"].times) == 4 and res["hetensor"].error < 1e-4
    assert len(res["openfhe 1.6.1"].times) == 4  # on hetensor's parameters
    assert res["openfhe 1.6.1"].params["ring_dim"] == 2**12
    assert "make bench-peers" in res["tenseal"].unsupported
    rows = peers.rows_for(
        "add 64",
        res,
        target=peers.PRIMITIVE_TARGET,
        expected=2 * x,
        openfhe_target=peers.OPENFHE_TARGET,
    )
    assert rows[0].reference == "no peer ran" and rows[0].reference_seconds is None
    assert "tenseal" in rows[0].note and rows[0].extras["accuracy"] == "ok"
    assert rows[1].reference_seconds == res["openfhe 1.6.1"].median
