"""A recording HTTP server that answers like Elasticsearch 8 or 9 (or 7), since none can run here.

It holds the rules Elasticsearch's documentation gives for what this project sends, and records every request
as it came over the wire:

- a body needs a ``Content-Type`` Elasticsearch supports (JSON; for ``_bulk`` also NDJSON), else 406;
- REST API compatibility (``application/vnd.elasticsearch+json; compatible-with=N``): when either ``Accept``
  or ``Content-Type`` asks for a version, both must, with the same version, and only the current major or the
  one before it is honoured (else 400); Elasticsearch 7 here refuses the ``compatible-with=8`` types (406);
  answers come in the media type asked for (``...+json;compatible-with=8``);
- ``Content-Encoding: gzip`` bodies are decompressed; an ``Authorization`` other than the expected one is 401;
- ``GET /``, ``PUT _index_template/<name>``, ``PUT _ilm/policy/<name>``, ``GET _ingest/pipeline/<name>``
  (404 ``{}`` when missing) and ``POST _bulk``: ``create`` by ``_id`` (409 when the id is taken), and for a
  name an installed template declares a data stream: only ``create``, and ``@timestamp`` required;
  ``?pipeline=`` must name an existing pipeline (each item 400 otherwise).
"""

from __future__ import annotations

import fnmatch
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.integration.fault_proxy import Seen, plain

JSON_TYPES = ("application/json", "application/vnd.elasticsearch+json")
NDJSON_TYPES = ("application/x-ndjson", "application/vnd.elasticsearch+x-ndjson")
MISMATCH = ("A compatible version is required on both Content-Type and Accept headers if either one has requested a "
            "compatible version and the compatible versions must match.")


class HttpAnswer(Exception):  # an answer to send, not a failure of the stand-in
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _media(value: str) -> tuple[str, int | None]:
    """``application/vnd.elasticsearch+json; compatible-with=8`` -> (the type, 8)."""
    kind, *params = [part.strip() for part in value.split(";")]
    version = next((int(p.split("=", 1)[1]) for p in params if p.replace(" ", "").startswith("compatible-with=")
                    and p.split("=", 1)[1].strip().isdigit()), None)
    return kind.lower(), version


class ElasticStandIn:
    """``with ElasticStandIn("8.15.0", authorization="ApiKey ...") as es: ... es.url ... es.seen``."""

    def __init__(self, version: str = "8.15.0", *, authorization: str = "", pipelines: tuple[str, ...] = ()) -> None:
        self.version = version
        self.major = int(version.split(".")[0])
        self.authorization = authorization
        self.pipelines = set(pipelines)
        self.templates: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.documents: dict[tuple[str, str], dict[str, Any]] = {}  # (index or data stream, _id) -> source
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"stand_in": self}))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ElasticStandIn:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bulk_requests(self) -> list[Seen]:
        return [seen for seen in self.seen if urlsplit(seen.path).path.endswith("/_bulk")]

    # ------------------------------------------------------------------------------------- the rules
    def negotiate(self, seen: Seen) -> int | None:
        """Checks the media types as Elasticsearch does; returns the compatible version asked for, if any."""
        accept_type, accept_version = _media(seen.header("accept") or "application/json")
        content_type, content_version = _media(seen.header("content-type")) if seen.header("content-type") else (
            "", None)
        if seen.body:
            allowed = JSON_TYPES + (NDJSON_TYPES if urlsplit(seen.path).path.endswith("/_bulk") else ())
            if not content_type:
                raise HttpAnswer(406, {"error": "Content-Type header is missing", "status": 406})
            if content_type not in allowed or (self.major < 8 and content_type.startswith("application/vnd.")):
                raise HttpAnswer(406, {"error": f"Content-Type header [{seen.header('content-type')}] is not "
                                                "supported", "status": 406})
        if self.major < 8 and accept_type.startswith("application/vnd."):
            raise HttpAnswer(406, {"error": f"Accept header [{seen.header('accept')}] is not supported",
                                   "status": 406})
        asked = {accept_version} | ({content_version} if seen.body else set())
        if asked == {None}:
            return None
        if len(asked) > 1:
            reason = f"{MISMATCH} Accept={seen.header('accept')}, Content-Type={seen.header('content-type')}"
            raise HttpAnswer(400, {"error": {"type": "media_type_header_exception", "reason": reason}, "status": 400})
        [version] = asked
        if version not in (self.major, self.major - 1):
            reason = f"Accept version must be either version {self.major} or {self.major - 1}, but found {version}"
            raise HttpAnswer(400, {"error": {"type": "media_type_header_exception", "reason": reason}, "status": 400})
        return version

    def authorize(self, seen: Seen) -> None:
        if self.authorization and seen.header("authorization") != self.authorization:
            raise HttpAnswer(401, {"error": {"type": "security_exception", "reason": "unable to authenticate with "
                                             "provided credentials and anonymous access is not allowed for this "
                                             "request"}, "status": 401})

    def stream_for(self, name: str) -> bool:
        return any(body.get("data_stream") is not None and any(fnmatch.fnmatch(name, p) for p in body["index_patterns"])
                   for body in self.templates.values())

    # ---------------------------------------------------------------------------------------- the APIs
    def answer(self, seen: Seen) -> tuple[int, Any]:
        parts = urlsplit(seen.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        body = plain(seen.body, seen.headers)
        if (seen.method, path) == ("GET", "/"):
            return 200, {"name": "es01", "cluster_name": "logs", "version": {
                "number": self.version, "build_flavor": "default", "lucene_version": "9.11.1"},
                "tagline": "You Know, for Search"}
        if seen.method == "PUT" and path.startswith("/_index_template/"):
            self.templates[path.rsplit("/", 1)[1]] = json.loads(body)
            return 200, {"acknowledged": True}
        if seen.method == "PUT" and path.startswith("/_ilm/policy/"):
            self.policies[path.rsplit("/", 1)[1]] = json.loads(body)
            return 200, {"acknowledged": True}
        if seen.method == "GET" and path.startswith("/_ingest/pipeline/"):
            name = path.rsplit("/", 1)[1]
            return (200, {name: {"processors": []}}) if name in self.pipelines else (404, {})
        if seen.method in ("POST", "PUT") and path.endswith("/_bulk"):
            return 200, self.bulk(body, query.get("pipeline", [""])[0])
        return 400, {"error": f"no handler found for uri [{path}] and method [{seen.method}]", "status": 400}

    def bulk(self, body: bytes, pipeline: str) -> dict[str, Any]:
        lines = body.decode().splitlines()
        items = [self.item(json.loads(lines[i]), json.loads(lines[i + 1]), pipeline) for i in range(0, len(lines), 2)]
        return {"took": 3, "errors": any(next(iter(item.values()))["status"] >= 300 for item in items), "items": items}

    def item(self, action: dict[str, Any], source: dict[str, Any], pipeline: str) -> dict[str, Any]:
        [(op, meta)] = action.items()
        target, doc_id = meta["_index"], meta.get("_id") or uuid.uuid4().hex[:20]
        stream = self.stream_for(target)
        index = f".ds-{target}-2025.11.22-000001" if stream else target
        error = None
        if pipeline and pipeline not in self.pipelines:
            error = (400, "illegal_argument_exception", f"pipeline with id [{pipeline}] does not exist")
        elif stream and op != "create":
            error = (400, "illegal_argument_exception",
                     "only write ops with an op_type of create are allowed in data streams")
        elif stream and "@timestamp" not in source:
            error = (400, "document_parsing_exception", "data stream timestamp field [@timestamp] is missing")
        else:
            with self._lock:
                if (target, doc_id) in self.documents:
                    error = (409, "version_conflict_engine_exception",
                             f"[{doc_id}]: version conflict, document already exists (current version [1])")
                else:
                    self.documents[(target, doc_id)] = source
        if error:
            return {op: {"_index": index, "_id": doc_id, "status": error[0],
                         "error": {"type": error[1], "reason": error[2]}}}
        return {op: {"_index": index, "_id": doc_id, "_version": 1, "result": "created", "status": 201}}


class _Handler(BaseHTTPRequestHandler):
    stand_in: ElasticStandIn

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b"")
        stand_in = self.stand_in
        with stand_in._lock:
            stand_in.seen.append(seen)
        compatible = None
        try:
            compatible = stand_in.negotiate(seen)
            stand_in.authorize(seen)
            status, body = stand_in.answer(seen)
        except HttpAnswer as answer:
            status, body = answer.status, answer.body
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", f"application/vnd.elasticsearch+json;compatible-with={compatible}"
                         if compatible else "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        if status == 401:
            self.send_header("WWW-Authenticate", 'ApiKey, Basic realm="security"')
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args: Any) -> None:
        pass
