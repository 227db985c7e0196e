"""Authentication as it reaches the wire: SigV4-signed requests, basic auth read from Secrets Manager."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from logship.cluster.client import sigv4_region, sigv4_service
from logship.cluster.secrets import CachedSecret, SecretError
from logship.ship.sink import OpenSearchRefusedError
from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.integration.fault_proxy import FaultProxy
from tests.integration.test_ship_logs import run_shipper
from tests.payloads import encode, load


@pytest.fixture
def credentials(monkeypatch):
    """The function role's credentials, as Lambda puts them in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _auth_headers(proxy: FaultProxy) -> list[str]:
    return [h.get("authorization") or h.get("Authorization") or "" for h in proxy.faults.seen_headers]


def test_basic_auth_comes_from_secrets_manager(aws, osmem_clone, monkeypatch, capsys, opensearch):
    arn = boto3.client("secretsmanager").create_secret(
        Name="logship/opensearch", SecretString=json.dumps({"username": "shipper", "password": "s3cr3t"}))["ARN"]
    with FaultProxy(osmem_clone.url) as proxy:
        summary = run_shipper(monkeypatch, capsys, proxy.url, load("cwl_node_runtime"),
                              OPENSEARCH_AUTH="basic", OPENSEARCH_SECRET_ARN=arn)

    assert summary["indexed"] == 6
    expected = "Basic " + base64.b64encode(b"shipper:s3cr3t").decode()
    assert set(_auth_headers(proxy)) == {expected}


def test_sigv4_signs_every_request_for_the_right_service_and_region(credentials, osmem_clone, monkeypatch, capsys):
    with FaultProxy(osmem_clone.url) as proxy:
        summary = run_shipper(monkeypatch, capsys, proxy.url, load("cwl_node_runtime"), OPENSEARCH_AUTH="sigv4")

    assert summary["indexed"] == 6
    headers = proxy.faults.seen_headers[0]
    assert _auth_headers(proxy)[0].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in _auth_headers(proxy)[0]
    assert {k.lower(): v for k, v in headers.items()}["x-amz-security-token"] == "session-token"
    assert {k.lower() for k in headers} >= {"x-amz-date", "x-amz-content-sha256"}


@pytest.mark.parametrize(("host", "service", "region"), [
    ("search-logs-abc123.eu-west-1.es.amazonaws.com", "es", "eu-west-1"),
    ("vpc-logs-abc123.us-east-2.es.amazonaws.com", "es", "us-east-2"),
    ("0a1b2c3d4e5f.us-west-2.aoss.amazonaws.com", "aoss", "us-west-2"),
    ("logs.example.com", "es", "ap-south-1"),
])
def test_sigv4_service_and_region_follow_the_endpoint(host, service, region):
    assert sigv4_service(host) == service
    assert sigv4_region(host, "ap-south-1") == region


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_secret_is_cached_until_its_ttl_then_rotation_is_picked_up(aws):
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="s", SecretString='{"username": "a", "password": "1"}')["ARN"]
    clock = Clock()
    secret = CachedSecret(client, arn, ttl_seconds=300, clock=clock)
    assert secret.credentials() == ("a", "1")

    client.put_secret_value(SecretId=arn, SecretString='{"username": "a", "password": "2"}')
    clock.now = 299
    assert secret.credentials() == ("a", "1")
    clock.now = 301
    assert secret.credentials() == ("a", "2")


@pytest.mark.parametrize(("value", "says"), [
    (None, "cannot read secret"),
    ('{"user": "a"}', 'must be a JSON string {"username": ..., "password": ...}'),
])
def test_unusable_secret_says_how_to_fix_it(aws, value, says):
    client = boto3.client("secretsmanager")
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-AbCdEf"
    if value is not None:
        arn = client.create_secret(Name="bad", SecretString=value)["ARN"]
    with pytest.raises(SecretError) as error:
        CachedSecret(client, arn).credentials()
    assert says in str(error.value)


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"shipper:{password}".encode()).decode()


def test_a_rotated_password_is_picked_up_on_the_first_401(aws, osmem_clone, opensearch, monkeypatch, capsys):
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="logship/os", SecretString=json.dumps({"username": "shipper", "password": "old"}))[
        "ARN"]
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = _basic("old")
        for key, value in shipper_env(proxy.url, OPENSEARCH_AUTH="basic", OPENSEARCH_SECRET_ARN=arn).items():
            monkeypatch.setenv(key, value)
        app = load_handler("ship_logs")  # one warm container across both invocations
        app.handler(encode(load("cwl_python_runtime")), LambdaContext())

        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"username": "shipper", "password": "new"}))
        proxy.faults.authorization = _basic("new")
        summary = app.handler(encode(load("cwl_node_runtime")), LambdaContext())

    assert summary["indexed"] == 6
    assert summary["reasons"] == ["401: credentials read again (rotated?)"]
    assert len(search_all(opensearch)) == 13


def test_a_wrong_password_fails_at_once_with_what_to_check(aws, osmem_clone, monkeypatch):
    arn = boto3.client("secretsmanager").create_secret(
        Name="logship/wrong", SecretString=json.dumps({"username": "shipper", "password": "wrong"}))["ARN"]
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = _basic("right")
        for key, value in shipper_env(proxy.url, OPENSEARCH_AUTH="basic", OPENSEARCH_SECRET_ARN=arn).items():
            monkeypatch.setenv(key, value)
        with pytest.raises(OpenSearchRefusedError, match=r"refused the bulk request \(401"):
            load_handler("ship_logs").handler(encode(load("cwl_node_runtime")), LambdaContext())


# ---------------------------------------------------------------------------- Elasticsearch API keys

KEY = "ui2lp2axTNmsyakw9tvNnw"


@pytest.mark.parametrize(("value", "says"), [
    (json.dumps({"id": "VuaCfGcBCdbkQm-e5aOx"}), "api_key missing, empty or not a string (keys found: id)"),
    (json.dumps({"name": "logship", "api_key": KEY}), "id missing, empty or not a string"),
    (json.dumps({"encoded": f"VuaCfGcBCdbkQm-e5aOx:{KEY}"}), 'for the id:api_key form, store {"id": ..., "api_key"'),
    (json.dumps({"encoded": base64.b64encode(KEY.encode()).decode()}), '"encoded" must be the base64 of id:api_key'),
    (json.dumps({"id": "a:b", "api_key": KEY}), "the API key id contains ':'"),
    (KEY, "is not JSON"),
])
def test_an_api_key_secret_in_the_wrong_shape_says_how_to_fix_it_never_the_key(aws, value, says):
    from logship.cluster.secrets import api_key_token

    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="logship/es", SecretString=value)["ARN"]
    with pytest.raises(SecretError) as error:
        CachedSecret(client, arn, parse=api_key_token).credentials()

    assert says in str(error.value)
    assert arn in str(error.value)
    assert KEY not in str(error.value)


def test_an_api_key_is_cached_until_its_ttl_like_a_password(aws):
    from logship.cluster.secrets import api_key_token

    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="k", SecretString='{"id": "a", "api_key": "1"}')["ARN"]
    clock = Clock()
    secret = CachedSecret(client, arn, ttl_seconds=300, clock=clock, parse=api_key_token)
    assert secret.credentials() == base64.b64encode(b"a:1").decode()

    client.put_secret_value(SecretId=arn, SecretString='{"encoded": "' + base64.b64encode(b"b:2").decode() + '"}')
    clock.now = 299
    assert secret.credentials() == base64.b64encode(b"a:1").decode()
    clock.now = 301
    assert secret.credentials() == base64.b64encode(b"b:2").decode()


def test_the_api_key_header_goes_to_opensearch_too_when_a_proxy_in_front_expects_it(aws, osmem_clone, opensearch,
                                                                                   monkeypatch, capsys):
    token = base64.b64encode(f"shipper:{KEY}".encode()).decode()
    arn = boto3.client("secretsmanager").create_secret(
        Name="logship/es", SecretString=json.dumps({"id": "shipper", "api_key": KEY}))["ARN"]
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = f"ApiKey {token}"
        summary = run_shipper(monkeypatch, capsys, proxy.url, load("cwl_node_runtime"), OPENSEARCH_AUTH="apikey",
                              OPENSEARCH_SECRET_ARN=arn)

    assert summary["indexed"] == 6
    assert set(_auth_headers(proxy)) == {f"ApiKey {token}"}
