"""A small HTTP proxy in front of osmem-server that injects the faults OpenSearch produces under load.

Faults are injected on the wire, between opensearch-py and the server, so the shipper under test runs
unmodified: per-item 429s inside a bulk response, whole-request errors, and recorded request headers.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Faults:
    item_status: int = 0          # answer every other bulk item with this status instead of forwarding it
    item_fault_requests: int = 0  # ... for this many bulk requests
    request_status: int = 0       # answer whole requests with this status
    request_fault_count: int = 0  # ... this many times
    max_body_bytes: int = 0       # answer larger requests 413, as a domain's http.max_content_length does
    authorization: str = ""       # answer 401 to requests without exactly this Authorization header
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    bulk_requests: int = 0


class FaultProxy:
    """``with FaultProxy(upstream_url) as proxy: ... proxy.url ... proxy.faults.item_status = 429``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = Faults()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _forward(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(self.upstream + path, data=body, method=method,
                                         headers={"Content-Type": headers.get("Content-Type", "application/json")})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _bulk_with_item_faults(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        lines = body.decode().splitlines()
        pairs = [(lines[i], lines[i + 1]) for i in range(0, len(lines), 2)]
        faulty = set(range(1, len(pairs), 2))
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
                items.append({op: {"_index": meta["_index"], "_id": meta["_id"], "status": self.faults.item_status,
                                   "error": {"type": "es_rejected_execution_exception",
                                             "reason": "rejected execution: write queue is full"}}})
            else:
                items.append(next(real))
        return 200, json.dumps({"took": 1, "errors": True, "items": items}).encode()

    def handle(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        faults = self.faults
        with self._lock:
            faults.seen_headers.append(headers)
            is_bulk = path.split("?")[0].endswith("/_bulk")
            faults.bulk_requests += is_bulk
            if faults.request_fault_count > 0:
                faults.request_fault_count -= 1
                error = {"error": {"type": "injected", "reason": "injected by FaultProxy"}, "status": faults.request_status}
                return faults.request_status, json.dumps(error).encode()
            sent = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            if faults.authorization and sent != faults.authorization:
                return 401, b'{"error": {"type": "security_exception", "reason": "unauthorized"}, "status": 401}'
            if faults.max_body_bytes and body and len(body) > faults.max_body_bytes:
                return 413, b'{"error": {"type": "content_too_long", "reason": "request entity too large"}}'
            item_faults = is_bulk and faults.item_fault_requests > 0
            if item_faults:
                faults.item_fault_requests -= 1
        if item_faults and body:
            return self._bulk_with_item_faults(path, body, headers)
        return self._forward(method, path, body, headers)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                status, payload = proxy.handle(self.command, self.path, body, dict(self.headers.items()))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
