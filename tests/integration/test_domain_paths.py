"""Every request the installer and the shipper make to a domain is one their roles may make: each (method, path), as it went over the
wire to the stand-ins, against the template's es:ESHttp* grants for the same settings, matched as IAM matches a
resource (``*`` and ``?`` wildcards; the domain's ARN, then the path). On Amazon OpenSearch Service IAM authorizes
each HTTP request by these actions and the request's path; no AWS service checks them here."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from opensearchpy import OpenSearch

from tests.conftest import LambdaContext, load_handler, shipper_env
from tests.integration.elastic_stand_in import ElasticStandIn
from tests.integration.opensearch_stand_in import OpenSearchStandIn
from tests.template_stack import RESOURCES, Stack

DOMAIN = "arn:aws:es:eu-west-1:123456789012:domain/logs"
ACTIONS = {"GET": "es:ESHttpGet", "PUT": "es:ESHttpPut", "POST": "es:ESHttpPost", "HEAD": "es:ESHttpHead",
           "DELETE": "es:ESHttpDelete"}
# settings of the stack -> the installer's environment for them
STACK = {"daily": {"IndexPrefix": "cwl"},
         "data streams": {"IndexMode": "datastream", "DataStreamDataset": "checkout", "DataStreamNamespace": "prod"},
         # osmem-server has no ingest API: the install stops at the pipeline's check, whose request is what counts
         "a pipeline": {"IndexPrefix": "cwl", "IngestPipeline": "logs@custom"}}


def grants(parameters: dict[str, str], function: str = "InstallIndexTemplateFunction") -> list[tuple[str, str]]:
    """(action, resource pattern) the template gives the function with SigV4 on the domain."""
    stack = Stack(**({"OpenSearchAuth": "sigv4", "OpenSearchDomainArn": DOMAIN,
                      "OpenSearchEndpoint": "https://search-logs-abc.eu-west-1.es.amazonaws.com"} | parameters))
    found = []
    for policy in stack.value(RESOURCES[function]["Properties"]["Policies"]):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            found += [(action, resource) for action in actions for resource in resources]
    return found


def iam_matches(pattern: str, resource: str) -> bool:
    return re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                        resource) is not None


def refused(seen: list[Any], granted: list[tuple[str, str]]) -> list[str]:
    """The requests no grant covers, as ``GET /path``."""
    out = []
    for request in seen:
        action = ACTIONS[request.method]
        path = unquote(urlsplit(request.path).path)
        resource = DOMAIN + ("/" if path == "/" else path)
        if not any(a == action and iam_matches(pattern, resource) for a, pattern in granted):
            out.append(f"{request.method} {path}")
    return out


def install(monkeypatch: pytest.MonkeyPatch, endpoint: str, parameters: dict[str, str], **env: str) -> str:
    stack = Stack(**({"OpenSearchEndpoint": endpoint, "OpenSearchAuth": "none"} | parameters))
    for key, value in (stack.environment("InstallIndexTemplateFunction") | shipper_env(endpoint) | env).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("INDEX_PREFIX", parameters.get("IndexPrefix", "cwl"))
    return load_handler("install_index_template").handler({}, LambdaContext())["reason"]


@pytest.mark.parametrize("settings", STACK)
def test_every_request_to_an_opensearch_domain_is_granted(settings, osmem_clone, monkeypatch):
    parameters = STACK[settings]
    with OpenSearchStandIn(osmem_clone.url, version="2.11.0", compatibility_mode=True) as cluster:
        client = OpenSearch(hosts=[cluster.url])
        for index in ("cwl-2025.11.20", "cwl-failed-2025.11.20"):
            client.indices.create(index=index)
        install(monkeypatch, cluster.url, parameters)
        install(monkeypatch, cluster.url, parameters, INDEX_RETENTION_DAYS="7")  # a new retention: change_policy
        install(monkeypatch, cluster.url, parameters, INDEX_RETENTION_DAYS="0")  # none: a leftover policy looked up
        seen = [s for s in cluster.seen if not s.path.startswith(("/cwl-2025", "/cwl-failed-2025"))]

    paths = {unquote(urlsplit(s.path).path) for s in seen}
    assert "/_nodes/_local" in paths  # compatibility mode: the node's own version asked
    assert any(p.startswith(("/_plugins/_ism/add/", "/_ingest/pipeline/")) for p in paths)
    if settings == "daily":  # two existing indices moved to the new retention's version of the policy
        assert "/_plugins/_ism/change_policy/cwl-2025.11.20,cwl-failed-2025.11.20" in paths
    assert refused(seen, grants(parameters)) == []


def test_every_request_to_an_amazon_elasticsearch_domain_is_granted(monkeypatch):
    """Amazon's Elasticsearch 7 domains (the OSS build): Open Distro's ISM paths, not OpenSearch's."""
    with ElasticStandIn("7.10.2", oss=True) as es:
        install(monkeypatch, es.url, STACK["daily"])
        seen = list(es.seen)

    assert any(unquote(urlsplit(s.path).path).startswith("/_opendistro/_ism/") for s in seen)
    assert refused(seen, grants(STACK["daily"])) == []


def test_a_path_the_role_lacks_is_found():
    from tests.integration.fault_proxy import Seen

    assert refused([Seen("DELETE", "/cwl-2025.11.20", {}, b""), Seen("GET", "/_cat/indices", {}, b"")],
                   grants(STACK["daily"])) == ["DELETE /cwl-2025.11.20", "GET /_cat/indices"]


@pytest.mark.parametrize("settings", ["daily", "a pipeline"])
def test_every_request_the_shipper_makes_is_granted(settings, osmem_clone, monkeypatch, capsys):
    from tests.integration.test_ship_logs import run_shipper
    from tests.payloads import load

    parameters = STACK[settings]
    from logship.ship.sink import MisconfiguredError

    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        try:  # no dead-letter queue here: the refused batch goes back to Lambda; the request is what counts
            run_shipper(monkeypatch, capsys, cluster.url, load("cwl_python_runtime"),
                        INGEST_PIPELINE=parameters.get("IngestPipeline", ""))
        except MisconfiguredError:
            assert "IngestPipeline" in parameters
        seen = list(cluster.seen)

    assert [s.method for s in seen] == ["POST"]  # the bulk request: a pipeline refuses it (osmem-server has none)
    assert refused(seen, grants(parameters, "ShipLogsFunction")) == []
