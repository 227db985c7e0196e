"""Metrics from log lines: per-function counts and MONITORING lines as valid EMF records."""

from __future__ import annotations

from logship.ship.documents import DocumentBuilder
from logship.ship.function_metrics import FunctionMetrics, cloudwatch_unit
from logship.ship.payload import read_delivery
from tests.payloads import encode, load
from tests.unit.test_report import assert_valid_emf

BUILDER = DocumentBuilder(index_prefix="cwl", region="eu-west-1")


def records_for(payload: dict) -> list[dict]:
    """The records ship-logs prints: counted while the documents are built, as the shipper builds them."""
    metrics = FunctionMetrics()
    for _item in BUILDER.pages(read_delivery(encode(payload)), metrics):
        pass
    return metrics.records("logship/functions")


def test_invocations_cold_starts_timeouts_errors_per_function():
    counts = records_for(load("cwl_node_runtime"))[0]
    assert_valid_emf(counts)
    assert counts["FunctionName"] == "checkout"
    # one invocation that logged an error, timed out (timeout line and REPORT Status: timeout) and was warm
    assert (counts["Invocations"], counts["ColdStarts"], counts["Timeouts"], counts["Errors"]) == (1, 0, 1, 1)

    platform = records_for(load("cwl_platform_extensions"))[0]
    assert (platform["Invocations"], platform["ColdStarts"], platform["Timeouts"], platform["Errors"]) == (2, 1, 0, 1)


def test_monitoring_lines_become_metrics_at_their_own_timestamp():
    records = records_for(load("cwl_monitoring"))
    for record in records:
        assert_valid_emf(record)
    counts, *monitoring = records
    assert counts["Invocations"] == 1
    by_time = {r["_aws"]["Timestamp"]: r for r in monitoring}
    assert set(by_time) == {1763812800000, 1763812801000}
    first, second = by_time[1763812800000], by_time[1763812801000]
    assert first["orders.placed"] == 1.0
    assert first["payment.latency"] == 48.5
    assert second["payment.latency"] == 51.25
    assert second["basket.size"] == 3.0
    units = {m["Name"]: m["Unit"] for r in monitoring for m in r["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"orders.placed": "Count", "payment.latency": "Milliseconds", "basket.size": "None"}
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["FunctionName"]] for r in monitoring)


def test_many_metrics_are_split_into_records_of_at_most_100():
    payload = load("cwl_monitoring")
    template = payload["logEvents"][2]
    payload["logEvents"] = [dict(template, id=f"{i:056d}", message=f"MONITORING|1763812800|{i}|count|m{i % 150}")
                            for i in range(450)]
    monitoring = records_for(payload)[1:]
    for record in monitoring:
        assert_valid_emf(record)
    values: dict[str, list] = {}
    for record in monitoring:
        for metric in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = record[metric["Name"]]
            values.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    assert len(values) == 150
    assert sum(len(v) for v in values.values()) == 450


def test_units():
    assert [cloudwatch_unit(u) for u in ("count", "ms", "Seconds", "bytes", "gauge")] == [
        "Count", "Milliseconds", "Seconds", "Bytes", "None"]
