"""The checked serialization envelope: round trip and every way bytes can be bad."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hetensor.errors import ContextMismatchError, FormatError
from hetensor.he import serialize as env

FP = bytes(range(16))


def blob() -> bytes:
    return env.pack("ciphertext", FP, {"meta": b"{}", "openfhe": b"x" * 100})


def test_round_trip():
    fp, sections = env.unpack(blob(), "ciphertext", FP)
    assert fp == FP and sections == {"meta": b"{}", "openfhe": b"x" * 100}
    assert env.peek_kind(blob()) == "ciphertext"


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_bit_flip_is_caught(data):
    raw = bytearray(blob())
    pos = data.draw(st.integers(0, len(raw) - 1))
    bit = data.draw(st.integers(0, 7))
    raw[pos] ^= 1 << bit
    with pytest.raises((FormatError, ContextMismatchError)):
        env.unpack(bytes(raw), "ciphertext", FP)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 200))
def test_any_truncation_is_caught(cut):
    raw = blob()
    cut = min(cut, len(raw) - 1)
    with pytest.raises(FormatError):
        env.unpack(raw[:cut], "ciphertext", FP)


def test_wrong_kind_foreign_fingerprint_and_garbage():
    with pytest.raises(FormatError, match="expected serialized context"):
        env.unpack(blob(), "context")
    with pytest.raises(ContextMismatchError, match="another context"):
        env.unpack(blob(), "ciphertext", bytes(16))
    with pytest.raises(FormatError, match="not hetensor data"):
        env.unpack(b"garbage" * 20, "ciphertext")
    with pytest.raises(TypeError):
        env.unpack("text", "ciphertext")  # type: ignore[arg-type]


def test_newer_format_refused():
    body = bytearray(blob()[:-32])
    body[4:6] = struct.pack("<H", env.FORMAT_VERSION + 1)
    raw = bytes(body) + env._checksum(bytes(body))
    with pytest.raises(FormatError, match="newer"):
        env.unpack(raw, "ciphertext")
