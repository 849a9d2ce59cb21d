"""Load and soak: sustained ingest through a real Kafka broker → ``quaywatch run FLOW`` → chDB, per flow.

Usage: python bench/soak.py [--flows meters,vgm,containers,gate,cameras] [--minutes 10] [--rate N] [--work DIR]

For each flow, over one simulated replay directory (the flow's own simulator, sized for the run):
  replay     ``quaywatch run FLOW --source file:DIR`` over the first ``--calibrate`` events (the baseline)
  drain      the same events produced to fresh topics first, then ``--source kafka:// --no-tail`` (what the
             Kafka path costs: the highest rate the machine holds, measured, not guessed)
  soak       a fresh ``quaywatch run FLOW --source kafka://`` (tailing) fed by a paced producer for ``--minutes``,
             starting at ``--rate`` (default: 60 % of the drain rate) and adapting every 10 s to what the flow keeps
             up with (x0.7 while more than 10 s of probes are outstanding, x1.1 under 3 s, at most the drain rate):
             on a shared machine the rate it holds changes during the run (``--fixed`` keeps it fixed)
Latency: every half second the producer adds a probe — an event of the flow's main stream at the current event
time that the decoder dead-letters, carrying its produce time (wall clock) — and a consumer of the flow's
``dead_letters`` output topic measures produce time → published dead letter. Probes queue behind every event
before them (same topic, same reorder buffer, same worker), so they measure the flow's end-to-end lag. Their
``recorded_at`` in the warehouse gives the produce → row latency after the run.
Memory: the flow process's RSS every 2 s (peak, and the least-squares slope after the first minute: MB/min; a
flat memory has a slope near zero). At the end, count in = rows accepted + dead-lettered per input stream.

The broker is a private tansu on 127.0.0.1 (``connectors.local_broker``), in-memory storage by default
(``--broker s3``: tansu on a local moto S3). Measured with bench/bench_broker.py (fresh consumer from offset 0,
~180-byte records; a stall = no record for 30 s): tansu's fetches stall with the number of *batches* a partition
holds, not records. In memory, 1.2M records per partition in the producer's default (large) batches read back at
~430k/s, but 600k per partition in batches of 20 (the batches a producer paced at 4,000 ev/s with ``linger.ms`` 5
made: ~30,000 per partition) returned no record at all — what stalled the earlier meters soak at ~750k produced.
On S3 (moto) it is worse: with batches of 20 produce ran at ~1,500 records/s and 40k records already stalled the
fetch; in batches of 1,000, 40k records read back at ~1,200/s, below what the flows hold. So the paced producer
batches for 100 ms (``PACED_BATCHING``: a few thousand batches per partition over a 10-minute soak; up to 0.1 s
more latency on the probes), and every input topic has 4 partitions with records
spread over them (no key): the reorder buffer restores event-time order, as in production. Every process (the
broker, this producer/consumer, the flow with its embedded warehouse) shares the machine: the figures are
for this machine as loaded at the time, ratios against the replay baseline of the same run.

Cameras (``--flows cameras``): events are frames, records JPEG bytes + metadata headers (the Kafka contract of
``quaywatch.camera.frames``), read one at a time from a replay directory that repeats one simulated cycle of the
demo site's eight cameras at their real resolutions (1080p 15 fps at the gate, 720p elsewhere: the Ek-80 minimums
the compliance check measures; see ``connectors/simulate/camera_soak.py``). A probe is a frame of corrupt JPEG
bytes with a ``probe_wall`` header: its dead letter's ``raw`` is a JSON summary holding the headers. No table holds
a row per accepted frame: ``camera_health`` holds one row per camera and closed window with its frame count, so
count in = frames in closed windows + frames of each camera's still open window (the producer counts them: the
run is stopped, not ended, so the last window never closes) + dead-lettered. Health windows are 10 s (not the
site's 60 s) so that a short run closes many of them.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from bench.process_memory import rss_mb  # noqa: E402
from connectors.local_broker import start_local_broker  # noqa: E402
from connectors.simulate import camera_soak  # noqa: E402
from operators.events import ts_text  # noqa: E402

PROBE_EVERY_S = 0.5
#: the private broker's storage (``--broker``): tansu in memory; tansu on a local moto S3 stalls sooner (docstring)
DEFAULT_BROKER = "memory"
#: the paced producer's batching: a batch of ~400 records (100 ms at 4,000 ev/s) per partition instead of ~20, so a
#: 10-minute soak puts a few thousand batches in a partition, far below the ~30,000 where tansu's fetches stall
PACED_BATCHING = {"linger.ms": 100, "sticky.partitioning.linger.ms": 100}
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Record:
    """One input record as produced: its stream, value, headers and event time (``ts`` text)."""

    stream: str
    value: bytes
    headers: Headers
    ts: str


@dataclass(frozen=True)
class FlowSpec:
    """How to feed one flow: its streams, a simulator sized in events, the probe and where accepted rows go."""

    name: str
    streams: tuple[str, ...]
    generate: Callable[[Path, int], None]
    probe_stream: str
    probe: Callable[[str, float], dict[str, Any]]
    #: input stream → warehouse table holding its accepted events (count in = accepted + dead-lettered)
    accepted: dict[str, str] = field(default_factory=dict)
    #: records that are not JSON lines (camera frames); ``None``: JSON lines of ``STREAM.jsonl`` files
    frames: FrameInput | None = None
    #: settings of the flow's runs (``QUAYWATCH__...``)
    env: dict[str, str] = field(default_factory=dict)

    def records(self, replay: Path, limit: int | None = None) -> Iterator[Record]:
        """The replay directory's records in event-time order (as the replay source reads them)."""
        if self.frames is not None:
            return self.frames.records(replay, limit)
        return (Record(s, line.encode(), (), ts_text(line)) for s, line in merged_lines(replay, self.streams, limit))

    def probe_record(self, ts: str, wall: float) -> Record:
        """A record of the probe stream at event time ``ts`` that the flow dead-letters, carrying ``wall``."""
        if self.frames is not None:
            return self.frames.probe(ts, wall)
        return Record(self.probe_stream, json.dumps(self.probe(ts, wall)).encode(), (), ts)

    def write_first(self, replay: Path, out: Path, n: int) -> int:
        """Write a replay directory holding the first ``n`` events of ``replay``; returns how many."""
        if self.frames is not None:
            return camera_soak.first_frames(replay, out, n)
        files: dict[str, Any] = {}
        count = 0
        try:
            for stream, line in merged_lines(replay, self.streams, n):
                if stream not in files:
                    files[stream] = (out / f"{stream}.jsonl").open("w", encoding="utf-8")
                files[stream].write(line + "\n")
                count += 1
        finally:
            for fh in files.values():
                fh.close()
        return count

    def count(self, replay: Path) -> int:
        """Events in a replay directory."""
        return camera_soak.count_frames(replay) if self.frames is not None else count_lines(replay, self.streams)


class FrameTally:
    """Frames produced per camera, and how many of them are in each camera's last (still open) health window.

    Windows are aligned on the epoch, as ``operators.camera_compliance.ComplianceWindow`` has them (computed here
    independently from the produced ``ts`` headers).
    """

    def __init__(self, window_s: float) -> None:
        self.window_ms = int(window_s * 1000)
        self.total = 0
        self.last: dict[str, tuple[int, int]] = {}  # camera → (window number, frames in it)

    def add(self, rec: Record) -> None:
        cam = dict(rec.headers)["camera_id"].decode()
        window = int(datetime.fromisoformat(rec.ts).timestamp() * 1000) // self.window_ms
        w, n = self.last.get(cam, (window, 0))
        self.last[cam] = (window, n + 1 if w == window else 1)
        self.total += 1

    def check(self, frames_in_rows: int, dead: int) -> str:
        """The count check: produced = frames in closed windows (rows) + frames in open windows + dead-lettered."""
        still_open = sum(n for _w, n in self.last.values())
        ok = self.total == frames_in_rows + still_open + dead
        return (f"camera.frames: {self.total} in = {frames_in_rows} in closed camera_health windows + {still_open} "
                f"in the {len(self.last)} cameras' open windows + {dead} dead {'OK' if ok else 'MISMATCH'}")


@dataclass(frozen=True)
class FrameInput:
    """Camera frames: records from a frames replay directory, a corrupt-JPEG probe, the per-window count check."""

    stream: str = "camera.frames"
    window_s: float = 10.0

    def records(self, replay: Path, limit: int | None = None) -> Iterator[Record]:
        return (Record(self.stream, r.value, r.headers, r.ts) for r in camera_soak.frame_records(replay, limit))

    def probe(self, ts: str, wall: float) -> Record:
        """A frame with valid metadata and bytes that are not a JPEG: dead-lettered with its headers in ``raw``."""
        headers = (("camera_id", b"SOAK-PROBE"), ("ts", ts.encode()), ("probe_wall", repr(wall).encode()))
        return Record(self.stream, b"\xff\xd8soak probe: not a JPEG", headers, ts)


def probe_wall_of(raw: str) -> float | None:
    """The ``probe_wall`` of a dead letter's ``raw`` (a probe event, or a frame's summary with its headers)."""
    if "probe_wall" not in raw:
        return None
    obj = json.loads(raw)
    wall = obj.get("probe_wall", obj.get("headers", {}).get("probe_wall"))
    return None if wall is None else float(wall)


def _gen_meters(out: Path, n: int) -> None:
    from connectors.simulate.bench import simulate_readings_file
    from flows.config import load_config

    simulate_readings_file(load_config(environ={}), out, n)


def _gen_vgm(out: Path, n: int) -> None:
    from connectors.simulate.vgm import VgmScenario, simulate_vgm
    from flows.config import load_config

    simulate_vgm(load_config(environ={}).vgm, VgmScenario(containers=max(40, n // 3)), out, seed=1)


def _gen_containers(out: Path, n: int) -> None:
    from connectors.simulate.containers import simulate_containers

    simulate_containers(out, START, seed=1, containers=max(200, n // 6), step_s=35.0)


def _gen_gate(out: Path, n: int) -> None:
    from connectors.simulate.gate_shift import ShiftScenario, simulate_shifts

    # 24-hour tiles, 4 lanes, a truck every 2 min per lane: about 2,700 passages of about 6 records (5 camera reads,
    # notices) a tile, so about 16,000 events; written tile by tile with the memory of one tile. At the rates the
    # flow holds, 10 minutes cover about two months of event time: more than the 30 days the flow keeps risk history
    # for, so memory shows whether it levels off. (Sparser gates leave the pre-gate feed silent for 25 minutes in
    # some tile, which the generator refuses: its planted truths would no longer hold.)
    simulate_shifts(out, ShiftScenario(hours=24.0, lanes=4, headway_min=2.0, seed=1), max(1, -(-n // 16_000)))


SPECS = {
    "meters": FlowSpec("meters", ("meter.readings", "tank.readings", "transfers", "lab.density"), _gen_meters,
                       "meter.readings", lambda ts, wall: {"meter_id": "SOAK-PROBE", "ts": ts, "probe_wall": wall},
                       {"meter.readings": "meter_readings"}),
    "vgm": FlowSpec("vgm", ("vgm.weighings", "vgm.declarations"), _gen_vgm, "vgm.weighings",
                    lambda ts, wall: {"ts": ts, "probe_wall": wall}),
    "containers": FlowSpec("containers", ("port.vessels", "port.manifests", "port.containers", "port.customs"),
                           _gen_containers, "port.containers", lambda ts, wall: {"ts": ts, "probe_wall": wall}),
    # camera read records (the records OCR writes, as the shift simulator sends them) and pre-gate notices
    "gate": FlowSpec("gate", ("gate.reads", "gate.pregate"), _gen_gate, "gate.reads",
                     lambda ts, wall: {"ts": ts, "probe_wall": wall}, {"gate.reads": "gate_reads"}),
}


def _gen_cameras(out: Path, n: int) -> None:
    # one simulated cycle beside the replay directories (shared by the calibration and soak ones), repeated
    camera_soak.write_cycled(out, camera_soak.write_cycle(out.parent / "cameras-cycle"), n)


SPECS["cameras"] = FlowSpec("cameras", ("camera.frames",), _gen_cameras, "camera.frames",
                            lambda ts, wall: {"ts": ts, "probe_wall": wall}, frames=FrameInput(),
                            env={"QUAYWATCH__CAMERAS__WINDOW_S": "10.0"})


def _keyed(stream: str, lines: Iterator[str]) -> Iterator[tuple[str, str, str]]:
    return ((ts_text(line), stream, line.rstrip("\n")) for line in lines if line.strip())


def merged_lines(replay: Path, streams: tuple[str, ...], limit: int | None = None) -> Iterator[tuple[str, str]]:
    """``(stream, line)`` of a replay directory merged in event time (as the replay source reads it)."""
    files = [(s, replay / f"{s}.jsonl") for s in streams if (replay / f"{s}.jsonl").exists()]
    handles = [p.open(encoding="utf-8") for _s, p in files]
    try:
        iters = [_keyed(s, fh) for (s, _p), fh in zip(files, handles, strict=True)]
        for n, (_ts, s, line) in enumerate(heapq.merge(*iters, key=lambda t: t[0])):
            if limit is not None and n >= limit:
                return
            yield s, line
    finally:
        for fh in handles:
            fh.close()


def produce(producer: Producer, topics: dict[str, str], rec: Record) -> None:
    """Produce one record to its stream's topic (no key: records spread over the partitions)."""
    if rec.headers:
        producer.produce(topics[rec.stream], value=rec.value, headers=list(rec.headers))
    else:
        producer.produce(topics[rec.stream], value=rec.value)


def topic_env(prefix: str, streams: tuple[str, ...]) -> dict[str, str]:
    """Environment giving every stream (and the outputs) its own topic under ``prefix``."""
    names = (*streams, "alerts", "dead_letters", "gate.passages", "gate.decisions")
    return {f"QUAYWATCH__KAFKA__TOPICS__{s.replace('.', '_').upper()}": f"{prefix}.{s}" for s in names}


def create_topics(broker: str, topics: list[str], partitions: int = 4) -> None:
    admin = AdminClient({"bootstrap.servers": broker})
    for f in admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1)
                                  for t in topics]).values():
        f.result(timeout=10)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUAYWATCH")}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_cmd(flow: str, source: str, data_dir: Path, tail: bool) -> list[str]:
    cmd = [sys.executable, "-m", "flows.cli", "run", flow, "--source", source, "--data-dir", str(data_dir)]
    return cmd if tail else [*cmd, "--no-tail"]


def timed_run(cmd: list[str], env: dict[str, str], log: Path) -> float:
    """Run a flow to its end; returns the wall time."""
    t0 = time.perf_counter()
    with log.open("ab") as fh:
        rc = subprocess.run(cmd, env=child_env(env), cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
                            check=False, timeout=3600).returncode
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({rc}); see {log}")
    return time.perf_counter() - t0


_COUNTS = r"""
import json, sys
from pathlib import Path
from connectors.warehouse.client import connect, resolve_dsn
c = connect(resolve_dsn("", Path(sys.argv[1])))
db = "quaywatch"
F = {"final": 1}
tables = [r[0] for r in c.query(f"SELECT name FROM system.tables WHERE database = '{db}' "
                                "AND engine LIKE '%MergeTree%'").result_rows]
counts = {t: c.query(f"SELECT count() FROM {db}.{t}", settings=F).result_rows[0][0] for t in tables}
dead = c.query(f"SELECT stream, positionCaseInsensitive(raw, 'probe_wall') > 0 AS probe, count() "
               f"FROM {db}.dead_letters GROUP BY stream, probe", settings=F).result_rows
# probe_wall: a probe event's field, or (camera frames) a header in the dead letter's JSON summary
wall = ("if(JSONHas(raw, 'probe_wall'), JSONExtractFloat(raw, 'probe_wall'), "
        "toFloat64OrZero(JSONExtractString(raw, 'headers', 'probe_wall')))")
lat = c.query(f"SELECT quantiles(0.5, 0.99)(toUnixTimestamp64Milli(recorded_at) / 1000.0 "
              f"- {wall}) FROM {db}.dead_letters "
              f"WHERE positionCaseInsensitive(raw, 'probe_wall') > 0", settings=F).result_rows[0][0]
framed = [r[0] for r in c.query(f"SELECT table FROM system.columns WHERE database = '{db}' AND name = 'frames'")
          .result_rows if r[0] in counts]
frames = {t: int(c.query(f"SELECT sum(frames) FROM {db}.{t}", settings=F).result_rows[0][0]) for t in framed}
print(json.dumps({"counts": counts, "dead": [list(r) for r in dead], "row_latency_s": list(lat),
                  "frames": frames}))
"""


def warehouse_counts(data_dir: Path) -> dict[str, Any]:
    res = subprocess.run([sys.executable, "-c", _COUNTS, str(data_dir)], env=child_env({}), cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=False)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(seconds, MB)`` samples, in MB per minute (0 with fewer than 3 samples)."""
    if len(samples) < 3:
        return 0.0
    xs, ys = [t for t, _ in samples], [m for _, m in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class ProbeWatch(threading.Thread):
    """Consumes the flow's dead-letter topic: probe latencies (produce → published) and other dead letters."""

    def __init__(self, broker: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = Consumer({"bootstrap.servers": broker, "group.id": f"soak-{uuid.uuid4().hex[:8]}",
                                  "auto.offset.reset": "earliest", "fetch.wait.max.ms": "10"})
        self.consumer.subscribe([topic])
        self.latencies: list[tuple[float, float]] = []  # (produced at, latency s)
        self.others = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for msg in self.consumer.consume(1000, 0.2):
                if msg.error() or msg.value() is None:
                    continue
                now = time.time()
                body = json.loads(msg.value())
                wall = probe_wall_of(body.get("raw", ""))
                if wall is not None:
                    self.latencies.append((wall, now - wall))
                else:
                    self.others += 1
        self.consumer.close()


@dataclass
class SoakResult:
    flow: str
    target_rate: float
    produced: int
    seconds: float
    events_per_s: float
    latency_p50_s: float
    latency_p99_s: float
    latency_p99_last_min_s: float
    row_latency_p50_s: float
    row_latency_p99_s: float
    rss_peak_mb: float
    rss_first_mb: float
    rss_last_mb: float
    rss_slope_mb_min: float
    count_check: str


def soak(spec: FlowSpec, broker: str, replay: Path, work: Path, rate: float, seconds: float,
         adaptive_cap: float = 0.0) -> SoakResult:
    """Run the flow tailing fresh topics while a paced producer feeds it for ``seconds`` (at ``rate``, or adapting
    the rate to what the flow keeps up with, up to ``adaptive_cap``, when that is set)."""
    prefix = f"soak_{spec.name}_{uuid.uuid4().hex[:6]}"
    env = {**topic_env(prefix, spec.streams), **spec.env}
    topics = {s: f"{prefix}.{s}" for s in spec.streams}
    create_topics(broker, [*topics.values(), f"{prefix}.alerts", f"{prefix}.dead_letters"])
    data_dir = work / f"{spec.name}-soak"
    log = work / f"{spec.name}-soak.log"
    watch = ProbeWatch(broker, f"{prefix}.dead_letters")
    watch.start()
    with log.open("ab") as fh:
        proc = subprocess.Popen(run_cmd(spec.name, f"kafka://{broker}", data_dir, tail=True), env=child_env(env),
                                cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    time.sleep(5.0)  # the flow starts (imports, warehouse migration) while its topics are empty
    producer = Producer({"bootstrap.servers": broker, **PACED_BATCHING, "queue.buffering.max.messages": 1_000_000})
    produced, probes, sent_by_stream = 0, 0, dict.fromkeys(spec.streams, 0)
    rss: list[tuple[float, float]] = []
    last_ts = START.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    records = spec.records(replay)
    tally = FrameTally(spec.frames.window_s) if spec.frames is not None else None
    t0 = time.monotonic()
    next_probe, next_rss, next_report, reported, exhausted = t0, t0, t0 + 60.0, 0, False
    adaptive, rate_cap, next_adapt, budget, last = adaptive_cap > 0, adaptive_cap, t0 + 10.0, 0.0, t0
    rates: list[tuple[float, float]] = [(0.0, rate)]
    while (now := time.monotonic()) - t0 < seconds and not exhausted:
        if proc.poll() is not None:
            raise RuntimeError(f"the flow exited ({proc.returncode}) mid-soak; see {log}")
        if adaptive and now >= next_adapt:
            # the highest rate the machine holds now: back off while the flow lags (probes outstanding), speed up
            # while it keeps up (the machine is shared, so what it holds changes during the run)
            lag_s = (probes - len(watch.latencies)) * PROBE_EVERY_S
            floor = min(100.0, 0.1 * rate_cap)  # camera frames: tens a second, not thousands
            rate = max(floor, rate * 0.7) if lag_s > 10.0 else min(rate_cap, rate * 1.1) if lag_s < 3.0 else rate
            rates.append((now - t0, rate))
            next_adapt += 10.0
        budget += rate * (now - last)
        last = now
        due = int(budget) - produced
        for _ in range(max(0, due)):
            try:
                rec = next(records)
            except StopIteration:
                exhausted = True
                break
            produce(producer, topics, rec)
            produced += 1
            sent_by_stream[rec.stream] += 1
            if tally is not None:
                tally.add(rec)
            if rec.stream == spec.probe_stream:
                last_ts = rec.ts or last_ts
        if now >= next_probe:
            wall = time.time()
            produce(producer, topics, spec.probe_record(last_ts, wall))
            probes += 1
            next_probe += PROBE_EVERY_S
        if now >= next_rss:
            if (mb := rss_mb(proc.pid)) is not None:
                rss.append((now - t0, mb))
            next_rss += 2.0
        if now >= next_report:
            recent = [lt for w, lt in watch.latencies[reported:]]
            reported = len(watch.latencies)
            print(f"  {spec.name} {now - t0:6.0f} s: {produced:,} produced, probes back {reported}/{probes}, "
                  f"latency p50 {pct(recent, 0.5):.2f} s p99 {pct(recent, 0.99):.2f} s (last minute), "
                  f"RSS {rss[-1][1] if rss else 0:.0f} MB, rate now {rate:,.0f}/s", flush=True)
            next_report += 60.0
        producer.poll(0)
        time.sleep(0.005)
    feed_s, feed_end_wall = time.monotonic() - t0, time.time()
    # a last probe behind the last event: when it is back, every event before it went through
    produce(producer, topics, spec.probe_record(last_ts, time.time()))
    probes += 1
    producer.flush(60)
    deadline = time.monotonic() + 600  # the flow drains what it has not processed yet
    while len(watch.latencies) < probes and time.monotonic() < deadline and proc.poll() is None:
        if (mb := rss_mb(proc.pid)) is not None:
            rss.append((time.monotonic() - t0, mb))
        time.sleep(1.0)
    drained_s = time.monotonic() - t0
    time.sleep(8.0)  # events after the last probe leave the reorder buffer (idle_s = 5), the sink flushes (1 s)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    watch.stop.set()
    watch.join(timeout=10)
    counts = warehouse_counts(data_dir)
    dead_by_stream = {s: n for s, probe, n in counts["dead"] if not probe}
    probe_rows = sum(n for _s, probe, n in counts["dead"] if probe)
    checks = []
    for stream, table in spec.accepted.items():
        acc, dl = counts["counts"].get(table, 0), dead_by_stream.get(stream, 0)
        checks.append(f"{stream}: {sent_by_stream[stream]} in = {acc} + {dl} dead "
                      f"{'OK' if sent_by_stream[stream] == acc + dl else 'MISMATCH'}")
    if tally is not None:
        checks.append(tally.check(counts["frames"].get("camera_health", 0), dead_by_stream.get(spec.probe_stream, 0)))
    lat = [lt for _w, lt in watch.latencies]
    last_min = [lt for w, lt in watch.latencies if w >= feed_end_wall - 60]
    steady = [(t, m) for t, m in rss if t >= min(60.0, feed_s / 5)]
    row_lat = counts["row_latency_s"] or [float("nan"), float("nan")]
    return SoakResult(
        spec.name, statistics.fmean(r for _t, r in rates), produced, feed_s, produced / drained_s, pct(lat, 0.5),
        pct(lat, 0.99), pct(last_min, 0.99),
        row_lat[0], row_lat[1], max((m for _t, m in rss), default=0.0), steady[0][1] if steady else 0.0,
        rss[-1][1] if rss else 0.0, slope_mb_per_min(steady),
        "; ".join(checks) + f"; probes {len(watch.latencies)}/{probes} back, "
        f"{probe_rows}/{probes} in the warehouse" + f"; counts {counts['counts']}")


def calibrate(spec: FlowSpec, broker: str, replay: Path, work: Path, n: int) -> tuple[float, float, int]:
    """Replay-path and Kafka-drain throughput (events/s) over the first ``n`` events; returns (replay, drain, n)."""
    sub = work / f"{spec.name}-first"
    sub.mkdir(parents=True, exist_ok=True)
    count = spec.write_first(replay, sub, n)
    wall_replay = timed_run(run_cmd(spec.name, f"file:{sub}", work / f"{spec.name}-replay", tail=False), spec.env,
                            work / f"{spec.name}-replay.log")
    prefix = f"drain_{spec.name}_{uuid.uuid4().hex[:6]}"
    env = {**topic_env(prefix, spec.streams), **spec.env}
    create_topics(broker, [f"{prefix}.{s}" for s in (*spec.streams, "alerts", "dead_letters")])
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 5, "queue.buffering.max.messages": 1_000_000})
    for rec in spec.records(sub):
        produce(producer, {s: f"{prefix}.{s}" for s in spec.streams}, rec)
        producer.poll(0)
    producer.flush(120)
    wall_drain = timed_run(run_cmd(spec.name, f"kafka://{broker}", work / f"{spec.name}-drain", tail=False), env,
                           work / f"{spec.name}-drain.log")
    return count / wall_replay, count / wall_drain, count


def same_results(work: Path, name: str) -> str:
    """Whether the Kafka drain wrote what the replay of the same events wrote: row counts of every table."""
    rep = warehouse_counts(work / f"{name}-replay")["counts"]
    drain = warehouse_counts(work / f"{name}-drain")["counts"]
    diff = [f"{t} {rep.get(t, 0)} vs {drain.get(t, 0)}" for t in sorted(set(rep) | set(drain))
            if rep.get(t, 0) != drain.get(t, 0)]
    rows = sum(rep.values())
    return (f"drain = replay: {rows:,} rows in {len(rep)} tables, every count equal" if not diff
            else "drain DIFFERS from replay (replay vs drain): " + ", ".join(diff))


def count_lines(replay: Path, streams: tuple[str, ...]) -> int:
    total = 0
    for s in streams:
        p = replay / f"{s}.jsonl"
        if p.exists():
            with p.open("rb") as fh:
                total += sum(1 for _ in fh)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", default="meters,vgm,containers")
    ap.add_argument("--minutes", type=float, default=10.0, help="soak length per flow")
    ap.add_argument("--rate", type=float, default=0.0, help="events/s (default: 60%% of the measured drain rate)")
    ap.add_argument("--headroom", type=float, default=0.6, help="starting soak rate as a share of the drain rate")
    ap.add_argument("--fixed", action="store_true", help="keep the rate fixed (default: adapt it to what the flow "
                    "keeps up with, up to the drain rate: the machine is shared)")
    ap.add_argument("--calibrate", type=int, default=200_000, help="events of the replay and drain runs")
    ap.add_argument("--broker", choices=("memory", "s3"), default=DEFAULT_BROKER,
                    help="the private tansu's storage: s3 on a local moto server, or memory (see above)")
    ap.add_argument("--work", type=Path, help="working directory (default: a fresh temporary one)")
    args = ap.parse_args()
    work = args.work or Path(f"/tmp/quaywatch-soak-{uuid.uuid4().hex[:6]}")
    work.mkdir(parents=True, exist_ok=True)
    local_broker = start_local_broker(args.broker, work / "broker.log")
    broker = local_broker.addr
    results: list[tuple[SoakResult, float, float, int]] = []
    sames: list[str] = []
    try:
        for name in args.flows.split(","):
            spec = SPECS[name]
            gen_n = args.calibrate
            replay = work / f"{name}-replay-cal"
            spec.generate(replay, gen_n)
            rep_rate, drain_rate, n_cal = calibrate(spec, broker, replay, work, args.calibrate)
            same = same_results(work, name)
            print(f"{name}: {same}", flush=True)
            rate = args.rate or args.headroom * drain_rate
            need = int(max(rate, drain_rate) * args.minutes * 60 * 1.05) + 1000
            replay = work / f"{name}-replay"
            spec.generate(replay, need)
            have = spec.count(replay)
            print(f"{name}: replay {rep_rate:,.0f} ev/s, kafka drain {drain_rate:,.0f} ev/s over {n_cal:,} events; "
                  f"soak at {rate:,.0f} ev/s for {args.minutes} min ({have:,} events generated)", flush=True)
            res = soak(spec, broker, replay, work, rate, args.minutes * 60, 0.0 if args.fixed else drain_rate)
            results.append((res, rep_rate, drain_rate, n_cal))
            sames.append(f"{name}: {same}")
            print(f"{name}: {res}", flush=True)
    finally:
        local_broker.close()
    print(f"\nSoak through tansu ({args.broker} storage) → quaywatch run FLOW --source kafka:// → chDB; "
          f"{os.cpu_count()} CPUs shared; work dir {work}")
    head = (f"{'flow':<11}{'replay ev/s':>12}{'drain ev/s':>11}{'soak ev/s':>10}{'x replay':>9}{'min':>6}"
            f"{'lat p50 s':>10}{'lat p99 s':>10}{'p99 last':>9}{'row p50':>8}{'row p99':>8}{'RSS peak':>9}"
            f"{'first':>7}{'last':>7}{'MB/min':>8}")
    print(head)
    for r, rep, drain, _n in results:
        print(f"{r.flow:<11}{rep:>12,.0f}{drain:>11,.0f}{r.events_per_s:>10,.0f}{r.events_per_s / rep:>9.2f}"
              f"{r.seconds / 60:>6.1f}{r.latency_p50_s:>10.2f}{r.latency_p99_s:>10.2f}{r.latency_p99_last_min_s:>9.2f}"
              f"{r.row_latency_p50_s:>8.2f}{r.row_latency_p99_s:>8.2f}{r.rss_peak_mb:>9.0f}{r.rss_first_mb:>7.0f}"
              f"{r.rss_last_mb:>7.0f}{r.rss_slope_mb_min:>8.2f}")
    for r, *_ in results:
        print(f"  {r.flow}: {r.count_check}")
    for line in sames:
        print(f"  {line}")


if __name__ == "__main__":
    main()
