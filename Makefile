# One-word entry points. Every target creates the virtual environment it needs on first use.
# Inside the conda environment from conda_env.yml (conda activate wsgi-vs-asgi), its Python is used instead.
# PYTHON picks the interpreter the environment is built with, VENV where it lives, so that two can live side by
# side: PYTHON=python3.13 VENV=.venv-3.13 make test (.ci/run builds .venv-3.13 so, for the contract and unit suites).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv

ifeq ($(CONDA_DEFAULT_ENV),wsgi-vs-asgi)
BIN := $(CONDA_PREFIX)/bin
INSTALLED := $(CONDA_PREFIX)/.wsgi-vs-asgi-installed
else
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
endif

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install lock serve test lint format docs docs-serve locust clean scaleout soak slowclients fuzz-twins contract-rows screenshots

PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

install: $(INSTALLED)

# every package at the version and hash requirements.lock names, then the project itself, built offline
$(INSTALLED): pyproject.toml requirements.lock
ifneq ($(CONDA_DEFAULT_ENV),wsgi-vs-asgi)
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11, 5) <= sys.version_info < (3, 14))' \
	  || { echo "make: Python 3.11.5 to 3.13 is needed (PYTHON=$(PYTHON) is $$($(PYTHON) -V 2>&1))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
endif
	@echo "installing the locked dependencies (requirements.lock) into $(BIN)/.. (first run only)"
	@$(PIP) install --require-hashes --only-binary :all: -r requirements.lock
	@$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

## lock: write requirements.lock again from pyproject.toml: every version, for Python 3.11.5 to 3.13, with hashes
lock: install
	@$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11.5 --generate-hashes \
	  --custom-compile-command "make lock" --quiet --output-file requirements.lock
	@echo "requirements.lock written; make install installs it"

## serve: FastAPI on 127.0.0.1:8000 and Flask on 127.0.0.1:8001, logs prefixed, Ctrl-C stops both; a throwaway
## PostgreSQL behind their /lab/db when PostgreSQL is installed (DATABASE_URL)
serve: install
	@for port in 8000 8001; do \
	  if (exec 3<>/dev/tcp/127.0.0.1/$$port) 2>/dev/null; then \
	    echo "make serve: port $$port on 127.0.0.1 is already in use; stop what is listening there (ss -ltnp 'sport = :$$port')"; exit 1; \
	  fi; \
	done
	@$(BIN)/python -m launcher token
	@MERGE_TOKENS_FILE=.merge-token $(BIN)/python -m launcher with-postgres $(BIN)/honcho start

## demo: the lesson, measured here: the contract's smoke set against both apps, 100 requests waiting on I/O on
## one event loop, one sync worker and make serve's sync workers, a blocking call in async def, and 100 open
## event streams; it ends with what they showed, each with its chart. Under three minutes on 2 cores, the first
## install included; report and charts in benchmarks/results/demo-<timestamp>/, logs in its raw/
demo: install
	@$(BIN)/python -m benchmarks.demo

## bench: every server configuration, 3 repeats, then the checks of what our code costs beside the bare
## frameworks (BENCH_ARGS="--suite demo --repeats 1", see --help), then the open streams each server holds
## (STREAMS_ARGS="--counts 1,10,100", see python -m benchmarks.streams --help); the comparisons' logs in raw/
bench: install
	@$(BIN)/python -m benchmarks $(BENCH_ARGS)
	@$(BIN)/python -m benchmarks.streams $(STREAMS_ARGS)

## scaleout: Uvicorn and Gunicorn instances behind nginx share one Redis; a merge crowd for 60 s (SCALEOUT_ARGS="--duration 20")
scaleout: install
	@$(BIN)/python -m benchmarks.scaleout $(SCALEOUT_ARGS)

## soak: 3 minutes of the mixed scenario per app, with RSS, file descriptors and threads (SOAK_ARGS="--duration 60")
soak: install
	@$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)

## slowclients: 0 to 50 slow clients against each server, directly and behind nginx, about 75 s (SLOWCLIENTS_ARGS="--help")
slowclients: install
	@$(BIN)/python -m benchmarks.slowclients $(SLOWCLIENTS_ARGS)

## test: lint, the strict docs build, then every test, three test files at a time (PYTEST_ARGS replaces that)
# the tests wait on real servers far more than they compute, so three at a time on two cores is about twice
# as fast; --dist loadfile keeps each file, and the servers its fixtures start, on one worker
PYTEST_ARGS ?= -n 3 --dist loadfile
test: install lint docs
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

## contract-rows: the contract suite against every row of the catalog that serves our API (about 7 min); the
## Mix and match chapter says which rows break which line and why
contract-rows: install
	@$(BIN)/python -m pytest tests/contract -n 3 --servers our-api -q

## fuzz-twins: the differential fuzzer, longer than make test's 400 examples (DIFFERENTIAL_EXAMPLES=20000: about 5 min)
DIFFERENTIAL_EXAMPLES ?= 20000
fuzz-twins: install
	@DIFFERENTIAL_EXAMPLES=$(DIFFERENTIAL_EXAMPLES) $(BIN)/python -m pytest tests/hostile/test_differential.py -q -s

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(BIN)/lint-imports --no-cache --no-logo

format: install
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

## docs: build the tutorial site into site/ (warnings fail); docs-serve previews it on 127.0.0.1:8002
docs: install
	@NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

## screenshots: every page of the site in headless Chromium at 1280 and 390 px, light and dark, into
## site-screenshots/ (about 2 min); it also lists any included line of code cut at 1280 px
screenshots: install
	@$(BIN)/python -m docs_hooks.screenshots --out site-screenshots

docs-serve: install
	@NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8002

## locust: Locust's web UI on 127.0.0.1:8089 for one scenario of benchmarks/locustfiles/, against the app that
## `make serve` runs in another terminal: make locust SCENARIO=iowait TARGET=wsgi (asgi is :8000, wsgi :8001),
## or HOST=http://... for any server; LAB_MS=20 and LOCUST_ARGS="--headless -u 10 -t 30s" pass through
LOCUST_SCENARIOS := $(sort $(basename $(notdir $(wildcard benchmarks/locustfiles/[a-z]*.py))))
SCENARIO ?= hello
TARGET ?= asgi
TARGET_URL_asgi := http://127.0.0.1:8000
TARGET_URL_wsgi := http://127.0.0.1:8001
HOST ?= $(TARGET_URL_$(TARGET))

locust: install
	@[[ " $(LOCUST_SCENARIOS) " == *" $(SCENARIO) "* ]] || { echo "make locust: there is no scenario SCENARIO=$(SCENARIO); pick one of: $(LOCUST_SCENARIOS)"; exit 1; }
	@[[ -n "$(HOST)" ]] || { echo "make locust: TARGET=$(TARGET) is neither asgi nor wsgi; or give the server's URL with HOST=http://..."; exit 1; }
	@[[ "$(HOST)" == http://* || "$(HOST)" == https://* ]] || { echo "make locust: HOST=$(HOST) is not a URL; give one like HOST=http://127.0.0.1:8000"; exit 1; }
	@$(BIN)/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/public/test", timeout=3)' '$(HOST)' 2>/dev/null \
	  || { echo "make locust: nothing answers at $(HOST)/public/test; run make serve in another terminal first (or give HOST=)"; exit 1; }
	@$(BIN)/locust -f benchmarks/locustfiles/$(SCENARIO).py --host '$(HOST)' --web-host 127.0.0.1 --web-port 8089 $(LOCUST_ARGS)

clean:
	rm -rf $(VENV) site site-screenshots .pytest_cache .mypy_cache .ruff_cache *.egg-info
