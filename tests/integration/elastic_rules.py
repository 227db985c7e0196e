"""What Elasticsearch 7, 8 and 9 answer, as rules the stand-in (elastic_stand_in.py) applies.

Each rule cites where it comes from: ``ES:<path>`` is a file of elastic/elasticsearch, ``docs-content:<path>`` a page of
elastic/docs-content; INFERRED marks what was read from code rather than seen in an answer, APPROX a value this module
approximates.
"""

from __future__ import annotations

import datetime
import struct
from typing import Any

from tests.simple_patterns import overlap, simple_match

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    parts = [*[int(p) for p in text.split("-")[0].split(".")[:3] if p.isdigit()], 0, 0, 0]
    return parts[0], parts[1], parts[2]


class HttpAnswer(Exception):  # an answer to send, not a failure of the stand-in
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def cause(type_: str, reason: str, caused_by: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """One exception as ElasticsearchException.toXContent writes it (type, reason, metadata, caused_by)."""
    return {"type": type_, "reason": reason, **extra, **({"caused_by": caused_by} if caused_by else {})}


def error(status: int, top: dict[str, Any], root: dict[str, Any] | None = None) -> HttpAnswer:
    """The REST error body: root_cause is the deepest ElasticsearchException of the chain, or the top exception when that
    is not an ElasticsearchException (ElasticsearchException.guessRootCauses); root causes carry no caused_by."""
    root = root or top
    return HttpAnswer(status, {"error": {"root_cause": [{k: v for k, v in root.items() if k != "caused_by"}], **top},
                               "status": status})


def index_not_found(index: str, reason: str = "") -> dict[str, Any]:
    """IndexNotFoundException(reason, index): "no such index [x]" or "no such index [x] and <reason>"."""
    return cause("index_not_found_exception", f"no such index [{index}]" + (f" and {reason}" if reason else ""),
                 **{"resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_", "index": index})


def no_handler(uri: str, method: str) -> HttpAnswer:
    """ES:server/.../rest/RestController.java handleBadRequest, the same in 7, 8 and 9: 400 and a bare string
    ``builder.field("error", "no handler found for uri [" + uri + "] and method [" + method + "]")`` (no status key)."""
    return HttpAnswer(400, {"error": f"no handler found for uri [{uri}] and method [{method}]"})


def java_list(items: list[Any]) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"


# ------------------------------------------------------------------------------------------------ GET /, _nodes
def main_info(version: str, oss: bool) -> dict[str, Any]:
    """GET / (7.x OSS 7.10.2, 8.1.1 and 9.1.x answers quoted in the notes, 1.1). Elasticsearch never sends
    ``distribution`` (OpenSearch does); ``build_flavor`` is "oss" only for OSS builds, which ended with 7.10.2."""
    v = parse_version(version)
    lucene = {7: "8.11.3" if v >= (7, 17, 0) else "8.7.0", 8: "9.11.1", 9: "10.2.2"}.get(v[0], "10.2.2")  # APPROX
    wire, index = {7: ("6.8.0", "6.0.0-beta1"), 8: ("7.17.0", "7.0.0"), 9: ("8.19.0", "8.0.0")}.get(v[0], ("8.19.0",
                                                                                                          "8.0.0"))
    return {"name": "es01", "cluster_name": "logs", "cluster_uuid": "Xz2IU4etSieAeaO2j-QCUw",
            "version": {"number": version, "build_flavor": "oss" if oss else "default",
                        "build_type": "tar" if oss else "docker", "build_hash": "747e1cc71def077253878a59143c1f785afa92b9",
                        "build_date": "2025-08-11T15:04:41.449624592Z", "build_snapshot": False, "lucene_version": lucene,
                        "minimum_wire_compatibility_version": wire, "minimum_index_compatibility_version": index},
            "tagline": "You Know, for Search"}


def nodes_local(version: str, oss: bool) -> dict[str, Any]:
    """GET _nodes/_local: one node whose ``version`` is the node's own version string (notes 1.3)."""
    info = main_info(version, oss)["version"]
    return {"_nodes": {"total": 1, "successful": 1, "failed": 0}, "cluster_name": "logs", "nodes": {
        "x7sKp3aVTdWrCDqUXd0a9w": {"name": "es01", "transport_address": "127.0.0.1:9300", "host": "127.0.0.1",
                                   "ip": "127.0.0.1", "version": version, "build_flavor": info["build_flavor"],
                                   "build_type": info["build_type"], "build_hash": info["build_hash"],
                                   "roles": ["data", "ingest", "master"], "attributes": {}}}}


def filter_path(body: Any, expression: str) -> Any:
    """``?filter_path=a.*.b,c``: keeps the matching paths; ``*`` matches one key (no ``**``, no exclusions)."""
    def keep(node: Any, parts: list[str]) -> Any:
        if not parts:
            return node
        if not isinstance(node, dict):
            return None
        out = {}
        for key, value in node.items():
            if simple_match(parts[0], key) and (kept := keep(value, parts[1:])) is not None:
                out[key] = kept
        return out or None
    result: dict[str, Any] = {}
    for one in expression.split(","):
        merge_into(result, keep(body, one.split(".")) or {})
    return result


def merge_into(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_into(target[key], value)
        else:
            target[key] = value


# ---------------------------------------------------------------------------------------------------- patterns
def patterns_of(template: dict[str, Any]) -> list[str]:
    patterns = template.get("index_patterns") or []
    return [patterns] if isinstance(patterns, str) else list(patterns)


# ----------------------------------------------------------------------------------------- built-in templates
def _stack_template(patterns: list[str], priority: int, settings: dict[str, Any], description: str,
                    data_stream: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"index_patterns": patterns, "priority": priority, "data_stream": data_stream or {},
            "composed_of": [], "allow_auto_create": True, "template": {"settings": settings},
            "_meta": {"description": description, "managed": True}}


def builtin_templates(v: Version, oss: bool) -> dict[str, dict[str, Any]]:
    """The x-pack stack templates (none in OSS builds, none before 7.9): ES:x-pack/plugin/stack/.../StackTemplateRegistry.java
    and its resources (logs@template.json: ``"index_patterns": ["logs-*-*"], "priority": 100, "data_stream": {}``,
    ``"allow_auto_create": true``). Settings are shown already composed from logs@settings (APPROX: composed_of is not
    resolved; 7.x/early 8.x name the policy "logs", later "logs@lifecycle" — APPROX boundary 8.10)."""
    if oss or v < (7, 9, 0):
        return {}
    policy = "logs" if v < (8, 10, 0) else "logs@lifecycle"
    logs_settings = {"index.lifecycle.name": policy, "index.codec": "best_compression",
                     "index.mapping.ignore_malformed": "true",
                     "index.mapping.total_fields.ignore_dynamic_beyond_limit": "true"}
    found = {"logs": _stack_template(["logs-*-*"], 100, logs_settings, "default logs template installed by x-pack"),
             "metrics": _stack_template(["metrics-*-*"], 100, {"index.lifecycle.name": policy.replace("logs", "metrics")},
                                        "default metrics template installed by x-pack")}
    if v >= (7, 10, 0):  # APPROX version
        found["synthetics"] = _stack_template(["synthetics-*-*"], 100, {}, "default synthetics template installed by x-pack")
    if v >= (8, 13, 0):  # kibana-reporting@template.json; APPROX version
        found[".kibana-reporting"] = _stack_template([".kibana-reporting*"], 100, {}, "default kibana reporting template "
                                                     "installed by elasticsearch", {"hidden": True})
    if v >= (8, 16, 0):  # logs-otel@template.json "logs-*.otel-*" at 120; APPROX version
        for kind in ("logs", "metrics", "traces"):
            found[f"{kind}-otel@template"] = _stack_template([f"{kind}-*.otel-*"], 120, {}, "default OpenTelemetry "
                                                             f"{kind} template installed by x-pack")
    return found


# Fleet's AWS integration (elastic/integrations packages/aws): <type>-<dataset> templates, pattern <type>-<dataset>-*,
# priority 200 (kibana fleet template.ts: DEFAULT_TEMPLATE_PRIORITY = 200; buildIndexPattern `${baseName}-${tail}`).
# data_stream/lambda is metrics (time_series); data_stream/lambda_logs is logs (dataset aws.lambda_logs).
FLEET_AWS_DATASETS = (
    ("logs", "aws.cloudtrail"), ("logs", "aws.cloudwatch_logs"), ("logs", "aws.ec2_logs"), ("logs", "aws.elb_logs"),
    ("logs", "aws.lambda_logs"), ("logs", "aws.s3access"), ("logs", "aws.vpcflow"), ("logs", "aws.waf"),
    ("logs", "aws.apigateway_logs"), ("logs", "aws.cloudfront_logs"), ("metrics", "aws.lambda"),
    ("metrics", "aws.cloudwatch_metrics"), ("metrics", "aws.ec2_metrics"), ("metrics", "aws.billing"),
)


def fleet_aws_templates() -> dict[str, dict[str, Any]]:
    found = {}
    for kind, dataset in FLEET_AWS_DATASETS:
        name = f"{kind}-{dataset}"
        settings = {"index.mode": "time_series"} if name == "metrics-aws.lambda" else {}
        found[name] = {"index_patterns": [f"{name}-*"], "priority": 200, "data_stream": {},
                       "composed_of": [f"{name}@package", f"{name}@custom"],
                       "ignore_missing_component_templates": [f"{name}@custom"], "template": {"settings": settings},
                       "_meta": {"package": {"name": "aws"}, "managed_by": "fleet", "managed": True}}
    return found


# ------------------------------------------------------------------------------------------- template checks
def flat_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Index settings as flat keys with the ``index.`` prefix ES normalizes to (Settings.normalizePrefix)."""
    flat: dict[str, Any] = {}
    for key, value in (settings or {}).items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{full}."))
        else:
            flat[full if full.startswith("index.") else f"index.{full}"] = value
    return flat


def nested_settings(flat: dict[str, Any]) -> dict[str, Any]:
    """GET answers settings nested and as strings (unless ``flat_settings=true``)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = setting_text(value)
    return out


def setting_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [setting_text(v) for v in value]
    return value if value is None else str(value)


def index_modes(v: Version) -> tuple[str, ...]:
    """IndexSettings.MODE values by version: standard/time_series 8.1+, logsdb 8.15+, lookup 8.16+ (APPROX versions)."""
    if v < (8, 1, 0):
        return ()
    return ("standard", "time_series") + (("logsdb",) if v >= (8, 15, 0) else ()) + (
        ("lookup",) if v >= (8, 16, 0) else ())


# 7.x index setting keys near enough to the ones checked here for AbstractScopedSettings' "did you mean" (keys with
# Levenshtein similarity > 0.7; the full registry has no other key that close to index.mode or index.lifecycle.*).
_NEAR_KEYS = ("index.codec", "index.hidden", "index.uuid", "index.format", "index.priority", "index.frozen")


def unknown_setting(key: str) -> str:
    """ES:server/.../settings/AbstractScopedSettings.java validate(): suggestion when similarity > 0.7, else the hint."""
    near = sorted(((_similarity(key, k), k) for k in _NEAR_KEYS if _similarity(key, k) > 0.7), reverse=True)
    if near:
        keys = [k for _, k in near]
        return f"unknown setting [{key}] did you mean " + (f"[{keys[0]}]" if len(keys) == 1 else
                                                           f"any of {java_list(keys)}") + "?"
    return (f"unknown setting [{key}] please check that any required plugins are installed, or check the breaking "
            "changes documentation for removed settings")


def _similarity(a: str, b: str) -> float:
    """Lucene LevenshteinDistance.getDistance: 1 - distance / max length."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return 1 - row[-1] / max(len(a), len(b))


_CORE_TYPES = {  # ES server / modules (OSS builds have them): mapper types registered without x-pack
    "text", "keyword", "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "date",
    "date_nanos", "boolean", "binary", "object", "nested", "ip", "geo_point", "geo_shape", "alias", "integer_range",
    "float_range", "long_range", "double_range", "date_range", "ip_range", "completion", "token_count", "percolator",
    "join", "search_as_you_type", "rank_feature", "rank_features", "murmur3", "annotated_text",
}
_XPACK_TYPES = {  # default distribution only, with the version each appeared (APPROX except flattened: 7.3)
    "flattened": (7, 3, 0), "histogram": (7, 6, 0), "constant_keyword": (7, 7, 0), "wildcard": (7, 9, 0),
    "unsigned_long": (7, 10, 0), "version": (7, 10, 0), "aggregate_metric_double": (7, 11, 0), "point": (7, 4, 0),
    "shape": (7, 4, 0), "dense_vector": (7, 3, 0), "sparse_vector": (7, 3, 0), "match_only_text": (7, 14, 0),
    "counted_keyword": (8, 12, 0), "passthrough": (8, 13, 0), "semantic_text": (8, 15, 0),
    "patterned_text": (9, 1, 0),
}


def known_types(v: Version, oss: bool) -> set[str]:
    """``flat_object`` is OpenSearch's and never known; ``flattened`` needs the default distribution and 7.3+."""
    return _CORE_TYPES | (set() if oss else {t for t, since in _XPACK_TYPES.items() if v >= since})


def unknown_type(mappings: dict[str, Any], types: set[str]) -> tuple[str, str] | None:
    """The first (type, field) the mapping declares that this build has no mapper for (TypeParsers: the field is named
    by its own key, not its path)."""
    mappings = (mappings or {}).get("_doc", mappings or {})
    for field, spec in (mappings.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        kind = spec.get("type", "object")
        if kind not in types:
            return kind, field
        for inner in (spec.get("properties"), spec.get("fields")):
            found = unknown_type({"properties": inner}, types) if inner else None
            if found:
                return found
    return None


def check_template(name: str, body: dict[str, Any], templates: dict[str, dict[str, Any]], v: Version,
                   oss: bool) -> None:
    """PUT _index_template/<name>: the checks of ES:MetadataIndexTemplateService, in its order."""
    if not patterns_of(body):
        raise error(400, cause("illegal_argument_exception", "Required [index_patterns]"))  # ConstructingObjectParser
    priority = int(body.get("priority") or 0)
    clash = {other: patterns_of(t) for other, t in sorted(templates.items())
             if other != name and int(t.get("priority") or 0) == priority and overlap(patterns_of(body), patterns_of(t))}
    if clash:  # v2TemplateOverlaps: String.format(...) with the overlaps TreeMap
        raise error(400, cause("illegal_argument_exception", (
            f"index template [{name}] has index patterns {java_list(patterns_of(body))} matching patterns from existing "
            f"templates [{','.join(clash)}] with patterns ({','.join(f'{n} => {java_list(p)}' for n, p in clash.items())}) "
            f"that have the same priority [{priority}], multiple index templates may not match during index creation, "
            "please use a different priority")))
    template = body.get("template") or {}
    settings = flat_settings(template.get("settings") or {})
    problems = []  # MetadataIndexTemplateService.validate: indexScopedSettings.validate → ValidationException
    for key in sorted(settings):
        if (key == "index.mode" and not index_modes(v)) or (oss and key.startswith("index.lifecycle.")):
            problems.append(unknown_setting(key))
        elif key == "index.mode" and str(settings[key]).lower() not in index_modes(v):
            # Setting.enumSetting → Enum.valueOf (INFERRED text)
            problems.append(f"No enum constant org.elasticsearch.index.IndexMode.{str(settings[key]).upper()}")
    if problems:
        listed = "".join(f"{i}: {p};" for i, p in enumerate(problems, 1))
        raise error(400, cause("invalid_index_template_exception",
                               f"index_template [{name}] invalid, cause [Validation Failed: {listed}]"))
    missing = unknown_type(template.get("mappings") or {}, known_types(v, oss))
    if missing:  # validateIndexTemplateV2 → "composable template [..] template after composition is invalid"
        kind, field = missing
        inner = f"No handler for type [{kind}] declared on field [{field}]"
        raise error(400, cause("illegal_argument_exception", f"composable template [{name}] template after composition "
                               "is invalid", cause("mapper_parsing_exception", "Failed to parse mapping" + (
                                   " [_doc]" if v < (8, 0, 0) else "") + f": {inner}",
                                   cause("mapper_parsing_exception", inner))))


def winning_template(name: str, templates: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The highest-priority template whose patterns match (MetadataIndexTemplateService.findV2Template)."""
    found = [(int(t.get("priority") or 0), n, t) for n, t in templates.items()
             if any(simple_match(p, name) for p in patterns_of(t))]
    if not found:
        return None
    _, chosen, template = max(found, key=lambda f: f[0])
    return chosen, template


def shown_template(body: dict[str, Any], v: Version) -> dict[str, Any]:
    """GET _index_template: the template as ES stores it (patterns a list, settings nested strings, composed_of)."""
    shown = {k: v_ for k, v_ in body.items() if k != "template"}
    shown["index_patterns"] = patterns_of(body)
    shown.setdefault("composed_of", [])
    template = dict(body.get("template") or {})
    if "settings" in template:
        template["settings"] = nested_settings(flat_settings(template["settings"]))
    if template:
        shown["template"] = template
    if "data_stream" in body:  # APPROX: 8.x/9.x show both flags, 7.x only hidden
        shown["data_stream"] = {"hidden": False, **({"allow_custom_routing": False} if v >= (8, 0, 0) else {}),
                                **(body["data_stream"] or {})}
    return shown


# ------------------------------------------------------------------------------------------------------- ILM
_PHASE_ACTIONS = {  # ES:x-pack/plugin/core/.../ilm/TimeseriesLifecycleType.java (ORDERED_VALID_*_ACTIONS)
    "hot": {"set_priority", "unfollow", "rollover", "readonly", "downsample", "shrink", "forcemerge",
            "searchable_snapshot"},
    "warm": {"set_priority", "unfollow", "readonly", "downsample", "allocate", "migrate", "shrink", "forcemerge"},
    "cold": {"set_priority", "unfollow", "readonly", "downsample", "searchable_snapshot", "allocate", "migrate",
             "freeze"},
    "frozen": {"unfollow", "searchable_snapshot"},
    "delete": {"wait_for_snapshot", "delete"},
}
_PHASE_ORDER = ("hot", "warm", "cold", "frozen", "delete")
_ACTIONS_SINCE = {"allocate": (6, 6, 0), "delete": (6, 6, 0), "forcemerge": (6, 6, 0), "readonly": (6, 6, 0),
                  "rollover": (6, 6, 0), "shrink": (6, 6, 0), "set_priority": (6, 7, 0), "unfollow": (6, 7, 0),
                  "freeze": (6, 6, 0), "wait_for_snapshot": (7, 8, 0), "searchable_snapshot": (7, 10, 0),
                  "migrate": (7, 10, 0), "downsample": (8, 5, 0)}  # APPROX versions except rollover/delete


def rollover_fields(v: Version) -> list[str]:
    """max_size/max_age/max_docs; max_primary_shard_size 7.13; max_primary_shard_docs 8.2; min_* 8.4 (ilm-rollover.md,
    RolloverAction.java of each era)."""
    fields = ["max_size", "max_primary_shard_size", "max_age", "max_docs", "max_primary_shard_docs"]
    fields = [f for f in fields if not (f == "max_primary_shard_size" and v < (7, 13, 0))
              and not (f == "max_primary_shard_docs" and v < (8, 2, 0))]
    if v >= (8, 4, 0):
        fields += ["min_size", "min_primary_shard_size", "min_age", "min_docs", "min_primary_shard_docs"]
    return fields


def unknown_field(parser: str, field: str, known: list[str]) -> str:
    """ObjectParser's unknown-field message with its "did you mean" (Levenshtein > 0.7, best first) — INFERRED."""
    near = [k for _, k in sorted((-_similarity(field, k), k) for k in known if _similarity(field, k) > 0.7)]
    hint = "" if not near else (f" did you mean [{near[0]}]?" if len(near) == 1 else
                                f" did you mean any of {java_list(near)}?")
    return f"[{parser}] unknown field [{field}]{hint}"


class _Where:
    """Approximate [line:column] of a key in the request body, as XContentParseException prefixes its messages (APPROX)."""

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def __call__(self, key: str) -> str:
        at = self.raw.find(f'"{key}"')
        if at < 0:
            return "[1:1]"
        line = self.raw.count("\n", 0, at) + 1
        return f"[{line}:{at - (self.raw.rfind(chr(10), 0, at) + 1) + 1}]"


def _parse_failure(where: _Where, chain: list[tuple[str, str]], inner: dict[str, Any]) -> HttpAnswer:
    """Nested ObjectParser failures: "[l:c] [parser] failed to parse field [field]" from the outside in."""
    node = inner
    for parser, field in reversed(chain):
        node = cause("x_content_parse_exception", f"{where(field)} [{parser}] failed to parse field [{field}]", node)
    return error(400, node)


def check_policy(body: dict[str, Any], raw: str, v: Version) -> None:
    """PUT _ilm/policy/<name>, as ES parses (PutLifecycleRequest → LifecyclePolicy → Phase → actions) and then validates
    (TimeseriesLifecycleType.validate, validateMonotonicallyIncreasingPhaseTimings)."""
    where = _Where(raw)
    outer = [("put_lifecycle_request", "policy")]
    for key in body:
        if key != "policy":
            raise error(400, cause("x_content_parse_exception",
                                   f"{where(key)} {unknown_field('put_lifecycle_request', key, ['policy'])}"))
    policy = body.get("policy")
    if not isinstance(policy, dict):
        raise error(400, cause("x_content_parse_exception", f"{where('policy')} Required [policy]"))
    for key in policy:
        if key not in ("phases", "_meta"):
            raise _parse_failure(where, outer, cause("x_content_parse_exception",
                                                     f"{where(key)} {unknown_field('lifecycle_policy', key, ['phases'])}"))
    phases = policy.get("phases") or {}
    for phase in phases.values():
        _check_phase(phase, v, where, [*outer, ("lifecycle_policy", "phases")])
    problem = _policy_problem(phases, v)
    if problem:  # PutLifecycleRequest.validate → ActionRequestValidationException
        raise error(400, cause("action_request_validation_exception", f"Validation Failed: 1: {problem};"))


def _check_phase(phase: dict[str, Any], v: Version, where: _Where, chain: list[tuple[str, str]]) -> None:
    for key in phase:
        if key not in ("min_age", "actions"):
            raise _parse_failure(where, chain, cause("x_content_parse_exception", f"{where(key)} " + unknown_field(
                "phase", key, ["min_age", "actions"])))
    inner_chain = [*chain, ("phase", "actions")]
    for action, options in (phase.get("actions") or {}).items():
        if action not in _ACTIONS_SINCE or v < _ACTIONS_SINCE[action] or (action == "freeze" and v >= (9, 0, 0)):
            # NamedXContentRegistry: new NamedObjectNotFoundException(location, "unknown field [" + name + "]", ...)
            raise _parse_failure(where, inner_chain, cause("named_object_not_found_exception",
                                                           f"{where(action)} unknown field [{action}]"))
        if action == "rollover":
            _check_rollover(options or {}, v, where, inner_chain)
        for key in (options or {}) if action == "delete" else ():
            if key != "delete_searchable_snapshot":
                raise _parse_failure(where, inner_chain, cause("x_content_parse_exception", f"{where(key)} " +
                                                               unknown_field("delete", key, ["delete_searchable_snapshot"])))


def _check_rollover(options: dict[str, Any], v: Version, where: _Where, chain: list[tuple[str, str]]) -> None:
    known = rollover_fields(v)
    parser = "rollover" if v < (8, 8, 0) else "rollover_conditions"  # RolloverConditions.PARSER from 8.8 (INFERRED)
    for key in options:
        if key not in known:
            raise _parse_failure(where, chain, cause("x_content_parse_exception",
                                                     f"{where(key)} {unknown_field(parser, key, known)}"))
    if not any(key.startswith("max_") for key in options):
        if v < (8, 4, 0):  # RolloverAction constructor, thrown inside ConstructingObjectParser's build (INFERRED wrap)
            inner = cause("x_content_parse_exception", "Failed to build [rollover] after last required field arrived",
                          cause("illegal_argument_exception", "At least one rollover condition must be set."))
        else:
            inner = cause("illegal_argument_exception", "At least one max_* rollover condition must be set.")
            if v < (8, 8, 0):
                inner = cause("x_content_parse_exception", "Failed to build [rollover] after last required field "
                              "arrived", inner)
        raise _parse_failure(where, chain, inner)


def _policy_problem(phases: dict[str, Any], v: Version) -> str:
    for name, phase in phases.items():
        if name not in _PHASE_ACTIONS or (name == "frozen" and v < (7, 12, 0)):
            return f"Timeseries lifecycle does not support phase [{name}]"
        for action in phase.get("actions") or {}:
            if action not in _PHASE_ACTIONS[name]:
                return f"invalid action [{action}] defined in phase [{name}]"
    hot = (phases.get("hot") or {}).get("actions") or {}
    needing = sorted({"forcemerge", "searchable_snapshot", "shrink", "downsample"} & set(hot)) if "rollover" not in hot \
        else []
    if needing:
        return (f"the [{', '.join(needing)}] action(s) may not be used in the [hot] phase without an accompanying "
                "[rollover] action")
    ages = {name: (phase.get("min_age"), duration_ms(phase.get("min_age"))) for name, phase in phases.items()}
    for i, name in enumerate(_PHASE_ORDER):
        age = ages.get(name)
        if not age or not age[1]:
            continue
        late = [later for later in _PHASE_ORDER[i + 1:] if ages.get(later) and ages[later][1] and
                ages[later][1] < age[1]]
        if late:
            cited = [f"the {later} phase (min_age: {ages[later][0]})" for later in late]
            listed = cited[0] if len(cited) == 1 else ", ".join(cited[:-1]) + " and " + cited[-1]
            return (f"Your policy is configured to run {listed} before the {name} phase (min_age: {age[0]}). You "
                    "should change the phase timing so that the phases will execute in the order of hot, warm, then "
                    "cold.")
    return ""


def duration_ms(text: Any) -> int:
    if not text:
        return 0
    units = {"nanos": 1e-6, "micros": 1e-3, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    for unit in sorted(units, key=len, reverse=True):
        if str(text).endswith(unit) and str(text)[:-len(unit)].replace(".", "", 1).isdigit():
            return int(float(str(text)[:-len(unit)]) * units[unit])
    return 0


def shown_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """GET _ilm/policy: every phase shows its min_age ("0ms" when unset)."""
    phases = {name: {"min_age": phase.get("min_age", "0ms"), "actions": phase.get("actions") or {}}
              for name, phase in (policy.get("phases") or {}).items()}
    return {**policy, "phases": phases}


# -------------------------------------------------------------------------------------------- synthetic _source
_MISSING = object()
_KEYWORDS = {"keyword", "wildcard", "constant_keyword"}
_INTEGERS = {"long", "integer", "short", "byte", "unsigned_long"}
_FLOATS = {"double", "float", "half_float", "scaled_float"}


def synthetic_source(source: dict[str, Any], mappings: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """_source rebuilt the way synthetic source does (mapping-source-field.md "Synthetic _source modifications"):
    objects' fields sorted alphabetically and named as mapped (dots → objects), arrays of objects moved to the leaves,
    leaf values from doc values (sorted; keywords deduplicated; one-element arrays single values), unmapped fields
    (dynamic: false) and disabled objects kept as sent. In logsdb ``index.mapping.synthetic_source_keep`` defaults to
    ``arrays``: arrays keep their order and duplicates (Mapper.SYNTHETIC_SOURCE_KEEP_INDEX_SETTING), except inside
    ``flattened``, which parses its own arrays (PR #127796)."""
    logsdb = settings.get("index.mode") == "logsdb"
    keep = str(settings.get("index.mapping.synthetic_source_keep") or ("arrays" if logsdb else "none"))
    ignore_above = int(settings.get("index.mapping.ignore_above") or (8191 if logsdb else 2 ** 31 - 1))
    root = (mappings or {}).get("_doc", mappings or {})
    return _object(source, root, str(root.get("dynamic", "true")).lower(), (keep, ignore_above))


def _expand(value: dict[str, Any]) -> dict[str, Any]:
    """"a.b": 1 → {"a": {"b": 1}} (subobjects true)."""
    out: dict[str, Any] = {}
    for key, child in value.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else node
        if isinstance(child, dict) and isinstance(node.get(leaf), dict):
            merge_into(node[leaf], child)
        else:
            node[leaf] = child
    return out


def _merge_objects(items: list[Any]) -> dict[str, Any]:
    """[{"bar": 1}, {"bar": 2}] → {"bar": [1, 2]}: arrays moved to the leaves."""
    merged: dict[str, list[Any]] = {}
    for item in items:
        for key, child in _expand(item).items() if isinstance(item, dict) else ():
            merged.setdefault(key, []).extend(child if isinstance(child, list) else [child])
    return {key: values[0] if len(values) == 1 else values for key, values in merged.items()}


def _object(value: Any, node: dict[str, Any], dynamic: str, ctx: tuple[str, int]) -> Any:
    if node.get("enabled") is False:
        return value  # stored as sent (_ignored_source)
    if isinstance(value, list):
        if ctx[0] == "arrays":
            return value  # the array's source is kept (APPROX: ES may re-render its leaves)
        value = _merge_objects(value)
    if not isinstance(value, dict):
        return value
    dynamic = str(node.get("dynamic", dynamic)).lower()
    properties, out = node.get("properties") or {}, {}
    for key, child in sorted(_expand(value).items()):
        spec = properties.get(key)
        if spec is None:
            if dynamic in ("false", "runtime"):
                out[key] = child  # not mapped: kept as sent
                continue
            spec = _dynamic_spec(child)
        rendered = _field(child, spec, dynamic, ctx)
        if rendered is not _MISSING:
            out[key] = rendered
    return out


def _dynamic_spec(value: Any) -> dict[str, Any]:
    """Default dynamic mapping: strings → date (date_detection) or text + keyword (ignore_above 256)."""
    sample = next((v for v in value if v is not None), None) if isinstance(value, list) else value
    if isinstance(sample, dict):
        return {"type": "object"}
    if isinstance(sample, bool):
        return {"type": "boolean"}
    if isinstance(sample, int):
        return {"type": "long"}
    if isinstance(sample, float):
        return {"type": "float"}
    if isinstance(sample, str) and _parse_date(sample) is not None and "T" in sample:
        return {"type": "date"}
    return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


def _field(value: Any, spec: dict[str, Any], dynamic: str, ctx: tuple[str, int]) -> Any:
    kind = spec.get("type", "object")
    if kind == "object":
        return _object(value, spec, dynamic, ctx)
    if kind == "flattened":
        return flattened_source(value)
    if kind == "nested" or spec.get("enabled") is False:
        return value
    leaves = [leaf for leaf in _leaves(value) if leaf is not None]
    keep_arrays = ctx[0] == "arrays" and isinstance(value, list)
    if not leaves:
        return [] if keep_arrays and value == [] else _MISSING
    keyword = spec if kind in _KEYWORDS else next(
        (sub for sub in (spec.get("fields") or {}).values() if sub.get("type") == "keyword"), None)
    values, malformed = [], []
    for leaf in leaves:
        converted = _convert(kind, leaf, spec)
        (malformed if converted is _MISSING else values).append(leaf if converted is _MISSING else converted)
    if kind in _KEYWORDS or (kind == "text" and keyword is not None):
        limit = int(keyword.get("ignore_above") or ctx[1])
        if not (keep_arrays or spec.get("store")):
            values = sorted({v for v in values if len(v) <= limit}) + [v for v in values if len(v) > limit]
    elif kind in _INTEGERS | _FLOATS | {"boolean", "date", "date_nanos"} and not keep_arrays:
        values = sorted(values, key=lambda v: (_parse_date(v) or 0) if kind.startswith("date") else v)
    values += malformed  # ignore_malformed values come last, as sent
    if keep_arrays:
        return values
    return values[0] if len(values) == 1 else values


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _convert(kind: str, value: Any, spec: dict[str, Any]) -> Any:
    if kind in _KEYWORDS or kind == "text":
        return _text(value) if not isinstance(value, dict) else _MISSING
    try:
        if kind in _INTEGERS and not isinstance(value, bool):
            return int(float(value))
        if kind in _FLOATS and not isinstance(value, bool):
            number = float(value)
            if kind == "float":
                return _float32(number)
            if kind == "scaled_float":
                factor = float(spec.get("scaling_factor", 1))
                return round(number * factor) / factor
            return number
    except (TypeError, ValueError):
        return _MISSING
    if kind == "boolean":
        return value if isinstance(value, bool) else {"true": True, "false": False}.get(str(value), _MISSING)
    if kind in ("date", "date_nanos"):
        return _render_date(value, str(spec.get("format") or "strict_date_optional_time||epoch_millis"))
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)  # APPROX: ES keeps a number's JSON text (1e20 stays "1e20")


def _float32(number: float) -> float:
    """The shortest decimal that round-trips through a 32-bit float (Java Float.toString)."""
    single = struct.unpack("f", struct.pack("f", number))[0]
    for digits in range(1, 10):
        candidate = float(f"{single:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == single:
            return candidate
    return single


def _parse_date(value: Any) -> float | None:
    """Epoch milliseconds of an ISO-8601 date or an epoch-millis number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    if text.isdigit():
        return float(text)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp() * 1000


def _render_date(value: Any, formats: str) -> Any:
    """Re-formatted with the mapping's first format (date.md: "2015-01-01T12:10:30Z" → "2015-01-01T12:10:30.000Z");
    epoch_millis/epoch_second render as their number's text (INFERRED)."""
    millis = _parse_date(value)
    if millis is None:
        return _MISSING
    first = formats.split("||")[0]
    if first == "epoch_millis":
        return str(int(millis))
    if first == "epoch_second":
        return str(int(millis // 1000))
    moment = datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(millis % 1000):03d}Z"


def flattened_source(value: Any) -> Any:
    """flattened.md "Synthetic _source": leaf values become strings, each key's values sorted (UTF-8 order) and
    deduplicated, arrays of objects merged into objects, one-element arrays single values, keys sorted; nulls dropped
    (null_value unset). Dotted keys come back as objects (the keyed doc values hold the dotted path; INFERRED)."""
    collected: dict[tuple[str, ...], set[str]] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, path + tuple(key.split(".")))
        elif isinstance(node, list):
            for child in node:
                walk(child, path)
        elif node is not None:
            collected.setdefault(path, set()).add(_text(node))

    walk(value, ())
    if () in collected and len(collected) == 1:
        values = sorted(collected[()])
        return values[0] if len(values) == 1 else values
    out: dict[str, Any] = {}
    for path, values in sorted(collected.items()):
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        ordered = sorted(values)
        node[path[-1] if path else ""] = ordered[0] if len(ordered) == 1 else ordered
    return _sorted_keys(out) if out else _MISSING


def _sorted_keys(node: Any) -> Any:
    return {k: _sorted_keys(v) for k, v in sorted(node.items())} if isinstance(node, dict) else node
