"""ship-logs against a real OpenSearch-compatible server: what a user can search after each payload."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from opensearchpy import OpenSearch

from logship.ship.payload import PayloadError
from logship.ship.shipper import ShipError
from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.integration.fault_proxy import FaultProxy
from tests.payloads import data_payloads, encode, load, subscription_names


def invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], endpoint: str,
           payload: dict[str, Any], context: LambdaContext | None = None, **env: str) -> list[dict[str, Any]]:
    """Invoke the real handler on a cold start; return the JSON lines it printed (summary first)."""
    for key, value in shipper_env(endpoint, **env).items():
        monkeypatch.setenv(key, value)
    app = load_handler("ship_logs")
    try:
        app.handler(encode(payload), context or LambdaContext())
    finally:
        out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def run_shipper(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], endpoint: str,
                payload: dict[str, Any], context: LambdaContext | None = None, **env: str) -> dict[str, Any]:
    """Invoke the real handler and return its per-invocation summary line."""
    records = invoke(monkeypatch, capsys, endpoint, payload, context, **env)
    return next(record for record in records if record.get("logship") == "ship-logs")


@pytest.mark.parametrize("name", data_payloads())
def test_every_event_becomes_one_searchable_document(name, opensearch, osmem_clone, monkeypatch, capsys):
    payload = load(name)
    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, payload)

    docs = search_all(opensearch)
    assert summary["indexed"] == len(payload["logEvents"]) == len(docs)
    by_id = {doc["_id"]: doc for doc in docs}
    for event in payload["logEvents"]:
        doc = by_id[event["id"]]
        assert doc.get("event", {}).get("original", doc["message"]) == event["message"].rstrip("\n")
        assert doc["aws"]["cloudwatch"] == {"log_group": payload["logGroup"],
                                            "log_stream": payload["logStream"], "event_id": event["id"]}
        source = event.get("extractedFields", {})  # a centralized copy names where it was logged
        assert doc["cloud"] == {"provider": "aws", "account": {"id": source.get("@aws.account", payload["owner"])},
                                "region": source.get("@aws.region", "eu-west-1")}


def test_fields_timestamp_and_function_identity(opensearch, osmem_clone, monkeypatch, capsys):
    run_shipper(monkeypatch, capsys, osmem_clone.url, load("cwl_python_runtime"))

    first = search_all(opensearch)[0]
    assert first["@timestamp"] == "2025-11-22T10:00:00.000Z"
    assert first["_index"] == "cwl-2025.11.22"
    assert first["faas"]["name"] == "orders-api"
    assert first["faas"]["version"] == "$LATEST"


def test_index_follows_each_events_own_utc_day(opensearch, osmem_clone, monkeypatch, capsys):
    run_shipper(monkeypatch, capsys, osmem_clone.url, load("cwl_node_runtime"))

    docs = search_all(opensearch)
    assert {doc["_index"] for doc in docs} == {"cwl-2025.11.22", "cwl-2025.11.23"}
    assert [doc["_index"] for doc in docs if doc["@timestamp"] < "2025-11-23"] == ["cwl-2025.11.22"] * 3
    assert {doc["faas"]["version"] for doc in docs} == {"7"}


def test_function_logging_to_custom_group_is_named_from_its_stream(opensearch, osmem_clone, monkeypatch, capsys):
    run_shipper(monkeypatch, capsys, osmem_clone.url, load("cwl_json_format"))

    assert {doc["faas"]["name"] for doc in search_all(opensearch)} == {"billing"}


def test_a_centralized_copy_is_found_under_the_account_and_region_it_was_logged_in(opensearch, osmem_clone,
                                                                                    monkeypatch, capsys):
    """A central account's filter put with emitSystemFields (EmitSystemFields=true): each event's extractedFields
    name its source, the envelope's owner is the central account."""
    payload = load("cwl_centralized_copy")

    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, payload)

    docs = search_all(opensearch, **{"term": {"cloud.account.id": "444455556666"}})
    assert len(docs) == summary["indexed"] == 5
    assert {(d["cloud"]["region"], d["faas"]["name"]) for d in docs} == {("us-east-2", "checkout-api")}
    assert search_all(opensearch, **{"term": {"cloud.account.id": "999988887777"}}) == []
    assert (summary["account"], summary["region"]) == ("444455556666", "us-east-2")  # `logship status` lists it so
    [error] = [d for d in docs if d.get("log", {}).get("level") == "ERROR"]
    assert error["message"] == "Receipt e-mail not sent: SES throttled"


def test_a_centralized_delivery_of_several_sources_attributes_each_event_to_its_own(opensearch, osmem_clone,
                                                                                   monkeypatch, capsys):
    """One stream holds one source, but nothing in the payload says a delivery cannot mix them (the OTel
    collector's testdata has two sources in one): each event is where its own extractedFields say."""
    payload = load("cwl_centralized_copy")
    payload["logEvents"][1]["extractedFields"] = {"@aws.account": "111122223333", "@aws.region": "ap-southeast-2"}

    run_shipper(monkeypatch, capsys, osmem_clone.url, payload)

    found = {d["_id"]: (d["cloud"]["account"]["id"], d["cloud"]["region"]) for d in search_all(opensearch)}
    ids = [event["id"] for event in payload["logEvents"]]
    assert found == {**dict.fromkeys(ids, ("444455556666", "us-east-2")), ids[1]: ("111122223333", "ap-southeast-2")}


def test_transformed_events_are_found_by_the_keys_the_transformer_gave_them(opensearch, osmem_clone, monkeypatch,
                                                                             capsys):
    """A filter put with applyOnTransformedLogs (ApplyOnTransformedLogs=true) delivers what a grok transformer made
    of each line: a JSON object, read as a JSON line. The line as logged is not in the delivery."""
    payload = load("cwl_transformed_grok")

    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, payload)

    assert summary["indexed"] == len(search_all(opensearch)) == 3
    [failed] = search_all(opensearch, query_string={"query": "json.status:FAILED"})
    assert failed["json"] == {"version": "293752", "hostname": "server-02.internal-network.local",
                              "status": "FAILED", "logMsg": "[Thread-002] token rejected"}
    assert failed["event"]["original"] == failed["message"] == payload["logEvents"][2]["message"]  # no message key
    assert failed["faas"]["name"] == "token-service"
    assert len(search_all(opensearch, query_string={"query": "json.hostname:server-01.internal-network.local"})) == 2


def _kept_in_raw(payload: dict) -> dict:
    """The events a transformer that keeps the line delivers: a first grok %{GREEDYDATA:raw} (the whole line into
    raw), then addKeys team=payments (both processors as CloudWatch Logs' processor reference documents them)."""
    for event in payload["logEvents"]:
        event["message"] = json.dumps({"raw": event["message"], "team": "payments"})
    return payload


def test_with_the_key_a_transformer_keeps_the_line_in_each_document_is_read_from_the_line(opensearch, osmem_clone,
                                                                                          monkeypatch, capsys):
    original = load("cwl_python_runtime")
    payload = _kept_in_raw(load("cwl_python_runtime"))

    records = invoke(monkeypatch, capsys, osmem_clone.url, payload, TRANSFORMED_ORIGINAL_KEY="raw")

    docs = {doc["_id"]: doc for doc in search_all(opensearch)}
    for event in original["logEvents"]:
        doc = docs[event["id"]]
        assert doc["event"]["original"] == event["message"].rstrip("\n")  # the line as logged
        assert doc["json"]["team"] == "payments"  # and what the transformer added
        assert "raw" not in doc["json"]
    warning = docs[original["logEvents"][3]["id"]]
    assert (warning["message"], warning["log"]["level"]) == ("Inventory low for sku=AB-12", "WARN")
    assert warning["faas"]["execution"] == "3f1c2a9e-6b1d-4f7a-9a7e-2d5b8c1e0f42"
    report = docs[original["logEvents"][-1]["id"]]
    assert report["lambda"]["duration_ms"] == 21.84
    # the function's metrics come from its lines as before (without the key, transformed events count nothing)
    [metrics] = [r for r in records if r.get("FunctionName") == "orders-api"]
    assert (metrics["Invocations"], metrics["ColdStarts"], metrics["Errors"]) == (1, 1, 1)


def test_replaying_every_payload_twice_leaves_counts_unchanged(opensearch, osmem_clone, monkeypatch, capsys):
    names = subscription_names()
    for name in names:
        run_shipper(monkeypatch, capsys, osmem_clone.url, load(name))
    first_count = len(search_all(opensearch))

    replays = [run_shipper(monkeypatch, capsys, osmem_clone.url, load(name)) for name in names]

    assert len(search_all(opensearch)) == first_count == sum(len(load(n)["logEvents"]) for n in data_payloads())
    assert sum(r["duplicates"] for r in replays) == first_count
    assert sum(r["indexed"] for r in replays) == 0


def test_control_message_indexes_nothing_and_succeeds(opensearch, osmem_clone, monkeypatch, capsys):
    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, load("cwl_control_message"))

    assert summary["message_type"] == "CONTROL_MESSAGE"
    assert summary["events_in"] == 0
    assert opensearch.indices.get(index="cwl-*") == {}


def test_items_rejected_with_429_are_retried_until_indexed(opensearch, osmem_clone, monkeypatch, capsys):
    payload = load("cwl_python_runtime")
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.item_status = 429
        proxy.faults.item_fault_requests = 2
        summary = run_shipper(monkeypatch, capsys, proxy.url, payload)

    assert len(search_all(opensearch)) == len(payload["logEvents"]) == summary["indexed"]
    assert summary["retried"] >= len(payload["logEvents"]) // 2
    assert proxy.faults.bulk_requests == 3


def test_whole_request_503s_are_retried(opensearch, osmem_clone, monkeypatch, capsys):
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.request_status = 503
        proxy.faults.request_fault_count = 2
        summary = run_shipper(monkeypatch, capsys, proxy.url, load("cwl_node_runtime"))

    assert summary["indexed"] == len(search_all(opensearch)) == 6


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_opensearch_raises_so_lambda_retries(monkeypatch, capsys):
    payload = load("cwl_python_runtime")
    with pytest.raises(ShipError, match="7 of 7 events from /aws/lambda/orders-api are not indexed"):
        run_shipper(monkeypatch, capsys, f"http://127.0.0.1:{_closed_port()}", payload,
                    context=LambdaContext(remaining_ms=4000))


def test_unreachable_summary_still_accounts_for_every_event(monkeypatch, capsys):
    monkeypatch.setattr("time.sleep", lambda _s: None)
    for key, value in shipper_env(f"http://127.0.0.1:{_closed_port()}").items():
        monkeypatch.setenv(key, value)
    app = load_handler("ship_logs")
    with pytest.raises(ShipError):
        app.handler(encode(load("cwl_node_runtime")), LambdaContext(remaining_ms=3000))

    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["pending"] == summary["events_in"] == 6
    assert "OpenSearch unreachable" in summary["reasons"][0]


def _strict_index(client: OpenSearch, index: str, field: str) -> None:
    """An index whose mapping makes ``field`` numeric, so text values are rejected (a 400)."""
    properties: dict[str, Any] = {}
    node = properties
    *parents, leaf = field.split(".")
    for part in parents:
        node[part] = {"properties": {}}
        node = node[part]["properties"]
    node[leaf] = {"type": "long"}
    client.indices.create(index=index, body={"mappings": {"properties": properties}})


def test_document_rejected_for_its_content_is_kept_in_the_failed_index(opensearch, osmem_clone, monkeypatch, capsys):
    _strict_index(opensearch, "cwl-2025.11.22", "faas.version")  # "$LATEST" cannot be a long
    payload = load("cwl_python_runtime")

    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, payload)

    failed = search_all(opensearch, "cwl-failed-*")
    assert summary["failed"] == len(failed) == len(payload["logEvents"])
    assert failed[0]["_index"] == "cwl-failed-2025.11.22"
    assert failed[0]["message"] == payload["logEvents"][0]["message"]
    assert failed[0]["error"]["type"] == "mapper_parsing_exception"
    assert "faas.version" in failed[0]["error"]["message"]
    assert failed[0]["logship"]["failed_index"] == "cwl-2025.11.22"


def test_when_even_the_failed_index_refuses_the_handler_raises(opensearch, osmem_clone, monkeypatch, capsys):
    _strict_index(opensearch, "cwl-2025.11.22", "faas.version")
    _strict_index(opensearch, "cwl-failed-2025.11.22", "message")

    with pytest.raises(ShipError, match="rejected and no fallback left: mapper_parsing_exception"):
        run_shipper(monkeypatch, capsys, osmem_clone.url, load("cwl_python_runtime"))


def test_bulk_requests_are_split_by_count_and_bytes(opensearch, osmem_clone, monkeypatch, capsys):
    payload = load("cwl_python_runtime")  # 7 events
    with FaultProxy(osmem_clone.url) as proxy:
        run_shipper(monkeypatch, capsys, proxy.url, payload, BULK_MAX_DOCS="3")
        by_count = proxy.faults.bulk_requests
        opensearch.indices.delete(index="cwl-*")
        run_shipper(monkeypatch, capsys, proxy.url, payload, BULK_MAX_BYTES="1024")
        by_bytes = proxy.faults.bulk_requests - by_count

    assert by_count == 3
    assert by_bytes >= 3
    assert len(search_all(opensearch)) == 7


@pytest.mark.parametrize("compress", ["true", "false"])
def test_request_too_large_for_the_domain_is_split_until_it_fits(compress, opensearch, osmem_clone, monkeypatch,
                                                                 capsys):
    payload = load("cwl_python_runtime")
    with FaultProxy(osmem_clone.url) as proxy:
        run_shipper(monkeypatch, capsys, proxy.url, payload, COMPRESS_REQUESTS=compress)
        [whole] = [seen for seen in proxy.faults.seen if seen.path.endswith("/_bulk")]
        opensearch.indices.delete(index="cwl-*")
        limit = len(whole.body) // 2  # the domain takes half of what the batch is on the wire
        proxy.faults.max_body_bytes = limit
        summary = run_shipper(monkeypatch, capsys, proxy.url, payload, COMPRESS_REQUESTS=compress)
        sent = [seen for seen in proxy.faults.seen[1:] if seen.path.endswith("/_bulk")]

    assert summary["indexed"] == len(search_all(opensearch)) == 7
    assert summary["reasons"]
    assert all(reason.startswith("request too large (413); bulk size lowered to ") for reason in summary["reasons"])
    assert {seen.header("content-encoding") for seen in sent} == ({"gzip"} if compress == "true" else {""})
    accepted = [seen for seen in sent if len(seen.body) <= limit]
    assert len(sent) > len(accepted) >= 2  # refused at first, then split until each part fits on the wire
    assert sum(seen.plain.count(b"\n") for seen in accepted) == 2 * 7


@pytest.mark.parametrize(("line", "why"), [
    ('{"message": "cut emoji \\ud83d", "level": "INFO"}', "a lone surrogate, as JSON.stringify writes a cut emoji"),
    ('{"latency": NaN, "message": "x"}', "NaN is not JSON: the structured fields cannot be sent"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "nesting deeper than encoders go"),
    ("MONITORING|" + "9" * 400 + "|1|count|x", "a timestamp no float can hold"),
])
def test_one_odd_line_never_costs_the_batch(line, why, opensearch, osmem_clone, monkeypatch, capsys):
    payload = load("cwl_python_runtime")
    payload["logEvents"][2]["message"] = line

    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, payload)

    docs = search_all(opensearch)
    assert len(docs) == 7, why
    assert summary["indexed"] + summary["degraded"] == 7
    odd = next(doc for doc in docs if doc["_id"] == payload["logEvents"][2]["id"])
    assert odd["message"]


def test_a_payload_that_cannot_be_read_still_logs_one_line_saying_why(monkeypatch, capsys, osmem_clone):
    for key, value in shipper_env(osmem_clone.url).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(PayloadError):
        load_handler("ship_logs").handler({"awslogs": {"data": "bm90IGd6aXA="}}, LambdaContext())

    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["level"] == "error"
    assert record["error"].startswith("PayloadError: awslogs.data is not gzip")
