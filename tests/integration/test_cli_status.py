"""logship status: a deployed stack's groups, queues, alarms and last errors, read as from a laptop."""

from __future__ import annotations

import json
import re
import time

import pytest
from click.testing import CliRunner

from logship_cli.app import main
from tests.integration.deployed import DeployedStack

NOW_MS = int(time.time() * 1000)


def log_line(stack: DeployedStack, group: str, record: dict, ago_ms: int = 60_000) -> None:
    logs = stack.aws("logs")
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    if not streams:
        logs.create_log_stream(logGroupName=group, logStreamName="2025/11/22/[$LATEST]abc")
    logs.put_log_events(logGroupName=group, logStreamName="2025/11/22/[$LATEST]abc",
                        logEvents=[{"timestamp": NOW_MS - ago_ms, "message": json.dumps(record)}])


@pytest.fixture
def deployed(cloud):
    stack = DeployedStack(cloud["moto"], "logship", ExcludeLogGroups="/aws/lambda/legacy-*")
    logs = stack.aws("logs")
    for group in ("/aws/lambda/checkout", "/aws/lambda/orders", "/aws/lambda/legacy-report", "/aws/lambda/busy",
                  "/ecs/web"):
        logs.create_log_group(logGroupName=group)
    logs.put_subscription_filter(logGroupName="/aws/lambda/checkout", filterName="logship-logship",
                                 filterPattern="", destinationArn=stack.shipper_arn)
    role = stack.aws("iam").get_role(RoleName="logship-role")["Role"]["Arn"]
    for other in ("datadog-forwarder", "audit-forwarder"):
        arn = stack.aws("lambda").create_function(
            FunctionName=other, Runtime="python3.13", Role=role, Handler="app.handler",
            Code={"ZipFile": __import__("tests.integration.conftest", fromlist=["x"]).function_zip()})["FunctionArn"]
        logs.put_subscription_filter(logGroupName="/aws/lambda/busy", filterName=other, filterPattern="",
                                     destinationArn=arn)
    # The last sweep found no room on /aws/lambda/busy: its line says so, in reconcile-subscriptions' group.
    log_line(stack, "/aws/lambda/logship-reconcile-subscriptions", {
        "logship": "subscription", "level": "warning", "log_group": "/aws/lambda/busy", "outcome": "limit_blocked",
        "detail": "no room for logship's filter: AWS answered LimitExceededException 4 times"})
    log_line(stack, "/aws/lambda/logship-ship-logs", {
        "logship": "ship-logs", "level": "error", "error": "PayloadError: awslogs.data is not base64"})
    log_line(stack, "/aws/lambda/logship-ship-logs", {"logship": "ship-logs", "level": "info", "indexed": 3})
    return stack


def run(*args: str):
    return CliRunner().invoke(main, ["status", "--stack", "logship", "--region", "eu-west-1", *args])


def test_status_tells_each_group_queue_alarm_and_error(deployed):
    sqs = deployed.aws("sqs")
    sqs.send_message(QueueUrl=deployed.queue_url(), MessageBody="{}")
    deployed.aws("cloudwatch").set_alarm_state(AlarmName="logship-dead-letter-queue-not-empty",
                                               StateValue="ALARM", StateReason="1 message visible")

    result = run()

    assert result.exit_code == 0, result.output
    out = result.output
    assert "log groups: 1 subscribed, 1 missing, 1 limit-blocked, 5 excluded" in out
    assert "/aws/lambda/orders" in out
    assert "no filter of this stack's" in out
    assert "/aws/lambda/busy" in out
    assert "no room for logship's filter" in out
    assert "/aws/lambda/legacy-report" in out
    assert "excluded by ExcludeLogGroups: /aws/lambda/legacy-*" in out
    assert "/aws/lambda/logship-ship-logs" in out
    assert "one of this stack's own log groups" in out
    assert "/ecs/web" not in out  # outside IncludePrefixes: never listed
    assert "dead-letter queue (ship-logs)" in out
    assert "at least" in out
    assert "(sampled; CloudWatch has no figure yet)" in out
    assert "dead-letter-queue-not-empty" in out
    assert "ALARM" in out
    assert "1 message visible" in out
    assert "sweep-unfinished" in out  # every alarm of the stack is listed
    assert "PayloadError: awslogs.data is not base64" in out
    assert "indexed" not in out.split("last errors:")[1]  # info lines are not errors


def test_check_exits_1_and_names_what_needs_a_person(deployed):
    result = run("--no-groups", "--check")

    assert result.exit_code == 0, result.output  # nothing queued, no alarm, groups not checked

    deployed.aws("sqs").send_message(QueueUrl=deployed.queue_url("SubscriptionDeadLetterQueueUrl"), MessageBody="{}")
    result = run("--check")

    assert result.exit_code == 1
    assert "needs a person: 1 group(s) missing; 1 group(s) limit-blocked; subscription dead-letter queue holds 1" \
        in result.output


def test_another_stacks_alarms_are_not_this_ones(deployed, cloud):
    DeployedStack(cloud["moto"], "logship-prod")  # its alarms start "logship-prod-...": "logship-" too

    result = run("--no-groups")

    assert result.exit_code == 0, result.output
    assert result.output.count("dead-letter-queue-aging") == 1
    assert "prod-" not in result.output


def test_a_stack_that_does_not_exist_is_named_with_what_to_do(cloud):
    result = CliRunner().invoke(main, ["status", "--stack", "nope", "--region", "eu-west-1"])

    assert result.exit_code == 1
    assert "stack 'nope' not found in eu-west-1: deploy it (make deploy), or give the right --stack and --region" \
        in result.output
    assert "Traceback" not in result.output


def test_a_stale_pattern_and_a_clashing_filter_are_told_apart(deployed):
    logs = deployed.aws("logs")
    logs.put_subscription_filter(logGroupName="/aws/lambda/orders", filterName="logship-logship",
                                 filterPattern="ERROR", destinationArn=deployed.shipper_arn)
    other = deployed.aws("lambda").get_function(FunctionName="datadog-forwarder")["Configuration"]["FunctionArn"]
    logs.create_log_group(logGroupName="/aws/lambda/shared")
    logs.put_subscription_filter(logGroupName="/aws/lambda/shared", filterName="logship-logship", filterPattern="",
                                 destinationArn=other)

    result = run("--all-groups")

    assert result.exit_code == 0, result.output
    assert "log groups: 1 subscribed, 1 outdated, 0 missing, 1 limit-blocked, 1 clash, 5 excluded" in result.output
    assert "filter logship-logship has pattern 'ERROR', not ''; the next sweep updates it" in result.output
    assert "a filter named 'logship-logship' already sends this group to" in result.output
    assert "/aws/lambda/checkout" in result.output  # --all-groups lists the subscribed ones too


def test_the_oldest_message_age_is_cloudwatchs_when_it_has_one(deployed):
    sqs = deployed.aws("sqs")
    sqs.send_message(QueueUrl=deployed.queue_url(), MessageBody="{}")
    deployed.aws("cloudwatch").put_metric_data(Namespace="AWS/SQS", MetricData=[{
        "MetricName": "ApproximateAgeOfOldestMessage", "Value": 8040.0, "Unit": "Seconds",
        "Dimensions": [{"Name": "QueueName", "Value": "logship-DeadLetterQueue"}]}])

    result = run("--no-groups")

    assert result.exit_code == 0, result.output
    assert "2h 14m (CloudWatch)" in result.output


def test_status_shows_each_group_of_another_class_and_check_does_not_call_for_a_person(cloud):
    stack = DeployedStack(cloud["moto"], "logship")
    logs = stack.aws("logs")
    logs.create_log_group(logGroupName="/aws/lambda/archive", logGroupClass="INFREQUENT_ACCESS")
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    logs.put_subscription_filter(logGroupName="/aws/lambda/orders", filterName="logship-logship", filterPattern="",
                                 destinationArn=stack.shipper_arn)

    result = run("--check")

    assert result.exit_code == 0, result.output
    assert "1 subscribed, 0 missing, 1 log-class" in result.output
    row = next(line for line in result.output.splitlines() if "/aws/lambda/archive" in line)
    assert "log-class" in row
    assert "INFREQUENT_ACCESS" in row
    assert "Standard" in result.output


def test_status_calls_a_filter_that_does_not_read_transformed_events_as_asked_outdated(cloud):
    stack = DeployedStack(cloud["moto"], "logship", ApplyOnTransformedLogs="true")
    logs = stack.aws("logs")
    for group, transformed in (("/aws/lambda/orders", True), ("/aws/lambda/billing", False)):
        logs.create_log_group(logGroupName=group)
        logs.put_subscription_filter(logGroupName=group, filterName="logship-logship", filterPattern="",
                                     destinationArn=stack.shipper_arn, applyOnTransformedLogs=transformed)

    result = run()

    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "/aws/lambda/billing" in line)
    assert "outdated" in row
    assert "1 subscribed, 1 outdated, 0 missing" in result.output


def test_status_tells_a_delivery_group_aws_refused_from_one_the_sweep_has_not_reached(cloud):
    """A Delivery group is asked for a filter (not skipped by class): only the sweep's report says AWS refused."""
    stack = DeployedStack(cloud["moto"], "logship")
    logs = stack.aws("logs")
    for name in ("/aws/lambda/to-s3", "/aws/lambda/to-firehose"):
        logs.create_log_group(logGroupName=name, logGroupClass="DELIVERY")
    log_line(stack, "/aws/lambda/logship-reconcile-subscriptions", {
        "logship": "subscription", "level": "info", "log_group": "/aws/lambda/to-s3", "outcome": "log_class",
        "detail": "log class DELIVERY: CloudWatch Logs refused logship's filter for it (This operation is only "
                  "supported on the Standard log class.)"})

    result = run("--check")

    assert result.exit_code == 1, result.output  # the other one is missing: the next sweep asks for it
    rows = {name: next(line for line in result.output.splitlines() if name in line)
            for name in ("/aws/lambda/to-s3", "/aws/lambda/to-firehose")}
    assert "log-class" in rows["/aws/lambda/to-s3"]
    assert "missing" in rows["/aws/lambda/to-firehose"]
    assert "1 group(s) missing" in result.output
    assert "log-class" not in result.output.split("needs a person")[-1]


def test_status_shows_which_function_logs_where_and_the_groups_not_shipped(cloud):
    stack = DeployedStack(cloud["moto"], "logship")
    logs, lambda_ = stack.aws("logs"), stack.aws("lambda")
    role = stack.aws("iam").get_role(RoleName="logship-role")["Role"]["Arn"]
    zipped = __import__("tests.integration.conftest", fromlist=["x"]).function_zip()
    for function, group in (("orders-api", "/shared/orders"), ("billing-export", "/shared/orders"),
                            ("reports", "/shared/reports"), ("nightly", "/shared/nightly")):
        lambda_.create_function(FunctionName=function, Runtime="python3.13", Role=role, Handler="app.handler",
                                Code={"ZipFile": zipped}, LoggingConfig={"LogFormat": "JSON", "LogGroup": group})
    logs.create_log_group(logGroupName="/shared/orders")
    logs.create_log_group(logGroupName="/shared/reports")  # /shared/nightly: the function never ran
    logs.put_subscription_filter(logGroupName="/shared/orders", filterName="logship-logship", filterPattern="",
                                 destinationArn=stack.shipper_arn)

    result = run("--check")

    assert result.exit_code == 1, result.output
    assert "needs a person: 1 group(s) missing" in result.output
    assert "log groups: 1 subscribed, 1 missing, 4 excluded, 1 not-created" in result.output
    # the stack's own four functions log to its own (excluded) groups
    assert ("functions: 8 log to 7 group(s): 4 to an excluded group, 1 to a missing group, 1 to a not-created "
            "group, 2 to a subscribed group") in result.output
    rows = {cells[0]: cells[1:] for cells in (
        [c.strip() for c in line.split("│")] for line in result.output.splitlines() if line.count("│") == 2)}
    assert rows["reports"] == ["/shared/reports", "missing"]
    assert rows["nightly"] == ["/shared/nightly", "not-created"]
    assert "orders-api" not in rows  # shipped: listed with --all-groups only


def test_status_under_an_account_policy_reports_it_and_its_groups(cloud):
    stack = DeployedStack(cloud["moto"], "logship", SubscriptionMode="account-policy")
    logs = stack.aws("logs")
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    missing = run("--check")
    logs.put_account_policy(policyName="logship-logship", policyType="SUBSCRIPTION_FILTER_POLICY", scope="ALL",
                            policyDocument=json.dumps({"DestinationArn": stack.shipper_arn, "FilterPattern": ""}),
                            selectionCriteria='LogGroupName NOT IN ["/aws/lambda/logship-ship-logs"]')

    result = run("--check", "--all-groups")

    assert missing.exit_code == 1
    assert "account policy logship-logship: does not exist, nothing reaches ship-logs" in missing.output
    assert result.exit_code == 0, result.output
    assert (f"account policy logship-logship: every log group to {stack.shipper_arn} but LogGroupName NOT IN "
            '["/aws/lambda/logship-ship-logs"]') in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("/aws/lambda/orders "))
    assert "subscribed" in row
    assert "by account policy logship-logship" in row
    assert "subscribe-log-group" not in result.output  # no such function in this mode


def test_a_central_stack_lists_each_account_and_region_it_shipped_and_how_far_behind_each_is(
        cloud, osmem_clone, monkeypatch, capsys):
    """ship-logs' own line per payload (or per run of Kinesis records shipped together) names each payload's account
    and region (a member's from its filter's name) and the age of its newest event; status gathers them per source."""
    from tests.conftest import LambdaContext, load_handler, shipper_env
    from tests.payloads import encode, load

    stack = DeployedStack(cloud["moto"], "logship", Role="central", Transport="kinesis", OrganizationId="o-a1b2c3d4e5")
    with monkeypatch.context() as scope:
        for key, value in shipper_env(osmem_clone.url).items():
            scope.setenv(key, value)
        handler = load_handler("ship_logs").handler
        member = load("cwl_python_runtime") | {"owner": "111122223333", "subscriptionFilters": ["logship@us-east-2"]}
        other = load("cwl_custom_group_orders_api") | {"owner": "444455556666",
                                                       "subscriptionFilters": ["logship@ap-south-1"]}
        for payload in (member, member):
            handler(encode(payload), LambdaContext(60_000))
        records = [{"eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
                    "kinesis": {"data": encode(payload)["awslogs"]["data"], "sequenceNumber": str(number),
                                "partitionKey": "k"}}
                   for number, payload in enumerate((load("cwl_node_runtime"), other))]
        handler({"Records": records}, LambdaContext(60_000))  # two records shipped together: one line
    printed = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    for record in (r for r in printed if r.get("logship") == "ship-logs"):
        log_line(stack, "/aws/lambda/logship-ship-logs", record)

    result = run()

    assert result.exit_code == 0, result.output
    rows = {tuple(text.replace("│", " ").split()[:4]) for text in result.output.splitlines() if text[:1].isdigit()}
    events = len(load("cwl_python_runtime")["logEvents"])
    assert ("111122223333", "us-east-2", "2", str(2 * events)) in rows
    assert ("123456789012", "eu-west-1", "1", str(len(load("cwl_node_runtime")["logEvents"]))) in rows
    assert ("444455556666", "ap-south-1", "1", str(len(load("cwl_custom_group_orders_api")["logEvents"]))) in rows
    # the fixtures' events are from 2025-11-22: shipped now, they were days behind
    [member_row] = [text for text in result.output.splitlines() if text.startswith("111122223333")]
    assert re.fullmatch(r"\d+d \d+h", member_row.rsplit("│", 1)[-1].strip())


def test_status_shows_the_last_install_and_check_calls_for_a_person_when_nothing_deletes_old_indices(deployed):
    group = "/aws/lambda/logship-install-index-template"
    log_line(deployed, group, {"logship": "install-index-template", "level": "info", "request_type": "Create",
                               "status": "SUCCESS", "reason": "cluster: OpenSearch 2.19.1; ISM policy logship-cwl "
                               "installed: delete after 30 days"}, ago_ms=86_400_000 * 40)  # older than --since
    log_line(deployed, group, {"logship": "install-index-template", "level": "info", "request_type": "Update",
                               "status": "SUCCESS", "reason": "cluster: OpenSearch 2.19.1; index template logship-cwl; "
                               "retention: this cluster has no lifecycle API (ISM: 400: no handler found ...)"})

    result = run("--no-groups", "--check")

    assert "index template: SUCCESS (Update, " in result.output
    assert "  retention: this cluster has no lifecycle API" in result.output
    assert result.exit_code == 1
    assert "nothing deletes old indices (the cluster has no lifecycle API)" in result.output


def test_a_failed_install_needs_a_person(deployed):
    log_line(deployed, "/aws/lambda/logship-install-index-template", {
        "logship": "install-index-template", "level": "error", "request_type": "Create", "status": "FAILED",
        "reason": "https://search-logs: the cluster refused the ISM policy logship-cwl (400 index_management_exception: "
                  "...)"})

    result = run("--no-groups", "--check")

    assert "index template: FAILED (Create, " in result.output
    assert "the cluster refused the ISM policy logship-cwl" in result.output
    assert result.exit_code == 1
    assert "the last install of the index template failed" in result.output
