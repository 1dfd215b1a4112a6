# lmkpi: the two set-up commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1

.PHONY: demo test venv lint dev clean system-deps benchmark

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	$(BIN)/lmkpi prepare --force
	touch $(STAMP)

venv: $(STAMP)

# Headless Chromium and poppler render the reports in the tests the way a reader sees them.
# Debian packages; installed when missing and we are root (CI), otherwise those tests skip.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and poppler-utils (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	  else \
	    echo "chromium/pdftoppm missing and not root: browser and PDF rendering tests will skip"; \
	  fi; \
	fi

demo: $(STAMP)
	$(BIN)/lmkpi prepare
	$(BIN)/lmkpi demo

# ruff on the Python; sqlfluff (dialect duckdb, dbt templater, dbt_project/.sqlfluff) on every
# model. The templater compiles the project against a scratch database, never a real one.
lint: $(STAMP)
	$(BIN)/ruff check lmkpi pipelines tests benchmarks
	$(BIN)/ruff format --check lmkpi pipelines tests benchmarks
	@mkdir -p data/lint
	cd dbt_project && LMKPI_WORK_DB=$(CURDIR)/data/lint/lmkpi.duckdb ../$(BIN)/sqlfluff lint models --processes 2

# Two workers (the machine has 2 cores; the end-to-end tests are dbt-bound). The kill loop runs
# LMKPI_KILL_LOOPS random kills (50 by default; 4 here to keep CI under 20 minutes).
test: $(STAMP) system-deps lint
	$(BIN)/lmkpi prepare
	LMKPI_KILL_LOOPS=$${LMKPI_KILL_LOOPS:-4} $(BIN)/pytest -n 2 --dist loadfile
	$(BIN)/python -m benchmarks.national --smoke --data $(CURDIR)/data/bench-smoke --out $(CURDIR)/data/bench-smoke/benchmarks.md

# make dev DEV_ARGS="-h 127.0.0.1 -p 3001": the arguments go to dagster dev
dev: $(STAMP)
	$(BIN)/lmkpi prepare
	$(BIN)/lmkpi dev $(DEV_ARGS)

# The configuration of docs/benchmarks.md (issue 18): ten national years, 2010-01..2019-12
# (generated once into bench-data/, 14 GB), the one-month rows on 2019-12, a restatement of
# the last 24 months, the scheduled job's path (no report refresh). About an hour; needs
# ~50 GB of free disk.
benchmark: $(STAMP)
	$(BIN)/python -m benchmarks.national --months 120 --end 2019-12 --single 2019-12 --restate 24 --no-refresh

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
