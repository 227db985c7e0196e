"""logship init's pure parts: the choices it makes from given facts, the trail's event selectors, and where the
cluster is."""

from __future__ import annotations

import pytest

from logship.subscribe.account_policy import AccountPolicy
from logship_cli.errors import CliError
from logship_cli.init.facts import Domain, Network, Secret, Stack, Trail, Where, logs_management_writes
from logship_cli.init.plan import Answers, Facts, decide

ARN = "arn:aws:es:eu-west-1:123456789012:domain/logs"


@pytest.mark.parametrize(("selectors", "writes"), [
    ({}, True),  # a trail without selectors of its own: all management events
    ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}, True),
    ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}, True),
    ({"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]}, False),
    ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, False),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}, True),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                     {"Field": "readOnly", "Equals": ["false"]}]}]}, True),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                     {"Field": "readOnly", "Equals": ["true"]}]}]}, False),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                     {"Field": "eventSource", "NotEquals": ["logs.amazonaws.com"]}]}]},
     False),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]}, False),
], ids=["default", "all", "write-only", "read-only", "data-only", "advanced", "advanced-writes", "advanced-reads",
        "advanced-without-logs", "advanced-data"])
def test_which_event_selectors_deliver_createloggroup(selectors, writes):
    assert logs_management_writes(selectors) is writes


@pytest.mark.parametrize(("given", "expected"), [
    ("https://search-logs-abc.eu-west-1.es.amazonaws.com/", Where(url="https://search-logs-abc.eu-west-1.es.amazonaws.com")),
    ("search-logs-abc.eu-west-1.es.amazonaws.com", Where(url="https://search-logs-abc.eu-west-1.es.amazonaws.com")),
    ("logs", Where(domain_name="logs")),
    ("es.internal:9200", Where(url="https://es.internal:9200")),
    ("prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMkZGVm", Where(cloud_id="prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMkZGVm")),
])
def test_where_the_cluster_is(given, expected):
    assert Where.read(given) == expected


def test_a_where_that_is_nothing_known_is_a_usage_error():
    with pytest.raises(CliError, match="neither an https:// endpoint"):
        Where.read("Logs_Cluster")


def domain(**changes: object) -> Domain:
    values = {"name": "logs", "arn": ARN, "region": "eu-west-1", "engine": "OpenSearch", "version": "2.13",
              "endpoint": "https://search-logs-abc.eu-west-1.es.amazonaws.com"} | changes
    return Domain(**values)  # type: ignore[arg-type]


def facts(**changes: object) -> Facts:
    values = {"stack": "logship", "region": "eu-west-1", "domain": domain(), "trails": [], "policies": [],
              "stacks": []} | changes
    return Facts(**values)  # type: ignore[arg-type]


ANSWERS = Answers(endpoint="https://search-logs-abc.eu-west-1.es.amazonaws.com")


def test_a_stacks_own_trail_is_kept_and_anothers_is_used():
    own = Stack("logship", "UPDATE_COMPLETE", outputs={"CloudTrailName": "logship-trail"})
    ours = Trail("logship-trail", "arn:t1", "eu-west-1", True, True)
    theirs = Trail("org", "arn:t2", "us-east-1", True, True)

    assert decide(ANSWERS, facts(stacks=[own], trails=[ours])).parameters["CreateCloudTrail"] == "true"
    assert decide(ANSWERS, facts(trails=[theirs])).parameters["CreateCloudTrail"] == "false"
    unknown = decide(ANSWERS, facts(trails=[Trail("org", "arn:t2", "us-east-1", why="AccessDenied")]))
    assert unknown.parameters["CreateCloudTrail"] == "false"
    assert "its status could not be read" in next(c.why for c in unknown.choices if c.parameter == "CreateCloudTrail")
    unread = decide(ANSWERS, facts(trails="AccessDeniedException: no"))
    assert unread.parameters["CreateCloudTrail"] == "false"


def test_the_stacks_own_account_policy_keeps_its_mode():
    own = AccountPolicy("logship-logship", "arn:aws:lambda:eu-west-1:123456789012:function:logship-ship-logs", "", 0)

    plan = decide(ANSWERS, facts(policies=[own]))

    assert (plan.parameters["SubscriptionMode"], plan.before) == ("account-policy", [])


def test_once_the_stack_exists_its_roles_are_named_and_the_installer_runs():
    stack = Stack("logship", "CREATE_COMPLETE", outputs={
        "ShipLogsRoleArn": "arn:aws:iam::123456789012:role/logship-ShipLogsFunctionRole-1",
        "InstallIndexTemplateRoleArn": "arn:aws:iam::123456789012:role/logship-InstallIndexTemplateFunctionRole-1"})

    first = decide(ANSWERS, facts(domain=domain(fine_grained=True)))
    again = decide(ANSWERS, facts(domain=domain(fine_grained=True), stacks=[stack]))

    assert first.parameters["InstallIndexTemplate"] == "false"
    assert again.parameters["InstallIndexTemplate"] == "true"
    assert "role/logship-ShipLogsFunctionRole-1 and arn:aws:iam::123456789012:role/logship-InstallIndex" in \
        again.after[0]


def test_a_secret_of_another_region_or_an_untold_key_is_said_before_the_deploy():
    secret = Secret("arn:aws:secretsmanager:us-east-1:123456789012:secret:es-AbCdEf", "us-east-1",
                    kms_unknown="its key alias/es (AccessDeniedException: no)")

    plan = decide(Answers(endpoint="https://es.example.com", auth="basic", secret_arn=secret.arn),
                  facts(domain=None, secret=secret))

    assert plan.parameters["OpenSearchSecretArn"] == secret.arn
    assert "OpenSearchSecretKmsKeyArn" not in plan.parameters
    assert any("--secret-kms-key-arn" in item for item in plan.before)
    assert any("replicate it to eu-west-1" in item for item in plan.before)


def test_a_vpc_with_a_nat_gateway_needs_no_endpoint():
    net = Network("vpc-1", ("subnet-a",), ("sg-1",), admitted=True, egress=True, nat=True)
    answers = Answers(endpoint="https://vpc-logs-abc.eu-west-1.es.amazonaws.com", subnets=("subnet-a",),
                      security_groups=("sg-1",), auth="basic", secret_arn="arn:x")

    plan = decide(answers, facts(domain=domain(subnets=("subnet-a",), security_groups=("sg-1",)), network=net))

    assert plan.before == []
    assert plan.parameters["VpcSubnetIds"] == "subnet-a"
