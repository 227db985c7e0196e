"""Every runtime's real lines (tests/events/cwl_rt_*.json, each naming its source) give level, request id,
error fields and message where the line carries them."""

from __future__ import annotations

import pytest

from logship.ship.lines import LineParser
from tests.payloads import load, subscription_names

parse = LineParser().parse


def line(fixture: str, index: int) -> tuple[str, dict]:
    return parse(load(f"cwl_rt_{fixture}")["logEvents"][index]["message"])


def test_every_runtime_fixture_names_its_source():
    names = [name for name in subscription_names() if name.startswith("cwl_rt_")]
    assert len(names) >= 20
    for name in names:
        assert load(name)["source"].startswith("https://"), name


def test_python_line_logged_at_init_has_no_request_id_and_a_clean_message():
    message, fields = line("python_init_request_id", 0)
    assert message == "Found credentials in environment variables."
    assert fields["log"] == {"level": "INFO"}
    assert "faas" not in fields
    assert line("python_init_request_id", 1)[1]["faas"]["execution"] == "1f852243-2e93-10ae-d40a-d026e6ffdabe"


@pytest.mark.parametrize(("fixture", "index", "error_type", "message"), [
    ("node_uncaught_exception", 0, "Runtime.ImportModuleError",
     "Error: Cannot find module 'aws-sdk'\nRequire stack:\n- /var/task/app.js\n- /var/runtime/index.mjs"),
    ("node12_uncaught_pretty", 0, "Runtime.ImportModuleError", "Error: Cannot find module 'autotag_log'"),
])
def test_node_init_failures_are_errors_a_user_can_find(fixture, index, error_type, message):
    text, fields = line(fixture, index)
    assert text.startswith("Uncaught Exception")
    assert fields["log"] == {"level": "ERROR"}
    assert "faas" not in fields  # "undefined": no request during init
    assert fields["error"]["type"] == error_type
    assert fields["error"]["message"] == message
    assert fields["error"]["stack_trace"].startswith(f"{error_type}: Error: Cannot find module")


def test_node_json_format_record():
    message, fields = line("node_json_format_warning", 0)
    assert message.startswith("AWS Lambda plans to remove support for callback-based function handlers")
    assert fields["log"] == {"level": "WARN"}
    assert fields["json"]["timestamp"] == "2025-08-27T10:25:22.244Z"


def test_pino_lambda_lines_with_and_without_a_request_id():
    message, fields = line("pino_lambda", 0)
    assert (message, fields["log"]["level"]) == ("Simple message", "INFO")
    assert "faas" not in fields
    message, fields = line("pino_lambda", 3)
    assert message == "Message with correlation ids"
    assert fields["log"] == {"level": "ERROR"}
    assert fields["faas"] == {"execution": "98875"}
    assert fields["correlation"]["x-correlation-service"] == "tyue"
    assert fields["json"]["level"] == 50


def test_powertools_typescript_error_object():
    message, fields = line("powertools_typescript_error", 0)
    assert message == "This is the first error"
    assert fields["log"] == {"level": "ERROR"}
    assert fields["error"]["type"] == "Error"
    assert fields["error"]["message"] == "Unexpected error #1"
    assert fields["error"]["stack_trace"].startswith("Error: Unexpected error #1    at lambdaHandler")
    assert fields["service"] == {"name": "serverlessAirline"}


def test_bunyan_numeric_levels():
    assert line("bunyan", 0)[0] == "hi"
    assert line("bunyan", 0)[1]["log"] == {"level": "INFO"}
    assert line("bunyan", 1)[1]["log"] == {"level": "WARN"}


def test_dotnet_text_levels_and_unhandled_exception():
    message, fields = line("dotnet_text", 0)
    assert message == "hello world"
    assert fields["log"] == {"level": "INFO"}
    assert fields["faas"] == {"execution": "8247f3ba-2335-4b12-bf19-e379605ba146"}
    message, fields = line("dotnet_fail", 1)
    assert fields["log"] == {"level": "ERROR"}
    assert fields["faas"] == {"execution": "3e2fbf0c-1482-4d13-93b8-e6f4fc705d3f"}
    assert fields["error"]["type"] == "System.ApplicationException"
    assert fields["error"]["message"] == "You caused a failure"
    assert "---> System.ArgumentException: input" in fields["error"]["stack_trace"]


def test_dotnet_powertools_record_keeps_its_own_level_over_the_runtime_prefix():
    message, fields = line("dotnet_powertools_text", 0)
    assert fields["log"] == {"level": "ERROR"}  # the record says Error; the runtime's prefix says info
    assert fields["json"]["name"] == "AWS.Lambda.Powertools.Logging.Logger"
    assert message == "<snip>"


@pytest.mark.parametrize(("fixture", "error_type", "message", "stack_start"), [
    ("python36_uncaught", "NameError", "name 'testmodule' is not defined", "Traceback (most recent call last):"),
    ("dotnet31_uncaught", "LambdaException", "An exception was thrown when the constructor for type "
     "'Redacted.FunctionHandler' was invoked. Check inner exception for more details.",
     "at System.RuntimeTypeHandle.CreateInstance"),
])
def test_older_runtimes_message_colon_type_uncaught_errors(fixture, error_type, message, stack_start):
    fields = line(fixture, 1 if fixture == "python36_uncaught" else 0)[1]
    assert fields["log"] == {"level": "ERROR"}
    assert (fields["error"]["type"], fields["error"]["message"]) == (error_type, message)
    assert fields["error"]["stack_trace"].startswith(stack_start)


def test_python27_import_error_has_the_type_current_runtimes_give():
    fields = line("python27_import_error", 1)[1]
    assert fields["error"] == {"type": "Runtime.ImportModuleError",
                               "message": "Unable to import module 'lambda_function': No module named shipper"}
    assert fields["log"] == {"level": "ERROR"}


def test_python36_bootstrap_lines():
    message, fields = line("python36_bootstrap", 0)
    assert message == "(/var/runtime/bootstrap.py) main started at epoch 1643187913763"
    assert fields["log"] == {"level": "INFO"}


def test_java_log4j2_pattern():
    message, fields = line("java_log4j2", 1)
    assert message.startswith("Handler - ENVIRONMENT VARIABLES:\n{")
    assert fields["log"] == {"level": "INFO"}
    assert fields["faas"] == {"execution": "6bc28136-xmpl-4365-b021-0ce6b2e64ab0"}


def test_java_exception_with_its_stack_in_one_event():
    fields = line("java_uncaught", 1)[1]
    assert fields["error"]["type"] == "java.lang.ClassNotFoundException"
    assert fields["error"]["message"] == "org.aws.samples.compute.greeting.GreetingHandler"
    assert fields["error"]["stack_trace"].endswith("\tat java.lang.Class.forName(Class.java:348)")
    assert fields["log"] == {"level": "ERROR"}


def test_java_slf4j_text_and_json_outputs_give_the_same_fields():
    text_fields = line("java_slf4j", 0)[1]
    json_fields = line("java_slf4j", 1)[1]
    for fields in (text_fields, json_fields):
        assert fields["log"] == {"level": "WARN"}
        assert fields["error"]["type"] == "java.lang.Throwable"
        assert fields["error"]["message"] == "Printable Stacktrace Demo"
    assert text_fields["faas"] == {"execution": "983f71e5-9091-443b-8c01-6668120c0e5d"}
    assert json_fields["faas"] == {"execution": "7b9af47e-d861-44b4-bde7-fa2e84ffb7cf"}


def test_go_log_package_lines_lose_their_timestamp_prefix():
    message, fields = line("go_log", 1)
    assert message == "AWS_LAMBDA_FUNCTION_NAME=blank-go-function-9DV3XMPL6XBC"
    assert fields["event"]["original"].startswith("2020/03/27 03:40:05 ")
    assert "log" not in fields  # the log package writes no level


def test_go_panics_are_errors():
    assert line("go_panic_per_line", 0)[1]["error"] == {
        "type": "panic", "message": "runtime error: invalid memory address or nil pointer dereference"}
    assert line("go_al2023_panic", 0)[1]["error"]["type"] == "panic"
    assert line("go_al2023_panic", 1)[1]["error"] == {"type": "Runtime.Unknown",
                                                      "message": "Unknown application error occurred"}


def test_ruby_logger_lines_carry_the_request_id():
    message, fields = line("ruby_logger", 0)
    assert message == "## EVENT"
    assert fields["log"] == {"level": "INFO"}
    assert fields["faas"] == {"execution": "6573a3a0-2fb1-4e78-a582-2c769282e0bd"}


def test_ruby_runtime_error_lines():
    assert line("ruby_handler_error", 2)[1]["log"] == {"level": "ERROR"}
    error = line("ruby_handler_error", 3)[1]["error"]
    assert error["type"] == "Function<TypeError>"
    assert error["message"] == "no implicit conversion of String into Integer"
    assert error["stack_trace"] == "/var/task/function.rb:3:in `first'\n/var/task/function.rb:3:in `handler'"


def test_lambda_warning_is_a_warning():
    assert line("lambda_warning", 0)[1] == {"log": {"level": "WARN"}}


@pytest.mark.parametrize(("index", "action"), [
    (0, "init_start"), (1, "init_runtime_done"), (2, "init_report"), (3, "start"), (4, "end"), (5, "report"),
    (6, "extension"), (7, "telemetry"), (8, "logs_dropped"),
])
def test_json_platform_records_use_the_text_formats_actions(index, action):
    assert line("json_platform_records", index)[1]["event"]["action"] == action


def test_json_init_report_gives_the_init_duration_and_start_the_trace():
    assert line("json_platform_records", 2)[1]["lambda"] == {"init_duration_ms": 125.33}
    assert line("json_platform_records", 3)[1]["trace"] == {"id": "1-62e900b2-710d76f009d6e7785905449a"}
