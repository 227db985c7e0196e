"""A small HTTP proxy in front of osmem-server that injects the faults OpenSearch (and what stands in front
of it) produces: per-item and whole-request errors, answers lost after the data was written, slow,
silent, trickling and dropped responses, a flapping server, and a listener that never accepts.

Faults are injected on the wire, between opensearch-py and the server, so the shipper under test runs
unmodified. Each ``*_count`` is how many bulk requests get the fault: a number, or ``ALWAYS``.

Bodies are forwarded as they came (gzip included, with their ``Content-Encoding``); what the proxy reads
itself (ids, sizes) it reads decompressed, except ``max_body_bytes``, which limits the bytes on the wire.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ALWAYS = -1


@dataclass(frozen=True)
class Seen:
    """One request as the proxy received it: ``body`` is the bytes on the wire (compressed or not)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    @property
    def plain(self) -> bytes:
        """The body as the cluster reads it: decompressed when it came gzipped."""
        return plain(self.body, self.headers)


def plain(body: bytes | None, headers: dict[str, str]) -> bytes:
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
    return gzip.decompress(body) if body and encoding.lower() == "gzip" else body or b""


@dataclass
class Faults:
    item_status: int = 0          # answer every other bulk item with this status instead of forwarding it
    item_fault_requests: int = 0  # ... for this many bulk requests
    request_status: int = 0       # answer whole requests with this status, without forwarding them
    request_fault_count: int = 0  # ... this many times
    request_fault_after: int = 0  # ... once this many bulk requests went through
    written_status: int = 0       # forward bulk requests (the data is written), then answer this status
    written_count: int = 0
    hold_seconds: float = 0.0     # forward, then hold the answer this long (read timeouts, late answers)
    hold_count: int = 0
    silence_count: int = 0        # forward, send the status line and headers, then nothing
    hang_count: int = 0           # read the request, never forward it, never answer
    trickle_count: int = 0        # forward, then send the answer padded to trickle_bytes, 4 KiB every 0.5 s
    trickle_bytes: int = 256 * 1024
    drop_count: int = 0           # forward, send half of the answer, close the connection
    flap_count: int = 0           # every other bulk request (first, third, ...): connection closed unanswered
    poison_id: str = ""           # answer 400 to every bulk request creating this _id outside a -failed- index
    max_body_bytes: int = 0       # answer larger requests 413, as a domain's http.max_content_length does
    authorization: str = ""       # answer 401 to requests without exactly this Authorization header
    refuse_ids: bool = False      # answer bulk items that carry an _id 400, as a Serverless time series collection
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)  # every request, as it came over the wire
    bulk_requests: int = 0
    forwarded_bulk: int = 0

    def take(self, counter: str) -> bool:
        """Whether this request gets the fault counted by ``counter``, counting it down."""
        left = getattr(self, counter)
        if left == ALWAYS:
            return True
        if left > 0:
            setattr(self, counter, left - 1)
            return True
        return False


# How a bulk request is answered, decided under the lock before any slow work.
FORWARD, ERROR, WRITTEN, HOLD, SILENCE, HANG, TRICKLE, DROP, CLOSE, ITEMS, ITEMS_REFUSED = range(11)


class FaultProxy:
    """``with FaultProxy(upstream_url) as proxy: ... proxy.url ... proxy.faults.item_status = 429``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = Faults()
        self.stopping = threading.Event()  # releases handlers that hang or trickle when the proxy closes
        self._lock = threading.Lock()
        self._flap_up = True  # the first flapping request finds the server down
        self._item_faulted: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        """The fault is fixed: forward everything from now on (counters kept)."""
        with self._lock:
            kept = {"seen_headers": self.faults.seen_headers, "seen": self.faults.seen,
                    "bulk_requests": self.faults.bulk_requests, "forwarded_bulk": self.faults.forwarded_bulk}
            self.faults = Faults(**kept)

    def _forward(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        sent = {k.lower(): v for k, v in headers.items()}
        forwarded = {"Content-Type": sent.get("content-type", "application/json")}
        if sent.get("content-encoding"):
            forwarded["Content-Encoding"] = sent["content-encoding"]
        request = urllib.request.Request(self.upstream + path, data=body, method=method, headers=forwarded)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _bulk_with_item_faults(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        lines = plain(body, headers).decode().splitlines()
        headers = {k: v for k, v in headers.items() if k.lower() != "content-encoding"}  # forwarded plain
        pairs = [(lines[i], lines[i + 1]) for i in range(0, len(lines), 2)]
        ids = [next(iter(json.loads(action).values())).get("_id") for action, _source in pairs]
        # Every other item, and each item rejected before: the same documents, request after request.
        faulty = {i for i, doc_id in enumerate(ids) if i % 2 or doc_id in self._item_faulted}
        self._item_faulted.update(ids[i] for i in faulty)
        forwarded = [pair for i, pair in enumerate(pairs) if i not in faulty]
        real_items: list[dict[str, Any]] = []
        if forwarded:
            payload = "".join(f"{a}\n{s}\n" for a, s in forwarded).encode()
            _, raw = self._forward("POST", path, payload, headers)
            real_items = json.loads(raw)["items"]
        items, real = [], iter(real_items)
        for i, (action, _source) in enumerate(pairs):
            if i in faulty:
                op, meta = next(iter(json.loads(action).items()))
                items.append({op: {"_index": meta["_index"], "_id": meta.get("_id"), "status": self.faults.item_status,
                                   "error": _item_error(self.faults.item_status)}})
            else:
                items.append(next(real))
        return 200, json.dumps({"took": 1, "errors": True, "items": items}).encode()

    def _poisoned(self, body: bytes) -> bool:
        if not self.faults.poison_id or not body:
            return False
        for line in body.decode(errors="replace").splitlines()[::2]:
            meta = next(iter(json.loads(line).values()))
            if meta.get("_id") == self.faults.poison_id and "-failed-" not in meta.get("_index", ""):
                return True
        return False

    def _plan(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, int, bytes]:
        """(how to answer, status, error body) for one request; counts faults down under the lock."""
        faults = self.faults
        with self._lock:
            faults.seen_headers.append(headers)
            faults.seen.append(Seen(method, path, headers, body or b""))
            is_bulk = path.split("?")[0].endswith("/_bulk")
            faults.bulk_requests += is_bulk
            if is_bulk and faults.bulk_requests > faults.request_fault_after and faults.take("request_fault_count"):
                error = {"error": {"type": "injected", "reason": "injected by FaultProxy"},
                         "status": faults.request_status}
                return ERROR, faults.request_status, json.dumps(error).encode()
            status, refusal = self._refusal(headers, body)
            if status:
                return ERROR, status, refusal
            if not is_bulk:
                return FORWARD, 0, b""
            return self._bulk_plan(plain(body, headers))

    def _bulk_plan(self, body: bytes) -> tuple[int, int, bytes]:
        faults = self.faults
        if faults.refuse_ids and b'"_id"' in body:
            return ITEMS_REFUSED, 0, body
        if self._poisoned(body):
            reason = f"Validation Failed: 1: id [{faults.poison_id}] is refused (injected by FaultProxy);"
            error = {"error": {"type": "action_request_validation_exception", "reason": reason}, "status": 400}
            return ERROR, 400, json.dumps(error).encode()
        if faults.flap_count:
            self._flap_up = not self._flap_up
            if not self._flap_up and faults.take("flap_count"):
                return CLOSE, 0, b""
        if faults.take("hang_count"):
            return HANG, 0, b""
        faults.forwarded_bulk += 1
        if faults.take("written_count"):
            return WRITTEN, faults.written_status, b""
        for mode, name in ((HOLD, "hold_count"), (SILENCE, "silence_count"), (TRICKLE, "trickle_count"),
                           (DROP, "drop_count"), (ITEMS, "item_fault_requests")):
            if faults.take(name):
                return mode, 0, b""
        return FORWARD, 0, b""

    def _refusal(self, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        faults = self.faults
        sent = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if faults.authorization and sent != faults.authorization:
            return 401, b'{"error": {"type": "security_exception", "reason": "unauthorized"}, "status": 401}'
        if faults.max_body_bytes and body and len(body) > faults.max_body_bytes:
            # Amazon OpenSearch Service's answer past the instance type's payload limit, as users have quoted it
            # ("413 Request Entity Too Large", open-metadata/OpenMetadata#15258, elasticsearch-dump#855)
            return 413, json.dumps({"Message": f"Request size exceeded {faults.max_body_bytes} bytes"}).encode()
        return 0, b""

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"proxy": self})


class _Handler(BaseHTTPRequestHandler):
    """Answers one request as the proxy's plan says."""

    proxy: FaultProxy

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = dict(self.headers.items())
        mode, status, payload = self.proxy._plan(self.command, self.path, body, headers)
        try:
            if mode == ITEMS_REFUSED:  # every item refused, nothing written
                mode, status, payload = ERROR, 200, _ids_refused(payload)
            if mode in (HANG, CLOSE):  # no answer at all; a hang holds the connection until the proxy closes
                if mode == HANG:
                    self.proxy.stopping.wait()
                self.close_connection = True
                return
            if mode != ERROR:
                status, payload = self._upstream(mode, status, body, headers)
            if mode == HOLD and self.proxy.stopping.wait(self.proxy.faults.hold_seconds):
                return
            self._send(mode, status, payload)
        except OSError:  # the client gave up (its deadline): nothing more to say
            self.close_connection = True

    def _upstream(self, mode: int, status: int, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        if mode == ITEMS and body:
            return self.proxy._bulk_with_item_faults(self.path, body, headers)
        real_status, payload = self.proxy._forward(self.command, self.path, body, headers)
        if mode == WRITTEN:
            return status, json.dumps({"message": "injected: the answer was lost after the write"}).encode()
        if mode == TRICKLE:
            payload += b" " * max(0, self.proxy.faults.trickle_bytes - len(payload))
        return real_status, payload

    def _send(self, mode: int, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.flush()
        if mode == SILENCE:
            self.proxy.stopping.wait()
        elif mode == DROP:
            self.wfile.write(payload[: len(payload) // 2])
        elif mode == TRICKLE:
            for start in range(0, len(payload), 4096):
                self.wfile.write(payload[start:start + 4096])
                self.wfile.flush()
                if self.proxy.stopping.wait(0.5):
                    break
        else:
            self.wfile.write(payload)
            return
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args: Any) -> None:
        pass


def _item_error(status: int) -> dict[str, str]:
    """A bulk item's error as OpenSearch gives it: 429 is its indexing pressure's rejection (IndexingPressure:
    OpenSearchRejectedExecutionException, "rejected_execution_exception"; Elasticsearch's "es_" prefix is
    not OpenSearch's), 503 a shard not yet allocated."""
    if status == 429:
        return {"type": "rejected_execution_exception", "reason": "rejected execution of coordinating operation "
                "[coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=54215758, "
                "max_coordinating_and_primary_bytes=53687091]"}
    if status == 503:
        return {"type": "unavailable_shards_exception",
                "reason": "[cwl][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest]"}
    return {"type": "exception", "reason": f"item answered {status}"}


def _ids_refused(body: bytes) -> bytes:
    """Each item of a bulk body answered as a time series collection answers one that names its ``_id``."""
    items = []
    for action in body.decode().splitlines()[::2]:
        op, meta = next(iter(json.loads(action).items()))
        error = {"type": "illegal_argument_exception",
                 "reason": "Document ID is not supported in create/index operation request"}
        items.append({op: {"_index": meta["_index"], "_id": meta.get("_id"), "status": 400, "error": error}})
    return json.dumps({"took": 1, "errors": True, "items": items}).encode()


class Unaccepting:
    """A port that is listened on but never accepts, its queue full: connecting to it times out."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        port = self._listener.getsockname()[1]
        self._fillers = []
        for _ in range(4):  # fill the accept queue, so the kernel drops further connection attempts
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):  # the handshake completes on its own
                filler.connect(("127.0.0.1", port))
            self._fillers.append(filler)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Unaccepting:
        return self

    def __exit__(self, *exc: Any) -> None:
        for sock in (*self._fillers, self._listener):
            sock.close()
