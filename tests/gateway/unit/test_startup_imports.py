"""A gateway's start is mostly Python importing its modules, and a fresh gateway must be ready
within seconds (issue 14): it imports none of the libraries only the management services use.
Each was a quarter to half a second of CPU at every gateway start (`python -X importtime`)."""

import importlib.util
import json
import os
import struct
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


def _compiled(source: Path) -> bool:
    """Whether `source` has bytecode Python will use as it is: for aigw's own modules, any
    (compileall's, checked against the source's hash at import: one edited since is recompiled
    in memory, correct but slower, until the next `make install`); for the packages', one that
    matches the source's mtime and size."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    if not cached.exists():
        return False
    if "site-packages" not in source.parts:
        return True
    header = cached.read_bytes()[:16]
    if int.from_bytes(header[4:8], "little") & 1:  # hash-based
        return header[8:16] == importlib.util.source_hash(source.read_bytes())
    stat = source.stat()
    return header[8:16] == struct.pack("<II", int(stat.st_mtime) & 0xFFFFFFFF, stat.st_size)


def test_what_the_gateway_imports_is_compiled_ahead() -> None:
    """`make install` compiles every module to bytecode (uv sync --compile-bytecode, then
    compileall for aigw's own): with PYTHONDONTWRITEBYTECODE set Python would compile each
    module again at every start, two thirds of a gateway's import time. The probe writes no
    bytecode itself, wherever it runs."""
    probe = (
        "import sys, json, aigw.gateway.server; "
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.check_output([sys.executable, "-c", probe], text=True, env=env)
    sources = [Path(f) for f in json.loads(out) if f and f.endswith(".py")]
    assert len(sources) > 300
    assert [s for s in sources if not _compiled(s)] == [], "run make install"
