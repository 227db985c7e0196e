"""Decode a CloudWatch Logs subscription event (base64 of gzip of JSON) into a typed batch, once.

Only an unreadable envelope fails the batch (:class:`PayloadError`). An event that cannot be indexed as it
is (no usable id, a timestamp no date can hold, no text) is set aside as a :class:`RejectedEvent` with the
reason and its position, so the rest of the batch ships and the event is kept in the failed index.

The usual delivery (every event a short ASCII id, whole milliseconds and text, no id twice) is read by
orjson into three columns. Anything else is read exactly as before, by the stdlib, event by event. A large
delivery is read in slices, twice: once to check it is the usual kind, once while its documents are sent,
so the objects of all its events never exist at once (see :class:`Delivery`).

A filter put with ``emitSystemFields`` (CloudWatch Logs centralization) gives each event ``extractedFields``
naming the account and region it was logged in: read into the delivery's :class:`Origin` (the first event's)
and, for each event naming another, its own. Only a delivery whose bytes hold the key pays for it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import math
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from logship.core.members import delivery_region


class PayloadError(ValueError):
    """The event is not a CloudWatch Logs subscription payload; the message says what was wrong."""


# OpenSearch and Elasticsearch refuse a longer _id, and with it the whole bulk request.
MAX_ID_BYTES = 512
# The times an event may have: 2000-01-01 .. 2999-12-31T23:59:59.999Z. CloudWatch Logs takes events at most 14
# days old and 2 hours ahead, so every real event is well inside, and every daily index a document is written to
# is <prefix>-2xxx.xx.xx, which the stack's index pattern <prefix>-2* (and nothing of another stack's) matches.
MIN_TIMESTAMP_MS = 946_684_800_000
MAX_TIMESTAMP_MS = 32_503_679_999_999
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, as surrogateescape keeps them
_STREAM_DAY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/")
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class LogEvent:
    id: str
    timestamp: int
    message: str


class Origin(NamedTuple):
    """Where an event was logged, as its ``extractedFields`` name it (``@aws.account``, ``@aws.region``): "" for
    what they do not give (then the envelope's owner, the filter name's region or the shipper's own stand)."""

    account: str = ""
    region: str = ""


NO_ORIGIN = Origin()
_EXTRACTED = b'"extractedFields"'  # the key is JSON-encoded as is: a delivery without these bytes has none


def _origin(item: Any) -> Origin:
    fields = item.get("extractedFields") if isinstance(item, dict) else None
    if not isinstance(fields, dict):
        return NO_ORIGIN
    account, region = fields.get("@aws.account"), fields.get("@aws.region")
    return Origin(account if isinstance(account, str) else "", region if isinstance(region, str) else "")


class _Origins:
    """A delivery's origins as its events are read in order: the first event's, and each event naming another.

    A centralized stream holds one source's events, so the usual delivery has one origin, the batch's."""

    __slots__ = ("first", "others")

    def __init__(self) -> None:
        self.first: Origin | None = None
        self.others: dict[str, Origin] = {}

    def add(self, ids: Sequence[str], items: Sequence[Any]) -> None:
        for event_id, item in zip(ids, items, strict=True):
            origin = _origin(item)
            if self.first is None:
                self.first = origin
            elif origin != self.first:
                self.others.setdefault(event_id, origin)

    def kwargs(self) -> dict[str, Any]:
        return {"origin": self.first or NO_ORIGIN, "origins": self.others}


class EventSlice(NamedTuple):
    """Consecutive usable events of a delivery, as columns: no object per event."""

    ids: Sequence[str]
    timestamps: Sequence[int]
    messages: Sequence[str]


@dataclass(frozen=True, slots=True)
class RejectedEvent:
    """An event that cannot be indexed as it is: kept in the failed index with ``reason`` and ``position``.

    ``id`` is the event's own id when usable, else a stand-in derived from the batch (the same on every
    retry and redrive); ``timestamp`` likewise falls back to the batch's; ``text`` is the message, or
    the whole event as JSON when it has no usable message.
    """

    position: int
    id: str
    timestamp: int
    text: str
    reason: str
    original_id: str | None


@dataclass(frozen=True, slots=True)
class LogBatch:
    """One subscription delivery: events of a single log group and stream."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    events: tuple[LogEvent, ...]
    rejected: tuple[RejectedEvent, ...] = ()
    repeats: int = 0  # events repeated verbatim (same id, time and text) in the batch: one document
    repaired: frozenset[str] = frozenset()  # ids of events whose undecodable bytes became U+FFFD
    region: str = ""  # a member account's region, from its filter's name (core.members); "" is the shipper's
    origin: Origin = NO_ORIGIN  # where its first event was logged (a centralized copy's extractedFields)
    origins: Mapping[str, Origin] = field(default_factory=dict)  # event id -> origin, for each naming another

    @property
    def is_control(self) -> bool:
        """CloudWatch Logs' health checks: acknowledge, index nothing."""
        return self.message_type == "CONTROL_MESSAGE"

    @property
    def account(self) -> str:
        """The account its events were logged in: the first event's ``@aws.account``, else the envelope's owner."""
        return self.origin.account or self.owner

    @property
    def size(self) -> int:
        """Every event of the delivery, whatever became of it."""
        return len(self.events) + len(self.rejected) + self.repeats

    def slices(self) -> Iterator[EventSlice]:
        if self.events:
            yield EventSlice(*zip(*((e.id, e.timestamp, e.message) for e in self.events), strict=True))


def _preview(data: bytes) -> str:
    return data[:8].hex()


def _decompress(data: Any) -> bytes:
    if not isinstance(data, str) or not data:
        raise PayloadError(f"awslogs.data must be a non-empty base64 string, got {type(data).__name__}")
    try:
        compressed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError(f"awslogs.data is not base64 ({exc}); CloudWatch Logs sends base64 of gzip") from None
    try:
        return gzip.decompress(compressed)
    except EOFError as exc:
        raise PayloadError(f"awslogs.data is gzip cut short ({exc}); the event was truncated on its way") from None
    except (OSError, zlib.error) as exc:
        raise PayloadError(
            f"awslogs.data is not gzip (first bytes {_preview(compressed)}: {exc}); was it already decoded?"
        ) from None


def _json_object(raw: bytes) -> tuple[dict[str, Any], bool]:
    """The decoded object, and whether bytes that are not UTF-8 had to be kept as surrogate escapes."""
    undecodable = False
    try:
        decoded = json.loads(raw)
    except UnicodeDecodeError:
        # Valid JSON around a few bytes that are not UTF-8 (a line cut inside a character): keep the
        # batch, and let each event say which of its text was repaired.
        undecodable = True
        try:
            decoded = json.loads(raw.decode("utf-8", "surrogateescape"))
        except (ValueError, RecursionError) as exc:
            raise PayloadError(f"awslogs.data is gzip but not JSON ({exc}); first bytes {_preview(raw)}") from None
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"awslogs.data is gzip but not JSON ({exc}); first bytes {_preview(raw)}") from None
    if not isinstance(decoded, dict):
        raise PayloadError(f"decoded awslogs.data is {_json_type(decoded)}, expected an object")
    return decoded, undecodable


def _repair(text: str) -> str:
    return _UNDECODABLE.sub("\ufffd", text)


def _envelope_text(decoded: dict[str, Any], key: str, undecodable: bool) -> str:
    value = decoded.get(key, "")
    if not isinstance(value, str):
        raise PayloadError(f"{key} must be a string, got {_json_type(value)}: {_describe(value)}")
    return _repair(value) if undecodable else value


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, as the producer of the payload knows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "a number")


def _describe(value: Any) -> str:
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def id_problem(event_id: Any) -> str | None:
    """Why ``event_id`` cannot be a document's ``_id`` (OpenSearch would refuse it, and its whole request)."""
    if not isinstance(event_id, str):
        return "id is missing" if event_id is _MISSING else f"id is {_json_type(event_id)}, not a string"
    if not event_id:
        return "id is empty"
    try:
        size = len(event_id.encode())
    except UnicodeEncodeError:
        return "id is not valid UTF-8"
    if size > MAX_ID_BYTES:
        return f"id is {size} bytes; OpenSearch refuses an _id over {MAX_ID_BYTES} bytes"
    return None


def _timestamp(value: Any) -> int | str:
    """Whole epoch milliseconds, or why not."""
    if value is _MISSING:
        return "timestamp is missing"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"timestamp {_describe(value)} is not a number"
    if isinstance(value, float) and not math.isfinite(value):
        return f"timestamp {_describe(value)} is not a finite number"
    if not MIN_TIMESTAMP_MS <= value <= MAX_TIMESTAMP_MS:
        return (f"timestamp {_describe(value)} is not the time of a CloudWatch Logs event "
                "(epoch milliseconds from 2000 to the end of year 2999)")
    return int(value)


def _examine(item: Any) -> tuple[LogEvent | None, list[str]]:
    """The slow path for an event the fast check refused: usable after all, or every reason it is not."""
    if not isinstance(item, dict):
        return None, [f"the event is {_json_type(item)}, not an object"]
    event_id, message = item.get("id", _MISSING), item.get("message", _MISSING)
    if type(event_id) is int:  # an id sent as a JSON number (moto, hand-made payloads): its digits are the id
        event_id = str(event_id)
    timestamp = _timestamp(item.get("timestamp", _MISSING))
    problems = [p for p in (id_problem(event_id), timestamp if isinstance(timestamp, str) else None) if p]
    if not isinstance(message, str):
        problems.append("message is missing" if message is _MISSING
                        else f"message is {_json_type(message)}, not a string")
    if problems:
        return None, problems
    return LogEvent(event_id, int(timestamp), message), []


class _Rejections:
    """Builds the batch's :class:`RejectedEvent` list; stand-ins are derived from the batch's bytes."""

    def __init__(self, raw: bytes, log_stream: str) -> None:
        self._raw = raw
        self._stream = log_stream
        self._digest = ""
        self.found: list[tuple[int, Any, list[str]]] = []

    def add(self, position: int, item: Any, problems: list[str]) -> None:
        self.found.append((position, item, problems))

    def _stand_in_id(self, position: int) -> str:
        """The batch's digest and the position: the same on every retry and redrive of these bytes."""
        if not self._digest:
            self._digest = hashlib.sha256(self._raw).hexdigest()[:32]
        return f"{self._digest}-{position}"

    def _fallback_time(self, events: list[LogEvent]) -> int:
        """The batch's own time: its first usable event's, else the day in the stream name, else 0."""
        if events:
            return events[0].timestamp
        day = _STREAM_DAY.match(self._stream)
        midnight = _day_ms(*map(int, day.groups())) if day else -1
        return midnight if MIN_TIMESTAMP_MS <= midnight <= MAX_TIMESTAMP_MS else 0

    def build(self, events: list[LogEvent], undecodable: bool) -> tuple[RejectedEvent, ...]:
        fallback = self._fallback_time(events) if self.found else 0
        used = {event.id for event in events} if self.found else set()  # never an id a document already has
        rejected = []
        for position, item, problems in self.found:
            fields = item if isinstance(item, dict) else {}
            own_id = fields.get("id")
            usable_id = own_id if isinstance(own_id, str) and id_problem(own_id) is None else None
            if usable_id is None or usable_id in used:
                usable_id = self._stand_in_id(position)
            used.add(usable_id)
            timestamp = _timestamp(fields.get("timestamp", _MISSING))
            message = fields.get("message")
            text = message if isinstance(message, str) else _raw_text(item)
            rejected.append(RejectedEvent(
                position=position, id=usable_id, timestamp=timestamp if isinstance(timestamp, int) else fallback,
                text=_repair(text) if undecodable else text,
                reason=f"logEvents[{position}]: " + "; ".join(problems),
                original_id=(_repair(own_id) if undecodable else own_id) if isinstance(own_id, str) else None))
        return tuple(rejected)


def _day_ms(year: int, month: int, day: int) -> int:
    try:
        return int(datetime(year, month, day, tzinfo=UTC).timestamp() * 1000)
    except ValueError:  # "2025/13/45/..." is not a day
        return -1


def _raw_text(item: Any) -> str:
    """The whole event as JSON, so an event without usable text is still kept entire."""
    try:
        return json.dumps(item, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return repr(item)


def _events(raw_events: list[Any], rejections: _Rejections) -> list[LogEvent]:
    """One pass: the usual event (a short ASCII id, whole milliseconds, text) costs one check."""
    events: list[LogEvent] = []
    append = events.append
    for position, item in enumerate(raw_events):
        try:
            event_id, timestamp, message = item["id"], item["timestamp"], item["message"]
        except (KeyError, TypeError, IndexError):
            event_id = None
        if (type(event_id) is str and event_id.isascii() and 0 < len(event_id) <= MAX_ID_BYTES
                and type(timestamp) is int and MIN_TIMESTAMP_MS <= timestamp <= MAX_TIMESTAMP_MS
                and type(message) is str):
            append(LogEvent(event_id, timestamp, message))
            continue
        event, problems = _examine(item)
        if event is None:
            rejections.add(position, item, problems)
        else:
            append(event)
    return events


def _positions(count: int, rejections: _Rejections) -> list[int]:
    """The batch position of each usable event (rejected positions left out)."""
    skipped = {position for position, _item, _problems in rejections.found}
    return [position for position in range(count) if position not in skipped]


def _without_repeats(events: list[LogEvent], raw_events: list[Any],
                     rejections: _Rejections) -> tuple[list[LogEvent], int]:
    """One document per id: a verbatim repeat is counted, a different event under a used id is set aside."""
    if len({event.id for event in events}) == len(events):
        return events, 0
    first: dict[str, tuple[int, LogEvent]] = {}
    kept: list[LogEvent] = []
    repeats = 0
    for position, event in zip(_positions(len(raw_events), rejections), events, strict=True):
        seen = first.get(event.id)
        if seen is None:
            first[event.id] = (position, event)
            kept.append(event)
        elif seen[1] == event:
            repeats += 1
        else:
            rejections.add(position, raw_events[position],
                           [f"id is also the id of logEvents[{seen[0]}], whose time or text differs"])
    rejections.found.sort(key=lambda found: found[0])
    return kept, repeats


def _repaired(events: list[LogEvent]) -> tuple[list[LogEvent], frozenset[str]]:
    repaired = []
    ids = set()
    for event in events:
        if _UNDECODABLE.search(event.message):
            event = LogEvent(event.id, event.timestamp, _repair(event.message))
            ids.add(event.id)
        repaired.append(event)
    return repaired, frozenset(ids)


def _exact_batch(raw: bytes) -> LogBatch:
    """Any delivery, event by event, read by the stdlib: the reference for what :func:`read_delivery` reads."""
    decoded, undecodable = _json_object(raw)
    message_type = decoded.get("messageType")
    if message_type not in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
        raise PayloadError(f"messageType {message_type!r} is neither DATA_MESSAGE nor CONTROL_MESSAGE")
    owner, log_group, log_stream = (_envelope_text(decoded, key, undecodable)
                                    for key in ("owner", "logGroup", "logStream"))
    region = delivery_region(decoded.get("subscriptionFilters"))
    if message_type == "CONTROL_MESSAGE":  # a health check: nothing in it is indexed
        return LogBatch(message_type, owner, log_group, log_stream, (), region=region)
    missing = [key for key in ("owner", "logGroup", "logStream", "logEvents") if key not in decoded]
    if missing:
        raise PayloadError(f"DATA_MESSAGE lacks {', '.join(missing)}")
    raw_events = decoded["logEvents"]
    if not isinstance(raw_events, list):
        raise PayloadError(f"logEvents must be a list, got {_json_type(raw_events)}")
    rejections = _Rejections(raw, log_stream)
    events = _events(raw_events, rejections)
    events, repeats = _without_repeats(events, raw_events, rejections)
    repaired: frozenset[str] = frozenset()
    if undecodable:
        events, repaired = _repaired(events)
    return LogBatch(message_type, owner, log_group, log_stream, tuple(events),
                    rejections.build(events, undecodable), repeats, repaired, region,
                    **(_exact_origins(raw_events, events) if _EXTRACTED in raw else {}))


def _exact_origins(raw_events: list[Any], events: list[LogEvent]) -> dict[str, Any]:
    """The origins of the events kept, each by its id (the first event of an id, as :func:`_without_repeats`)."""
    by_id: dict[str, Any] = {}
    for item in raw_events:
        event_id = item.get("id") if isinstance(item, dict) else None
        if type(event_id) is int:  # as _examine reads an id sent as a number
            event_id = str(event_id)
        if isinstance(event_id, str):
            by_id.setdefault(event_id, item)
    origins = _Origins()
    origins.add([event.id for event in events], [by_id.get(event.id) for event in events])
    return origins.kwargs()


class Delivery:
    """One delivery as the shipper reads it: the envelope at once, the usable events in slices (:meth:`slices`,
    once, in order), and what became of the others (``rejected``, ``repeats``, ``repaired``)."""

    __slots__ = ("_batch", "_count", "_slices", "log_group", "log_stream", "message_type", "newest_ms", "origin",
                 "origins", "owner", "raw_bytes", "region", "rejected", "repaired", "repeats")

    def __init__(self, envelope: tuple[str, str, str, str, str], count: int, slices: Iterator[EventSlice], *,
                 rejected: tuple[RejectedEvent, ...] = (), repeats: int = 0,
                 repaired: frozenset[str] = frozenset(), batch: LogBatch | None = None,
                 origin: Origin = NO_ORIGIN, origins: Mapping[str, Origin] | None = None) -> None:
        self.message_type, self.owner, self.log_group, self.log_stream, self.region = envelope
        self._count, self._slices, self._batch = count, slices, batch
        self.rejected, self.repeats, self.repaired = rejected, repeats, repaired
        self.origin, self.origins = origin, origins or {}  # see LogBatch
        self.newest_ms = 0  # the latest event time of the slices read so far: how far behind shipping is
        self.raw_bytes = 0  # its JSON's size once decompressed: what shipping it with others may hold at once

    @classmethod
    def of(cls, batch: LogBatch) -> Delivery:
        return cls((batch.message_type, batch.owner, batch.log_group, batch.log_stream, batch.region),
                   len(batch.events),
                   batch.slices(), rejected=batch.rejected, repeats=batch.repeats, repaired=batch.repaired,
                   batch=batch, origin=batch.origin, origins=batch.origins)

    @property
    def is_control(self) -> bool:
        return self.message_type == "CONTROL_MESSAGE"

    @property
    def account(self) -> str:
        """The account its events were logged in: the first event's ``@aws.account``, else the envelope's owner."""
        return self.origin.account or self.owner

    @property
    def size(self) -> int:
        """Every event of the delivery, whatever became of it."""
        return self._count + len(self.rejected) + self.repeats

    def slices(self) -> Iterator[EventSlice]:
        for part in self._slices:
            if part.timestamps:
                self.newest_ms = max(self.newest_ms, max(part.timestamps))
            yield part

    def collect(self) -> LogBatch:
        """Every event at once (tests, tools): not for the shipper, which reads the slices as it sends."""
        if self._batch is None:
            events = tuple(LogEvent(*event) for part in self._slices for event in zip(*part, strict=True))
            self._batch = LogBatch(self.message_type, self.owner, self.log_group, self.log_stream, events,
                                   region=self.region, origin=self.origin, origins=self.origins)
        return self._batch


# Decoded deliveries larger than this are read in slices of about _SLICE_BYTES (a gzip of repetitive lines
# expands tens of times): a trade of one more orjson pass for memory, not a limit of AWS's.
READ_IN_SLICES_ABOVE = 4 * 1024 * 1024
_SLICE_BYTES = 512 * 1024
_ID, _TIMESTAMP, _MESSAGE = itemgetter("id"), itemgetter("timestamp"), itemgetter("message")
_ARRAY_START = re.compile(rb"\s*:\s*\[")
_SPACE = b" \t\r\n"


def _usual(items: Any) -> EventSlice | None:
    """The events as columns when each is the usual kind (a short ASCII id, whole milliseconds, text), else None."""
    if not isinstance(items, list):
        return None
    if not items:
        return EventSlice((), (), ())
    try:
        ids, timestamps, messages = list(map(_ID, items)), list(map(_TIMESTAMP, items)), list(map(_MESSAGE, items))
        lengths = set(map(len, ids))  # a TypeError for a number; "".join below refuses any other id not text
        usual = ("".join(ids).isascii() and min(lengths) > 0 and max(lengths) <= MAX_ID_BYTES
                 and set(map(type, timestamps)) == {int} and min(timestamps) >= MIN_TIMESTAMP_MS
                 and max(timestamps) <= MAX_TIMESTAMP_MS and set(map(type, messages)) == {str})
    except (KeyError, TypeError):  # an event without a field, or not an object; an id that is not text
        return None
    return EventSlice(ids, timestamps, messages) if usual else None


def _usual_envelope(decoded: Any) -> tuple[str, str, str, str, str] | None:
    if not isinstance(decoded, dict) or decoded.get("messageType") != "DATA_MESSAGE" or "logEvents" not in decoded:
        return None
    owner, log_group, log_stream = decoded.get("owner"), decoded.get("logGroup"), decoded.get("logStream")
    if type(owner) is str and type(log_group) is str and type(log_stream) is str:
        return "DATA_MESSAGE", owner, log_group, log_stream, delivery_region(decoded.get("subscriptionFilters"))
    return None


def _usual_whole(raw: bytes) -> Delivery | None:
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:  # not UTF-8, NaN, a lone surrogate, ...: the stdlib reads it, exactly
        return None
    envelope = _usual_envelope(decoded)
    events = _usual(decoded["logEvents"]) if envelope else None
    if events is None or len(set(events.ids)) != len(events.ids):
        return None
    origins = _Origins()
    if _EXTRACTED in raw:
        origins.add(events.ids, decoded["logEvents"])
    return Delivery(envelope, len(events.ids), iter((events,)), **origins.kwargs())  # type: ignore[arg-type]


def _back_over_space(raw: bytes, index: int) -> int:
    while index >= 0 and raw[index] in _SPACE:
        index -= 1
    return index


def _layout(raw: bytes) -> tuple[int, int] | None:
    """Where ``logEvents``' items are (after its '[', at its ']'), when it is the envelope's last key."""
    key = raw.find(b'"logEvents"')
    start = _ARRAY_START.match(raw, key + len(b'"logEvents"')) if key >= 0 else None
    close = _back_over_space(raw, len(raw) - 1)
    if start is None or raw[close] != ord("}"):
        return None
    end = _back_over_space(raw, close - 1)
    return (start.end(), end) if raw[end] == ord("]") and end >= start.end() else None


def _next_cut(raw: bytes, at: int, end: int) -> tuple[int, int] | None:
    """The comma between two events after ``at``, and where the next event starts: ``}`` ``,`` ``{"id"``."""
    while (found := raw.find(b'{"id"', at, end)) >= 0:
        comma = _back_over_space(raw, found - 1)
        if raw[comma] == ord(",") and raw[_back_over_space(raw, comma - 1)] == ord("}"):
            return comma, found
        at = found + 1
    return None


def _slice_text(raw: bytes, span: tuple[int, int]) -> bytes:
    return b"".join((b"[", memoryview(raw)[span[0]:span[1]], b"]"))


def _usual_in_slices(raw: bytes) -> Delivery | None:
    """A large delivery, checked slice by slice (ids unique across slices by their hashes; an id twice, or
    two ids of one hash, and the batch is read exactly), then read again slice by slice as it is shipped."""
    layout = _layout(raw)
    if layout is None:
        return None
    position, end = layout
    spans = []
    while end - position > _SLICE_BYTES and (cut := _next_cut(raw, position + _SLICE_BYTES, end)):
        spans.append((position, cut[0]))
        position = cut[1]
    spans.append((position, end))
    extracted = _EXTRACTED in raw
    origins = _Origins()
    try:
        envelope = _usual_envelope(orjson.loads(raw[:layout[0]] + raw[end:]))
        hashes: set[int] = set()
        count = 0
        for span in spans:
            items = orjson.loads(_slice_text(raw, span))
            events = _usual(items)
            if events is None:
                return None
            hashes.update(map(hash, events.ids))
            count += len(events.ids)
            if len(hashes) != count:
                return None
            if extracted:
                origins.add(events.ids, items)
    except orjson.JSONDecodeError:
        return None
    if envelope is None:
        return None
    slices = (_usual(orjson.loads(_slice_text(raw, span))) for span in spans)
    return Delivery(envelope, count, slices, **origins.kwargs())  # type: ignore[arg-type]


def read_delivery(event: Any) -> Delivery:
    """Read a Lambda event ``{"awslogs": {"data": ...}}`` for shipping: see :class:`Delivery`.

    >>> read_delivery({"awslogs": {"data": encoded}}).log_group   # doctest: +SKIP
    '/aws/lambda/orders'
    """
    if not isinstance(event, dict) or "awslogs" not in event:
        keys = sorted(event) if isinstance(event, dict) else type(event).__name__
        raise PayloadError(f"not a CloudWatch Logs subscription event: expected key 'awslogs', got {keys}")
    if not isinstance(event["awslogs"], dict) or "data" not in event["awslogs"]:
        raise PayloadError(f"awslogs must be an object with 'data', got {_describe(event['awslogs'])}")
    raw = _decompress(event["awslogs"]["data"])
    usual = _usual_in_slices(raw) if len(raw) > READ_IN_SLICES_ABOVE else None
    delivery = usual or _usual_whole(raw) or Delivery.of(_exact_batch(raw))
    delivery.raw_bytes = len(raw)
    return delivery


def parse_batch(event: Any) -> LogBatch:
    """Read a Lambda event ``{"awslogs": {"data": ...}}`` into a :class:`LogBatch`, every event at once.

    >>> parse_batch({"awslogs": {"data": encoded}}).log_group   # doctest: +SKIP
    '/aws/lambda/orders'
    """
    return read_delivery(event).collect()
