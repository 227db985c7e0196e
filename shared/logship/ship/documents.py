"""A batch of log events -> OpenSearch documents in ECS names, each with its ``_id`` and index (daily, or a stream)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from logship.core.indices import IndexNaming
from logship.core.selection import CAPACITY_PROVIDER_PREFIX, LAMBDA_PREFIX, LAMBDA_STREAM
from logship.core.timefmt import MILLIS_Z, iso_millis, iso_second
from logship.ship.lines import Fields, LineParser, StackJoiner
from logship.ship.lines.stacks import OPENS_A_STACK, fields_open_a_stack
from logship.ship.payload import Delivery, LogBatch, Origin, RejectedEvent, id_problem
from logship.ship.redaction import Redactor

if TYPE_CHECKING:
    from logship.ship.function_metrics import FunctionCounts, FunctionMetrics

# Fields a document keeps when it is re-indexed after a mapping rejection: all derived from the payload.
_SAFE_FIELDS = ("@timestamp", "message", "aws", "cloud")
# The reason type for a document the shipper itself cannot encode as JSON (NaN, absurd nesting).
UNENCODABLE = "unencodable"
# The reason type for an event of the payload that cannot be indexed as it is (see logship.ship.payload).
INVALID_EVENT = "invalid_event"
# Rejections a document survives by dropping its structured fields: mapping conflicts, and the above.
DEGRADE_ON = frozenset({"mapper_parsing_exception", "document_parsing_exception",
                        "strict_dynamic_mapping_exception", "illegal_argument_exception", UNENCODABLE})


class Parser(Protocol):
    """What reads one line: :class:`LineParser`, or a transformer's events read as the line they kept."""

    def parse(self, line: str) -> tuple[str, Fields]: ...


class Document:
    """What the sink writes: a source under ``index``/``id``, plus the line it came from.

    A document the shipper builds carries its bulk action and source already encoded (``body``, the NDJSON
    lines the sink sends) and builds the ``source`` dict only when a fallback asks for it (rebuilt from the
    line: the same identity fields, without what stack joining added).
    """

    __slots__ = ("_rebuild", "_source", "body", "id", "index", "line", "timestamp")

    def __init__(self, index: str, id: str, source: dict[str, Any] | None, line: str, timestamp: int,
                 body: bytes | None = None, rebuild: Callable[[Document], dict[str, Any]] | None = None) -> None:
        self.index, self.id, self.line, self.timestamp = index, id, line, timestamp
        self._source, self.body, self._rebuild = source, body, rebuild

    @property
    def source(self) -> dict[str, Any]:
        if self._source is None:
            self._source = self._rebuild(self) if self._rebuild else {}
        return self._source

    def __repr__(self) -> str:
        return f"Document({self.index!r}, {self.id!r}, line={self.line[:40]!r})"


def faas_fields(log_group: str, log_stream: str) -> dict[str, str]:
    """``faas.name``/``faas.version`` from the Lambda stream name and the group ``/aws/lambda/<name>``.

    A stream of a custom group names its function (``YYYY/MM/DD/<function>[<version>]<id>``), whatever the group
    is called (``/aws/lambda/shared`` included: functions may share any group); else the group names it.
    """
    faas: dict[str, str] = {}
    if log_group.startswith(CAPACITY_PROVIDER_PREFIX):  # no function's: see source_fields
        return faas
    match = LAMBDA_STREAM.match(log_stream)
    if match and match["function"]:
        faas["name"] = match["function"]
    elif log_group.startswith(LAMBDA_PREFIX):
        faas["name"] = log_group[len(LAMBDA_PREFIX):]
    if match:
        faas["version"] = match["version"]
    return faas


def source_fields(log_group: str, log_stream: str) -> dict[str, Any]:
    """What wrote the batch: ``faas`` for a function's lines, ``lambda.capacity_provider`` for a Managed Instances
    capacity provider's own group (``/aws/lambda/capacity-provider/<name>``), which is no function's."""
    if log_group.startswith(CAPACITY_PROVIDER_PREFIX):
        return {"lambda": {"capacity_provider": log_group[len(CAPACITY_PROVIDER_PREFIX):]}}
    faas = faas_fields(log_group, log_stream)
    return {"faas": faas} if faas else {}


def naming_fields(function_name: str | None, pattern: re.Pattern[str] | None) -> dict[str, Any]:
    """A team's naming convention as filters: ``(?P<service>..)-(?P<environment>..)-..`` over the name."""
    if not function_name or pattern is None:
        return {}
    match = pattern.fullmatch(function_name) or pattern.match(function_name)
    if not match:
        return {}
    fields: dict[str, Any] = {}
    for group, value in match.groupdict().items():
        if value is None:
            continue
        if group == "service":
            fields.setdefault("service", {})["name"] = value
        elif group == "environment":
            fields.setdefault("service", {})["environment"] = value
        else:
            fields.setdefault("labels", {})[group] = value
    return fields


def _merge(source: dict[str, Any], fields: dict[str, Any]) -> None:
    """Line fields over batch fields, one level deep (``faas.execution`` joins ``faas.name``)."""
    for key, value in fields.items():
        current = source.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            source[key] = {**current, **value}
        else:
            source[key] = value


def _parsed_or_kept(parse: Callable[[str], tuple[str, Fields]], line: str) -> tuple[str, Fields]:
    """A parser bug costs only its line: kept as plain text, saying why."""
    try:
        return parse(line)
    except Exception as exc:
        return line.rstrip("\r\n"), {"logship": {"degraded": True, "reason": f"parser: {exc!r}"}}


_MS_PER_DAY = 86_400_000


# Documents built before they are handed on as a page: a bound on what exists at once, not on a batch.
PAGE_DOCUMENTS = 1000
# Lines parsed together before their documents are built (see DocumentBuilder._parsed).
PARSE_AT_ONCE = 256
# One event after parsing and stack joining: (id, timestamp, line as redacted, message, line fields).
_Record = tuple[str, int, str, str, Fields]


class Page:
    """Documents built together, in the batch's order: the bulk lines the sink sends (``bodies``, ``size``
    bytes in all), and each document as a :class:`Document` only when the sink asks for it (a retry, a
    fallback): most never are, so most are never made."""

    __slots__ = ("_events", "_make", "bodies", "size")

    def __init__(self, bodies: list[bytes], events: list[tuple[str, int, str]],
                 make: Callable[[str, int, str, bytes], Document]) -> None:
        self.bodies, self._events, self._make = bodies, events, make  # events: (id, timestamp, line) per body
        self.size = sum(map(len, bodies))

    def __len__(self) -> int:
        return len(self.bodies)

    def documents(self) -> list[Document]:
        make = self._make
        return [make(*event, body) for event, body in zip(self._events, self.bodies, strict=True)]

    def cut(self, at: int) -> tuple[Page, Page]:
        """The first ``at`` documents, and the rest."""
        return (Page(self.bodies[:at], self._events[:at], self._make),
                Page(self.bodies[at:], self._events[at:], self._make))


class _Batch:
    """What every document of one delivery shares, as a dict and as JSON bytes to splice (encoded once)."""

    __slots__ = ("_id_start", "_index_day", "_naming", "_start", "_with_id", "aws", "aws_quoted", "cloud_json",
                 "faas", "log_group", "log_stream", "second", "second_iso", "shared", "shared_json",
                 "shared_message", "usual", "without")

    def __init__(self, log_group: str, log_stream: str, shared: dict[str, Any], naming: IndexNaming,
                 with_id: bool) -> None:
        self.log_group, self.log_stream, self.shared = log_group, log_stream, shared
        self._naming, self._with_id = naming, with_id
        self.aws = b"".join((b',"aws":{"cloudwatch":{"log_group":', orjson.dumps(log_group), b',"log_stream":',
                             orjson.dumps(log_stream), b',"event_id":'))
        self.aws_quoted = b'"' + self.aws + b'"'  # the time's closing quote before, the id's opening one after
        self.shared_json = self._json(())
        self.shared_message = b'"}}' + self.shared_json + b',"message":'  # after a plain id, for a line without fields
        self.without: dict[tuple[str, ...], bytes] = {}  # the shared part less the keys a line merges into
        # The usual batch shares cloud and a faas dict: a line's own faas keys join the batch's in its own part.
        self.faas = shared.get("faas")
        self.usual = list(shared) == ["cloud", "faas"] and isinstance(self.faas, dict) and bool(self.faas)
        self.cloud_json = self._json(("faas",))
        self.second, self.second_iso, self._index_day = -1, b"", -1
        self._start = self._id_start = b""

    def _json(self, left_out: tuple[str, ...]) -> bytes:
        return b"".join(b',"%s":%s' % (key.encode(), orjson.dumps(value))
                        for key, value in self.shared.items() if key not in left_out)

    def source(self, timestamp: int, message: str, event_id: str, fields: Fields) -> dict[str, Any]:
        source: dict[str, Any] = {
            "@timestamp": iso_millis(timestamp), "message": message,
            "aws": {"cloudwatch": {"log_group": self.log_group, "log_stream": self.log_stream, "event_id": event_id}},
            **self.shared,
        }
        _merge(source, fields)
        return source

    def _second(self, timestamp: int, seconds: int) -> None:
        """A new second: its ISO text, and its index's create action (a batch spans few seconds, a day or two)."""
        self.second, self.second_iso = seconds, iso_second(seconds)
        if timestamp // _MS_PER_DAY != self._index_day:
            self._index_day = timestamp // _MS_PER_DAY
            self._start = action_start(self._naming.index(timestamp))
            self._id_start = self._start + b',"_id":"'

    def encode(self, timestamp: int, message: str, event_id: str, fields: Fields) -> bytes | None:
        """The document's bulk action and source (NDJSON), or None when orjson cannot write it as the stdlib
        would (then the sink encodes the source dict).

        The source is spliced from three parts: the time and ``aws`` (formatted), what the batch shares (encoded
        once) and the line's own part, ``message`` and its fields, in one ``orjson.dumps`` (a key the batch
        shares too, as ``faas``, merged into the line's part and left out of the shared one).
        """
        try:
            seconds = timestamp // 1000
            if seconds != self.second:
                self._second(timestamp, seconds)
            millis = MILLIS_Z[timestamp - seconds * 1000]
            id_bytes = event_id.encode()
            plain_id = self._with_id and id_bytes.isalnum()  # CloudWatch ids are digits: nothing to escape
            if not fields:
                if plain_id:  # the commonest document of all: one join
                    return b"".join((self._id_start, id_bytes, b'"}}\n{"@timestamp":"', self.second_iso, millis,
                                     self.aws_quoted, id_bytes, self.shared_message, orjson.dumps(message), b"}\n"))
                tail, glue, own, end = self.shared_json, b',"message":', orjson.dumps(message), b"}\n"
            else:
                faas = fields.get("faas") if self.usual else None
                if faas is not None:
                    tail = self.cloud_json
                    line_part = orjson.dumps({"message": message, **fields,
                                              "faas": {**self.faas, **faas} if isinstance(faas, dict) else faas})
                elif self.usual or not (merged := self._merged(fields)):
                    tail, line_part = self.shared_json, orjson.dumps({"message": message, **fields})
                else:
                    tail, line_part = merged[0], orjson.dumps({"message": message, **merged[1]})
                glue, own, end = b",", line_part[1:], b"\n"  # the line's part after the shared one, less its "{"
            if plain_id:
                return b"".join((self._id_start, id_bytes, b'"}}\n{"@timestamp":"', self.second_iso, millis,
                                 self.aws_quoted, id_bytes, b'"}}', tail, glue, own, end))
            return b"".join((action_line(self._start, event_id if self._with_id else None), b'{"@timestamp":"',
                             self.second_iso, millis, b'"', self.aws, orjson.dumps(event_id), b"}}", tail, glue, own,
                             end))
        except orjson.JSONEncodeError:  # a lone surrogate, an integer past 64 bits, too deep, a NonFinite number
            return None

    def _merged(self, fields: Fields) -> tuple[bytes, Fields] | None:
        """The shared part without the keys the line has too, and the line's fields with those merged in; None
        when the line shares no key with the batch."""
        merged = tuple([key for key in self.shared if key in fields])
        if not merged:
            return None
        tail = self.without.get(merged) or self.without.setdefault(merged, self._json(merged))
        fields = {**fields}
        for key in merged:
            current, value = self.shared[key], fields[key]
            fields[key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
        return tail, fields


class _Origins:
    """A delivery whose events were logged in several accounts or regions: each event encoded with the shared parts
    of its own origin (by event id), the batch's first one's for the rest. A :class:`_Batch` to its callers, so the
    usual delivery, of one origin, pays nothing for it."""

    __slots__ = ("_by_id", "_first", "shared")

    def __init__(self, first: _Batch, by_id: dict[str, _Batch]) -> None:
        self._first, self._by_id, self.shared = first, by_id, first.shared

    def encode(self, timestamp: int, message: str, event_id: str, fields: Fields) -> bytes | None:
        return self._by_id.get(event_id, self._first).encode(timestamp, message, event_id, fields)

    def source(self, timestamp: int, message: str, event_id: str, fields: Fields) -> dict[str, Any]:
        return self._by_id.get(event_id, self._first).source(timestamp, message, event_id, fields)


_ACTIONS: dict[str, bytes] = {}  # index name -> the start of its create action (index names are few)
# ASCII escapes keep lone surrogates (a truncated emoji in JSON) encodable; NaN/Infinity are not JSON.
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def action_start(index: str) -> bytes:
    """``{"create":{"_index":"<index>"``: index names are validated, nothing to escape."""
    start = _ACTIONS.get(index)
    if start is None:
        if len(_ACTIONS) >= 1024:
            _ACTIONS.clear()
        start = _ACTIONS[index] = f'{{"create":{{"_index":"{index}"'.encode()
    return start


def action_line(start: bytes, document_id: str | None) -> bytes:
    """The ``create`` action (``create`` makes a replay a 409, never a copy); no id: the cluster picks one."""
    if document_id is None:
        return start + b"}}\n"
    if document_id.isalnum():
        return b"".join((start, b',"_id":"', document_id.encode(), b'"}}\n'))
    return b"".join((start, b',"_id":', _dumps(document_id).encode(), b"}}\n"))


def bulk_lines(document: Document, with_id: bool = True) -> bytes:
    """The two NDJSON lines the sink sends for ``document``: as the builder encoded them, else from its source."""
    if document.body is not None:
        return document.body
    return b"".join((action_line(action_start(document.index), document.id if with_id else None),
                     _dumps(document.source).encode(), b"\n"))


class _Pages:
    """Bulk lines gathered into a page until it is handed on (full, or before a document orjson cannot write)."""

    __slots__ = ("_make", "bodies", "events")

    def __init__(self, make: Callable[[str, int, str, bytes], Document]) -> None:
        self._make = make
        self.bodies: list[bytes] = []
        self.events: list[tuple[str, int, str]] = []  # (id, timestamp, line) per body

    def take(self) -> Page:
        """The gathered bodies as a page; the lists themselves stay (emptied), so a caller may hold them."""
        page = Page(self.bodies[:], self.events[:], self._make)
        self.bodies.clear()
        self.events.clear()
        return page


class _Stacks:
    """A batch's stack joiner, holding back the lines of an open stack trace until it ends (its first line gets
    the whole trace): ``held`` is empty while no stack is open."""

    __slots__ = ("_joiner", "held")

    def __init__(self) -> None:
        self._joiner = StackJoiner()  # a stack trace spread over consecutive events of this batch (one stream)
        self.held: list[_Record] = []

    def add(self, record: _Record) -> list[_Record]:
        """The records no later line can change any more, now that ``record`` has been joined (in place)."""
        joiner = self._joiner
        before = joiner.head
        joiner.add(record[3], record[4])
        if joiner.head is before is not None:  # a line of the open stack
            self.held.append(record)
            return []
        ready, self.held = [*self.held, record], []  # the stack before (if any) is complete
        if joiner.head is not None:  # ... and this line opens a new one
            ready.pop()
            self.held.append(record)
        return ready

    def finish(self) -> list[_Record]:
        """The held lines, once the batch has ended their stack."""
        self._joiner.finish()
        ready, self.held = self.held, []
        return ready


class DocumentBuilder:
    """Turns batches into documents with one configuration; build once per cold start."""

    def __init__(self, *, index_prefix: str = "cwl", region: str, parser: Parser | None = None,
                 redactor: Redactor | None = None, function_name_pattern: re.Pattern[str] | None = None,
                 naming: IndexNaming | None = None, document_ids: bool = True) -> None:
        self.naming = naming or IndexNaming(index_prefix)
        self._document_ids = document_ids  # bulk actions with the event id as _id (as the sink is told too)
        self.index_prefix = self.naming.prefix
        self._region = region
        self._parser = parser or LineParser()
        self._redactor = redactor if redactor else None
        self._pattern = function_name_pattern

    def _cloud(self, batch: Delivery | LogBatch, origin: Origin) -> dict[str, Any]:
        """Where the events were logged: a centralized copy's own account and region, else the envelope's owner and
        the member filter's region, else this shipper's region."""
        return {"provider": "aws", "account": {"id": origin.account or batch.owner},
                "region": origin.region or batch.region or self._region}

    def _batch(self, batch: Delivery | LogBatch, origin: Origin | None = None) -> _Batch:
        shared: dict[str, Any] = {"cloud": self._cloud(batch, batch.origin if origin is None else origin),
                                  **source_fields(batch.log_group, batch.log_stream)}
        _merge(shared, naming_fields(shared.get("faas", {}).get("name"), self._pattern))
        return _Batch(batch.log_group, batch.log_stream, shared, self.naming, self._document_ids)

    def _parts(self, batch: Delivery | LogBatch) -> _Batch | _Origins:
        """What the batch's documents share: one origin's parts, or for events logged in several accounts or regions
        (a centralized delivery may mix them), each event's origin's."""
        parts = self._batch(batch)
        if not batch.origins:
            return parts
        others = {origin: self._batch(batch, origin) for origin in set(batch.origins.values())}
        return _Origins(parts, {event_id: others[origin] for event_id, origin in batch.origins.items()})

    def pages(self, delivery: Delivery | LogBatch, metrics: FunctionMetrics | None = None) -> Iterator[Page | Document]:
        """The delivery's documents in order, built as its slices are read, for the sink to send as they come:
        pages of bulk lines (at most :data:`PAGE_DOCUMENTS` each) and, now and then, a document orjson cannot
        write as the stdlib would (with its source dict, for the sink's encoder). ``metrics`` counts the lines.

        A few hundred lines at a time are parsed, joined into stack traces, then encoded (each step in a loop of
        its own: faster, see :meth:`_parsed`). A line that opens no stack while none is open is final at once; the
        lines of an open stack trace are held back until the stack ends (its first line gets the whole trace).
        """
        parts = self._parts(delivery)
        name = parts.shared.get("faas", {}).get("name")
        function = metrics.function(name) if metrics is not None and name else None
        count = function.add if function is not None else None
        repaired = delivery.repaired
        out = _Pages(self._maker(delivery, parts))
        stacks = _Stacks()
        for ids, timestamps, lines, parsed in self._parsed(delivery, function):
            ready: list[_Record] = []  # the group's lines no later line can change, in order
            for event_id, timestamp, line, (message, fields) in zip(ids, timestamps, lines, parsed, strict=True):
                record = (event_id, timestamp, line, message, fields)
                if not stacks.held and not repaired and not (
                        fields_open_a_stack(fields) if fields else message.startswith(OPENS_A_STACK)):
                    ready.append(record)  # no stack open, none opening: final now
                else:
                    ready += stacks.add(record)
                    if repaired and event_id in repaired:  # after joining: the mark is no field a stack looks at
                        fields["logship"] = {**fields.get("logship", {}), "invalid_utf8": True}
            yield from self._release(ready, out, parts, count)
        yield from self._release(stacks.finish(), out, parts, count)
        if out.bodies:
            yield out.take()

    def _parsed(self, delivery: Delivery | LogBatch, function: FunctionCounts | None) -> Iterator[
            tuple[Sequence[str], Sequence[int], Sequence[str], list[tuple[str, Fields]]]]:
        """The delivery's events a few hundred at a time (:data:`PARSE_AT_ONCE`): ids, timestamps, lines as
        redacted, and each line parsed. Redacting a slice's lines, then parsing a few hundred, before any is
        encoded keeps each step's code and data in the CPU's caches: measured faster than line by line (redaction
        a quarter, runtime lines an eighth, JSON lines a twentieth). ``function`` is told each slice's size and
        latest timestamp."""
        parse, redact = self._parser.parse, self._redactor
        for ids, timestamps, texts in delivery.slices():
            if function is not None and ids:
                function.saw(len(ids), max(timestamps))
            lines = list(map(redact, texts)) if redact else texts
            for at in range(0, len(lines), PARSE_AT_ONCE):
                chunk = lines[at:at + PARSE_AT_ONCE]
                try:
                    parsed = list(map(parse, chunk))
                except Exception:  # never lose a line to a parser bug: each line again, a failing one kept as text
                    parsed = [_parsed_or_kept(parse, line) for line in chunk]
                yield ids[at:at + PARSE_AT_ONCE], timestamps[at:at + PARSE_AT_ONCE], chunk, parsed

    def _release(self, records: list[_Record], out: _Pages, parts: _Batch | _Origins,
                 count: Callable[[Fields, str], None] | None) -> list[Page | Document]:
        """Records no later line can change, counted and encoded into pages; returns what to hand on now (full
        pages, and a document orjson cannot write after the page before it)."""
        handed: list[Page | Document] = []
        encode, bodies, events = parts.encode, out.bodies, out.events
        for event_id, timestamp, line, message, fields in records:
            if fields and count is not None:
                count(fields, event_id)
            body = encode(timestamp, message, event_id, fields)
            if body is None:
                if bodies:
                    handed.append(out.take())
                handed.append(Document(self.naming.index(timestamp), event_id,
                                       parts.source(timestamp, message, event_id, fields), line, timestamp))
                continue
            bodies.append(body)
            events.append((event_id, timestamp, line))
            if len(bodies) >= PAGE_DOCUMENTS:
                handed.append(out.take())
        return handed

    def build(self, batch: Delivery | LogBatch) -> list[Document]:
        """Every document of the batch at once, each with its ``source`` dict read back from what the sink would
        send (tests, tools)."""
        built: list[Document] = []
        for item in self.pages(batch):
            for document in item.documents() if isinstance(item, Page) else (item,):
                if document.body is not None:
                    document = Document(document.index, document.id, json.loads(document.body.split(b"\n")[1]),
                                        document.line, document.timestamp)
                built.append(document)
        return built

    def _maker(self, batch: Delivery | LogBatch,
               parts: _Batch | _Origins) -> Callable[[str, int, str, bytes], Document]:
        """A page's document, made when the sink asks for one. Its source, if a fallback asks (rare), is rebuilt
        from its line: all but what stack joining added."""
        parse, index = self._parser.parse, self.naming.index

        def rebuild(document: Document) -> dict[str, Any]:
            message, fields = _parsed_or_kept(parse, document.line)
            if batch.repaired and document.id in batch.repaired:
                fields["logship"] = {**fields.get("logship", {}), "invalid_utf8": True}
            return parts.source(document.timestamp, message, document.id, fields)

        def make(event_id: str, timestamp: int, line: str, body: bytes) -> Document:
            return Document(index(timestamp), event_id, None, line, timestamp, body, rebuild)

        return make

    def rejected(self, batch: Delivery | LogBatch) -> list[Document]:
        """The failed-index documents for the batch's events that cannot be indexed as they are (logged where its
        first event was: an event without a usable id has no origin of its own to look up)."""
        if not batch.rejected:
            return []
        cloud = self._cloud(batch, batch.origin)
        source = source_fields(batch.log_group, batch.log_stream)
        return [self._rejected(event, batch, cloud, source) for event in batch.rejected]

    def _rejected(self, event: RejectedEvent, batch: Delivery | LogBatch, cloud: dict[str, Any],
                  writer: dict[str, Any]) -> Document:
        text = self._redactor(event.text) if self._redactor else event.text
        cloudwatch: dict[str, Any] = {"log_group": batch.log_group, "log_stream": batch.log_stream}
        if event.original_id is not None:
            cloudwatch["event_id"] = event.original_id
        source: dict[str, Any] = {
            "@timestamp": iso_millis(event.timestamp), "message": text,
            "aws": {"cloudwatch": cloudwatch}, "cloud": cloud,
            "error": {"type": INVALID_EVENT, "message": event.reason},
            "logship": {"failed_index": self.naming.index(event.timestamp), "position": event.position},
        }
        source.update(writer)
        return Document(self.naming.failed(event.timestamp), event.id, source, text, event.timestamp)


def usable_id(document_id: str) -> str:
    """``document_id`` if OpenSearch takes it as an ``_id``, else a stand-in derived from it (same every time)."""
    if id_problem(document_id) is None:
        return document_id
    return "sha256-" + hashlib.sha256(document_id.encode(errors="surrogatepass")).hexdigest()


def _payload_fields(document: Document) -> dict[str, Any]:
    source = {key: document.source[key] for key in _SAFE_FIELDS if key in document.source}
    faas = document.source.get("faas")
    if isinstance(faas, dict):
        source["faas"] = {k: v for k, v in faas.items() if k in ("name", "version")}
    return source


def degraded_document(document: Document, reason: dict[str, Any]) -> Document | None:
    """After a mapping rejection (or none possible): the document without its structured fields, same index.

    The full line stays searchable where users look; ``logship.degraded`` marks it. Rejections that are
    not about mappings return None (nothing to gain by dropping fields).
    """
    if reason.get("type") not in DEGRADE_ON:
        return None
    source = _payload_fields(document)
    source["message"] = document.line.rstrip("\r\n")
    source["logship"] = {"degraded": True, "reason": f"{reason.get('type')}: {reason.get('reason', '')}"[:1000]}
    return Document(document.index, document.id, source, document.line, document.timestamp)


def failed_document(document: Document, naming: IndexNaming | str, reason: dict[str, Any]) -> Document:
    """The stand-in kept in ``<prefix>-failed-YYYY.MM.DD`` (or the failed data stream) for a document OpenSearch
    rejected for its content; ``naming`` is an :class:`IndexNaming` or a daily index prefix.

    It carries only fields whose types cannot clash (the original line as text, the reason), so the
    failed index accepts it whatever was wrong with the original.
    """
    source = _payload_fields(document)
    source["message"] = document.line
    source["error"] = {"type": str(reason.get("type", "unknown")), "message": str(reason.get("reason", reason))}
    source["logship"] = {"failed_index": document.index}
    # The last resort must be accepted: an _id OpenSearch refused (too long) gets a stand-in.
    where = naming if isinstance(naming, IndexNaming) else IndexNaming(naming)
    return Document(where.failed(document.timestamp), usable_id(document.id), source, document.line,
                    document.timestamp)
