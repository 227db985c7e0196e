"""A recording HTTP server that answers like Elasticsearch 9, 8 or 7 (default or OSS build), since none can run here.

It holds the rules Elasticsearch's code and documentation give for what this project sends (the rules themselves, each
with its source, are in elastic_rules.py), and records every request as it came over the wire:

- a body needs a ``Content-Type`` Elasticsearch supports (JSON; for ``_bulk`` also NDJSON), else 406; REST API
  compatibility (``compatible-with=N``) on both Accept and Content-Type, the same version, the current major or the one
  before (else 400); Elasticsearch 7 refuses the ``compatible-with=8`` types (406); gzip bodies; ``Authorization``;
- ``GET /`` and ``GET /_nodes/_local`` (``filter_path``) as the version and build flavor answer them;
- ``PUT/GET _index_template/<name>``: built-in templates present from the start (``logs`` for ``logs-*-*`` at 100...),
  Fleet's AWS integration templates at 200 with ``fleet_templates=True``; the same-priority overlap refusal, unknown
  mapping types (``flat_object`` always, ``flattened`` on OSS or before 7.3) and ``index.mode`` by version;
- a new index or data stream takes the highest-priority matching template; a ``logs-*-*`` data stream whose template
  leaves ``index.mode`` unset becomes ``logsdb`` where ``cluster.logsdb.enabled`` (9.x default); logsdb indices return
  synthetic ``_source`` (``GET <index>/_doc/<id>``, ``_search`` with match_all) unless the license falls back to stored;
- ILM: ``PUT/GET _ilm/policy/<name>`` validated by version, ``PUT/GET <target>/_settings[/<name>]`` (an index without the
  asked setting is left out of the answer), ``GET <target>/_ilm/explain``; OSS builds have no ILM;
- ``POST _bulk``: ``create`` by ``_id`` (409 when taken), data streams (``create`` only, ``@timestamp``), ``?pipeline=``,
  404 per item when ``auto_create_index=False``, 403 per item when ``create_index_denied=True``;
- anything else: ``no handler found for uri [...] and method [...]`` (400), as Elasticsearch answers unknown paths.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.integration import elastic_rules as rules
from tests.integration.elastic_rules import HttpAnswer, cause, error, index_not_found
from tests.integration.fault_proxy import Seen, plain
from tests.integration.term_limits import flattened_refusal
from tests.simple_patterns import simple_match

__all__ = ["ElasticStandIn", "HttpAnswer"]

JSON_TYPES = ("application/json", "application/vnd.elasticsearch+json")
NDJSON_TYPES = ("application/x-ndjson", "application/vnd.elasticsearch+x-ndjson")
MISMATCH = ("A compatible version is required on both Content-Type and Accept headers if either one has requested a "
            "compatible version and the compatible versions must match.")
# AuthorizationDenialMessages: the index privileges that grant indices:admin/auto_create
AUTO_CREATE_PRIVILEGES = "auto_configure,create_index,manage,all"


def _media(value: str) -> tuple[str, int | None]:
    """``application/vnd.elasticsearch+json; compatible-with=8`` -> (the type, 8)."""
    kind, *params = [part.strip() for part in value.split(";")]
    version = next((int(p.split("=", 1)[1]) for p in params if p.replace(" ", "").startswith("compatible-with=")
                    and p.split("=", 1)[1].strip().isdigit()), None)
    return kind.lower(), version


class ElasticStandIn:
    """``with ElasticStandIn("8.15.0", authorization="ApiKey ...") as es: ... es.url ... es.seen``.

    ``oss=True``: an OSS build (7.x up to 7.10.2) or an AWS Elasticsearch Service domain: ``build_flavor: "oss"``, no
    x-pack (no ``flattened``, no ILM, no built-in templates). ``logsdb``: ``cluster.logsdb.enabled`` (default: true from
    9.0, as on a cluster without 8.x logs data; false before). ``license``: synthetic ``_source`` needs "enterprise" (or
    "trial"); others fall back to stored ``_source``. ``user``/``roles`` name the caller in 403 answers.
    """

    def __init__(self, version: str = "8.15.0", *, authorization: str = "", pipelines: tuple[str, ...] = (),
                 oss: bool = False, fleet_templates: bool = False, auto_create_index: bool = True,
                 create_index_denied: bool = False, logsdb: bool | None = None, license: str = "enterprise",
                 user: str = "logship", roles: tuple[str, ...] = ("logship_writer",)) -> None:
        self.version, self.v = version, rules.parse_version(version)
        self.major = self.v[0]
        self.oss, self.authorization, self.pipelines = oss, authorization, set(pipelines)
        self.auto_create_index, self.create_index_denied = auto_create_index, create_index_denied
        self.logsdb_enabled = (self.v >= (9, 0, 0)) if logsdb is None else logsdb
        self.license, self.user, self.roles = license, user, roles
        self.builtin_templates = rules.builtin_templates(self.v, oss) | (
            rules.fleet_aws_templates() if fleet_templates else {})
        self.templates: dict[str, dict[str, Any]] = {}  # as PUT by clients
        self.policies: dict[str, dict[str, Any]] = {}  # as PUT by clients
        self.policy_versions: dict[str, int] = {}
        self.indices: dict[str, dict[str, Any]] = {}  # concrete index -> settings (flat), mappings, data_stream...
        self.data_streams: dict[str, list[str]] = {}  # name -> backing indices, the write index last
        self.documents: dict[tuple[str, str], dict[str, Any]] = {}  # (index or data stream, _id) -> source as sent
        self.placed: dict[tuple[str, str], str] = {}  # (index or data stream, _id) -> concrete index
        self.seen: list[Seen] = []
        self._lock = threading.RLock()
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

    @property
    def all_templates(self) -> dict[str, dict[str, Any]]:
        return {**self.builtin_templates, **self.templates}

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
        """Whether ``name`` is, or would become, a data stream (its winning template declares one)."""
        won = rules.winning_template(name, self.all_templates)
        return name in self.data_streams or bool(won and won[1].get("data_stream") is not None)

    # ---------------------------------------------------------------------------------------- the APIs
    def answer(self, seen: Seen) -> tuple[int, Any]:
        parts = urlsplit(seen.path)
        path, query = unquote(parts.path), {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body, method = plain(seen.body, seen.headers), seen.method
        segments = [s for s in path.split("/") if s]
        head, tail = (segments[0] if segments else ""), segments[1:]
        if not segments and method in ("GET", "HEAD"):
            return 200, rules.main_info(self.version, self.oss)
        if head == "_nodes" and method == "GET" and tail in ([], ["_local"]):
            nodes = rules.nodes_local(self.version, self.oss)
            return 200, rules.filter_path(nodes, query["filter_path"]) if "filter_path" in query else nodes
        if "_ilm" in segments and self.oss:
            return self._oss_ilm(method, segments, seen.path)
        if head == "_index_template" and len(tail) <= 1:
            return self._index_template(method, tail[0] if tail else "", body)
        if head == "_ilm" and tail[:1] == ["policy"] and len(tail) <= 2:
            return self._policy(method, tail[1] if len(tail) == 2 else "", body)
        if tail == ["_ilm", "explain"] and method == "GET":
            return 200, {"indices": {name: self._explain(name) for name in self.resolve(head, query)}}
        if head == "_ingest" and tail[:1] == ["pipeline"] and len(tail) == 2 and method == "GET":
            return (200, {tail[1]: {"processors": []}}) if tail[1] in self.pipelines else (404, {})
        return self._data_apis(method, segments, query, body, seen.path)

    def _data_apis(self, method: str, segments: list[str], query: dict[str, str], body: bytes,
                   uri: str) -> tuple[int, Any]:
        """_bulk, _settings, _search and _doc, with or without a target in front."""
        if segments and segments[-1] == "_bulk" and len(segments) <= 2 and method in ("POST", "PUT"):
            default = segments[0] if len(segments) == 2 else ""
            return 200, self.bulk(body, query.get("pipeline", ""), default)
        settings_path = segments[segments.index("_settings"):] if "_settings" in segments[:2] else []
        if settings_path and len(settings_path) <= 2:
            target = segments[0] if segments[0] != "_settings" else "_all"
            names = settings_path[1] if len(settings_path) == 2 else ""
            if method == "PUT" and not names:
                return self._put_settings(target, body, query)
            if method == "GET":
                return 200, self._get_settings(target, names, query)
        if segments[-1:] == ["_search"] and len(segments) <= 2 and method in ("GET", "POST"):
            return 200, self._search(segments[0] if len(segments) == 2 else "_all", body, query)
        if len(segments) == 3 and segments[1] == "_doc" and method == "GET":
            return self._get_doc(segments[0], segments[2])
        raise rules.no_handler(uri, method)

    # -------------------------------------------------------------------------------------- templates
    def _index_template(self, method: str, name: str, body: bytes) -> tuple[int, Any]:
        if method in ("PUT", "POST") and name:
            template = json.loads(body)
            with self._lock:
                rules.check_template(name, template, self.all_templates, self.v, self.oss)
                self.templates[name] = template
            return 200, {"acknowledged": True}
        if method == "GET":
            found = {n: t for n, t in self.all_templates.items() if not name or simple_match(name, n)}
            if name and not found and "*" not in name:
                raise error(404, cause("resource_not_found_exception", f"index template matching [{name}] not found"))
            return 200, {"index_templates": [{"name": n, "index_template": rules.shown_template(t, self.v)}
                                             for n, t in found.items()]}
        raise rules.no_handler(f"/_index_template/{name}", method)

    # -------------------------------------------------------------------------------------------- ILM
    def _policy(self, method: str, name: str, body: bytes) -> tuple[int, Any]:
        if method == "PUT" and name:
            policy = json.loads(body)
            rules.check_policy(policy, body.decode(), self.v)
            with self._lock:
                self.policies[name] = policy
                self.policy_versions[name] = self.policy_versions.get(name, 0) + 1
            return 200, {"acknowledged": True}
        if method == "GET":
            names = [name] if name else sorted(self.policies)
            if name and name not in self.policies:  # TransportGetLifecycleAction
                raise error(404, cause("resource_not_found_exception", f"Lifecycle policy not found: {name}"))
            return 200, {n: {"version": self.policy_versions[n], "modified_date": "2025-11-22T10:00:00.000Z",
                             "policy": rules.shown_policy(self.policies[n]["policy"]), "in_use_by": self._in_use_by(n)}
                         for n in names}
        raise rules.no_handler(f"/_ilm/policy/{name}", method)

    def _in_use_by(self, policy: str) -> dict[str, list[str]]:
        indices = sorted(n for n, i in self.indices.items() if i["settings"].get("index.lifecycle.name") == policy)
        streams = sorted({i["data_stream"] for n, i in self.indices.items() if n in indices and i["data_stream"]})
        templates = sorted(n for n, t in self.all_templates.items() if rules.flat_settings(
            (t.get("template") or {}).get("settings") or {}).get("index.lifecycle.name") == policy)
        return {"indices": indices, "data_streams": streams, "composable_templates": templates}

    def _oss_ilm(self, method: str, segments: list[str], uri: str) -> tuple[int, Any]:
        """An OSS 7.x build has no ILM; ``/_ilm/policy/x`` still matches 7.x's typed document routes
        (``/{index}/{type}/{id}``): a PUT indexes into index ``_ilm`` (invalid name), a GET finds no index (INFERRED)."""
        if len(segments) == 3 and segments[0] == "_ilm" and method == "PUT":
            raise error(400, cause("invalid_index_name_exception",
                                   "Invalid index name [_ilm], must not start with '_', '-', or '+'",
                                   index_uuid="_na_", index="_ilm"))
        if len(segments) == 3 and method == "GET" and segments[0] not in self.indices:
            raise error(404, index_not_found(segments[0]))
        raise rules.no_handler(uri, method)

    def _cache_phase(self, index: dict[str, Any]) -> None:
        """The phase definition is cached in the index metadata when it enters the phase (policy-updates.md)."""
        policy = index["settings"].get("index.lifecycle.name")
        found = self.policies.get(policy or "")
        index["phase_execution"] = None if not found else {
            "policy": policy, "phase_definition": rules.shown_policy(found["policy"])["phases"].get("hot"),
            "version": self.policy_versions[policy], "modified_date_in_millis": index["created"]}

    def _explain(self, name: str) -> dict[str, Any]:
        index = self.indices[name]
        policy = index["settings"].get("index.lifecycle.name")
        if not policy:
            return {"index": name, "managed": False}
        entry = {"index": name, "managed": True, "policy": policy, "index_creation_date_millis": index["created"],
                 "lifecycle_date_millis": index["created"]}
        if policy not in self.policies:  # INFERRED step_info text
            return {**entry, "step": "ERROR", "step_info": {"type": "illegal_argument_exception",
                                                            "reason": f"policy [{policy}] does not exist"}}
        if index["phase_execution"] is None:
            self._cache_phase(index)
        hot = (index["phase_execution"]["phase_definition"] or {}).get("actions") or {}
        writing = index["data_stream"] and self.data_streams[index["data_stream"]][-1] == name
        action, step = ("rollover", "check-rollover-ready") if "rollover" in hot and writing else ("complete", "complete")
        return {**entry, "phase": "hot", "phase_time_millis": index["created"], "action": action,
                "action_time_millis": index["created"], "step": step, "step_time_millis": index["created"],
                "phase_execution": index["phase_execution"]}

    # -------------------------------------------------------------------------------- indices, settings
    def resolve(self, expression: str, query: dict[str, str]) -> list[str]:
        """Concrete indices of a comma list of names, data streams (their backing indices) and ``*`` patterns;
        a missing name is 404 unless ``ignore_unavailable``, an empty result 404 when ``allow_no_indices=false``."""
        found: list[str] = []
        for part in expression.split(","):
            if part in ("_all", "*", ""):
                found += [n for n in self.indices if not n.startswith(".")]
                found += [b for backing in self.data_streams.values() for b in backing]
            elif "*" in part:
                found += [n for n in self.indices if simple_match(part, n) and not n.startswith(".")]
                found += [b for s, backing in self.data_streams.items() if simple_match(part, s) for b in backing]
            elif part in self.data_streams:
                found += self.data_streams[part]
            elif part in self.indices:
                found.append(part)
            elif query.get("ignore_unavailable") != "true":
                raise error(404, index_not_found(part))
        if not found and query.get("allow_no_indices") == "false":
            raise error(404, index_not_found(expression))
        return list(dict.fromkeys(found))

    def _put_settings(self, target: str, body: bytes, query: dict[str, str]) -> tuple[int, Any]:
        given = json.loads(body or b"{}")
        given = given["settings"] if set(given) == {"settings"} else given  # RestUpdateSettingsAction
        flat = rules.flat_settings(given)
        for key in flat:
            if self.oss and key.startswith("index.lifecycle."):  # no ILM: not a registered setting (INFERRED type)
                raise error(400, cause("illegal_argument_exception", rules.unknown_setting(key)))
        with self._lock:
            for name in self.resolve(target, query):
                index = self.indices[name]
                index["settings"].update(flat)
                if "index.lifecycle.name" in flat:
                    self._cache_phase(index)
        return 200, {"acknowledged": True}

    def _get_settings(self, target: str, names: str, query: dict[str, str]) -> dict[str, Any]:
        """GetSettingsResponse omits an index whose (filtered) settings are empty unless ``include_defaults``."""
        answer: dict[str, Any] = {}
        defaults = {"index.lifecycle.name": "", "index.mode": "standard", "index.hidden": "false"}
        wanted = names.split(",") if names else []
        for name in self.resolve(target, query):
            index = self.indices[name]
            shown = {"index.creation_date": str(index["created"]), "index.number_of_shards": "1",
                     "index.number_of_replicas": "1", "index.provided_name": name, "index.uuid": index["uuid"],
                     **({"index.hidden": "true"} if index["data_stream"] else {}), **index["settings"]}
            kept = {k: v for k, v in shown.items() if not wanted or any(simple_match(w, k) for w in wanted)}
            extra = {k: v for k, v in defaults.items() if k not in shown and (
                not wanted or any(simple_match(w, k) for w in wanted))}
            if not kept and query.get("include_defaults") != "true":
                continue
            flat = query.get("flat_settings") == "true"
            entry = {"settings": rules.nested_settings(kept) if not flat else {k: rules.setting_text(v)
                                                                                for k, v in kept.items()}}
            if query.get("include_defaults") == "true":
                entry["defaults"] = rules.nested_settings(extra) if not flat else extra
            answer[name] = entry
        return answer

    # ---------------------------------------------------------------------------------------- documents
    def shown_source(self, concrete: str, source: dict[str, Any]) -> dict[str, Any]:
        """Synthetic _source for logsdb/time_series indices (unless stored), the source as sent otherwise."""
        index = self.indices[concrete]
        mode = index["settings"].get("index.mode")
        source_mode = index["settings"].get("index.mapping.source.mode") or (
            "synthetic" if mode in ("logsdb", "time_series") else "stored")
        if source_mode != "synthetic":
            return source
        return rules.synthetic_source(source, index["mappings"], index["settings"])

    def _get_doc(self, target: str, doc_id: str) -> tuple[int, Any]:
        concrete = self.resolve(target, {})  # a data stream name is answered from its backing indices (APPROX)
        typed = {"_type": "_doc"} if self.major < 8 else {}
        for (written, found_id), source in list(self.documents.items()):
            where = self.placed.get((written, found_id))
            if found_id == doc_id and where in concrete:
                return 200, {"_index": where, **typed, "_id": doc_id, "_version": 1, "_seq_no": 0, "_primary_term": 1,
                             "found": True, "_source": self.shown_source(where, source)}
        return 404, {"_index": concrete[0] if concrete else target, **typed, "_id": doc_id, "found": False}

    def _search(self, target: str, body: bytes, query: dict[str, str]) -> dict[str, Any]:
        request = json.loads(body) if body else {}
        asked = request.get("query") or {"match_all": {}}
        if set(asked) != {"match_all"}:
            raise HttpAnswer(400, {"error": f"the Elasticsearch stand-in implements only match_all, not {asked}"})
        concrete = self.resolve(target, query)
        hits = [(self.placed[key], key[1], source) for key, source in list(self.documents.items())
                if self.placed.get(key) in concrete]
        size, start = int(request.get("size", query.get("size", 10))), int(request.get("from", query.get("from", 0)))
        typed = {"_type": "_doc"} if self.major < 8 else {}
        shown = [{"_index": index, **typed, "_id": doc_id, "_score": 1.0, "_source": self.shown_source(index, source)}
                 for index, doc_id, source in hits[start:start + size]]
        return {"took": 1, "timed_out": False, "_shards": {"total": len(concrete), "successful": len(concrete),
                                                             "skipped": 0, "failed": 0},
                "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0 if hits else None,
                         "hits": shown}}

    # -------------------------------------------------------------------------------------------- _bulk
    def bulk(self, body: bytes, pipeline: str, default_index: str = "") -> dict[str, Any]:
        lines = [line for line in body.decode().splitlines() if line.strip()]
        items, i = [], 0
        while i < len(lines):
            action = json.loads(lines[i])
            [(op, meta)] = action.items()
            meta.setdefault("_index", default_index)
            source = json.loads(lines[i + 1]) if op != "delete" else {}
            i += 1 if op == "delete" else 2
            items.append(self.item(action, source, pipeline))
        return {"took": 3, "errors": any(next(iter(item.values()))["status"] >= 300 for item in items), "items": items}

    def item(self, action: dict[str, Any], source: dict[str, Any], pipeline: str) -> dict[str, Any]:
        [(op, meta)] = action.items()
        target, doc_id = meta["_index"], meta.get("_id") or uuid.uuid4().hex[:20]
        index, failure = target, None
        if pipeline and pipeline not in self.pipelines:
            failure = 400, cause("illegal_argument_exception", f"pipeline with id [{pipeline}] does not exist")
        else:
            with self._lock:
                index, failure = self._write_target(target)
                stream = target in self.data_streams
                if failure:
                    pass
                elif stream and op != "create":  # refused before a backing index is chosen: named by the stream
                    index, failure = target, (400, cause("illegal_argument_exception", "only write ops with an "
                                                         "op_type of create are allowed in data streams"))
                elif stream and "@timestamp" not in source:
                    failure = 400, cause("document_parsing_exception",
                                         "data stream timestamp field [@timestamp] is missing")
                elif content := self._refused_content(index, source, doc_id):
                    failure = 400, content
                elif (target, doc_id) in self.documents:
                    failure = 409, cause("version_conflict_engine_exception",
                                         f"[{doc_id}]: version conflict, document already exists (current version [1])",
                                         index_uuid=self.indices[index]["uuid"], shard="0", index=index)
                else:
                    self.documents[(target, doc_id)] = source
                    self.placed[(target, doc_id)] = index
        if failure:
            return {op: {"_index": index, "_id": doc_id, "status": failure[0], "error": failure[1]}}
        return {op: {"_index": index, "_id": doc_id, "_version": 1, "result": "created", "status": 201}}

    def _refused_content(self, index: str, source: dict[str, Any], doc_id: str) -> dict[str, Any] | None:
        """What a flattened field refuses: a term over Lucene's limit, or nesting past its depth_limit."""
        properties = (self.indices[index]["mappings"] or {}).get("properties") or {}
        for field, spec in properties.items():
            if spec.get("type") == "flattened" and field in source:
                refusal = flattened_refusal(field, source[field], doc_id, self.v >= (8, 8, 0))
                if refusal:
                    return refusal
        return None

    def _write_target(self, target: str) -> tuple[str, tuple[int, dict[str, Any]] | None]:
        """The concrete index a write to ``target`` lands in, auto-creating it (or its data stream) from the winning
        template; or why not: ``action.auto_create_index: false`` (AutoCreateIndex; a template's
        ``allow_auto_create`` overrides it), missing ``indices:admin/auto_create`` privileges."""
        if target in self.data_streams:
            return self.data_streams[target][-1], None
        if target in self.indices:
            return target, None
        won = rules.winning_template(target, self.all_templates)
        template = won[1] if won else {}
        if not template.get("allow_auto_create", self.auto_create_index):
            return target, (404, index_not_found(target, "[action.auto_create_index] is [false]"))
        if self.create_index_denied:
            return target, (403, cause("security_exception", self._denied(target)))
        stream = target if template.get("data_stream") is not None else None
        today = datetime.datetime.now(datetime.UTC).strftime("%Y.%m.%d")
        name = (f".ds-{target}-{today}-000001" if self.major >= 8 else f".ds-{target}-000001") if stream else target
        inner = template.get("template") or {}
        settings = rules.flat_settings(inner.get("settings") or {})
        if (stream and "index.mode" not in settings and self.logsdb_enabled and self.v >= (8, 15, 0)
                and simple_match("logs-*-*", stream)):
            settings["index.mode"] = "logsdb"  # LogsdbIndexModeSettingsProvider
        if settings.get("index.mode") == "logsdb" and self.license not in ("enterprise", "trial"):
            settings.setdefault("index.mapping.source.mode", "stored")  # LogsdbLicenseService fallback
        mappings = json.loads(json.dumps(inner.get("mappings") or {}))
        if stream:  # a data stream maps @timestamp as date when the template does not (data-streams docs)
            mappings.setdefault("properties", {}).setdefault("@timestamp", {"type": "date"})
        self.indices[name] = {"settings": settings, "mappings": mappings, "data_stream": stream,
                              "template": won[0] if won else None, "created": int(time.time() * 1000),
                              "uuid": uuid.uuid4().hex[:22], "phase_execution": None}
        if settings.get("index.lifecycle.name"):
            self._cache_phase(self.indices[name])
        if stream:
            self.data_streams[stream] = [name]
        return name, None

    def _denied(self, index: str) -> str:
        """AuthorizationDenialMessages.actionDenied for indices:admin/auto_create, as the version words it."""
        scheme, _, token = (self.authorization or "").partition(" ")
        who = f"user [{self.user}]"
        if scheme == "ApiKey":  # an API key is named by its id; roles are not printed for API keys
            key_id = base64.b64decode(token + "==").decode(errors="replace").split(":", 1)[0]
            who = f"API key id [{key_id}] of {who}"
        elif self.v >= (8, 5, 0):
            who += f" with effective roles [{','.join(sorted(self.roles))}]"
        elif self.v >= (7, 13, 0):
            who += f" with roles [{','.join(self.roles)}]"
        message = f"action [indices:admin/auto_create] is unauthorized for {who}"
        if self.v >= (7, 12, 0):
            message += f" on indices [{index}], this action is granted by the index privileges [{AUTO_CREATE_PRIVILEGES}]"
        return message


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
        # X-Elastic-Product from 7.14 (PR #73434/#73919), not on unauthenticated answers, never from OSS builds
        if stand_in.v >= (7, 14, 0) and not stand_in.oss and status != 401:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        if status == 401:
            self.send_header("WWW-Authenticate", 'ApiKey, Basic realm="security"')
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args: Any) -> None:
        pass
