# hetensor developer entry points. Each target creates .venv (CPython 3.10) if missing and
# (re)installs the project when its build inputs changed, then runs.
#   make demo        the main job: encrypted Ames regression (hetensor demo ames)
#   make test        fast test suite (slow cases excluded)
#   make test-slow   the heavy cases: bootstrapping, large rings, long runs, fuzzing at volume
#   make bench       benchmark table (hetensor bench)
#   make bench-native  build the C++ benchmark executable (build/bench/hetensor_bench) and run it
#   make bench-torch kernel benchmarks against PyTorch, in .venv-torch (CPython 3.11, torch 2.13.0)
#   make bench-peers hetensor beside TenSEAL and openfhe-numpy (each in its own 3.10 venv, made
#                    here: .venv-tenseal, .venv-ofnumpy) and raw OpenFHE 1.5.1 and 1.6.1
#   make docs        the documentation site (mkdocs build --strict) into site/
#   make format      ruff format and clang-format over the sources (make lint checks them)
#   make fixtures    regenerate the PyTorch golden fixtures in tests/data/ (in .venv-torch)
#   make stubs       pybind11-stubgen's stubs of hetensor._core in build/stubgen/, to compare
#                    with the hand-edited python/hetensor/_core/*.pyi after a binding changes
# Override the interpreter with PYTHON=/path/to/python3.10.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,datasets,plot,io,distributed,docs
STAMP := $(VENV)/.hetensor-installed
BUILD_INPUTS := Makefile pyproject.toml CMakeLists.txt $(shell find cpp cmake -type f 2>/dev/null)
PYTEST_ARGS ?=
PY_SOURCES := python tests examples scripts
CPP_SOURCES = $(shell find cpp -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh')

TORCH_VENV ?= .venv-torch
TORCH_PY := $(TORCH_VENV)/bin/python
TORCH_STAMP := $(TORCH_VENV)/.hetensor-installed
# torch 2.13.0 (CPU) installs from this machine's disk for CPython 3.11 only; never install it
# into .venv (3.10), where pip would fetch a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0

# The peers of `make bench-peers`, each in its own CPython 3.10 venv (never .venv: openfhe-numpy
# needs openfhe 1.5.1, hetensor 1.6.1). The workers there import no hetensor.
TENSEAL_VENV ?= .venv-tenseal
TENSEAL_SPEC ?= tenseal==0.3.16
OFNUMPY_VENV ?= .venv-ofnumpy
OFNUMPY_SPEC ?= openfhe-numpy==1.5.1.0.0.22.4

.PHONY: demo test test-slow docs bench bench-native bench-native-build bench-torch bench-peers fixtures info lint stubs format format-check wheel venv clean

# $(call make-venv,DIR,PYTHON_VERSION): a venv in DIR with the interpreter find-python.sh finds
# (3.10 when no version is given), pip upgraded
define make-venv
	@py=$$(scripts/find-python.sh $(2)) || exit 1; \
	 echo "creating $(1) with $$py"; \
	 "$$py" -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
endef

$(PY):
	$(call make-venv,$(VENV))

$(STAMP): $(PY) $(BUILD_INPUTS)
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]" -Cbuild-dir=build/editable
	@touch $@

venv: $(STAMP)

$(TORCH_PY):
	$(call make-venv,$(TORCH_VENV),3.11)

# The plaintext kernels need no openfhe, so hetensor installs on 3.11 beside torch.
$(TORCH_STAMP): $(TORCH_PY) $(BUILD_INPUTS)
	$(TORCH_PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(TORCH_PY) -m pip install --quiet -e ".[dev]" -Cbuild-dir=build/editable-torch
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/hetensor demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] && echo "no tests collected" || exit $$rc; }

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] && echo "no slow tests collected" || exit $$rc; }

bench: $(STAMP)
	$(VENV)/bin/hetensor bench

# The native benchmark (HETENSOR_BUILD_BENCH) in its own CMake tree; `hetensor bench` finds
# build/bench/hetensor_bench (or $$HETENSOR_BENCH_EXE) and merges its rows.
BENCH_DIR ?= build/bench
bench-native-build: $(STAMP)
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=Release -DHETENSOR_BUILD_BENCH=ON \
	  -DHETENSOR_CUDA=OFF -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -Dpybind11_DIR=$$($(PY) -m pybind11 --cmakedir) > $(BENCH_DIR).log
	cmake --build $(BENCH_DIR) --target hetensor_bench -j 2

bench-native: bench-native-build
	$(VENV)/bin/hetensor bench --filter 'native*'

bench-torch: $(TORCH_STAMP)
	$(TORCH_VENV)/bin/hetensor bench --filter 'torch*'

$(TENSEAL_VENV)/.installed $(OFNUMPY_VENV)/.installed: %/.installed:
	$(call make-venv,$*)
	$*/bin/python -m pip install --quiet numpy \
	  "$(if $(filter $(TENSEAL_VENV),$*),$(TENSEAL_SPEC),$(OFNUMPY_SPEC))"
	@touch $@

# ~1 hour; OMP_NUM_THREADS=1 on every side (TenSEAL: n_threads=1)
bench-peers: $(STAMP) $(TENSEAL_VENV)/.installed $(OFNUMPY_VENV)/.installed
	OMP_NUM_THREADS=1 $(VENV)/bin/hetensor bench --filter 'peers*' --json bench-peers.json

fixtures: $(TORCH_STAMP)
	$(TORCH_PY) scripts/make_torch_fixtures.py

# The documentation site: docs/ and the API reference from the docstrings (mkdocstrings);
# --strict turns every warning (broken link, docstring problem) into an error.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

info: $(STAMP)
	$(VENV)/bin/hetensor info

# ruff (with SLF001: no private member access outside he/), the layering check (no private
# module or name of hetensor.he imported outside it, no slot-level packing outside it) and mypy
# (configured in pyproject.toml: python/hetensor, every function annotated)
lint: $(STAMP)
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(PY) scripts/check_layers.py
	$(VENV)/bin/mypy
	$(MAKE) --no-print-directory format-check

# One layout for all code: ruff format (Python) and clang-format (C++ and CUDA, .clang-format),
# both pinned in the dev extra so every machine formats alike. `make lint` checks it.
format: $(STAMP)
	$(VENV)/bin/ruff format $(PY_SOURCES)
	$(VENV)/bin/clang-format -i --style=file $(CPP_SOURCES)

format-check: $(STAMP)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/clang-format --dry-run --Werror --style=file $(CPP_SOURCES)

# Raw stubgen output; the committed stubs are edited from it (precise array dtypes, overloads
# per dtype, TypedDicts for the info dicts) and tests/test_core_stub.py keeps them in step.
stubs: $(STAMP)
	rm -rf build/stubgen
	$(VENV)/bin/pybind11-stubgen hetensor._core --numpy-array-use-type-var -o build/stubgen
	@echo "compare: diff -r build/stubgen/hetensor/_core python/hetensor/_core"

wheel: $(PY)
	$(PY) -m pip wheel --no-deps -w dist .

clean:
	rm -rf build dist site $(VENV) $(TORCH_VENV) $(TENSEAL_VENV) $(OFNUMPY_VENV) .pytest_cache
