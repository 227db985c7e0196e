"""A batch of log events -> OpenSearch documents in ECS names, each with its ``_id`` and index (daily, or a stream)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from logship.indices import IndexNaming
from logship.lines import LineParser, StackJoiner
from logship.payload import LogBatch, RejectedEvent, id_problem
from logship.redaction import Redactor
from logship.timefmt import index_day, iso_millis

LAMBDA_GROUP_PREFIX = "/aws/lambda/"
# YYYY/MM/DD/[VERSION]hex, or YYYY/MM/DD/<function>[VERSION]hex for functions logging to a custom group.
_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/(?P<function>[^\[\]/]*)\[(?P<version>[^\]]+)\]")
# Fields a document keeps when it is re-indexed after a mapping rejection: all derived from the payload.
_SAFE_FIELDS = ("@timestamp", "message", "aws", "cloud")
# The reason type for a document the shipper itself cannot encode as JSON (NaN, absurd nesting).
UNENCODABLE = "unencodable"
# The reason type for an event of the payload that cannot be indexed as it is (see logship.payload).
INVALID_EVENT = "invalid_event"
# Rejections a document survives by dropping its structured fields: mapping conflicts, and the above.
DEGRADE_ON = frozenset({"mapper_parsing_exception", "document_parsing_exception",
                        "strict_dynamic_mapping_exception", "illegal_argument_exception", UNENCODABLE})


@dataclass(slots=True)
class Document:
    """What the sink writes: a source dict under ``index``/``id``, plus the line it came from."""

    index: str
    id: str
    source: dict[str, Any]
    line: str
    timestamp: int


def faas_fields(log_group: str, log_stream: str) -> dict[str, str]:
    """``faas.name``/``faas.version`` from the group ``/aws/lambda/<name>`` and the Lambda stream name."""
    faas: dict[str, str] = {}
    match = _STREAM.match(log_stream)
    if log_group.startswith(LAMBDA_GROUP_PREFIX):
        faas["name"] = log_group[len(LAMBDA_GROUP_PREFIX):]
    elif match and match["function"]:
        faas["name"] = match["function"]
    if match:
        faas["version"] = match["version"]
    return faas


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


class DocumentBuilder:
    """Turns batches into documents with one configuration; build once per cold start."""

    def __init__(self, *, index_prefix: str = "cwl", region: str, parser: LineParser | None = None,
                 redactor: Redactor | None = None, function_name_pattern: re.Pattern[str] | None = None,
                 naming: IndexNaming | None = None) -> None:
        self.naming = naming or IndexNaming(index_prefix)
        self.index_prefix = self.naming.prefix
        self._region = region
        self._parser = parser or LineParser()
        self._redactor = redactor if redactor else None
        self._pattern = function_name_pattern

    def build(self, batch: LogBatch) -> list[Document]:
        """One document per event; fields shared by the batch are computed once."""
        cloud = {"provider": "aws", "account": {"id": batch.owner}, "region": self._region}
        faas = faas_fields(batch.log_group, batch.log_stream)
        shared: dict[str, Any] = {"cloud": cloud}
        if faas:
            shared["faas"] = faas
        _merge(shared, naming_fields(faas.get("name"), self._pattern))
        stream = self.naming.data_stream  # one name for every document, else the event's own day
        parse, redact, prefix, repaired = self._parser.parse, self._redactor, self.index_prefix, batch.repaired
        stacks = StackJoiner()  # a stack trace spread over consecutive events of this batch (one stream)
        join = stacks.add
        documents = []
        for event in batch.events:
            line = redact(event.message) if redact else event.message
            try:
                message, fields = parse(line)
            except Exception as exc:  # never lose a line to a parser bug: keep it as plain text, say why
                message, fields = line.rstrip("\r\n"), {"logship": {"degraded": True, "reason": f"parser: {exc!r}"}}
            source: dict[str, Any] = {
                "@timestamp": iso_millis(event.timestamp),
                "message": message,
                "aws": {"cloudwatch": {"log_group": batch.log_group, "log_stream": batch.log_stream,
                                       "event_id": event.id}},
                **shared,
            }
            _merge(source, fields)
            join(message, fields, source)
            if repaired and event.id in repaired:
                _merge(source, {"logship": {"invalid_utf8": True}})
            documents.append(Document(stream or f"{prefix}-{index_day(event.timestamp)}", event.id, source, line,
                                      event.timestamp))
        stacks.finish()
        return documents

    def rejected(self, batch: LogBatch) -> list[Document]:
        """The failed-index documents for the batch's events that cannot be indexed as they are."""
        if not batch.rejected:
            return []
        cloud = {"provider": "aws", "account": {"id": batch.owner}, "region": self._region}
        faas = faas_fields(batch.log_group, batch.log_stream)
        return [self._rejected(event, batch, cloud, faas) for event in batch.rejected]

    def _rejected(self, event: RejectedEvent, batch: LogBatch, cloud: dict[str, Any],
                  faas: dict[str, str]) -> Document:
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
        if faas:
            source["faas"] = faas
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
