"""Every Lambda line format becomes the fields the README's field reference promises."""

from __future__ import annotations

import json

import pytest

from logship.ship.lines import LineParser, normalize_level

RID = "3f1c2a9e-6b1d-4f7a-9a7e-2d5b8c1e0f42"
parse = LineParser().parse


def fields_of(line: str) -> dict:
    return parse(line)[1]


@pytest.mark.parametrize(("line", "expected"), [
    ("INIT_START Runtime Version: python:3.13.v21\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:0d3e\n",
     {"event": {"action": "init_start"}, "faas": {"runtime": {"version": "python:3.13.v21"}}}),
    (f"START RequestId: {RID} Version: $LATEST\n",
     {"event": {"action": "start"}, "faas": {"execution": RID, "version": "$LATEST"}}),
    (f"START RequestId: {RID} Version: 12\n", {"event": {"action": "start"}, "faas": {"execution": RID, "version": "12"}}),
    (f"END RequestId: {RID}\n", {"event": {"action": "end"}, "faas": {"execution": RID}}),
    ("EXTENSION\tName: LambdaInsightsExtension\tState: Ready\tEvents: [INVOKE, SHUTDOWN]\n", {"event": {"action": "extension"}}),
    ("TELEMETRY\tName: my-ext\tState: Subscribed\tTypes: [Platform]\n", {"event": {"action": "telemetry"}}),
    (f"2025-11-23T00:00:02.001Z {RID} Task timed out after 3.00 seconds\n\n",
     {"event": {"action": "timeout", "outcome": "failure"}, "log": {"level": "ERROR"}, "faas": {"execution": RID},
      "error": {"type": "Timeout", "message": "Task timed out after 3.00 seconds"}}),
    (f"RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n",
     {"event": {"action": "runtime_exit", "outcome": "failure"}, "log": {"level": "ERROR"}, "faas": {"execution": RID},
      "error": {"type": "Runtime.OutOfMemory", "message": "signal: killed"}}),
    (f"RequestId: {RID} Error: Runtime exited with error: exit status 1\nRuntime.ExitError\n",
     {"event": {"action": "runtime_exit", "outcome": "failure"}, "log": {"level": "ERROR"}, "faas": {"execution": RID},
      "error": {"type": "Runtime.ExitError", "message": "exit status 1", "code": "1"}}),
    ("MONITORING|1763812800|48.5|milliseconds|payment.latency\n",
     {"event": {"action": "metric"},
      "metric": {"name": "payment.latency", "value": 48.5, "unit": "milliseconds", "timestamp_ms": 1763812800000}}),
])
def test_platform_and_metric_lines(line, expected):
    assert fields_of(line) == expected


COLD_REPORT = (f"REPORT RequestId: {RID}\tDuration: 21.84 ms\tBilled Duration: 22 ms\tMemory Size: 256 MB\t"
               "Max Memory Used: 72 MB\tInit Duration: 412.37 ms\t\n"
               "XRAY TraceId: 1-6741a5e0-5f0c2b7d9e1a3c4b5d6e7f80\tSegmentId: 2b3c4d5e6f708192\tSampled: true\t\n")


def test_cold_report_line():
    assert fields_of(COLD_REPORT) == {
        "event": {"action": "report"},
        "faas": {"execution": RID, "coldstart": True},
        "trace": {"id": "1-6741a5e0-5f0c2b7d9e1a3c4b5d6e7f80"},
        "lambda": {"duration_ms": 21.84, "billed_duration_ms": 22, "memory_size_mb": 256, "max_memory_used_mb": 72,
                   "init_duration_ms": 412.37, "memory_used_ratio": 0.2812},
    }


def test_warm_report_with_odd_spacing_is_not_a_cold_start():
    fields = fields_of(f"REPORT RequestId: {RID}\tDuration: 46.84 ms\tBilled Duration: 47 ms \tMemory Size: 192 MB\t"
                       "Max Memory Used: 72 MB\t\n")
    assert fields["faas"]["coldstart"] is False
    assert fields["lambda"]["billed_duration_ms"] == 47
    assert "init_duration_ms" not in fields["lambda"]


@pytest.mark.parametrize(("status", "error_type", "outcome", "expected_type"), [
    ("timeout", None, "failure", "Timeout"),
    ("error", "Runtime.ExitError", "failure", "Runtime.ExitError"),
    ("timeout", "Sandbox.Timedout", "failure", "Sandbox.Timedout"),
])
def test_report_and_platform_report_give_identical_fields(status, error_type, outcome, expected_type):
    text = (f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
            f"Max Memory Used: 91 MB\tInit Duration: 150.5 ms\tStatus: {status}"
            + (f"\tError Type: {error_type}" if error_type else "") + "\n")
    record = {"requestId": RID, "status": status,
              "metrics": {"durationMs": 3000.0, "billedDurationMs": 3000, "memorySizeMB": 128, "maxMemoryUsedMB": 91,
                          "initDurationMs": 150.5}}
    if error_type:
        record["errorType"] = error_type
    json_line = json.dumps({"time": "2025-11-22T11:00:03.000Z", "type": "platform.report", "record": record})

    from_text, from_json = fields_of(text), fields_of(json_line)
    from_json["event"].pop("original")
    assert from_text == from_json
    assert from_text["event"] == {"action": "report", "outcome": outcome}
    assert from_text["error"]["type"] == expected_type
    assert from_text["faas"]["coldstart"] is True


def test_successful_platform_report_without_billed_duration():
    record = {"requestId": RID, "status": "success", "metrics": {"durationMs": 30.5, "memorySizeMB": 512,
                                                                 "maxMemoryUsedMB": 88}}
    fields = fields_of(json.dumps({"time": "t", "type": "platform.report", "record": record}))
    assert fields["event"]["outcome"] == "success"
    assert fields["faas"] == {"execution": RID, "coldstart": False}
    assert fields["lambda"] == {"duration_ms": 30.5, "memory_size_mb": 512, "max_memory_used_mb": 88,
                                "memory_used_ratio": 0.1719}


@pytest.mark.parametrize(("line", "level", "message"), [
    (f"[INFO]\t2025-11-22T10:00:00.151Z\t{RID}\tReceived order 1042\n", "INFO", "Received order 1042"),
    (f"[WARNING]\t2025-11-22T10:00:00.160Z\t{RID}\tInventory low\n", "WARN", "Inventory low"),
    (f"[CRITICAL]\t2025-11-22T10:00:00.160Z\t{RID}\tdisk gone\n", "FATAL", "disk gone"),
    (f"2025-11-22T23:59:59.200Z\t{RID}\tINFO\tcart total computed\n", "INFO", "cart total computed"),
    (f"2025-11-22T23:59:59.200Z\t{RID}\tWARN\tslow downstream\n", "WARN", "slow downstream"),
])
def test_runtime_lines_give_level_request_id_and_text(line, level, message):
    text, fields = parse(line)
    assert text == message
    assert fields["log"]["level"] == level
    assert fields["faas"]["execution"] == RID
    assert fields["event"]["original"] == line.rstrip("\n")


def test_python_traceback_becomes_error_fields():
    line = (f"[ERROR]\t2025-11-22T10:00:00.171Z\t{RID}\tPayment declined\nTraceback (most recent call last):\n"
            '  File "/var/task/app.py", line 42, in handler\n    charge(order)\nPaymentError: card expired\n')
    error = fields_of(line)["error"]
    assert error["type"] == "PaymentError"
    assert error["message"] == "card expired"
    assert error["stack_trace"].startswith("Traceback (most recent call last):")


def test_node_invoke_error_becomes_error_fields():
    line = (f'2025-11-22T23:59:59.900Z\t{RID}\tERROR\tInvoke Error \t{{"errorType":"TypeError","errorMessage":"x is '
            'undefined","stack":["TypeError: x is undefined","    at handler (index.mjs:12:20)"]}\n')
    assert fields_of(line)["error"] == {"type": "TypeError", "message": "x is undefined",
                                        "stack_trace": "TypeError: x is undefined\n    at handler (index.mjs:12:20)"}


@pytest.mark.parametrize(("raw", "level"), [
    ("warning", "WARN"), ("WARN", "WARN"), ("critical", "FATAL"), ("Error", "ERROR"), ("debug", "DEBUG"),
    ("trace", "TRACE"), ("fatal", "FATAL"), (30, "INFO"), (50, "ERROR"), ("verbose", "TRACE"), ("WARN-2", "WARN"), ("ERROR+4", "ERROR"), ("ERROR+x", None), (True, None), (None, None),
])
def test_levels_are_normalised(raw, level):
    assert normalize_level(raw) == level


def test_json_line_promotes_well_known_keys_and_keeps_the_object():
    record = {"level": "ERROR", "location": "app.charge:31", "message": "charge failed", "service": "billing",
              "cold_start": True, "function_request_id": RID, "xray_trace_id": "1-abc-def",
              "exception_name": "ValueError", "exception": "Traceback (most recent call last):\n  ...\nValueError: bad"}
    line = json.dumps(record)
    message, fields = parse(line)
    assert message == "charge failed"
    assert fields["json"] == record
    assert fields["event"]["original"] == line
    assert fields["log"] == {"level": "ERROR"}
    assert fields["faas"] == {"execution": RID, "coldstart": True}
    assert fields["service"] == {"name": "billing"}
    assert fields["trace"] == {"id": "1-abc-def"}
    assert fields["error"]["type"] == "ValueError"
    assert fields["error"]["message"] == "bad"


def test_json_text_after_a_runtime_prefix_is_parsed():
    line = f'[INFO]\t2025-11-22T12:00:00.100Z\t{RID}\t{{"message": "stock reserved", "data": 1}}\n'
    message, fields = parse(line)
    assert message == "stock reserved"
    assert fields["json"] == {"message": "stock reserved", "data": 1}
    assert fields["faas"]["execution"] == RID
    assert fields["log"]["level"] == "INFO"


@pytest.mark.parametrize("line", ["[1, 2, 3]", "42", '"just a string"', "null", "{not json", "[", "{", "", "\n", "🚀"])
def test_json_that_is_not_an_object_stays_plain_text(line):
    message, fields = parse(line)
    assert message == line.rstrip("\n")
    assert "json" not in fields


def test_correlation_ids_from_the_seed_convention_and_configured_keys():
    line = json.dumps({"message": "m", "x-correlation-id": "abc", "x-correlation-user-id": 7,
                       "correlation_id": "c1", "tenant": "t1", "x-correlation-flag": True})
    assert fields_of(line)["correlation"] == {"x-correlation-id": "abc", "x-correlation-user-id": "7",
                                              "correlation_id": "c1"}
    assert LineParser(["tenant"]).parse(line)[1]["correlation"] == {
        "x-correlation-id": "abc", "x-correlation-user-id": "7", "tenant": "t1"}
    escaped = '{"message": "m", "x\\u002dcorrelation\\u002did": "abc"}'  # the key as some encoders write it
    assert fields_of(escaped)["correlation"] == {"x-correlation-id": "abc"}


def test_one_line_adds_at_most_sixteen_correlation_keys_configured_ones_first():
    from logship.ship.lines import MAX_CORRELATION_KEYS

    record = {"message": "m", **{f"x-correlation-k{i}": f"v{i}" for i in range(1900)}, "tenant": "t1"}
    _message, fields = LineParser(["tenant"]).parse(json.dumps(record))

    assert len(fields["correlation"]) == MAX_CORRELATION_KEYS == 16
    assert fields["correlation"]["tenant"] == "t1"  # the configured key, though it comes last in the line
    assert [k for k in fields["correlation"] if k != "tenant"] == [f"x-correlation-k{i}" for i in range(15)]
    assert fields["json"] == record  # every key is still searchable under json


def test_json_message_that_is_not_text_leaves_the_line_as_message():
    line = json.dumps({"level": "info", "message": {"nested": True}})
    assert parse(line)[0] == line


def _sample_lines() -> list[str]:
    from tests.payloads import load, subscription_names
    return [e["message"] for n in subscription_names() for e in load(n)["logEvents"]]


def test_no_line_can_crash_the_parser():
    """Every prefix of every sample line, and odd shapes of the formats, parse without raising."""
    import random

    odd = ['{"type": "platform.report", "record": {"requestId": 1, "status": 5, "metrics": [1]}}',
           '{"type": "platform.report", "record": {"requestId": "r", "status": "error", "errorType": 3}}',
           '{"type": "platform.start", "record": "x"}', "MONITORING|1|1.2.3|count|m", "MONITORING|x|1|count|m",
           "REPORT RequestId:", "START RequestId:", "[ERROR]", "[ERROR]\t\t\t", '{"level": {"a": 1}, "message": 5}',
           '{"errorType": ["a"], "stackTrace": {"a": 1}, "exception": 5}', "\x00\ud800", "RequestId: x Error:",
           '{"message": "cut emoji \\ud83d"}', "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000,
           "MONITORING|" + "9" * 400 + "|1|count|x", "MONITORING|1|1e999|count|x", '{"v": NaN, "w": Infinity}']
    rng = random.Random(3)
    alphabet = "[]{}\t\n :|\"0123456789RequestId:REPORTSTARTMONITORING{}Duration ms"
    garbage = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(60))) for _ in range(2000)]
    for line in [*odd, *garbage, *(s[:i] for s in _sample_lines() for i in range(0, len(s), 3))]:
        message, fields = parse(line)
        assert isinstance(message, str)
        assert isinstance(fields, dict)


# -- shapes documented by the runtimes and libraries (the real lines are in tests/events/cwl_rt_*.json) -----

def test_init_report_text_line_is_an_error_with_a_duration_outcome_and_type():
    # The line issue 10 quotes from a failed Node.js init.
    fields = fields_of("INIT_REPORT Init Duration: 150.79 ms\tPhase: init\tStatus: error\t"
                       "Error Type: Runtime.UserCodeSyntaxError\n")
    assert fields == {"event": {"action": "init_report", "outcome": "failure"}, "log": {"level": "ERROR"},
                      "error": {"type": "Runtime.UserCodeSyntaxError"}, "lambda": {"init_duration_ms": 150.79}}


def test_init_report_text_and_json_give_the_same_action_and_duration():
    text = fields_of("INIT_REPORT Init Duration: 125.33 ms\tPhase: init\tStatus: success\n")
    record = fields_of(json.dumps({"time": "t", "type": "platform.initReport", "record": {
        "initializationType": "on-demand", "phase": "init", "status": "success", "metrics": {"durationMs": 125.33}}}))
    record["event"].pop("original")
    assert text == record == {"event": {"action": "init_report", "outcome": "success"},
                              "lambda": {"init_duration_ms": 125.33}}


def test_json_record_whose_message_is_a_json_object_is_searched_like_that_object():
    # console.log(JSON.stringify({...})) under the JSON log format: Lambda wraps the string.
    inner = {"orderId": 7, "level": "error", "msg": "charge failed"}
    record = {"timestamp": "2025-11-22T10:00:00.000Z", "level": "INFO", "requestId": RID, "message": json.dumps(inner)}
    message, fields = parse(json.dumps(record))
    assert message == "charge failed"
    assert fields["json"] == {"timestamp": "2025-11-22T10:00:00.000Z", "requestId": RID, **inner}
    assert fields["log"] == {"level": "ERROR"}  # the object's own level, as when logged in the text format
    assert fields["faas"] == {"execution": RID}
    text_fields = fields_of(f"2025-11-22T10:00:00.000Z\t{RID}\tINFO\t{json.dumps(inner)}\n")
    assert text_fields["json"]["orderId"] == fields["json"]["orderId"]
    assert text_fields["log"] == fields["log"]


@pytest.mark.parametrize(("level", "expected"), [
    ("Information", "INFO"), ("Warning", "WARN"), ("Error", "ERROR"), ("Critical", "FATAL"), ("Debug", "DEBUG"),
    ("Trace", "TRACE"), ("info", "INFO"), ("fail", "ERROR"), ("crit", "FATAL"), ("dbug", "DEBUG"), ("trce", "TRACE"),
    ("warn", "WARN"),
])
def test_dotnet_levels_text_and_json(level, expected):
    assert normalize_level(level) == expected
    assert fields_of(f"2024-09-05T10:00:00.000Z\t{RID}\t{level}\tmessage\n")["log"] == {"level": expected}
    assert fields_of(json.dumps({"timestamp": "t", "level": level, "requestId": RID, "message": "m"}))["log"] == {
        "level": expected}


def test_java_json_format_request_id():
    fields = fields_of(json.dumps({"timestamp": "2023-11-16T10:00:00Z", "level": "INFO", "message": "hi",
                                   "AWSRequestId": RID}))
    assert fields["faas"] == {"execution": RID}


def test_structlog_json_renderer_event_is_the_message():
    message, fields = parse(json.dumps({"event": "user logged in", "level": "warning", "timestamp": "t"}))
    assert message == "user logged in"
    assert fields["log"] == {"level": "WARN"}


def test_winston_error_with_stack_gives_its_type_and_message():
    fields = fields_of(json.dumps({"level": "error", "message": "Oh no!",
                                   "stack": "TypeError: Oh no!\n    at handler (/var/task/index.js:3:9)"}))
    assert fields["error"]["type"] == "TypeError"
    assert fields["error"]["message"] == "Oh no!"
    assert fields["error"]["stack_trace"].endswith("(/var/task/index.js:3:9)")


def test_node_lines_without_a_level():
    # nodejs8.10 and earlier: "<time>\t<request id>\t<message>".
    message, fields = parse(f"2019-01-01T10:00:00.000Z\t{RID}\tcart total computed\n")
    assert message == "cart total computed"
    assert fields["faas"] == {"execution": RID}
    assert "log" not in fields


def test_python_27_36_stack_trace_lists_become_text():
    fields = fields_of(json.dumps({"errorMessage": "name 'x' is not defined", "errorType": "NameError",
                                   "stackTrace": [["/var/task/lambda_function.py", 4, "lambda_handler", "return x"]]}))
    assert fields["error"]["stack_trace"] == '  File "/var/task/lambda_function.py", line 4, in lambda_handler\n    return x'
