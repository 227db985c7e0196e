"""Lambda as it runs in 2026, replayed through the ship-logs handler into osmem-server: Managed Instances (several
requests at once in one stream, the capacity provider's own group), durable executions, and the lines of the
runtime, extensions and loggers the parser had not read (each fixture names its source)."""

from __future__ import annotations

from tests.integration.test_lambda_fields import query, ship_all
from tests.payloads import load


def test_interleaved_requests_of_a_managed_instances_stream_keep_their_own_errors(
        opensearch, osmem_clone, monkeypatch, capsys):
    [summary] = ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_mi_interleaved"])
    assert (summary["indexed"], summary["degraded"], summary["failed"]) == (13, 0, 0)

    a, b = "3f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a41", "3f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a42"
    [hint] = query(opensearch, 'faas.name:orders-mi AND message:"LAMBDA_WARNING"')
    # Request B's uncaught error came between A's hint and A's own error: the hint takes A's, never B's.
    assert (hint["faas"]["execution"], hint["error"]["type"], hint["error"]["message"]) == (a, "KeyError", "'card'")
    [b_error] = query(opensearch, f'faas.execution:"{b}" AND error.type:ValueError AND NOT event.action:*')
    assert b_error["log"]["level"] == "ERROR"
    assert {h["faas"]["execution"] for h in query(opensearch, 'faas.name:orders-mi AND message:"charging order"')} \
        == {a, b}


def test_a_managed_instances_report_has_its_duration_and_invents_no_billing_or_cold_start(
        opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_mi_interleaved"])

    reports = query(opensearch, "faas.name:orders-mi AND event.action:report")
    assert sorted(r["lambda"]["duration_ms"] for r in reports) == [11.204, 12.3, 15.118]
    assert all(set(r["lambda"]) == {"duration_ms"} and "coldstart" not in r["faas"] for r in reports)
    assert sorted((r["event"]["outcome"], r["error"]["type"]) for r in reports if "error" in r) == [
        ("failure", "KeyError"), ("failure", "ValueError")]
    [init] = query(opensearch, "lambda.initialization_type:lambda-managed-instances")
    assert init["faas"]["runtime"]["version"] == "python:3.13.v31"


def test_a_capacity_providers_lines_are_the_capacity_providers_not_a_functions(
        opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_mi_capacity_provider"])

    hits = query(opensearch, "lambda.capacity_provider:batch-fleet")
    assert len(hits) == 2
    assert all("faas" not in h for h in hits)
    [failed] = query(opensearch, "lambda.capacity_provider:batch-fleet AND log.level:WARN")
    assert failed["message"].startswith("Failed to launch c7g.xlarge")
    assert query(opensearch, 'faas.name:"capacity-provider/batch-fleet"') == []


def test_every_line_of_a_durable_execution_is_found_by_its_arn_and_a_retry_by_its_attempt(
        opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_durable_python"])
    arn = load("cwl_durable_python")["logEvents"][2]["message"].split('"executionArn": "')[1].split('"')[0]

    sdk_lines = query(opensearch, f'lambda.durable.execution_arn:"{arn}"')
    assert sorted(h["lambda"]["durable"]["operation_name"] for h in sdk_lines) == ["await-payment", "reserve", "ship"]
    assert len({h["faas"]["execution"] for h in sdk_lines}) == 2  # two invocations of one execution
    [retried] = query(opensearch, "lambda.durable.attempt:>1")
    assert retried["lambda"]["durable"] == {"execution_arn": arn, "operation_id": "3", "operation_name": "ship",
                                            "attempt": 2}
    # A plain print() runs again on the replay: one document per invocation, its words the same.
    assert len(query(opensearch, 'faas.name:order-saga AND message:"saga started for order 7001"')) == 2


def test_lambdas_own_failure_records_carry_their_type_and_request(opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_rt_extension_launch_error", "cwl_rt_invalid_entrypoint",
                                                    "cwl_rt_unknown_application_error"])

    failures = query(opensearch, "event.action:platform_error")
    assert sorted((h["error"]["type"], h["faas"].get("execution", "")) for h in failures) == [
        ("Extension.LaunchError", "a160dc83-9aa0-4d31-93e0-62c4b77c3d79"),
        ("Runtime.InvalidEntrypoint", "55fac1c7-b7a1-4af5-96f4-c3e79d8a2b20"),
        ("Runtime.InvalidEntrypoint", "55fac1c7-b7a1-4af5-96f4-c3e79d8a2b20"),
        ("Runtime.Unknown", ""),
        ("Runtime.Unknown", "7b2c9e41-0d3f-4a6b-8c5e-1f2a3b4c5d6e"),
    ]
    assert all(h["log"]["level"] == "ERROR" and h["event"]["outcome"] == "failure" for h in failures)
    [extension] = query(opensearch, "event.action:extension AND event.outcome:failure")
    assert (extension["faas"]["name"], extension["error"]["type"]) == ("apm-demo", "UnknownError")


def test_extensions_php_and_the_insights_agent_say_their_level_and_writer(
        opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_rt_lambda_insights_agent", "cwl_rt_php_fpm_bref",
                                                    "cwl_rt_parameters_secrets_extension"])

    agent = query(opensearch, "log.logger:cloudwatch_lambda_agent*")
    assert [h["message"] for h in sorted(agent, key=lambda h: h["@timestamp"])][:2] == [
        "Logging initialized.", "Registering the Lambda Insights Extension."]
    [panic] = query(opensearch, "faas.name:insights-demo AND error.type:panic")
    assert panic["error"]["message"].startswith("cannot access native cert store")

    [fatal] = query(opensearch, "faas.name:laravel-web AND log.level:ERROR AND error.type:*")
    assert (fatal["error"]["type"], fatal["error"]["message"]) == (
        "Error", "Call to undefined function hoge() in /var/task/routes/web.php:18")
    assert "#0 {main}" in fatal["error"]["stack_trace"]
    assert len(query(opensearch, "faas.name:laravel-web AND log.level:ERROR")) == 4  # the stack's lines too
    [warning] = query(opensearch, "faas.name:laravel-web AND log.level:WARN")
    assert warning["message"].startswith("Undefined variable $order")
    [worker] = query(opensearch, 'faas.name:laravel-web AND message:"My log"')
    assert worker["message"] == "My log"
    assert query(opensearch, "faas.name:laravel-web AND log.logger:php-fpm AND log.level:INFO")

    [unlevelled] = query(opensearch, 'faas.name:secrets-reader AND message:"is not present"')
    assert unlevelled["log"] == {"logger": "AWS Parameters and Secrets Lambda Extension"}


def test_json_of_elastics_ecs_loggers_bunyan_and_winston_is_read_as_such(
        opensearch, osmem_clone, monkeypatch, capsys):
    ship_all(monkeypatch, capsys, osmem_clone.url, ["cwl_rt_ecs_logging", "cwl_rt_bunyan", "cwl_rt_winston_meta"])

    [java] = query(opensearch, "faas.name:ecs-app AND error.type:java.lang.RuntimeException")
    assert java["log"] == {"level": "ERROR",
                           "logger": "org.apache.catalina.core.ContainerBase.[Tomcat].[localhost].[/].[dispatcherServlet]"}
    assert java["error"]["stack_trace"].splitlines()[1].startswith("\tat co.elastic.logging")
    assert query(opensearch, "faas.name:ecs-app AND log.logger:logger-name AND log.level:DEBUG")
    [winston_ecs] = query(opensearch, "faas.name:ecs-app AND error.message:boom")
    assert winston_ecs["log"]["level"] == "ERROR"
    assert len(query(opensearch, "faas.name:bunyan-app AND log.logger:myapp")) == 2
    [meta] = query(opensearch, "faas.name:orders-express AND error.type:CardDeclinedError")
    assert (meta["message"], meta["error"]["message"]) == ("charge failed", "insufficient funds")
    assert len(query(opensearch, "faas.name:orders-express AND error.type:*")) == 1  # a request's meta is no error
