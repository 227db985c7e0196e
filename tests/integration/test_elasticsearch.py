"""Elasticsearch itself, on the wire: the real handlers against a recording server that answers like
Elasticsearch 8, 9 or 7 (tests/integration/elastic_stand_in.py), since no Elasticsearch can run here.

What Elasticsearch's documentation asks of these requests: a supported Content-Type (JSON; NDJSON or JSON for
``_bulk``), and, for REST API compatibility, ``compatible-with`` on both Accept and Content-Type, the same
version, the current major or the one before. With ``CLUSTER_FLAVOR=elasticsearch`` logship sends
``compatible-with=8`` (what Elastic's own clients send), which Elasticsearch 8 and 9 take.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from tests.conftest import LambdaContext, load_handler, shipper_env
from tests.integration.elastic_stand_in import ElasticStandIn
from tests.integration.test_ship_logs import run_shipper
from tests.payloads import encode, load

COMPATIBLE_JSON = "application/vnd.elasticsearch+json; compatible-with=8"
COMPATIBLE_NDJSON = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"
ES = {"CLUSTER_FLAVOR": "elasticsearch"}


def install(monkeypatch: pytest.MonkeyPatch, endpoint: str, **env: str) -> dict[str, str]:
    """The installer's handler, invoked by hand as after a deploy (any payload installs)."""
    for key, value in shipper_env(endpoint, **env).items():
        monkeypatch.setenv(key, value)
    return load_handler("install_index_template").handler({}, LambdaContext())


def _documents(es: ElasticStandIn, target: str) -> dict[str, dict[str, Any]]:
    return {doc_id: source for (index, doc_id), source in es.documents.items() if index == target}


@pytest.mark.parametrize("version", ["8.15.0", "9.1.0"])
def test_bulk_requests_carry_the_compatibility_headers_elasticsearch_8_and_9_take(version, monkeypatch, capsys):
    payload = load("cwl_node_runtime")
    with ElasticStandIn(version) as es:
        summary = run_shipper(monkeypatch, capsys, es.url, payload, **ES)

    assert summary["indexed"] == len(payload["logEvents"]) == len(_documents(es, "cwl-2025.11.22")) + len(
        _documents(es, "cwl-2025.11.23"))
    [bulk] = es.bulk_requests()
    assert bulk.header("content-type") == COMPATIBLE_NDJSON
    assert bulk.header("accept") == COMPATIBLE_JSON  # and the answer came back as ...+json;compatible-with=8
    assert bulk.header("content-encoding") == "gzip"


def test_with_the_opensearch_flavor_requests_are_plain_json_which_elasticsearch_also_takes(monkeypatch, capsys):
    with ElasticStandIn("8.15.0") as es:
        summary = run_shipper(monkeypatch, capsys, es.url, load("cwl_python_runtime"))

    assert summary["indexed"] == 7
    [bulk] = es.bulk_requests()
    assert bulk.header("content-type") == "application/json"
    assert "compatible-with" not in bulk.header("accept")


def test_the_installer_asks_what_the_cluster_is_in_plain_json_then_installs_with_the_headers(monkeypatch):
    with ElasticStandIn("8.15.0") as es:
        result = install(monkeypatch, es.url, INDEX_RETENTION_DAYS="7", **ES)

    assert result["status"] == "SUCCESS", result["reason"]
    first, *then = es.seen
    assert (first.method, first.path, first.header("accept")) == ("GET", "/", "application/json")
    assert [(seen.method, seen.path.split("?")[0]) for seen in then] == [
        ("PUT", "/_ilm/policy/logship-cwl"),
        ("GET", "/cwl-2*,cwl-failed-*/_ilm/explain"),  # existing indices get the policy too (none here)
        ("PUT", "/_index_template/logship-cwl")]
    writes = [seen for seen in then if seen.method == "PUT"]
    assert {(seen.header("accept"), seen.header("content-type")) for seen in writes} == {
        (COMPATIBLE_JSON, COMPATIBLE_JSON)}
    settings = es.templates["logship-cwl"]["template"]["settings"]
    assert settings["index.lifecycle.name"] == "logship-cwl"
    assert es.templates["logship-cwl"]["template"]["mappings"]["properties"]["json"] == {"type": "flattened"}
    assert es.policies["logship-cwl"]["policy"]["phases"]["delete"]["min_age"] == "7d"


def test_elasticsearch_7_with_the_elasticsearch_flavor_fails_the_deploy_saying_what_to_change(monkeypatch):
    with ElasticStandIn("7.17.24") as es:
        result = install(monkeypatch, es.url, **ES)

    assert result["status"] == "FAILED"
    assert "the cluster is Elasticsearch 7.17.24, but ClusterFlavor=elasticsearch" in result["reason"]
    assert "Deploy with ClusterFlavor=opensearch" in result["reason"]
    assert [seen.path for seen in es.seen] == ["/"]  # nothing written


def test_elasticsearch_7_takes_plain_json_from_the_installer_and_the_shipper(monkeypatch, capsys):
    with ElasticStandIn("7.17.24") as es:
        result = install(monkeypatch, es.url)
        summary = run_shipper(monkeypatch, capsys, es.url, load("cwl_python_runtime"))

    assert result["status"] == "SUCCESS", result["reason"]
    assert summary["indexed"] == 7
    assert not [seen for seen in es.seen if "vnd.elasticsearch" in seen.header("content-type") + seen.header("accept")]


def test_an_elasticsearch_8_deployed_as_opensearch_is_told_about_the_headers_and_still_works(monkeypatch):
    with ElasticStandIn("8.15.0") as es:
        result = install(monkeypatch, es.url)

    assert result["status"] == "SUCCESS"
    assert "ClusterFlavor=elasticsearch would send its REST compatibility headers" in result["reason"]


# ----------------------------------------------------------------------------------- data streams

STREAM, FAILED_STREAM = "logs-aws.lambda-default", "logs-aws.lambda.failed-default"
DATASTREAM = {"INDEX_MODE": "datastream", **ES}


def test_the_installer_declares_the_data_streams_and_rolls_them_over_daily_under_ilm(monkeypatch):
    with ElasticStandIn("9.1.0") as es:
        result = install(monkeypatch, es.url, INDEX_RETENTION_DAYS="30", **DATASTREAM)

    assert result["status"] == "SUCCESS", result["reason"]
    template = es.templates[f"logship-{STREAM}"]
    assert (template["index_patterns"], template["data_stream"]) == ([STREAM, FAILED_STREAM], {})
    assert template["priority"] > 100  # above Elasticsearch's own logs-*-* template
    assert template["template"]["settings"]["index.lifecycle.name"] == f"logship-{STREAM}"
    phases = es.policies[f"logship-{STREAM}"]["policy"]["phases"]
    assert phases["hot"]["actions"]["rollover"] == {"max_age": "1d", "max_primary_shard_size": "50gb"}
    assert phases["delete"] == {"min_age": "30d", "actions": {"delete": {}}}


def test_documents_go_to_the_data_stream_by_create_and_a_replay_is_a_duplicate(monkeypatch, capsys):
    payload = load("cwl_node_runtime")  # two UTC days: one data stream all the same
    with ElasticStandIn("8.15.0") as es:
        install(monkeypatch, es.url, **DATASTREAM)
        first = run_shipper(monkeypatch, capsys, es.url, payload, **DATASTREAM)
        again = run_shipper(monkeypatch, capsys, es.url, payload, **DATASTREAM)

    assert (first["indexed"], again["indexed"], again["duplicates"]) == (6, 0, 6)
    assert set(_documents(es, STREAM)) == {event["id"] for event in payload["logEvents"]}
    actions = [json.loads(line) for seen in es.bulk_requests() for line in seen.plain.decode().splitlines()[::2]]
    assert {next(iter(action)) for action in actions} == {"create"}  # the only op a data stream takes
    assert all(source["@timestamp"] for source in _documents(es, STREAM).values())


def test_a_document_the_stream_refuses_is_kept_in_the_failed_stream_with_the_reason(monkeypatch, capsys):
    payload = load("cwl_python_runtime")
    with ElasticStandIn("8.15.0") as es:
        install(monkeypatch, es.url, **DATASTREAM)
        del es.templates[f"logship-{STREAM}"]["template"]  # keep the data_stream declaration only
        bad = payload["logEvents"][2]["id"]
        original = es.item

        def refuse_one(action: dict[str, Any], source: dict[str, Any], pipeline: str) -> dict[str, Any]:
            meta = next(iter(action.values()))
            if meta.get("_id") == bad and meta["_index"] == STREAM:
                return {"create": {"_index": STREAM, "_id": bad, "status": 400, "error": {
                    "type": "document_parsing_exception", "reason": "[1:42] failed to parse field [log.level]"}}}
            return original(action, source, pipeline)

        es.item = refuse_one  # type: ignore[method-assign]
        summary = run_shipper(monkeypatch, capsys, es.url, payload, **DATASTREAM)

    assert (summary["indexed"], summary["failed"]) == (6, 1)
    [kept] = _documents(es, FAILED_STREAM).values()
    assert kept["error"]["type"] == "document_parsing_exception"
    assert kept["logship"]["failed_index"] == STREAM
    assert kept["@timestamp"]  # the failed stream is a data stream too


# ------------------------------------------------------------------------------- ingest pipelines

def test_an_ingest_pipeline_is_checked_at_install_and_named_on_every_bulk_request(monkeypatch, capsys):
    with ElasticStandIn("8.15.0", pipelines=("logs@custom",)) as es:
        result = install(monkeypatch, es.url, INGEST_PIPELINE="logs@custom", **ES)
        summary = run_shipper(monkeypatch, capsys, es.url, load("cwl_python_runtime"), INGEST_PIPELINE="logs@custom",
                              BULK_MAX_DOCS="3", **ES)

    assert result["status"] == "SUCCESS"
    assert "ingest pipeline logs@custom exists" in result["reason"]
    assert summary["indexed"] == 7
    assert len(es.bulk_requests()) == 3
    assert {seen.path for seen in es.bulk_requests()} == {"/_bulk?pipeline=logs%40custom"}


def test_a_missing_pipeline_fails_the_deploy_before_anything_is_written(monkeypatch):
    with ElasticStandIn("8.15.0") as es:
        result = install(monkeypatch, es.url, INGEST_PIPELINE="logs@custom", **ES)

    assert result["status"] == "FAILED"
    assert "the ingest pipeline 'logs@custom' does not exist on the cluster: create it first" in result["reason"]
    assert not es.templates
    assert not es.policies


# ------------------------------------------------------------------------------------------ API keys

def _api_key_secret(**value: str) -> str:
    return boto3.client("secretsmanager").create_secret(Name="logship/es", SecretString=json.dumps(value))["ARN"]


@pytest.mark.parametrize("form", ["id and api_key", "encoded"])
def test_an_api_key_from_the_secret_reaches_elasticsearch_from_the_installer_and_the_shipper(form, aws, monkeypatch,
                                                                                             capsys):
    token = base64.b64encode(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode()
    arn = (_api_key_secret(id="VuaCfGcBCdbkQm-e5aOx", api_key="ui2lp2axTNmsyakw9tvNnw") if form == "id and api_key"
           else _api_key_secret(encoded=token))
    auth = {"OPENSEARCH_AUTH": "apikey", "OPENSEARCH_SECRET_ARN": arn, **ES}
    with ElasticStandIn("8.15.0", authorization=f"ApiKey {token}") as es:
        result = install(monkeypatch, es.url, **auth)
        summary = run_shipper(monkeypatch, capsys, es.url, load("cwl_python_runtime"), **auth)

    assert result["status"] == "SUCCESS", result["reason"]
    assert summary["indexed"] == 7
    assert {seen.header("authorization") for seen in es.seen} == {f"ApiKey {token}"}


def test_a_rotated_api_key_is_read_again_on_the_first_401(aws, monkeypatch, capsys):
    secrets = boto3.client("secretsmanager")
    arn = _api_key_secret(id="old-id", api_key="old-key")
    new = base64.b64encode(b"new-id:new-key").decode()
    with ElasticStandIn("8.15.0", authorization=f"ApiKey {base64.b64encode(b'old-id:old-key').decode()}") as es:
        for key, value in shipper_env(es.url, OPENSEARCH_AUTH="apikey", OPENSEARCH_SECRET_ARN=arn, **ES).items():
            monkeypatch.setenv(key, value)
        app = load_handler("ship_logs")  # one warm container: the old key is cached
        app.handler(encode(load("cwl_python_runtime")), LambdaContext())

        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"id": "new-id", "api_key": "new-key"}))
        es.authorization = f"ApiKey {new}"  # the old key was invalidated in Elasticsearch
        summary = app.handler(encode(load("cwl_node_runtime")), LambdaContext())

    assert summary["indexed"] == 6
    assert summary["reasons"] == ["401: credentials read again (rotated?)"]
    assert es.bulk_requests()[-1].header("authorization") == f"ApiKey {new}"


def test_redrive_replays_with_the_deployed_shippers_api_key_data_stream_and_pipeline(aws, monkeypatch, capsys):
    """Every tool that talks to the cluster builds its client one way: redrive reads the deployed shipper's
    settings (lambda:GetFunctionConfiguration) and replays with its auth, stream, pipeline and headers."""
    from click.testing import CliRunner

    from logship_cli.app import main
    from tests.integration.conftest import function_zip
    from tests.integration.test_redrive import on_failure_record

    token = base64.b64encode(b"key-id:key-secret").decode()
    arn = _api_key_secret(id="key-id", api_key="key-secret")
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="logship-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=on_failure_record(load("cwl_python_runtime")))
    with ElasticStandIn("8.15.0", authorization=f"ApiKey {token}", pipelines=("logs@custom",)) as es:
        settings = {"OPENSEARCH_ENDPOINT": es.url, "OPENSEARCH_AUTH": "apikey", "OPENSEARCH_SECRET_ARN": arn,
                    "INGEST_PIPELINE": "logs@custom", **DATASTREAM}
        aws.lambda_.create_function(FunctionName="logship-ship-logs-es", Runtime="python3.13", Role=aws.role,
                                    Handler="app.handler", Code={"ZipFile": function_zip()},
                                    Environment={"Variables": settings})
        assert install(monkeypatch, es.url, **settings)["status"] == "SUCCESS"

        result = CliRunner().invoke(main, ["redrive", "--queue-url", url, "--function", "logship-ship-logs-es",
                                           "--region", "eu-west-1"])

    assert result.exit_code == 0, result.output
    assert "done: 1 replayed, 0 kept in the queue" in result.output
    assert len(_documents(es, STREAM)) == 7
    [bulk] = es.bulk_requests()
    assert (bulk.path, bulk.header("authorization"), bulk.header("content-type")) == (
        "/_bulk?pipeline=logs%40custom", f"ApiKey {token}", COMPATIBLE_NDJSON)
