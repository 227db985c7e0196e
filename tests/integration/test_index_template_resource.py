"""The deploy-time installer: what CloudFormation receives, and what the cluster has afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LambdaContext, load_handler, shipper_env


def request(cloudformation, kind: str, **properties: str) -> dict[str, Any]:
    return cloudformation.request(kind, function="logship-install-index-template",
                                  resource_type="Custom::IndexTemplate", logical_id="IndexTemplate",
                                  properties=properties)


def run(monkeypatch, endpoint: str, event: dict[str, Any], **env: str) -> dict[str, str]:
    for key, value in shipper_env(endpoint, **env).items():
        monkeypatch.setenv(key, value)
    return load_handler("install_index_template").handler(event, LambdaContext())


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_create_and_update_install_the_template_and_answer_success(kind, bare_opensearch, osmem_clone, cloudformation,
                                                                   monkeypatch):
    answers = cloudformation.answers
    run(monkeypatch, osmem_clone.url, request(cloudformation, kind), INDEX_PREFIX="applogs", INDEX_RETENTION_DAYS="7")

    assert [a["Status"] for a in answers] == ["SUCCESS"]
    assert answers[0]["PhysicalResourceId"] == "logship-index-template-applogs"
    assert answers[0]["RequestId"] == f"{kind.lower()}-request-1"
    assert "index template logship-applogs" in answers[0]["Reason"]
    template = bare_opensearch.indices.get_index_template(name="logship-applogs")["index_templates"][0]
    assert template["index_template"]["index_patterns"] == ["applogs-2*", "applogs-failed-*"]


def test_delete_keeps_the_users_logs(bare_opensearch, osmem_clone, cloudformation, monkeypatch):
    answers = cloudformation.answers
    bare_opensearch.index(index="cwl-2025.11.22", body={"message": "kept"}, refresh=True)

    run(monkeypatch, osmem_clone.url, request(cloudformation, "Delete"))

    assert answers[0]["Status"] == "SUCCESS"
    assert bare_opensearch.count(index="cwl-2025.11.22")["count"] == 1


@pytest.mark.parametrize(("vpc", "first_check"), [
    ({}, "Check first the VPC settings: the functions run outside any VPC"),
    ({"VPC_SUBNET_IDS": "subnet-0a1b,subnet-2c3d", "VPC_SECURITY_GROUP_IDS": "sg-0e4f"},
     "Check first the VPC settings: the functions run in subnets subnet-0a1b,subnet-2c3d with security groups sg-0e4f"),
])
def test_unreachable_cluster_fails_the_deploy_naming_the_vpc_settings_first(vpc, first_check, cloudformation,
                                                                             monkeypatch):
    answers = cloudformation.answers
    result = run(monkeypatch, "http://127.0.0.1:9", request(cloudformation, "Create"), **vpc)

    assert result["status"] == answers[0]["Status"] == "FAILED"
    reason = answers[0]["Reason"]
    assert reason.startswith("could not reach http://127.0.0.1:9 (")
    assert first_check in reason
    assert reason.index("VPC settings") < reason.index("the endpoint itself")
    assert "InstallIndexTemplate=false" in reason


def test_an_endpoint_with_a_password_in_it_fails_the_deploy_without_repeating_the_password(cloudformation,
                                                                                          monkeypatch):
    run(monkeypatch, "https://admin:hunter2@search-logs-abc.eu-west-1.es.amazonaws.com",
        request(cloudformation, "Create"))

    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED"  # CloudFormation keeps the reason in the stack's events
    assert "must not carry credentials" in answer["Reason"]
    assert "hunter2" not in answer["Reason"]


def test_refused_credentials_say_which_role_to_map(osmem_clone, cloudformation, monkeypatch):
    from tests.integration.fault_proxy import FaultProxy

    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = "Basic never-sent"
        run(monkeypatch, proxy.url, request(cloudformation, "Create"))

    reason = cloudformation.answers[0]["Reason"]
    assert reason.startswith(f"{proxy.url} refused the installer (401")
    assert "role mapping" in reason


def test_bad_configuration_still_answers_cloudformation(cloudformation, monkeypatch):
    answers = cloudformation.answers
    run(monkeypatch, "not-a-url", request(cloudformation, "Create"))

    assert answers[0]["Status"] == "FAILED"
    assert "OPENSEARCH_ENDPOINT='not-a-url' is not an http(s) URL" in answers[0]["Reason"]


def test_install_can_be_switched_off(bare_opensearch, osmem_clone, cloudformation, monkeypatch):
    answers = cloudformation.answers
    run(monkeypatch, osmem_clone.url, request(cloudformation, "Create", Install="false"))

    assert (answers[0]["Status"], answers[0]["Reason"]) == ("SUCCESS", "skipped (InstallIndexTemplate=false)")
    assert bare_opensearch.indices.get_index_template()["index_templates"] == []


def test_delete_is_answered_success_even_with_broken_settings(cloudformation, monkeypatch):
    run(monkeypatch, "not-a-url", request(cloudformation, "Delete"), REDACT_PATTERNS='["(unclosed"]')

    assert cloudformation.answers[0]["Status"] == "SUCCESS"


def test_a_bad_shipper_setting_fails_the_deploy_instead_of_every_batch(bare_opensearch, osmem_clone, cloudformation,
                                                                       monkeypatch):
    run(monkeypatch, osmem_clone.url, request(cloudformation, "Create"), REDACT_PATTERNS='["(unclosed"]')

    assert cloudformation.answers[0]["Status"] == "FAILED"
    assert "REDACT_PATTERNS: '(unclosed' is not a valid regular expression" in cloudformation.answers[0]["Reason"]


@pytest.mark.parametrize("payload", [{}, [], "install please", None])
def test_invoked_by_hand_with_any_payload_it_installs(payload, bare_opensearch, osmem_clone, monkeypatch):
    assert run(monkeypatch, osmem_clone.url, payload)["status"] == "SUCCESS"
    assert bare_opensearch.indices.get_index_template(name="logship-cwl")["index_templates"]


def test_a_pipeline_the_cluster_cannot_show_fails_the_deploy_before_anything_is_written(bare_opensearch, osmem_clone,
                                                                                       cloudformation, monkeypatch):
    run(monkeypatch, osmem_clone.url, request(cloudformation, "Create"), INGEST_PIPELINE="logs@custom")

    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED"  # osmem-server has no _ingest API: the check cannot pass
    assert "could not check the ingest pipeline 'logs@custom' (400" in answer["Reason"]
    assert "Deploy with IngestPipeline empty if not" in answer["Reason"]
    assert bare_opensearch.indices.get_index_template()["index_templates"] == []


def test_a_new_index_mode_is_a_new_resource_and_the_old_one_is_deleted_keeping_the_logs(bare_opensearch, osmem_clone,
                                                                                      cloudformation, monkeypatch):
    run(monkeypatch, osmem_clone.url, request(cloudformation, "Update"), INDEX_MODE="datastream")
    run(monkeypatch, osmem_clone.url, {**request(cloudformation, "Delete"),
                                       "PhysicalResourceId": "logship-index-template-cwl"})

    created, deleted = cloudformation.answers
    assert created["PhysicalResourceId"] == "logship-index-template-logs-aws.lambda-default"
    assert (deleted["Status"], deleted["PhysicalResourceId"]) == ("SUCCESS", "logship-index-template-cwl")
