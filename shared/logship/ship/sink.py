"""Bulk-write documents to OpenSearch and give every one exactly one outcome.

Outcomes: indexed, duplicate (409 on create: written before), degraded/failed (rejected for its
content, kept by a fallback), or pending (still retryable when time ran out). The caller raises on
pending, so Lambda's retries and then the dead-letter queue take over; ``_id`` keeps that idempotent.
"""

from __future__ import annotations

import random
import re
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Protocol

from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import ConnectionTimeout, SerializationError, TransportError
from urllib3.exceptions import ConnectTimeoutError

from logship.cluster.answers import ClusterAnswer
from logship.cluster.bounded_connection import CredentialsTimeoutError
from logship.cluster.secrets import secret_error_in
from logship.ship.documents import UNENCODABLE, Document, Page, bulk_lines

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Answers after which the request may still have been carried out: a retry's 409 is then our own write.
_MAYBE_DONE_STATUSES = frozenset({500, 502, 503, 504})
# A request needs at least this long to be worth sending; less, and it is left pending for Lambda's retry.
MIN_REQUEST_S = 1.0
_NOISE = re.compile(r"\s*\([^()]*\d[^()]*\)")  # "(925 bytes read, 926 more expected)", "(connect timeout=2.0)"


class Deadline(Protocol):
    def remaining_ms(self) -> int: ...


class BulkClient(Protocol):
    def bulk(self, body: Any, **kwargs: Any) -> dict[str, Any]: ...


class WriteStoppedError(RuntimeError):
    """Sending cannot go on this invocation; ``ledger`` accounts for every document (the rest pending)."""

    ledger: Ledger | None = None


class OpenSearchRefusedError(WriteStoppedError):
    """OpenSearch refused the whole request for a reason retrying cannot fix (auth, bad endpoint)."""


class MisconfiguredError(OpenSearchRefusedError):
    """The cluster refuses the documents for a setting of its own or of the stack's (a permission, automatic index
    creation off, a missing pipeline): every retry would meet it, so the batch is kept at once, with the fix."""


class CredentialsError(WriteStoppedError):
    """The credentials for OpenSearch cannot be read or used (a malformed or unreadable secret)."""


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
    # Of ``indexed``: written by a request whose answer was lost, confirmed by a 409 on the retry.
    confirmed_on_retry: int = 0

    def add_reason(self, reason: str) -> None:
        if len(self.reasons) < 5 and reason not in self.reasons:
            self.reasons.append(reason)

    @property
    def settled(self) -> int:
        return self.indexed + self.duplicates + self.degraded + self.failed + self.pending


@dataclass(slots=True)
class _Entry:
    document: Document
    body: bytes
    stage: int = 0
    refusals: int = 0  # whole requests refused while carrying it (a 400 not about any one item)
    maybe_written: bool = False  # a request carrying it may have been carried out; its answer was lost


# What a request carries: a page of documents on their first try (made into entries only if one needs retry
# state), or an entry.
_Item = Page | _Entry


def _as_entries(items: Iterable[_Item]) -> list[_Entry]:
    entries: list[_Entry] = []
    for item in items:
        if type(item) is Page:
            entries += [_Entry(document, document.body) for document in item.documents()]  # type: ignore[arg-type]
        else:
            entries.append(item)  # type: ignore[arg-type]
    return entries


def _bodies(items: list[_Item]) -> list[bytes]:
    """Each document's bulk lines, in the request's order."""
    bodies: list[bytes] = []
    for item in items:
        if type(item) is Page:
            bodies += item.bodies
        else:
            bodies.append(item.body)  # type: ignore[union-attr]
    return bodies


def _count(item: _Item) -> int:
    return len(item) if type(item) is Page else 1


def _size(item: _Item) -> int:
    return item.size if type(item) is Page else len(item.body)  # type: ignore[union-attr]


def encode(document: Document) -> bytes:
    """The two NDJSON lines of a ``create`` action; ``create`` makes a replay a 409, never a copy."""
    return bulk_lines(document)


def encode_without_id(document: Document) -> bytes:
    """A ``create`` action the cluster gives an id of its own: for collections that refuse custom ids
    (OpenSearch Serverless time series). A replay then makes a copy; ``aws.cloudwatch.event_id`` tells them apart.
    """
    return bulk_lines(document, with_id=False)


# Item refusals no document can get past: every one would take the fallback chain to no end. Stop and say why.
_MISCONFIGURED = (
    (re.compile(r"Document ID is not supported"),
     "the collection refuses document ids (an OpenSearch Serverless time series collection): deploy with "
     "DocumentIds=false (DOCUMENT_IDS=false; retries may then index an event twice), or use a search collection"),
    (re.compile(r"pipeline with id \[(?P<name>[^\]]*)\] does not exist"),
     "the ingest pipeline {name} does not exist on the cluster: create it, or change IngestPipeline "
     "(INGEST_PIPELINE), then replay the dead-letter queue"),
    # OpenSearch's security plugin (fine-grained access control): "no permissions for [indices:admin/create] and
    # User [name=..., backend_roles=[...], requestedTenant=null]"
    (re.compile(r"no permissions for \[indices:admin/(?:create|auto_create)\] and User \[name=(?P<user>[^,\]]*)"),
     "the shipper's role ({user}) may not create indices: in the role mapped to it (ShipLogsRoleArn), allow "
     "create_index (indices:admin/create) on the stack's indices, then replay the dead-letter queue"),
    # Elasticsearch: "action [indices:admin/auto_create] is unauthorized for user [u] with effective roles [...] on
    # indices [x], this action is granted by the index privileges [auto_configure,create_index,manage,all]"
    (re.compile(r"action \[indices:admin/(?:auto_)?create\] is unauthorized for (?P<who>.+?) on indices "
                r"\[(?P<index>[^\]]*)\]"),
     "the shipper's credentials ({who}) may not create the index {index}: grant auto_configure (or create_index) "
     "on the stack's indices, then replay the dead-letter queue"),
    # action.auto_create_index false, or excluding these names (AutoCreateIndex, OpenSearch and Elasticsearch
    # alike: IndexNotFoundException("[action.auto_create_index] is [false]", index)). Any other "no such index"
    # (an index deleted while a request was on its way) is retried as usual.
    (re.compile(r"no such index \[(?P<index>[^\]]*)\] and \[action\.auto_create_index\]"),
     "the cluster does not create the index {index} on a write (action.auto_create_index): allow the stack's "
     "index patterns in action.auto_create_index, then replay the dead-letter queue"),
)


def _misconfiguration(error: Any) -> str | None:
    """What to fix when an item's refusal says the shipper's settings do not fit the cluster, else None."""
    reason = error.get("reason") if isinstance(error, dict) else None
    if not isinstance(reason, str):
        return None
    for pattern, fix in _MISCONFIGURED:
        match = pattern.search(reason)
        if match:
            return fix.format(**match.groupdict())
    return None


def _reason(error: Any) -> dict[str, Any]:
    if isinstance(error, dict):
        return {"type": error.get("type", "unknown"), "reason": error.get("reason", "")}
    return {"type": "unknown", "reason": str(error)}


def _request_reason(exc: TransportError) -> dict[str, Any]:
    """What OpenSearch said about a whole request: its error type and reason, else the status."""
    answer = ClusterAnswer.of(exc)
    return {"type": answer.type or str(exc.error), "reason": answer.reason}


def _never_sent(exc: TransportConnectionError) -> bool:
    """Refused, unresolvable or timed out while connecting: the request cannot have reached OpenSearch."""
    return isinstance(exc.info, ConnectTimeoutError)  # urllib3's NewConnectionError is one too


def _plain(error: Any) -> str:
    """urllib3's words without the connection object, byte counts or timeout value: a repeat reads the same."""
    args = getattr(error, "args", ())
    if isinstance(getattr(error, "_message", None), str):  # urllib3's NewConnectionError keeps it apart
        args = (error._message,)
    words = [arg if isinstance(arg, str) else type(arg).__name__ for arg in args
             if isinstance(arg, str | BaseException)]
    return _NOISE.sub("", ": ".join(words) if words else str(error)).strip()[:200]


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up at call time, so a test's virtual clock can stand in


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
        sleep: Callable[[float], None] = _sleep,
        refresh_credentials: Callable[[], None] | None = None,
        bulk_options: dict[str, Any] | None = None,
        document_ids: bool = True,
    ) -> None:
        self._client = client
        self._bulk_options = dict(bulk_options or {})  # the ingest pipeline, the media type: every request
        self._encode = encode if document_ids else encode_without_id
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

    def write(self, documents: Iterable[Page | Document], deadline: Deadline, *,
              failed: Iterable[Document] = ()) -> Ledger:
        """Write every document or leave it counted as pending; never drops one silently.

        ``documents`` may be a generator of pages (the builder's, bulk lines ready) and documents (encoded here):
        they are sent in bulk requests as they come, so a batch's documents need not all exist at once.
        ``failed`` are stand-ins already in their last form (events the payload could not carry), sent after
        them: counted ``failed`` once written. Raises :class:`WriteStoppedError` (with the ledger) when sending
        cannot go on: credentials refused or unreadable.
        """
        ledger = Ledger()
        self._refreshed = False
        documents, failed = iter(documents), iter(failed)
        try:
            self._drain(self._first_pass(documents, failed, deadline, ledger), deadline, ledger)
        except WriteStoppedError as stop:
            ledger.events_in += sum(map(_count, documents)) + sum(1 for _ in failed)  # never read: pending too
            ledger.pending += ledger.events_in - ledger.settled
            ledger.reasons = [str(stop)[:300], *ledger.reasons][:5]
            self._confirmations(ledger)
            stop.ledger = ledger
            raise
        self._confirmations(ledger)
        return ledger

    def _first_pass(self, documents: Iterator[Page | Document], failed: Iterator[Document], deadline: Deadline,
                    ledger: Ledger) -> list[_Entry]:
        """Every document sent once, in bulk requests bounded by bytes and count, as the documents come (then
        ``failed``); returns what is worth trying again."""
        return self._send_all(self._first_items(documents, failed, ledger), deadline, ledger)

    def _first_items(self, documents: Iterator[Page | Document], failed: Iterator[Document],
                     ledger: Ledger) -> Iterator[_Item]:
        """Each page or document counted in (a document encoded here); then the stand-ins."""
        for item in documents:
            if type(item) is Page:
                ledger.events_in += len(item)
                yield item
            else:
                ledger.events_in += 1
                if (entry := self._entry(item, ledger)) is not None:  # type: ignore[arg-type]
                    yield entry
        yield from self._stand_ins(failed, ledger)

    def _entry(self, document: Document, ledger: Ledger) -> _Entry | None:
        """A document to encode here (the stdlib's encoder); None when it fell back to nothing (pending)."""
        try:
            return _Entry(document, self._encode(document))
        except (ValueError, RecursionError) as exc:  # NaN, or nesting deeper than JSON encoders go
            stand_in = self._fall_back(_Entry(document, b""), {"type": UNENCODABLE, "reason": str(exc)[:300]}, ledger)
            return stand_in[0] if stand_in else None

    def _stand_ins(self, failed: Iterator[Document], ledger: Ledger) -> Iterator[_Entry]:
        last_stage = len(self._fallbacks)
        for document in failed:
            ledger.events_in += 1
            yield _Entry(document, self._encode(document), last_stage)

    def _drain(self, queue: list[_Entry], deadline: Deadline, ledger: Ledger) -> None:
        """Retry what the first pass left, after waits, while the invocation has time."""
        attempt = 1
        while queue:
            if not self._wait(attempt, deadline):
                break
            ledger.retried += len(queue)
            queue = self._send_all(queue, deadline, ledger)
            attempt += 1
        ledger.pending += len(queue)

    @staticmethod
    def _confirmations(ledger: Ledger) -> None:
        if ledger.confirmed_on_retry:
            reason = (f"{ledger.confirmed_on_retry} written by a request whose answer was lost, confirmed by 409 "
                      "on the retry: counted as indexed")
            ledger.reasons = [reason, *ledger.reasons][:5]

    def _wait(self, attempt: int, deadline: Deadline) -> bool:
        """Full-jitter exponential backoff, never sleeping past what a last request still needs."""
        budget_s = (deadline.remaining_ms() - self._margin_ms) / 1000 - MIN_REQUEST_S
        if budget_s <= 0:
            return False
        delay = random.random() * min(self._backoff_cap_s, self._backoff_base_s * 2 ** attempt)
        self._sleep(min(delay, budget_s))
        return True

    def _chunks(self, queue: Iterable[_Item]) -> Iterator[list[_Item]]:
        """The queue in bulk requests of at most ``max_docs`` documents and ``max_bytes`` (a document larger than
        that alone goes alone); a page is cut where a request is full."""
        chunk: list[_Item] = []
        size = count = 0
        for item in queue:
            while item is not None:
                item_size, item_count = _size(item), _count(item)
                if size + item_size <= self._max_bytes and count + item_count <= self._max_docs:
                    chunk.append(item)
                    size, count = size + item_size, count + item_count
                    break
                if chunk:  # full: what of the item fits goes with it, the rest starts the next request
                    fitting = self._fitting(item, self._max_bytes - size, self._max_docs - count)
                else:  # larger than a request alone: as much as fits, at least one document
                    fitting = max(1, self._fitting(item, self._max_bytes, self._max_docs))
                if fitting >= item_count:
                    chunk.append(item)
                    item = None
                elif fitting:
                    head, item = item.cut(fitting)  # type: ignore[union-attr]  # only a page has more than one
                    chunk.append(head)
                yield chunk
                chunk, size, count = [], 0, 0
        if chunk:
            yield chunk

    @staticmethod
    def _fitting(item: _Item, room_bytes: int, room_docs: int) -> int:
        """How many of the item's first documents fit in what is left of a request."""
        if type(item) is not Page:
            return 0
        return min(bisect_right(list(accumulate(map(len, item.bodies))), room_bytes), room_docs)

    def _send_all(self, queue: Iterable[_Item], deadline: Deadline, ledger: Ledger) -> list[_Entry]:
        """One pass over the queue, a bulk request at a time; returns what is worth trying again."""
        retry: list[_Entry] = []
        for chunk in self._chunks(queue):
            retry.extend(self._send(chunk, deadline, ledger))
            del chunk  # sent: the next request's documents are gathered without this one's held
        return retry

    def _send(self, items: list[_Item], deadline: Deadline, ledger: Ledger) -> list[_Entry]:
        # The connection ends the request at this wall-clock bound whatever the server does (trickle, silence).
        timeout_s = min(self._request_timeout_s, (deadline.remaining_ms() - self._margin_ms) / 1000)
        if timeout_s < MIN_REQUEST_S:
            ledger.add_reason("time ran out before the request could be sent")
            return _as_entries(items)
        bodies = _bodies(items)
        body = b"".join(bodies)
        ledger.bytes += len(body)
        try:
            response = self._client.bulk(body=body, request_timeout=timeout_s, **self._bulk_options)
        except TransportConnectionError as exc:
            return self._no_answer(_as_entries(items), exc, ledger)
        except TransportError as exc:
            return self._request_failed(_as_entries(items), exc, len(body), deadline, ledger)
        except SerializationError as exc:  # a 2xx whose body is not JSON: whatever happened is unknown
            return self._unknown(_as_entries(items), f"OpenSearch answered with a body that is not JSON: {exc}"[:200],
                                 ledger)
        answers = response.get("items") if isinstance(response, dict) else None
        if not isinstance(answers, list) or len(answers) != len(bodies):
            return self._unknown(_as_entries(items), "OpenSearch answered without one item per document", ledger)
        if response.get("errors") is False:  # the bulk API's word that every item succeeded
            entries = [item for item in items if type(item) is _Entry]
            ledger.indexed += len(bodies) - len(entries)  # documents on their first try
            for entry in entries:
                self._settle(entry, 201, None, ledger)
            return []
        retry: list[_Entry] = []
        for entry, answer in zip(_as_entries(items), answers, strict=True):
            result = next(iter(answer.values()), None) if isinstance(answer, dict) else None
            status = result.get("status") if isinstance(result, dict) else None
            if not isinstance(status, int):  # an item that says nothing: its fate is unknown, try it again
                retry.extend(self._unknown([entry], "OpenSearch answered an item without a status", ledger))
                continue
            retry.extend(self._settle(entry, status, result.get("error"), ledger))
        return retry

    @staticmethod
    def _unknown(chunk: list[_Entry], reason: str, ledger: Ledger) -> list[_Entry]:
        for entry in chunk:
            entry.maybe_written = True
        ledger.add_reason(reason)
        return chunk

    def _no_answer(self, chunk: list[_Entry], exc: TransportConnectionError, ledger: Ledger) -> list[_Entry]:
        secret = secret_error_in(exc)
        if secret is not None:
            raise CredentialsError(f"OpenSearch credentials unusable, not retried: {secret}") from secret
        if isinstance(exc.info, CredentialsTimeoutError):
            ledger.add_reason(str(exc.info))
            return chunk
        if _never_sent(exc):
            ledger.add_reason(f"OpenSearch unreachable: {_plain(exc.info)}")
            return chunk
        if isinstance(exc, ConnectionTimeout):
            return self._unknown(chunk, "no complete answer before the request's deadline (it may have been "
                                 "written: a retry's 409 counts as indexed)", ledger)
        return self._unknown(chunk, f"connection lost before the answer (it may have been written): "
                                    f"{_plain(exc.info)}", ledger)

    def _request_failed(self, chunk: list[_Entry], exc: TransportError, size: int, deadline: Deadline,
                        ledger: Ledger) -> list[_Entry]:
        status = exc.status_code
        if status in RETRYABLE_STATUSES:
            ledger.add_reason(f"OpenSearch answered {status} to the whole request")
            if status in _MAYBE_DONE_STATUSES:  # a gateway's 502/504 often comes after the work was done
                for entry in chunk:
                    entry.maybe_written = True
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
        if status in (404, 405):  # the bulk API answers per item; a whole-request 404 is the wrong address
            raise OpenSearchRefusedError(
                f"the endpoint does not serve the bulk API ({status}: {exc.error}). Check OPENSEARCH_ENDPOINT: "
                "the domain or collection URL, with no path after the host unless a proxy needs one"
            ) from exc
        return self._narrow(chunk, status if isinstance(status, int) else 400, _request_reason(exc), deadline, ledger)

    def _narrow(self, chunk: list[_Entry], status: int, reason: dict[str, Any], deadline: Deadline,
                ledger: Ledger) -> list[_Entry]:
        """A whole request refused (a 400 not about any one item): retry it once, then split it in halves
        until only the documents refused on their own are left; those take the fallback chain."""
        for entry in chunk:
            entry.refusals += 1
        # Refused for the first time: maybe transient, retry as it is. A document refused twice is split
        # out even if the request also carries others refused only once (or never).
        if max(entry.refusals for entry in chunk) < 2:
            ledger.add_reason(f"OpenSearch refused a whole request ({status} {reason['type']}); retried, "
                              "then narrowed down to the documents it refuses")
            return chunk
        if len(chunk) == 1:
            return self._fall_back(chunk[0], reason, ledger)
        ledger.retried += len(chunk)
        middle = len(chunk) // 2
        return self._send(chunk[:middle], deadline, ledger) + self._send(chunk[middle:], deadline, ledger)

    def _settle(self, entry: _Entry, status: int, error: Any, ledger: Ledger) -> list[_Entry]:
        """Record one item's outcome; return what to try next (the same entry, its fallback, or nothing)."""
        if status in (200, 201, 409):
            # 409 on create: written by an earlier attempt or delivery. At stage 0 that is a duplicate,
            # unless this invocation's own request may have written it (its answer was lost); at a
            # fallback stage the stand-in was kept before, which is the outcome of that stage.
            if entry.stage == 0:
                if status != 409:
                    ledger.indexed += 1
                elif entry.maybe_written:
                    ledger.indexed += 1
                    ledger.confirmed_on_retry += 1
                else:
                    ledger.duplicates += 1
            elif entry.stage < len(self._fallbacks):
                ledger.degraded += 1
            else:
                ledger.failed += 1
            return []
        if status in RETRYABLE_STATUSES:
            ledger.add_reason(f"item rejected with {status}: {_reason(error)['type']}")
            return [entry]
        fix = _misconfiguration(error)
        if fix:
            raise MisconfiguredError(f"{status} {_reason(error)['type']}: {fix}")
        return self._fall_back(entry, _reason(error), ledger)

    def _fall_back(self, entry: _Entry, reason: dict[str, Any], ledger: Ledger) -> list[_Entry]:
        """The next fallback that offers a stand-in (a fallback may decline: None), or pending."""
        stage = entry.stage
        while stage < len(self._fallbacks):
            replacement = self._fallbacks[stage](entry.document, reason)
            stage += 1
            if replacement is not None:
                return [_Entry(replacement, self._encode(replacement), stage)]
        ledger.pending += 1
        ledger.add_reason(f"rejected and no fallback left: {reason['type']}: {reason['reason']}"[:300])
        return []
