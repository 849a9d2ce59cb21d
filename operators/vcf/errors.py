"""The error raised for bad or out-of-range correction input."""

from __future__ import annotations


class VcfError(ValueError):
    """Bad or out-of-range input to a volume correction, with a human message."""
