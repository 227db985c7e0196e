"""Every runtime's real lines through the real handler into osmem-server: what a Kibana user finds."""

from __future__ import annotations

from tests.conftest import search_all
from tests.doc_pages import example_queries
from tests.integration.test_lambda_fields import query, ship_all
from tests.payloads import subscription_names

RUNTIME_FIXTURES = [name for name in subscription_names() if name.startswith("cwl_rt_")]
CANNOT_LOAD_CODE = example_queries()["Functions that cannot load their code, in any runtime"]


def test_functions_that_cannot_load_their_code_in_any_runtime(opensearch, osmem_clone, monkeypatch, capsys):
    summaries = ship_all(monkeypatch, capsys, osmem_clone.url, RUNTIME_FIXTURES)

    assert all(s["degraded"] == 0 and s["failed"] == 0 for s in summaries)
    hits = query(opensearch, CANNOT_LOAD_CODE)
    # Node.js 12 and 22 (Uncaught Exception) and python2.7 (Unable to import module), one query.
    assert sorted(h["faas"]["name"] for h in hits) == ["AutoTagRetro", "logzio-cloudwatch-shipper", "s3-to-lambda-app"]
    assert {h["log"]["level"] for h in hits} == {"ERROR"}


def test_errors_of_every_runtime_are_found_by_level(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, RUNTIME_FIXTURES)

    names = {h["faas"]["name"] for h in query(opensearch, "log.level:ERROR AND error.type:*")}
    assert {"CustomRuntimeTest", "Redacted", "aws-microservices-greeting", "go-panic", "go-al2023", "greeter",
            "serverlessAirline", "s3-to-lambda-app"} <= names


def test_a_stack_printed_line_by_line_is_one_searchable_error(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_rt_go_panic_per_line"])

    [panic] = query(opensearch, 'error.stack_trace:"goroutine 83"')
    assert panic["error"]["type"] == "panic"
    continuations = search_all(opensearch, query_string={"query": "faas.name:go-panic AND NOT error.type:*"})
    assert len(continuations) == 4
    assert {d["log"]["level"] for d in continuations} == {"ERROR"}
