"""A recording HTTP server in front of osmem-server that answers as real OpenSearch where osmem-server cannot.

Everything is forwarded to osmem-server as it came (gzip bodies included), except:

- ``GET /``: the version block of the given OpenSearch ``version``, or, in compatibility mode
  (``compatibility.override_main_response_version``, 1.x and 2.0.1 to 2.19), the 7.10.2 spoof real OpenSearch
  gives; ``/_nodes...`` always carries the true version; 3.x and 2.0.0 refuse the setting.
- Index State Management (``_plugins/_ism`` and the legacy ``_opendistro/_ism``): policies, the ism_template
  rules, add / change_policy / remove / explain; with ``ism=False`` an unknown path, as without the plugin.
  An index that appears (``PUT <index>``, a write, a ``_bulk``) while a policy's ism_template matches it is
  managed at once by the highest priority; indices that existed before are not.
- ``denied_actions``: the security plugin's 403 for the actions logship uses; a ``_bulk`` item whose index is
  missing while ``indices:admin/create`` is denied gets the real per-item 403, the other items go through.

Limits: no data streams (osmem has none), no ISM job runner (explain shows a managed index as initialized at
once; a change_policy waits for ``run_jobs()``), no closed or hidden index handling, policies' actions are
echoed (only their ``retry`` default is added), the config index is not an index of osmem-server.
Sources and exact texts are cited rule by rule (repositories opensearch-project/OpenSearch, index-management, security).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.integration.fault_proxy import Seen, plain
from tests.integration.term_limits import flat_object_refusal
from tests.simple_patterns import intersect, simple_match

# index-management IndexManagementPlugin.INDEX_MANAGEMENT_INDEX
CONFIG_INDEX = ".opendistro-ism-config"
COMPAT = "compatibility.override_main_response_version"
# OpenSearch server/.../action/main/MainResponse.java: TAGLINE, kept in compatibility mode too
TAGLINE = "The OpenSearch Project: https://opensearch.org/"
# OpenSearch libs/core/.../Version.java (2.0-2.10), release notes (2.12: 9.9.2, 2.18: 9.12.0), docs (3.1: 10.2.1)
LUCENE = {(1, 0): "8.8.2", (1, 1): "8.9.0", (1, 2): "8.10.1", (1, 3): "8.10.1", (2, 0): "9.1.0", (2, 1): "9.2.0",
          (2, 2): "9.3.0", (2, 3): "9.3.0", (2, 4): "9.4.1", (2, 5): "9.4.2", (2, 6): "9.5.0", (2, 7): "9.5.0",
          (2, 8): "9.6.0", (2, 9): "9.7.0", (2, 10): "9.7.0", (2, 11): "9.7.0", (2, 12): "9.9.2", (2, 13): "9.10.0",
          (2, 14): "9.10.0", (2, 15): "9.10.0", (2, 16): "9.11.1", (2, 17): "9.11.1", (2, 18): "9.12.0",
          (2, 19): "9.12.1", (3, 0): "10.1.0", (3, 1): "10.2.1"}
# Version.computeMinCompatVersion / minimumIndexCompatibilityVersion, as GET / shows them per major
MINIMUM = {1: ("6.8.0", "6.0.0-beta1"), 2: ("7.10.0", "7.0.0"), 3: ("2.19.0", "2.0.0")}
# index-management mappings/opendistro-ism-config.json "_meta.schema_version" at each release tag
SCHEMA = ((1, 0, 10), (1, 2, 12), (1, 3, 13), (2, 0, 15), (2, 1, 16), (2, 4, 17), (2, 8, 18), (2, 10, 19),
          (2, 12, 21), (3, 0, 24))
# ManagedIndexSettings.DEFAULT_RESTRICTED_PATTERN
RESTRICTED = re.compile(r"\.opendistro_security|\.kibana.*|\.opendistro-ism-config")
ACTIONS = frozenset({"rollover", "delete", "read_only", "read_write", "replica_count", "force_merge", "notification",
                     "snapshot", "index_priority", "allocation", "close", "open", "rollup", "transform", "shrink",
                     "alias", "warm_migration", "cold_migration", "cold_delete"})
CONDITIONS = {"min_index_age": "time", "min_doc_count": "", "min_size": "size", "cron": "", "min_rollover_age": "time",
              "no_alias": "", "min_state_age": "time"}
TIME = re.compile(r"-1|0|\d+(nanos|micros|ms|s|m|h|d)")
SIZE = re.compile(r"-1|0|\d+(\.\d+)?(b|kb?|mb?|gb?|tb?|pb?)")
ISM_PATH = re.compile(r"/_(?:plugins|opendistro)/_ism/(.*)")
# (method, route under _ism/, handler, security action): index-management Rest*Action routes and *Action.NAME
ISM_ROUTES = (
    ("PUT", r"policies/([^/]+)", "put_policy", "cluster:admin/opendistro/ism/policy/write"),
    ("GET", r"policies/([^/]+)", "get_policy", "cluster:admin/opendistro/ism/policy/get"),
    ("HEAD", r"policies/([^/]+)", "get_policy", "cluster:admin/opendistro/ism/policy/get"),
    ("DELETE", r"policies/([^/]+)", "delete_policy", "cluster:admin/opendistro/ism/policy/delete"),
    ("GET", r"policies/?()", "list_policies", "cluster:admin/opendistro/ism/policy/search"),
    ("POST", r"add/?([^/]*)", "add", "cluster:admin/opendistro/ism/managedindex/add"),
    ("POST", r"change_policy/?([^/]*)", "change_policy", "cluster:admin/opendistro/ism/managedindex/change"),
    ("POST", r"remove/?([^/]*)", "remove", "cluster:admin/opendistro/ism/managedindex/remove"),
    ("GET", r"explain/?([^/]*)", "explain", "cluster:admin/opendistro/ism/managedindex/explain"),
)


class Answer(Exception):  # an answer to send, not a failure of the stand-in
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def failure(status: int, kind: str, reason: str, caused_by: dict[str, Any] | None = None, **meta: Any) -> Answer:
    """OpenSearchException.generateFailureXContent: root causes without their cause, then the error itself."""
    cause = {"type": kind, "reason": reason, **meta}
    error = {"root_cause": [cause], **cause, **({"caused_by": caused_by} if caused_by else {})}
    return Answer(status, {"error": error, "status": status})


def illegal(reason: str) -> Answer:  # Kotlin require()/IllegalArgumentException -> 400 (RestController)
    return failure(400, "illegal_argument_exception", reason)


def ism_failure(reason: str) -> Answer:
    """index-management util/IndexManagementException.wrap(IllegalArgumentException): 400, the original as cause."""
    return failure(400, "index_management_exception", reason,
                   caused_by={"type": "exception", "reason": f"java.lang.IllegalArgumentException: {reason}"})


def klist(items: list[Any]) -> str:  # Kotlin/Java List.toString()
    return "[" + ", ".join(map(str, items)) + "]"


def token(value: Any) -> str:  # the XContent token a JSON value starts with
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return {str: "VALUE_STRING", bool: "VALUE_BOOLEAN", type(None): "VALUE_NULL"}.get(type(value), "VALUE_NUMBER")


def expect(expected: str, value: Any) -> None:  # XContentParserUtils.ensureExpectedToken
    if token(value) != expected:
        raise failure(400, "parsing_exception",
                      f"Failed to parse object: expecting token of type [{expected}] but found [{token(value)}]")


def known_fields(doc: dict[str, Any], allowed: set[str] | dict[str, str], where: str) -> None:
    for name in doc:
        if name not in allowed:
            raise illegal(f"Invalid field: [{name}] found in {where}.")


# --------------------------------------------------------------------- the policy body, as Policy.parse reads it
def parse_policy(policy_id: str, body: Any) -> dict[str, Any]:
    """opensearchapi parseWithType: the first field's object is the policy, whatever its name; nothing may follow."""
    expect("START_OBJECT", body)
    if not body:
        raise failure(400, "parsing_exception",
                      "Failed to parse object: expecting token of type [FIELD_NAME] but found [END_OBJECT]")
    doc = next(iter(body.values()))
    expect("START_OBJECT", doc)
    if len(body) > 1:
        raise failure(400, "parsing_exception",
                      "Failed to parse object: expecting token of type [END_OBJECT] but found [FIELD_NAME]")
    known_fields(doc, {"schema_version", "last_updated_time", "policy_id", "description", "error_notification",
                       "default_state", "states", "ism_template", "user"}, "Policy")
    expect("START_ARRAY", doc.get("states", []))
    states = [parse_state(state) for state in doc.get("states", [])]
    templates = doc.get("ism_template")
    if templates is not None:
        templates = [parse_template(t) for t in (templates if isinstance(templates, list) else [templates])]
    for key in ("description", "default_state"):  # Policy.parse: requireNotNull(...) { "$FIELD is null" }
        if doc.get(key) is None:
            raise illegal(f"{key} is null")
    check_states(states, doc["default_state"])
    return {"policy_id": policy_id, "description": doc["description"], "last_updated_time": now(),
            "schema_version": doc.get("schema_version", 1), "error_notification": doc.get("error_notification"),
            "default_state": doc["default_state"], "states": states, "ism_template": templates}


def check_states(states: list[dict[str, Any]], default_state: str) -> None:
    """model/Policy.kt init { ... }, in its order."""
    names = [state["name"] for state in states]
    for state in states:
        for transition in state["transitions"]:
            if transition["state_name"] not in names:
                raise illegal(f"Policy contains a transition in state={state['name']} pointing to a nonexistent "
                              f"state={transition['state_name']}")
    if len(set(names)) != len(names):
        raise illegal("Policy cannot have duplicate state names")
    if not states:
        raise illegal("Policy must contain at least one State")
    if default_state not in names:
        raise illegal("Policy must have a valid default state")


def parse_state(doc: Any) -> dict[str, Any]:  # model/State.kt parse
    expect("START_OBJECT", doc)
    known_fields(doc, {"name", "actions", "transitions"}, "State")
    actions = [parse_action(a) for a in doc.get("actions", [])]
    transitions = [parse_transition(t) for t in doc.get("transitions", [])]
    if doc.get("name") is None:
        raise illegal("State name is null")
    return {"name": doc["name"], "actions": actions, "transitions": transitions}


def parse_action(doc: Any) -> dict[str, Any]:
    """ISMActionsParser.parse: an unknown type is refused; every action renders with its retry (3, exponential, 1m)."""
    expect("START_OBJECT", doc)
    kinds = [name for name in doc if name not in ("timeout", "retry")]
    for kind in kinds:
        if kind not in ACTIONS:
            raise illegal(f"Invalid field: [{kind}] found in Actions.")
    if not kinds:
        raise illegal("Action inside state is null")
    timeout = {"timeout": doc["timeout"]} if "timeout" in doc else {}
    return {**timeout, "retry": doc.get("retry", {"count": 3, "backoff": "exponential", "delay": "1m"}),
            kinds[-1]: doc[kinds[-1]]}


def parse_transition(doc: Any) -> dict[str, Any]:  # model/Transition.kt parse, Conditions.parse and init
    expect("START_OBJECT", doc)
    known_fields(doc, {"state_name", "conditions"}, "Transition")
    conditions = doc.get("conditions")
    if conditions is not None:
        known_fields(conditions, CONDITIONS, "Conditions")
        for name, value in conditions.items():
            check_value(name, CONDITIONS[name], value)
        if len(conditions) > 1:
            raise illegal("Cannot provide more than one Transition condition")
    if doc.get("state_name") is None:
        raise illegal("Transition state name is null")
    return {"state_name": doc["state_name"], **({"conditions": conditions} if conditions is not None else {})}


def check_value(name: str, kind: str, value: Any) -> None:
    """TimeValue.parseTimeValue / ByteSizeValue.parseBytesSizeValue: OpenSearchParseException -> parse_exception."""
    pattern, what = {"time": (TIME, "a time value"), "size": (SIZE, "a size in bytes")}.get(kind, (None, ""))
    if pattern and not pattern.fullmatch(str(value).strip().lower()):
        raise failure(400, "parse_exception", f"failed to parse setting [{name}] with value [{value}] as {what}: "
                                              "unit is missing or unrecognized")


def parse_template(doc: Any) -> dict[str, Any]:  # model/ISMTemplate.kt parse and init
    expect("START_OBJECT", doc)
    known_fields(doc, {"index_patterns", "priority", "last_updated_time"}, "ISMTemplate")
    patterns, priority = doc.get("index_patterns", []), doc.get("priority") or 0
    if priority < 0:
        raise illegal("Requires priority to be >= 0")
    if not patterns:
        raise illegal("Requires at least one index pattern")
    return {"index_patterns": patterns, "priority": priority, "last_updated_time": doc.get("last_updated_time", now())}


def check_patterns(patterns: list[str]) -> None:
    """ISMTemplateService.validateFormat (from MetadataIndexTemplateService.validate): a wrapped ValidationException."""
    errors = []
    for pattern in patterns:
        if "#" in pattern:
            errors.append(f"index_pattern [{pattern}] must not contain a '#'")
        if ":" in pattern:
            errors.append(f"index_pattern [{pattern}] must not contain a ':'")
        if pattern.startswith("_"):
            errors.append(f"index_pattern [{pattern}] must not start with '_'")
        if any(c in pattern for c in ' "\\<|,>/?'):
            errors.append(f"index_pattern [{pattern}] must not contain the following characters "
                          '[ , ", *, \\, <, |, ,, >, /, ?]')
    if errors:
        reason = "Validation Failed: " + "".join(f"{i}: {e};" for i, e in enumerate(errors, 1))
        raise failure(400, "index_management_exception", reason,
                      caused_by={"type": "exception", "reason": f"org.opensearch.common.ValidationException: {reason}"})


def now() -> int:
    return int(time.time() * 1000)


class OpenSearchStandIn:
    """``with OpenSearchStandIn(osmem_clone.url, version="2.11.0", ism=True) as os_: os_.url ...``"""

    def __init__(self, upstream: str, *, version: str = "2.11.0", ism: bool = True, compatibility_mode: bool = False,
                 denied_actions: frozenset[str] = frozenset(), user: str = "logship-installer",
                 auto_create_index: bool = True) -> None:
        self.upstream, self.version, self.ism = upstream.rstrip("/"), version, ism
        self.major, self.minor = (int(part) for part in version.split(".")[:2])
        if compatibility_mode and not self.knows_compat():
            raise ValueError(f"OpenSearch {version} has no {COMPAT} setting")
        self.compatibility_mode, self.denied_actions, self.user = compatibility_mode, denied_actions, user
        self.auto_create_index = auto_create_index  # action.auto_create_index (osmem-server ignores the setting)
        self.seen: list[Seen] = []
        self.policies: dict[str, dict[str, Any]] = {}  # id -> {"policy", "seq_no", "primary_term", "version", ...}
        self.managed: dict[str, dict[str, Any]] = {}   # index -> {"policy_id", "policy_seq_no", ...}
        self.config_index_uuid = ""  # the config index exists once a policy write reached the transport action
        self._seq = -1
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"stand_in": self}))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OpenSearchStandIn:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def knows_compat(self) -> bool:
        """Added in 1.0 (PRs 847, 898), removed in 2.0.0 (3031), back in 2.0.1 (3536/3530), gone in 3.0 (#18228)."""
        return self.major == 1 or (self.major == 2 and self.version != "2.0.0")

    # ----------------------------------------------------------------------------------------- plumbing
    def forward(self, seen: Seen, body: bytes | None = None, path: str | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": seen.header("content-type") or "application/json"}
        if body is None and seen.header("content-encoding"):
            headers["Content-Encoding"] = seen.header("content-encoding")
        data = (seen.body or None) if body is None else body
        request = urllib.request.Request(self.upstream + (path or seen.path), data=data, method=seen.method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def upstream_json(self, path: str) -> Any:
        return json.loads(self.forward(Seen("GET", path, {}, b""))[1])

    def indices(self) -> dict[str, dict[str, str]]:
        rows = self.upstream_json("/_cat/indices?format=json&h=index,uuid,creation.date&expand_wildcards=all")
        return {row["index"]: row for row in rows}

    def names(self) -> dict[str, dict[str, str]]:
        """The indices, and the aliases a write may target (these exist: no index to create)."""
        aliases = {row["alias"]: {} for row in self.upstream_json("/_cat/aliases?format=json")}
        return {**aliases, **self.indices()}

    def deny(self, action: str) -> None:
        """security SecurityFilter: "no permissions for %s and %s" (missing privileges, User.toString()), 403."""
        if action in self.denied_actions:
            raise failure(403, "security_exception", self.no_permission(action))

    def no_permission(self, action: str) -> str:
        return f"no permissions for [{action}] and User [name={self.user}, backend_roles=[], requestedTenant=null]"

    def next_seq(self) -> int:  # one shard of the config index holds policies and managed-index documents
        self._seq += 1
        return self._seq

    # ----------------------------------------------------------------------------------------- dispatch
    def handle(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        path = unquote(urlsplit(seen.path).path)
        try:
            if ISM_PATH.fullmatch(path):
                with self._lock:
                    return self.route_ism(seen, path)
            return self.route(seen, path)
        except Answer as answer:
            return answer.status, answer.body, answer.headers

    def route(self, seen: Seen, path: str) -> tuple[int, Any, dict[str, str]]:
        if (seen.method, path) == ("GET", "/"):
            return 200, self.main(), {}
        if seen.method == "GET" and path.startswith("/_nodes"):
            return self.nodes(seen)
        if (seen.method, path) == ("PUT", "/_cluster/settings"):
            self.cluster_settings(seen)
        if seen.method in ("PUT", "POST") and path.startswith("/_index_template/"):
            self.deny("indices:admin/index_template/put")  # PutComposableIndexTemplateAction.NAME
        if not writes(seen.method, path):
            return (*self.forward(seen), {})
        with self._lock:
            before = self.names() if self.watching() else {}
            status, payload = self.bulk(seen, path, before) if path.endswith("/_bulk") else self.write(seen, path,
                                                                                                       before)
            if self.watching():
                self.attach_new({k: v for k, v in self.names().items() if v}, before)
        return status, payload, {}

    def watching(self) -> bool:
        return "indices:admin/create" in self.denied_actions or not self.auto_create_index or any(
            p["policy"]["ism_template"] for p in self.policies.values())

    # ----------------------------------------------------------------------------------------- GET / and nodes
    def main(self) -> dict[str, Any]:
        """MainResponse.toXContent; in compatibility mode (1.x: MainResponse + TransportMainAction, PR 898) the number
        is LegacyESVersion.V_7_10_2 and "distribution" is left out; nothing else changes (no build_flavor, same
        tagline, lucene and minimum_* versions of the real engine)."""
        real = self.upstream_json("/")
        wire, index = MINIMUM[self.major]
        lucene = LUCENE.get((self.major, self.minor), LUCENE[max(k for k in LUCENE if k[0] == self.major)])
        number = {"number": "7.10.2"} if self.compatibility_mode else {"distribution": "opensearch",
                                                                       "number": self.version}
        return {"name": real["name"], "cluster_name": real["cluster_name"], "cluster_uuid": real["cluster_uuid"],
                "version": {**number, "build_type": "tar", "build_hash": real["version"]["build_hash"],
                            "build_date": real["version"]["build_date"], "build_snapshot": False,
                            "lucene_version": lucene, "minimum_wire_compatibility_version": wire,
                            "minimum_index_compatibility_version": index},
                "tagline": TAGLINE}

    def nodes(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        """Nodes info shows the node's own version (the override is only read by TransportMainAction)."""
        status, payload = self.forward(seen)
        body = json.loads(payload)
        for node in body.get("nodes", {}).values() if status == 200 else ():
            if isinstance(node, dict) and "version" in node:
                node["version"] = self.version
        return status, body, {}

    def cluster_settings(self, seen: Seen) -> None:
        """3.x refuses the removed setting (AbstractScopedSettings: "%s setting [%s], not recognized"), 400."""
        body = json.loads(plain(seen.body, seen.headers) or b"{}")
        for scope in ("persistent", "transient"):
            flat = flatten(body.get(scope) or {})
            if COMPAT in flat and not self.knows_compat():
                raise illegal(f"{scope} setting [{COMPAT}], not recognized")
            if COMPAT in flat:
                self.compatibility_mode = str(flat[COMPAT]).lower() == "true"

    # ----------------------------------------------------------------------------------------- writes
    def write(self, seen: Seen, path: str, existing: dict[str, Any]) -> tuple[int, bytes]:
        """A write creating its index needs indices:admin/create (auto_create is checked as create)."""
        index = path.strip("/").split("/")[0]
        if "indices:admin/create" in self.denied_actions and index not in existing:
            raise failure(403, "security_exception", self.no_permission("indices:admin/create"))
        return self.forward(seen)

    def bulk(self, seen: Seen, path: str, existing: dict[str, Any]) -> tuple[int, Any]:
        """TransportBulkAction: an auto-create that fails fails every item of that index with its exception
        (setResponseFailureIfIndexMatches); an item its index's mapping refuses fails alone (term_limits.py);
        the others are executed."""
        default = path.strip("/").split("/")[0] if path.count("/") > 1 else None
        items = bulk_items(plain(seen.body, seen.headers))
        refused: dict[int, tuple[int, dict[str, Any]]] = {}
        mappings: dict[str, dict[str, Any]] = {}
        for i, (op, meta, source) in enumerate(items):
            index = meta.get("_index", default)
            if op == "delete":
                continue
            if "indices:admin/create" in self.denied_actions and index not in existing:
                refused[i] = 403, {"type": "security_exception", "reason": self.no_permission("indices:admin/create")}
            elif not self.auto_create_index and index not in existing:
                # AutoCreateIndex: IndexNotFoundException("[action.auto_create_index] is [false]", index), 404
                refused[i] = 404, {"type": "index_not_found_exception",
                                   "reason": f"no such index [{index}] and [action.auto_create_index] is [false]",
                                   "index": index, "resource.id": index, "resource.type": "index_expression",
                                   "index_uuid": "_na_"}
            elif (error := self.refused_content(index, source, mappings)) is not None:
                refused[i] = 400, error
        if not refused:
            return self.forward(seen)
        kept = [item for i, item in enumerate(items) if i not in refused]
        answers: list[dict[str, Any]] = []
        if kept:
            lines = [json.dumps({op: meta}) + ("\n" + json.dumps(source) if source is not None else "")
                     for op, meta, source in kept]
            _, raw = self.forward(Seen(seen.method, seen.path, {"content-type": "application/x-ndjson"}, b""),
                                  body=("\n".join(lines) + "\n").encode())
            answers = json.loads(raw)["items"]
        out, real = [], iter(answers)
        for i, (op, meta, _source) in enumerate(items):
            typed = {"_type": "_doc"} if self.major == 1 else {}  # 2.0 removed types from responses
            if i in refused:
                status, error = refused[i]
                out.append({op: {"_index": meta.get("_index", default), **typed, "_id": meta.get("_id"),
                                 "status": status, "error": error}})
            else:
                out.append(next(real))
        return 200, {"took": 1, "errors": True, "items": out}

    def refused_content(self, index: str, source: Any, mappings: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        """What the index's flat_object fields refuse (osmem-server takes any term): the mapping the index has, or
        the one its templates would give it."""
        if index not in mappings:
            status, raw = self.forward(Seen("GET", f"/{index}/_mapping", {}, b""))
            if status == 200:
                mappings[index] = next(iter(json.loads(raw).values()))["mappings"]
            else:
                _, raw = self.forward(Seen("POST", f"/_index_template/_simulate_index/{index}", {}, b""))
                mappings[index] = (json.loads(raw).get("template") or {}).get("mappings") or {}
        for field, spec in (mappings[index].get("properties") or {}).items():
            if spec.get("type") == "flat_object" and isinstance(source, dict) and field in source:
                refusal = flat_object_refusal(field, source[field])
                if refusal:
                    return refusal
        return None

    def attach_new(self, after: dict[str, dict[str, str]], before: dict[str, Any]) -> None:
        """ManagedIndexCoordinator.createManagedIndexRequests/findMatchingPolicy: on index creation, the policy whose
        template (last_updated_time < creation date) matches with the highest priority; hidden and "." indices not."""
        for name in sorted(set(after) - set(before)):
            if name.startswith(".") or name in self.managed:
                continue
            best: tuple[int, str] | None = None
            for policy_id, stored in self.policies.items():
                for template in stored["policy"]["ism_template"] or []:
                    if any(simple_match(p, name) for p in template["index_patterns"]) and (
                            best is None or template["priority"] > best[0]):
                        best = (template["priority"], policy_id)
            if best:
                self.manage(name, after[name], best[1])

    def manage(self, name: str, row: dict[str, str], policy_id: str) -> None:
        stored = self.policies[policy_id]
        self.next_seq()  # the managed-index document
        self.managed[name] = {"policy_id": policy_id, "policy_seq_no": stored["seq_no"],
                              "policy_primary_term": stored["primary_term"], "index_uuid": row["uuid"],
                              "index_creation_date": int(row.get("creation.date") or now()),
                              "state": stored["policy"]["default_state"], "change_policy": None}

    def run_jobs(self) -> None:
        """What the ISM job runner does at its next run (ManagedIndexRunner.initChangePolicy): apply change_policy."""
        with self._lock:
            for entry in self.managed.values():
                change, entry["change_policy"] = entry["change_policy"], None
                if change and change["policy_id"] in self.policies:
                    stored = self.policies[change["policy_id"]]
                    entry.update(policy_id=change["policy_id"], policy_seq_no=stored["seq_no"],
                                 policy_primary_term=stored["primary_term"],
                                 state=change.get("state") or stored["policy"]["default_state"])

    # ----------------------------------------------------------------------------------------- ISM
    def route_ism(self, seen: Seen, path: str) -> tuple[int, Any, dict[str, str]]:
        """RestController: no handler at all is 400 "no handler found for uri [%s] and method [%s]" (path only);
        a handler for other methods is 405 "Incorrect HTTP method for uri [%s] and method [%s], allowed: %s"."""
        rest = ISM_PATH.fullmatch(path).group(1)
        routes = [route for route in ISM_ROUTES if self.ism and re.fullmatch(route[1], rest)]
        chosen = next((route for route in routes if route[0] == seen.method), None)
        if chosen is None and routes:
            allowed = ", ".join(sorted({route[0] for route in routes}))
            raise Answer(405, {"error": f"Incorrect HTTP method for uri [{seen.path}] and method [{seen.method}], "
                                        f"allowed: [{allowed}]", "status": 405})
        if chosen is None:
            raise Answer(400, {"error": f"no handler found for uri [{path}] and method [{seen.method}]"})
        query = {k: v[-1] for k, v in parse_qs(urlsplit(seen.path).query).items()}
        body = plain(seen.body, seen.headers)
        argument = re.fullmatch(chosen[1], rest).group(1)
        return getattr(self, chosen[2])(seen.method, argument, query, json.loads(body) if body else None, chosen[3])

    def stored_policy(self, policy_id: str, missing: str) -> dict[str, Any]:
        """A GetRequest on the config index: before any policy it does not exist (index_not_found_exception)."""
        if not self.config_index_uuid:
            raise failure(404, "index_not_found_exception", f"no such index [{CONFIG_INDEX}]", index=CONFIG_INDEX,
                          **{"resource.id": CONFIG_INDEX, "resource.type": "index_expression", "index_uuid": "_na_"})
        if policy_id not in self.policies:
            raise failure(404, "status_exception", missing)
        return self.policies[policy_id]

    def conflict(self, reason: str) -> Answer:  # InternalEngine VersionConflictEngineException, 409
        return failure(409, "version_conflict_engine_exception", reason, index=CONFIG_INDEX, shard="0",
                       index_uuid=self.config_index_uuid)

    def put_policy(self, _method: str, policy_id: str, query: dict[str, str], body: Any, action: str) -> tuple:
        """RestIndexPolicyAction + TransportIndexPolicyAction: parse, then security, then the ism_template checks,
        then index with op_type create (no if_seq_no/if_primary_term) or with them."""
        if body is None:
            raise failure(400, "parse_exception", "request body is required")
        policy = parse_policy(policy_id, body)
        self.deny(action)
        self.config_index_uuid = self.config_index_uuid or uuid.uuid4().hex[:22]
        if policy["ism_template"]:
            self.check_templates(policy_id, policy["ism_template"])
        existing = self.policies.get(policy_id)
        seq, term = query.get("if_seq_no"), query.get("if_primary_term")
        if seq is None or term is None:
            if existing:
                raise self.conflict(f"[{policy_id}]: version conflict, document already exists (current version "
                                    f"[{existing['version']}])")
        elif existing is None:
            raise self.conflict(f"[{policy_id}]: version conflict, required seqNo [{seq}], primary term [{term}]. "
                                "but no document was found")
        elif (int(seq), int(term)) != (existing["seq_no"], existing["primary_term"]):
            raise self.conflict(f"[{policy_id}]: version conflict, required seqNo [{seq}], primary term [{term}]. "
                                f"current document has seqNo [{existing['seq_no']}] and primary term "
                                f"[{existing['primary_term']}]")
        stored = {"policy": policy, "seq_no": self.next_seq(), "primary_term": 1,
                  "version": existing["version"] + 1 if existing else 1, "last_updated_time": policy["last_updated_time"]}
        self.policies[policy_id] = stored
        answer = {"_id": policy_id, "_version": stored["version"], "_primary_term": 1, "_seq_no": stored["seq_no"],
                  "policy": {"policy": policy}}  # IndexPolicyResponse: the request's policy, with its type wrapper
        if existing:
            return 200, answer, {}
        return 201, answer, {"Location": f"/_plugins/_ism/policies/{policy_id}"}

    def check_templates(self, policy_id: str, templates: list[dict[str, Any]]) -> None:
        """TransportIndexPolicyAction.validateISMTemplates, in its order (texts from there)."""
        check_patterns([p for t in templates for p in t["index_patterns"]])
        for i, template in enumerate(templates):  # findSelfConflictingTemplates
            others = [p for t in templates[i + 1:] if t["priority"] == template["priority"] for p in t["index_patterns"]]
            if any(intersect(p, q) for p in template["index_patterns"] for q in others):
                raise ism_failure(f"New policy {policy_id} has an ISM template with index pattern "
                                  f"{klist(template['index_patterns'])} matching this policy's other ISM templates with "
                                  f"index patterns {klist(others)}, please use different priority")
        for template in templates:  # findConflictingPolicyTemplates: same priority, other policies
            for other_id, stored in self.policies.items():
                for other in stored["policy"]["ism_template"] or []:
                    if other_id != policy_id and other["priority"] == template["priority"] and any(
                            intersect(p, q) for p in template["index_patterns"] for q in other["index_patterns"]):
                        raise ism_failure(f"New policy {policy_id} has an ISM template with index pattern "
                                          f"{klist(template['index_patterns'])} matching existing policy templates, "
                                          f"please use a different priority than {template['priority']}")

    def rendered(self, stored: dict[str, Any]) -> dict[str, Any]:
        """GetPolicyResponse: the stored policy without type wrapper and user; stored with the config schema. From
        2.10 a rollover renders its copy_alias too (RolloverAction.populateAction: COPY_ALIAS_FIELD, default false)."""
        version = (self.major, self.minor)
        schema = max(s for major, minor, s in SCHEMA if (major, minor) <= version)
        policy = json.loads(json.dumps(stored["policy"]))
        for state in policy["states"] if version >= (2, 10) else ():
            for action in state["actions"]:
                if isinstance(action.get("rollover"), dict):
                    action["rollover"].setdefault("copy_alias", False)
        return {**policy, "schema_version": schema}

    def get_policy(self, method: str, policy_id: str, _query: dict[str, str], _body: Any, action: str) -> tuple:
        self.deny(action)
        stored = self.stored_policy(policy_id, "Policy not found")  # TransportGetPolicyAction
        answer = {"_id": policy_id, "_version": stored["version"], "_seq_no": stored["seq_no"], "_primary_term": 1}
        return 200, answer if method == "HEAD" else {**answer, "policy": self.rendered(stored)}, {}

    def list_policies(self, _method: str, _id: str, _query: dict[str, str], _body: Any, action: str) -> tuple:
        self.deny(action)
        listed = [{"_id": pid, "_version": s["version"], "_seq_no": s["seq_no"], "_primary_term": 1,
                   "policy": self.rendered(s)} for pid, s in sorted(self.policies.items())]
        return 200, {"policies": listed, "total_policies": len(listed)}, {}

    def delete_policy(self, _method: str, policy_id: str, _query: dict[str, str], _body: Any, action: str) -> tuple:
        """TransportDeletePolicyAction: "Policy %s is not found", 404; managed indices keep their copy."""
        self.deny(action)
        stored = self.stored_policy(policy_id, f"Policy {policy_id} is not found")
        del self.policies[policy_id]
        return 200, {"_index": CONFIG_INDEX, "_id": policy_id, "_version": stored["version"] + 1, "result": "deleted",
                     "forced_refresh": True, "_shards": {"total": 1, "successful": 1, "failed": 0},
                     "_seq_no": self.next_seq(), "_primary_term": 1}, {}

    def resolve(self, expression: str) -> dict[str, dict[str, str]]:
        """DefaultIndexMetadataService: a cluster state request with lenient expansion (missing names ignored)."""
        everything = self.indices()
        parts = [p for p in expression.split(",") if p]
        return {name: row for name, row in sorted(everything.items()) if any(simple_match(p, name) for p in parts)}

    @staticmethod
    def status(updated: int, failed: list[dict[str, str]]) -> tuple:
        """ISMStatusResponse + RestHandlerUtils.buildInvalidIndexResponse."""
        return 200, {"updated_indices": updated, "failures": bool(failed), "failed_indices": failed}, {}

    def add(self, _method: str, indices: str, _query: dict[str, str], body: Any, action: str) -> tuple:
        """RestAddPolicyAction + TransportAddPolicyAction, in their order."""
        if not indices:
            raise illegal("Missing indices")
        if not (body or {}).get("policy_id"):
            raise illegal("Missing policy_id")
        self.deny(action)
        found = self.resolve(indices)
        if not found:
            return self.status(0, [])
        policy_id = body["policy_id"]
        self.stored_policy(policy_id, f"Could not find policy={policy_id}")
        failed, added = [], 0
        for name, row in found.items():
            reason = ("Matches restricted index pattern defined in the cluster setting" if RESTRICTED.fullmatch(name)
                      else "This index already has a policy, use the update policy API to update index policies"
                      if name in self.managed else None)
            if reason:
                failed.append({"index_name": name, "index_uuid": row["uuid"], "reason": reason})
            else:
                self.manage(name, row, policy_id)
                added += 1
        return self.status(added, failed)

    def change_policy(self, _method: str, indices: str, _query: dict[str, str], body: Any, action: str) -> tuple:
        """RestChangePolicyAction + TransportChangePolicyAction: the change waits for the job (run_jobs())."""
        if not indices:
            raise illegal("Missing index")
        expect("START_OBJECT", body)
        known_fields(body, {"policy_id", "state", "include", "is_safe", "user"}, "ChangePolicy")
        if body.get("policy_id") is None:
            raise illegal("ChangePolicy policy id is null")
        self.deny(action)
        self.stored_policy(body["policy_id"], f"Could not find policy={body['policy_id']}")
        found = self.resolve(indices)
        missing = [p for p in indices.split(",") if "*" not in p and p not in found]
        if missing:  # the strict-expand cluster state request
            raise failure(404, "index_not_found_exception", f"no such index [{missing[0]}]", index=missing[0],
                          **{"resource.id": missing[0], "resource.type": "index_expression", "index_uuid": "_na_"})
        states = {f.get("state") for f in body.get("include", [])}
        failed, updated = [], 0
        for name, row in found.items():
            entry = self.managed.get(name)
            if entry is None:
                failed.append({"index_name": name, "index_uuid": row["uuid"], "reason": "This index is not being managed"})
            elif not states or entry["state"] in states:
                entry["change_policy"] = {"policy_id": body["policy_id"], "state": body.get("state")}
                updated += 1
        return self.status(updated, failed)

    def remove(self, _method: str, indices: str, _query: dict[str, str], _body: Any, action: str) -> tuple:
        """TransportRemovePolicyAction: "This index does not have a policy to remove"."""
        if not indices:
            raise illegal("Missing indices")
        self.deny(action)
        failed, removed = [], 0
        for name, row in self.resolve(indices).items():
            if self.managed.pop(name, None) is None:
                failed.append({"index_name": name, "index_uuid": row["uuid"],
                               "reason": "This index does not have a policy to remove"})
            else:
                removed += 1
        return self.status(removed, failed)

    def explain(self, _method: str, indices: str, _query: dict[str, str], _body: Any, action: str) -> tuple:
        """ExplainResponse.toXContent: both policy_id settings (null when unmanaged), the managed index metadata as
        after the job's first run (ManagedIndexRunner: "Successfully initialized policy: %s"), "enabled"."""
        self.deny(action)
        found = self.resolve(indices) if indices else {n: {} for n in sorted(self.managed)}  # all: managed only
        answer: dict[str, Any] = {}
        for name in found:
            entry = self.managed.get(name)
            policy_id = entry["policy_id"] if entry else None
            answer[name] = {"index.plugins.index_state_management.policy_id": policy_id,
                            "index.opendistro.index_state_management.policy_id": policy_id}
            if entry:
                answer[name].update({
                    "index": name, "index_uuid": entry["index_uuid"], "policy_id": policy_id,
                    "policy_seq_no": entry["policy_seq_no"], "policy_primary_term": entry["policy_primary_term"],
                    "index_creation_date": entry["index_creation_date"],
                    "state": {"name": entry["state"], "start_time": entry["index_creation_date"]},
                    "retry_info": {"failed": False, "consumed_retries": 0},
                    "info": {"message": f"Successfully initialized policy: {policy_id}"}})
            answer[name]["enabled"] = True if entry else None
        return 200, {**answer, "total_managed_indices": sum(name in self.managed for name in found)}, {}


def writes(method: str, path: str) -> bool:
    """A request that may create its index: PUT <index>, a document write, a bulk."""
    parts = path.strip("/").split("/")
    if path.endswith("/_bulk") or method not in ("PUT", "POST") or parts[0].startswith("_"):
        return path.endswith("/_bulk")
    return (len(parts) == 1 and method == "PUT") or (len(parts) > 1 and parts[1] in ("_doc", "_create", "_update"))


def flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def bulk_items(body: bytes) -> list[tuple[str, dict[str, Any], Any]]:
    """(op, metadata, source or None for delete) for each action of an NDJSON bulk body."""
    lines = iter(line for line in body.decode().splitlines() if line.strip())
    items = []
    for line in lines:
        [(op, meta)] = json.loads(line).items()
        items.append((op, meta, None if op == "delete" else json.loads(next(lines))))
    return items


class _Handler(BaseHTTPRequestHandler):
    stand_in: OpenSearchStandIn

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b"")
        with self.stand_in._lock:
            self.stand_in.seen.append(seen)
        status, body, headers = self.stand_in.handle(seen)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args: Any) -> None:
        pass
