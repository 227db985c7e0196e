"""logship doctor's pure parts: the functions' settings read from parameters as the template sets them, the route a
VPC takes to a range, and the report's lines."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from logship_cli.doctor.report import HERE, Report
from logship_cli.doctor.setup import SETTINGS, settings_of
from logship_cli.init.facts import Network, Route
from tests.template_stack import Stack


@pytest.mark.parametrize("function", ["InstallIndexTemplateFunction", "ShipLogsFunction"])
def test_the_settings_read_from_parameters_are_those_the_template_gives_the_functions(function):
    given = {"OpenSearchEndpoint": "https://search-logs-abc.eu-west-1.es.amazonaws.com", "OpenSearchAuth": "basic",
             "OpenSearchSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:es-AbCdEf",
             "IndexPrefix": "cwl-prod", "IndexRetentionDays": "90", "IngestPipeline": "geo", "DocumentIds": "false"}
    stack = Stack("logship", **given)

    environment = stack.environment(function)
    mine = settings_of(stack.parameters, "eu-west-1")

    assert {k: v for k, v in mine.items() if k in environment} == {
        k: v for k, v in environment.items() if k in SETTINGS.values() and v != ""}


def test_the_route_to_a_range_is_the_most_specific_one_holding_it():
    routes = (Route("rtb-1", "10.1.0.0/16", "local"), Route("rtb-1", "0.0.0.0/0", "nat-1"),
              Route("rtb-1", "10.0.1.0/24", "pcx-1"), Route("rtb-2", "0.0.0.0/0", "igw-1"))
    net = Network("vpc-1", ("subnet-a", "subnet-b"), ("sg-1",), route_tables=("rtb-1", "rtb-2"), routes=routes)

    assert net.routes_to("10.0.1.0/24") == [routes[2], routes[3]]
    assert net.routes_to("10.0.2.0/24") == [routes[1], routes[3]]
    assert net.routes_to("10.1.7.0/24") == [routes[0], routes[3]]
    assert Network("vpc-1", (), (), route_tables=("rtb-3",)).routes_to("10.0.0.0/8") == [None]


def test_each_check_is_a_line_with_its_state_first_and_what_to_do_on_the_next():
    report = Report()
    report.ok("cluster", "domain logs")
    report.fail("security groups", "sg-1 admit no HTTPS from sg-2", "aws ec2 authorize-security-group-ingress ...")
    report.warn("answers", "no answer from here", "run it from inside the VPC", HERE)
    report.skip("subscription filters per log group")
    out = io.StringIO()

    report.show(Console(file=out, width=200, no_color=True))

    assert out.getvalue().splitlines() == [
        "ok    cluster          domain logs",
        "fail  security groups  sg-1 admit no HTTPS from sg-2",
        "                       next: aws ec2 authorize-security-group-ingress ...",
        "warn  answers          no answer from here [from this machine]",
        "                       next: run it from inside the VPC",
        "not checked:",
        "  - subscription filters per log group",
        "1 failed, 1 to look at, 1 ok"]
    assert [check.name for check in report.failed] == ["security groups"]
