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

# The package and what running it needs (no test tools, no Dask).
$(BIN)/sim: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(BIN)/sim

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

run: $(BIN)/sim
	$(BIN)/sim run scenarios/baseline.yaml

# The suite runs on two processes (pytest-xdist), a test file to each at a time, so a
# file's shared runs (module fixtures) are made once.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The validation register: every check marked `check` in tests/, written to docs/validation.md.
validate: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m check --validation-report docs/validation.md

# The documentation site, built into site/. --strict turns a broken link, a page missing from
# the navigation or an API reference that does not resolve into an error. The parameter
# reference and the output columns are generated from the schema during the build.
docs: $(VENV)/.installed-docs
	$(BIN)/mkdocs build --strict

docs-serve: $(VENV)/.installed-docs
	$(BIN)/mkdocs serve

# The floor ratio, set-up cost, Sobol time, speed, parallel efficiency, executors and memory;
# writes benchmarks/results.md. About 85 minutes on 2 cores, most of it the 10^6-replication
# memory run (python benchmarks/bench.py --speed-only --runs 2000 leaves the memory runs out).
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench.py

# Style and imports (ruff), then the types of the package (mypy, with pydantic's plugin).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/python -m mypy src

clean:
	rm -rf $(VENV) .pytest_cache site
