"""Published streams of a replay run written to JSON Lines files (no broker): the replay input of another flow.

A flow publishes ``(key, value)`` messages by logical name (:data:`flows.io.Publish`); with a broker they go to
Kafka topics. A replay run can instead write the named streams to ``<dir>/<name>.jsonl`` (one JSON value per
line), so that a flow reading that stream — the gate reading the containers flow's ``containers.exit_status`` —
can replay it. A run overwrites the files; :func:`sort_published` puts each in event-time order afterwards
(the replay merge expects it; a late event's correction is emitted after later ones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import bytewax.operators as op
from bytewax.connectors.files import FileSink
from bytewax.dataflow import Stream

from connectors.replay import ts_key


def file_publisher(directory: Path, names: Iterable[str]) -> Callable[[str, Stream[tuple[bytes, bytes]]], None]:
    """A publisher writing the named streams to ``<directory>/<name>.jsonl`` (other names are not kept).

    Args:
        directory: Where the files go (created).
        names: Logical stream names to write.

    Returns:
        ``publish(name, stream)``.
    """
    wanted = frozenset(names)
    directory.mkdir(parents=True, exist_ok=True)

    def publish(name: str, up: Stream[tuple[bytes, bytes]]) -> None:
        if name not in wanted:
            return
        step = name.replace(".", "_")
        lines = op.map(f"{step}_line", up, lambda kv: ("all", kv[1].decode("utf-8")))
        op.output(f"{step}_file", lines, FileSink(directory / f"{name}.jsonl"))

    return publish


def sort_published(directory: Path, names: Iterable[str]) -> None:
    """Sort each written file by its lines' ``ts`` (stable: equal times keep their emission order)."""
    for name in names:
        path = directory / f"{name}.jsonl"
        if path.exists():
            lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            lines.sort(key=ts_key)
            path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
