# Quick start: `make run` and `make test`. Each creates .venv on first use and installs
# what it needs: `make run` the package alone, `make test` the test tools and Dask as well,
# `make docs` the documentation tools. A stamp file per set records that it is installed, so
# one target does not undo another's.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test validate docs docs-serve bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The package and what running it needs (no test tools, no Dask). pip installs it as pure
# Python; the compiled model is built by the next rule.
$(BIN)/sim: pyproject.toml | $(BIN)/python
	SIM_PURE_PYTHON=1 $(BIN)/python -m pip install --quiet -e .
	touch $(BIN)/sim

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	SIM_PURE_PYTHON=1 $(BIN)/python -m pip install --quiet -e ".[test,dask]"
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	SIM_PURE_PYTHON=1 $(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

# The model's hot modules compiled to C by mypyc beside their sources (see setup.py), again
# whenever one of them changes: about 2 minutes on 2 cores. Where it cannot be done the
# build says so and the model runs as pure Python, with the same results, more slowly.
$(VENV)/.compiled: $(wildcard src/sim/model/*.py) setup.py | $(BIN)/sim
	$(BIN)/python -m pip install --quiet "mypy>=1.10" "setuptools>=77"
	$(BIN)/python setup.py --quiet build_ext --inplace
	touch $@

run: $(BIN)/sim $(VENV)/.compiled
	$(BIN)/sim run scenarios/baseline.yaml

# The suite runs on two processes (pytest-xdist), a test file to each at a time, so a
# file's shared runs (module fixtures) are made once.
test: $(VENV)/.installed-test $(VENV)/.compiled
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The validation register: every check marked `check` in tests/, written to docs/validation.md.
validate: $(VENV)/.installed-test $(VENV)/.compiled
	$(BIN)/python -m pytest -q -m check --validation-report docs/validation.md

# The documentation site, built into site/. --strict turns a broken link, a page missing from
# the navigation or an API reference that does not resolve into an error. The parameter
# reference and the output columns are generated from the schema during the build.
docs: $(VENV)/.installed-docs
	$(BIN)/mkdocs build --strict

docs-serve: $(VENV)/.installed-docs
	$(BIN)/mkdocs serve

# The floor ratio, set-up cost, Sobol time, speed, parallel efficiency, executors and memory;
# writes benchmarks/results.md. On 2 cores it took 36 minutes: the Sobol analysis at N = 256
# 13 of them (780 s) and the 10^6-replication memory run 17 (python benchmarks/bench.py
# --speed-only leaves the memory runs out).
bench: $(VENV)/.installed-test $(VENV)/.compiled
	$(BIN)/python benchmarks/bench.py

# Style and imports (ruff), then the types of the package (mypy, with pydantic's plugin).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks docs setup.py
	$(BIN)/python -m mypy src

clean:
	rm -rf $(VENV) .pytest_cache site build src/*.so src/sim/model/*.so src/sim/model/compiled.txt
