"""Without Dask, hetensor imports and hetensor.distributed says how to install it."""

from __future__ import annotations

import subprocess
import sys


def test_missing_dask_gives_clear_error():
    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "import hetensor as ht\n"
        "try:\n"
        "    ht.distributed\n"
        "except ImportError as err:\n"
        "    print('OK', err)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("OK") and "pip install 'hetensor[distributed]'" in res.stdout
