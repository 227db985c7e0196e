"""logship redrive: the stack's dead-letter queue, replayed with the deployed shipper's settings, from a laptop."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from logship.cluster.index_template import install
from logship_cli.app import main
from tests.conftest import search_all
from tests.integration.deployed import DeployedStack
from tests.integration.test_redrive import on_failure_record
from tests.payloads import load

STACK = ["--stack", "logship", "--region", "eu-west-1"]


@pytest.fixture
def stack(cloud, osmem_clone, opensearch):
    """A deployed stack (shipper settings: this cluster, prefix replay, every redaction) and its queue's messages."""
    install(opensearch, index_prefix="replay")
    deployed = DeployedStack(cloud["moto"], "logship", osmem_clone.url, IndexPrefix="replay", RedactBuiltins="all")
    sqs = deployed.aws("sqs")
    for body in (on_failure_record(load("cwl_python_runtime")), on_failure_record(load("cwl_json_data_object")),
                 "not json at all"):
        sqs.send_message(QueueUrl=deployed.queue_url(), MessageBody=body)
    return deployed


def visible(stack: DeployedStack) -> int:
    attributes = stack.aws("sqs").get_queue_attributes(QueueUrl=stack.queue_url(),
                                                       AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_dry_run_lists_what_failed_and_why_and_changes_nothing(stack):
    result = CliRunner().invoke(main, ["redrive", "--dry-run", *STACK])

    assert result.exit_code == 1, result.output  # a message nobody can replay needs a human
    assert "[1] /aws/lambda/orders-api (7 events, RetriesExhausted): 7 of 7 events" in result.output
    assert "not a Lambda on-failure record" in result.output
    assert "done: 0 replayed, 1 kept in the queue, 2 listed" in result.output
    assert visible(stack) == 3  # nothing hidden: a replay right after sees every message


def test_replay_uses_the_stacks_queue_and_shipper_settings(stack, opensearch):
    result = CliRunner().invoke(main, ["redrive", *STACK])

    assert result.exit_code == 1, result.output  # the unreadable message stays, and says so
    docs = search_all(opensearch, "replay-*")
    assert len(docs) == 7 + 2
    assert "jane.doe@example.com" not in json.dumps(docs)  # the deployed shipper's redaction
    assert {d["cloud"]["region"] for d in docs} == {"eu-west-1"}
    assert "done: 2 replayed, 1 kept in the queue, 0 listed" in result.output
    assert "1 message(s) kept in the queue: their lines above say why" in result.output

    again = CliRunner().invoke(main, ["redrive", *STACK])  # what was replayed is gone; nothing doubles
    assert "0 replayed" in again.output
    assert len(search_all(opensearch, "replay-*")) == 9


def test_an_explicit_queue_and_endpoint_need_no_stack(stack, opensearch, osmem_clone):
    result = CliRunner().invoke(main, ["redrive", "--queue-url", stack.queue_url(), "--endpoint", osmem_clone.url,
                                       "--auth", "none", "--prefix", "cwl", "--region", "eu-west-1"])

    assert "done: 2 replayed, 1 kept in the queue" in result.output
    assert len(search_all(opensearch, "cwl-*")) == 9


def test_a_queue_that_does_not_exist_is_named(cloud):
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/nope"
    result = CliRunner().invoke(main, ["redrive", "--queue-url", url, "--dry-run", "--region", "eu-west-1"])

    assert result.exit_code == 1
    assert "the queue does not exist" in result.output
    assert "check --queue-url against the stack's DeadLetterQueueUrl output" in result.output


def test_without_credentials_the_error_says_how_to_get_them(cloud, monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = CliRunner().invoke(main, ["redrive", "--dry-run", *STACK])

    assert result.exit_code == 1
    assert "no AWS credentials found: run `aws configure` (or `aws sso login`)" in result.output
    assert "Traceback" not in result.output
