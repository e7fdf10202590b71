# Plaza: `make run` serves the demo site, `make test` runs the test suite.
# Both install everything they need first (virtualenv, Python packages,
# browser libraries from package-lock.json, Debian's Chromium for browser tests).

PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
# The demo targets run in development explicitly: without FORUM_ENV the app is production.
FLASK   := FORUM_ENV=development $(BIN)/flask --app forum
HOST    ?= 127.0.0.1
PORT    ?= 5000

.DEFAULT_GOAL := help
.PHONY: help install static chromium run demo test test-postgres bench bench-data lint format clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed static  ## virtualenv, Python packages and browser libraries

static/vendor/.built: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.js static/vendor/socket.io.js
	cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chart.umd.min.js
	touch $@

static: static/vendor/.built  ## copy the pinned browser libraries into static/vendor

chromium:  ## Debian's Chromium for the browser tests (never a downloaded browser)
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

run: install  ## install, build the demo community on SQLite and serve http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@# No broker: Celery tasks run in this process and its beat runs in a thread of the server.
	@# Mail goes to an aiosmtpd sink in a thread of the server (127.0.0.1:8025); see /dev/outbox.
	FORUM_JOBS_IN_PROCESS=true FORUM_MAIL_SINK=true FORUM_SITE_URL=http://$(HOST):$(PORT) $(FLASK) serve --host $(HOST) --port $(PORT)

demo: install  ## rebuild the demo data from scratch
	$(FLASK) db upgrade
	$(FLASK) demo --reset

test: install chromium  ## install everything and run the whole suite on SQLite
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-postgres: install chromium  ## the same suite on PostgreSQL (127.0.0.1:5432)
	PLAZA_TEST_DATABASE_URL=$${PLAZA_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/plaza_test} \
	  $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: install  ## benchmarks: print requests/s, messages/s and latencies
	$(BIN)/python -m tests.bench

POSTS ?= 20000
bench-data: install  ## the peer-shaped benchmark dataset (POSTS=2000000; FORUM_SQLALCHEMY_DATABASE_URI=...)
	$(FLASK) bench data --reset --posts $(POSTS) --targets instance/bench_targets.json

lint:  ## ruff lint and format check, import-linter layer contracts, mypy (config in pyproject.toml)
	$(BIN)/ruff check forum tests
	$(BIN)/ruff format --check forum tests
	$(BIN)/lint-imports
	$(BIN)/mypy

format:
	$(BIN)/ruff format forum tests
	$(BIN)/ruff check --fix forum tests

clean:
	rm -rf $(VENV) node_modules static/vendor instance/*.sqlite3* test-artifacts
