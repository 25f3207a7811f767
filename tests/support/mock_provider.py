"""The mock AI provider (aigw.devtools.mock_provider) as its own process, for the tests that
need a gateway to call a provider (keys mock-provider-key, mock-sandbox-key)."""

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from aigw.devtools.processes import ManagedProcess, free_port


@contextlib.contextmanager
def mock_provider_process(log: Path) -> Iterator[str]:
    """The mock provider listening on a free port: its URL."""
    port = free_port()
    argv = [sys.executable, "-m", "aigw.devtools.mock_provider", "--port", str(port)]
    proc = ManagedProcess("mock-provider", argv, port=port, log_path=log)
    with proc.running(20):
        yield f"http://127.0.0.1:{port}"
