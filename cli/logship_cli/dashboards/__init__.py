"""The saved objects for OpenSearch Dashboards and Kibana, defined once here.

``python -m logship_cli.dashboards`` writes ``opensearch.ndjson`` and ``kibana.ndjson`` beside this file (a test
keeps them equal to this definition). Object types both products import: ``index-pattern`` (a data view in
Kibana 8), ``search``, ``visualization`` (aggregation-based) and ``dashboard``, in the 7.10 shape OpenSearch
Dashboards was forked from; their ``migrationVersion`` says so, and Kibana migrates them forward on import.
Queries are Lucene (query_string), as ``logship search`` takes them. Ids carry the index prefix, so several
prefixes live side by side; ``logship dashboards`` substitutes it (:func:`with_prefix`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PREFIX = "cwl"  # the files hold the default prefix: importable by hand as they are
FILES = {"opensearch": HERE / "opensearch.ndjson", "kibana": HERE / "kibana.ndjson"}
MIGRATION_VERSION = {"index-pattern": "7.6.0", "search": "7.9.3", "visualization": "7.10.0", "dashboard": "7.9.3"}
SOURCE_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"

ERRORS = "log.level:(ERROR OR FATAL) OR event.outcome:failure"
INVOCATIONS = "event.action:report"
_MS = {"id": "duration", "params": {"inputFormat": "milliseconds", "outputFormat": "asMilliseconds",
                                    "outputPrecision": 1, "showSuffix": True}}
_MB = {"id": "number", "params": {"pattern": "0,0"}}
FIELD_FORMATS = {
    "lambda.duration_ms": _MS, "lambda.billed_duration_ms": _MS, "lambda.init_duration_ms": _MS,
    "lambda.restore_duration_ms": _MS, "lambda.billed_restore_duration_ms": _MS,
    "lambda.memory_size_mb": _MB, "lambda.max_memory_used_mb": _MB,
    "lambda.memory_used_ratio": {"id": "percent", "params": {"pattern": "0.[0]%"}},
}
# Kibana 7.11+ data views also carry labels; OpenSearch Dashboards (forked at 7.10) does not know them.
FIELD_LABELS = {
    "lambda.duration_ms": "Duration (ms)", "lambda.billed_duration_ms": "Billed duration (ms)",
    "lambda.init_duration_ms": "Init duration (ms)", "lambda.restore_duration_ms": "Restore duration (ms)",
    "lambda.billed_restore_duration_ms": "Billed restore duration (ms)",
    "lambda.memory_size_mb": "Memory size (MB)", "lambda.max_memory_used_mb": "Max memory used (MB)",
    "lambda.memory_used_ratio": "Memory used / size",
}
SEARCHES = {  # id suffix: (title, query, columns)
    "errors": ("Errors", ERRORS, ["faas.name", "log.level", "error.type", "message"]),
    "timeouts": ("Timeouts", "event.action:timeout OR error.type:Timeout",
                 ["faas.name", "faas.execution", "lambda.duration_ms", "message"]),
    "cold-starts": ("Cold starts", "faas.coldstart:true",
                    ["faas.name", "lambda.init_duration_ms", "lambda.duration_ms", "lambda.max_memory_used_mb"]),
    "failed-documents": ("Failed and degraded documents", "logship.degraded:true OR logship.failed_index:*",
                         ["aws.cloudwatch.log_group", "logship.failed_index", "error.type", "error.message",
                          "logship.reason"]),
}


def _metric(agg_id: str, kind: str, field: str | None = None, label: str = "", **params: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(params)
    if field:
        values["field"] = field
    if label:
        values["customLabel"] = label
    return {"id": agg_id, "enabled": True, "type": kind, "schema": "metric", "params": values}


def _terms(agg_id: str, schema: str, field: str, size: int, order_by: str = "1") -> dict[str, Any]:
    params: dict[str, Any] = {"field": field, "size": size, "order": "desc", "orderBy": order_by,
                              "otherBucket": False, "missingBucket": False}
    if order_by == "custom":  # by how many lines: a percentile cannot order buckets
        params["orderAgg"] = {"id": f"{agg_id}-orderAgg", "enabled": True, "type": "count", "schema": "orderAgg",
                              "params": {}}
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema, "params": params}


def _over_time(agg_id: str) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "date_histogram", "schema": "segment",
            "params": {"field": "@timestamp", "interval": "auto", "min_doc_count": 1, "extended_bounds": {}}}


def _filters(agg_id: str, schema: str, rows: list[tuple[str, str]]) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "filters", "schema": schema, "params": {"filters": [
        {"input": {"query": query, "language": "lucene"}, "label": label} for query, label in rows]}}


def _chart(kind: str, value_title: str) -> dict[str, Any]:
    """The params of an aggregation-based xy chart (``histogram`` bars or ``line``)."""
    series = "histogram" if kind == "histogram" else "line"
    return {"type": kind, "addTooltip": True, "addLegend": True, "legendPosition": "right", "times": [],
            "addTimeMarker": False, "grid": {"categoryLines": False},
            "categoryAxes": [{"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": True,
                              "scale": {"type": "linear"}, "labels": {"show": True, "truncate": 100}, "title": {}}],
            "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left",
                           "show": True, "scale": {"type": "linear", "mode": "normal"},
                           "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                           "title": {"text": value_title}}],
            "seriesParams": [{"show": True, "type": series, "mode": "normal", "data": {"id": "1", "label": value_title},
                              "valueAxis": "ValueAxis-1", "drawLinesBetweenPoints": True, "showCircles": True}]}


_TABLE = {"perPage": 20, "showPartialRows": False, "showMetricsAtAllLevels": False, "showTotal": False,
          "totalFunc": "sum", "percentageCol": ""}

VISUALIZATIONS: dict[str, tuple[str, str, str, dict[str, Any], list[dict[str, Any]]]] = {
    # id suffix: (title, vis type, query of its search source, params, aggs)
    "invocations-errors": (
        "Invocations and errors per function", "histogram", "", _chart("histogram", "Lines"),
        [_metric("1", "count", label="Lines"), _terms("2", "segment", "faas.name", 20, "custom"),
         _filters("3", "group", [(INVOCATIONS, "invocations (REPORT lines)"), (ERRORS, "errors")])]),
    "p95-duration": (
        "p95 duration per function", "line", INVOCATIONS, _chart("line", "p95 duration (ms)"),
        [_metric("1", "percentiles", "lambda.duration_ms", "p95 duration (ms)", percents=[95]), _over_time("2"),
         _terms("3", "group", "faas.name", 10, "custom")]),
    "memory": (
        "Max memory used against memory size", "table", INVOCATIONS, _TABLE,
        [_metric("1", "max", "lambda.max_memory_used_mb", "Max memory used (MB)"),
         _metric("2", "max", "lambda.memory_size_mb", "Memory size (MB)"),
         _metric("3", "max", "lambda.memory_used_ratio", "Max used / size"),
         _terms("4", "bucket", "faas.name", 50)]),
    "cold-starts": (
        "Cold-start init durations", "line", "faas.coldstart:true", _chart("line", "Init duration (ms)"),
        [_metric("1", "max", "lambda.init_duration_ms", "Max init duration (ms)"), _over_time("2"),
         _terms("3", "group", "faas.name", 10, "custom")]),
    "shipper": (
        "What the shipper made of the lines", "table", "", _TABLE,
        [_metric("1", "count", label="Documents"),
         _filters("2", "bucket", [("*", "all documents"), ("logship.degraded:true", "degraded: indexed without "
                                  "their structured fields"), ("logship.failed_index:*", "failed: kept in the "
                                  "failed index"), ("logship.invalid_utf8:true", "repaired: invalid UTF-8")])]),
}
NOTE = ("**The shipper's own figures.** This dashboard shows what reached the index. ship-logs' own runs "
        "(`EventsIn`, `Indexed`, `Duplicates`, `Degraded`, `Failed`, `Pending`, `Duration`) are CloudWatch metrics "
        "in the namespace `logship` (its logs are never shipped here: that would be a loop); `logship status` "
        "shows its dead-letter queue, alarms and last errors.")
LAYOUT = [  # (visualization id suffix, x, y, w, h) on the 48-column grid
    ("invocations-errors", 0, 0, 24, 15), ("p95-duration", 24, 0, 24, 15), ("memory", 0, 15, 24, 15),
    ("cold-starts", 24, 15, 24, 15), ("shipper", 0, 30, 24, 12), ("note", 24, 30, 24, 12)]


def _id(kind: str, prefix: str = PREFIX) -> str:
    return f"logship-{prefix}-{kind}"


def _source(query: str, with_index: bool = True) -> dict[str, Any]:
    source: dict[str, Any] = {"query": {"query": query, "language": "lucene"}, "filter": []}
    if with_index:
        source["indexRefName"] = SOURCE_REF
    return {"searchSourceJSON": json.dumps(source)}


def _object(kind: str, object_id: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {"id": object_id, "type": kind, "attributes": attributes, "references": references,
            "migrationVersion": {kind: MIGRATION_VERSION[kind]}}


def _index_ref() -> list[dict[str, str]]:
    return [{"name": SOURCE_REF, "type": "index-pattern", "id": _id("index-pattern")}]


def index_pattern(product: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"title": f"{PREFIX}-*", "timeFieldName": "@timestamp", "fields": "[]",
                                  "fieldFormatMap": json.dumps(FIELD_FORMATS, sort_keys=True)}
    if product == "kibana":
        attributes["fieldAttrs"] = json.dumps({f: {"customLabel": label} for f, label in FIELD_LABELS.items()},
                                              sort_keys=True)
    return _object("index-pattern", _id("index-pattern"), attributes, [])


def searches() -> list[dict[str, Any]]:
    return [_object("search", _id(key), {
        "title": title, "description": f"logship: {query}", "columns": columns,
        "sort": [["@timestamp", "desc"]], "kibanaSavedObjectMeta": _source(query)}, _index_ref())
        for key, (title, query, columns) in SEARCHES.items()]


def visualizations() -> list[dict[str, Any]]:
    found = []
    for key, (title, vis_type, query, params, aggs) in VISUALIZATIONS.items():
        state = {"title": title, "type": vis_type, "params": {**params, "type": vis_type}, "aggs": aggs}
        found.append(_object("visualization", _id(key), {
            "title": title, "visState": json.dumps(state), "uiStateJSON": "{}", "description": "", "version": 1,
            "kibanaSavedObjectMeta": _source(query)}, _index_ref()))
    note = {"title": "About the shipper's figures", "type": "markdown", "aggs": [],
            "params": {"markdown": NOTE, "fontSize": 12, "openLinksInNewTab": False}}
    found.append(_object("visualization", _id("note"), {
        "title": note["title"], "visState": json.dumps(note), "uiStateJSON": "{}", "description": "", "version": 1,
        "kibanaSavedObjectMeta": _source("", with_index=False)}, []))
    return found


def dashboard() -> dict[str, Any]:
    panels, references = [], []
    for number, (key, x, y, w, h) in enumerate(LAYOUT):
        panels.append({"version": "7.10.0", "type": "visualization", "panelIndex": str(number + 1),
                       "gridData": {"x": x, "y": y, "w": w, "h": h, "i": str(number + 1)},
                       "embeddableConfig": {}, "panelRefName": f"panel_{number}"})
        references.append({"name": f"panel_{number}", "type": "visualization", "id": _id(key)})
    return _object("dashboard", _id("dashboard"), {
        "title": "logship: Lambda functions", "hits": 0,
        "description": "Invocations, errors, durations, memory and cold starts of every function logship ships",
        "panelsJSON": json.dumps(panels), "optionsJSON": json.dumps({"useMargins": True, "hidePanelTitles": False}),
        "version": 1, "timeRestore": True, "timeFrom": "now-24h", "timeTo": "now",
        "refreshInterval": {"pause": True, "value": 0},
        "kibanaSavedObjectMeta": _source("", with_index=False)}, references)


def saved_objects(product: str) -> list[dict[str, Any]]:
    """Every object for ``product`` (``opensearch`` or ``kibana``), the index pattern first."""
    return [index_pattern(product), *searches(), *visualizations(), dashboard()]


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in objects)


def load(product: str) -> list[dict[str, Any]]:
    """The objects as the shipped file holds them."""
    return [json.loads(raw) for raw in FILES[product].read_text().splitlines() if raw.strip()]


def with_prefix(objects: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The objects for indices ``<prefix>-*``: the index pattern's title, and every id and reference, renamed."""
    old, new = f"logship-{PREFIX}-", f"logship-{prefix}-"

    def rename(object_id: str) -> str:
        return new + object_id.removeprefix(old) if object_id.startswith(old) else object_id

    renamed = []
    for obj in objects:
        obj = json.loads(json.dumps(obj))  # a deep copy
        obj["id"] = rename(obj["id"])
        for reference in obj.get("references", []):
            reference["id"] = rename(reference["id"])
        if obj["type"] == "index-pattern":
            obj["attributes"]["title"] = f"{prefix}-*"
        renamed.append(obj)
    return renamed


def write() -> None:
    for product, path in FILES.items():
        path.write_text(to_ndjson(saved_objects(product)))
        print(f"wrote {path}")
