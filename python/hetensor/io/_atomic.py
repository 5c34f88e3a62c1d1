"""Atomic file replacement: a crash mid-write never leaves a truncated file behind.

The data goes to a temporary file in the destination's directory (same file system, so the
final rename is atomic); it is flushed and ``fsync``-ed, renamed over the destination with
:func:`os.replace`, and the directory is ``fsync``-ed so the rename itself survives a power
loss. If the writer raises, the temporary file is removed and the destination is untouched.
A process killed outright (``SIGKILL``, power loss) may leave a ``.<name>.*.tmp`` file beside
the destination, never a damaged destination.

Examples
--------
>>> import os, tempfile
>>> from hetensor.io._atomic import atomic_path
>>> d = tempfile.mkdtemp()
>>> with atomic_path(os.path.join(d, "a.txt")) as tmp:
...     with open(tmp, "w") as f:
...         _ = f.write("hello")
>>> open(os.path.join(d, "a.txt")).read()
'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

__all__ = ["atomic_path"]


def _fsync_path(path: str, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover - e.g. directories cannot be opened on Windows
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        if not directory:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, private: bool = False) -> Iterator[str]:
    """Yield a temporary path to write; on success it atomically replaces ``path``.

    Parameters
    ----------
    path : str or PathLike
        The destination. Its directory must exist.
    private : bool, default False
        Keep the file readable by its owner only (mode 0600), e.g. for secret keys.
        Otherwise the usual mode for new files (0666 minus the umask) is applied.
    """
    dest = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(dest)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"directory {directory!r} does not exist")
    if os.path.isdir(dest):
        raise IsADirectoryError(f"{dest!r} is a directory")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)  # mode 0600
    os.close(fd)
    try:
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_path(directory, directory=True)
