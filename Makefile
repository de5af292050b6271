# Quick start: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test validate bench lint clean

$(BIN)/sim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"
	touch $(BIN)/sim

run: $(BIN)/sim
	$(BIN)/sim run scenarios/baseline.yaml

test: $(BIN)/sim
	$(BIN)/python -m pytest -q

# The validation register: every check marked `check` in tests/, written to docs/validation.md.
validate: $(BIN)/sim
	$(BIN)/python -m pytest -q -m check --validation-report docs/validation.md

# Speed, parallel efficiency, executors and memory; writes benchmarks/results.md. About 75
# minutes on 2 cores, most of it the 10^6-replication memory run.
bench: $(BIN)/sim
	$(BIN)/python benchmarks/bench.py

lint: $(BIN)/sim
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
