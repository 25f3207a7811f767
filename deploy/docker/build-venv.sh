#!/bin/sh
# The image's Python environment: `build-venv.sh <venv> [devtools]`, run from the repository.
# aigw's packages are built as wheels (uv build); the third-party packages are installed at the
# versions and hashes uv.lock pins (uv export), with no dev packages. The Dockerfile's `wheels`
# stage runs it, and so does tests/deploy (then starts a service from that venv).
# Needs uv (UV=<path> or on PATH) and Python 3.13 (UV_PYTHON).
set -eu
[ $# -ge 1 ] || { echo "usage: build-venv.sh <venv> [devtools]" >&2; exit 64; }
venv=$1
uv=${UV:-uv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

packages="--package aigw-publisher --package aigw-devportal --package aigw-keymanager --package aigw-gateway"
if [ "${2-}" = devtools ]; then packages="$packages --package aigw-devtools"; fi
# shellcheck disable=SC2086 # one word per option
"$uv" export --quiet --frozen --no-dev --no-emit-workspace $packages -o "$work/requirements.txt"
"$uv" build --quiet --all-packages --wheel -o "$work/wheels"
if [ "${2-}" != devtools ]; then rm "$work"/wheels/aigw_devtools-*.whl; fi

"$uv" venv --quiet "$venv"
# --python names the venv: uv would otherwise prefer UV_PYTHON, the interpreter it was made from
"$uv" pip install --quiet --python "$venv/bin/python" --require-hashes --no-deps \
    -r "$work/requirements.txt"
"$uv" pip install --quiet --python "$venv/bin/python" --no-deps "$work"/wheels/*.whl
