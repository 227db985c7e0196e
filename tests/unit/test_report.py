"""The summary line is valid Embedded Metric Format (per the CloudWatch EMF specification)."""

from __future__ import annotations

import json

import pytest

from logship.core.report import emf_record, emit
from logship.ship.report import shipper_summary

FIGURES = {"events_in": 7, "indexed": 5, "duplicates": 1, "degraded": 0, "failed": 1, "pending": 0,
           "retried": 3, "bytes": 4096, "ms": 12.5}


def assert_valid_emf(record: dict) -> None:
    """The specification's rules: _aws.Timestamp in epoch ms, each metric (a number or up to 100) and dimension a root member."""
    meta = record["_aws"]
    assert isinstance(meta["Timestamp"], int)
    assert meta["Timestamp"] > 1_600_000_000_000
    for directive in meta["CloudWatchMetrics"]:
        assert 1 <= len(directive["Namespace"]) <= 1024
        assert len(directive["Metrics"]) <= 100
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30
            assert all(isinstance(record[key], str) for key in dimension_set)
        for metric in directive["Metrics"]:
            value = record[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= 100
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            assert metric["Unit"] in {"Count", "Bytes", "Milliseconds", "Seconds", "None", "Percent"}


def test_summary_is_one_line_of_figures_and_metrics(capsys):
    emit(shipper_summary(FIGURES, namespace="logship", function_name="logship-ship-logs"))

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert_valid_emf(record)
    assert record["indexed"] == record["Indexed"] == 5
    assert record["FunctionName"] == "logship-ship-logs"
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "logship"


def test_more_than_100_metrics_is_refused():
    with pytest.raises(ValueError, match="at most 100"):
        emf_record("ns", {}, {f"m{i}": (1, "Count") for i in range(101)})
