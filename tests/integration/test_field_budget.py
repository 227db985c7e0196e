"""One line can no longer spend an index's field budget: correlation keys against the real index template."""

from __future__ import annotations

import json
from typing import Any

from logship.cluster.engine import Flavor
from logship.cluster.index_template import template_body
from tests.conftest import search_all
from tests.doc_pages import example_queries
from tests.integration.test_ship_logs import run_shipper
from tests.payloads import load

ONE_CORRELATION_ID = example_queries()["One correlation id across functions"]


def _fields(mapping: dict[str, Any]) -> int:
    """How many fields a mapping holds, as index.mapping.total_fields.limit counts them."""
    return sum(1 + _fields(child) for child in mapping.get("properties", {}).values())


def _mapped_fields(client: Any, index: str = "cwl-2025.11.22") -> int:
    return _fields(client.indices.get_mapping(index=index)[index]["mappings"])


def flood_then_fresh_keys() -> dict[str, Any]:
    """A line with 1,900 x-correlation-* keys, then 100 lines each with a correlation key never seen before."""
    payload = load("cwl_json_format")
    first = payload["logEvents"][0]
    flood = {"message": "flood", "x-correlation-id": "req-5e1f", **{f"x-correlation-k{i}": f"v{i}" for i in range(1900)}}
    events = [{"id": f"{first['id'][:-4]}9999", "timestamp": first["timestamp"], "message": json.dumps(flood)}]
    events += [{"id": f"{first['id'][:-4]}{i:04d}", "timestamp": first["timestamp"] + i,
                "message": json.dumps({"message": f"line {i}", f"x-correlation-new{i}": f"n{i}", "level": "INFO"})}
               for i in range(100)]
    payload["logEvents"] = events
    return payload


def test_correlation_keys_add_no_fields_and_stay_searchable(opensearch, osmem_clone, monkeypatch, capsys):
    run_shipper(monkeypatch, capsys, osmem_clone.url, load("cwl_python_runtime"))
    before = _mapped_fields(opensearch)

    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, flood_then_fresh_keys())

    assert (summary["indexed"], summary["degraded"], summary["failed"]) == (101, 0, 0)
    assert _mapped_fields(opensearch) == before  # correlation is one flat_object: no field per key
    assert [hit["message"] for hit in search_all(opensearch, query_string={"query": ONE_CORRELATION_ID})] == ["flood"]
    assert len(search_all(opensearch, query_string={"query": 'correlation.x-correlation-new42:"n42"'})) == 1
    # Beyond the 16 a line may add, keys are still found in json.
    assert len(search_all(opensearch, query_string={"query": 'json.x-correlation-k1899:"v1899"'})) == 1


def test_without_flat_object_one_line_adds_at_most_sixteen_fields(bare_opensearch, osmem_clone, monkeypatch, capsys):
    old = template_body("cwl", Flavor("opensearch", (2, 5)))  # what an OpenSearch before 2.7 gets
    bare_opensearch.indices.put_index_template(name="logship-cwl", body=old)
    run_shipper(monkeypatch, capsys, osmem_clone.url, load("cwl_python_runtime"))
    before = _mapped_fields(bare_opensearch)
    payload = flood_then_fresh_keys()
    payload["logEvents"] = payload["logEvents"][:1]

    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, payload)

    assert summary["indexed"] == 1
    assert _mapped_fields(bare_opensearch) - before <= 16 + 1  # the keys, and the correlation object itself
    assert len(search_all(bare_opensearch, query_string={"query": ONE_CORRELATION_ID})) == 1
