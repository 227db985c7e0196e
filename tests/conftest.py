"""Shared fixtures: a real OpenSearch-compatible server (osmem-server clones) and the shipper's config."""

from __future__ import annotations

import time
from typing import Any

import pytest
from opensearchpy import OpenSearch

from logship.cluster.index_template import install


class LambdaContext:
    """Stand-in for the context object Lambda passes (not our code): a budget that runs down in real time."""

    def __init__(self, remaining_ms: int = 60_000, function_name: str = "logship-ship-logs") -> None:
        self.function_name = function_name
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@pytest.fixture
def bare_opensearch(osmem_clone: Any) -> OpenSearch:
    """A client on a fresh, empty osmem-server clone: no index template, as before logship's installer ran."""
    return OpenSearch(hosts=[osmem_clone.url])


@pytest.fixture
def opensearch(bare_opensearch: OpenSearch) -> OpenSearch:
    """A fresh cluster with logship's index template installed, as a deployed stack has it."""
    install(bare_opensearch, index_prefix="cwl")
    return bare_opensearch


def shipper_env(endpoint: str, **overrides: str) -> dict[str, str]:
    env = {"OPENSEARCH_ENDPOINT": endpoint, "OPENSEARCH_AUTH": "none", "INDEX_PREFIX": "cwl",
           "AWS_REGION": "eu-west-1", "AWS_LAMBDA_FUNCTION_NAME": "logship-ship-logs"}
    env.update(overrides)
    return env


def search_all(client: OpenSearch, index: str = "cwl-*", **query: Any) -> list[dict[str, Any]]:
    """Every document a user would find in ``index`` (after a refresh), sorted by time."""
    client.indices.refresh(index=index)
    body = {"query": query or {"match_all": {}}, "size": 1000, "sort": [{"@timestamp": "asc"}]}
    return [hit["_source"] | {"_index": hit["_index"], "_id": hit["_id"]}
            for hit in client.search(index=index, body=body)["hits"]["hits"]]


def load_handler(function: str) -> Any:
    """Import ``functions/<function>/app.py`` by path, fresh each time, as Lambda would on a cold start.

    With a moto account up, the handler runs under exactly its role's policies (tests/integration/own_policies.py).
    """
    import importlib.util
    from pathlib import Path

    from tests.integration.own_policies import as_its_role

    path = Path(__file__).parent.parent / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"{function}_app", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.handler = as_its_role(function, module.handler)
    return module


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--deployed-stack NAME``: run tests/integration/test_end_to_end.py against that stack in a real account."""
    parser.addoption("--deployed-stack", default="", help="a deployed logship stack to run the end-to-end test "
                     "against, with your AWS credentials (make test-deployed STACK=name)")
    parser.addoption("--deployed-region", default="", help="its region (default: your AWS configuration's)")
