"""Every runtime's real lines through the real handler into osmem-server: what a Kibana user finds."""

from __future__ import annotations

from tests.conftest import search_all
from tests.doc_pages import example_queries
from tests.integration.test_lambda_fields import query, ship_all
from tests.payloads import subscription_names

RUNTIME_FIXTURES = [name for name in subscription_names() if name.startswith("cwl_rt_")]
CANNOT_LOAD_CODE = example_queries()["Functions that cannot load their code, in any runtime"]
PANICS = example_queries()["Go and Rust panics, with their stacks"]


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


def test_errors_of_the_newer_runtimes_and_stacks_split_per_event(opensearch, osmem_clone, monkeypatch, capsys):
    # Issue 17: Java, .NET and Node stacks one event per line, Python 3.12's unhandled exception (text and JSON),
    # Go's slog with a panic in msg, Rust's panics.
    ship_all(monkeypatch, capsys, osmem_clone.url, RUNTIME_FIXTURES)

    names = {h["faas"]["name"] for h in query(opensearch, "log.level:ERROR AND error.type:* AND error.stack_trace:*")}
    assert {"orders-java", "ChatGPTLambda", "billing-dotnet", "orders-web", "checkout-py", "checkout-py-json",
            "payments-go", "orders-rust", "rust-hello"} <= names
    [hint] = query(opensearch, 'faas.name:checkout-py AND message:"LAMBDA_WARNING"')
    assert (hint["log"]["level"], hint["error"]["type"]) == ("ERROR", "KeyError")


def test_loggers_and_line_numbers_are_searchable_as_such(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, RUNTIME_FIXTURES)

    failed = query(opensearch, "log.logger:ChatGPTLambda AND log.origin.file.line:[50 TO 59]")
    assert [h["message"] for h in failed] == ["OpenAI call failed"]
    writers = {h["log"]["logger"] for h in query(opensearch, "log.level:ERROR AND log.logger:*")}
    assert {"DD_EXTENSION", "ExceptionsHandler", "PaymentsService",
            "AWS Parameters and Secrets Lambda Extension"} <= writers
    # A line in terminal colours is found by its words; its escape codes stay in event.original only.
    [coloured] = query(opensearch, 'faas.name:api-nest AND message:"Card declined"')
    assert coloured["message"] == "Card declined for order o-18"
    assert coloured["event"]["original"].startswith("\x1b[31m[Nest]")


def test_cold_starts_of_snapstart_and_copied_reports(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_rt_java_snapstart", "cwl_rt_report_spaces"])

    cold = query(opensearch, "event.action:report AND faas.coldstart:true")
    assert sorted(h["faas"]["name"] for h in cold) == ["image-resize-copy", "orders-snapstart"]
    [restore] = query(opensearch, "event.action:restore_start")
    assert restore["faas"]["runtime"]["version"] == "java:21.v38"


def test_go_and_rust_panics_with_their_stacks(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, RUNTIME_FIXTURES)

    hits = query(opensearch, PANICS)
    assert sorted(h["faas"]["name"] for h in hits) == ["go-panic", "insights-demo", "orders-rust", "rust-hello"]
    assert all(h["log"]["level"] == "ERROR" and h["error"]["message"] for h in hits)
