"""gzip on the wire: bulk bodies compressed by default, and a SigV4 signature that covers the compressed bytes.

opensearch-py's ``http_compress`` gzips the body and sets ``Content-Encoding: gzip`` before it calls the auth
callable with that body, and its SigV4 signer hashes the body it is given: the signature is over what is sent.
These tests check it on the wire: the proxy keeps each request as it came, and the signature is computed
again from those bytes with botocore (what AWS does to verify it).
"""

from __future__ import annotations

import hashlib

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import search_all
from tests.integration.fault_proxy import FaultProxy, Seen
from tests.integration.test_ship_logs import run_shipper
from tests.payloads import load

KEY_ID, SECRET_KEY, TOKEN = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session-token"


@pytest.fixture
def credentials(monkeypatch):
    """The function role's credentials, as Lambda puts them in the environment."""
    for key, value in {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": TOKEN,
                       "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def signature_of(seen: Seen, body: bytes) -> str:
    """The SigV4 signature AWS computes for this request, had ``body`` been its payload."""
    request = AWSRequest(method=seen.method, url=f"http://{seen.header('host')}{seen.path}", data=body)
    request.headers["X-Amz-Security-Token"] = TOKEN
    request.context["timestamp"] = seen.header("x-amz-date")
    signer = SigV4Auth(Credentials(KEY_ID, SECRET_KEY, TOKEN), "es", "eu-west-1")
    request.headers["X-Amz-Date"] = seen.header("x-amz-date")
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def test_sigv4_signs_the_compressed_body_that_is_sent(credentials, opensearch, osmem_clone, monkeypatch, capsys):
    with FaultProxy(osmem_clone.url) as proxy:
        summary = run_shipper(monkeypatch, capsys, proxy.url, load("cwl_node_runtime"), OPENSEARCH_AUTH="sigv4")

    assert summary["indexed"] == len(search_all(opensearch)) == 6  # osmem-server read the gzipped body
    [bulk] = [seen for seen in proxy.faults.seen if seen.path.endswith("/_bulk")]
    assert bulk.header("content-encoding") == "gzip"
    assert bulk.header("content-type") == "application/json"  # as AWS asks: the type of what was compressed
    assert bulk.body[:2] == b"\x1f\x8b"
    assert len(bulk.body) < len(bulk.plain) / 3
    assert bulk.header("x-amz-content-sha256") == hashlib.sha256(bulk.body).hexdigest()
    sent = bulk.header("authorization").rsplit("Signature=", 1)[1]
    assert sent == signature_of(bulk, bulk.body)  # the signature covers the bytes on the wire ...
    assert sent != signature_of(bulk, bulk.plain)  # ... not the NDJSON before compression


def test_compression_can_be_turned_off(credentials, opensearch, osmem_clone, monkeypatch, capsys):
    with FaultProxy(osmem_clone.url) as proxy:
        summary = run_shipper(monkeypatch, capsys, proxy.url, load("cwl_node_runtime"), OPENSEARCH_AUTH="sigv4",
                              COMPRESS_REQUESTS="false")

    assert summary["indexed"] == 6
    [bulk] = [seen for seen in proxy.faults.seen if seen.path.endswith("/_bulk")]
    assert bulk.header("content-encoding") == ""
    assert bulk.body.startswith(b'{"create":')
    assert bulk.header("authorization").rsplit("Signature=", 1)[1] == signature_of(bulk, bulk.body)


def test_the_installer_compresses_too_and_the_cluster_reads_it(opensearch, bare_opensearch, osmem_clone,
                                                               monkeypatch):
    from tests.integration.test_elasticsearch import install

    with FaultProxy(osmem_clone.url) as proxy:
        result = install(monkeypatch, proxy.url, INDEX_PREFIX="gz")

    assert result["status"] == "SUCCESS"
    [put] = [seen for seen in proxy.faults.seen if seen.method == "PUT"]
    assert put.header("content-encoding") == "gzip"
    assert bare_opensearch.indices.get_index_template(name="logship-gz")["index_templates"]
