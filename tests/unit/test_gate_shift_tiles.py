"""A long shift written tile by tile: the same files as the tiles made one by one, merged, with bounded memory."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors.simulate.gate_shift import ShiftScenario, simulate_shift, simulate_shifts

FILES = ("gate.reads.jsonl", "gate.pregate.jsonl", "shift_truth.jsonl")
TILES = 3
SC = ShiftScenario()  # the demo shift: 8 h, 3 lanes


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def event_time(line: str) -> datetime:
    obj = json.loads(line)
    return datetime.fromisoformat(obj["ts"] if "ts" in obj else obj["lpr_ts"])


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("tiled")
    return out, simulate_shifts(out, SC, TILES)


def test_the_tiled_files_are_the_single_tiles_merged_in_event_time(tiled, tmp_path):
    out, counts = tiled
    expected: dict[str, list[str]] = {name: [] for name in FILES}
    for k in range(TILES):  # each tile on its own: 8 h later, the next seed, its own id tag
        sc = replace(SC, start=SC.start + timedelta(hours=8 * k), seed=SC.seed + k, id_tag=f"T{k:04d}-")
        simulate_shift(tmp_path / str(k), sc)
        for name in FILES:
            expected[name] += lines(tmp_path / str(k) / name)
    for name in FILES:
        got = lines(out / name)
        assert got == sorted(expected[name], key=event_time)  # stable: ties keep the tile order
        assert counts[name] == len(got)
    # the tiles do overlap at their edges (a notice sent before the next tile starts), so the merge mattered
    assert sorted(expected["gate.pregate.jsonl"], key=event_time) != expected["gate.pregate.jsonl"]
    assert not (out / ".tiles").exists()


def test_ids_are_unique_across_tiles_and_every_file_is_in_event_time_order(tiled):
    out, _counts = tiled
    truth = [json.loads(x) for x in lines(out / "shift_truth.jsonl")]
    reads = [json.loads(x) for x in lines(out / "gate.reads.jsonl")]
    notices = [json.loads(x) for x in lines(out / "gate.pregate.jsonl")]
    pids = [t["passage_id"] for t in truth]
    assert len(set(pids)) == len(pids) and {p.split("-")[1] for p in pids} == {f"T{k:04d}" for k in range(TILES)}
    assert Counter(r["passage_id"] for r in reads) == dict.fromkeys(pids, 5)
    assert len({(r["passage_id"], r["camera_id"]) for r in reads}) == len(reads)
    # a notice id belongs to one passage: the ids of different tiles never meet
    owner = {n["notice_id"].removesuffix("-B").removeprefix("N-") for n in notices}
    assert owner <= set(pids)
    span = max(event_time(x) for x in lines(out / "shift_truth.jsonl")) - SC.start
    assert timedelta(hours=8 * TILES - 1) < span <= timedelta(hours=8 * TILES)
    for name in FILES:
        times = [event_time(x) for x in lines(out / name)]
        assert times == sorted(times)


def _peak(make: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        make()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_about_one_tile_however_many_tiles(tmp_path):
    one = _peak(lambda: simulate_shifts(tmp_path / "one", SC, 1))
    four = _peak(lambda: simulate_shifts(tmp_path / "four", SC, 4))
    # the same length in one piece holds every record of the 32 hours at once
    whole = _peak(lambda: simulate_shift(tmp_path / "whole", replace(SC, hours=32.0)))
    assert four <= 1.5 * one
    assert 2.5 * one < whole
