"""Run OpenFHE's deserializer on untrusted bytes in a child process first.

OpenFHE parses its binary format with cereal and C++ containers; bytes that pass hetensor's
envelope checks but carry a hostile or mangled OpenFHE payload (e.g. a re-checksummed
envelope) can make it allocate absurd sizes or, in the worst case, crash the process. With
``isolate=True`` (:meth:`Context.from_bytes`, :meth:`Context.deserialize`, ``ht.load``) the
payload is first parsed in a long-lived worker process with a memory limit and a timeout; only
if the worker survives does the caller's process parse it. A crash, a timeout or exhausting the
memory limit become a :class:`~hetensor.errors.FormatError`.

For encrypted objects the worker holds a copy of the receiving context and also adds and (on an
owner) decrypts the result, because some mangled payloads parse cleanly and crash OpenFHE only
when used (measured by the fuzz suite). Limits: a payload that survives those uses but crashes a
later, different operation is not caught; memory-corruption bugs need not crash
deterministically; and values changed inside a re-checksummed envelope decrypt to other values
(the checksum detects accidents, not forgery). Isolation costs a pipe round trip of the bytes,
~1 s to start the worker, and one context transfer per context used.

The :class:`Worker` here is also what the fuzz tests use to count crashes.

Examples
--------
>>> from hetensor.he._isolate import Worker                         # doctest: +SKIP
>>> with Worker() as w:                                             # doctest: +SKIP
...     w.call("probe", b"not an envelope").status
'error'
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from ..errors import FormatError

__all__ = ["Outcome", "Worker", "check_untrusted"]

_HEADER = struct.Struct("<BQ")
_OPS = {"probe": 1, "init": 2, "load": 3}
DEFAULT_MEMORY_LIMIT = 4 << 30
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Outcome:
    """How one request ended in the worker.

    ``status`` is ``"ok"``, ``"error"`` (a Python exception, named in ``error_type``),
    ``"crash"`` (the worker died; ``message`` has the signal or exit code) or ``"timeout"``.
    """

    status: str
    error_type: str = ""
    message: str = ""


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class Worker:
    """A child Python process that deserializes OpenFHE payloads on request.

    Parameters
    ----------
    memory_limit : int
        Address-space limit of the child in bytes (``RLIMIT_AS``).
    timeout : float
        Seconds one request may take before the child is killed (``"timeout"``).
    """

    def __init__(
        self, memory_limit: int = DEFAULT_MEMORY_LIMIT, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.memory_limit = int(memory_limit)
        self.timeout = float(timeout)
        self._proc: subprocess.Popen[bytes] | None = None
        self._init: bytes | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "hetensor.he._isolate", str(self.memory_limit)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            if self._init is not None:
                out = self._send(self._proc, _OPS["init"], self._init)
                if out.status != "ok":
                    raise RuntimeError(f"isolation worker could not load its context: {out}")
        return self._proc

    def _send(self, proc: subprocess.Popen[bytes], op: int, payload: bytes) -> Outcome:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(_HEADER.pack(op, len(payload)))
            proc.stdin.write(payload)
            proc.stdin.flush()
            deadline = time.monotonic() + self.timeout
            head = _read_exact(proc.stdout.fileno(), _HEADER.size, deadline)
            body = None
            if head is not None:
                body = _read_exact(proc.stdout.fileno(), _HEADER.unpack(head)[1], deadline)
        except TimeoutError:
            self._kill()
            return Outcome("timeout", message=f"no answer within {self.timeout:g} s")
        except BrokenPipeError:
            head = body = None
        if head is None or body is None:
            code = proc.wait()
            self._close_pipes(proc)
            self._proc = None
            why = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            return Outcome("crash", message=why)
        reply = json.loads(body)
        return Outcome(reply["status"], reply.get("type", ""), reply.get("message", ""))

    @staticmethod
    def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            self._proc.wait()
            self._close_pipes(self._proc)
            self._proc = None

    def set_context(self, data: bytes) -> None:
        """Give the worker a serialized context (for ``"load"`` requests); kept across
        restarts."""
        with self._lock:
            self._init = bytes(data)
            self._kill()
            self._start()

    def call(self, op: str, payload: bytes) -> Outcome:
        """``"probe"``: parse an envelope's OpenFHE sections (no context needed).
        ``"load"``: ``from_bytes`` under the worker's context, then decrypt (owner) and add."""
        with self._lock:
            return self._send(self._start(), _OPS[op], bytes(payload))

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                assert self._proc.stdin is not None
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._kill()
                if self._proc is not None:
                    self._close_pipes(self._proc)
                self._proc = None


_shared: Worker | None = None
_shared_key: tuple[str, str] | None = None


def check_untrusted(data: bytes, context: Any = None) -> None:
    """Try untrusted bytes in the shared worker; raise FormatError if that crashes, times
    out or runs out of memory.

    Without ``context`` the worker only parses the envelope's OpenFHE payload (contexts,
    secret keys). With it (encrypted objects) the worker holds a copy of ``context`` (its
    secret key too, for an owner: the worker is the owner's own process) and runs
    ``from_bytes`` with hetensor's structural checks, then an addition and, for an owner, a
    decryption: some payloads parse cleanly and crash OpenFHE only when used. Python-level
    errors raised there are re-raised here (same hetensor error class; others become
    FormatError) without parsing the bytes in this process.
    """
    global _shared, _shared_key
    if _shared is None:
        _shared = Worker()
        atexit.register(_shared.close)
    if context is None:
        out = _shared.call("probe", data)
    else:
        key = (context.fingerprint, context.role)
        if _shared_key != key:
            _shared.set_context(context.serialize(include_secret=context.has_secret_key))
            _shared_key = key
        out = _shared.call("load", data)
    if out.status in ("crash", "timeout"):
        raise FormatError(
            f"refusing untrusted hetensor data: OpenFHE failed on it in an isolated process "
            f"({out.status}: {out.message})"
        )
    if out.status == "error":  # rejected there: never parse it here; same error class
        from .. import errors

        cls = getattr(errors, out.error_type, None)
        if not (isinstance(cls, type) and issubclass(cls, errors.HetensorError)):
            cls = FormatError
        raise cls(f"{out.message} (found in an isolated process)")


# ---------------------------------------------------------------------- child side
def _probe(data: bytes) -> None:
    from . import serialize as env
    from ._backend import openfhe as ofhe

    kind = env.peek_kind(data)
    _, sections = env.unpack(data, kind)
    fmt = ofhe.BINARY
    if kind == "context":
        from .context import Context

        Context.deserialize(data)
        return
    readers = {
        "ciphertext": ofhe.DeserializeCiphertextString,
        "array": ofhe.DeserializeCiphertextString,
        "matrix": ofhe.DeserializeCiphertextString,
        "secret_key": ofhe.DeserializePrivateKeyString,
    }
    if kind not in readers:
        raise FormatError(f"unknown kind {kind!r}")
    from ._wire import PARSE_ERRORS

    for name, payload in sections.items():
        if name != "meta":
            try:
                obj = readers[kind](payload, fmt)
                if kind != "secret_key":
                    obj.GetLevel(), obj.GetSlots(), obj.NumberCiphertextElements()
            except PARSE_ERRORS as err:
                raise FormatError(f"corrupt serialized {kind}: {err}") from err


def _serve() -> None:  # pragma: no cover - runs in the child process
    import resource

    limit = int(sys.argv[1])
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # crashes are expected: no cores
    fin, fout = sys.stdin.buffer, sys.stdout.buffer
    ctx: Any = None
    while True:
        head = fin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        op, size = _HEADER.unpack(head)
        payload = fin.read(size)
        reply: dict[str, str] = {"status": "ok"}
        try:
            if op == _OPS["probe"]:
                _probe(payload)
            elif op == _OPS["init"]:
                from .context import Context

                ctx = Context.deserialize(payload)
            elif op == _OPS["load"]:
                obj = ctx.from_bytes(payload)
                if ctx.has_secret_key:
                    ctx.decrypt(obj)
                ctx.decrypt(obj + obj) if ctx.has_secret_key else obj + obj
        except BaseException as err:
            reply = {
                "status": "error",
                "type": type(err).__name__,
                "message": str(err)[:500] or traceback.format_exc(limit=2)[-500:],
            }
        body = json.dumps(reply).encode()
        fout.write(_HEADER.pack(0, len(body)) + body)
        fout.flush()


if __name__ == "__main__":  # pragma: no cover
    _serve()
