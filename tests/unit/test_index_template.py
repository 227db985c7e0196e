"""The index template per cluster flavor: the json field type and retention that each one supports."""

from __future__ import annotations

import pytest

from logship.cluster.index_template import Flavor, ilm_policy, ism_policy, template_body


@pytest.mark.parametrize(("flavor", "json_type"), [
    (Flavor("opensearch", (2, 7)), {"type": "flat_object"}),
    (Flavor("opensearch", (3, 8)), {"type": "flat_object"}),
    (Flavor("opensearch", (2, 5)), {"type": "object", "enabled": False}),  # stored, not searchable
    (Flavor("opensearch", (1, 3)), {"type": "object", "enabled": False}),
    (Flavor("elasticsearch", (8, 15)), {"type": "flattened"}),
    (Flavor("elasticsearch", (7, 10)), {"type": "flattened"}),
    (Flavor("elasticsearch", (7, 2)), {"type": "object", "enabled": False}),
    (Flavor("serverless"), {"type": "flat_object"}),
])
def test_json_field_type_by_flavor(flavor, json_type):
    body = template_body("cwl", flavor, "logship-cwl")
    assert body["template"]["mappings"]["properties"]["json"] == json_type
    assert body["index_patterns"] == ["cwl-*"]
    assert body["template"]["mappings"]["dynamic"] is False


@pytest.mark.parametrize("flavor", [Flavor("opensearch", (2, 7)), Flavor("elasticsearch", (8, 15)), Flavor("serverless")])
def test_correlation_is_one_field_wherever_json_is_searchable(flavor):
    mapping = template_body("cwl", flavor)["template"]["mappings"]
    assert mapping["properties"]["correlation"] == mapping["properties"]["json"]
    assert "correlation_ids" not in str(mapping["dynamic_templates"])


def test_on_older_clusters_correlation_keys_are_dynamic_keywords():
    mapping = template_body("cwl", Flavor("opensearch", (2, 5)))["template"]["mappings"]
    assert mapping["properties"]["correlation"] == {"type": "object", "dynamic": True}
    assert {"correlation_ids": {"path_match": "correlation.*", "mapping": {"type": "keyword", "ignore_above": 1024}}} \
        in mapping["dynamic_templates"]


def test_elasticsearch_indices_follow_the_ilm_policy_and_opensearch_uses_ism_templates():
    assert template_body("cwl", Flavor("elasticsearch", (8, 15)), "logship-cwl")["template"]["settings"][
        "index.lifecycle.name"] == "logship-cwl"
    assert "index.lifecycle.name" not in template_body("cwl", Flavor("opensearch", (2, 11)), "logship-cwl")[
        "template"]["settings"]
    assert template_body("cwl", Flavor("serverless"))["template"]["settings"] == {}
    ism = ism_policy("cwl", 30)["policy"]
    assert ism["ism_template"] == [{"index_patterns": ["cwl-*"], "priority": 100}]
    assert ism["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "30d"}
    assert ism["states"][1]["actions"] == [{"delete": {}}]
    assert ilm_policy(7)["policy"]["phases"]["delete"] == {"min_age": "7d", "actions": {"delete": {}}}


def test_every_field_the_parser_writes_is_mapped():
    from logship.ship.documents import DocumentBuilder
    from logship.ship.payload import parse_batch
    from tests.payloads import data_payloads, encode, load

    mapped = template_body("cwl", Flavor("opensearch", (2, 11)))["template"]["mappings"]["properties"]

    def paths(source: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, value in source.items():
            if isinstance(value, dict) and key not in ("json", "correlation", "labels"):
                out |= paths(value, f"{prefix}{key}.")
            else:
                out.add(f"{prefix}{key}")
        return out

    def is_mapped(path: str) -> bool:
        node: dict = {"properties": mapped}
        for part in path.split("."):
            node = node.get("properties", {}).get(part)
            if node is None:
                return False
        return True

    builder = DocumentBuilder(index_prefix="cwl", region="eu-west-1")
    written = set().union(*(paths(d.source) for n in data_payloads() for d in builder.build(parse_batch(encode(load(n))))))
    assert {p for p in written if not is_mapped(p)} == set()


def test_data_streams_are_declared_and_outrank_elasticsearchs_own_logs_template():
    from logship.core.indices import IndexNaming

    naming = IndexNaming.stream("aws.lambda", "default")
    body = template_body(naming, Flavor("elasticsearch", (8, 15)), naming.name)
    assert body["data_stream"] == {}
    assert body["index_patterns"] == ["logs-aws.lambda-default", "logs-aws.lambda.failed-default"]
    assert body["priority"] > 100  # Elasticsearch's logs-*-* template has 100; a tie with an overlap is refused
    assert body["template"]["settings"]["index.lifecycle.name"] == "logship-logs-aws.lambda-default"
    assert body["template"]["mappings"]["properties"]["@timestamp"] == {"type": "date"}  # the stream's time field
    assert "data_stream" not in template_body("cwl", Flavor("elasticsearch", (8, 15)))


def test_a_streams_retention_rolls_the_write_index_over_daily_then_deletes():
    from logship.core.indices import IndexNaming

    naming = IndexNaming.stream("checkout", "prod")
    ism = ism_policy(naming, 14)["policy"]
    assert ism["states"][0]["actions"] == [{"rollover": {"min_index_age": "1d", "min_size": "50gb"}}]
    assert ism["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "14d"}
    # ISM matches a backing index (.ds-<stream>-000001) to a template by its data stream's name
    assert ism["ism_template"] == [{"index_patterns": ["logs-checkout-prod", "logs-checkout.failed-prod"],
                                    "priority": 100}]
    assert ism_policy("cwl", 14)["policy"]["states"][0]["actions"] == []  # daily indices never roll over
    hot = ilm_policy(14, rollover=True, version=(8, 15))["policy"]["phases"]["hot"]["actions"]
    assert hot == {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}
    older = ilm_policy(14, rollover=True, version=(7, 9))["policy"]["phases"]["hot"]["actions"]
    assert older == {"rollover": {"max_age": "1d", "max_size": "50gb"}}  # before 7.13: no primary-shard size
