"""Lines the real engines would refuse: a JSON leaf longer than Lucene's term limit, JSON nested deeper than
Elasticsearch's flattened depth_limit. Shipped through the real handler to OpenSearch (osmem-server behind
opensearch_stand_in.py) and Elasticsearch (elastic_stand_in.py), which refuse them as the engines do
(tests/integration/term_limits.py): the shipper sends them in the form the cluster takes, the first time.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from opensearchpy import OpenSearch

from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.integration.elastic_stand_in import ElasticStandIn
from tests.integration.opensearch_stand_in import OpenSearchStandIn
from tests.integration.test_ship_logs import run_shipper
from tests.payloads import load


def nested(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for level in range(levels):
        node[f"l{level}"] = {}
        node = node[f"l{level}"]
    node["bottom"] = "found"
    return root


LONG = "é" * 20_000  # 40,000 bytes of UTF-8
LINES = {
    "long leaf": {"level": "ERROR", "message": "upload failed", "requestId": "6f1c", "body": LONG},
    "deep": {"level": "INFO", "message": "tree", "tree": nested(25)},
}


def payload() -> dict[str, Any]:
    """A CloudWatch Logs batch (the JSON log format fixture's envelope) carrying the lines above."""
    batch = load("cwl_json_format")
    first = batch["logEvents"][0]
    batch["logEvents"] = [{"id": f"{first['id'][:-2]}{i:02d}", "timestamp": first["timestamp"] + i,
                           "message": json.dumps(line, ensure_ascii=False)}
                          for i, line in enumerate(LINES.values())]
    return batch


def install(monkeypatch: pytest.MonkeyPatch, endpoint: str, **env: str) -> None:
    for key, value in shipper_env(endpoint, **env).items():
        monkeypatch.setenv(key, value)
    assert load_handler("install_index_template").handler({}, LambdaContext())["status"] == "SUCCESS"


def check_documents(documents: list[dict[str, Any]]) -> None:
    by_message = {doc["message"]: doc for doc in documents}
    long_leaf, deep = by_message["upload failed"], by_message["tree"]
    assert long_leaf["log"]["level"] == "ERROR"  # every field of the line kept, not a degraded copy
    assert long_leaf["faas"]["execution"] == "6f1c"
    assert len(long_leaf["json"]["body"].encode()) < 32_766 < len(LONG.encode())
    assert LONG in long_leaf["event"]["original"]  # the whole line is still there
    assert "json cut to what the cluster indexes" in long_leaf["logship"]["reason"]
    assert "body (40,000 bytes) cut to" in long_leaf["logship"]["reason"]
    kept, sent = deep["json"]["tree"], LINES["deep"]["tree"]
    for level in range(17):  # json, tree and 17 levels below: 19 objects deep, within every engine's limit
        kept, sent = kept[f"l{level}"], sent[f"l{level}"]
    assert json.loads(kept["l17"]) == sent["l17"]  # the rest as its JSON text


def test_opensearch_takes_long_and_deep_lines_the_first_time(osmem_clone, monkeypatch, capsys):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        install(monkeypatch, cluster.url)
        client = OpenSearch(hosts=[cluster.url])
        # As it was sent before: the engine refuses the long leaf (Lucene's immense term)
        refused = client.bulk(body=[{"create": {"_index": "cwl-2025.11.22", "_id": "raw"}},
                                    {"@timestamp": "2025-11-22T10:00:00Z", "json": LINES["long leaf"]}])
        assert refused["items"][0]["create"]["error"]["caused_by"]["type"] == "max_bytes_length_exceeded_exception"

        summary = run_shipper(monkeypatch, capsys, cluster.url, payload())

        assert (summary["indexed"], summary["degraded"], summary["failed"], summary["retried"]) == (2, 0, 0, 0)
        check_documents(search_all(client))


@pytest.mark.parametrize("version", ["8.15.0", "9.1.0"])
def test_elasticsearch_takes_long_and_deep_lines_the_first_time(version, monkeypatch, capsys):
    with ElasticStandIn(version) as es:
        install(monkeypatch, es.url)
        summary = run_shipper(monkeypatch, capsys, es.url, payload())
        documents = [es.shown_source(es.placed[key], source) for key, source in es.documents.items()]

    assert (summary["indexed"], summary["degraded"], summary["failed"], summary["retried"]) == (2, 0, 0, 0)
    check_documents(documents)


def test_elasticsearch_refuses_what_was_sent_before(monkeypatch, capsys):
    """Without the cut, flattened's depth_limit refuses the deep line (FlattenedFieldParser)."""
    with ElasticStandIn("8.15.0") as es:
        install(monkeypatch, es.url)
        client = OpenSearch(hosts=[es.url])
        answer = client.bulk(body=[{"create": {"_index": "cwl-2025.11.22", "_id": "raw"}},
                                   {"@timestamp": "2025-11-22T10:00:00Z", "json": LINES["deep"]}])

    error = answer["items"][0]["create"]["error"]
    assert error["caused_by"]["reason"] == "The provided [flattened] field [json] exceeds the maximum depth limit of [20]."
