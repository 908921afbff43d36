# The two commands of the quick start: `make run` (portal with demo data) and `make test`.
# Both create the virtualenv and install what they need on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A Python >= 3.12 found by .ci/find-python (pyenv versions included); override with PYTHON=...
PYTHON ?= $(shell .ci/find-python)
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in mails and the probe scripts name the portal: the address `make run` serves, unless set.
# By name (localhost for the loopback address): passkeys refuse an IP address as their relying party.
PORTAL_HOST := $(if $(filter 127.0.0.1,$(HOST)),localhost,$(HOST))
PORTAL_URL ?= http://$(PORTAL_HOST):$(PORT)
PYTEST_ARGS ?=

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install run test lint bench system-packages clean

help:
	@echo "make run    - the portal with demo data, a Celery worker and beat, on SQLite"
	@echo "make test   - the guard rails (make lint), then the whole test suite (installs Chromium,"
	@echo "              iptables, nftables if missing)"
	@echo "make lint   - ruff, ruff format --check, import-linter's layers, mypy on the pure core"
	@echo "make bench  - the benchmarks in bench/, with their peers (figures: docs/benchmarks.md)"
	@echo "make clean  - remove the virtualenv and local data (var/)"

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON)" ]; then echo "No suitable Python: see the message above." >&2; exit 1; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

install: $(STAMP)

system-packages:
	@.ci/install-system-packages

run: $(STAMP)
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true PORTAL_URL=$(PORTAL_URL) $(BIN)/python manage.py seed_demo
	@echo
	@echo "  Portal: $(PORTAL_URL)/   (Ctrl-C stops the web server, worker and beat)"
	@echo
	DEBUG=true HOST=$(HOST) PORT=$(PORT) PORTAL_URL=$(PORTAL_URL) $(BIN)/honcho start -f Procfile

# The layers and style first: a broken layer fails in seconds, before the suite's minutes.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,bench]'
	@# Every benchmark runs even when one misses its target; the run fails at the end if any did.
	@failed=""; for script in render responder fanout dashboard audit progress regenerate live_update import analyze; do \
	  echo "=== bench/$$script.py ==="; \
	  $(BIN)/python bench/$$script.py || failed="$$failed $$script"; \
	done; \
	if [ -n "$$failed" ]; then echo "Missed or failed:$$failed" >&2; exit 1; fi

clean:
	rm -rf $(VENV) var
