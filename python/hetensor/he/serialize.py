"""The checked envelope around every serialized hetensor object.

Layout (all integers little-endian)::

    magic        4 bytes   b"HTEN"
    version      u16       format version (FORMAT_VERSION)
    kind         u8 + str  what the payload is: "ciphertext", "context", ...
    fingerprint  16 bytes  the context (keys + parameters) the object belongs to
    n_sections   u16
    sections     n x (u8 + name, u64 length, bytes)
    checksum     32 bytes  BLAKE2b-256 of everything above

The checksum, sizes, kind and fingerprint are checked before OpenFHE sees a payload, so
corrupt, truncated or foreign bytes raise :class:`hetensor.errors.FormatError` or
:class:`hetensor.errors.ContextMismatchError` instead of reaching OpenFHE's deserializer.

Examples
--------
>>> from hetensor.he.serialize import pack, unpack
>>> blob = pack("note", b"\\x00" * 16, {"text": b"hello"})
>>> unpack(blob, "note")[1]["text"]
b'hello'
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping

from ..errors import ContextMismatchError, FormatError

__all__ = ["FORMAT_VERSION", "MAGIC", "pack", "peek_kind", "unpack"]

MAGIC = b"HTEN"
FORMAT_VERSION = 1
FINGERPRINT_BYTES = 16
_CHECKSUM_BYTES = 32


def _checksum(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=_CHECKSUM_BYTES).digest()


def _name(text: str) -> bytes:
    raw = text.encode("ascii")
    if not 0 < len(raw) < 256:
        raise ValueError(f"envelope names must be 1-255 ASCII characters, got {text!r}")
    return struct.pack("<B", len(raw)) + raw


def pack(kind: str, fingerprint: bytes, sections: Mapping[str, bytes]) -> bytes:
    """Wrap named byte sections in a checked envelope of the given kind."""
    if len(fingerprint) != FINGERPRINT_BYTES:
        raise ValueError(f"fingerprint must be {FINGERPRINT_BYTES} bytes")
    parts = [MAGIC, struct.pack("<H", FORMAT_VERSION), _name(kind), fingerprint]
    parts.append(struct.pack("<H", len(sections)))
    for name, payload in sections.items():
        parts += [_name(name), struct.pack("<Q", len(payload)), bytes(payload)]
    body = b"".join(parts)
    return body + _checksum(body)


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise FormatError(f"truncated hetensor data: {what} runs past the end")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def name(self, what: str) -> str:
        (n,) = struct.unpack("<B", self.take(1, what))
        try:
            return bytes(self.take(n, what)).decode("ascii")
        except UnicodeDecodeError as err:
            raise FormatError(f"corrupt hetensor data: {what} is not ASCII") from err


def _open(data: bytes | bytearray | memoryview) -> tuple[str, bytes, _Reader]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    view = memoryview(data)
    if len(view) < len(MAGIC) + 2 + _CHECKSUM_BYTES or bytes(view[:4]) != MAGIC:
        raise FormatError("not hetensor data (bad magic bytes or far too short)")
    body, tail = view[:-_CHECKSUM_BYTES], view[-_CHECKSUM_BYTES:]
    if _checksum(body) != bytes(tail):
        raise FormatError("hetensor data is corrupt or truncated: checksum mismatch")
    reader = _Reader(body)
    reader.take(4, "magic")
    (version,) = struct.unpack("<H", reader.take(2, "version"))
    if version > FORMAT_VERSION:
        raise FormatError(
            f"hetensor data has format version {version}, newer than this hetensor reads "
            f"({FORMAT_VERSION}): upgrade hetensor"
        )
    kind = reader.name("kind")
    fingerprint = bytes(reader.take(FINGERPRINT_BYTES, "fingerprint"))
    return kind, fingerprint, reader


def peek_kind(data: bytes | bytearray | memoryview) -> str:
    """The kind of a checked envelope (verifies the checksum first)."""
    return _open(data)[0]


def unpack(
    data: bytes | bytearray | memoryview,
    kind: str,
    fingerprint: bytes | None = None,
) -> tuple[bytes, dict[str, bytes]]:
    """Check an envelope and return ``(fingerprint, sections)``.

    Raises
    ------
    FormatError
        Bad magic, checksum, version, truncation or a kind other than ``kind``.
    ContextMismatchError
        ``fingerprint`` is given and differs from the envelope's.
    """
    found_kind, found_fp, reader = _open(data)
    if found_kind != kind:
        raise FormatError(f"expected serialized {kind}, got {found_kind}")
    if fingerprint is not None and found_fp != fingerprint:
        raise ContextMismatchError(
            f"this {kind} belongs to another context (fingerprint {found_fp.hex()[:12]}..., "
            f"expected {fingerprint.hex()[:12]}...): deserialize it with the context it was "
            "made under, or one derived from it"
        )
    (count,) = struct.unpack("<H", reader.take(2, "section count"))
    sections: dict[str, bytes] = {}
    for _ in range(count):
        name = reader.name("section name")
        (size,) = struct.unpack("<Q", reader.take(8, "section length"))
        sections[name] = bytes(reader.take(size, f"section {name!r}"))
    if reader.pos != len(reader.data):
        raise FormatError("corrupt hetensor data: trailing bytes after the last section")
    return found_fp, sections
