#!/bin/sh
# The image's Python environment: `build-venv.sh <venv> [devtools]`, run from the repository.
# aigw's packages are built as wheels (uv build); the third-party packages are installed at the
# versions and hashes uv.lock pins (uv sync --frozen, which checks each file's hash against the
# lock), with no dev packages. The Dockerfile's `wheels` stage runs it, and so does tests/deploy
# (offline: then starts a service from that venv). uv sync fetches each file by the URL the lock
# names, or takes it from uv's cache; `uv pip install -r` of an export would need the index's
# package listings too, which a cache filled by `uv sync` alone does not hold.
# Needs uv (UV=<path> or on PATH) and Python 3.13 (UV_PYTHON).
set -eu
[ $# -ge 1 ] || { echo "usage: build-venv.sh <venv> [devtools]" >&2; exit 64; }
venv=$1
uv=${UV:-uv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

packages="--package aigw-publisher --package aigw-devportal --package aigw-keymanager --package aigw-gateway"
if [ "${2-}" = devtools ]; then packages="$packages --package aigw-devtools"; fi
"$uv" build --quiet --all-packages --wheel -o "$work/wheels"
if [ "${2-}" != devtools ]; then rm "$work"/wheels/aigw_devtools-*.whl; fi

# shellcheck disable=SC2086 # one word per option
UV_PROJECT_ENVIRONMENT="$venv" "$uv" sync --quiet --frozen --no-dev --no-install-workspace \
    $packages
# --python names the venv: uv would otherwise prefer UV_PYTHON, the interpreter it was made from
"$uv" pip install --quiet --python "$venv/bin/python" --no-deps "$work"/wheels/*.whl
