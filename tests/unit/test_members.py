"""A member stack's settings, and the region its deliveries carry to the central shipper in their filter's name."""

from __future__ import annotations

import pytest

from logship.core.config import ConfigError, SubscriberConfig
from logship.ship.payload import parse_batch, read_delivery
from tests.payloads import encode, load

DESTINATION = "arn:aws:logs:us-east-2:123456789012:destination:logship"
MEMBER = {"AWS_REGION": "us-east-2", "CENTRAL_DESTINATION_ARN": DESTINATION, "ACCOUNT_ID": "111122223333",
          "FILTER_NAME": "logship@us-east-2", "CENTRAL_STREAM_ARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
          "CENTRAL_DELIVERY_ROLE_ARN": "arn:aws:iam::123456789012:role/logship-MemberDeliveryRole"}


def test_a_member_sends_to_the_central_destination_without_a_role_and_judges_its_own_accounts_functions():
    config = SubscriberConfig.from_env(MEMBER)

    assert (config.member, config.filter_destination, config.filter_role_arn) == (True, DESTINATION, "")
    assert config.function_arn_prefix == "arn:aws:lambda:us-east-2:111122223333:function:"
    assert config.log_group_arn("/aws/lambda/x") == "arn:aws:logs:us-east-2:111122223333:log-group:/aws/lambda/x"
    assert config.account == "111122223333"
    assert config.own_log_groups == frozenset()  # no shipper here: only the stack's listed groups are its own


@pytest.mark.parametrize(("change", "says"), [
    ({"CENTRAL_DESTINATION_ARN": DESTINATION.replace("us-east-2", "eu-west-1")}, "deploy the central stack in"),
    ({"CENTRAL_DESTINATION_ARN": "arn:aws:kinesis:us-east-2:123456789012:stream/s"}, "DestinationArn output"),
    ({"ACCOUNT_ID": ""}, "12-digit id"),
    ({"FILTER_NAME": "logship"}, "end with @us-east-2"),
    ({"SUBSCRIPTION_MODE": "account-policy", "ACCOUNT_POLICY_NAME": "logship-x"}, "end with @us-east-2"),
    ({"CENTRAL_STREAM_ARN": ""}, "or both empty"),
])
def test_a_member_setting_that_cannot_work_is_refused_saying_what_to_give(change, says):
    with pytest.raises(ConfigError, match=says):
        SubscriberConfig.from_env(MEMBER | change)


@pytest.mark.parametrize("names", [["logship@ap-southeast-2"], ["other", "logship-prod@ap-southeast-2"]])
def test_a_delivery_through_a_member_filter_carries_that_filters_region(names):
    event = encode(load("cwl_python_runtime") | {"subscriptionFilters": names})

    assert parse_batch(event).region == read_delivery(event).region == "ap-southeast-2"


@pytest.mark.parametrize("names", [["logship"], ["logship@not a region"], "logship@eu-west-1", []])
def test_a_delivery_of_this_accounts_own_filters_has_no_region_of_its_own(names):
    event = encode(load("cwl_python_runtime") | {"subscriptionFilters": names})

    assert parse_batch(event).region == read_delivery(event).region == ""
