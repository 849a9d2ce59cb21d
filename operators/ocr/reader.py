"""Reading one gate frame: localise on a downscaled frame, recognise full-resolution crops, apply the rules.

1. The detector runs on the frame downscaled to ``det_max_side`` (or on configured regions of interest).
2. Boxes are mapped back and the crops are cut from the **full-resolution** frame and recognised in one batch.
3. Every line goes through the reading rules: ISO 6346 (mandatory check digit), size/type, plate grammar; the
   chosen plate is read a second time from a differently prepared crop, and agreement marks it confirmed.
4. Second pass, also batched: a line holding owner code + serial but no check digit gets its boxed check digit
   read on its own (the crop right of the line, box erased); a code-like line that failed is read again with
   the check-digit box erased.
5. Dangerous-goods diamond and seal come from the OpenCV detectors in :mod:`operators.ocr.marks`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from operators.iso6346 import (
    ContainerCandidate,
    best_valid,
    check_digit,
    normalise_text,
    owner_serial_prefix,
    read_containers,
)
from operators.lookalike import TO_DIGIT
from operators.ocr.engine import OcrEngine, TextBox
from operators.ocr.marks import Mark, Roi, detect_placard, detect_seal
from operators.plates import PlateCandidate, read_plate
from operators.size_type import SizeType, read_size_type


@dataclass(frozen=True)
class CameraRoles:
    """What each camera can see, by camera id (an empty id, as for ``quaywatch ocr``, can see everything).

    Attributes:
        plate: Cameras that see the tractor's plate (the LPR camera).
        trailer_plate: Cameras that see the trailer's plate (rear).
        seal: Cameras that see the door handles, with the handle region.
        rois: Optional regions of interest per camera for the detector.
    """

    plate: frozenset[str] = frozenset({"lpr", "front"})
    trailer_plate: frozenset[str] = frozenset({"rear"})
    seal: dict[str, Roi] = field(default_factory=lambda: {"rear": (0.50, 0.42, 0.72, 0.62)})
    rois: dict[str, tuple[Roi, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LineRead:
    """One recognised text line."""

    text: str
    confidence: float
    box: TextBox


@dataclass(frozen=True)
class FrameRead:
    """Everything read from one frame.

    Attributes:
        camera_id: Camera that took it.
        plate: Tractor plate (on plate cameras, or any camera when the id is empty).
        trailer_plate: Trailer plate (on trailer-plate cameras).
        containers: Codes whose check digit validates (at most one per line).
        rejected_codes: Code-shaped reads whose check digit fails (never accepted; kept for review).
        size_type: Decoded size/type code.
        size_type_confidence: OCR confidence of that line.
        hazard_placard: Diamond found.
        seal: Seal at the handles; ``None`` when this camera cannot tell.
        lines: Every recognised line, for audit.
        ms: Wall time of the read in milliseconds.
    """

    camera_id: str
    plate: PlateCandidate | None
    trailer_plate: PlateCandidate | None
    containers: tuple[ContainerCandidate, ...]
    rejected_codes: tuple[str, ...]
    size_type: SizeType | None
    size_type_confidence: float
    hazard_placard: Mark
    seal: Mark
    lines: tuple[LineRead, ...]
    ms: float


def remove_check_box(crop: np.ndarray) -> np.ndarray:
    """Paint over hollow rectangles (the box printed around an ISO 6346 check digit) in a line crop.

    An outer contour is the box when it is at least half the line high, roughly square, nearly fills its
    bounding box, holds little ink and has a hole (``shared/research/ocr.md`` appendix C).
    """
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    _t, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([bw[0], bw[-1], bw[:, 0], bw[:, -1]])
    if border.mean() > 127:  # dark ink on a light background: make the ink white
        bw = 255 - bw
    background = float(np.median(gray[bw == 0])) if (bw == 0).any() else 0.0
    contours, hierarchy = cv2.findContours(bw, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    out = crop.copy()
    if hierarchy is None:
        return out
    h = crop.shape[0]
    for i, c in enumerate(contours):
        if hierarchy[0][i][3] != -1 or hierarchy[0][i][2] == -1:
            continue
        _x, _y, cw, ch = cv2.boundingRect(c)
        if ch < 0.5 * h or not 0.45 <= cw / max(ch, 1) <= 1.4 or cv2.contourArea(c) / float(cw * ch) < 0.8:
            continue
        filled = np.zeros_like(bw)
        cv2.drawContours(filled, [c], -1, 255, -1)
        if (bw[filled > 0] > 0).mean() > 0.55:
            continue
        k = max(2, ch // 10)
        ring = cv2.subtract(filled, cv2.erode(filled, np.ones((k, k), np.uint8)))
        ring = cv2.dilate(ring, np.ones((3, 3), np.uint8))
        colour = background if crop.ndim == 2 else [float(v) for v in np.median(crop[bw == 0], axis=0)]
        out[ring > 0] = colour
    return out


def box_interior(crop: np.ndarray) -> np.ndarray | None:
    """The inside of the check-digit box in a crop, padded with the inside's border colour; ``None`` if no box.

    Both polarities are tried (light box on a dark door and vice versa); the box is the largest roughly
    square contour at least half the crop high that has a hole.
    """
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    h = gray.shape[0]
    best: tuple[int, int, int, int] | None = None
    for inv in (False, True):
        _t, bw = cv2.threshold(gray, 0, 255, (cv2.THRESH_BINARY_INV if inv else cv2.THRESH_BINARY) + cv2.THRESH_OTSU)
        contours, hierarchy = cv2.findContours(bw, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        if hierarchy is None:
            continue
        for i, c in enumerate(contours):
            if hierarchy[0][i][2] == -1:
                continue
            x, y, cw, ch = cv2.boundingRect(c)
            if ch < 0.45 * h or ch > 0.98 * h or not 0.5 <= cw / max(ch, 1) <= 1.3:
                continue
            if best is None or cw * ch > best[2] * best[3]:
                best = (x, y, cw, ch)
    if best is None:
        return None
    x, y, cw, ch = best
    k = max(2, round(ch * 0.12))
    inner = crop[y + k : y + ch - k, x + k : x + cw - k]
    if inner.size == 0:
        return None
    edge = np.concatenate([inner[0], inner[-1]]).reshape(-1, *inner.shape[2:])
    colour = [int(v) for v in np.median(edge, axis=0).reshape(-1)]
    pad = max(4, ch // 3)
    padded: np.ndarray = cv2.copyMakeBorder(inner, pad, pad, pad, pad, cv2.BORDER_CONSTANT,
                                            value=colour if len(colour) > 1 else colour[0])
    return padded


def _crop(image: np.ndarray, box: TextBox, pad_x: float = 0.15, pad_y: float = 0.2) -> np.ndarray:
    h, w = image.shape[:2]
    px, py = round(box.height * pad_x), round(box.height * pad_y)
    return image[max(0, box.y0 - py) : min(h, box.y1 + py), max(0, box.x0 - px) : min(w, box.x1 + px)]


def _detect(engine: OcrEngine, image: np.ndarray, det_max_side: int, rois: Sequence[Roi]) -> list[TextBox]:
    h, w = image.shape[:2]
    regions = [(round(r[0] * w), round(r[1] * h), round(r[2] * w), round(r[3] * h)) for r in rois] or [(0, 0, w, h)]
    boxes: list[TextBox] = []
    for x0, y0, x1, y1 in regions:
        part = image[y0:y1, x0:x1]
        ph, pw = part.shape[:2]
        scale = min(1.0, det_max_side / max(ph, pw))
        small = cv2.resize(part, (round(pw * scale), round(ph * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1 else part
        for b in engine.detect(small):
            fb = b.scaled(1 / scale)
            boxes.append(TextBox(max(0, fb.x0 + x0), max(0, fb.y0 + y0), min(w, fb.x1 + x0), min(h, fb.y1 + y0),
                                 b.score))
    return [b for b in boxes if b.height >= 8 and b.x1 - b.x0 >= 8]


def plate_variant(crop: np.ndarray) -> np.ndarray:
    """The plate crop prepared differently for a confirming read: contrast-equalised grey, enlarged 1.5x."""
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    eq = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(gray)
    big = cv2.resize(eq, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
    out: np.ndarray = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)
    return out


def _code_like(text: str) -> bool:
    """Looks like owner code + serial: mostly letters in the first 4 characters, mostly digits in the next 6."""
    t = re.sub(r"[^0-9A-Z]", "", normalise_text(text))
    return len(t) >= 10 and sum(c.isalpha() for c in t[:4]) >= 3 and sum(c.isdigit() for c in t[4:10]) >= 5


def read_frame(engine: OcrEngine, image: np.ndarray, camera_id: str = "", roles: CameraRoles | None = None,
               det_max_side: int = 640) -> FrameRead:
    """Read plates, container codes, size/type, placard and seal from one BGR frame.

    Args:
        engine: OCR engine.
        image: Full-resolution BGR frame.
        camera_id: Camera id (decides which fields this camera can see; empty = all).
        roles: Camera roles; the defaults match the synthetic lane (``lpr``, ``rear``, ``left``, ``right``).
        det_max_side: Longest side of the image the detector sees.

    Returns:
        The frame's reads.
    """
    t0 = time.perf_counter()
    roles = roles or CameraRoles()
    boxes = _detect(engine, image, det_max_side, roles.rois.get(camera_id, ()))
    texts = engine.recognize([_crop(image, b) for b in boxes])
    lines = [LineRead(normalise_text(t), c, b) for (t, c), b in zip(texts, boxes, strict=True)]

    containers: dict[str, ContainerCandidate] = {}
    rejected: set[str] = set()
    retry: list[tuple[str, LineRead, np.ndarray]] = []
    for i, ln in enumerate(lines):
        joined = ln.text
        if re.fullmatch(r"[A-Z]{3}[UJZ]", ln.text.strip()) and i + 1 < len(lines):  # lone owner-code line
            joined = f"{ln.text} {lines[i + 1].text}"
        cand = best_valid(joined, ln.confidence)
        if cand is not None:
            containers.setdefault(cand.code, cand)
            continue
        rejected.update(c.code for c in read_containers(joined, ln.confidence) if not c.check_digit_ok)
        prefix = owner_serial_prefix(ln.text)
        if prefix is not None:
            b = ln.box
            right = TextBox(b.x1, b.y0, min(image.shape[1], b.x1 + round(1.6 * b.height)), b.y1)
            near = _crop(image, right, 0.1, 0.25)
            inner = box_interior(near)
            retry.append((prefix, ln, inner if inner is not None else remove_check_box(near)))
        elif _code_like(ln.text):
            # the line ran into the check-digit box ("GESU 602197 BJ"): read the box at its right end alone
            head = owner_serial_prefix(" ".join(ln.text.split()[:2]))
            b = ln.box
            inner = box_interior(_crop(image, TextBox(max(b.x0, b.x1 - round(1.8 * b.height)), b.y0, b.x1, b.y1),
                                       0.1, 0.25)) if head else None
            if head and inner is not None:
                retry.append((head, ln, inner))
            retry.append(("", ln, remove_check_box(_crop(image, ln.box))))
    if retry:
        for (prefix, ln, _crop_img), (text, conf) in zip(retry, engine.recognize([r[2] for r in retry]), strict=True):
            t = normalise_text(text)
            if prefix:
                digit = "".join(TO_DIGIT.get(ch, ch) for ch in re.sub(r"[^0-9A-Z]", "", t))
                if len(digit) == 1 and digit.isdigit() and check_digit(prefix) == int(digit):
                    containers.setdefault(prefix + digit, ContainerCandidate(prefix + digit, 0, True,
                                                                             min(conf, ln.confidence)))
                continue
            cand = best_valid(t, conf)
            if cand is not None:
                containers.setdefault(cand.code, cand)
    rejected -= set(containers)

    size_types: dict[str, tuple[SizeType, float]] = {}
    for ln in lines:
        st = read_size_type(ln.text)
        if st is not None:
            size_types.setdefault(st.code, (st, ln.confidence))
    size_type, st_conf = next(iter(size_types.values())) if len(size_types) == 1 else (None, 0.0)

    plate = trailer = None
    sees_plate = camera_id == "" or camera_id in roles.plate
    sees_trailer = camera_id in roles.trailer_plate
    if sees_plate or sees_trailer:
        found = [(p, ln) for ln in lines if not _code_like(ln.text) and (p := read_plate(ln.text, ln.confidence))]
        if found:
            found.sort(key=lambda pl: (pl[0].substitutions, -pl[0].confidence))
            best, best_line = found[0]
            crop = _crop(image, best_line.box, 0.1, 0.15)
            if all(p.plate == best.plate for p, _ln in found if p.substitutions == best.substitutions) and crop.size:
                # a second read of the plate from a differently prepared crop: agreement confirms it
                ((text2, conf2),) = engine.recognize([plate_variant(crop)])
                again = read_plate(text2, conf2)
                best = replace(best, confirmed=again is not None and again.plate == best.plate)
                plate, trailer = (best, None) if sees_plate else (None, best)

    seal_roi = roles.seal.get(camera_id) if camera_id else None
    seal = detect_seal(image, seal_roi) if seal_roi else Mark(None, 0.0)
    return FrameRead(camera_id, plate, trailer, tuple(containers.values()), tuple(sorted(rejected)), size_type,
                     st_conf, detect_placard(image), seal, tuple(lines), (time.perf_counter() - t0) * 1000.0)


def frame_json(read: FrameRead, image: str = "") -> dict[str, object]:
    """The ``quaywatch ocr`` JSON object of a frame read."""
    st = read.size_type.code if read.size_type else None
    containers: list[dict[str, object]] = [{"number": c.code, "check_digit_ok": True, "size_type": st}
                                           for c in read.containers]
    containers += [{"number": code, "check_digit_ok": False, "size_type": None} for code in read.rejected_codes]
    conf: dict[str, float | None] = {
        "plate": round(read.plate.confidence * 0.8 ** read.plate.substitutions, 3) if read.plate else None,
        "containers": round(min(c.confidence for c in read.containers), 3) if read.containers else None,
        "size_type": round(read.size_type_confidence, 3) if st else None,
        "hazard_placard": read.hazard_placard.confidence,
        "seal": read.seal.confidence if read.seal.present is not None else None,
    }
    out: dict[str, object] = {"image": image, "camera_id": read.camera_id or None,
                              "plate": read.plate.plate if read.plate else None}
    if read.trailer_plate is not None:
        out["trailer_plate"] = read.trailer_plate.plate
        conf["trailer_plate"] = round(read.trailer_plate.confidence * 0.8 ** read.trailer_plate.substitutions, 3)
    out.update(containers=containers, size_type=st, hazard_placard=bool(read.hazard_placard.present),
               seal=read.seal.present, confidence=conf, ms=round(read.ms, 1))
    return out
