"""The OCR engine interface: detect text boxes on an image, recognise text on crops.

The rest of the pipeline (and the unit tests, with a fake engine) only sees this interface, so the
default RapidOCR engine and the EasyOCR alternative are interchangeable by configuration. No engine may
download anything: weights come from installed packages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

ENGINES = ("rapidocr", "easyocr")


class EngineUnavailableError(RuntimeError):
    """The selected engine's package or weights are not installed."""


@dataclass(frozen=True, slots=True)
class TextBox:
    """An axis-aligned text box in image pixels with the detector's score."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float = 1.0

    @property
    def height(self) -> int:
        """Box height in pixels."""
        return self.y1 - self.y0

    def scaled(self, factor: float) -> TextBox:
        """The box in an image ``factor`` times as large."""
        return TextBox(round(self.x0 * factor), round(self.y0 * factor), round(self.x1 * factor),
                       round(self.y1 * factor), self.score)


class OcrEngine(Protocol):
    """What the frame reader needs from an OCR engine."""

    name: str

    def detect(self, image: np.ndarray) -> list[TextBox]:
        """Text boxes on a BGR image (the caller downscales it first)."""
        ...

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Text and confidence 0..1 of each BGR crop holding one line of text."""
        ...


def quad_to_box(quad: np.ndarray | Sequence[Sequence[float]], score: float = 1.0) -> TextBox:
    """Axis-aligned box around a detector quadrilateral (4 points)."""
    pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    return TextBox(int(np.floor(pts[:, 0].min())), int(np.floor(pts[:, 1].min())), int(np.ceil(pts[:, 0].max())),
                   int(np.ceil(pts[:, 1].max())), float(score))


def make_engine(name: str, threads: int = 2) -> OcrEngine:
    """The engine of that name.

    Args:
        name: ``rapidocr`` (default, ONNX models inside the wheel) or ``easyocr`` (needs the ``easyocr`` extra).
        threads: CPU threads the engine may use.

    Raises:
        ValueError: For an unknown name.
        EngineUnavailableError: When the engine's packages are not installed.
    """
    if name == "rapidocr":
        from operators.ocr.rapidocr_engine import RapidOcrEngine

        return RapidOcrEngine(threads)
    if name == "easyocr":
        from operators.ocr.easyocr_engine import EasyOcrEngine

        return EasyOcrEngine(threads)
    raise ValueError(f"unknown OCR engine {name!r}; available: {', '.join(ENGINES)}")
