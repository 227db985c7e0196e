"""A batch of log events -> OpenSearch documents in ECS names, each with its ``_id`` and daily index."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logship.lines import parse_line
from logship.payload import LogBatch
from logship.timefmt import index_day, iso_millis

LAMBDA_GROUP_PREFIX = "/aws/lambda/"
# YYYY/MM/DD/[VERSION]hex, or YYYY/MM/DD/<function>[VERSION]hex for functions logging to a custom group.
_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/(?P<function>[^\[\]/]*)\[(?P<version>[^\]]+)\]")


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


def build_documents(batch: LogBatch, *, index_prefix: str, region: str) -> list[Document]:
    """One document per event; fields shared by the batch are computed once."""
    cloud = {"provider": "aws", "account": {"id": batch.owner}, "region": region}
    faas = faas_fields(batch.log_group, batch.log_stream)
    documents = []
    for event in batch.events:
        message, fields = parse_line(event.message)
        source: dict[str, Any] = {
            "@timestamp": iso_millis(event.timestamp),
            "message": message,
            "aws": {"cloudwatch": {"log_group": batch.log_group, "log_stream": batch.log_stream,
                                   "event_id": event.id}},
            "cloud": cloud,
        }
        if faas:
            source["faas"] = dict(faas)
        source.update(fields)
        documents.append(Document(f"{index_prefix}-{index_day(event.timestamp)}", event.id, source,
                                  event.message, event.timestamp))
    return documents


def failed_document(document: Document, index_prefix: str, reason: dict[str, Any]) -> Document:
    """The stand-in kept in ``<prefix>-failed-YYYY.MM.DD`` for a document OpenSearch rejected for its content.

    It carries only fields whose types cannot clash (the original line as text, the reason), so the
    failed index accepts it whatever was wrong with the original.
    """
    source = {
        "@timestamp": document.source["@timestamp"],
        "message": document.line,
        "aws": document.source["aws"],
        "cloud": document.source["cloud"],
        "error": {"type": str(reason.get("type", "unknown")), "message": str(reason.get("reason", reason))},
        "logship": {"failed_index": document.index},
    }
    if "faas" in document.source:
        source["faas"] = {k: v for k, v in document.source["faas"].items() if k in ("name", "version")}
    return Document(f"{index_prefix}-failed-{index_day(document.timestamp)}", document.id, source,
                    document.line, document.timestamp)
