"""The saved objects for OpenSearch Dashboards and Kibana: valid NDJSON, in step with their definition, naming only
fields the index template maps, every reference resolved, and the index prefix substituted throughout."""

from __future__ import annotations

import json
import re

import pytest

from logship.cluster.engine import Flavor
from logship.cluster.index_template import mappings
from logship_cli.dashboards import FILES, load, saved_objects, to_ndjson, with_prefix

PRODUCTS = list(FILES)
TYPES_BOTH_IMPORT = {"index-pattern", "search", "visualization", "dashboard"}
_QUERY_FIELD = re.compile(r"([A-Za-z@_][\w.@-]*):")


def mapped(path: str) -> bool:
    node = {"properties": mappings(Flavor("opensearch", (2, 11)).json_type)["properties"]}
    for part in path.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return False
    return True


def fields_named(obj: dict) -> set[str]:
    """Every field an object names: formats, labels, columns, sorts, query terms, aggregation fields."""
    attributes = obj["attributes"]
    found = set(json.loads(attributes.get("fieldFormatMap", "{}"))) | set(json.loads(attributes.get("fieldAttrs", "{}")))
    found |= {attributes["timeFieldName"]} if "timeFieldName" in attributes else set()
    found |= set(attributes.get("columns", [])) | {field for field, _order in attributes.get("sort", [])}
    queries = [json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]] \
        if "kibanaSavedObjectMeta" in attributes else []
    for agg in json.loads(attributes.get("visState", '{"aggs": []}'))["aggs"]:
        if "field" in agg["params"]:
            found.add(agg["params"]["field"])
        queries += [f["input"]["query"] for f in agg["params"].get("filters", [])]
    for query in queries:
        found |= set(_QUERY_FIELD.findall(query))
    return found


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_file_parses_and_holds_objects_both_products_import(product):
    lines = [line for line in FILES[product].read_text().splitlines() if line.strip()]
    objects = [json.loads(line) for line in lines]

    assert len(objects) == 12
    assert {obj["type"] for obj in objects} == TYPES_BOTH_IMPORT
    assert all({"id", "type", "attributes", "references", "migrationVersion"} <= set(obj) for obj in objects)
    for obj in objects:  # the nested JSON strings parse too
        for key in ("visState", "panelsJSON", "fieldFormatMap", "optionsJSON"):
            if key in obj["attributes"]:
                json.loads(obj["attributes"][key])


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_file_is_what_the_definition_writes(product):
    assert FILES[product].read_text() == to_ndjson(saved_objects(product)), \
        "run `python -m logship_cli.dashboards` after changing the definitions"


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_field_named_is_mapped_by_the_index_template(product):
    named = set().union(*(fields_named(obj) for obj in load(product)))

    assert {"@timestamp", "faas.name", "log.level", "lambda.duration_ms", "lambda.max_memory_used_mb",
            "lambda.memory_size_mb", "lambda.init_duration_ms", "faas.coldstart", "logship.degraded"} <= named
    assert {field for field in named if not mapped(field)} == set()


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_reference_resolves_and_the_dashboard_shows_the_views_asked_for(product):
    objects = load(product)
    ids = {(obj["type"], obj["id"]) for obj in objects}
    dashboard = next(obj for obj in objects if obj["type"] == "dashboard")
    titles = {obj["id"]: obj["attributes"]["title"] for obj in objects}
    panels = json.loads(dashboard["attributes"]["panelsJSON"])

    assert all((ref["type"], ref["id"]) in ids for obj in objects for ref in obj["references"])
    assert {p["panelRefName"] for p in panels} == {ref["name"] for ref in dashboard["references"]}
    assert [titles[ref["id"]] for ref in dashboard["references"]] == [
        "Invocations and errors per function", "p95 duration per function", "Max memory used against memory size",
        "Cold-start init durations", "What the shipper made of the lines", "About the shipper's figures"]
    assert sorted(obj["attributes"]["title"] for obj in objects if obj["type"] == "search") == [
        "Cold starts", "Errors", "Failed and degraded documents", "Timeouts"]


@pytest.mark.parametrize("product", PRODUCTS)
def test_durations_are_formatted_in_ms_and_memory_in_mb(product):
    pattern = next(obj for obj in load(product) if obj["type"] == "index-pattern")["attributes"]
    formats = json.loads(pattern["fieldFormatMap"])

    assert pattern["title"] == "cwl-*"
    assert pattern["timeFieldName"] == "@timestamp"
    assert formats["lambda.duration_ms"] == {"id": "duration", "params": {
        "inputFormat": "milliseconds", "outputFormat": "asMilliseconds", "outputPrecision": 1, "showSuffix": True}}
    assert formats["lambda.max_memory_used_mb"]["id"] == "number"
    if product == "kibana":  # data views carry labels with the unit; OpenSearch Dashboards has no such attribute
        assert json.loads(pattern["fieldAttrs"])["lambda.max_memory_used_mb"] == {"customLabel": "Max memory used (MB)"}
    else:
        assert "fieldAttrs" not in pattern


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_index_prefix_is_substituted_everywhere(product):
    original = load(product)
    renamed = with_prefix(original, "applogs")
    text = to_ndjson(renamed)

    assert "logship-cwl-" not in text
    assert "cwl-*" not in text
    assert next(o for o in renamed if o["type"] == "index-pattern")["attributes"]["title"] == "applogs-*"
    assert all(ref["id"].startswith("logship-applogs-") for obj in renamed for ref in obj["references"])
    assert original == load(product)  # a copy was renamed, not the objects given
    assert with_prefix(original, "cwl") == original
