"""RapidOCR adapter (default engine): PP-OCR detection and recognition as ONNX models inside the wheel.

Settings from ``shared/research/ocr.md``: no angle classifier, 2 intra-op threads, detector limited to the
longest side given (the reader already downscales). Every call passes ``use_det``/``use_cls``/``use_rec``
explicitly, because RapidOCR 3.10 otherwise keeps the mode of the previous call.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from operators.ocr.engine import EngineUnavailableError, TextBox, quad_to_box


class RapidOcrEngine:
    """RapidOCR 3.x with onnxruntime on the CPU."""

    name = "rapidocr"

    def __init__(self, threads: int = 2, det_max_side: int = 960) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EngineUnavailableError("rapidocr is not installed") from exc
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self._eng: Any = RapidOCR(params={
            "Global.log_level": "error", "Global.use_cls": False,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Det.limit_type": "max", "Det.limit_side_len": det_max_side,
        })

    def detect(self, image: np.ndarray) -> list[TextBox]:
        """Text boxes found by the DB detector."""
        res = self._eng(image, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(res, "boxes", None)
        if boxes is None:
            return []
        scores = list(getattr(res, "scores", None) or [1.0] * len(boxes))
        return [quad_to_box(q, s) for q, s in zip(boxes, scores, strict=False)]

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """One text line per crop (batched through the recogniser)."""
        if not crops:
            return []
        try:
            res = self._eng.recognize_txt(list(crops))
        except Exception:  # RapidOCRError when nothing is recognised
            return [("", 0.0)] * len(crops)
        txts = list(res.txts or ())
        scores = list(res.scores or ())
        return [(unicodedata.normalize("NFKC", str(t)), float(s)) for t, s in zip(txts, scores, strict=False)]
