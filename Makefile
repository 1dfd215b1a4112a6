# lmkpi: the two set-up commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1

.PHONY: demo test venv lint dev clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	$(BIN)/lmkpi prepare
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/lmkpi demo

test: $(STAMP)
	$(BIN)/ruff check lmkpi pipelines tests benchmarks
	$(BIN)/ruff format --check lmkpi pipelines tests benchmarks
	$(BIN)/pytest

dev: $(STAMP)
	$(BIN)/lmkpi dev

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
