"""Lambda logs as typed, searchable documents in osmem-server: the queries users run in Kibana."""

from __future__ import annotations

import json

import pytest

from logship.ship.shipper import ShipError
from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.doc_pages import example_queries
from tests.integration.test_ship_logs import invoke, run_shipper
from tests.payloads import data_payloads, encode, load
from tests.unit.test_report import assert_valid_emf

QUERIES = example_queries()
ERRORS_OF_ONE_FUNCTION = QUERIES["Errors of one function"]
SLOW_COLD_STARTS = QUERIES["Cold starts slower than 1 s"]
ONE_CORRELATION_ID = QUERIES["One correlation id across functions"]


def ship_all(monkeypatch, capsys, url: str, names: list[str], **env: str) -> list[dict]:
    return [run_shipper(monkeypatch, capsys, url, load(name), **env) for name in names]


def query(client, text: str) -> list[dict]:
    return search_all(client, "cwl-*", query_string={"query": text})


def test_every_sample_indexes_cleanly_with_the_template(opensearch, osmem_clone, monkeypatch, capsys):
    summaries = ship_all(monkeypatch, capsys, osmem_clone.url, data_payloads())

    assert all(s["degraded"] == 0 and s["failed"] == 0 for s in summaries)
    assert len(search_all(opensearch)) == sum(s["events_in"] for s in summaries)


def test_errors_of_one_function(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, data_payloads())

    hits = query(opensearch, ERRORS_OF_ONE_FUNCTION)
    assert {h["faas"]["name"] for h in hits} == {"checkout"}
    assert {h["event"].get("action", "log") for h in hits} == {"log", "timeout", "report"}
    assert [h["error"]["type"] for h in hits] == ["TypeError", "Timeout", "Timeout"]


def test_cold_starts_slower_than_one_second(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, data_payloads())

    hits = sorted(query(opensearch, SLOW_COLD_STARTS), key=lambda h: h["faas"]["name"])
    # The REPORT as delivered, and the same figure in a console copy ("Init Duration: 1,384.56 ms", spaces).
    assert [(h["faas"]["name"], h["lambda"]["init_duration_ms"]) for h in hits] == [
        ("image-resize", 1384.56), ("image-resize-copy", 1384.56)]
    assert hits[0]["lambda"]["memory_used_ratio"] == pytest.approx(0.9863, abs=1e-4)


def test_one_correlation_id_across_functions(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, data_payloads())

    hits = query(opensearch, ONE_CORRELATION_ID)
    assert sorted(h["faas"]["name"] for h in hits) == ["billing", "inventory", "payments"]


def test_same_json_key_with_different_types_in_one_index(opensearch, osmem_clone, monkeypatch, capsys):
    summaries = ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_json_data_number", "cwl_json_data_object"])

    assert [s["indexed"] for s in summaries] == [2, 2]
    number = search_all(opensearch, query_string={"query": "json.data:1"})
    nested = search_all(opensearch, query_string={"query": "json.data.a:1"})
    assert [h["faas"]["name"] for h in number] == ["inventory"]
    assert [h["faas"]["name"] for h in nested] == ["payments"]
    assert {h["_index"] for h in number + nested} == {"cwl-2025.11.22"}


def test_without_the_template_a_mapping_conflict_is_degraded_not_lost(bare_opensearch, osmem_clone, monkeypatch,
                                                                      capsys):
    first, second = ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_json_data_number", "cwl_json_data_object"])

    assert first["indexed"] == 2
    assert (second["indexed"], second["degraded"], second["failed"]) == (1, 1, 0)
    degraded = search_all(bare_opensearch, query_string={"query": "logship.degraded:true"})
    assert len(degraded) == 1
    assert degraded[0]["_index"] == "cwl-2025.11.22"
    assert degraded[0]["message"] == load("cwl_json_data_object")["logEvents"][0]["message"]
    assert "json" not in degraded[0]
    assert degraded[0]["logship"]["reason"].startswith("mapper_parsing_exception")
    assert degraded[0]["faas"]["name"] == "payments"


def test_redaction_before_anything_is_written(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_json_data_object"], REDACT_BUILTINS="all")

    docs = search_all(opensearch)
    raw = json.dumps(docs)
    for secret in ("jane.doe@example.com", "4111 1111 1111 1111", "eyJhbGciOiJIUzI1NiJ9"):
        assert secret not in raw
    first = docs[0]
    assert first["json"]["customer_email"] == "[REDACTED]"
    assert first["json"]["auth"] == "Bearer [REDACTED]"
    assert "[REDACTED]" in first["event"]["original"]
    assert docs[1]["message"] == "charge card [REDACTED] failed"


def test_shipper_prints_function_metrics_as_emf(opensearch, osmem_clone, monkeypatch, capsys):
    records = invoke(monkeypatch, capsys, osmem_clone.url, load("cwl_monitoring"),
                     FUNCTION_METRICS_NAMESPACE="acme/lambda")

    for record in records:
        assert_valid_emf(record)
    function_records = [r for r in records if r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "acme/lambda"]
    assert function_records[0]["Invocations"] == 1
    assert {k for r in function_records[1:] for k in r if "." in k} == {"orders.placed", "payment.latency",
                                                                         "basket.size"}


def test_function_metrics_only_once_the_batch_is_settled(opensearch, osmem_clone, monkeypatch, capsys):
    for key, value in shipper_env("http://127.0.0.1:9").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ShipError):
        load_handler("ship_logs").handler(encode(load("cwl_monitoring")), LambdaContext(remaining_ms=2500))
    failed_run = capsys.readouterr().out
    retried = invoke(monkeypatch, capsys, osmem_clone.url, load("cwl_monitoring"))

    assert '"Pending":7' in failed_run
    assert "logship/functions" not in failed_run  # a failed batch is retried by Lambda: count it then, once
    assert sum(r.get("Invocations", 0) for r in retried) == 1


def test_two_functions_sharing_one_custom_group_are_told_apart(opensearch, osmem_clone, monkeypatch, capsys):
    """/shared/orders holds both functions' streams (YYYY/MM/DD/<function>[<version>]<id>): each document names
    its own function and version, and FunctionNamePattern reads each function's own name."""
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_custom_group_orders_api", "cwl_custom_group_billing_export"],
             FUNCTION_NAME_PATTERN=r"(?P<service>[a-z]+)-(?P<part>[a-z]+)-(?P<environment>[a-z]+)")

    docs = query(opensearch, 'aws.cloudwatch.log_group:"/shared/orders"')
    by_function = {(d["faas"]["name"], d["faas"]["version"], d["service"]["name"], d["labels"]["part"],
                    d["service"]["environment"]) for d in docs}
    assert by_function == {("orders-api-prod", "$LATEST", "orders", "api", "prod"),
                           ("billing-export-prod", "7", "billing", "export", "prod")}
    reports = {d["faas"]["name"]: d["lambda"]["duration_ms"] for d in query(opensearch, "event.action:report")}
    assert reports == {"orders-api-prod": 38.21, "billing-export-prod": 17.9}
    assert [d["message"] for d in query(opensearch, 'faas.name:"billing-export-prod" AND log.level:INFO')] == [
        "Exported 14 invoices for order 2211"]
