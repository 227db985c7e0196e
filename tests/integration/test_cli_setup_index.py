"""logship setup-index: the installer's own code from a laptop, for every auth mode, with errors that say why."""

from __future__ import annotations

import json

import boto3
from click.testing import CliRunner

from logship_cli.app import main
from tests.integration.deployed import DeployedStack
from tests.integration.fault_proxy import FaultProxy


def test_installs_idempotently_and_says_what_it_did(bare_opensearch, osmem_clone):
    for _ in range(2):
        result = CliRunner().invoke(main, ["setup-index", "--endpoint", osmem_clone.url, "--auth", "none",
                                           "--prefix", "app"])
        assert result.exit_code == 0, result.output
        assert "done:    index template logship-app for app-YYYY.MM.DD and app-failed-YYYY.MM.DD (json as flat_object)" in result.output
        assert "skipped: retention" in result.output  # osmem-server has no ISM API; a real domain gets the policy
    template = bare_opensearch.indices.get_index_template(name="logship-app")["index_templates"][0]
    assert template["index_template"]["index_patterns"] == ["app-2*", "app-failed-*"]


def test_a_deployed_stacks_settings_are_used_when_no_endpoint_is_given(cloud, bare_opensearch, osmem_clone):
    DeployedStack(cloud["moto"], "logship", osmem_clone.url, IndexPrefix="applogs")

    result = CliRunner().invoke(main, ["setup-index", "--stack", "logship", "--region", "eu-west-1"])

    assert result.exit_code == 0, result.output
    assert f"for applogs-YYYY.MM.DD and applogs-failed-YYYY.MM.DD on {osmem_clone.url}" in result.output
    assert bare_opensearch.indices.get_index_template(name="logship-applogs")["index_templates"]


def test_basic_auth_reads_the_secret_and_sends_it(cloud, bare_opensearch, osmem_clone):
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = secrets.create_secret(Name="es", SecretString=json.dumps({"username": "admin", "password": "s3cret"}))["ARN"]
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = "Basic YWRtaW46czNjcmV0"  # admin:s3cret, or 401
        result = CliRunner().invoke(main, ["setup-index", "--endpoint", proxy.url, "--auth", "basic",
                                           "--secret-arn", arn, "--region", "eu-west-1"])

    assert result.exit_code == 0, result.output
    assert bare_opensearch.indices.get_index_template(name="logship-cwl")["index_templates"]


def test_a_refused_password_says_what_to_check(cloud, osmem_clone):
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = secrets.create_secret(Name="es", SecretString=json.dumps({"username": "admin", "password": "old"}))["ARN"]
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = "Basic YWRtaW46czNjcmV0"
        result = CliRunner().invoke(main, ["setup-index", "--endpoint", proxy.url, "--auth", "basic",
                                           "--secret-arn", arn, "--region", "eu-west-1"])

    assert result.exit_code == 1
    assert f"failed: {proxy.url} refused the installer (401" in result.output
    assert "old" not in result.output.replace("threshold", "")


def test_basic_without_a_secret_is_a_usage_error():
    result = CliRunner().invoke(main, ["setup-index", "--endpoint", "https://search-x.eu-west-1.es.amazonaws.com",
                                       "--auth", "basic"])

    assert result.exit_code == 2
    assert "--auth (OPENSEARCH_AUTH)=basic needs --secret-arn (OPENSEARCH_SECRET_ARN)" in result.output


def test_an_unreachable_cluster_is_explained_not_a_traceback():
    result = CliRunner().invoke(main, ["setup-index", "--endpoint", "http://127.0.0.1:9", "--auth", "none"])

    assert result.exit_code == 1
    assert "failed: could not reach http://127.0.0.1:9" in result.output
    assert "Check first that this machine can reach it" in result.output
    assert "Traceback" not in result.output
