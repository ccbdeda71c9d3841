# agentflow developer commands. The two that matter (see README "Quick start"):
#   make demo   set everything up, then run a research question offline on embedded defaults
#   make test   set everything up, then run the test suite
# Both create .venv on first use; later runs reuse it.

VENV      ?= .venv
PYTHON    ?= python3
PY        := $(VENV)/bin/python
PIP       := $(PY) -m pip
EXTRAS    ?= local,server,eval,web,dev
PYTEST_ARGS ?=

# llama-cpp-python builds from source; the default native build crashes (segfault
# in decode) on these CPUs, so build for a fixed instruction set instead.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
# Everything runs offline: never try to download models at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup demo test test-fast lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24" "setuptools>=68" wheel
	$(PIP) install -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

demo: setup
	$(PY) -m agentflow.evals.demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check agentflow graphs tools evals tests

bench: setup
	$(PY) -m agentflow.evals.bench_retrieval --help

clean:
	rm -rf $(VENV) build dist *.egg-info
