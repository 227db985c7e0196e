"""The three line mixes `make bench` measures, as decoded subscription payloads (seeded: the same every run).

- ``plain``: text without any runtime prefix (``print`` from a custom runtime, Go's ``fmt.Println``)
- ``runtime``: START/END/REPORT (with X-Ray), Python's ``[LEVEL]\\t...`` and Node's ``<time>\\t<id>\\tLEVEL\\t...``
- ``json``: Powertools-style JSON records (Lambda's JSON log format shape), some with an exception

``largest_payload`` is a batch as large as CloudWatch Logs delivers (the three mixes in turn), for memory.
The documents tests build every mix too (tests/unit/test_document_identity.py), so they stay identical.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

MIXES = ("plain", "runtime", "json")
BATCH_EVENTS = 5000
# The example of the largest batch: about 1 MB of gzip, 7.2 MB decoded.
LARGEST_EVENTS = 32_685
_START_MS = 1_763_805_600_000  # 2025-11-22T10:00:00Z
_WORDS = ("order", "invoice", "customer", "cart", "payment", "shipment", "session", "item", "refund", "report")
_VERBS = ("created", "updated", "fetched", "validated", "queued", "skipped", "retried", "stored", "sent", "loaded")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _trace_id(rng: random.Random) -> str:
    return f"1-{rng.getrandbits(32):08x}-{rng.getrandbits(96):024x}"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sentence(rng: random.Random) -> str:
    word, verb = rng.choice(_WORDS), rng.choice(_VERBS)
    shapes = (
        f"{word} {rng.randrange(100_000)} {verb} in {rng.randrange(1, 900)} ms",
        f"GET /api/{word}s/{rng.randrange(10_000)} {rng.choice((200, 200, 200, 201, 404, 500))} "
        f"{rng.randrange(1, 300)}ms",
        f"{verb} {rng.randrange(1, 60)} {word}s for tenant t-{rng.randrange(500):03d}",
        f"cache {'hit' if rng.random() < 0.7 else 'miss'} for key {word}:{rng.randrange(1_000_000)}",
        f"user {rng.randrange(100_000)} {verb} {word} from 10.0.{rng.randrange(256)}.{rng.randrange(256)}",
    )
    return rng.choice(shapes)


def _plain(rng: random.Random, ms: int) -> list[str]:
    return [_sentence(rng) + "\n"]


def _runtime(rng: random.Random, ms: int) -> list[str]:
    """One invocation: START, a few runtime lines (Python or Node), END, REPORT."""
    request_id = _uuid(rng)
    lines = [f"START RequestId: {request_id} Version: $LATEST\n"]
    python = rng.random() < 0.5
    for _ in range(rng.randrange(1, 5)):
        level = rng.choice(("INFO", "INFO", "INFO", "DEBUG", "WARNING", "ERROR"))
        if python:
            lines.append(f"[{level}]\t{_iso(ms)}\t{request_id}\t{_sentence(rng)}\n")
        else:
            lines.append(f"{_iso(ms)}\t{request_id}\t{level.replace('WARNING', 'WARN')}\t{_sentence(rng)}\n")
    duration = rng.uniform(1, 900)
    report = (f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
              f"Memory Size: 512 MB\tMax Memory Used: {rng.randrange(60, 200)} MB\t")
    if rng.random() < 0.05:
        report += f"Init Duration: {rng.uniform(100, 900):.2f} ms\t"
    report += f"\nXRAY TraceId: {_trace_id(rng)}\tSegmentId: {rng.getrandbits(64):016x}\tSampled: true\t\n"
    return [*lines, f"END RequestId: {request_id}\n", report]


def _record(rng: random.Random, ms: int) -> list[str]:
    """A Powertools for AWS Lambda (Python) record."""
    level = rng.choice(("INFO", "INFO", "INFO", "INFO", "DEBUG", "WARNING", "ERROR"))
    record: dict[str, Any] = {
        "level": level, "location": f"handler:{rng.randrange(10, 300)}", "message": _sentence(rng),
        "timestamp": _iso(ms).replace("T", " ").replace("Z", "+0000"), "service": "orders",
        "cold_start": rng.random() < 0.02, "function_name": "orders-api", "function_memory_size": "512",
        "function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
        "function_request_id": _uuid(rng), "correlation_id": _uuid(rng), "xray_trace_id": _trace_id(rng),
    }
    if rng.random() < 0.5:
        record[f"{rng.choice(_WORDS)}_id"] = rng.randrange(1_000_000)
    if rng.random() < 0.3:
        record["amount"] = round(rng.uniform(1, 500), 2)
    if level == "ERROR":
        record["exception_name"] = "ValueError"
        record["exception"] = ("Traceback (most recent call last):\n  File \"/var/task/app.py\", line 31, in handler\n"
                               "    charge(order)\nValueError: amount must be positive")
    return [json.dumps(record, separators=(", ", ": "))]


_MAKERS: dict[str, Callable[[random.Random, int], list[str]]] = {"plain": _plain, "runtime": _runtime,
                                                                 "json": _record}


def lines(kind: str, count: int, seed: int = 11) -> list[str]:
    """``count`` lines of one mix, or of every mix in turn (``kind="all"``)."""
    rng = random.Random(f"{kind}-{seed}")
    kinds = MIXES if kind == "all" else (kind,)
    found: list[str] = []
    while len(found) < count:
        found += _MAKERS[kinds[len(found) % len(kinds)]](rng, _START_MS + len(found))
    return found[:count]


def payload(kind: str, events: int = BATCH_EVENTS, seed: int = 11, group: str = "/aws/lambda/orders-api") -> dict:
    """A decoded DATA_MESSAGE of ``events`` lines of the mix; ids are unique 56-digit strings like AWS's."""
    rng = random.Random(f"ids-{kind}-{seed}")
    return {
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
        "logStream": "2025/11/22/[$LATEST]4a0d2e5f7c9b41d3a8e6f1b2c3d4e5f6", "subscriptionFilters": ["logship"],
        "logEvents": [{"id": f"{_START_MS + i}{rng.getrandbits(140):043d}"[:56], "timestamp": _START_MS + i,
                       "message": line} for i, line in enumerate(lines(kind, events, seed))],
    }


def largest_payload() -> dict:
    return payload("all", LARGEST_EVENTS)
