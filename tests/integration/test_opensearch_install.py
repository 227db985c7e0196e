"""The deploy-time installer against OpenSearch as it really answers: osmem-server behind
tests/integration/opensearch_stand_in.py, which gives OpenSearch's own answers where osmem-server has no API
(ISM, the security plugin's refusals) or answers otherwise (GET / in compatibility mode).

Each case goes through the install function's handler with a CloudFormation request, as at deploy.
"""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy import OpenSearch

from tests.conftest import LambdaContext, load_handler, shipper_env
from tests.integration.opensearch_stand_in import OpenSearchStandIn


def deploy(monkeypatch: pytest.MonkeyPatch, cloudformation: Any, endpoint: str, kind: str = "Create",
           **env: str) -> dict[str, Any]:
    """The install function answering a CloudFormation request; returns CloudFormation's copy of the answer."""
    for key, value in shipper_env(endpoint, **env).items():
        monkeypatch.setenv(key, value)
    request = cloudformation.request(kind, function="logship-install-index-template",
                                     resource_type="Custom::IndexTemplate", logical_id="IndexTemplate", properties={})
    load_handler("install_index_template").handler(request, LambdaContext())
    return cloudformation.answers[-1]


def template(client: OpenSearch, name: str) -> dict[str, Any]:
    return client.indices.get_index_template(name=name)["index_templates"][0]["index_template"]


def explain(client: OpenSearch, pattern: str) -> dict[str, str | None]:
    """Which ISM policy manages each index, as ISM's explain API says."""
    answer = client.transport.perform_request("GET", f"/_plugins/_ism/explain/{pattern}")
    return {index: state.get("policy_id") for index, state in answer.items() if isinstance(state, dict)}


@pytest.mark.parametrize(("version", "json_type"), [("2.19.1", "flat_object"), ("2.11.0", "object"),
                                                    ("1.3.20", "object")])
def test_opensearch_in_compatibility_mode_is_told_by_its_nodes_and_installs(version, json_type, osmem_clone,
                                                                           cloudformation, monkeypatch):
    # Before: GET / said 7.10.2 without a distribution, logship installed Elasticsearch's `flattened`, and
    # OpenSearch refused the template ("composable template [logship-cwl] template after composition is invalid").
    with OpenSearchStandIn(osmem_clone.url, version=version, compatibility_mode=True) as cluster:
        answer = deploy(monkeypatch, cloudformation, cluster.url)
        client = OpenSearch(hosts=[cluster.url])
        root = client.info()

        assert "distribution" not in root["version"]
        assert root["version"]["number"] == "7.10.2"  # what the old detection read as Elasticsearch 7.10
        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert f"cluster: OpenSearch {'.'.join(version.split('.')[:3])} in compatibility mode" in answer["Reason"]
        assert template(client, "logship-cwl")["template"]["mappings"]["properties"]["json"]["type"] == json_type
        assert "ISM policy logship-cwl installed: delete after 30 days" in answer["Reason"]


def test_what_the_old_detection_sent_is_refused_by_opensearch(bare_opensearch):
    """Why compatibility mode failed the deploy: OpenSearch has no `flattened` (osmem-server refuses it as
    OpenSearch does: MetadataIndexTemplateService#validateIndexTemplateV2)."""
    from opensearchpy.exceptions import RequestError

    from logship.cluster.engine import Flavor
    from logship.cluster.index_template import template_body

    with pytest.raises(RequestError) as refused:
        bare_opensearch.indices.put_index_template(name="logship-cwl", body=template_body(
            "cwl", Flavor("elasticsearch", (7, 10, 2))))
    assert "template after composition is invalid" in str(refused.value.info)


def test_two_stacks_with_overlapping_prefixes_share_a_cluster_each_claiming_only_its_own(osmem_clone, cloudformation,
                                                                                       monkeypatch):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        first = deploy(monkeypatch, cloudformation, cluster.url, INDEX_PREFIX="cwl")
        second = deploy(monkeypatch, cloudformation, cluster.url, INDEX_PREFIX="cwl-prod", INDEX_RETENTION_DAYS="90")
        client = OpenSearch(hosts=[cluster.url])
        for index in ("cwl-2025.11.22", "cwl-failed-2025.11.22", "cwl-prod-2025.11.22", "cwl-prod-failed-2025.11.22"):
            client.index(index=index, body={"@timestamp": "2025-11-22T10:00:00Z", "message": "x"}, refresh=True)

        assert [first["Status"], second["Status"]] == ["SUCCESS", "SUCCESS"], second["Reason"]
        assert template(client, "logship-cwl")["index_patterns"] == ["cwl-2*", "cwl-failed-*"]
        assert template(client, "logship-cwl-prod")["index_patterns"] == ["cwl-prod-2*", "cwl-prod-failed-*"]
        assert explain(client, "cwl-*") == {  # each retention policy took its own stack's new indices, no other
            "cwl-2025.11.22": "logship-cwl", "cwl-failed-2025.11.22": "logship-cwl",
            "cwl-prod-2025.11.22": "logship-cwl-prod", "cwl-prod-failed-2025.11.22": "logship-cwl-prod"}


def test_the_old_patterns_were_refused_by_the_second_stack(bare_opensearch):
    """Before: `cwl-*` and `cwl-prod-*` at one priority overlap, which OpenSearch refuses (osmem-server too)."""
    from opensearchpy.exceptions import RequestError

    bare_opensearch.indices.put_index_template(name="a", body={"index_patterns": ["cwl-*"], "priority": 200})
    with pytest.raises(RequestError) as refused:
        bare_opensearch.indices.put_index_template(name="b", body={"index_patterns": ["cwl-prod-*"], "priority": 200})
    assert "matching patterns from existing templates [a]" in str(refused.value.info)


def test_retention_reaches_indices_that_existed_before_it_and_follows_a_new_retention(osmem_clone, cloudformation,
                                                                                     monkeypatch):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        client = OpenSearch(hosts=[cluster.url])
        for index in ("cwl-2025.11.20", "cwl-2025.11.21", "cwl-failed-2025.11.21", "cwl-prod-2025.11.21"):
            client.indices.create(index=index)
        client.transport.perform_request("PUT", "/_plugins/_ism/policies/keep-forever", body={"policy": {
            "description": "the user's own", "default_state": "hot", "states": [{"name": "hot", "actions": [],
                                                                               "transitions": []}]}})
        client.transport.perform_request("POST", "/_plugins/_ism/add/cwl-2025.11.20",
                                         body={"policy_id": "keep-forever"})

        answer = deploy(monkeypatch, cloudformation, cluster.url)

        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert explain(client, "cwl-*") == {"cwl-2025.11.20": "keep-forever", "cwl-2025.11.21": "logship-cwl",
                                            "cwl-failed-2025.11.21": "logship-cwl", "cwl-prod-2025.11.21": None}
        assert "ISM policy logship-cwl attached to 2 indices that existed before it" in answer["Reason"]
        assert "1 index of this stack kept on another policy, which decides when they are deleted: " \
               "cwl-2025.11.20 (keep-forever)" in answer["Reason"]
        first_version = cluster.managed["cwl-2025.11.21"]["policy_seq_no"]

        again = deploy(monkeypatch, cloudformation, cluster.url, "Update", INDEX_RETENTION_DAYS="7")
        cluster.run_jobs()  # ISM applies a change of policy at the index's next job run

        assert again["Status"] == "SUCCESS", again["Reason"]
        assert "ISM policy logship-cwl updated: delete after 7 days" in again["Reason"]
        assert "2 indices moved to the policy's new version" in again["Reason"]
        policy = client.transport.perform_request("GET", "/_plugins/_ism/policies/logship-cwl")
        assert policy["policy"]["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "7d"}
        for index in ("cwl-2025.11.21", "cwl-failed-2025.11.21"):
            assert cluster.managed[index]["policy_seq_no"] == policy["_seq_no"] != first_version

        unchanged = deploy(monkeypatch, cloudformation, cluster.url, "Update", INDEX_RETENTION_DAYS="7")
        assert "ISM policy logship-cwl unchanged" in unchanged["Reason"]
        assert "moved" not in unchanged["Reason"]


def test_a_policy_the_cluster_refuses_fails_the_deploy_with_its_reason_and_what_to_do(osmem_clone, cloudformation,
                                                                                    monkeypatch):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        client = OpenSearch(hosts=[cluster.url])
        client.transport.perform_request("PUT", "/_plugins/_ism/policies/all-logs", body={"policy": {
            "description": "every log index", "default_state": "hot",
            "states": [{"name": "hot", "actions": [], "transitions": []}],
            "ism_template": [{"index_patterns": ["cwl-*"], "priority": 100}]}})

        answer = deploy(monkeypatch, cloudformation, cluster.url)

        assert answer["Status"] == "FAILED"
        reason = answer["Reason"]
        # index-management ISMTemplateService: the cluster's own words
        assert "the cluster refused the ISM policy logship-cwl (400 index_management_exception: New policy " \
               "logship-cwl has an ISM template with index pattern [cwl-2*, cwl-failed-*] matching existing policy " \
               "templates, please use a different priority than 100)" in reason
        assert "give that policy another priority, or narrow its index_patterns" in reason
        assert "IndexRetentionDays=0" in reason
        assert client.indices.get_index_template()["index_templates"] == []  # nothing half-installed


def test_a_role_that_may_not_write_ism_policies_fails_the_deploy_naming_the_permission(osmem_clone, cloudformation,
                                                                                     monkeypatch):
    denied = frozenset({"cluster:admin/opendistro/ism/policy/write"})
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1", denied_actions=denied) as cluster:
        answer = deploy(monkeypatch, cloudformation, cluster.url)

    assert answer["Status"] == "FAILED"
    assert "(403 security_exception: no permissions for [cluster:admin/opendistro/ism/policy/write] and User " \
           "[name=logship-installer" in answer["Reason"]
    assert "map the InstallIndexTemplate function's role" in answer["Reason"]


def test_without_retention_asked_for_no_policy_is_installed(osmem_clone, cloudformation, monkeypatch):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        answer = deploy(monkeypatch, cloudformation, cluster.url, INDEX_RETENTION_DAYS="0")

        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert "retention: none (IndexRetentionDays=0)" in answer["Reason"]
        assert cluster.policies == {}


def test_a_cluster_without_ism_installs_the_template_and_says_nothing_will_delete_old_indices(
        osmem_clone, cloudformation, monkeypatch):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1", ism=False) as cluster:
        answer = deploy(monkeypatch, cloudformation, cluster.url)
        client = OpenSearch(hosts=[cluster.url])

        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert "retention: this cluster has no lifecycle API (ISM: 400: no handler found for uri " \
               "[/_plugins/_ism/policies/logship-cwl] and method [GET]); nothing will delete old" in answer["Reason"]
        assert template(client, "logship-cwl")["index_patterns"] == ["cwl-2*", "cwl-failed-*"]


def test_a_policy_is_left_alone_when_unchanged_whatever_ism_adds_as_it_stores_it(osmem_clone, cloudformation,
                                                                                 monkeypatch):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        deploy(monkeypatch, cloudformation, cluster.url, INDEX_MODE="datastream")
        again = deploy(monkeypatch, cloudformation, cluster.url, "Update", INDEX_MODE="datastream")
        stored = OpenSearch(hosts=[cluster.url]).transport.perform_request(
            "GET", "/_plugins/_ism/policies/logship-logs-aws.lambda-default")

    rollover = stored["policy"]["states"][0]["actions"][0]
    assert rollover["rollover"]["copy_alias"] is False  # ISM 2.10+ writes it back; logship never sent it
    assert rollover["retry"] == {"count": 3, "backoff": "exponential", "delay": "1m"}
    assert "ISM policy logship-logs-aws.lambda-default unchanged" in again["Reason"], again["Reason"]
    assert stored["_seq_no"] == 0  # never written again


def test_with_retention_turned_off_a_policy_left_from_before_is_named_with_how_to_remove_it(
        osmem_clone, cloudformation, monkeypatch):
    with OpenSearchStandIn(osmem_clone.url, version="2.19.1") as cluster:
        deploy(monkeypatch, cloudformation, cluster.url)
        off = deploy(monkeypatch, cloudformation, cluster.url, "Update", INDEX_RETENTION_DAYS="0")

    assert off["Status"] == "SUCCESS"
    assert "the policy logship-cwl an earlier install put in place is still there and goes on deleting this " \
           "stack's indices: to keep them, POST _plugins/_ism/remove/cwl-2*,cwl-failed-*, then DELETE " \
           "_plugins/_ism/policies/logship-cwl" in off["Reason"]
