"""The installer and the shipper against Elasticsearch as it is: its built-in and Fleet's templates, logsdb by
name in 9.x, ILM validated by version, existing indices, automatic index creation turned off. No Elasticsearch
runs here: tests/integration/elastic_stand_in.py answers as Elasticsearch's code and documentation say, each
rule cited in elastic_rules.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

from tests.conftest import LambdaContext, load_handler, shipper_env
from tests.integration.elastic_stand_in import ElasticStandIn
from tests.integration.test_ship_logs import run_shipper
from tests.payloads import load

STREAM = {"INDEX_MODE": "datastream"}


def install(monkeypatch: pytest.MonkeyPatch, endpoint: str, **env: str) -> dict[str, str]:
    """The installer's handler, invoked by hand as after a deploy (any payload installs)."""
    for key, value in shipper_env(endpoint, **env).items():
        monkeypatch.setenv(key, value)
    return load_handler("install_index_template").handler({}, LambdaContext())


def json_line(**record: Any) -> dict[str, Any]:
    """A batch of one JSON log line (the JSON log format fixture's envelope)."""
    import json

    batch = load("cwl_json_format")
    batch["logEvents"] = [{**batch["logEvents"][0], "message": json.dumps(record)}]
    return batch


def read_back(es: ElasticStandIn) -> list[dict[str, Any]]:
    """The documents as a search returns them (synthetic _source where the index makes it)."""
    return [hit["_source"] for hit in OpenSearch(hosts=[es.url]).search(index="logs-*,cwl-*")["hits"]["hits"]]


def test_fleets_templates_never_tie_with_logships(monkeypatch):
    # Fleet's AWS integration installs logs-aws.lambda_logs-* at priority 200 (Kibana's EPM template.ts)
    stream = {**STREAM, "DATA_STREAM_DATASET": "aws.lambda_logs"}
    with ElasticStandIn("8.15.0", fleet_templates=True) as es:
        client = OpenSearch(hosts=[es.url])
        with pytest.raises(RequestError) as tie:  # what logship's priority 200 met before
            client.indices.put_index_template(name="old", body={"index_patterns": ["logs-aws.lambda_logs-default"],
                                                                "priority": 200, "data_stream": {}})
        result = install(monkeypatch, es.url, **stream)

    assert "that have the same priority [200], multiple index templates may not match" in str(tie.value.info)
    assert result["status"] == "SUCCESS", result["reason"]
    assert es.templates["logship-logs-aws.lambda_logs-default"]["priority"] == 501


@pytest.mark.parametrize(("mode", "license_", "json_read_back"), [
    ("standard", "enterprise", {"tags": ["b", "a", "a"], "count": 2}),  # exactly as sent
    ("logsdb", "enterprise", {"count": "2", "tags": ["a", "b"]}),  # synthetic: strings, sorted, deduplicated
    ("logsdb", "basic", {"tags": ["b", "a", "a"], "count": 2}),  # no Enterprise license: stored _source
])
def test_elasticsearch_9_streams_take_the_stacks_index_mode_and_read_back_as_it_says(mode, license_, json_read_back,
                                                                                     monkeypatch, capsys):
    with ElasticStandIn("9.1.0", license=license_) as es:
        installed = install(monkeypatch, es.url, ELASTICSEARCH_INDEX_MODE=mode, **STREAM)
        summary = run_shipper(monkeypatch, capsys, es.url, json_line(level="INFO", message="order", tags=["b", "a", "a"],
                                                                     count=2), **STREAM)
        [backing] = es.data_streams["logs-aws.lambda-default"]
        [document] = read_back(es)

    assert installed["status"] == "SUCCESS", installed["reason"]
    assert f"index.mode {mode}" in installed["reason"]
    assert summary["indexed"] == 1
    assert es.indices[backing]["settings"]["index.mode"] == mode  # never logsdb by the stream's name alone
    assert document["json"] == {"level": "INFO", "message": "order", **json_read_back}
    assert document["message"] == "order"
    assert document["event"]["original"].startswith('{"level": "INFO"')  # the line as it came, in every mode


def test_without_the_setting_elasticsearch_9_would_make_the_stream_logsdb(monkeypatch, capsys):
    """Why the template sets index.mode: a logs-*-* data stream whose template leaves it unset becomes logsdb
    (LogsdbIndexModeSettingsProvider)."""
    with ElasticStandIn("9.1.0") as es:
        client = OpenSearch(hosts=[es.url])
        client.indices.put_index_template(name="bare", body={"index_patterns": ["logs-bare-default"],
                                                             "priority": 501, "data_stream": {}})
        client.bulk(body=[{"create": {"_index": "logs-bare-default"}}, {"@timestamp": "2025-11-22T10:00:00Z"}])
        [backing] = es.data_streams["logs-bare-default"]

    assert es.indices[backing]["settings"]["index.mode"] == "logsdb"


def test_existing_indices_get_the_ilm_policy_and_follow_a_new_retention(monkeypatch, capsys):
    with ElasticStandIn("8.15.0") as es:
        client = OpenSearch(hosts=[es.url])
        for index in ("cwl-2025.11.20", "cwl-failed-2025.11.20", "cwl-2025.11.21", "cwl-prod-2025.11.21"):
            client.bulk(body=[{"create": {"_index": index}}, {"@timestamp": "2025-11-20T10:00:00Z"}])
        client.transport.perform_request("PUT", "/_ilm/policy/keep-forever", body={
            "policy": {"phases": {"hot": {"actions": {}}}}})
        client.indices.put_settings(index="cwl-2025.11.21", body={"index.lifecycle.name": "keep-forever"})

        first = install(monkeypatch, es.url, INDEX_RETENTION_DAYS="30")
        explained = client.transport.perform_request("GET", "/cwl-*/_ilm/explain")["indices"]
        again = install(monkeypatch, es.url, INDEX_RETENTION_DAYS="7")
        policy = client.transport.perform_request("GET", "/_ilm/policy/logship-cwl")["logship-cwl"]

    assert first["status"] == "SUCCESS", first["reason"]
    assert {index: state.get("policy") for index, state in explained.items()} == {
        "cwl-2025.11.20": "logship-cwl", "cwl-failed-2025.11.20": "logship-cwl", "cwl-2025.11.21": "keep-forever",
        "cwl-prod-2025.11.21": None}  # another stack's index is not this stack's
    assert "ILM policy logship-cwl attached to 2 indices that existed before it" in first["reason"]
    assert "cwl-2025.11.21 (keep-forever)" in first["reason"]
    # ILM reads the policy again at each phase: a new retention needs no call per index
    assert policy["policy"]["phases"]["delete"]["min_age"] == "7d"
    assert "attached" not in again["reason"]


@pytest.mark.parametrize(("version", "size_key"), [("7.10.2", "max_size"), ("7.17.24", "max_primary_shard_size"),
                                                   ("8.15.0", "max_primary_shard_size"),
                                                   ("9.1.0", "max_primary_shard_size")])
def test_the_ilm_policy_is_one_each_version_accepts(version, size_key, monkeypatch):
    with ElasticStandIn(version) as es:
        result = install(monkeypatch, es.url, **STREAM)

    assert result["status"] == "SUCCESS", result["reason"]
    rollover = es.policies["logship-logs-aws.lambda-default"]["policy"]["phases"]["hot"]["actions"]["rollover"]
    assert set(rollover) == {"max_age", size_key}


def test_elasticsearch_7_10_refuses_the_newer_rollover_condition():
    """Why the policy follows the version: max_primary_shard_size came in 7.13 (RolloverAction)."""
    with ElasticStandIn("7.10.2") as es, pytest.raises(RequestError) as refused:
        OpenSearch(hosts=[es.url]).transport.perform_request("PUT", "/_ilm/policy/p", body={"policy": {"phases": {
            "hot": {"actions": {"rollover": {"max_primary_shard_size": "50gb"}}}}}})

    assert "max_primary_shard_size" in str(refused.value.info)


def test_an_oss_build_takes_json_stored_not_searchable_and_says_there_is_no_lifecycle(monkeypatch):
    """Elasticsearch OSS 7.10 (and Amazon's Elasticsearch 7.10 domains) have no flattened and no ILM."""
    with ElasticStandIn("7.10.2", oss=True) as es:
        result = install(monkeypatch, es.url)

    assert result["status"] == "SUCCESS", result["reason"]
    assert "cluster: Elasticsearch 7.10.2 (OSS build)" in result["reason"]
    assert es.templates["logship-cwl"]["template"]["mappings"]["properties"]["json"] == {"type": "object",
                                                                                         "enabled": False}
    assert "retention: this cluster has no lifecycle API (ISM: 400: no handler found for uri " \
           "[/_opendistro/_ism/policies/logship-cwl] and method [GET])" in result["reason"]


def test_with_automatic_index_creation_off_the_template_still_creates_its_indices(monkeypatch, capsys):
    """action.auto_create_index false: the template's allow_auto_create (7.11+) lets logship's indices be made,
    as Elasticsearch's own logs template does (AutoCreateIndex)."""
    with ElasticStandIn("8.15.0", auto_create_index=False) as es:
        install(monkeypatch, es.url)
        summary = run_shipper(monkeypatch, capsys, es.url, load("cwl_python_runtime"))

    assert summary["indexed"] == 7
    assert es.templates["logship-cwl"]["allow_auto_create"] is True


@pytest.mark.parametrize("mode", ["standard", "logsdb"])
def test_either_mode_a_line_of_thousands_of_keys_spends_no_field_budget(mode, monkeypatch, capsys):
    """correlation and json are flattened in either mode, so a line adds no field to the mapping however many
    keys it has, and the 2,000-field limit (standard: a refusal; logsdb: ignore_dynamic_beyond_limit) is never
    reached. The stand-in does not count fields: what is checked is the mapping each mode's backing index gets,
    and that every line of 1,900 keys is indexed whole."""
    from tests.integration.test_field_budget import flood_then_fresh_keys

    with ElasticStandIn("9.1.0") as es:
        install(monkeypatch, es.url, ELASTICSEARCH_INDEX_MODE=mode, **STREAM)
        summary = run_shipper(monkeypatch, capsys, es.url, flood_then_fresh_keys(), **STREAM)
        [backing] = es.data_streams["logs-aws.lambda-default"]
        properties = es.indices[backing]["mappings"]["properties"]

    assert (summary["indexed"], summary["degraded"], summary["failed"]) == (101, 0, 0)
    assert properties["correlation"] == properties["json"] == {"type": "flattened"}


def test_a_year_of_existing_daily_indices_gets_the_policy_in_requests_of_a_size_the_cluster_takes(monkeypatch):
    import datetime

    days = [datetime.date(2025, 1, 1) + datetime.timedelta(days=n) for n in range(365)]
    with ElasticStandIn("8.15.0") as es:
        body: list[dict[str, Any]] = []
        for day in days:
            body += [{"create": {"_index": f"cwl-{day:%Y.%m.%d}"}}, {"@timestamp": f"{day}T10:00:00Z"}]
        OpenSearch(hosts=[es.url]).bulk(body=body)
        result = install(monkeypatch, es.url)
        attached = [seen for seen in es.seen if seen.method == "PUT" and seen.path.split("?")[0].endswith("/_settings")]

    assert result["status"] == "SUCCESS", result["reason"]
    assert "ILM policy logship-cwl attached to 365 indices that existed before it" in result["reason"]
    assert all(es.indices[f"cwl-{day:%Y.%m.%d}"]["settings"]["index.lifecycle.name"] == "logship-cwl" for day in days)
    assert len(attached) > 1  # several requests: one path of 365 names would pass HTTP's 4 KB initial line
    assert max(len(seen.path) for seen in attached) < 4096
