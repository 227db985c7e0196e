"""A basic-auth secret that cannot be used says which secret and what is wrong, and never its password."""

from __future__ import annotations

import json
import threading

import boto3
import pytest

from logship.cluster.secrets import CachedSecret, SecretError
from logship.ship.shipper import ShipError
from logship.ship.sink import CredentialsError
from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.integration.fault_proxy import FaultProxy
from tests.payloads import encode, load

PASSWORD = "hunter2-Secret!"


@pytest.mark.parametrize(("value", "says"), [
    ("username=shipper password=" + PASSWORD, "is not JSON"),
    (json.dumps(["shipper", PASSWORD]), "is a JSON list"),
    (json.dumps({"username": "shipper"}), "password missing, empty or not a string (keys found: username)"),
    (json.dumps({"username": "", "password": PASSWORD}), "username missing, empty or not a string"),
    (json.dumps({"username": "shipper", "password": 12345}), "password missing, empty or not a string"),
    (json.dumps({"user": "shipper", "pass": PASSWORD}), "username and password missing"),
    (json.dumps({"username": "ship:per", "password": PASSWORD}), "the username contains ':'"),
])
def test_a_malformed_secret_names_itself_and_the_problem(aws, value, says):
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="logship/opensearch", SecretString=value)["ARN"]

    with pytest.raises(SecretError) as error:
        CachedSecret(client, arn).credentials()

    assert says in str(error.value)
    assert arn in str(error.value)
    assert PASSWORD not in str(error.value)


def test_a_binary_secret_is_named_as_such(aws):
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="logship/binary", SecretBinary=b"\x00\x01")["ARN"]
    with pytest.raises(SecretError, match="has no SecretString"):
        CachedSecret(client, arn).credentials()


def test_the_handler_reports_a_malformed_secret_as_such_and_sends_nothing(aws, opensearch, osmem_clone, monkeypatch,
                                                                            capsys):
    arn = boto3.client("secretsmanager").create_secret(
        Name="logship/opensearch", SecretString=json.dumps({"username": "shipper", "pw": PASSWORD}))["ARN"]
    with FaultProxy(osmem_clone.url) as proxy:
        for key, value in shipper_env(proxy.url, OPENSEARCH_AUTH="basic", OPENSEARCH_SECRET_ARN=arn).items():
            monkeypatch.setenv(key, value)
        with pytest.raises(CredentialsError) as error:
            load_handler("ship_logs").handler(encode(load("cwl_node_runtime")), LambdaContext())

    [line] = capsys.readouterr().out.splitlines()
    summary = json.loads(line)
    assert (summary["events_in"], summary["pending"]) == (6, 6)
    assert summary["reasons"] == [str(error.value)]
    assert str(error.value).startswith(f"OpenSearch credentials unusable, not retried: secret {arn} must be")
    assert "unreachable" not in line
    assert PASSWORD not in line
    assert proxy.faults.bulk_requests == 0
    assert search_all(opensearch) == []


def test_a_secret_read_that_hangs_is_bounded_by_the_request_and_the_summary_printed(aws, opensearch, osmem_clone,
                                                                                     monkeypatch, capsys):
    """Secrets Manager unreachable from the function (a VPC without an endpoint): no summary-less timeout."""
    import botocore.handlers

    arn = boto3.client("secretsmanager").create_secret(
        Name="logship/opensearch", SecretString=json.dumps({"username": "shipper", "password": PASSWORD}))["ARN"]
    released = threading.Event()

    def unreachable(**_kwargs: object) -> None:
        released.wait(30)  # then on to moto: the read completes, late

    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS",
                        [("before-send.secrets-manager.GetSecretValue", unreachable), *botocore.handlers.BUILTIN_HANDLERS])
    for key, value in shipper_env(osmem_clone.url, OPENSEARCH_AUTH="basic", OPENSEARCH_SECRET_ARN=arn).items():
        monkeypatch.setenv(key, value)
    app = load_handler("ship_logs")

    with pytest.raises(ShipError):
        app.handler(encode(load("cwl_node_runtime")), LambdaContext(remaining_ms=3500))
    released.set()

    [line] = capsys.readouterr().out.splitlines()
    summary = json.loads(line)
    assert (summary["events_in"], summary["pending"]) == (6, 6)
    assert summary["reasons"][0].startswith("the credentials were not ready in the request's time")
    # The next invocation of the same container finds the secret the late read cached.
    assert app.handler(encode(load("cwl_node_runtime")), LambdaContext())["indexed"] == 6


def test_the_installer_names_a_malformed_secret_not_the_network(aws, osmem_clone, cloudformation, monkeypatch):
    arn = boto3.client("secretsmanager").create_secret(Name="logship/opensearch",
                                                       SecretString="username=shipper password=" + PASSWORD)["ARN"]
    for key, value in shipper_env(osmem_clone.url, OPENSEARCH_AUTH="basic", OPENSEARCH_SECRET_ARN=arn).items():
        monkeypatch.setenv(key, value)
    request = cloudformation.request("Create", function="logship-install-index-template",
                                     resource_type="Custom::IndexTemplate", logical_id="IndexTemplate", properties={})

    load_handler("install_index_template").handler(request, LambdaContext())

    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(f"secret {arn} ")
    assert "is not JSON" in answer["Reason"]
    assert "could not reach" not in answer["Reason"]
    assert PASSWORD not in answer["Reason"]
