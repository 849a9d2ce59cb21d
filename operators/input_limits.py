"""Input size limits, checked on the raw bytes before any decoder parses them.

A message larger than a flow can reasonably receive (a JSON event of megabytes, a "JPEG" of gigabytes, an id of
thousands of characters) is rejected before JSON or image decoding spends memory and time on it: the limits bound
what one record can cost. Every limit is configurable (``[limits]`` in the site configuration).

The string checks run on the JSON text without parsing it: a JSON string token is ``"`` up to the next ``"`` not
escaped by a backslash, and outside string tokens valid JSON has no ``"``, so scanning tokens from the start of the
text visits exactly the document's strings (keys and values). Text that is not valid JSON may be scanned
differently; the decoder rejects it afterwards anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Streams whose payload is binary (a camera frame); every other stream carries JSON text.
FRAME_STREAMS = frozenset({"gate.frames", "camera.frames"})

# a JSON string token (key or value); the group is its body
_STRING = re.compile(rb'"((?:[^"\\]|\\.)*)"', re.DOTALL)
# an id-like field and its string value: "..._id": "...", "..._no": "...", "id": "..."
_ID_FIELD = re.compile(rb'"([A-Za-z0-9_]*(?:_id|_no|_number|_ref)|id)"\s*:\s*"((?:[^"\\]|\\.)*)"', re.DOTALL)


@dataclass(frozen=True)
class InputLimits:
    """Largest input a flow accepts.

    Attributes:
        max_message_bytes: Largest JSON event (bytes of its UTF-8 text).
        max_frame_bytes: Largest camera frame (bytes of the JPEG).
        max_id_chars: Longest value of an id field (``*_id``, ``*_no``, ``*_number``, ``*_ref``, ``id``),
            counted in bytes of its JSON text.
        max_string_chars: Longest JSON string of any other field (key or value), in bytes of its JSON text.
    """

    max_message_bytes: int = 1_048_576
    max_frame_bytes: int = 8_388_608
    max_id_chars: int = 128
    max_string_chars: int = 65_536

    def __post_init__(self) -> None:
        if min(self.max_message_bytes, self.max_frame_bytes, self.max_id_chars, self.max_string_chars) < 1:
            raise ValueError("input limits must be positive")


def limit_violation(stream: str, payload: bytes | str, limits: InputLimits) -> str | None:
    """Why a record exceeds the limits (the dead-letter reason), or ``None`` when it is within them.

    Args:
        stream: The record's logical stream (frame streams are binary, the others JSON).
        payload: The record exactly as received.
        limits: The limits in force.

    Returns:
        The reason, or ``None``.
    """
    data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else payload
    if stream in FRAME_STREAMS:
        if len(data) > limits.max_frame_bytes:
            return f"oversize frame: {len(data)} bytes > max_frame_bytes {limits.max_frame_bytes}"
        return None
    if len(data) > limits.max_message_bytes:
        return f"oversize message: {len(data)} bytes > max_message_bytes {limits.max_message_bytes}"
    for m in _ID_FIELD.finditer(data):
        if len(m.group(2)) > limits.max_id_chars:
            name = m.group(1).decode("utf-8", "replace")
            return f"oversize id: {name} has {len(m.group(2))} bytes > max_id_chars {limits.max_id_chars}"
    if len(data) > limits.max_string_chars:
        for m in _STRING.finditer(data):
            if len(m.group(1)) > limits.max_string_chars:
                return (f"oversize string: {len(m.group(1))} bytes at byte {m.start()} > max_string_chars "
                        f"{limits.max_string_chars}")
    return None


def truncated_raw(payload: bytes | str, keep: int = 1024) -> str:
    """The start of an oversize record for its dead letter (the table keeps evidence, not the whole record)."""
    data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else payload
    text = data[:keep].decode("utf-8", "replace")
    return text if len(data) <= keep else f"{text}... [{len(data)} bytes, truncated]"
