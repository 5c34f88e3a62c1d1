"""Mutation helpers for the fuzz tests (layer 2: OpenFHE payloads in valid envelopes)."""

from __future__ import annotations

import collections
import random

from hetensor.he import serialize as env

MUTATIONS = ("flip", "byte", "u64", "truncate", "extend", "zero", "splice")
_BIG = (0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 1 << 32, 1 << 31, 0xFFFFFFFF, 0)


def mutate(payload: bytes, rnd: random.Random) -> tuple[str, bytes]:
    """One random mutation, half the time inside the first 256 bytes (cereal headers)."""
    data = bytearray(payload)
    how = rnd.choice(MUTATIONS)
    span = min(len(data), 256) if rnd.random() < 0.5 else len(data)
    pos = rnd.randrange(max(span, 1))
    if how == "flip":
        for _ in range(rnd.randint(1, 4)):
            p = rnd.randrange(span)
            data[p] ^= 1 << rnd.randrange(8)
    elif how == "byte":
        data[pos] = rnd.randrange(256)
    elif how == "u64":
        value = rnd.choice(_BIG) if rnd.random() < 0.7 else rnd.getrandbits(64)
        data[pos : pos + 8] = value.to_bytes(8, "little")
    elif how == "truncate":
        del data[pos:]
    elif how == "extend":
        data[pos:pos] = rnd.randbytes(rnd.randint(1, 64))
    elif how == "zero":
        n = len(data[pos : pos + rnd.randint(1, 64)])
        data[pos : pos + n] = bytes(n)
    else:  # splice: duplicate a run
        n = rnd.randint(1, 64)
        data[pos:pos] = data[pos : pos + n]
    return how, bytes(data)


def rewrap(blob: bytes, section: str, new_payload: bytes) -> bytes:
    """The same envelope with one section replaced, re-checksummed (passes every check)."""
    kind = env.peek_kind(blob)
    fingerprint, sections = env.unpack(blob, kind)
    sections[section] = new_payload
    return env.pack(kind, fingerprint, sections)


def run_layer2(worker, blob: bytes, section: str, n: int, seed: int, op: str = "load"):
    """Mutate ``section`` of ``blob`` n times; return (Counter of outcomes, crashing blobs)."""
    rnd = random.Random(seed)
    _, sections = env.unpack(blob, env.peek_kind(blob))
    tally: collections.Counter[str] = collections.Counter()
    crashes: list[tuple[str, bytes]] = []
    for _ in range(n):
        how, payload = mutate(sections[section], rnd)
        case = rewrap(blob, section, payload)
        out = worker.call(op, case)
        label = out.error_type if out.status == "error" else out.status
        tally[label] += 1
        if out.status in ("crash", "timeout"):
            crashes.append((how, case))
    return tally, crashes
