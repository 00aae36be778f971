# SMT — the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export SMT_HOME ?= $(CURDIR)/var
export SMT_DATA_DIR ?= $(abspath $(CURDIR)/../shared/data)

.PHONY: run test install lint bench clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate

## Serve the FHIR API on http://$(HOST):$(PORT) with the bundled sample terminologies loaded.
run: install
	$(BIN)/smt load-samples
	$(BIN)/smt serve --host $(HOST) --port $(PORT)

## Lint, check the layers and the types, then run the whole test suite (real data read from SMT_DATA_DIR).
test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadfile -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: install
	@echo "Benchmarks are separate scripts, each documented in benchmarks/README.md, e.g.:"; echo "  $(BIN)/python -m benchmarks.load_cim10"; $(BIN)/python -m benchmarks.load_cim10

clean:
	rm -rf $(VENV) var .pytest_cache
