"""The console form: every parameter in one group with a short label, the most-used first, and the metadata the
Serverless Application Repository requires to publish the stack (AWS SAM developer guide, "AWS SAM template
Metadata section properties": Name, Description and Author required, their lengths and patterns; at most ten
labels, each matching ^[a-zA-Z0-9+\\-_:\\/@]+$)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.template_stack import TEMPLATE

INTERFACE = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]
REPOSITORY = TEMPLATE["Metadata"]["AWS::ServerlessRepo::Application"]


def test_every_parameter_is_in_one_group_with_a_short_label_of_its_own():
    grouped = [name for group in INTERFACE["ParameterGroups"] for name in group["Parameters"]]
    labels = {name: label["default"] for name, label in INTERFACE["ParameterLabels"].items()}
    assert sorted(grouped) == sorted(TEMPLATE["Parameters"])  # each once
    assert set(labels) == set(TEMPLATE["Parameters"])
    assert len(set(labels.values())) == len(labels)
    assert all(0 < len(label) <= 50 for label in labels.values()), [v for v in labels.values() if len(v) > 50]


def test_the_form_opens_with_the_three_answers_a_newcomer_gives():
    first = INTERFACE["ParameterGroups"][0]["Parameters"]
    assert first[:4] == ["OpenSearchEndpoint", "ElasticCloudId", "OpenSearchAuth", "OpenSearchSecretArn"]
    assert INTERFACE["ParameterGroups"][1]["Parameters"] == ["VpcSubnetIds", "VpcSecurityGroupIds"]


def test_the_repository_metadata_is_what_sam_publish_requires():
    assert re.fullmatch(r"[a-zA-Z0-9\-]{1,140}", REPOSITORY["Name"])
    assert 0 < len(REPOSITORY["Description"]) <= 256
    assert re.fullmatch(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?", REPOSITORY["Author"])
    assert len(REPOSITORY["Labels"]) <= 10
    assert all(re.fullmatch(r"[a-zA-Z0-9+\-_:/@]+", label) and len(label) <= 127 for label in REPOSITORY["Labels"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", REPOSITORY["SemanticVersion"])
    assert (Path(__file__).parents[2] / REPOSITORY["ReadmeUrl"]).is_file()  # sam package uploads it
