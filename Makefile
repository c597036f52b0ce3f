# One-word entry points. Every target creates the virtual environment it needs on first use.
# Inside the conda environment from conda_env.yml (conda activate wsgi-vs-asgi), its Python is used instead.

SHELL := /bin/bash
PYTHON ?= python3

ifeq ($(CONDA_DEFAULT_ENV),wsgi-vs-asgi)
BIN := $(CONDA_PREFIX)/bin
INSTALLED := $(CONDA_PREFIX)/.wsgi-vs-asgi-installed
else
BIN := .venv/bin
INSTALLED := .venv/.installed
endif

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install serve test lint format docs docs-serve clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
ifneq ($(CONDA_DEFAULT_ENV),wsgi-vs-asgi)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: Python 3.11 or newer is needed (PYTHON=$(PYTHON))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv .venv
endif
	@echo "installing pinned dependencies into $(BIN)/.. (first run only)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

## serve: FastAPI on 127.0.0.1:8000 and Flask on 127.0.0.1:8001, logs prefixed, Ctrl-C stops both
serve: install
	@for port in 8000 8001; do \
	  if (exec 3<>/dev/tcp/127.0.0.1/$$port) 2>/dev/null; then \
	    echo "make serve: port $$port on 127.0.0.1 is already in use; stop what is listening there (ss -ltnp 'sport = :$$port')"; exit 1; \
	  fi; \
	done
	@$(BIN)/honcho start

## test: lint, the strict docs build, then every test
test: install lint docs
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

format: install
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

## docs: build the tutorial site into site/ (warnings fail); docs-serve previews it on 127.0.0.1:8002
docs: install
	@NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: install
	@NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8002

clean:
	rm -rf .venv site .pytest_cache .mypy_cache .ruff_cache *.egg-info
