"""Seeded synthetic gate scenes with ground truth: trucks with containers seen by the gate cameras.

Checkpoint 1 (the OCR portal) has cameras ``left``, ``right`` and ``rear`` (and optionally ``top``); checkpoint 2
has the LPR camera ``lpr``. Each passage is one truck: a plate, a trailer plate, one container (code with its
ISO 6346 check digit in a box, size/type code), optionally a dangerous-goods diamond and a seal at the door
handles. Two tiers: ``easy`` (daylight, mild perspective, little noise) and ``hard`` (perspective, blur,
night, glare, dirt, heavy JPEG compression).

Fonts: Source Sans Pro (shipped by the ``font-source-sans-pro`` wheel), DejaVu Sans when the system has it,
and Pillow's built-in font, so a fresh machine needs no Debian font package. The same seed gives the same
images byte for byte.

:func:`write_replay` writes a replay directory: ``gate.frames/`` with the JPEG files, ``frames.jsonl`` (the
camera-frame contract) and ``truth.jsonl`` (one line per passage, for tests and the bench).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from operators.events import iso_ms
from operators.iso6346 import check_digit
from operators.plates import LAYOUTS, PLATE_LETTERS

TIERS = ("easy", "hard")
#: (camera_id, checkpoint) of a default lane: three portal cameras and the LPR camera.
DEFAULT_CAMERAS: tuple[tuple[str, int], ...] = (("left", 1), ("right", 1), ("rear", 1), ("lpr", 2))
SIZE_TYPES = ("22G1", "42G1", "45G1", "L5G1", "45R1", "22T6")
OWNERS = ("CSQ", "MSC", "TGH", "HLX", "MAE", "CMA", "OOL", "TCN", "SEG", "FSC", "DFS", "BMO", "GES", "TRH")
CONTAINER_COLOURS = ((40, 60, 150), (30, 110, 40), (140, 90, 30), (150, 150, 150), (40, 40, 170),
                     (120, 60, 20), (200, 200, 200), (30, 80, 160))  # BGR
SEAL_ROI = (0.50, 0.42, 0.72, 0.62)  # rear camera: where the door handles are (fractions of the frame)
PLACARD_CLASSES = ("3", "2", "8", "9", "6")


@dataclass(frozen=True)
class PassageTruth:
    """Ground truth of one generated passage."""

    passage_id: str
    lane_id: str
    tier: str
    plate: str
    trailer_plate: str
    container: str
    size_type: str
    hazard_placard: bool
    seal: bool
    cameras: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SceneFrame:
    """One generated camera frame: JPEG bytes, camera and the fields it shows."""

    camera_id: str
    checkpoint: int
    jpeg: bytes
    visible: frozenset[str]


@cache
def font_files() -> tuple[str, ...]:
    """TTF files the generator draws with (only those present)."""
    files: list[str] = []
    try:
        import font_source_sans_pro as fssp

        base = Path(fssp.font_directory)
        files += [str(base / f"SourceSansPro-{w}.ttf") for w in ("Bold", "Semibold", "Black")]
    except ImportError:  # pragma: no cover - the wheel is a dependency
        pass
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"):
        if Path(p).exists():
            files.append(p)
    return tuple(f for f in files if Path(f).exists())


def _font(index: int, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    files = font_files()
    if not files or index >= len(files):
        return ImageFont.load_default(size)
    return ImageFont.truetype(files[index], size)


def random_container(rng: np.random.Generator) -> str:
    """A valid ISO 6346 code (owner, ``U``, serial, check digit)."""
    owner = str(rng.choice(OWNERS)) + "U"
    serial = "".join(str(d) for d in rng.integers(0, 10, 6))
    return f"{owner}{serial}{check_digit(owner + serial)}"


def random_plate(rng: np.random.Generator) -> str:
    """A grammatical Turkish plate in normalised form."""
    letters = sorted(PLATE_LETTERS)
    n_l, n_d = LAYOUTS[int(rng.integers(0, len(LAYOUTS)))]
    province = int(rng.integers(1, 82))
    lets = "".join(str(rng.choice(letters)) for _ in range(n_l))
    digs = str(int(rng.integers(1, 10))) + "".join(str(d) for d in rng.integers(0, 10, n_d - 1))
    return f"{province:02d} {lets} {digs}"


def random_truth(rng: np.random.Generator, passage_id: str, lane_id: str, tier: str,
                 cameras: Sequence[tuple[str, int]] = DEFAULT_CAMERAS) -> PassageTruth:
    """Random ground truth for one passage."""
    return PassageTruth(
        passage_id=passage_id, lane_id=lane_id, tier=tier, plate=random_plate(rng),
        trailer_plate=random_plate(rng), container=random_container(rng),
        size_type=str(rng.choice(SIZE_TYPES)), hazard_placard=bool(rng.random() < 0.5),
        seal=bool(rng.random() < 0.6), cameras=tuple(c for c, _ in cameras))


# ---------------------------------------------------------------- drawing


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    sky = np.linspace(200, 150, h // 2, dtype=np.float32)
    img[: h // 2] = np.stack([sky + 20, sky, sky - 30], axis=1)[:, None, :].clip(0, 255).astype(np.uint8)
    img[h // 2 :] = (70, 72, 75)
    for x in (int(w * 0.04), int(w * 0.96)):  # gate poles
        cv2.rectangle(img, (x - w // 120, 0), (x + w // 120, h), (30, 160, 200), -1)
    noise = rng.normal(0, 4, img.shape).astype(np.int16)
    out: np.ndarray = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return out


def _text(img: np.ndarray, xy: tuple[int, int], text: str, size: int, font: int, colour: tuple[int, int, int],
          box_last: bool = False) -> tuple[int, int, int, int]:
    """Draw text (BGR colour) with Pillow; optionally a box around the last character. Returns its bbox."""
    pil = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    d = ImageDraw.Draw(pil)
    f = _font(font, size)
    rgb = (colour[2], colour[1], colour[0])
    x, y = xy
    if box_last:
        head, last = text[:-1], text[-1]
        d.text((x, y), head, font=f, fill=rgb)
        bx = x + int(d.textlength(head + " ", font=f))
        d.text((bx, y), last, font=f, fill=rgb)
        lb = d.textbbox((bx, y), last, font=f)
        pad = max(2, size // 8)
        d.rectangle((lb[0] - pad, lb[1] - pad, lb[2] + pad, lb[3] + pad), outline=rgb, width=max(2, size // 14))
        bbox = (x, y, int(lb[2]) + pad, int(lb[3]) + pad)
    else:
        d.text((x, y), text, font=f, fill=rgb)
        b = d.textbbox((x, y), text, font=f)
        bbox = (int(b[0]), int(b[1]), int(b[2]), int(b[3]))
    img[:] = cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)
    return bbox


def _corrugated(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
    cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
    step = max(6, (x1 - x0) // 60)
    dark = tuple(max(0, c - 25) for c in colour)
    for x in range(x0, x1, step):
        cv2.line(img, (x, y0), (x, y1), dark, max(1, step // 4))
    cv2.rectangle(img, (x0, y0), (x1, y1), tuple(max(0, c - 50) for c in colour), max(3, step // 2))


def _placard(img: np.ndarray, cx: int, cy: int, size: int, cls: str, font: int) -> None:
    half = size // 2
    pts = np.array([[cx, cy - half], [cx + half, cy], [cx, cy + half], [cx - half, cy]], np.int32)
    colour = {"3": (30, 30, 220), "2": (60, 160, 60), "8": (250, 250, 250), "9": (250, 250, 250),
              "6": (250, 250, 250)}[cls]
    cv2.fillConvexPoly(img, pts, colour)
    if cls == "8":
        cv2.fillConvexPoly(img, np.array([[cx - half, cy], [cx + half, cy], [cx, cy + half]], np.int32), (20, 20, 20))
    cv2.polylines(img, [pts], True, (20, 20, 20), max(2, size // 25))
    inner = (pts - [cx, cy]) * 0.88 + [cx, cy]
    cv2.polylines(img, [inner.astype(np.int32)], True, (20, 20, 20), max(1, size // 50))
    _text(img, (cx - size // 12, cy + size // 8), cls, size // 5, font, (20, 20, 20))


def _placard_class(t: PassageTruth) -> str:
    return PLACARD_CLASSES[sum(map(ord, t.passage_id)) % len(PLACARD_CLASSES)]


def _plate(img: np.ndarray, cx: int, cy: int, width: int, plate: str, font: int) -> None:
    h = width * 11 // 52  # Turkish plate: 520 x 110 mm
    x0, y0 = cx - width // 2, cy - h // 2
    cv2.rectangle(img, (x0, y0), (x0 + width, y0 + h), (245, 245, 245), -1)
    band = width // 12
    cv2.rectangle(img, (x0, y0), (x0 + band, y0 + h), (160, 60, 20), -1)
    _text(img, (x0 + band // 6, y0 + h // 2), "TR", max(8, h // 3), 0, (240, 240, 240))
    cv2.rectangle(img, (x0, y0), (x0 + width, y0 + h), (20, 20, 20), max(2, h // 25))
    size = int(h * 0.72)
    f = _font(font, size)
    tw = ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(plate, font=f)
    _text(img, (int(x0 + band + (width - band - tw) / 2), y0 + (h - size) // 2 - size // 10), plate, size, font,
          (15, 15, 15))


def _wheels(img: np.ndarray, y: int, xs: Sequence[int], r: int) -> None:
    for x in xs:
        cv2.circle(img, (x, y), r, (25, 25, 25), -1)
        cv2.circle(img, (x, y), r // 2, (120, 120, 120), -1)


def _code_block(img: np.ndarray, x: int, y: int, t: PassageTruth, size: int, font: int,
                colour: tuple[int, int, int]) -> None:
    ink = (20, 20, 20) if sum(colour) > 450 else (245, 245, 245)
    code = t.container
    _text(img, (x, y), f"{code[:4]} {code[4:10]} {code[10]}", size, font, ink, box_last=True)
    _text(img, (x + size * 3, y + int(size * 1.35)), t.size_type, size, font, ink)


def _side(img: np.ndarray, t: PassageTruth, rng: np.random.Generator, font: int, colour: tuple[int, int, int],
          mirror: bool) -> None:
    h, w = img.shape[:2]
    length = 0.48 if t.size_type.startswith("2") else 0.82
    x0 = int(w * (0.10 + rng.uniform(-0.02, 0.02)))
    x1 = x0 + int(w * length)
    y0, y1 = int(h * 0.22), int(h * 0.64)
    _corrugated(img, x0, y0, x1, y1, colour)
    cab_x = x1 + int(w * 0.02)
    cv2.rectangle(img, (cab_x, int(h * 0.36)), (min(w - 1, cab_x + int(w * 0.12)), int(h * 0.70)), (40, 40, 160), -1)
    cv2.rectangle(img, (x0, int(h * 0.64)), (x1 + int(w * 0.02), int(h * 0.68)), (30, 30, 30), -1)
    r = int(h * 0.05)
    _wheels(img, int(h * 0.72), [x0 + 2 * r, x0 + 5 * r, x1 - 2 * r, cab_x + int(w * 0.08)], r)
    if mirror:  # the right camera sees the other side: cab on the left
        img[:] = img[:, ::-1].copy()
        x0, x1 = w - x1, w - x0
    size = int(h * 0.036)
    _code_block(img, x1 - size * 10, y0 + size, t, size, font, colour)
    if t.hazard_placard:
        _placard(img, (x0 + x1) // 2, int(h * 0.47), int(h * 0.11), _placard_class(t), font)


def _rear(img: np.ndarray, t: PassageTruth, rng: np.random.Generator, font: int,
          colour: tuple[int, int, int]) -> None:
    h, w = img.shape[:2]
    dx = int(w * rng.uniform(-0.02, 0.02))
    x0, x1 = int(w * 0.28) + dx, int(w * 0.74) + dx
    y0, y1 = int(h * 0.12), int(h * 0.72)
    _corrugated(img, x0, y0, x1, y1, colour)
    mid = (x0 + x1) // 2
    cv2.line(img, (mid, y0), (mid, y1), tuple(max(0, c - 60) for c in colour), max(2, w // 400))
    for k in range(4):  # locking bars
        bx = x0 + (x1 - x0) * (2 * k + 1) // 8
        cv2.line(img, (bx, y0 + 10), (bx, y1 - 10), (90, 90, 90), max(3, w // 300))
    hy = int(h * 0.52)
    for k in range(4):  # handles
        bx = x0 + (x1 - x0) * (2 * k + 1) // 8
        cv2.rectangle(img, (bx - w // 200, hy - h // 80), (bx + w // 60, hy + h // 80), (70, 70, 70), -1)
    if t.seal:
        sx = x0 + (x1 - x0) * 5 // 8 + w // 120
        seal_colour = ((0, 200, 255), (0, 220, 0), (0, 140, 255), (0, 0, 230))[int(rng.integers(0, 4))]
        cv2.rectangle(img, (sx, hy - h // 90), (sx + w // 110, hy + h // 35), seal_colour, -1)
        cv2.circle(img, (sx + w // 220, hy + h // 35), max(3, w // 260), seal_colour, -1)
    size = int(h * 0.036)
    _code_block(img, x1 - size * 10, y0 + size // 2, t, size, font, colour)
    if t.hazard_placard:
        _placard(img, x0 + (x1 - x0) // 4, int(h * 0.33), int(h * 0.11), _placard_class(t), font)
    cv2.rectangle(img, (x0 - w // 40, y1), (x1 + w // 40, y1 + h // 30), (35, 35, 35), -1)  # bumper
    _plate(img, mid, int(h * 0.83), int(w * 0.15), t.trailer_plate, font)


def _front(img: np.ndarray, t: PassageTruth, rng: np.random.Generator, font: int) -> None:
    h, w = img.shape[:2]
    dx = int(w * rng.uniform(-0.03, 0.03))
    x0, x1 = int(w * 0.25) + dx, int(w * 0.75) + dx
    cab = tuple(int(c) for c in rng.integers(30, 220, 3))
    cv2.rectangle(img, (x0, int(h * 0.10)), (x1, int(h * 0.90)), cab, -1)
    cv2.rectangle(img, (x0 + w // 40, int(h * 0.16)), (x1 - w // 40, int(h * 0.45)), (90, 70, 50), -1)
    for k in range(6):  # grille
        y = int(h * (0.52 + 0.03 * k))
        cv2.line(img, (x0 + w // 10, y), (x1 - w // 10, y), (40, 40, 40), max(2, h // 200))
    _plate(img, (x0 + x1) // 2, int(h * 0.80), int(w * 0.22), t.plate, font)


# ---------------------------------------------------------------- degradations


def _perspective(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    jitter = rng.uniform(-amount, amount, (4, 2)) * [w, h]
    dst = (src + jitter).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    out: np.ndarray = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return out


def _degrade(img: np.ndarray, tier: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    h, w = img.shape[:2]
    if tier == "easy":
        img = _perspective(img, rng, 0.01)
        noise = rng.normal(0, 3, img.shape)
        out = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        return out, int(rng.integers(85, 96))
    img = _perspective(img, rng, 0.035)
    f = img.astype(np.float32)
    if rng.random() < 0.4:  # night: dark, with sodium-lamp tint
        f = f * rng.uniform(0.30, 0.5) * np.array([0.8, 0.95, 1.1], np.float32)
    if rng.random() < 0.35:  # glare
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(mask, (int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.1, 0.5) * h)),
                    (int(w * 0.12), int(h * 0.08)), float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), w / 40)
        f = f + mask[:, :, None] * 120
    if rng.random() < 0.5:  # dirt
        for _ in range(int(rng.integers(5, 20))):
            c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            cv2.circle(f, c, int(rng.uniform(3, w / 120)), (50, 55, 60), -1)
    sigma = float(rng.uniform(0.6, 1.6))
    f = cv2.GaussianBlur(f, (0, 0), sigma)
    f = f + rng.normal(0, rng.uniform(4, 10), f.shape)
    return np.clip(f, 0, 255).astype(np.uint8), int(rng.integers(35, 60))


def render_frame(t: PassageTruth, camera_id: str, rng: np.random.Generator, width: int = 1920) -> np.ndarray:
    """Draw one camera's view of the passage (before degradation); BGR image ``width`` x ``width*9/16``."""
    h = width * 9 // 16
    img = _background(h, width, rng)
    font = int(rng.integers(0, max(1, len(font_files()))))
    colour = CONTAINER_COLOURS[sum(map(ord, t.container)) % len(CONTAINER_COLOURS)]  # one colour per container
    if camera_id == "lpr":
        _front(img, t, rng, font)
    elif camera_id == "rear":
        _rear(img, t, rng, font, colour)
    elif camera_id == "top":
        _corrugated(img, int(width * 0.1), int(h * 0.3), int(width * 0.9), int(h * 0.7), colour)
        _code_block(img, int(width * 0.6), int(h * 0.35), t, int(h * 0.036), font, colour)
    else:
        _side(img, t, rng, font, colour, mirror=camera_id == "right")
    return img


VISIBLE = {"lpr": frozenset({"plate"}),
           "rear": frozenset({"container", "size_type", "trailer_plate", "seal", "hazard_placard"}),
           "left": frozenset({"container", "size_type", "hazard_placard"}),
           "right": frozenset({"container", "size_type", "hazard_placard"}),
           "top": frozenset({"container", "size_type"})}


def passage_frames(t: PassageTruth, rng: np.random.Generator, width: int = 1920,
                   cameras: Sequence[tuple[str, int]] = DEFAULT_CAMERAS) -> list[SceneFrame]:
    """The degraded JPEG frames of a passage, one per camera."""
    frames = []
    for cam, checkpoint in cameras:
        img, quality = _degrade(render_frame(t, cam, rng, width), t.tier, rng)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:  # pragma: no cover
            raise RuntimeError("JPEG encoding failed")
        frames.append(SceneFrame(cam, checkpoint, buf.tobytes(), VISIBLE.get(cam, frozenset())))
    return frames


def write_replay(out: Path, passages: int, seed: int = 7, tiers: Sequence[str] = TIERS, width: int = 1920,
                 start: datetime | None = None, gate_id: str = "G1", lanes: Sequence[str] = ("L1",),
                 with_passage_id: bool = True, cameras: Sequence[tuple[str, int]] = DEFAULT_CAMERAS,
                 ) -> list[PassageTruth]:
    """Write a replay directory with ``gate.frames/`` (JPEGs, ``frames.jsonl``) and ``truth.jsonl``.

    Args:
        out: Replay directory (created).
        passages: Number of passages, alternating over tiers and lanes.
        seed: Random seed; the same seed gives the same bytes.
        tiers: Tiers to cycle through.
        width: Frame width in pixels (height = 9/16 of it).
        start: Event time of the first frame (default 2026-03-02T08:00Z).
        gate_id: Gate id in the metadata.
        lanes: Lanes to cycle through.
        with_passage_id: Write ``passage_id`` (the loop-detector trigger); without it the flow groups by gap.
        cameras: ``(camera_id, checkpoint)`` per frame of a passage.

    Returns:
        The ground truth per passage.
    """
    rng = np.random.default_rng(seed)
    frames_dir = out / "gate.frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    t0 = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    truths: list[PassageTruth] = []
    lines: list[str] = []
    for i in range(passages):
        lane = lanes[i % len(lanes)]
        truth = random_truth(rng, f"{gate_id}-{lane}-{i:05d}", lane, tiers[i % len(tiers)], cameras)
        truths.append(truth)
        ts0 = t0 + timedelta(seconds=90 * (i // len(lanes)))
        for k, fr in enumerate(passage_frames(truth, rng, width, cameras)):
            name = f"{truth.passage_id}-{fr.camera_id}.jpg"
            (frames_dir / name).write_bytes(fr.jpeg)
            meta = {"file": name, "gate_id": gate_id, "lane_id": lane, "checkpoint": fr.checkpoint,
                    "camera_id": fr.camera_id, "ts": iso_ms(ts0 + timedelta(milliseconds=700 * k))}
            if with_passage_id:
                meta["passage_id"] = truth.passage_id
            lines.append(json.dumps(meta))
    lines.sort(key=lambda s: json.loads(s)["ts"])
    (frames_dir / "frames.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "truth.jsonl").write_text("".join(json.dumps(asdict(t)) + "\n" for t in truths), encoding="utf-8")
    return truths

