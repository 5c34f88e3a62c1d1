from __future__ import annotations

import pathlib
import sys

# conv_reference.py lives beside the tests (plain module, not a package)
sys.path.insert(0, str(pathlib.Path(__file__).parent))
