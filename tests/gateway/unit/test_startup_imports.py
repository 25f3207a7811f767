"""A gateway's start is mostly Python importing its modules, and a fresh gateway must be ready
within seconds (issue 14): it imports none of the libraries only the management services use.
Each was a quarter to half a second of CPU at every gateway start (`python -X importtime`)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SERVICES_ONLY = (
    "pymongo",  # the store's driver (the gateway has no database)
    "faststream",  # the services' broker (the gateway reads and writes NATS with nats-py)
    "httpx",  # the services' HTTP clients (with its command line: click, rich, pygments)
    "numpy",  # only the semantic cache and guardrail use vectors, imported when they make one
)


# what `python -m aigw.gateway` and `python -m aigw.gateway.snapshotter` import before they run
@pytest.mark.parametrize("module", ["aigw.gateway.server", "aigw.gateway.snapshotter"])
def test_the_gateway_starts_without_the_libraries_it_does_not_need(module: str) -> None:
    probe = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True)))
    assert [name for name in SERVICES_ONLY if name in loaded] == []


def test_what_the_gateway_imports_is_compiled_ahead() -> None:
    """`make install` compiles every module to bytecode (uv sync --compile-bytecode, then
    compileall for aigw's own): with PYTHONDONTWRITEBYTECODE set Python would compile each
    module again at every start, two thirds of a gateway's import time."""
    probe = (
        "import sys, json, aigw.gateway.server; "
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
    )
    files = json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True))
    sources = [Path(f) for f in files if f and f.endswith(".py")]
    assert len(sources) > 300
    cached = {s: Path(importlib.util.cache_from_source(str(s))) for s in sources}
    assert [s for s, pyc in cached.items() if not pyc.exists()] == []
