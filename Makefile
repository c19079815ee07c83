# infraplan: set-up, demo and tests. Works on a fresh machine with python3 >= 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check clean instances

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	bash scripts/test-deps.sh
	$(BIN)/python -m pytest -q -n 2

# Rewrite the committed generated instances (instances/generated, scheduled, expansion).
instances: $(STAMP)
	$(BIN)/python -m models.generator.committed

lint: $(STAMP)
	$(BIN)/ruff check models solver tests benchmarks
	$(BIN)/ruff format --check models solver tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info demo-out
