# hetensor developer entry points. Each target creates .venv (CPython 3.10) if missing and
# (re)installs the project when its build inputs changed, then runs.
#   make demo        the main job: encrypted walk-through (later: encrypted Ames regression)
#   make test        fast test suite (slow cases excluded)
#   make test-slow   the heavy cases: bootstrapping, large rings, long runs, fuzzing at volume
#   make bench       benchmark table (hetensor bench)
# Override the interpreter with PYTHON=/path/to/python3.10.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,datasets,plot
STAMP := $(VENV)/.hetensor-installed
BUILD_INPUTS := pyproject.toml CMakeLists.txt $(shell find cpp cmake -type f 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: demo test test-slow bench info lint wheel venv clean

$(PY):
	@py=$$(scripts/find-python.sh) || exit 1; \
	 echo "creating $(VENV) with $$py"; \
	 "$$py" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) $(BUILD_INPUTS)
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]" -Cbuild-dir=build/editable
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hetensor demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] && echo "no tests collected" || exit $$rc; }

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] && echo "no slow tests collected" || exit $$rc; }

bench: $(STAMP)
	$(VENV)/bin/hetensor bench

info: $(STAMP)
	$(VENV)/bin/hetensor info

lint: $(STAMP)
	$(VENV)/bin/ruff check python tests examples

wheel: $(PY)
	$(PY) -m pip wheel --no-deps -w dist .

clean:
	rm -rf build dist $(VENV) .pytest_cache
