"""Gate OCR benchmark: latency and exact-read accuracy per field and tier, per engine, in one run.

Engines (same generated 1080p frames, same reading rules and fusion):
- ``rapidocr``: RapidOCR, detector on the frame downscaled to 640 px (``--det-max-side``), recognition on
  full-resolution crops;
- ``easyocr``: EasyOCR the same way (needs ``pip install -e '.[easyocr]'``; skipped otherwise);
- ``naive``: EasyOCR on the full 1080p frame (detector at full size), the baseline the issue names; run on
  fewer passages because it takes tens of seconds per frame on two cores.

Per frame: the fields a camera can see (lpr: plate; rear: trailer plate, container, size/type; left/right:
container, size/type) are counted correct / wrong / missed. Per passage: the fused record, where a wrong
value is a failure and a ``None`` a miss (manual review). Latency: per frame (decode + read) median and
p95, per passage the sum of its frames plus fusion (one worker reads frames one after another), and the
ratio to the naive baseline measured in the same run.

Usage: ``.venv/bin/python bench/bench_gate_ocr.py [--passages 6] [--naive-passages 1] [--engines ...]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Any

import cv2
import numpy as np

from connectors.simulate.gate_scenes import PassageTruth, passage_frames, random_truth
from operators.gate_fusion import fuse
from operators.ocr.engine import EngineUnavailableError, make_engine
from operators.ocr.reader import CameraRoles, FrameRead, read_frame

FIELDS_FRAME = ("plate", "trailer_plate", "container", "size_type")
FIELDS_PASSAGE = ("plate", "trailer_plate", "container", "size_type", "hazard_placard", "seal")


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def frame_outcomes(read: FrameRead, camera: str, t: PassageTruth) -> dict[str, str]:
    out: dict[str, str] = {}

    def judge(name: str, got: Any, want: Any) -> None:
        out[name] = "miss" if got is None else ("ok" if got == want else "wrong")

    if camera == "lpr":
        judge("plate", read.plate.plate if read.plate else None, t.plate)
    if camera == "rear":
        judge("trailer_plate", read.trailer_plate.plate if read.trailer_plate else None, t.trailer_plate)
    if camera in ("left", "right", "rear"):
        codes = [c.code for c in read.containers]
        out["container"] = "miss" if not codes else ("ok" if codes == [t.container] else "wrong")
        judge("size_type", read.size_type.code if read.size_type else None, t.size_type)
    return out


def passage_outcomes(reads: list[tuple[str, FrameRead]], t: PassageTruth) -> dict[str, str]:
    f = fuse(reads)
    got = {"plate": f.plate.value, "trailer_plate": f.trailer_plate.value,
           "container": list(f.containers.value) if isinstance(f.containers.value, tuple) else None,
           "size_type": f.size_type.value, "hazard_placard": f.hazard_placard.value, "seal": f.seal.value}
    want = {"plate": t.plate, "trailer_plate": t.trailer_plate, "container": [t.container],
            "size_type": t.size_type, "hazard_placard": t.hazard_placard, "seal": t.seal}
    return {k: "miss" if got[k] is None else ("ok" if got[k] == want[k] else "wrong") for k in FIELDS_PASSAGE}


def run_engine(label: str, name: str, det_max_side: int, passages: list[tuple[PassageTruth, list[Any]]],
               ) -> dict[str, Any]:
    engine = make_engine(name)
    roles = CameraRoles()
    warm = cv2.imdecode(np.frombuffer(passages[0][1][0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    read_frame(engine, warm, "left", roles, det_max_side)  # load the models outside the timings
    frame_ms: list[float] = []
    passage_ms: list[float] = []
    per_frame: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    per_passage: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for truth, frames in passages:
        reads: list[tuple[str, FrameRead]] = []
        total = 0.0
        for fr in frames:
            t0 = time.perf_counter()
            img = cv2.imdecode(np.frombuffer(fr.jpeg, np.uint8), cv2.IMREAD_COLOR)
            read = read_frame(engine, img, fr.camera_id, roles, det_max_side)
            ms = (time.perf_counter() - t0) * 1000
            frame_ms.append(ms)
            total += ms
            reads.append((fr.camera_id, read))
            for k, v in frame_outcomes(read, fr.camera_id, truth).items():
                per_frame[(truth.tier, k)][v] += 1
        t0 = time.perf_counter()
        for k, v in passage_outcomes(reads, truth).items():
            per_passage[(truth.tier, k)][v] += 1
        passage_ms.append(total + (time.perf_counter() - t0) * 1000)
        print(f"  {label}: passage {truth.passage_id} ({truth.tier}) {total:.0f} ms", file=sys.stderr, flush=True)
    return {"label": label, "frame_ms": frame_ms, "passage_ms": passage_ms, "per_frame": per_frame,
            "per_passage": per_passage, "passages": len(passages)}


def cell(c: Counter[str]) -> str:
    n = sum(c.values())
    if not n:
        return "–"
    return f"{100 * c['ok'] / n:.0f} % ({c['ok']}/{n}, {c['wrong']} wrong)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--passages", type=int, default=6, help="passages per tier (4 frames each)")
    ap.add_argument("--naive-passages", type=int, default=1, help="passages per tier for the naive baseline")
    ap.add_argument("--engines", default="rapidocr,easyocr,naive")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--det-max-side", type=int, default=640, help="detector input size for rapidocr/easyocr")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    passages = []
    for i in range(args.passages):
        for tier in ("easy", "hard"):
            t = random_truth(rng, f"P{i:03d}-{tier}", "L1", tier)
            passages.append((t, passage_frames(t, rng, args.width)))
    naive_set = [p for p in passages if int(p[0].passage_id[1:4]) < args.naive_passages]
    results = []
    for eng in args.engines.split(","):
        try:
            if eng == "rapidocr":
                results.append(run_engine(f"RapidOCR (det {args.det_max_side}, crops)", "rapidocr",
                                          args.det_max_side, passages))
            elif eng == "easyocr":
                results.append(run_engine(f"EasyOCR (det {args.det_max_side}, crops)", "easyocr",
                                          args.det_max_side, passages))
            elif eng == "naive":
                results.append(run_engine("naive: EasyOCR full frame", "easyocr", 100_000, naive_set))
        except EngineUnavailableError as exc:
            print(f"skipping {eng}: {exc}", file=sys.stderr)

    naive = next((r for r in results if r["label"].startswith("naive")), None)
    print(f"\n### Gate OCR bench ({args.passages} passages per tier x 4 frames at {args.width} px, seed {args.seed}; "
          f"naive on {args.naive_passages} per tier)\n")
    print("| engine | frames | per frame median / p95 (ms) | per 4-frame passage median / p95 (ms) "
          "| frame speed vs naive |")
    print("|---|---|---|---|---|")
    for r in results:
        fm, pm = r["frame_ms"], r["passage_ms"]
        ratio = f"{statistics.median(naive['frame_ms']) / statistics.median(fm):.1f}x" if naive else "–"
        print(f"| {r['label']} | {len(fm)} | {statistics.median(fm):.0f} / {p95(fm):.0f} | "
              f"{statistics.median(pm):.0f} / {p95(pm):.0f} | {ratio} |")
    for level, key, fields in (("per frame", "per_frame", FIELDS_FRAME), ("per passage (fused)", "per_passage",
                                                                          FIELDS_PASSAGE)):
        print(f"\nExact reads {level}: correct % (correct/total, wrong accepted); the rest are misses "
              "(null → manual review)\n")
        print("| engine | tier | " + " | ".join(fields) + " |")
        print("|---|---|" + "---|" * len(fields))
        for r in results:
            for tier in ("easy", "hard"):
                print(f"| {r['label']} | {tier} | " + " | ".join(cell(r[key][(tier, f)]) for f in fields) + " |")
    print("\nTargets (2 cores): <= 300 ms median per frame, <= 1.5 s per 4-frame passage, containers >= 98 % easy and "
          ">= 90 % hard with 0 wrong, plates >= 95 % easy.")


if __name__ == "__main__":
    main()
