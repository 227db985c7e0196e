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
    assert line("bunyan", 0)[1]["log"] == {"level": "INFO", "logger": "myapp"}  # bunyan's "name"
    assert line("bunyan", 1)[1]["log"] == {"level": "WARN", "logger": "myapp"}


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
    assert message.startswith("ENVIRONMENT VARIABLES:\n{")  # what the code logged; the logger apart
    assert fields["log"] == {"level": "INFO", "logger": "Handler"}
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
        assert fields["log"] == {"level": "WARN", "logger": "uk.bot_by.slf4j_demo.BotHandler"}
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


def test_lambda_warning_alone_still_says_an_unhandled_exception_happened():
    assert line("lambda_warning", 0)[1] == {"log": {"level": "ERROR"}}


@pytest.mark.parametrize(("index", "action"), [
    (0, "init_start"), (1, "init_runtime_done"), (2, "init_report"), (3, "start"), (4, "end"), (5, "report"),
    (6, "extension"), (7, "telemetry"), (8, "logs_dropped"),
])
def test_json_platform_records_use_the_text_formats_actions(index, action):
    assert line("json_platform_records", index)[1]["event"]["action"] == action


def test_json_init_report_gives_the_init_duration_and_start_the_trace():
    assert line("json_platform_records", 2)[1]["lambda"] == {"init_duration_ms": 125.33}
    assert line("json_platform_records", 3)[1]["trace"] == {"id": "1-62e900b2-710d76f009d6e7785905449a"}


def test_python_json_format_uncaught_error_record():
    message, fields = line("python_json_uncaught", 2)
    assert message == "KeyError: 'orderId'"  # the record has no message of its own
    assert fields["log"] == {"level": "ERROR"}  # its level key is "log_level"
    assert fields["error"]["type"] == "KeyError"
    assert fields["faas"] == {"execution": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"}
    assert line("python_json_uncaught", 1)[1]["log"] == {"level": "WARN", "logger": "root"}  # the hint, alone


def test_python312_unhandled_error_event_joins_its_lines():
    message, fields = line("python312_unhandled", 2)
    assert message.split("\n")[:2] == ["KeyError: 'orderId'", "Traceback (most recent call last):"]
    assert fields["error"]["stack_trace"].endswith('order = event["orderId"]')
    assert "faas" not in fields  # its prefix has no request id: the hint before it gives it (test_stacks)


@pytest.mark.parametrize(("index", "message", "level"), [
    (1, "charging card", "INFO"), (2, "retrying", "WARN"), (3, "charge failed", "ERROR")])
def test_go_slog_records(index, message, level):
    text, fields = line("go_slog", index)
    assert (text, fields["log"]["level"]) == (message, level)
    assert fields["faas"] == {"execution": "1a2b3c4d-5e6f-4708-9a1b-2c3d4e5f6a7b"}
    assert fields["json"]["msg"] == message  # every attribute stays searchable


def test_go_slog_error_attribute_and_panic_in_msg():
    assert line("go_slog", 3)[1]["error"] == {"message": "card declined: insufficient funds"}
    message, fields = line("go_slog", 4)
    assert fields["log"] == {"level": "ERROR"}  # logged at INFO by slog's default logger: still a failure
    assert fields["error"]["type"] == "runtimeError"
    assert message == "runtimeError: runtime error: invalid memory address or nil pointer dereference"
    assert fields["error"]["stack_trace"].split("\n")[:2] == [
        "lambdaPanicResponse", "\tgithub.com/aws/aws-lambda-go@v1.47.0/lambda/errors.go:39"]
    assert fields["json"]["level"] == "INFO"


@pytest.mark.parametrize(("index", "level", "message"), [
    (1, "INFO", "handling order o-17"),
    (2, "WARN", "lambda_web_adapter: app is not ready after 2000ms"),
    (3, "ERROR", "failed to reserve stock: connection refused"),
])
def test_rust_tracing_span_lines(index, level, message):
    text, fields = line("rust_tracing", index)
    assert text == message
    assert fields["log"] == {"level": level}
    assert fields["faas"] == {"execution": "2b3c4d5e-6f70-4819-a2b3-c4d5e6f7a8b9"}
    assert fields["trace"] == {"id": "1-6751a6e4-0123456789abcdef01234567"}
    assert fields["event"]["original"] == load("cwl_rt_rust_tracing")["logEvents"][index]["message"].rstrip("\n")


def test_rust_panics_new_and_old_formats():
    assert line("rust_tracing", 4)[1] == {"log": {"level": "ERROR"}, "error": {"type": "panic"}}  # message: next line
    fields = line("rust_panic_backtrace", 1)[1]
    assert fields["error"]["message"] == "Could not retrieve next event"
    assert fields["log"] == {"level": "ERROR"}


def test_snapstart_restore_start_gives_the_runtime_version_and_restore_is_a_cold_start():
    assert line("java_snapstart", 0)[1] == {"event": {"action": "restore_start"},
                                            "faas": {"runtime": {"version": "java:21.v38"}}}
    report = line("java_snapstart", 4)[1]
    assert report["faas"]["coldstart"] is True
    assert report["lambda"]["restore_duration_ms"] == 571.67


def test_log4j2_logger_and_line_are_apart_from_the_message():
    message, fields = line("java_log4j2_stack_per_event", 1)
    assert message == "OpenAI call failed"
    assert fields["log"] == {"level": "ERROR", "logger": "ChatGPTLambda", "origin": {"file": {"line": 56}}}


@pytest.mark.parametrize(("fixture", "index", "level", "logger", "message"), [
    ("datadog_extension", 0, "ERROR", "DD_EXTENSION",
     "Failed to send logs to datadog: error sending request for url (https://http-intake.logs.datadoghq.eu/api/v2/logs)"),
    ("datadog_extension", 2, "DEBUG", "DD_EXTENSION", "Starting daemon to receive messages from runtime..."),
    ("datadog_extension", 3, "ERROR", "DD_EXTENSION", "No API key configured, exiting"),
    ("nestjs", 0, "INFO", "NestFactory", "Starting Nest application..."),
    ("nestjs", 2, "ERROR", "ExceptionsHandler", "Cannot read properties of undefined (reading 'id')"),
    ("nestjs", 3, "WARN", "OrdersService", "Order o-17 has no customer"),
    ("nestjs", 4, "ERROR", "PaymentsService", "Card declined for order o-18"),  # in colours
    ("parameters_secrets_extension", 3, "ERROR", "AWS Parameters and Secrets Lambda Extension",
     "Failed to fetch secret prod/db: AccessDeniedException"),
])
def test_extension_and_framework_lines_carry_their_level_and_writer(fixture, index, level, logger, message):
    text, fields = line(fixture, index)
    assert (text, fields["log"]) == (message, {"level": level, "logger": logger})
    assert fields["event"]["original"] == load(f"cwl_rt_{fixture}")["logEvents"][index]["message"].rstrip("\n")


def test_platform_records_say_their_outcome_and_dropped_logs_are_a_warning():
    event = line("json_platform_records", 1)[1]["event"]
    assert (event["action"], event["outcome"]) == ("init_runtime_done", "success")
    assert line("json_platform_records", 4)[1]["event"]["outcome"] == "success"
    assert "log" not in line("json_platform_records", 4)[1]  # a success is no error
    assert line("json_platform_records", 8)[1]["log"] == {"level": "WARN"}


def test_report_lines_copied_with_spaces_give_the_same_fields():
    init = line("report_spaces", 0)[1]
    assert init["lambda"] == {"init_duration_ms": 10004.7}
    assert init["event"] == {"action": "init_report", "outcome": "failure"}
    report = line("report_spaces", 3)[1]
    assert report["faas"] == {"execution": "e3d4c5b6-a798-4b6c-9d8e-7f6a5b4c3d2e", "coldstart": True}
    assert report["lambda"] == {"duration_ms": 912.45, "billed_duration_ms": 913, "memory_size_mb": 1024,
                                "max_memory_used_mb": 181, "init_duration_ms": 1384.56, "memory_used_ratio": 0.1768}
    timeout = line("report_spaces", 4)[1]
    assert timeout["error"] == {"type": "Timeout"}
    assert timeout["faas"]["coldstart"] is False


def test_report_with_an_init_duration_that_is_no_number_is_still_a_cold_start():
    fields = parse("REPORT RequestId: 7e1f Duration: 1.0 ms Billed Duration: 2 ms Memory Size: 128 MB "
                   "Max Memory Used: 20 MB Init Duration: n/a")[1]
    assert fields["faas"]["coldstart"] is True
    assert "init_duration_ms" not in fields["lambda"]


HINT = ("LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in "
        "rare cases, a Lambda runtime update can cause unexpected function behavior.")
TRACEBACK = 'Traceback (most recent call last):\r  File "/var/task/app.py", line 8, in handler\r    order = event["id"]'


def test_unhandled_exception_hint_and_error_in_one_event():
    # Container images deliver the runtime's two writes as one event, "\r"-joined.
    message, fields = parse(f"[WARNING]\t2024-12-05T12:05:00.001Z\tc4b3a291-7d6e\t{HINT}\r[ERROR] KeyError: 'id'\r"
                            f"{TRACEBACK}")
    assert message.startswith("LAMBDA_WARNING: Unhandled exception.")
    assert fields["log"] == {"level": "ERROR"}
    assert fields["faas"] == {"execution": "c4b3a291-7d6e"}
    assert (fields["error"]["type"], fields["error"]["message"]) == ("KeyError", "'id'")
    assert fields["error"]["stack_trace"].endswith('order = event["id"]')


def test_unhandled_exception_hint_with_its_json_error_object():
    fields = parse(f'{HINT}\n{{"errorMessage": "bad id", "errorType": "ValueError", "requestId": "9e8d-7c6b", '
                   '"stackTrace": ["  File \\"/var/task/app.py\\", line 3, in handler\\n"]}')[1]
    assert fields["log"] == {"level": "ERROR"}
    assert fields["error"]["type"] == "ValueError"
    assert fields["faas"] == {"execution": "9e8d-7c6b"}


def test_unhandled_exception_hint_logged_during_init_has_no_request_id():
    fields = parse(f"[WARNING]\t2024-12-05T12:05:00.001Z\t\t{HINT}")[1]
    assert fields["log"] == {"level": "ERROR"}
    assert "faas" not in fields


def test_logger_exception_lines_joined_by_carriage_returns_are_errors_with_their_stack():
    message, fields = parse(f"[ERROR]\t2024-12-05T12:05:00.001Z\tc4b3a291-7d6e\tcould not price order\r{TRACEBACK}\r"
                            "KeyError: 'id'")
    assert message.startswith("could not price order")
    assert fields["error"]["type"] == "KeyError"
    assert fields["error"]["stack_trace"].startswith("Traceback (most recent call last):\n")
