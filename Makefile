# Two commands on a fresh machine: `make demo` (main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# e.g. make demo DEMO_ARGS="--courses 3 --seed 5 --days 2" (lms-assets demo --help)
DEMO_ARGS ?=

.PHONY: demo test ui sandbox lint validate bench clean

$(BIN)/.installed: pyproject.toml
	@echo "Creating $(VENV) and installing lms_assets with Dagster and its dependencies"
	@echo "(once; about a minute on a fresh machine, quiet while pip works)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@echo "Installed."
	touch $@

demo: $(BIN)/.installed  ## sandbox + materialize every asset into data/warehouse.sqlite + summary
	$(BIN)/lms-assets demo $(DEMO_ARGS)

test: $(BIN)/.installed  ## the whole suite, warehouse tests on SQLite and MariaDB
	$(BIN)/pytest

ui: $(BIN)/.installed  ## sandbox + Dagster UI on http://127.0.0.1:3000 (same instance as the demo)
	$(BIN)/lms-assets ui

sandbox: $(BIN)/.installed  ## only the sandbox APIs, on http://127.0.0.1:8765
	$(BIN)/lms-assets sandbox

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

validate: $(BIN)/.installed
	mkdir -p "$(DAGSTER_HOME)"
	test -f "$(DAGSTER_HOME)/dagster.yaml" || printf 'telemetry:\n  enabled: false\n' > "$(DAGSTER_HOME)/dagster.yaml"
	$(BIN)/python -m lms_assets.dagster_cli definitions validate -w workspace.yaml

bench: $(BIN)/.installed  ## benchmarks/ (see docs/benchmarks.md)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) data .dagster_home *.egg-info
