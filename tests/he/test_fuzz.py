"""Fuzzing the deserializers in two layers.

Layer 1: bit flips and truncations of whole envelopes; the checksum (or the size and kind
checks) must stop every one before OpenFHE sees it, so these run in this process.

Layer 2: mutated OpenFHE payloads wrapped in valid, re-checksummed envelopes, so OpenFHE's own
deserializer (and the first uses of what it returns) runs. Each case runs in an isolation
worker process, so a crash is counted, not fatal; then the user-facing call
(``isolate=True``) must end in a hetensor error or an object. The counts are printed (``-s``)
and, in the slow suite, written to ``fuzz-report.json`` in the test's tmp dir.
"""

from __future__ import annotations

import collections
import json
import random

import numpy as np
import pytest
from fuzzing import rewrap, run_layer2

from hetensor import errors
from hetensor.he import serialize as env
from hetensor.he._isolate import Worker

HETENSOR_ERRORS = {
    name
    for name in errors.__all__
    if isinstance(getattr(errors, name), type)
    and issubclass(getattr(errors, name), errors.HetensorError)
}


def _blob(ctx):
    return ctx.to_bytes(ctx.encrypt(np.linspace(-1, 1, 10)))


def _layer1(call, blob, n_flips, n_cuts, seed):
    rnd = random.Random(seed)
    seen: collections.Counter[str] = collections.Counter()
    for i in range(n_flips + n_cuts):
        raw = bytearray(blob)
        if i < n_flips:
            for _ in range(rnd.randint(1, 3)):
                raw[rnd.randrange(len(raw))] ^= 1 << rnd.randrange(8)
        else:
            del raw[rnd.randrange(len(raw)) :]
        with pytest.raises((errors.FormatError, errors.ContextMismatchError)) as info:
            call(bytes(raw))
        seen[type(info.value).__name__] += 1
    return seen


def test_layer1_envelope_flips_and_truncations(ctx, he):
    seen = _layer1(ctx.from_bytes, _blob(ctx), 150, 50, seed=1)
    seen += _layer1(he.Context.deserialize, ctx.serialize(), 40, 20, seed=2)
    seen += _layer1(ctx.public().with_secret_key, ctx.secret_key_bytes(), 20, 10, seed=3)
    print("layer 1:", dict(seen))
    assert sum(seen.values()) == 290


def _layer2(ctx, n_ct, n_ctx, n_sk, seed):
    """Run the cases; return the tallies and the crashing ciphertext cases."""
    report = {}
    with Worker(timeout=30) as worker:
        worker.set_context(ctx.serialize(include_secret=True))
        tally, crashes = run_layer2(worker, _blob(ctx), "ct0", n_ct, seed)
        report["ciphertext"] = (tally, crashes)
        tally, crashes_ctx = run_layer2(
            worker, ctx.public().serialize(), "cryptocontext", n_ctx, seed + 1, op="probe"
        )
        report["context"] = (tally, crashes_ctx)
        tally, crashes_sk = run_layer2(
            worker, ctx.secret_key_bytes(), "secret_key", n_sk, seed + 2, op="probe"
        )
        report["secret_key"] = (tally, crashes_sk)
    return report


def _check_report(report):
    for what, (tally, _) in report.items():
        unexpected = set(tally) - HETENSOR_ERRORS - {"ok", "crash", "timeout"}
        assert not unexpected, f"{what}: non-hetensor exceptions {unexpected}"


def _isolated_calls(ctx, he, report):
    """The user-facing calls with isolate=True on every crashing case: FormatError each."""
    for _, case in report["ciphertext"][1]:
        with pytest.raises(errors.FormatError, match="isolated process"):
            ctx.from_bytes(case, isolate=True)
    for _, case in report["context"][1]:
        with pytest.raises(errors.FormatError, match="isolated process"):
            he.Context.deserialize(case, isolate=True)
    public = ctx.public()
    for _, case in report["secret_key"][1]:
        with pytest.raises(errors.FormatError, match="isolated process"):
            public.with_secret_key(case, isolate=True)


def test_layer2_mutated_payloads(ctx, he):
    report = _layer2(ctx, n_ct=40, n_ctx=12, n_sk=8, seed=11)
    print("layer 2:", {k: dict(v[0]) for k, v in report.items()})
    _check_report(report)
    _isolated_calls(ctx, he, report)
    # and a sample of all cases through the user-facing call: error or object, no crash
    rnd = random.Random(5)
    from fuzzing import mutate

    blob = _blob(ctx)
    payload = env.unpack(blob, "array")[1]["ct0"]
    for _ in range(10):
        case = rewrap(blob, "ct0", mutate(payload, rnd)[1])
        try:
            ctx.from_bytes(case, isolate=True)
        except errors.HetensorError:
            pass


@pytest.mark.slow
def test_layer2_at_volume(ctx, he, tmp_path):
    report = _layer2(ctx, n_ct=3000, n_ctx=500, n_sk=300, seed=101)
    summary = {k: dict(v[0]) for k, v in report.items()}
    summary["crash_mutations"] = {
        k: dict(collections.Counter(how for how, _ in v[1])) for k, v in report.items()
    }
    (tmp_path / "fuzz-report.json").write_text(json.dumps(summary, indent=1))
    print("layer 2 at volume:", json.dumps(summary))
    _check_report(report)
    _isolated_calls(ctx, he, report)
