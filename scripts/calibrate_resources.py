"""Measure the peak memory and key-generation time of CKKS contexts, against the estimator.

Each configuration runs in a child process under an address-space cap (``ulimit -v``) with
``OMP_NUM_THREADS=1``: the child makes the context (keys included), generates the rotation
keys asked for, encrypts one ciphertext and reports its peak resident set (``VmHWM``) and
times. The parent prints the calibration table (measured, estimated, error %) that
``docs/guide/contexts.md`` shows, comparing with ``hetensor.he.estimate_resources``.

Usage::

    python scripts/calibrate_resources.py --measure out.jsonl [--only NAME] [--cap-kib N]
    python scripts/calibrate_resources.py --table out.jsonl

Heavy: the bootstrapping configurations at ring 2^17 take about 10 GiB and a minute each;
run one measurement at a time on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

# name -> (Context.ckks keyword arguments, rotation keys to generate: a count of distinct
# steps 1..k, or "linreg:n,d" for EncryptedLinearRegression(max_iter=30).key_plan(n, d))
CONFIGS: dict[str, tuple[dict[str, Any], Any]] = {
    "leveled d=1": ({"depth": 1}, 0),
    "leveled d=2, 16 rot": ({"depth": 2}, 16),
    "leveled d=3, 16 rot": ({"depth": 3}, 16),
    "leveled d=3, linreg 500x10": ({"depth": 3}, "linreg:500,10"),
    "leveled d=5, 32 rot": ({"depth": 5}, 32),
    "leveled d=7, 16 rot": ({"depth": 7}, 16),
    "leveled d=10, 16 rot": ({"depth": 10}, 16),
    "leveled d=16, 16 rot": ({"depth": 16}, 16),
    "leveled d=24, 8 rot": ({"depth": 24}, 8),
    "boot d=5 (1,1) 16 slots": (
        {"depth": 5, "bootstrapping": True, "level_budget": (1, 1), "bootstrap_slots": 16},
        0,
    ),
    "boot d=5 (1,1) 16 slots + linreg 500x10": (
        {"depth": 5, "bootstrapping": True, "level_budget": (1, 1), "bootstrap_slots": 16},
        "linreg:500,10",
    ),
    "boot d=5 (1,1) 64 slots": (
        {"depth": 5, "bootstrapping": True, "level_budget": (1, 1), "bootstrap_slots": 64},
        0,
    ),
    "boot d=4 (2,2) 16 slots": (
        {"depth": 4, "bootstrapping": True, "level_budget": (2, 2), "bootstrap_slots": 16},
        0,
    ),
    "boot d=12 (1,1) 16 slots": (
        {"depth": 12, "bootstrapping": True, "level_budget": (1, 1), "bootstrap_slots": 16},
        0,
    ),
}

_CHILD = r"""
import json, sys, time, warnings
import numpy as np

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

base = hwm()
import hetensor as ht
from hetensor.linear_model import EncryptedLinearRegression
imported = hwm()
kwargs, rot = json.loads(sys.argv[1])
if "level_budget" in kwargs:
    kwargs["level_budget"] = tuple(kwargs["level_budget"])
t0 = time.perf_counter()
ctx = ht.Context.ckks(**kwargs)
t_ctx = time.perf_counter() - t0
after_ctx = hwm()
if isinstance(rot, str):
    n, d = (int(v) for v in rot.split(":")[1].split(","))
    plan = EncryptedLinearRegression(max_iter=30).key_plan(n, d)
else:
    plan = list(range(1, int(rot) + 1))
new_keys = ctx.resources(plan).rotation_keys - ctx.resources().rotation_keys
t0 = time.perf_counter()
ctx.generate_keys(plan)
t_rot = time.perf_counter() - t0
ct = ctx.encrypt(np.zeros(ctx.slots))
print(json.dumps({
    "base_kib": base, "import_kib": imported, "context_kib": after_ctx, "peak_kib": hwm(),
    "context_s": t_ctx, "rotation_s": t_rot, "keygen_s": ctx.keygen_seconds,
    "n_rotations": len(ctx.rotation_keys), "new_keys": new_keys,
    "params": ctx.params.to_json(),
}))
"""


def measure(name: str, cap_kib: int) -> dict[str, Any]:
    kwargs, rot = CONFIGS[name]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = f'ulimit -v {cap_kib}; exec {sys.executable} -c "$CHILD" "$ARG"'
    env.update(CHILD=_CHILD, ARG=json.dumps([kwargs, rot]))
    proc = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True)
    row: dict[str, Any] = {"name": name, "kwargs": kwargs, "rotations": rot}
    if proc.returncode != 0:
        row["error"] = f"rc={proc.returncode}: {proc.stderr.strip()[-300:]}"
        return row
    row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return row


def table(path: str) -> str:
    from hetensor.he import estimate_resources

    lines = [
        "| configuration | ring | measured peak (MiB) | estimated (MiB) | error | "
        "keygen measured (s) | estimated (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    with open(path) as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    for row in rows:
        if "error" in row:
            continue
        kwargs = dict(row["kwargs"])
        if "level_budget" in kwargs:
            kwargs["level_budget"] = tuple(kwargs["level_budget"])
        est = estimate_resources(rotations=row.get("new_keys", row["n_rotations"]), **kwargs)
        measured = row["peak_kib"] / 1024
        estimated = est.peak_bytes / 2**20
        err = 100.0 * (estimated - measured) / measured
        seconds = row["context_s"] + row["rotation_s"]
        lines.append(
            f"| {row['name']} | 2^{row['params']['ring_dim'].bit_length() - 1} | "
            f"{measured:.0f} | {estimated:.0f} | {err:+.0f}% | {seconds:.1f} | "
            f"{est.keygen_seconds:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--measure", metavar="OUT", help="append measurements to OUT (jsonl)")
    parser.add_argument("--table", metavar="IN", help="print the calibration table of IN")
    parser.add_argument("--only", action="append", help="configuration names (repeatable)")
    parser.add_argument("--cap-kib", type=int, default=12_000_000, help="ulimit -v per child")
    args = parser.parse_args()
    if args.measure:
        for name in args.only or list(CONFIGS):
            row = measure(name, args.cap_kib)
            with open(args.measure, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    if args.table:
        print(table(args.table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
