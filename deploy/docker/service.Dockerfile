# syntax=docker/dockerfile:1
# One image for the four services and the snapshotter (the first argument picks one:
# deploy/entrypoint.sh):
#   docker build -f deploy/docker/service.Dockerfile -t aigw:$(git rev-parse --short HEAD) .
#   docker run aigw:<tag> gateway
# With the mock AI provider too (aigw.devtools, for trials and the compose `mock` profile only):
#   docker build -f deploy/docker/service.Dockerfile --build-arg WITH_DEVTOOLS=1 -t aigw-dev .
#
# Stages: `wheels` builds aigw's wheels and installs them, with the third-party packages pinned
# and hash-checked from uv.lock, into a venv (deploy/docker/build-venv.sh, which tests/deploy
# runs too); `web` builds the portals and the /docs assets;
# the runtime stage is python:3.13-slim with that venv and web/dist, running as a non-root user
# on a read-only root file system (only /tmp is written). tests/deploy checks this file's
# shape and runs deploy/entrypoint.sh outside Docker.
ARG PYTHON_IMAGE=python:3.13-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13

FROM ${UV_IMAGE} AS uv

# ---- aigw's wheels and the locked dependencies, in /opt/aigw
FROM ${PYTHON_IMAGE} AS wheels
ARG WITH_DEVTOOLS=0
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_DOWNLOADS=never UV_PYTHON=/usr/local/bin/python3.13 UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
COPY deploy/docker/build-venv.sh deploy/docker/build-venv.sh
RUN if [ "$WITH_DEVTOOLS" = 1 ]; then set -- devtools; fi; \
    sh deploy/docker/build-venv.sh /opt/aigw "$@"

# ---- the portals and every service's /docs assets (web/dist); the API types come from the
# services' OpenAPI documents, exported by aigw.devtools (in this stage only)
FROM ${PYTHON_IMAGE} AS web
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_DOWNLOADS=never UV_PYTHON=/usr/local/bin/python3.13 UV_LINK_MODE=copy
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
RUN uv sync --frozen --no-dev --all-packages
COPY web web
RUN uv run --frozen python -m aigw.devtools.openapi_export web/src/api/generated \
    && cd web && npm ci --ignore-scripts --no-audit --no-fund && npm run --silent build

# ---- runtime
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 aigw \
    && useradd --system --uid 10001 --gid aigw --no-create-home --shell /usr/sbin/nologin aigw
COPY --from=wheels /opt/aigw /opt/aigw
COPY --from=web /src/web/dist /opt/aigw-web
COPY deploy/entrypoint.sh /usr/local/bin/aigw-entrypoint
ENV PATH="/opt/aigw/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    AIGW_HOST=0.0.0.0 AIGW_WEB_DIR=/opt/aigw-web
USER 10001:10001
EXPOSE 8001 8002 8003 8280 8243
ENTRYPOINT ["/usr/local/bin/aigw-entrypoint"]
CMD ["gateway"]
