# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
# Both create .venv and install the package on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
export KALSHI_WX_HOME ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(KALSHI_WX_HOME)/dagster_home

.PHONY: demo test dev install lint clean prod-local prod-local-stop

# A first install downloads dagster, dbt, polars, xgboost, numba and their dependencies for a few minutes:
# each step says what it does and pip shows its progress (PIP_PROGRESS_BAR=off keeps CI logs to a
# line per package).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kalshi-wx needs Python 3.11+, found " + sys.version)'
	@echo "==> [1/3] virtualenv $(VENV) ($(PYTHON))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] upgrading pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> [3/3] installing kalshi-wx and its dependencies into $(VENV) (a few minutes the first time)"
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)
	@echo "==> installed: $(BIN)/kalshi-wx"

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kalshi-wx demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

dev: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp config/dagster.local.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

# The production topology of docker/compose.yaml as processes on this machine (docs/DEPLOY.md): PostgreSQL
# instance storage and warehouse, a gRPC code server, dagster-daemon, dagster-webserver. Ctrl-C stops it all;
# so does `make prod-local-stop` from another shell.
prod-local: $(STAMP)
	$(BIN)/python docker/prod_local.py start

prod-local-stop:
	$(BIN)/python docker/prod_local.py stop

# Style, the layer contract of docs/ARCHITECTURE.md (import-linter) and types (mypy, strict on core).
lint: $(STAMP)
	$(BIN)/ruff check kalshi_wx kalshi_wx_tests docker
	$(BIN)/ruff format --check kalshi_wx kalshi_wx_tests docker
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data dbt_features/target dbt_features/logs
