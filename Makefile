# Leadbridge: `make run` starts the whole stack, `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

# Local use: DEBUG on (generated secrets under var/) and the sandbox org installed. Production
# sets DEBUG=false and SECRET_KEY; the sandbox app is then off unless SANDBOX_ENABLED=true.
DEBUG ?= true
SANDBOX_ENABLED ?= true
WEB_PORT ?= 8000
SANDBOX_PORT ?= 8443
export DEBUG SANDBOX_ENABLED WEB_PORT SANDBOX_PORT

# Python >= 3.12: pyenv (reads .python-version), else python3.13 / python3.12 / python3 on PATH.
PYTHON := $(shell for c in python3.13 python3.12 python3 python; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: help install run test bench lint format demo clean reliability

help:
	@echo "make run    - install, migrate, load the demo and start web, worker, cron, sandbox org"
	@echo "make test   - install and run the whole test suite"
	@echo "make bench  - run the benchmarks in tests/bench/"
	@echo "make lint   - ruff (check, format) and the architecture contracts (import-linter)"
	@echo "make reliability - crash and fault scenarios on a stack of its own (RELIABILITY_SIZE=5000)"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Leadbridge needs Python 3.12 or newer: install it (pyenv install 3.12, or your OS's python3.12) and retry." >&2; \
	  exit 1; fi
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# jsforce (package-lock.json) for the conformance suite, tests/conformance/js. Without npm its
# tests are skipped, except under CI, where they must run.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	elif [ "$$CI" = true ]; then \
	  echo "CI needs Node.js and npm: the jsforce conformance tests must run" >&2; exit 1; \
	else echo "npm not found: the jsforce conformance tests will be skipped"; fi

# The demo's connector logs in to the sandbox org: a login host besides Salesforce's own.
run: export SALESFORCE_LOGIN_HOSTS ?= 127.0.0.1:$(SANDBOX_PORT)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate --noinput --database sandbox
	$(PY) manage.py loaddemoorg
	$(PY) -m portal.embedded_redis $(PY) manage.py loaddemo
	@$(PY) manage.py demologins
	$(PY) -m portal.embedded_redis $(VENV)/bin/honcho start -f Procfile

test: install $(NODE_STAMP)
	$(PY) -m portal.embedded_redis --socket test $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m portal.embedded_redis --socket bench $(PY) -m pytest $(or $(BENCH),tests/bench) -s -q $(PYTEST_ARGS)

# Its own stack (sandbox org, workers, cron) and database; see tests/reliability/run.py.
reliability: install
	$(PY) -m portal.embedded_redis --socket reliability $(PY) -m tests.reliability.run

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf var staticfiles
