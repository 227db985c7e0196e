"""Bulk-write documents to OpenSearch and give every one exactly one outcome.

Outcomes: indexed, duplicate (409 on create: written before), degraded/failed (rejected for its
content, kept by a fallback), or pending (still retryable when time ran out). The caller raises on
pending, so Lambda's retries and then the dead-letter queue take over; ``_id`` keeps that idempotent.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import TransportError

from logship.documents import UNENCODABLE, Document

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# ASCII escapes keep lone surrogates (a truncated emoji in JSON) encodable; NaN/Infinity are not JSON.
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


class Deadline(Protocol):
    def remaining_ms(self) -> int: ...


class BulkClient(Protocol):
    def bulk(self, body: Any, **kwargs: Any) -> dict[str, Any]: ...


class OpenSearchRefusedError(RuntimeError):
    """OpenSearch refused the whole request for a reason retrying cannot fix (auth, bad endpoint)."""


# A fallback turns a document rejected for its content into the next thing to try, or None when
# nothing is left. Stages: 0 = the document itself, then one per fallback.
Fallback = Callable[["Document", dict[str, Any]], "Document | None"]


@dataclass
class Ledger:
    """The per-invocation account: ``events_in == indexed + duplicates + degraded + failed + pending``."""

    events_in: int = 0
    indexed: int = 0
    duplicates: int = 0
    degraded: int = 0
    failed: int = 0
    pending: int = 0
    retried: int = 0
    bytes: int = 0
    reasons: list[str] = field(default_factory=list)  # what went wrong on the way, retried or not (first 5)

    def add_reason(self, reason: str) -> None:
        if len(self.reasons) < 5 and reason not in self.reasons:
            self.reasons.append(reason)


@dataclass(slots=True)
class _Entry:
    document: Document
    body: bytes
    stage: int = 0


def encode(document: Document) -> bytes:
    """The two NDJSON lines of a ``create`` action; ``create`` makes a replay a 409, never a copy."""
    if document.id.isalnum():  # CloudWatch ids are digits; index names are validated: no escaping needed
        action = f'{{"create":{{"_index":"{document.index}","_id":"{document.id}"}}}}'
    else:
        action = _dumps({"create": {"_index": document.index, "_id": document.id}})
    return f"{action}\n{_dumps(document.source)}\n".encode()


def _reason(error: Any) -> dict[str, Any]:
    if isinstance(error, dict):
        return {"type": error.get("type", "unknown"), "reason": error.get("reason", "")}
    return {"type": "unknown", "reason": str(error)}


class BulkSink:
    """Sends documents in bulk requests bounded by bytes and count, retrying within a time budget."""

    def __init__(
        self,
        client: BulkClient,
        *,
        fallbacks: Sequence[Fallback] = (),
        max_bytes: int = 5 * 1024 * 1024,
        max_docs: int = 5000,
        margin_ms: int = 1500,
        request_timeout_s: float = 30.0,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        refresh_credentials: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self._refresh_credentials = refresh_credentials
        self._refreshed = False
        self._fallbacks = tuple(fallbacks)
        self._max_bytes = max_bytes
        self._max_docs = max_docs
        self._margin_ms = margin_ms
        self._request_timeout_s = request_timeout_s
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._sleep = sleep

    def write(self, documents: Sequence[Document], deadline: Deadline) -> Ledger:
        """Write every document or leave it counted as pending; never drops one silently."""
        ledger = Ledger(events_in=len(documents))
        self._refreshed = False
        queue: list[_Entry] = []
        for document in documents:
            try:
                queue.append(_Entry(document, encode(document)))
            except (ValueError, RecursionError) as exc:  # NaN, or nesting deeper than JSON encoders go
                queue.extend(self._fall_back(_Entry(document, b""), {"type": UNENCODABLE, "reason": str(exc)[:300]},
                                             ledger))
        attempt = 0
        while queue:
            if attempt:
                if not self._wait(attempt, deadline):
                    break
                ledger.retried += len(queue)
            queue = self._send_all(queue, deadline, ledger)
            attempt += 1
        ledger.pending += len(queue)
        return ledger

    def _wait(self, attempt: int, deadline: Deadline) -> bool:
        """Full-jitter exponential backoff, never sleeping past the time budget."""
        budget_s = (deadline.remaining_ms() - self._margin_ms) / 1000
        if budget_s <= 0.5:
            return False
        delay = random.random() * min(self._backoff_cap_s, self._backoff_base_s * 2 ** attempt)
        self._sleep(min(delay, budget_s - 0.5))
        return True

    def _chunks(self, queue: list[_Entry]) -> Iterator[list[_Entry]]:
        chunk: list[_Entry] = []
        size = 0
        for entry in queue:
            if chunk and (size + len(entry.body) > self._max_bytes or len(chunk) >= self._max_docs):
                yield chunk
                chunk, size = [], 0
            chunk.append(entry)
            size += len(entry.body)
        if chunk:
            yield chunk

    def _send_all(self, queue: list[_Entry], deadline: Deadline, ledger: Ledger) -> list[_Entry]:
        """One pass over the queue; returns what is worth trying again."""
        retry: list[_Entry] = []
        for chunk in self._chunks(queue):
            timeout_s = min(self._request_timeout_s, (deadline.remaining_ms() - self._margin_ms) / 1000)
            if timeout_s < 1:
                retry.extend(chunk)
                ledger.add_reason("time ran out before the request could be sent")
                continue
            retry.extend(self._send(chunk, timeout_s, ledger))
        return retry

    def _send(self, chunk: list[_Entry], timeout_s: float, ledger: Ledger) -> list[_Entry]:
        body = b"".join(entry.body for entry in chunk)
        ledger.bytes += len(body)
        try:
            response = self._client.bulk(body=body, request_timeout=timeout_s)
        except TransportConnectionError as exc:
            ledger.add_reason(f"OpenSearch unreachable: {exc.error}")
            return chunk
        except TransportError as exc:
            return self._request_failed(chunk, exc, len(body), ledger)
        retry: list[_Entry] = []
        for entry, item in zip(chunk, response["items"], strict=True):
            result = next(iter(item.values()))
            retry.extend(self._settle(entry, int(result.get("status", 0)), result.get("error"), ledger))
        return retry

    def _request_failed(self, chunk: list[_Entry], exc: TransportError, size: int, ledger: Ledger) -> list[_Entry]:
        status = exc.status_code
        if status in RETRYABLE_STATUSES:
            ledger.add_reason(f"OpenSearch answered {status} to the whole request")
            return chunk
        if status == 413 and len(chunk) > 1:
            # The domain accepts less than we sent (its http.max_content_length): halve what was refused.
            self._max_bytes = max(1024, min(self._max_bytes, size) // 2)
            ledger.add_reason(f"request too large (413); bulk size lowered to {self._max_bytes} bytes")
            return chunk
        if status == 401 and self._refresh_credentials and not self._refreshed:
            self._refresh_credentials()  # once per batch: a rotated password, not a wrong one
            self._refreshed = True
            ledger.add_reason("401: credentials read again (rotated?)")
            return chunk
        if status in (401, 403):
            raise OpenSearchRefusedError(
                f"OpenSearch refused the bulk request ({status}: {exc.error}). Check that the shipper's role "
                "may write (es:ESHttpPost, the collection's data access policy, or the domain's role "
                "mapping) and that OPENSEARCH_AUTH matches the endpoint"
            ) from exc
        # Anything else (413 for one document, 400 for a malformed request) is about the content.
        retry: list[_Entry] = []
        for entry in chunk:
            retry.extend(self._settle(entry, status if isinstance(status, int) else 400,
                                      {"type": str(exc.error), "reason": str(exc.info)[:500]}, ledger))
        return retry

    def _settle(self, entry: _Entry, status: int, error: Any, ledger: Ledger) -> list[_Entry]:
        """Record one item's outcome; return what to try next (the same entry, its fallback, or nothing)."""
        if status in (200, 201, 409):
            # 409 on create: written by an earlier attempt or delivery. At stage 0 that is a duplicate;
            # at a fallback stage the stand-in was kept before, which is the outcome of that stage.
            if entry.stage == 0:
                if status == 409:
                    ledger.duplicates += 1
                else:
                    ledger.indexed += 1
            elif entry.stage < len(self._fallbacks):
                ledger.degraded += 1
            else:
                ledger.failed += 1
            return []
        if status in RETRYABLE_STATUSES:
            ledger.add_reason(f"item rejected with {status}: {_reason(error)['type']}")
            return [entry]
        return self._fall_back(entry, _reason(error), ledger)

    def _fall_back(self, entry: _Entry, reason: dict[str, Any], ledger: Ledger) -> list[_Entry]:
        """The next fallback that offers a stand-in (a fallback may decline: None), or pending."""
        stage = entry.stage
        while stage < len(self._fallbacks):
            replacement = self._fallbacks[stage](entry.document, reason)
            stage += 1
            if replacement is not None:
                return [_Entry(replacement, encode(replacement), stage)]
        ledger.pending += 1
        ledger.add_reason(f"rejected and no fallback left: {reason['type']}: {reason['reason']}"[:300])
        return []
