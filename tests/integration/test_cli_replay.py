"""logship replay: payload files through the shipper here, or a deployed function's Invoke; each file's ledger."""

from __future__ import annotations

import json

import pytest

from tests.cli import logship
from tests.conftest import search_all
from tests.integration.deployed import DeployedStack
from tests.integration.test_redrive import on_failure_record
from tests.payloads import EVENTS_DIR, encode, load


@pytest.fixture
def files(tmp_path):
    """One payload in each form a user may hold: decoded, encoded, a dead-letter message; and a wrong one."""
    encoded = tmp_path / "encoded.json"
    encoded.write_text(json.dumps(encode(load("cwl_node_runtime"))))
    dead_letter = tmp_path / "dead-letter.json"
    dead_letter.write_text(on_failure_record(load("cwl_json_data_object")))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"hello": "world"}))
    return {"decoded": EVENTS_DIR / "cwl_python_runtime.json", "encoded": encoded, "dead_letter": dead_letter,
            "wrong": wrong}


def test_local_replay_reports_each_files_ledger_and_is_idempotent(files, opensearch, osmem_clone):
    paths = [str(files[k]) for k in ("decoded", "encoded", "dead_letter")]
    first = logship("replay", *paths, "--endpoint", osmem_clone.url, "--auth", "none")
    again = logship("replay", *paths, "--endpoint", osmem_clone.url, "--auth", "none")

    assert first.exit_code == 0, first.output
    assert f"{files['decoded']}: 7 in, 7 indexed, 0 duplicates, 0 degraded, 0 failed, 0 pending " \
           "(/aws/lambda/orders-api)" in first.output
    assert f"{files['encoded']}: 6 in, 6 indexed" in first.output
    assert f"{files['dead_letter']}: 2 in, 2 indexed" in first.output
    assert "total: 15 in, 15 indexed, 0 duplicates, 0 degraded, 0 failed, 0 pending (3 of 3 files)" in first.output
    assert "total: 15 in, 0 indexed, 15 duplicates" in again.output
    assert len(search_all(opensearch)) == 15


def test_a_file_that_is_no_payload_fails_alone_and_is_named(files, opensearch, osmem_clone):
    result = logship("replay", str(files["wrong"]), str(files["decoded"]), "--endpoint", osmem_clone.url,
                     "--auth", "none")

    assert result.exit_code == 1
    assert f"{files['wrong']}: failed: {files['wrong']}: not a subscription payload" in result.stdout
    assert f"{files['decoded']}: 7 in, 7 indexed" in result.stdout
    assert "1 of 2 file(s) not fully shipped" in result.stderr


def test_a_cluster_that_cannot_be_reached_leaves_the_events_pending_and_says_so(files):
    result = logship("replay", str(files["decoded"]), "--endpoint", "http://127.0.0.1:9", "--auth", "none",
                     "--timeout", "2")

    assert result.exit_code == 1
    assert "7 in, 0 indexed, 0 duplicates, 0 degraded, 0 failed, 7 pending" in result.stdout


def test_replay_to_the_deployed_shipper_reports_what_the_function_returned(cloud, files, opensearch, osmem_clone):
    DeployedStack(cloud["moto"], "logship", osmem_clone.url)

    result = logship("replay", str(files["decoded"]), "--to", "shipper", "--stack", "logship", "--region", "eu-west-1")

    assert result.exit_code == 0, result.output
    assert "through arn:aws:lambda:eu-west-1:123456789012:function:logship-ship-logs" in result.stdout
    assert f"{files['decoded']}: 7 in, 7 indexed" in result.stdout
    assert cloud["lambda"].invocations == [{"function": "arn:aws:lambda:eu-west-1:123456789012:function:"
                                                        "logship-ship-logs", "type": "RequestResponse", "error": None}]
    assert len(search_all(opensearch)) == 7


def test_a_function_error_is_reported_with_lambdas_message(cloud, files, tmp_path):
    DeployedStack(cloud["moto"], "logship", "http://127.0.0.1:9")  # the shipper cannot reach its cluster
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"awslogs": {"data": "@@"}}))

    result = logship("replay", str(broken), "--to", "logship-ship-logs", "--region", "eu-west-1")

    assert result.exit_code == 1
    assert "logship-ship-logs failed (Unhandled): awslogs.data is not base64" in result.stdout
