"""A cluster that refuses every document for a setting (a permission, automatic index creation off, a missing
pipeline, ids on a time series collection): the first refusal stops the batch, which is kept in the dead-letter
queue at once with the cluster's words and what to fix (Lambda's two retries would meet the same refusal), and
``logship redrive`` replays it once the setting is fixed.

The refusals are the engines' own, per item, as tests/integration/opensearch_stand_in.py and
elastic_stand_in.py give them (the security plugin's and Elasticsearch's 403 texts, the 404 of
``action.auto_create_index``), osmem-server's for a pipeline it does not have, and FaultProxy's for ids.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch

from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.integration.elastic_stand_in import ElasticStandIn
from tests.integration.fault_proxy import FaultProxy
from tests.integration.opensearch_stand_in import OpenSearchStandIn
from tests.payloads import encode, load

FIXES = {
    "OpenSearch: the role may not create indices": "the shipper's role (logship-shipper) may not create indices",
    "OpenSearch: action.auto_create_index false": "the cluster does not create the index cwl-2025.11.22 on a write",
    "Elasticsearch: the key may not create indices": "the shipper's credentials (user [logship] with effective roles "
                                                     "[logship_writer]) may not create the index cwl-2025.11.22",
    "a pipeline the cluster does not have": "the ingest pipeline logs@custom does not exist on the cluster",
    "ids on a time series collection": "deploy with DocumentIds=false",
}


@contextlib.contextmanager
def refusing(case: str, osmem_url: str) -> Iterator[tuple[str, dict[str, str], list[Any]]]:
    """A cluster refusing every document as ``case`` says: its URL, the shipper's settings for it, and every request
    it received."""
    if case == "OpenSearch: the role may not create indices":
        with OpenSearchStandIn(osmem_url, version="2.19.1", user="logship-shipper",
                               denied_actions=frozenset({"indices:admin/create"})) as cluster:
            yield cluster.url, {}, cluster.seen
    elif case == "OpenSearch: action.auto_create_index false":
        with OpenSearchStandIn(osmem_url, version="2.19.1", auto_create_index=False) as cluster:
            yield cluster.url, {}, cluster.seen
    elif case == "Elasticsearch: the key may not create indices":
        with ElasticStandIn("8.15.0", create_index_denied=True) as es:
            yield es.url, {}, es.seen
    else:  # osmem-server has no ingest API: every pipeline is missing; FaultProxy refuses ids as a time series does
        with FaultProxy(osmem_url) as proxy:
            proxy.faults.refuse_ids = case == "ids on a time series collection"
            pipeline = {"INGEST_PIPELINE": "logs@custom"} if case == "a pipeline the cluster does not have" else {}
            yield proxy.url, pipeline, proxy.faults.seen


def dead_letters(queue_url: str) -> list[dict[str, Any]]:
    found = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in found.get("Messages", [])]


def ship(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], endpoint: str, queue_url: str,
         event: dict[str, Any], **env: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The real handler on a cold start: what it answered Lambda, and the lines it printed."""
    for key, value in shipper_env(endpoint, DEAD_LETTER_QUEUE_URL=queue_url, **env).items():
        monkeypatch.setenv(key, value)
    context = LambdaContext()
    context.invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:logship-ship-logs"
    answer = load_handler("ship_logs").handler(event, context)
    return answer, [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("case", list(FIXES))
def test_a_batch_refused_for_a_setting_is_kept_at_once_with_what_to_fix(case, aws, osmem_clone, monkeypatch, capsys):
    queue_url = boto3.client("sqs").create_queue(QueueName="logship-DeadLetterQueue")["QueueUrl"]
    event = encode(load("cwl_python_runtime"))
    with refusing(case, osmem_clone.url) as (endpoint, env, seen):
        answer, lines = ship(monkeypatch, capsys, endpoint, queue_url, event, **env)
        bulk_requests = [request for request in seen if "/_bulk" in request.path]

    [kept] = dead_letters(queue_url)
    assert kept["requestPayload"] == event  # the whole batch, replayable as it came
    assert kept["requestContext"]["condition"] == "Misconfigured"
    assert kept["responsePayload"]["errorType"] == "MisconfiguredError"
    assert FIXES[case] in kept["responsePayload"]["errorMessage"]
    summary, error = lines[0], lines[-1]
    assert summary["pending"] == summary["events_in"] == 7  # nothing indexed, nothing degraded or failed
    assert error["level"] == "error"
    assert FIXES[case] in error["error"]
    assert "dead-letter queue" in error["kept"]
    assert answer == error  # Lambda is answered: no retry of a batch that would be refused again
    assert len(bulk_requests) == 1  # stopped at the first refusal: no retry, no fallback chain


def test_a_batch_that_cannot_be_kept_goes_back_to_lambda_with_the_refusal(aws, osmem_clone, monkeypatch, capsys):
    from logship.ship.sink import MisconfiguredError

    gone = "https://sqs.eu-west-1.amazonaws.com/123456789012/logship-DeadLetterQueue-deleted"
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1", denied_actions=frozenset({"indices:admin/create"})) \
            as cluster, pytest.raises(MisconfiguredError, match="may not create indices") as raised:
        ship(monkeypatch, capsys, cluster.url, gone, encode(load("cwl_python_runtime")))

    assert "NonExistentQueue" in str(raised.value.__cause__)  # Lambda retries, then keeps it with this reason


def test_once_the_permission_is_granted_redrive_ships_the_kept_batch(aws, osmem_clone, monkeypatch, capsys):
    from logship.cluster.client import connect
    from logship.core.config import ShipperConfig
    from logship.ship.shipper import Shipper
    from logship_cli.redrive import redrive

    queue_url = boto3.client("sqs").create_queue(QueueName="logship-DeadLetterQueue")["QueueUrl"]
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1",
                           denied_actions=frozenset({"indices:admin/create"})) as cluster:
        ship(monkeypatch, capsys, cluster.url, queue_url, encode(load("cwl_python_runtime")))
        cluster.denied_actions = frozenset()  # the operator maps the role
        config = ShipperConfig.from_env()
        counts = redrive(boto3.client("sqs"), queue_url, Shipper(config, *connect(config)), seconds_per_batch=30)

        assert counts["replayed"] == 1
        assert len(search_all(OpenSearch(hosts=[cluster.url]))) == 7
    assert dead_letters(queue_url) == []


def test_behind_kinesis_the_refused_records_are_kept_and_the_shard_moves_on(stream, osmem_clone, monkeypatch, capsys):
    from tests.integration.kinesis_mapping import EventSourceMapping

    for name in ("cwl_python_runtime", "cwl_node_runtime"):
        stream.put_payload(name)
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1",
                           denied_actions=frozenset({"indices:admin/create"})) as cluster:
        for key, value in shipper_env(cluster.url, DEAD_LETTER_QUEUE_URL=stream.queue_url).items():
            monkeypatch.setenv(key, value)
        mapping = EventSourceMapping(stream.client, "logship-logs", load_handler("ship_logs").handler,
                                     lambda: LambdaContext())
        mapping.run()

    assert [i.answer for i in mapping.invocations] == [{"batchItemFailures": []}]  # nothing for Kinesis to retry
    kept = [json.loads(m["Body"]) for m in stream.dead_letters()]
    assert [k["requestContext"]["condition"] for k in kept] == ["Misconfigured", "Misconfigured"]
    assert all("may not create indices" in k["responsePayload"]["errorMessage"] for k in kept)
    assert all(k["requestPayload"]["awslogs"]["data"] for k in kept)  # replayable once fixed
    records_line = next(json.loads(line) for line in capsys.readouterr().out.splitlines()
                        if '"ship-logs-records"' in line)
    assert (records_line["kept_misconfigured"], records_line["left_for_retry"], records_line["level"]) == (2, 0, "error")
