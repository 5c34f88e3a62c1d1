#!/usr/bin/env bash
# Usage: scripts/find-python.sh [VERSION]   (VERSION defaults to 3.10)
# Prints the path of a working CPython VERSION with the venv module. 3.10 is what hetensor's
# encrypted layer needs on this image (OpenFHE's PyPI wheels exist for CPython 3.10 and 3.12);
# 3.11 is what the PyTorch reference environment needs (make bench-torch). Order: $PYTHON
# (3.10 only), pythonVERSION on PATH, pyenv's installs, /usr/bin. Exits 1 with advice.
set -u
want="${1:-3.10}"

works() {  # prints sys.executable when "$@" is a working CPython of the wanted version
  "$@" - "$want" <<'PY' 2>/dev/null
import sys, venv  # noqa: F401
ok = {"3.10": ("3.10", "3.12")}.get(sys.argv[1], (sys.argv[1],))
assert sys.implementation.name == "cpython"
assert "%d.%d" % sys.version_info[:2] in ok
print(sys.executable)
PY
}

if [ "$want" = "3.10" ] && [ -n "${PYTHON:-}" ]; then
  if out=$(works "$PYTHON"); then echo "$out"; exit 0; fi
  echo "error: PYTHON=$PYTHON is not a working CPython 3.10 or 3.12 with the venv module" >&2
  exit 1
fi

if out=$(works "python$want"); then echo "$out"; exit 0; fi

# pyenv shims need PYENV_VERSION; call the interpreters directly instead.
roots=()
if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root)"); fi
roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
for root in "${roots[@]}"; do
  for exe in "$root"/versions/"$want".*/bin/python"$want"; do
    [ -x "$exe" ] || continue
    if out=$(works "$exe"); then echo "$out"; exit 0; fi
  done
done

for exe in /usr/bin/python"$want" /usr/local/bin/python"$want"; do
  [ -x "$exe" ] || continue
  if out=$(works "$exe"); then echo "$out"; exit 0; fi
done

if [ "$want" != "3.10" ]; then
  echo "error: no working CPython $want found (install it, e.g. pyenv install $want)" >&2
  exit 1
fi
cat >&2 <<'MSG'
error: no working CPython 3.10 found.
hetensor's encrypted layer needs OpenFHE's PyPI wheel, built for CPython 3.10 (Ubuntu 22.04 /
Debian 12 era glibc) or 3.12 (Ubuntu 24.04). Install one of:
  - Debian/Ubuntu:  sudo apt-get install python3.10 python3.10-venv
  - pyenv:          pyenv install 3.10.13
then run make again, or point at it explicitly:  make test PYTHON=/path/to/python3.10
MSG
exit 1
