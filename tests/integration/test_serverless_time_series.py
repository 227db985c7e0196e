"""OpenSearch Serverless time series collections refuse custom document ids. logship supports them explicitly:
``DocumentIds=false`` sends every ``create`` without ``_id`` (the cluster picks one), at a stated cost: a
retried or replayed batch indexes again what it had already written. With ids on, such a collection stops
the batch at once with the fix, and the installer refuses the deploy when the control plane says the
collection is a time series one. The collection answers are the documented ones, injected on the wire.
"""

from __future__ import annotations

import json

import boto3
import pytest

from logship.cluster.index_template import handle_install_request, serverless_collection_type
from logship.core.config import ShipperConfig
from tests.conftest import search_all
from tests.integration.fault_proxy import FaultProxy
from tests.integration.test_ship_logs import run_shipper
from tests.payloads import load


def test_without_document_ids_every_event_is_indexed_under_an_id_the_cluster_picks(opensearch, osmem_clone,
                                                                                   monkeypatch, capsys):
    payload = load("cwl_node_runtime")
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.refuse_ids = True  # as a time series collection answers an _id
        summary = run_shipper(monkeypatch, capsys, proxy.url, payload, DOCUMENT_IDS="false")

    docs = search_all(opensearch)
    assert summary["indexed"] == len(docs) == 6
    assert {doc["aws"]["cloudwatch"]["event_id"] for doc in docs} == {e["id"] for e in payload["logEvents"]}
    assert not {doc["_id"] for doc in docs} & {e["id"] for e in payload["logEvents"]}


def test_the_cost_without_ids_a_replayed_batch_is_indexed_twice(opensearch, osmem_clone, monkeypatch, capsys):
    payload = load("cwl_python_runtime")
    run_shipper(monkeypatch, capsys, osmem_clone.url, payload, DOCUMENT_IDS="false")
    again = run_shipper(monkeypatch, capsys, osmem_clone.url, payload, DOCUMENT_IDS="false")

    docs = search_all(opensearch)
    assert (again["indexed"], again["duplicates"], len(docs)) == (7, 0, 14)
    # what tells the copies apart: each event's own id, kept in every document
    assert len({doc["aws"]["cloudwatch"]["event_id"] for doc in docs}) == 7


def _collection(kind: str) -> str:
    """A collection in moto's OpenSearch Serverless; returns its id (the endpoint's first label)."""
    aoss = boto3.client("opensearchserverless")
    aoss.create_security_policy(name=f"logs-{kind.lower()}", type="encryption", policy=json.dumps({
        "Rules": [{"ResourceType": "collection", "Resource": [f"collection/logs-{kind.lower()}"]}],
        "AWSOwnedKey": False, "KmsARN": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-12345678"}))
    return aoss.create_collection(name=f"logs-{kind.lower()}", type=kind)["createCollectionDetail"]["id"]


def _env(collection_id: str, **extra: str) -> dict[str, str]:
    return {"OPENSEARCH_ENDPOINT": f"https://{collection_id}.eu-west-1.aoss.amazonaws.com", "OPENSEARCH_AUTH": "sigv4",
            "AWS_REGION": "eu-west-1", **extra}


def test_the_installer_refuses_ids_on_a_time_series_collection_before_writing(aws):
    status, reason, _ = handle_install_request({"RequestType": "Create"}, _env(_collection("TIMESERIES")))

    assert status == "FAILED"
    assert "OpenSearch Serverless time series collection, which refuses document ids" in reason
    assert "Deploy with DocumentIds=false" in reason


@pytest.mark.parametrize("kind", ["SEARCH", "TIMESERIES"])
def test_the_collection_type_comes_from_the_control_plane(kind, aws):
    config = ShipperConfig.from_env(_env(_collection(kind)))
    assert serverless_collection_type(config) == (kind, "")


def test_a_collection_type_that_cannot_be_read_is_said_not_guessed(aws):
    config = ShipperConfig.from_env(_env("0a1b2c3d4e5f6a7b8c9d"))
    assert serverless_collection_type(config) == (None, "collection 0a1b2c3d4e5f6a7b8c9d not found in eu-west-1")
