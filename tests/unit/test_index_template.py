"""The index template and retention policies per cluster: the json field type, patterns, priority and index mode
each engine and version takes, and the lifecycle bodies."""

from __future__ import annotations

import fnmatch
import itertools

import pytest

from logship.cluster.engine import Flavor
from logship.cluster.index_template import TEMPLATE_PRIORITY, template_body
from logship.cluster.retention import ilm_policy, ism_policy
from logship.core.indices import IndexNaming, prefix_problem

DISABLED = {"type": "object", "enabled": False}  # stored, not searchable


@pytest.mark.parametrize(("flavor", "json_type"), [
    (Flavor("opensearch", (2, 19)), {"type": "flat_object"}),
    (Flavor("opensearch", (2, 14)), {"type": "flat_object"}),
    (Flavor("opensearch", (3, 3)), {"type": "flat_object"}),
    (Flavor("opensearch", (2, 13)), DISABLED),  # keys longer than 11 characters refused (OpenSearch #13184)
    (Flavor("opensearch", (2, 11)), DISABLED),  # keys with dots refused (fixed in 2.12, #11425)
    (Flavor("opensearch", (2, 5)), DISABLED),  # no flat_object before 2.7
    (Flavor("opensearch", (1, 3)), DISABLED),
    (Flavor("elasticsearch", (8, 15)), {"type": "flattened"}),
    (Flavor("elasticsearch", (7, 10, 2)), {"type": "flattened"}),
    (Flavor("elasticsearch", (7, 10, 2), "oss"), DISABLED),  # flattened is X-Pack's: not in OSS builds
    (Flavor("elasticsearch", (7, 2)), DISABLED),
    (Flavor("serverless"), {"type": "flat_object"}),
])
def test_json_field_type_by_engine_and_version(flavor, json_type):
    body = template_body("cwl", flavor, "logship-cwl")
    assert body["template"]["mappings"]["properties"]["json"] == json_type
    assert body["template"]["mappings"]["dynamic"] is False


@pytest.mark.parametrize("flavor", [Flavor("opensearch", (2, 19)), Flavor("elasticsearch", (8, 15)),
                                    Flavor("serverless")])
def test_correlation_is_one_field_wherever_json_is_searchable(flavor):
    mapping = template_body("cwl", flavor)["template"]["mappings"]
    assert mapping["properties"]["correlation"] == mapping["properties"]["json"]
    assert "correlation_ids" not in str(mapping["dynamic_templates"])


def test_on_older_clusters_correlation_keys_are_dynamic_keywords():
    mapping = template_body("cwl", Flavor("opensearch", (2, 5)))["template"]["mappings"]
    assert mapping["properties"]["correlation"] == {"type": "object", "dynamic": True}
    assert {"correlation_ids": {"path_match": "correlation.*", "mapping": {"type": "keyword", "ignore_above": 1024}}} \
        in mapping["dynamic_templates"]


def test_daily_patterns_claim_the_stacks_own_indices_only():
    assert IndexNaming("cwl").patterns == ["cwl-2*", "cwl-failed-*"]
    assert IndexNaming.stream("aws.lambda", "default").patterns == ["logs-aws.lambda-default",
                                                                    "logs-aws.lambda.failed-default"]


PREFIXES = ["cwl", "cwl-prod", "cwl-prod-eu", "cwl-failedx", "cwl-f", "cwl.v2", "logsx", "app_logs", "2024-logs",
            "c", "cw"]
STREAMS = [IndexNaming.stream("aws.lambda", "default"), IndexNaming.stream("aws.lambda", "2024"),
           IndexNaming.stream("failed", "default"), IndexNaming.stream("cwl", "prod")]
DAYS = (946684800000, 1764000000000, 32503679999999)  # the first, a usual and the last usable day
NO_TIME = 0  # the failed index of a batch without a usable time: 1970-01-01


def names(naming: IndexNaming) -> list[str]:
    """Every index a stack writes to: each day's, and the failed ones (with the fallback day too)."""
    return [naming.index(ms) for ms in DAYS] + [naming.failed(ms) for ms in (*DAYS, NO_TIME)]


def matched(index: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(index, pattern) for pattern in patterns)


@pytest.mark.parametrize(("one", "other"), list(itertools.permutations(
    [IndexNaming(prefix) for prefix in PREFIXES] + STREAMS, 2)), ids=str)
def test_no_stacks_patterns_match_another_stacks_indices(one, other):
    assert [index for index in names(other) if matched(index, one.patterns)] == []
    assert all(matched(index, one.patterns) for index in names(one))  # and every index of its own


@pytest.mark.parametrize(("prefix", "problem"), [
    ("cwl-2fa", "every word after a '-' with a letter"), ("cwl--x", "every word after a '-' with a letter"),
    ("cwl-failed", "must not have a word 'failed'"), ("cwl-failed-x", "must not have a word 'failed'"),
    ("logs", "must not start with 'logs-'"), ("logs-app", "must not start with 'logs-'"),
    ("Logs", "must be lowercase"), ("cwl*", "must be lowercase without spaces or any of"),
    ("-cwl", "must start with a letter or digit"),
])
def test_a_prefix_that_would_let_patterns_overlap_is_refused(prefix, problem):
    assert problem in prefix_problem(prefix)


@pytest.mark.parametrize("dataset", ["failed", "aws.lambda.failed"])
def test_a_dataset_naming_another_stacks_failed_stream_is_refused_by_the_settings_and_the_template(dataset):
    import re

    from logship.core.config import ConfigError, ShipperConfig
    from tests.template_stack import TEMPLATE

    with pytest.raises(ConfigError, match=r"must not end in '\.failed'"):
        ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "https://x", "OPENSEARCH_AUTH": "none", "AWS_REGION": "eu-west-1",
                                "INDEX_MODE": "datastream", "DATA_STREAM_DATASET": dataset})
    allowed = re.compile(TEMPLATE["Parameters"]["DataStreamDataset"]["AllowedPattern"])
    assert not allowed.fullmatch(dataset)
    assert allowed.fullmatch("aws.lambda")


def test_the_templates_allowed_pattern_says_what_the_settings_say():
    import re

    from tests.template_stack import TEMPLATE

    allowed = re.compile(TEMPLATE["Parameters"]["IndexPrefix"]["AllowedPattern"])
    for prefix in [*PREFIXES, "cwl-2fa", "cwl--x", "cwl-failed", "failed", "logs", "logs-app", "-cwl", "cwl-"]:
        assert bool(allowed.fullmatch(prefix)) == (prefix_problem(prefix) == ""), prefix


def test_the_template_outranks_elasticsearch_and_fleet_templates():
    body = template_body("cwl", Flavor("elasticsearch", (9, 1)), "logship-cwl")
    # Elastic: built-in templates 100, Fleet's up to 200; custom templates over overlapping patterns above 500
    assert body["priority"] == TEMPLATE_PRIORITY > 500


@pytest.mark.parametrize(("flavor", "mode", "expected"), [
    (Flavor("elasticsearch", (9, 1)), "standard", "standard"),
    (Flavor("elasticsearch", (9, 1)), "logsdb", "logsdb"),
    (Flavor("elasticsearch", (8, 17)), "logsdb", "logsdb"),
    (Flavor("elasticsearch", (8, 15)), "logsdb", None),  # logsdb was a technical preview: not set
    (Flavor("elasticsearch", (7, 17)), "standard", None),  # no index.mode at all: an unknown setting
    (Flavor("opensearch", (2, 19)), "logsdb", None),
])
def test_index_mode_is_set_where_elasticsearch_would_otherwise_choose_it(flavor, mode, expected):
    settings = template_body(IndexNaming.stream("aws.lambda", "default"), flavor, "p", mode)["template"]["settings"]
    assert settings.get("index.mode") == expected


def test_elasticsearch_indices_follow_the_ilm_policy_and_opensearch_uses_ism_templates():
    assert template_body("cwl", Flavor("elasticsearch", (8, 15)), "logship-cwl")["template"]["settings"][
        "index.lifecycle.name"] == "logship-cwl"
    assert "index.lifecycle.name" not in template_body("cwl", Flavor("opensearch", (2, 11)), "logship-cwl")[
        "template"]["settings"]
    assert template_body("cwl", Flavor("serverless"))["template"]["settings"] == {}
    ism = ism_policy(IndexNaming("cwl"), 30)["policy"]
    assert ism["ism_template"] == {"index_patterns": ["cwl-2*", "cwl-failed-*"], "priority": 100}
    assert ism["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "30d"}
    assert ism["states"][1]["actions"] == [{"delete": {}}]
    assert ilm_policy(7)["policy"]["phases"]["delete"] == {"min_age": "7d", "actions": {"delete": {}}}


@pytest.mark.parametrize(("flavor", "lifecycle"), [
    (Flavor("opensearch", (2, 19)), "_plugins/_ism"),
    (Flavor("opensearch", (2, 11), compatibility_mode=True), "_plugins/_ism"),
    (Flavor("elasticsearch", (8, 15)), "_ilm"),
    (Flavor("elasticsearch", (7, 10, 2), "oss"), "_opendistro/_ism"),  # Amazon's Elasticsearch 7 domains
    (Flavor("serverless"), ""),
])
def test_each_engine_has_its_lifecycle_api(flavor, lifecycle):
    assert flavor.lifecycle == lifecycle


def test_every_field_the_parser_writes_is_mapped():
    from logship.ship.documents import DocumentBuilder
    from logship.ship.payload import parse_batch
    from tests.payloads import data_payloads, encode, load

    mapped = template_body("cwl", Flavor("opensearch", (2, 19)))["template"]["mappings"]["properties"]

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


def test_data_streams_are_declared():
    naming = IndexNaming.stream("aws.lambda", "default")
    body = template_body(naming, Flavor("elasticsearch", (8, 15)), naming.name)
    assert body["data_stream"] == {}
    assert body["index_patterns"] == ["logs-aws.lambda-default", "logs-aws.lambda.failed-default"]
    assert body["template"]["settings"]["index.lifecycle.name"] == "logship-logs-aws.lambda-default"
    assert body["template"]["mappings"]["properties"]["@timestamp"] == {"type": "date"}  # the stream's time field
    assert "data_stream" not in template_body("cwl", Flavor("elasticsearch", (8, 15)))


def test_a_streams_retention_rolls_the_write_index_over_daily_then_deletes():
    naming = IndexNaming.stream("checkout", "prod")
    ism = ism_policy(naming, 14)["policy"]
    assert ism["states"][0]["actions"] == [{"rollover": {"min_index_age": "1d", "min_size": "50gb"}}]
    assert ism["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "14d"}
    # ISM matches a backing index (.ds-<stream>-000001) to a template by its data stream's name
    assert ism["ism_template"] == {"index_patterns": ["logs-checkout-prod", "logs-checkout.failed-prod"],
                                   "priority": 100}  # one object: the form every ISM from OpenSearch 1.0 reads
    assert ism_policy(IndexNaming("cwl"), 14)["policy"]["states"][0]["actions"] == []  # daily indices never roll over
    hot = ilm_policy(14, rollover=True, version=(8, 15))["policy"]["phases"]["hot"]["actions"]
    assert hot == {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}
    older = ilm_policy(14, rollover=True, version=(7, 9))["policy"]["phases"]["hot"]["actions"]
    assert older == {"rollover": {"max_age": "1d", "max_size": "50gb"}}  # before 7.13: no primary-shard size
