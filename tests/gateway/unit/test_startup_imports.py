"""A gateway's start is mostly Python importing its modules, and a fresh gateway must be ready
within seconds (issue 14): it imports none of the libraries only the management services use.
Each was a quarter to half a second of CPU at every gateway start (`python -X importtime`)."""

import json
import subprocess
import sys

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
