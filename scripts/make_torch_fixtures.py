"""Regenerate the PyTorch golden fixtures in tests/data/ (run by `make fixtures`).

Runs every module in scripts/fixtures/ that defines ``make(outdir: pathlib.Path) -> list[str]``
(each writes small seeded .npz files and returns their names). Needs torch: run it in
.venv-torch (CPython 3.11, torch 2.13.0), never in the 3.10 .venv.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "tests" / "data"


def main() -> int:
    import torch

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    modules = sorted((HERE / "fixtures").glob("*.py"))
    for path in modules:
        spec = importlib.util.spec_from_file_location(f"fixtures_{path.stem}", path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if hasattr(mod, "make"):
            for name in mod.make(OUT):
                print(f"wrote tests/data/{name}")
    print(f"torch {torch.__version__}: {len(modules)} fixture module(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
