# One image per service: docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=gateway .
FROM python:3.13-slim
ARG SERVICE
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
RUN uv sync --frozen --no-dev --package aigw-${SERVICE}
ENV PATH="/app/.venv/bin:$PATH" AIGW_HOST=0.0.0.0 SERVICE=${SERVICE}
CMD ["sh", "-c", "exec python -m aigw.${SERVICE}"]
