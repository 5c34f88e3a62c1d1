#!/usr/bin/env bash
# Prints the path of a CPython that can run hetensor's encrypted layer (3.10 on this image;
# OpenFHE's PyPI wheels exist for CPython 3.10 and 3.12). Order: $PYTHON, python3.10 on PATH,
# pyenv's 3.10 installs, /usr/bin/python3.10. Exits 1 with advice when none works.
set -u

works() {  # prints sys.executable when "$@" is a working CPython 3.10/3.12 with venv
  "$@" - <<'PY' 2>/dev/null
import sys, venv  # noqa: F401
assert sys.implementation.name == "cpython" and sys.version_info[:2] in ((3, 10), (3, 12))
print(sys.executable)
PY
}

if [ -n "${PYTHON:-}" ]; then
  if out=$(works "$PYTHON"); then echo "$out"; exit 0; fi
  echo "error: PYTHON=$PYTHON is not a working CPython 3.10 or 3.12 with the venv module" >&2
  exit 1
fi

if out=$(works python3.10); then echo "$out"; exit 0; fi

# pyenv shims need PYENV_VERSION; call the interpreters directly instead.
roots=()
if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root)"); fi
roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
for root in "${roots[@]}"; do
  for exe in "$root"/versions/3.10*/bin/python3.10; do
    [ -x "$exe" ] || continue
    if out=$(works "$exe"); then echo "$out"; exit 0; fi
  done
done

for exe in /usr/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.12; do
  [ -x "$exe" ] || continue
  if out=$(works "$exe"); then echo "$out"; exit 0; fi
done

cat >&2 <<'MSG'
error: no working CPython 3.10 found.
hetensor's encrypted layer needs OpenFHE's PyPI wheel, built for CPython 3.10 (Ubuntu 22.04 /
Debian 12 era glibc) or 3.12 (Ubuntu 24.04). Install one of:
  - Debian/Ubuntu:  sudo apt-get install python3.10 python3.10-venv
  - pyenv:          pyenv install 3.10.13
then run make again, or point at it explicitly:  make test PYTHON=/path/to/python3.10
MSG
exit 1
