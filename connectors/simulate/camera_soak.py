"""Camera frames for load runs: a replay directory of any length from one simulated cycle, and its Kafka records.

Encoding a real-resolution frame costs the simulator (:mod:`connectors.simulate.camera_streams`) 20-100 ms, more
than the camera-health flow takes to analyse it, so a long run cannot be simulated frame by frame. A load run
instead simulates one cycle of the demo site's cameras (:func:`~connectors.simulate.camera_streams.demo_cameras`:
1080p at 15 fps at the gate, 720p at 10-15 fps elsewhere, one tamper or benign event per camera) once, and
:func:`write_cycled` writes a replay directory whose manifest repeats that cycle, each repeat shifted by the
cycle length in event time; the JPEG files are linked, not copied, so the directory costs a manifest line per
frame. Every repeat is a new episode for the health logic (the event starts again at mid-cycle, a tampered view
is clean again at the cycle start), so a long run keeps opening and clearing states and alerts.

:func:`frame_records` turns a replay directory into Kafka records as the contract has them (topic
``camera.frames``: JPEG bytes in the value, the manifest fields but ``file`` as headers), in manifest
(event-time) order, reading one JPEG at a time: memory stays bounded whatever the length.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from connectors.frames import ERROR_HEADER, frame_event
from connectors.simulate.camera_streams import FRAMES_DIR, MANIFEST, default_start, demo_cameras, write_streams
from operators.camera_frames import STREAM_CAMERA_FRAMES
from operators.events import iso_ms, parse_ts

#: Seconds of event time one simulated cycle covers (the demo cameras' events start at mid-cycle).
CYCLE_S = 20.0
CYCLE_INFO = "cycle.json"

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class FrameRecord:
    """One camera frame as a Kafka record.

    Attributes:
        camera_id: The frame's camera (also in the headers).
        ts: The frame's event time as written in the manifest (canonical ``...Z``; also in the headers).
        value: The JPEG bytes.
        headers: The manifest fields but ``file``, values as UTF-8 text.
    """

    camera_id: str
    ts: str
    value: bytes
    headers: Headers


def write_cycle(out: Path, seconds: float = CYCLE_S, seed: int = 7) -> Path:
    """Simulate one cycle of the demo site's cameras into ``out`` unless it is there already.

    The frames are streamed to disk as they are encoded (written to a sibling folder, renamed when complete, so an
    interrupted run leaves no half cycle behind).

    Returns:
        ``out``.
    """
    if (out / CYCLE_INFO).exists():
        return out
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    write_streams(tmp, demo_cameras(seconds, seed), default_start())
    (tmp / CYCLE_INFO).write_text(json.dumps({"seconds": seconds, "seed": seed}), encoding="utf-8")
    tmp.rename(out)
    return out


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copyfile(src, dst)


def write_cycled(out: Path, cycle: Path, frames: int) -> int:
    """Write a replay directory of ``frames`` frames repeating the cycle in ``cycle`` (see the module docstring).

    Args:
        out: Replay directory (``camera.frames/`` is created in it).
        cycle: A directory written by :func:`write_cycle`.
        frames: Frames of the manifest.

    Returns:
        The frames written.

    Raises:
        ValueError: When the cycle holds no frame.
    """
    seconds = float(json.loads((cycle / CYCLE_INFO).read_text(encoding="utf-8"))["seconds"])
    src = cycle / FRAMES_DIR
    lines = (src / MANIFEST).read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ValueError(f"no frame in {src / MANIFEST}")
    folder = out / FRAMES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for line in lines:
        name = str(json.loads(line)["file"])
        if not (folder / name).exists():
            _link(src / name, folder / name)
    written = 0
    with (folder / MANIFEST).open("w", encoding="utf-8") as fh:
        for k in itertools.count():
            shift = timedelta(seconds=k * seconds)
            for line in lines:
                if written >= frames:
                    return written
                meta = json.loads(line)
                meta["ts"] = iso_ms(parse_ts(meta["ts"]) + shift)
                fh.write(json.dumps(meta) + "\n")
                written += 1
    return written  # pragma: no cover - the loop returns


def first_frames(replay: Path, out: Path, frames: int) -> int:
    """Write a replay directory holding the first ``frames`` frames of ``replay`` (files linked); returns how many."""
    src, folder = replay / FRAMES_DIR, out / FRAMES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with (src / MANIFEST).open(encoding="utf-8") as lines, (folder / MANIFEST).open("w", encoding="utf-8") as fh:
        for line in lines:
            if written >= frames:
                break
            name = str(json.loads(line)["file"])
            if not (folder / name).exists():
                _link(src / name, folder / name)
            fh.write(line)
            written += 1
    return written


def count_frames(replay: Path) -> int:
    """Frames in a replay directory's manifest."""
    manifest = replay / FRAMES_DIR / MANIFEST
    if not manifest.exists():
        return 0
    with manifest.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def frame_records(replay: Path, limit: int | None = None) -> Iterator[FrameRecord]:
    """The frames of a replay directory as Kafka records, in manifest order (see the module docstring).

    Each is the replay source's event of its line (:func:`connectors.frames.frame_event`) without the ``file``
    header.

    Raises:
        ValueError: A manifest line the replay source would dead-letter (not JSON, or its file missing).
    """
    folder = replay / FRAMES_DIR
    with (folder / MANIFEST).open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if limit is not None and n >= limit:
                return
            raw = frame_event(folder, line.rstrip("\n"), str(n), STREAM_CAMERA_FRAMES)
            meta = {k: v.decode() for k, v in raw.headers}
            if ERROR_HEADER in meta:
                raise ValueError(f"{folder / MANIFEST}:{n + 1}: {meta[ERROR_HEADER]}")
            data = raw.payload if isinstance(raw.payload, bytes) else raw.payload.encode()
            yield FrameRecord(meta["camera_id"], meta["ts"], data, tuple(h for h in raw.headers if h[0] != "file"))
