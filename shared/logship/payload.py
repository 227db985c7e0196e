"""Decode a CloudWatch Logs subscription event (base64 of gzip of JSON) into a typed batch, once."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Any


class PayloadError(ValueError):
    """The event is not a CloudWatch Logs subscription payload; the message says what was wrong."""


@dataclass(frozen=True, slots=True)
class LogEvent:
    id: str
    timestamp: int
    message: str


@dataclass(frozen=True, slots=True)
class LogBatch:
    """One subscription delivery: events of a single log group and stream."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    events: tuple[LogEvent, ...]

    @property
    def is_control(self) -> bool:
        """CloudWatch Logs' health checks: acknowledge, index nothing."""
        return self.message_type == "CONTROL_MESSAGE"


def _preview(data: bytes) -> str:
    return data[:8].hex()


def decode_data(data: Any) -> dict[str, Any]:
    """Turn ``awslogs.data`` into the decoded JSON object, with an error that says which layer failed."""
    if not isinstance(data, str) or not data:
        raise PayloadError(f"awslogs.data must be a non-empty base64 string, got {type(data).__name__}")
    try:
        compressed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError(f"awslogs.data is not base64 ({exc}); CloudWatch Logs sends base64 of gzip") from None
    try:
        raw = gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as exc:
        raise PayloadError(
            f"awslogs.data is not gzip (first bytes {_preview(compressed)}: {exc}); was it already decoded?"
        ) from None
    try:
        decoded = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"awslogs.data is gzip but not JSON ({exc}); first bytes {_preview(raw)}") from None
    if not isinstance(decoded, dict):
        raise PayloadError(f"decoded awslogs.data is a JSON {type(decoded).__name__}, expected an object")
    return decoded


def _events(raw_events: Any) -> tuple[LogEvent, ...]:
    if not isinstance(raw_events, list):
        raise PayloadError("logEvents must be a list")
    events = []
    for position, item in enumerate(raw_events):
        try:
            events.append(LogEvent(str(item["id"]), int(item["timestamp"]), str(item["message"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"logEvents[{position}] lacks a valid id, timestamp or message ({exc!r})") from None
    return tuple(events)


def parse_batch(event: Any) -> LogBatch:
    """Read a Lambda event ``{"awslogs": {"data": ...}}`` into a :class:`LogBatch`.

    >>> parse_batch({"awslogs": {"data": encoded}}).log_group   # doctest: +SKIP
    '/aws/lambda/orders'
    """
    if not isinstance(event, dict) or not isinstance(event.get("awslogs"), dict):
        keys = sorted(event) if isinstance(event, dict) else type(event).__name__
        raise PayloadError(f"not a CloudWatch Logs subscription event: expected key 'awslogs', got {keys}")
    decoded = decode_data(event["awslogs"].get("data"))
    message_type = decoded.get("messageType")
    if message_type not in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
        raise PayloadError(f"messageType {message_type!r} is neither DATA_MESSAGE nor CONTROL_MESSAGE")
    if message_type == "DATA_MESSAGE":
        missing = [key for key in ("owner", "logGroup", "logStream", "logEvents") if key not in decoded]
        if missing:
            raise PayloadError(f"DATA_MESSAGE lacks {', '.join(missing)}")
    return LogBatch(
        message_type=message_type,
        owner=str(decoded.get("owner", "")),
        log_group=str(decoded.get("logGroup", "")),
        log_stream=str(decoded.get("logStream", "")),
        events=_events(decoded.get("logEvents", [])),
    )
